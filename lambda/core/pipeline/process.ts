/**
 * Room `pipeline/`: one event through the ports. analyze.ts takes one log object from bytes to
 * alerts (scan, rules, alerts); this file runs every object of an event through it, then
 * deduplicates, folds storms, publishes and records what was sent.
 */
import { InvocationFailedError, LogObjectReadError } from '../../errors';
import { dedupeKey } from '../alerts/alert';
import { dedupeKeys, foldStorms } from '../alerts/storm';
import { toObjectRefs, type SkippedObject } from '../ingest/s3-event';
import type { AlertPublisher, DedupeStore, Logger, LogReader, PublishOutcome } from '../ports';
import { plural } from '../render/summary';
import type { RuleEngine } from '../rules/evaluate';
import type { Alert, ObjectRef } from '../types';
import { analyzeLogStream, describeReadFailure, type AnalyzeResult } from './analyze';

export interface ProcessPorts {
  readonly reader: LogReader;
  readonly publisher: AlertPublisher;
  readonly logger: Logger;
  /** Cross-invocation deduplication; without it, only duplicates within one invocation are dropped. */
  readonly dedupe?: DedupeStore;
}

export interface ProcessOptions {
  readonly engine: RuleEngine;
  readonly maxDecompressedBytes?: number;
  /** See `foldStorms`. @default 5 */
  readonly stormThreshold?: number;
  /** Milliseconds left before the invocation times out (the Lambda context's clock). */
  readonly remainingTimeMs?: () => number;
  /** No new object is started with less time than this left. @default 30000 */
  readonly safetyMarginMs?: number;
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
  /** Alerts not sent again because this or an earlier invocation already published them. */
  readonly duplicates: number;
  /** Present when the object could not be read, was not reached in time, or some of its alerts could not be published. */
  readonly error?: string;
}

export interface EventResult {
  readonly objects: readonly ObjectResult[];
  readonly skipped: readonly SkippedObject[];
  readonly published: readonly Alert[];
  /** True when the dedupe store could not be reached and alerts were published without it. */
  readonly dedupeUnavailable: boolean;
}

export const DEFAULT_SAFETY_MARGIN_MS = 30_000;

const s3Uri = (ref: ObjectRef): string => `s3://${ref.bucket}/${ref.key}`;

interface InvocationState {
  /** Dedupe keys handled in this invocation. */
  readonly seen: Set<string>;
  dedupeUnavailable: boolean;
}

/** Keys among `keys` already published by an earlier invocation; fails open when the store is down. */
async function findSent(ports: ProcessPorts, state: InvocationState, keys: string[]): Promise<Set<string>> {
  if (!ports.dedupe || keys.length === 0 || state.dedupeUnavailable) return new Set();
  try {
    return await ports.dedupe.findSent(keys);
  } catch (err) {
    // Fail open: a duplicate alert is better than a lost one.
    state.dedupeUnavailable = true;
    ports.logger.error('dedupe store unavailable: publishing without cross-invocation deduplication, a retry may repeat alerts', {
      error: (err as Error).message,
    });
    return new Set();
  }
}

async function recordSent(ports: ProcessPorts, state: InvocationState, published: readonly Alert[]): Promise<void> {
  if (!ports.dedupe || published.length === 0 || state.dedupeUnavailable) return;
  try {
    const { raced } = await ports.dedupe.recordSent(published.flatMap(dedupeKeys));
    if (raced) ports.logger.warn('another invocation published the same events at the same time', { raced });
  } catch (err) {
    // The alerts went out; only the memory of them is missing, so this fails open too.
    state.dedupeUnavailable = true;
    ports.logger.error('dedupe store unavailable: published alerts were not recorded, a retry may repeat them', { error: (err as Error).message });
  }
}

/**
 * Publishes through the port; should the publisher throw instead of reporting failures, every
 * alert counts as failed, so the object is named and retried instead of the exception escaping.
 */
async function publishAll(ports: ProcessPorts, messages: readonly Alert[]): Promise<PublishOutcome> {
  if (messages.length === 0) return { published: [], failed: [] };
  try {
    return await ports.publisher.publish(messages);
  } catch (err) {
    const reason = `publishing failed (${(err as Error)?.name ?? 'Error'})`;
    return { published: [], failed: messages.map((alert) => ({ alert, reason })) };
  }
}

/**
 * Scans one log object and publishes its alerts, skipping those already published in this
 * invocation or (with a dedupe store) an earlier one, and recording what was published only
 * after it was. Never throws: a read or publish failure is returned in `error` so the other
 * objects still go through.
 */
async function processLogObject(
  ports: ProcessPorts,
  ref: ObjectRef,
  options: ProcessOptions,
  state: InvocationState,
): Promise<{ result: ObjectResult; published: readonly Alert[] }> {
  const name = s3Uri(ref);
  const empty = { bucket: ref.bucket, key: ref.key, records: 0, acmRecords: 0, alerts: 0, published: 0, duplicates: 0 };
  let analysis: AnalyzeResult;
  try {
    const bytes = await ports.reader.open(ref);
    analysis = await analyzeLogStream(bytes, { engine: options.engine, name, maxDecompressedBytes: options.maxDecompressedBytes });
  } catch (err) {
    // analyzeLogStream already names the object; a reader failure (GetObject) is named here.
    const error = (err instanceof LogObjectReadError ? err : describeReadFailure(name, err)).message;
    const result = { ...empty, error };
    ports.logger.error('log object failed', { ...result });
    return { result, published: [] };
  }
  if (analysis.empty) {
    ports.logger.info('skipped object', { bucket: ref.bucket, key: ref.key, reason: 'empty-object' });
    return { result: empty, published: [] };
  }

  const fresh = analysis.alerts.filter((alert) => !state.seen.has(dedupeKey(alert)));
  const sentBefore = await findSent(ports, state, fresh.map(dedupeKey));
  const unsent = fresh.filter((alert) => !sentBefore.has(dedupeKey(alert)));
  unsent.forEach((alert) => state.seen.add(dedupeKey(alert)));
  const messages = foldStorms(unsent, options.stormThreshold);
  const outcome = await publishAll(ports, messages);
  // A failed alert leaves the set, so a later object of this invocation carrying the same event may send it.
  outcome.failed.forEach((failure) => dedupeKeys(failure.alert).forEach((key) => state.seen.delete(key)));
  await recordSent(ports, state, outcome.published);

  const reasons = [...new Set(outcome.failed.map((failure) => failure.reason))].join('; ');
  const errors = [
    ...(outcome.failed.length ? [`${outcome.failed.length} of ${messages.length} alerts could not be published (${reasons})`] : []),
    ...(analysis.unbuilt.length ? [`${analysis.unbuilt.length} alerts could not be built (${[...new Set(analysis.unbuilt)].join(', ')})`] : []),
  ];
  const result: ObjectResult = {
    ...empty,
    ...analysis.stats,
    alerts: analysis.alerts.length,
    published: outcome.published.length,
    duplicates: analysis.alerts.length - unsent.length,
    ...(errors.length ? { error: `${name}: ${errors.join('; ')}` } : {}),
  };
  if (result.error) ports.logger.error('log object failed', { ...result });
  else ports.logger.info('processed log object', { ...result });
  return { result, published: outcome.published };
}

/**
 * Handles an S3 event notification: every object it names is scanned, in order, and skips are
 * logged. With a clock, no object is started once less than the safety margin is left; those
 * objects are reported as failed so the retry covers them. Never throws for an object's failure:
 * see `failureOf` for turning the result into the invocation's error.
 */
export async function processS3Event(ports: ProcessPorts, event: unknown, options: ProcessOptions): Promise<EventResult> {
  const { refs, skipped, testEvent } = toObjectRefs(event);
  const state: InvocationState = { seen: new Set(), dedupeUnavailable: false };
  if (testEvent) {
    ports.logger.info('ignored s3 test event');
    return { objects: [], skipped: [], published: [], dedupeUnavailable: false };
  }
  for (const skip of skipped) ports.logger.debug('skipped object', { ...skip });

  const objects: ObjectResult[] = [];
  const published: Alert[] = [];
  const margin = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  for (const ref of refs) {
    if (options.remainingTimeMs && options.remainingTimeMs() < margin) {
      const error = `${s3Uri(ref)}: not started, the invocation was about to time out`;
      ports.logger.warn('log object not started', { bucket: ref.bucket, key: ref.key, remainingMs: options.remainingTimeMs() });
      objects.push({ bucket: ref.bucket, key: ref.key, records: 0, acmRecords: 0, alerts: 0, published: 0, duplicates: 0, error });
      continue;
    }
    const outcome = await processLogObject(ports, ref, options, state);
    objects.push(outcome.result);
    published.push(...outcome.published);
  }
  return { objects, skipped, published, dedupeUnavailable: state.dedupeUnavailable };
}

/**
 * The invocation's error when any object failed, naming each one and the counts, so Lambda
 * retries the event and it ends in the failure destination rather than losing an alert.
 */
export function failureOf(result: EventResult): InvocationFailedError | undefined {
  const failed = result.objects.filter((object) => object.error);
  if (failed.length === 0) return undefined;
  const alerts = result.objects.reduce((sum, object) => sum + object.alerts, 0);
  return new InvocationFailedError(
    `${failed.length} of ${result.objects.length} log objects failed (${plural(alerts, 'alert')} found, ${plural(result.published.length, 'message')} published); ` +
      `the invocation fails so Lambda retries it: ${failed.map((object) => object.error).join(' | ')}`,
  );
}
