/**
 * One function instance in its own process, for the concurrency tests: loads the real handler
 * (configured by the environment the parent passes, as Lambda configures it), prints `ready`,
 * waits for a line on stdin so several instances can start together, runs the handler on the
 * event in argv[2] and prints one JSON line: the summary, or the error message and summary.
 */
import { readFileSync } from 'node:fs';

const event = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as unknown;
const { handler } = require('../lambda/handler') as typeof import('../lambda/handler');
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  handler(event).then(
    (summary: unknown) => process.stdout.write(`${JSON.stringify({ ok: true, summary })}\n`),
    (err: Error & { summary?: unknown }) => process.stdout.write(`${JSON.stringify({ ok: false, error: err.message, summary: err.summary })}\n`),
  ).finally(() => process.exit(0));
});
