import { LogObjectReadError } from '../../errors';
import { buildAlert } from '../alerts/alert';
import type { RuleEngine } from '../rules/evaluate';
import { decodeLogBytes, DEFAULT_MAX_DECOMPRESSED_BYTES, type DecodeProgress, type InflateMode } from '../scan/decode';
import { scanWatchedRecords, SplitterArea } from '../scan/record-scanner';
import { LogFormatError } from '../scan/records';
import type { Alert, ScanStats } from '../types';

/**
 * Most alerts one log file may raise, by count and by size (their JSON text). Each alert is held
 * until the file is read (storm control folds them then), so this bounds memory: 20,000 ordinary
 * alerts take about 25 MB; forged ones with every field at its budget stop at 64 MB of text. A
 * real CloudTrail file of five minutes holds a few thousand ACM calls at most, even throttled ones.
 */
export const MAX_ALERTS_PER_OBJECT = 20_000;
export const MAX_ALERT_BYTES_PER_OBJECT = 64 * 1024 * 1024;

/** A log file raised more alerts than the limits above allow: it fails there, before the rest is read. */
export class TooManyAlertsError extends Error {
  constructor(readonly limit: string) {
    super(`more than ${limit} in one log file; a CloudTrail file of five minutes holds far fewer: check what wrote it to the bucket`);
    this.name = 'TooManyAlertsError';
  }
}

/** A failure of the caller's onAlert, carried out of the read untouched. */
class ConsumerError extends Error {
  constructor(readonly failure: unknown) {
    super('onAlert failed');
  }
}

export interface AnalyzeOptions {
  readonly engine: RuleEngine;
  /** Names the log file in alerts (`logFile`) and errors: `s3://bucket/key` or a local path. */
  readonly name: string;
  readonly maxDecompressedBytes?: number;
  /** @default MAX_ALERTS_PER_OBJECT */
  readonly maxAlerts?: number;
  /** @default MAX_ALERT_BYTES_PER_OBJECT */
  readonly maxAlertBytes?: number;
  /** Documents people handle by hand: see ScanOptions.lenient. @default false */
  readonly lenient?: boolean;
  /** Where gzip is inflated (see InflateMode): the main thread for a process with one CPU or less. @default 'stream' */
  readonly inflate?: InflateMode;
  /**
   * Takes each alert as it is built, instead of the result holding them, so the alert limits
   * (alerts held until the file ends) do not apply. The result's `alerts` stays empty. For the
   * CLI, which prints them as they come. What it throws is not the file's failure: it ends the read
   * and is rethrown.
   */
  readonly onAlert?: (alert: Alert) => void;
}

export interface AnalyzeResult {
  readonly stats: ScanStats;
  readonly alerts: Alert[];
  /** True when the object held nothing (a 0-byte marker object, or gzip of nothing): a skip, not an error. */
  readonly empty: boolean;
  /**
   * Alerts a rule raised but that could not be built, as error names (never record contents).
   * The others are returned as usual; the caller fails the object so a retry covers these.
   */
  readonly unbuilt: string[];
}

const HINTS: Record<string, string> = {
  Z_BUF_ERROR: 'the gzip data is truncated; check the file was copied whole',
  Z_DATA_ERROR: 'the gzip data is corrupt; re-download the file',
  NoSuchKey: 'the object is gone (deleted or expired by a lifecycle rule); nothing to scan',
  NoSuchBucket: 'check the trail bucket name',
  AccessDenied: 'grant the function s3:GetObject on the trail prefix, and kms:Decrypt on the trail key for an SSE-KMS trail',
  KMS: 'grant the function kms:Decrypt on the key that encrypts the trail (context trailKmsKeyArn)',
};

function hintFor(err: unknown): string | undefined {
  const { code, name, message } = (err ?? {}) as { code?: string; name?: string; message?: string };
  if (code && HINTS[code]) return HINTS[code];
  if (name && HINTS[name]) return /kms/i.test(message ?? '') ? HINTS.KMS : HINTS[name];
  if (name?.startsWith('KMS') || /\bkms\b/i.test(message ?? '')) return HINTS.KMS;
  return undefined;
}

const SYSTEM_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder', EACCES: 'permission denied', EPERM: 'permission denied', ELOOP: 'a loop of symbolic links',
  ENOTDIR: 'not a folder', EISDIR: 'a folder', EMFILE: 'too many open files', ENAMETOOLONG: 'the name is too long', ENXIO: 'no such device',
};

/**
 * An operating-system error in words, with its code: "permission denied (EACCES)". Never Node's
 * message, which repeats the path as it is, line breaks and all.
 */
export function systemProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code ? `${SYSTEM_WORDS[code] ?? 'cannot be read'} (${code})` : 'cannot be read';
}

/** Turns any failure while reading a log into an error that names the file and says what to do. */
export function describeReadFailure(name: string, err: unknown): LogObjectReadError {
  const hint = hintFor(err);
  const error = err as { name?: string; message?: string; $metadata?: unknown; code?: string; syscall?: string };
  // AWS SDK errors carry their code in `name` ("NoSuchKey"); say it, since the message alone is vague.
  const reason = error?.$metadata && error.name
    ? `${error.name}: ${error.message}`
    : error?.syscall && error.code ? systemProblem(err) : (error?.message ?? String(err));
  const explained = `${reason}${hint ? ` (${hint})` : ''}`;
  return new LogObjectReadError(`${name}: ${explained}`, { cause: err, reason: explained });
}

/** What reading a log file gave when it broke part-way: the alerts found before, and why it stopped. */
export interface PartialResult extends AnalyzeResult {
  /** Set when the file could not be read to its end; it names the file and what to do. */
  readonly error?: LogObjectReadError;
}

/**
 * Reads one log file (gzip or plain JSON) as a stream and returns the alerts its ACM records
 * raise, with counts. When the file breaks part-way (corrupt or truncated gzip, a cap, a stall,
 * a deadline), the alerts of the records read before are still returned, with the error: every
 * one of them comes from a record that parsed whole, so the caller can publish them and fail the
 * object. Never throws for the file's contents or its stream.
 */
export async function readLogStream(bytes: AsyncIterable<Uint8Array>, options: AnalyzeOptions): Promise<PartialResult> {
  const stats: ScanStats = { records: 0, acmRecords: 0 };
  const alerts: Alert[] = [];
  const unbuilt: string[] = [];
  const maxAlerts = options.maxAlerts ?? MAX_ALERTS_PER_OBJECT;
  const maxAlertBytes = options.maxAlertBytes ?? MAX_ALERT_BYTES_PER_OBJECT;
  let alertBytes = 0;
  const decodedBytes: DecodeProgress = { bytes: 0 };
  const area = new SplitterArea();
  const decoded = decodeLogBytes(bytes, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES, decodedBytes, { inflate: options.inflate, area: area.area });
  try {
    for await (const record of scanWatchedRecords(decoded, stats, { lenient: options.lenient, area })) {
      const verdict = options.engine.evaluate(record);
      if (!verdict?.alert) continue;
      if (!options.onAlert && alerts.length + unbuilt.length >= maxAlerts) throw new TooManyAlertsError(`${maxAlerts.toLocaleString('en-US')} alerts`);
      let alert: Alert;
      try {
        alert = buildAlert(record, verdict.rule, options.name);
      } catch (err) {
        // buildAlert is written not to throw on any record; should it, one record costs one alert, not the file.
        unbuilt.push((err as Error)?.name ?? 'Error');
        continue;
      }
      if (options.onAlert) {
        try {
          options.onAlert(alert);
        } catch (err) {
          throw new ConsumerError(err);
        }
        continue;
      }
      alertBytes += Buffer.byteLength(JSON.stringify(alert));
      if (alertBytes > maxAlertBytes) throw new TooManyAlertsError(`${(maxAlertBytes / 1024 ** 2).toLocaleString('en-US')} MiB of alerts`);
      alerts.push(alert);
    }
  } catch (err) {
    if (err instanceof ConsumerError) throw err.failure;
    if (decodedBytes.bytes === 0 && err instanceof LogFormatError) return { stats, alerts, empty: true, unbuilt };
    return { stats, alerts, empty: false, unbuilt, error: describeReadFailure(options.name, err) };
  } finally {
    // A read that stopped early (a broken file, a cap) lets go of the source: a file handle, an S3 connection.
    await decoded.return(undefined).catch(() => undefined);
  }
  return { stats, alerts, empty: false, unbuilt };
}

/** readLogStream for callers that treat a broken file as unreadable as a whole: throws its error. */
export async function analyzeLogStream(bytes: AsyncIterable<Uint8Array>, options: AnalyzeOptions): Promise<AnalyzeResult> {
  const { error, ...result } = await readLogStream(bytes, options);
  if (error) throw error;
  return result;
}
