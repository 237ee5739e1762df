import type { Alert, ObjectRef } from './types';

/**
 * Reads the raw bytes of a log object, as a stream. Throws when the object cannot be read. When
 * `signal` aborts, the request and its stream stop.
 */
export interface LogReader {
  open(ref: ObjectRef, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

export interface PublishFailure {
  readonly alert: Alert;
  /** An error code and message from the publisher; never alert contents. */
  readonly reason: string;
  /**
   * True when the publisher cannot tell whether the message went out (a timeout, a lost
   * connection): its claim is kept until the lease runs out rather than released.
   */
  readonly ambiguous?: boolean;
}

export interface PublishOutcome {
  readonly published: readonly Alert[];
  readonly failed: readonly PublishFailure[];
}

/** Delivers alerts. Reports per-alert failures instead of throwing, so one bad alert never hides the others. */
export interface AlertPublisher {
  publish(alerts: readonly Alert[]): Promise<PublishOutcome>;
}

/** Structured logging: a short lowercase message, facts in fields, never record payloads. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What claiming a set of keys found, key by key. */
export interface ClaimOutcome {
  /** Claimed for this owner: publish them, then mark them sent (or release them on failure). */
  readonly claimed: readonly string[];
  /** Already published by an earlier invocation: skip. */
  readonly sent: readonly string[];
  /** Claimed by another invocation whose lease is still running: neither publish nor skip; retry later. */
  readonly busy: readonly string[];
  /** Claims taken over from an owner whose lease had run out (it may have died after publishing). */
  readonly takenOver: number;
  /** Keys the store could not answer for (it failed part-way), and why; the caller fails open for them. */
  readonly unknown?: readonly string[];
  readonly error?: unknown;
}

/**
 * Remembers which alerts were published, across invocations, so a Lambda retry, a repeated or
 * concurrent S3 notification re-sends nothing that went out. The guarantee it serves: at most one
 * publish per key, except when an owner dies (or its publish times out) between publishing and
 * marking: its lease runs out and the next attempt publishes again. Keys are `dedupeKey`s.
 * Every method throws when the store is unreachable.
 */
export interface DedupeStore {
  /** Claims each key for `owner` with a lease, unless it was sent or another live owner holds it. */
  claim(keys: readonly string[], owner: string): Promise<ClaimOutcome>;
  /** Marks keys sent after their alerts were published; returns how many another owner had taken over meanwhile. */
  markSent(keys: readonly string[], owner: string): Promise<{ raced: number }>;
  /** Gives up claims whose publish failed, so a retry can claim them at once. */
  release(keys: readonly string[], owner: string): Promise<void>;
  /** Adds an event to a burst shared by every invocation and returns how many distinct events it holds (the real-time path's storm control). */
  countBurst?(key: string, eventId: string): Promise<number>;
}
