import type { Alert, ObjectRef } from './types';

/** Reads the raw bytes of a log object, as a stream. Throws when the object cannot be read. */
export interface LogReader {
  open(ref: ObjectRef): Promise<AsyncIterable<Uint8Array>>;
}

export interface PublishFailure {
  readonly alert: Alert;
  /** An error code and message from the publisher; never alert contents. */
  readonly reason: string;
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

/**
 * Remembers which alerts were already published, across invocations, so a Lambda retry or a
 * repeated S3 notification re-sends only what failed. Keys are `dedupeKey`s.
 */
export interface DedupeStore {
  /** The keys among `keys` that were already published. Throws when the store is unreachable. */
  findSent(keys: readonly string[]): Promise<Set<string>>;
  /** Records published keys; returns how many another invocation had recorded first. Throws when unreachable. */
  recordSent(keys: readonly string[]): Promise<{ raced: number }>;
}
