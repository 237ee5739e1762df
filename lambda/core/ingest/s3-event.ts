/**
 * Room `ingest/`: event shapes in, object references out. deliveries.ts unwraps every shape a
 * log file's arrival can take (S3, EventBridge, SNS, CloudTrail's notification, SQS); this file
 * holds what they share: which keys are CloudTrail log files to scan, and which are skipped
 * (digest and Insights files, empty objects, other keys), without reading any object.
 */
import type { ObjectRef } from '../types';

/** Why an object of an S3 event is not scanned. Skips are normal: they never fail an invocation. */
export type SkipReason = 'digest-file' | 'insights-file' | 'empty-object' | 'not-a-cloudtrail-log' | 'malformed-record';

export interface SkippedObject {
  readonly bucket: string;
  readonly key: string;
  readonly reason: SkipReason;
}

export interface ObjectRefs {
  readonly refs: ObjectRef[];
  readonly skipped: SkippedObject[];
  /** True for the `s3:TestEvent` S3 sends when a notification is configured. */
  readonly testEvent: boolean;
}

// [prefix/]AWSLogs/[o-orgid/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
const CLOUDTRAIL_LOG = /(^|\/)AWSLogs\/(o-[a-z0-9]{10,32}\/)?\d{12}\/CloudTrail\//;

/**
 * The S3 event notification S3 would send for one object, for callers that find objects by
 * listing (a look back, a backfill batch) and hand them to the same pipeline.
 */
export function s3EventFor(bucket: string, key: string, size?: number): { Records: unknown[] } {
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return { Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: bucket }, object: { key: encoded, ...(size === undefined ? {} : { size }) } } }] };
}

/** S3 event keys are URL-encoded with `+` for spaces. */
export function decodeS3Key(key: string): string {
  const spaced = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Classifies a decoded key: undefined for a CloudTrail log file to scan, else why it is skipped. */
export function skipReasonForKey(key: string): SkipReason | undefined {
  if (key.includes('/CloudTrail-Digest/')) return 'digest-file';
  if (key.includes('/CloudTrail-Insight/')) return 'insights-file';
  if (!CLOUDTRAIL_LOG.test(key)) return 'not-a-cloudtrail-log';
  return undefined;
}
