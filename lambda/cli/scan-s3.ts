import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDbDedupeStore } from '../adapters/dynamodb-dedupe-store';
import { dayFolders, logFiles, type Location } from '../adapters/s3-log-listing';
import { S3LogReader } from '../adapters/s3-log-reader';
import { SnsAlertPublisher } from '../adapters/sns-publisher';
import { MAX_LOOKBACK_DAYS, parseWhen, type TimeRange } from '../core/history/range';
import { s3EventFor } from '../core/ingest/s3-event';
import { describeReadFailure, readLogStream } from '../core/pipeline/analyze';
import { processEvent, type ProcessPorts } from '../core/pipeline/process';
import { inflateModeFor } from '../core/scan/decode';
import { plain } from '../core/render/untrusted';
import { createRuleEngine, type RuleEngine } from '../core/rules/evaluate';
import type { Severity } from '../core/types';
import { loadRuleConfigFile, parseFormat, UsageError, withFailOn, type OutputFormat } from './args';
import { alertPrinter, countAlerts, plural, type Output } from './output';

export interface S3ScanOptions {
  /** `s3://BUCKET[/PREFIX]`. */
  readonly source: string;
  readonly since?: string;
  readonly until?: string;
  readonly accounts?: string;
  readonly regions?: string;
  readonly concurrency?: string;
  readonly checkpoint?: string;
  readonly format?: string;
  readonly config?: string;
  readonly publish?: boolean;
  readonly topicArn?: string;
  readonly dedupeTable?: string;
  /** Exit 3 when an alert is at or above this severity. */
  readonly failOn?: Severity;
  /** The clock, for `--since 90d`. @default now */
  readonly now?: Date;
}

/** Reads in flight by default: enough to hide S3's latency, few enough for a laptop's bandwidth. */
export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 64;
/** Without `--since`, a look back covers this many days. */
export const DEFAULT_LOOKBACK = '7d';

/** `s3://bucket`, `s3://bucket/prefix`, `s3://bucket/prefix/AWSLogs/o-…/111122223333/`. */
export function parseS3Uri(uri: string): Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!m) throw new UsageError(`${plain(uri)}: not an S3 location; give s3://BUCKET or s3://BUCKET/PREFIX (the trail's S3 key prefix)`);
  const path = (m[2] ?? '').replace(/^\/+/, '');
  const at = path === 'AWSLogs' || path.startsWith('AWSLogs/') ? 0 : path.includes('/AWSLogs/') || path.endsWith('/AWSLogs') ? path.indexOf('/AWSLogs') + 1 : -1;
  if (at < 0) {
    const prefix = path.replace(/\/+$/, '');
    return { bucket: m[1]!, logs: `${prefix ? `${prefix}/` : ''}AWSLogs/` };
  }
  const logs = `${path.slice(0, at)}AWSLogs/`;
  const [first, second] = path.slice(at + 'AWSLogs'.length).split('/').filter(Boolean);
  const organization = first?.startsWith('o-') ? first : undefined;
  const account = organization ? second : first;
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`${plain(uri)}: after AWSLogs/ come an organization ID (o-…) and an account ID; "${plain(account)}" is neither`);
  return { bucket: m[1]!, logs, ...(organization ? { organization } : {}), ...(account ? { account } : {}) };
}

const list = (text: string | undefined, what: string, pattern: RegExp): string[] | undefined => {
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${what}: give at least one, comma-separated`);
  for (const item of items) if (!pattern.test(item)) throw new UsageError(`--${what}: "${plain(item)}" is not ${what === 'accounts' ? 'an account ID (12 digits)' : 'a Region (e.g. eu-west-1)'}`);
  return items;
};

function rangeOf(options: S3ScanOptions): TimeRange {
  const now = options.now ?? new Date();
  const since = parseWhen(options.since ?? DEFAULT_LOOKBACK, 'since', now);
  if (!since) throw new UsageError(`--since: "${plain(options.since ?? '')}" is not a date or duration; give e.g. 90d, 12h, 2w or 2025-01-31`);
  const until = options.until === undefined ? now : parseWhen(options.until, 'until', now);
  if (!until) throw new UsageError(`--until: "${plain(options.until ?? '')}" is not a date; give e.g. 2025-03-31 or 2025-03-31T12:00Z`);
  if (until < since) throw new UsageError(`--until (${until.toISOString()}) is before --since (${since.toISOString()})`);
  if (until.getTime() - since.getTime() > MAX_LOOKBACK_DAYS * 24 * 3600_000) throw new UsageError(`the range is longer than ${MAX_LOOKBACK_DAYS} days; look back in parts, or at organization scale with acm-sentinel backfill`);
  return { since, until };
}

/** The scan's own progress, written to disk so an interrupted run resumes where it stopped. */
interface Checkpoint {
  version: 1;
  source: string;
  since: string;
  until: string;
  /** Day folders whose every log file was read. */
  donePrefixes: string[];
  /** Log files read in folders not yet done. */
  doneKeys: string[];
}

function loadCheckpoint(file: string, expected: Omit<Checkpoint, 'donePrefixes' | 'doneKeys' | 'version'>): Checkpoint {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, ...expected, donePrefixes: [], doneKeys: [] };
    throw new UsageError(`--checkpoint ${plain(file)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let saved: Checkpoint;
  try {
    saved = JSON.parse(text) as Checkpoint;
  } catch {
    throw new UsageError(`--checkpoint ${plain(file)}: not a checkpoint of acm-sentinel (not JSON); remove it to start over`);
  }
  if (saved.version !== 1 || saved.source !== expected.source || saved.since !== expected.since || saved.until !== expected.until || !Array.isArray(saved.donePrefixes) || !Array.isArray(saved.doneKeys)) {
    throw new UsageError(`--checkpoint ${plain(file)}: written for another scan (${plain(String(saved.source))}, --since ${plain(String(saved.since))} --until ${plain(String(saved.until))}); give the same location and range, or remove the file to start over`);
  }
  return saved;
}

function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  // Written aside and renamed, so an interruption mid-write never leaves half a checkpoint.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(checkpoint)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Runs `work` on every item with at most `limit` in flight, in order of start. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

/** At most `limit` tasks at a time, across every caller. */
function semaphore(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

/** A failed listing, named, with what to check. */
function describeListFailure(where: string, err: unknown): string {
  const error = err as { name?: string; message?: string };
  const access = error?.name === 'AccessDenied' || /access denied/i.test(error?.message ?? '');
  return `${where}: listing failed (${error?.name ?? 'Error'}: ${error?.message ?? String(err)})${access ? '; the credentials need s3:ListBucket on the bucket for this prefix' : ''}; the folder is not marked done, so a resumed run lists it again`;
}

/**
 * `scan s3://BUCKET[/PREFIX]`: a look back over a date range of CloudTrail log files in S3, read
 * where they are with the SDK's standard credentials and endpoints, N at a time, in bounded
 * memory. Prints alerts exactly as `scan` of local files does; with `--publish`, sends them
 * through the deployed alert topic instead, deduplicated against what was already sent.
 */
export async function runS3Scan(options: S3ScanOptions, io: Output): Promise<number> {
  const format: OutputFormat = parseFormat(options.format);
  const location = parseS3Uri(options.source);
  const range = rangeOf(options);
  const accounts = list(options.accounts, 'accounts', /^\d{12}$/);
  const regions = list(options.regions, 'regions', /^[a-z]{2}(-[a-z]+)+-\d$/);
  const concurrency = options.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) throw new UsageError(`--concurrency: give a whole number from 1 to ${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY})`);
  if (options.publish && !options.topicArn) throw new UsageError('--publish needs --topic-arn, the deployed stack\'s output AlertTopicArn');
  if (!options.publish && (options.topicArn || options.dedupeTable)) throw new UsageError('--topic-arn and --dedupe-table only apply with --publish');
  const engine: RuleEngine = createRuleEngine(await loadRuleConfigFile(options.config));

  const s3 = new S3Client({});
  const ports: ProcessPorts | undefined = options.publish
    ? {
        reader: new S3LogReader(s3),
        publisher: new SnsAlertPublisher(new SNSClient({}), options.topicArn!),
        logger: SILENT,
        ...(options.dedupeTable ? { dedupe: new DynamoDbDedupeStore(new DynamoDBClient({}), options.dedupeTable) } : {}),
      }
    : undefined;
  if (options.publish && !options.dedupeTable) io.err('warning: --publish without --dedupe-table: alerts the stack already sent are sent again (give the stack output DedupeTableName)');

  // A checkpoint belongs to the command as typed, so `--since 90d` resumes on a later day too.
  const checkpoint = options.checkpoint
    ? loadCheckpoint(options.checkpoint, { source: `s3://${location.bucket}/${location.logs}${location.organization ? `${location.organization}/` : ''}${location.account ? `${location.account}/` : ''}`, since: options.since ?? DEFAULT_LOOKBACK, until: options.until ?? 'now' })
    : undefined;
  const donePrefixes = new Set(checkpoint?.donePrefixes ?? []);
  const doneKeys = new Set(checkpoint?.doneKeys ?? []);
  let lastSave = 0;
  const save = (force = false) => {
    if (!checkpoint || !options.checkpoint || (!force && Date.now() - lastSave < 2000)) return;
    lastSave = Date.now();
    saveCheckpoint(options.checkpoint, { ...checkpoint, donePrefixes: [...donePrefixes], doneKeys: [...doneKeys] });
  };
  const onSignal = () => {
    save(true);
    io.err(`interrupted${options.checkpoint ? `: progress saved in ${plain(options.checkpoint)}; run the same command to resume` : ''}`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);

  const printer = alertPrinter(format, io);
  const { alerts } = printer;
  const failed: string[] = [];
  const totals = { objects: 0, bytes: 0, records: 0, acmRecords: 0, published: 0, duplicates: 0 };
  const started = Date.now();
  const empty = { count: 0 };
  try {
    let prefixes: string[];
    try {
      prefixes = (await dayFolders(s3, location, range, accounts, regions)).filter((prefix) => !donePrefixes.has(prefix));
    } catch (err) {
      prefixes = [];
      const message = describeListFailure(`s3://${location.bucket}/${location.logs}`, err);
      failed.push(message);
      io.err(`error: ${plain(message)}`);
    }
    const progress = io.progress ? progressLine(io.progress, started) : undefined;
    // The totals for the progress line come from a listing that runs ahead; the reads never wait for it.
    const ahead = progress ? countAhead(s3, location.bucket, prefixes, range, progress.total) : undefined;

    // Reads share one pool of `concurrency` across day folders, so small folders still keep N reads in flight.
    const slots = semaphore(concurrency);
    const inflate = inflateModeFor(availableParallelism());
    const readFile = async ({ key, size }: { key: string; size: number }): Promise<boolean> => {
      const name = `s3://${location.bucket}/${key}`;
      try {
        if (ports) {
          const result = await processEvent(ports, s3EventFor(location.bucket, key, size), { engine, inflate });
          const object = result.objects[0];
          totals.records += object?.records ?? 0;
          totals.acmRecords += object?.acmRecords ?? 0;
          totals.published += result.published.length;
          totals.duplicates += object?.duplicates ?? 0;
          result.published.forEach(printer.print);
          if (object?.error) throw new Error(object.error);
        } else {
          const body = await new S3LogReader(s3).open({ bucket: location.bucket, key });
          const result = await readLogStream(body, { engine, name, inflate });
          totals.records += result.stats.records;
          totals.acmRecords += result.stats.acmRecords;
          result.alerts.forEach(printer.print);
          if (result.error) throw result.error;
        }
        totals.objects += 1;
        totals.bytes += size;
        doneKeys.add(key);
        save();
        return true;
      } catch (err) {
        const message = (err as Error).message?.startsWith(name) ? (err as Error).message : describeReadFailure(name, err).message;
        failed.push(message);
        io.err(`error: ${plain(message)}`);
        return false;
      } finally {
        progress?.update({ ...totals, alerts: alerts.length, failed: failed.length });
      }
    };
    await eachLimited(prefixes, concurrency, async (prefix) => {
      let files: Array<{ key: string; size: number }>;
      try {
        files = (await logFiles(s3, location.bucket, prefix, range, empty)).filter((file) => !doneKeys.has(file.key));
      } catch (err) {
        const message = describeListFailure(`s3://${location.bucket}/${prefix}`, err);
        failed.push(message);
        io.err(`error: ${plain(message)}`);
        return;
      }
      const results = await Promise.all(files.map((file) => slots(() => readFile(file))));
      if (results.every(Boolean)) {
        donePrefixes.add(prefix);
        for (const { key } of files) doneKeys.delete(key);
        save(true);
      }
    });
    await ahead;
    progress?.end();
  } finally {
    process.removeListener('SIGINT', onSignal);
    save(true);
  }

  const seconds = Math.max((Date.now() - started) / 1000, 0.001);
  io.err(
    `scanned ${plural(totals.objects, 'log file')} (${(totals.bytes / 1e6).toFixed(1)} MB) from s3://${plain(location.bucket)}/${plain(location.logs)}, ` +
      `${range.since.toISOString()} to ${range.until.toISOString()}: ${plural(totals.records, 'record')}, ${plural(totals.acmRecords, 'ACM record')}, ` +
      `${options.publish ? `${plural(totals.published, 'alert')} published, ${totals.duplicates} already sent` : countAlerts(alerts)}` +
      `${empty.count ? `; ${empty.count} empty skipped` : ''}${failed.length ? `; ${failed.length} unreadable` : ''} in ${seconds.toFixed(1)} s`,
  );
  return withFailOn(failed.length ? 1 : 0, alerts, options.failOn);
}

/** Lists every day folder ahead of the reads, only to count what is left for the progress line. */
async function countAhead(s3: S3Client, bucket: string, prefixes: readonly string[], range: TimeRange, total: (objects: number, bytes: number, complete: boolean) => void): Promise<void> {
  let objects = 0;
  let bytes = 0;
  try {
    for (const prefix of prefixes) {
      for (const file of await logFiles(s3, bucket, prefix, range)) {
        objects += 1;
        bytes += file.size;
      }
      total(objects, bytes, false);
    }
    total(objects, bytes, true);
  } catch {
    // A progress line without totals is still a progress line.
  }
}

/** One line on a terminal: objects and bytes done and left, alerts, rate, time left. */
function progressLine(write: (line: string) => void, started: number) {
  let known = { objects: 0, bytes: 0, complete: false };
  let lastWrite = 0;
  let latest = { objects: 0, bytes: 0, alerts: 0, failed: 0 };
  const render = () => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = latest.objects / seconds;
    const leftObjects = Math.max(known.objects - latest.objects - latest.failed, 0);
    const leftBytes = Math.max(known.bytes - latest.bytes, 0);
    const eta = known.complete && rate > 0 ? ` · ~${formatDuration(leftObjects / rate)} left` : '';
    write(
      `${latest.objects} files (${(latest.bytes / 1e6).toFixed(1)} MB) done, ${known.complete ? '' : '≥'}${leftObjects} (${(leftBytes / 1e6).toFixed(1)} MB) left · ` +
        `${plural(latest.alerts, 'alert')}${latest.failed ? ` · ${latest.failed} unreadable` : ''} · ${rate.toFixed(1)} files/s${eta}`,
    );
  };
  return {
    total(objects: number, bytes: number, complete: boolean) {
      known = { objects, bytes, complete };
    },
    update(now: { objects: number; bytes: number; alerts: number; failed: number }) {
      latest = now;
      if (Date.now() - lastWrite > 200) {
        lastWrite = Date.now();
        render();
      }
    },
    end() {
      render();
      write('');
    },
  };
}

const formatDuration = (seconds: number): string => {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
};
