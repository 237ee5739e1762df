import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { ENV } from '../config';
import { JsonTextError, parseJsonText } from '../core/json-text';
import { UnsupportedEventError } from '../errors';
import { deliveriesOf, type Delivery } from '../core/ingest/deliveries';
import { inertJson, plain } from '../core/render/untrusted';
import type { ObjectRef } from '../core/types';
import type { HandlerSummary } from '../handler';
import { putObject, receiveDelivered, startSandbox, type DeliveredAlert, type LocalSandbox } from '../local/sandbox';
import { loadRuleConfigFile, parseFormat, UsageError, type OutputFormat } from './args';
import { countAlerts, plural, type Output } from './output';

export interface InvokeOptions {
  /** Event files, invoked one after another against one emulator and one dedupe store. */
  readonly events: readonly string[];
  readonly objects?: string;
  readonly format?: string;
  readonly config?: string;
}

const EVENTS_DIR = path.join(__dirname, '..', '..', 'events');
const DEFAULT_OBJECTS_DIR = path.join(EVENTS_DIR, 'objects');
const DEMO_EVENT = path.join(EVENTS_DIR, 's3-put.json');

/** The most an event may take: Lambda's largest payload, 6 MB. */
const MAX_EVENT_BYTES = 6 * 1024 * 1024;

async function readEvent(file: string): Promise<unknown> {
  let text: string;
  try {
    if (file !== '-' && (await stat(file)).size > MAX_EVENT_BYTES) throw new UsageError(`${file}: larger than any event Lambda delivers (6 MB); a CloudTrail log goes to scan`);
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${file}: cannot read the event (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  text = text.replace(/^\ufeff/, '');
  if (text.trim() === '') throw new UsageError(`${file}: empty; an S3 event notification looks like events/s3-put.json, and events/ holds a sample of every other shape`);
  try {
    // Pasted events get the same repair and the same line-and-column errors as scan's inputs.
    return parseJsonText(text).value;
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new UsageError(
      `${file}: ${err.message} invoke takes one event per file (CloudTrail records and JSON Lines go to scan); an S3 event notification looks like events/s3-put.json`,
    );
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_EVENT_BYTES) throw new UsageError('-: larger than any event Lambda delivers (6 MB); a CloudTrail log goes to scan');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The objects the event names, with the local file each is loaded from: `DIR/<bucket>/<decoded key>`. */
function localObjects(file: string, event: unknown, objectsDir: string): Array<{ ref: ObjectRef; file: string; required: boolean }> {
  let deliveries: Delivery[];
  try {
    deliveries = deliveriesOf(event);
  } catch (err) {
    if (err instanceof UnsupportedEventError) throw new UsageError(`${file}: ${err.message} Samples of each are in events/ (README "Local testing").`);
    throw err;
  }
  const refs = deliveries.flatMap((delivery) => delivery.refs);
  const skipped = deliveries.flatMap((delivery) => delivery.skipped);
  // Objects the handler skips without reading (digest files, say) are uploaded when present, never required.
  return [
    ...refs.map((ref) => ({ ref, required: true })),
    ...skipped.filter((skip) => skip.reason !== 'malformed-record').map((skip) => ({ ref: { bucket: skip.bucket, key: skip.key }, required: false })),
  ].map(({ ref, required }) => ({ ref, required, file: path.join(objectsDir, ref.bucket, ...ref.key.split('/')) }));
}

async function upload(sandbox: LocalSandbox, objects: ReturnType<typeof localObjects>): Promise<string[]> {
  const missing: string[] = [];
  for (const { ref, file, required } of objects) {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      if (required) missing.push(plain(`s3://${ref.bucket}/${ref.key}: expected the file ${file}`));
      continue;
    }
    await putObject(sandbox, ref.bucket, ref.key, body);
  }
  return missing;
}

function renderChatCard(chat: unknown): string[] {
  const card = chat as { content?: { title?: string; description?: string; nextSteps?: string[] } };
  return [
    `  ${card.content?.title ?? ''}`,
    ...(card.content?.description ?? '').split('\n').map((line) => `  ${line}`),
    ...(card.content?.nextSteps?.length ? ['  Next steps:', ...card.content.nextSteps.map((step) => `    • ${step}`)] : []),
  ];
}

function printDelivered(delivered: readonly DeliveredAlert[], format: OutputFormat, io: Output): void {
  delivered.forEach((delivery, i) => {
    if (format === 'json') {
      io.out(inertJson({ ...delivery.alert, subject: delivery.subject, messageAttributes: delivery.messageAttributes }));
      return;
    }
    const rule = '='.repeat(78);
    io.out(`${rule}\nAlert ${i + 1} of ${delivered.length}: ${delivery.subject ?? delivery.alert.title}\n${rule}`);
    io.out(`--- email ---\n${(delivery.email ?? '').trimEnd()}\n`);
    if (delivery.chat) io.out(`--- chat (Amazon Q Developer / Slack) ---\n${renderChatCard(delivery.chat).join('\n')}\n`);
  });
}

function describeSummary(summary: HandlerSummary | undefined, delivered: readonly DeliveredAlert[]): string[] {
  const lines: string[] = [];
  for (const object of summary?.objects ?? []) {
    // Keys come from the event and errors name them: each stays one inert line.
    if (object.error) lines.push(`  FAILED   ${plain(object.error)}`);
    else lines.push(`  scanned  ${plain(`s3://${object.bucket}/${object.key}`)}: ${object.records} records, ${object.acmRecords} ACM, ${plural(object.alerts, 'alert')}`);
  }
  for (const skip of summary?.skipped ?? []) lines.push(`  skipped  ${plain(`s3://${skip.bucket}/${skip.key}`)} (${skip.reason})`);
  for (const entry of summary?.realtime ?? []) {
    if (entry.error) lines.push(`  FAILED   ${plain(entry.error)}`);
    else lines.push(`  real-time event: ${plural(entry.alerts, 'alert')}${entry.duplicates ? `, ${entry.duplicates} already sent` : ''}${entry.deferred ? `, ${entry.deferred} left to the log file (burst)` : ''}`);
  }
  for (const object of summary?.objects ?? []) if (object.duplicates) lines.push(`  ${plural(object.duplicates, 'alert')} of ${plain(`s3://${object.bucket}/${object.key}`)} already sent, not sent again`);
  lines.push(`delivered through SNS: ${countAlerts(delivered.map((d) => d.alert))}`);
  return lines;
}

/**
 * `invoke EVENT.json`: runs the real Lambda handler, configured through the same environment
 * variables as in AWS, against the local emulator, then prints what SNS actually delivered to a
 * subscribed queue. Returns 1 when the handler failed (after printing what was delivered and why).
 */
export async function runInvoke(options: InvokeOptions, io: Output): Promise<number> {
  const format = parseFormat(options.format);
  const rules = await loadRuleConfigFile(options.config);
  const events: Array<{ file: string; event: unknown }> = [];
  for (const file of options.events) events.push({ file, event: await readEvent(file) });
  const objects = events.flatMap(({ file, event }) => localObjects(file, event, options.objects ?? DEFAULT_OBJECTS_DIR));

  // The dedupe store is on, as in the deployed stack, so events that carry the same CloudTrail
  // event (a real-time event and its log file) deliver one alert.
  const sandbox = await startSandbox({ dedupe: true });
  const onSignal = () => {
    void sandbox.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const missing = await upload(sandbox, objects);
    if (missing.length) {
      io.err(`error: the event names objects that are not in ${options.objects ?? DEFAULT_OBJECTS_DIR}:\n  ${[...new Set(missing)].join('\n  ')}`);
      io.err('Put each object at <objects dir>/<bucket>/<key>, or point --objects at the folder that holds them.');
      return 1;
    }
    Object.assign(process.env, sandbox.handlerEnv, { [ENV.ruleConfig]: JSON.stringify(rules) });
    // The handler's own log lines and metrics would mix with the alerts on stdout; opt back in with these variables.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    // Required only now, so its module-scope SDK clients see the emulator's endpoints.
    const { handleEvent } = require('../handler') as typeof import('../handler');

    const delivered: DeliveredAlert[] = [];
    const lines: string[] = [];
    const failures: string[] = [];
    for (const { file, event } of events) {
      let summary: HandlerSummary | undefined;
      // The handler's own log lines (POWERTOOLS_LOG_LEVEL=INFO) go to stderr, so stdout keeps only what SNS delivered.
      const restoreStdout = stdoutToStderr();
      try {
        const result = await handleEvent(event);
        summary = result.summary;
        const retried = result.batchResponse?.batchItemFailures.length ?? 0;
        if (retried) failures.push(`${plain(file)}: ${plural(retried, 'SQS message')} would be retried: ${plain(failureReasons(summary).join(' | '))}`);
      } catch (err) {
        summary = (err as { summary?: HandlerSummary }).summary;
        failures.push(`${plain(file)}: the handler failed: ${plain((err as Error).message)}`);
      } finally {
        restoreStdout();
      }
      const now = await receiveDelivered(sandbox);
      delivered.push(...now);
      if (events.length > 1) lines.push(`${plain(file)}:`);
      lines.push(...describeSummary(summary, now));
    }
    printDelivered(delivered, format, io);
    if (events.length > 1) lines.push(`in all: ${countAlerts(delivered.map((d) => d.alert))} delivered`);
    io.err(lines.join('\n'));
    if (failures.length) {
      io.err(failures.map((failure) => `error: ${failure}`).join('\n'));
      return 1;
    }
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await sandbox.stop();
  }
}

/** Sends whatever is written to stdout to stderr until the returned function is called. */
function stdoutToStderr(): () => void {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}

const failureReasons = (summary: HandlerSummary): string[] => [
  ...summary.unreadable,
  ...[...summary.objects, ...summary.realtime].flatMap((entry) => (entry.error ? [entry.error] : [])),
];

/** `demo`: invoke on the bundled sample event and objects. */
export async function runDemo(options: Pick<InvokeOptions, 'format' | 'config'>, io: Output): Promise<number> {
  io.err(`acm-sentinel demo: the real handler on ${path.relative(process.cwd(), DEMO_EVENT) || DEMO_EVENT}, against a local S3/SNS/SQS emulator\n`);
  return runInvoke({ ...options, events: [DEMO_EVENT], objects: DEFAULT_OBJECTS_DIR }, io);
}
