import { parseArgs } from 'node:util';
import { ConfigError } from '../errors';
import { UsageError } from './args';
import { processOutput, type Output } from './output';
import { runScan } from './scan';

const USAGE = `acm-sentinel: alerts on sensitive AWS Certificate Manager activity in CloudTrail logs

Usage:
  acm-sentinel scan PATH... [--format text|json] [--config FILE]
      Scan CloudTrail log files (.json.gz or .json) or folders of them, offline.
  acm-sentinel scan s3://BUCKET[/PREFIX] [--since 90d|DATE] [--until DATE] [--accounts A,B] [--regions R,S]
                    [--concurrency 8] [--checkpoint FILE] [--publish --topic-arn ARN [--dedupe-table NAME]]
      Look back over a date range of log files where they are in S3 (both ends included; default the last 7 days).
  acm-sentinel invoke EVENT.json... [--objects DIR] [--format text|json] [--config FILE]
      Run the real Lambda handler on each event, in order (S3, EventBridge, SNS, SQS; samples in events/), against
      one local emulator and one dedupe store, and print what SNS delivered.
  acm-sentinel backfill --since 90d|DATE [--until DATE] [--publish] [--stack AcmSentinel] [--max-concurrency 100]
                       [--tolerated-failure-percentage 0]
      Look back at organization scale on the deployed Step Functions backfill (-c backfill=true); follows it to the end.
  acm-sentinel demo
      Run invoke on the bundled sample events.
  acm-sentinel redrive --queue-url URL [--function NAME] [--dry-run] [--max N] [--wait-seconds 0-20]
      Re-invoke each event in the failure queue asynchronously; delete its message once Lambda accepted it.
      --dry-run only lists them, and the listed messages then stay invisible in the queue for 30 s.

Exit codes: 0 every input read, 1 some input unreadable, the handler failed or redrive left a message, 2 usage error.`;

/** Runs the CLI and returns its exit code; never calls process.exit, so tests can drive it. */
export async function main(argv: readonly string[], io: Output = processOutput): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        config: { type: 'string' },
        objects: { type: 'string' },
        'queue-url': { type: 'string' },
        function: { type: 'string' },
        'dry-run': { type: 'boolean' },
        max: { type: 'string' },
        'wait-seconds': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        accounts: { type: 'string' },
        regions: { type: 'string' },
        concurrency: { type: 'string' },
        checkpoint: { type: 'string' },
        publish: { type: 'boolean' },
        'topic-arn': { type: 'string' },
        'dedupe-table': { type: 'string' },
        stack: { type: 'string' },
        'max-concurrency': { type: 'string' },
        'tolerated-failure-percentage': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || command === 'help' || command === '--help' || command === '-h') {
      io.out(USAGE);
      return 0;
    }
    switch (command) {
      case 'scan':
        if (values.objects !== undefined) throw new UsageError('--objects belongs to invoke, not scan');
        if (positionals.some((target) => target.startsWith('s3://'))) {
          if (positionals.length !== 1) throw new UsageError('scan takes one s3:// location at a time, without local paths beside it');
          // Loaded on demand: scanning local files does not pay for the S3, SNS and DynamoDB clients.
          const { runS3Scan } = require('./scan-s3') as typeof import('./scan-s3');
          return await runS3Scan(
            {
              source: positionals[0]!, since: values.since, until: values.until, accounts: values.accounts, regions: values.regions, concurrency: values.concurrency,
              checkpoint: values.checkpoint, format: values.format, config: values.config, publish: values.publish, topicArn: values['topic-arn'], dedupeTable: values['dedupe-table'],
            },
            io,
          );
        }
        const s3Only = (['since', 'until', 'accounts', 'regions', 'concurrency', 'checkpoint', 'publish', 'topic-arn', 'dedupe-table'] as const).find((flag) => values[flag] !== undefined);
        if (s3Only) throw new UsageError(`--${s3Only} applies to scan s3://…, not to local files`);
        return await runScan({ paths: positionals, format: values.format, config: values.config }, io);
      case 'backfill': {
        if (positionals.length) throw new UsageError(`backfill takes no arguments, only flags (got "${positionals[0]}")`);
        const { runBackfill } = require('./backfill') as typeof import('./backfill');
        return await runBackfill(
          { since: values.since, until: values.until, publish: values.publish, stack: values.stack, maxConcurrency: values['max-concurrency'], toleratedFailurePercentage: values['tolerated-failure-percentage'] },
          io,
        );
      }
      case 'invoke':
      case 'demo': {
        // Loaded on demand: the emulator and SDK clients are not needed to scan files.
        const { runInvoke, runDemo } = require('./invoke') as typeof import('./invoke');
        if (command === 'demo') return await runDemo({ format: values.format, config: values.config }, io);
        if (positionals.length === 0) throw new UsageError('invoke needs at least one event file, e.g. events/s3-put.json');
        return await runInvoke({ events: positionals, objects: values.objects, format: values.format, config: values.config }, io);
      }
      case 'redrive': {
        if (positionals.length) throw new UsageError(`redrive takes no arguments, only flags (got "${positionals[0]}")`);
        if (values.format !== undefined || values.config !== undefined || values.objects !== undefined) {
          throw new UsageError('--format, --config and --objects belong to scan and invoke, not redrive');
        }
        // Loaded on demand, like invoke: scan does not pay for the SQS and Lambda clients.
        const { runRedrive } = require('./redrive') as typeof import('./redrive');
        return await runRedrive(
          { queueUrl: values['queue-url'], function: values.function, dryRun: values['dry-run'], max: values.max, waitSeconds: values['wait-seconds'] },
          io,
        );
      }
      case undefined:
        throw new UsageError('no command given');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
