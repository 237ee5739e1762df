/**
 * Room `pipeline/`: one event through the ports. analyze.ts takes one log object from bytes to
 * alerts (scan, rules, alerts); this file runs every object of an event (of any shape ingest/
 * understands) through it, then
 * deduplicates, folds storms, publishes and records what was sent.
 */
import { createHash, randomUUID } from 'node:crypto';
import { InvocationFailedError, LogObjectReadError, ObjectDeadlineError } from '../../errors';
import { buildAlert, dedupeKey } from '../alerts/alert';
import { dedupeKeys, foldStorms } from '../alerts/storm';
import { deliveriesOf, isSqsBatch } from '../ingest/deliveries';
import type { SkippedObject } from '../ingest/s3-event';
import type { AlertPublisher, DedupeStore, Logger, LogReader, PublishOutcome } from '../ports';
import { plural } from '../render/summary';
import type { RuleEngine } from '../rules/evaluate';
import { DEFAULT_STORM_THRESHOLD } from '../rules/rule-config';
import type { InflateMode } from '../scan/decode';
import type { Alert, CloudTrailRecord, ObjectRef } from '../types';
import { describeReadFailure, readLogStream, type PartialResult } from './analyze';

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
  /** See AnalyzeOptions.inflate. @default 'stream' */
  readonly inflate?: InflateMode;
  /** See `foldStorms`. @default 5 */
  readonly stormThreshold?: number;
  /** Milliseconds left before the invocation times out (the Lambda context's clock). */
  readonly remainingTimeMs?: () => number;
  /** No new object is started with less time than this left. @default 30000 */
  readonly safetyMarginMs?: number;
  /**
   * Reading an object stops this long before the invocation times out, so what it found is still
   * published and marked before the function is killed. @default 15000
   */
  readonly publishReserveMs?: number;
  /** Who claims alerts in the dedupe store: unique per invocation. @default a random UUID */
  readonly owner?: string;
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

/** What the real-time records of an invocation gave. */
export interface RealtimeResult {
  readonly records: number;
  readonly alerts: number;
  readonly published: number;
  /** Alerts the log path (or an earlier delivery) had already sent. */
  readonly duplicates: number;
  /** Alerts of a burst left for the log file to fold into a summary. */
  readonly deferred: number;
  readonly error?: string;
}

export interface EventResult {
  readonly objects: readonly ObjectResult[];
  /** One entry per delivery that carried real-time records. */
  readonly realtime: readonly RealtimeResult[];
  readonly skipped: readonly SkippedObject[];
  /** SQS messages that could not be understood, each named with the shape it had. */
  readonly unreadable: readonly string[];
  /** For an SQS batch: ids of the messages to retry (a failed object, or not understood). Absent for other events. */
  readonly batchItemFailures?: readonly string[];
  readonly published: readonly Alert[];
  /** True when the dedupe store could not be reached and alerts were published without it. */
  readonly dedupeUnavailable: boolean;
  /** Alerts another live invocation was publishing: their objects fail so the retry settles them. */
  readonly claimsBusy: number;
  /** Claims taken over from an invocation whose lease ran out, and marks that found their claim taken over. */
  readonly claimRaces: number;
}

export const DEFAULT_SAFETY_MARGIN_MS = 30_000;
export const DEFAULT_PUBLISH_RESERVE_MS = 15_000;

const s3Uri = (ref: ObjectRef): string => `s3://${ref.bucket}/${ref.key}`;
const emptyResult = (ref: ObjectRef): ObjectResult => ({ bucket: ref.bucket, key: ref.key, records: 0, acmRecords: 0, alerts: 0, published: 0, duplicates: 0 });

interface InvocationState {
  /** Dedupe keys handled in this invocation. */
  readonly seen: Set<string>;
  readonly owner: string;
  dedupeUnavailable: boolean;
  claimsBusy: number;
  claimRaces: number;
}

function storeUnavailable(ports: ProcessPorts, state: InvocationState, message: string, err: unknown): void {
  // Fail open, for this call only: a duplicate alert is better than a lost one.
  state.dedupeUnavailable = true;
  ports.logger.error(message, { error: (err as Error)?.message });
}

const CLAIM_FAILED = 'dedupe store unavailable: publishing without cross-invocation deduplication, a retry may repeat alerts';

/**
 * Claims the keys for this invocation. Fails open when the store cannot answer: those keys count
 * as claimed and their alerts go out without cross-invocation deduplication.
 */
async function claim(ports: ProcessPorts, state: InvocationState, keys: string[]): Promise<{ claimed: Set<string>; sent: Set<string>; busy: Set<string> }> {
  if (!ports.dedupe || keys.length === 0) return { claimed: new Set(keys), sent: new Set(), busy: new Set() };
  try {
    const outcome = await ports.dedupe.claim(keys, state.owner);
    state.claimsBusy += outcome.busy.length;
    state.claimRaces += outcome.takenOver;
    if (outcome.takenOver) ports.logger.warn('took over claims whose lease had run out: an earlier invocation may have published them', { takenOver: outcome.takenOver });
    if (outcome.unknown?.length) storeUnavailable(ports, state, CLAIM_FAILED, outcome.error);
    return { claimed: new Set([...outcome.claimed, ...(outcome.unknown ?? [])]), sent: new Set(outcome.sent), busy: new Set(outcome.busy) };
  } catch (err) {
    storeUnavailable(ports, state, CLAIM_FAILED, err);
    return { claimed: new Set(keys), sent: new Set(), busy: new Set() };
  }
}

/**
 * Marks what was published as sent and releases what surely failed; an alert whose publish may
 * have gone through (a timeout) keeps its claim until the lease runs out. Fails open like `claim`.
 */
async function settle(ports: ProcessPorts, state: InvocationState, outcome: PublishOutcome): Promise<void> {
  if (!ports.dedupe) return;
  const sent = outcome.published.flatMap(dedupeKeys);
  const failed = outcome.failed.filter((failure) => !failure.ambiguous).flatMap((failure) => dedupeKeys(failure.alert));
  try {
    if (sent.length) {
      const { raced } = await ports.dedupe.markSent(sent, state.owner);
      state.claimRaces += raced;
      if (raced) ports.logger.warn('another invocation took over claims of alerts this one published', { raced });
    }
  } catch (err) {
    // The alerts went out; only the memory of them is missing (their claims expire with the lease).
    storeUnavailable(ports, state, 'dedupe store unavailable: published alerts were not recorded, a retry may repeat them', err);
  }
  try {
    if (failed.length) await ports.dedupe.release(failed, state.owner);
  } catch (err) {
    // The claims run out with their lease; the retry then takes them over.
    storeUnavailable(ports, state, 'dedupe store unavailable: claims of alerts that failed to publish were not released', err);
  }
}

/** The bytes of `source`, until `signal` aborts: then reading stops at once, even on a stalled stream. */
async function* untilAborted(source: AsyncIterable<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(signal.reason as Error);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => {});
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Lets the source go (an S3 body's connection is closed); a pending read may still reject.
    void Promise.resolve(iterator.return?.()).catch(() => {});
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
 * Scans one log object and publishes its alerts: those not handled earlier in this invocation
 * are claimed in the dedupe store, the claimed ones published (bursts folded), then marked sent,
 * and the failed ones released. When the object breaks part-way (or reading reaches the
 * deadline), what was found before is published the same way and the object then fails with its
 * reason. Alerts another live invocation holds make the object fail, so the retry settles them.
 * Never throws: failures are returned in `error` so the other objects still go through.
 */
async function processLogObject(
  ports: ProcessPorts,
  ref: ObjectRef,
  options: ProcessOptions,
  state: InvocationState,
): Promise<{ result: ObjectResult; published: readonly Alert[] }> {
  const name = s3Uri(ref);
  const empty = emptyResult(ref);
  const deadline = new AbortController();
  const timeLeft = options.remainingTimeMs?.();
  const timer =
    timeLeft === undefined
      ? undefined
      : setTimeout(
          () => deadline.abort(new ObjectDeadlineError(options.publishReserveMs ?? DEFAULT_PUBLISH_RESERVE_MS)),
          Math.max(0, timeLeft - (options.publishReserveMs ?? DEFAULT_PUBLISH_RESERVE_MS)),
        );
  let analysis: PartialResult;
  try {
    const bytes = await ports.reader.open(ref, deadline.signal);
    analysis = await readLogStream(untilAborted(bytes, deadline.signal), { engine: options.engine, name, maxDecompressedBytes: options.maxDecompressedBytes, inflate: options.inflate });
  } catch (err) {
    // A reader failure (GetObject) is named here.
    const error = (err instanceof LogObjectReadError ? err : describeReadFailure(name, err)).message;
    const result = { ...empty, error };
    ports.logger.error('log object failed', { ...result });
    return { result, published: [] };
  } finally {
    clearTimeout(timer);
  }
  if (analysis.empty) {
    ports.logger.info('skipped object', { bucket: ref.bucket, key: ref.key, reason: 'empty-object' });
    return { result: empty, published: [] };
  }

  const sent = await publishFound(ports, options, state, analysis.alerts);
  const errors = [
    ...(analysis.error ? [analysis.error.reason] : []),
    ...sent.errors,
    ...(analysis.unbuilt.length ? [`${analysis.unbuilt.length} alerts could not be built (${[...new Set(analysis.unbuilt)].join(', ')})`] : []),
  ];
  const result: ObjectResult = {
    ...empty,
    ...analysis.stats,
    alerts: analysis.alerts.length,
    published: sent.published.length,
    duplicates: sent.duplicates,
    ...(errors.length ? { error: `${name}: ${errors.join('; ')}` } : {}),
  };
  if (result.error) ports.logger.error('log object failed', { ...result });
  else ports.logger.info('processed log object', { ...result });
  return { result, published: sent.published };
}

/**
 * The one delivery guarantee, for alerts from either path: those not handled earlier in this
 * invocation are claimed in the dedupe store, the claimed ones published (bursts folded), then
 * marked sent, and the failed ones released. An event already sent by the other path (or an
 * earlier invocation) is a duplicate; one another live invocation holds is `busy` and reported
 * as an error, so the retry settles it.
 */
async function publishFound(
  ports: ProcessPorts,
  options: ProcessOptions,
  state: InvocationState,
  alerts: readonly Alert[],
): Promise<{ published: readonly Alert[]; duplicates: number; errors: string[] }> {
  // One alert per event: a repeat within this invocation, this file included, is a duplicate.
  const keys = new Set<string>();
  const fresh = alerts.filter((alert) => {
    const key = dedupeKey(alert);
    if (state.seen.has(key) || keys.has(key)) return false;
    keys.add(key);
    return true;
  });
  const claims = await claim(ports, state, fresh.map(dedupeKey));
  const mine = fresh.filter((alert) => claims.claimed.has(dedupeKey(alert)));
  mine.forEach((alert) => state.seen.add(dedupeKey(alert)));
  const busy = fresh.filter((alert) => claims.busy.has(dedupeKey(alert))).length;
  const messages = foldStorms(mine, options.stormThreshold);
  const outcome = await publishAll(ports, messages);
  // A failed alert leaves the set, so a later object of this invocation carrying the same event may send it.
  outcome.failed.filter((failure) => !failure.ambiguous).forEach((failure) => dedupeKeys(failure.alert).forEach((key) => state.seen.delete(key)));
  await settle(ports, state, outcome);

  const reasons = [...new Set(outcome.failed.map((failure) => failure.reason))].join('; ');
  const errors = [
    ...(outcome.failed.length ? [`${outcome.failed.length} of ${messages.length} alerts could not be published (${reasons})`] : []),
    ...(busy ? [`${plural(busy, 'alert')} being published by another invocation at the same time; the retry sends whatever it did not`] : []),
  ];
  return { published: outcome.published, duplicates: alerts.length - mine.length - busy, errors };
}

/** Real-time alerts of one rule, call, actor and outcome in one 5-minute window are one burst. */
export const BURST_WINDOW_MS = 5 * 60_000;

function burstKey(alert: Alert): string {
  const time = Date.parse(alert.eventTime);
  const window = Number.isNaN(time) ? 'unknown' : String(Math.floor(time / BURST_WINDOW_MS));
  return createHash('sha256').update(JSON.stringify([alert.ruleId, alert.eventName, alert.actor.arn ?? alert.actor.principalId ?? '', alert.outcome, alert.accountId, window])).digest('base64url');
}

/**
 * Storm control on the real-time path, where events arrive one per invocation: a shared set of
 * event IDs per burst lets the first `stormThreshold` alerts of a burst out at once, then one
 * alert that says the burst goes on, and defers the rest to the log files, which fold whatever
 * was not yet sent. This relies on the trail logging those events (their accounts, Regions and,
 * for read calls, read events); `stormThreshold: 0` turns it off. Without a store (or when it
 * cannot answer) every alert goes out.
 */
async function deferBursts(ports: ProcessPorts, options: ProcessOptions, state: InvocationState, alerts: Alert[]): Promise<{ now: Alert[]; deferred: number }> {
  const threshold = options.stormThreshold ?? DEFAULT_STORM_THRESHOLD;
  if (!ports.dedupe?.countBurst || threshold <= 0) return { now: alerts, deferred: 0 };
  const now: Alert[] = [];
  for (const alert of alerts) {
    try {
      const count = await ports.dedupe.countBurst(burstKey(alert), alert.eventId);
      if (count === threshold + 1) alert.title = `${alert.title}: a burst, ${threshold + 1} or more in 5 minutes; the rest come folded from the log files`;
      else if (count > threshold + 1) continue;
    } catch (err) {
      storeUnavailable(ports, state, 'dedupe store unavailable: a real-time burst is not counted, its alerts go out one by one', err);
    }
    now.push(alert);
  }
  return { now, deferred: alerts.length - now.length };
}

/**
 * Real-time records (EventBridge `AWS API Call via CloudTrail` events): the same rules, alert
 * building and redaction as a log file, alerts marked `via: "eventbridge"`, then the same claims,
 * so whichever path sees an event first sends its alert and the other's copy is a duplicate.
 */
async function processRecords(ports: ProcessPorts, records: readonly CloudTrailRecord[], options: ProcessOptions, state: InvocationState): Promise<{ result: RealtimeResult; published: readonly Alert[] }> {
  const alerts: Alert[] = [];
  const unbuilt: string[] = [];
  for (const record of records) {
    try {
      const verdict = options.engine.evaluate(record);
      if (verdict?.alert) alerts.push(buildAlert(record, verdict.rule, undefined, 'eventbridge'));
    } catch (err) {
      unbuilt.push((err as Error)?.name ?? 'Error');
    }
  }
  const { now, deferred } = await deferBursts(ports, options, state, alerts);
  const sent = await publishFound(ports, options, state, now);
  const errors = [...sent.errors, ...(unbuilt.length ? [`${unbuilt.length} alerts could not be built (${[...new Set(unbuilt)].join(', ')})`] : [])];
  const result: RealtimeResult = {
    records: records.length,
    alerts: alerts.length,
    published: sent.published.length,
    duplicates: sent.duplicates,
    deferred,
    ...(errors.length ? { error: `real-time event ${alerts[0]?.eventId ?? ''}: ${errors.join('; ')}`.replace(' :', ':') } : {}),
  };
  if (result.error) ports.logger.error('real-time event failed', { ...result });
  else ports.logger.info('processed real-time event', { ...result });
  return { result, published: sent.published };
}

/**
 * Processes every object an invocation's event names, whatever shape it came in (see
 * ingest/deliveries.ts): each object is read, its alerts deduplicated, folded and published.
 * One SQS message's objects are one delivery: when any of them fails, or the message cannot be
 * understood, its message id is in `batchItemFailures` and the other messages still succeed.
 * Throws UnsupportedEventError, naming the shape, for an event of no accepted kind.
 */
export async function processEvent(ports: ProcessPorts, event: unknown, options: ProcessOptions): Promise<EventResult> {
  const deliveries = deliveriesOf(event);
  const state: InvocationState = { seen: new Set(), owner: options.owner ?? randomUUID(), dedupeUnavailable: false, claimsBusy: 0, claimRaces: 0 };
  const objects: ObjectResult[] = [];
  const realtime: RealtimeResult[] = [];
  const skipped: SkippedObject[] = [];
  const published: Alert[] = [];
  const batchItemFailures: string[] = [];
  const unreadable: string[] = [];
  const margin = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;

  for (const delivery of deliveries) {
    if (delivery.error) {
      ports.logger.error('event not understood', { shape: delivery.shape, messageId: delivery.messageId, error: delivery.error });
      unreadable.push(delivery.error);
      if (delivery.messageId) batchItemFailures.push(delivery.messageId);
      continue;
    }
    if (delivery.testEvent) {
      ports.logger.info('ignored s3 test event', { shape: delivery.shape });
      continue;
    }
    for (const skip of delivery.skipped) ports.logger.debug('skipped object', { ...skip });
    skipped.push(...delivery.skipped);
    let failed = false;
    if (delivery.records.length) {
      const outcome = await processRecords(ports, delivery.records, options, state);
      realtime.push(outcome.result);
      published.push(...outcome.published);
      failed ||= outcome.result.error !== undefined;
    }
    for (const ref of delivery.refs) {
      if (options.remainingTimeMs && options.remainingTimeMs() < margin) {
        const error = `${s3Uri(ref)}: not started, the invocation was about to time out`;
        ports.logger.warn('log object not started', { bucket: ref.bucket, key: ref.key, remainingMs: options.remainingTimeMs() });
        objects.push({ ...emptyResult(ref), error });
        failed = true;
        continue;
      }
      const outcome = await processLogObject(ports, ref, options, state);
      objects.push(outcome.result);
      published.push(...outcome.published);
      failed ||= outcome.result.error !== undefined;
    }
    if (failed && delivery.messageId) batchItemFailures.push(delivery.messageId);
  }
  return {
    objects, realtime, skipped, published, unreadable, dedupeUnavailable: state.dedupeUnavailable, claimsBusy: state.claimsBusy, claimRaces: state.claimRaces,
    ...(isSqsBatch(event) ? { batchItemFailures } : {}),
  };
}

/**
 * The invocation's error when any object failed, naming each one and the counts, so Lambda
 * retries the event and it ends in the failure destination rather than losing an alert.
 */
export function failureOf(result: EventResult): InvocationFailedError | undefined {
  const failed: ReadonlyArray<{ error?: string }> = [...result.objects, ...result.realtime].filter((entry) => entry.error);
  if (failed.length === 0 && result.unreadable.length === 0) return undefined;
  const alerts = result.objects.reduce((sum, object) => sum + object.alerts, 0);
  const retried = result.batchItemFailures ? 'the failed SQS messages are retried' : 'the invocation fails so Lambda retries it';
  return new InvocationFailedError(
    `${failed.length} of ${result.objects.length + result.realtime.length} ${result.realtime.length ? 'log objects and real-time events' : 'log objects'} failed${result.unreadable.length ? ` and ${plural(result.unreadable.length, 'message')} could not be understood` : ''} ` +
      `(${plural(alerts, 'alert')} found, ${plural(result.published.length, 'message')} published); ${retried}: ${[...result.unreadable, ...failed.map((object) => object.error)].join(' | ')}`,
  );
}
