import { InvocationFailedError } from '../errors';
import { dedupeKey } from './alert';
import { dedupeKeys, foldStorms } from './storm';
import { analyzeLogStream, describeReadFailure } from './analyze';
import type { RuleEngine } from './evaluate';
import type { AlertPublisher, Logger, LogReader } from './ports';
import { toObjectRefs, type SkippedObject } from './s3-event';
import type { Alert, ObjectRef } from './types';

export interface ProcessPorts {
  readonly reader: LogReader;
  readonly publisher: AlertPublisher;
  readonly logger: Logger;
}

export interface ProcessOptions {
  readonly engine: RuleEngine;
  readonly maxDecompressedBytes?: number;
  /** See `foldStorms`. @default 5 */
  readonly stormThreshold?: number;
}

/** What happened to one object; logged as the per-object summary. */
export interface ObjectResult {
  readonly bucket: string;
  readonly key: string;
  readonly records: number;
  readonly acmRecords: number;
  readonly alerts: number;
  /** Alert messages published: fewer than `alerts` when a burst was folded into a summary. */
  readonly published: number;
  readonly duplicates: number;
  /** Present when the object could not be read or some of its alerts could not be published. */
  readonly error?: string;
}

export interface EventResult {
  readonly objects: readonly ObjectResult[];
  readonly skipped: readonly SkippedObject[];
  readonly published: readonly Alert[];
}

export const s3Uri = (ref: ObjectRef): string => `s3://${ref.bucket}/${ref.key}`;

/**
 * Scans one log object and publishes its alerts. Alerts whose CloudTrail event ID was already
 * handled in this invocation (`seen`) are not sent again. Never throws: a read or publish
 * failure is returned in `error` so the other objects still go through.
 */
export async function processLogObject(
  ports: ProcessPorts,
  ref: ObjectRef,
  options: ProcessOptions,
  seen: Set<string>,
): Promise<{ result: ObjectResult; published: readonly Alert[] }> {
  const name = s3Uri(ref);
  const base = { bucket: ref.bucket, key: ref.key };
  let analysis;
  try {
    const bytes = await ports.reader.open(ref);
    analysis = await analyzeLogStream(bytes, { engine: options.engine, name, maxDecompressedBytes: options.maxDecompressedBytes });
  } catch (err) {
    const error = (err instanceof Error && err.message.startsWith(name) ? err : describeReadFailure(name, err)).message;
    const result = { ...base, records: 0, acmRecords: 0, alerts: 0, published: 0, duplicates: 0, error };
    ports.logger.error('log object failed', { ...result });
    return { result, published: [] };
  }

  const fresh = analysis.alerts.filter((alert) => !seen.has(dedupeKey(alert)));
  const duplicates = analysis.alerts.length - fresh.length;
  fresh.forEach((alert) => seen.add(dedupeKey(alert)));
  const messages = foldStorms(fresh, options.stormThreshold);
  const outcome = messages.length ? await ports.publisher.publish(messages) : { published: [], failed: [] };
  // A failed alert leaves the set, so a retry of the same event within this invocation may send it.
  outcome.failed.forEach((failure) => dedupeKeys(failure.alert).forEach((key) => seen.delete(key)));

  const result: ObjectResult = {
    ...base,
    ...analysis.stats,
    alerts: analysis.alerts.length,
    published: outcome.published.length,
    duplicates,
    ...(outcome.failed.length
      ? { error: `${name}: ${outcome.failed.length} of ${messages.length} alerts could not be published (${[...new Set(outcome.failed.map((f) => f.reason))].join('; ')})` }
      : {}),
  };
  if (result.error) ports.logger.error('log object failed', { ...result });
  else ports.logger.info('processed log object', { ...result });
  return { result, published: outcome.published };
}

/**
 * Handles an S3 event notification: every object it names is scanned, skips are logged, and
 * when any object failed the whole invocation fails afterwards, naming each failed object, so
 * Lambda retries it and it ends in the failure destination rather than losing an alert.
 */
export async function processS3Event(ports: ProcessPorts, event: unknown, options: ProcessOptions): Promise<EventResult> {
  const { refs, skipped, testEvent } = toObjectRefs(event);
  if (testEvent) {
    ports.logger.info('ignored s3 test event');
    return { objects: [], skipped: [], published: [] };
  }
  for (const skip of skipped) ports.logger.debug('skipped object', { ...skip });

  const seen = new Set<string>();
  const objects: ObjectResult[] = [];
  const published: Alert[] = [];
  for (const ref of refs) {
    const outcome = await processLogObject(ports, ref, options, seen);
    objects.push(outcome.result);
    published.push(...outcome.published);
  }

  const failed = objects.filter((object) => object.error);
  if (failed.length) {
    const alerts = objects.reduce((sum, object) => sum + object.alerts, 0);
    const sent = objects.reduce((sum, object) => sum + object.published, 0);
    throw new InvocationFailedError(
      `${failed.length} of ${refs.length} log objects failed (${sent} of ${alerts} alerts published); ` +
        `the invocation fails so Lambda retries it: ${failed.map((object) => object.error).join(' | ')}`,
    );
  }
  return { objects, skipped, published };
}
