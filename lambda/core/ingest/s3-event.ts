/**
 * Room `ingest/`: event shapes in, object references out. An S3 event notification becomes the
 * log objects to scan and the ones to skip (digest and Insights files, empty objects, keys that
 * are not CloudTrail logs), without reading any object.
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

interface S3EventRecordLike {
  s3?: { bucket?: { name?: unknown }; object?: { key?: unknown; size?: unknown } };
}

/**
 * The log objects an S3 event notification names, with the ones to skip set apart. Each record
 * is judged alone, so one odd object never stops the others.
 */
export function toObjectRefs(event: unknown): ObjectRefs {
  const doc = (typeof event === 'object' && event !== null ? event : {}) as { Event?: unknown; Records?: unknown };
  if (doc.Event === 's3:TestEvent') return { refs: [], skipped: [], testEvent: true };
  const records: unknown[] = Array.isArray(doc.Records) ? doc.Records : [];
  const refs: ObjectRef[] = [];
  const skipped: SkippedObject[] = [];
  for (const record of records as S3EventRecordLike[]) {
    const bucket = record?.s3?.bucket?.name;
    const rawKey = record?.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof rawKey !== 'string') {
      skipped.push({ bucket: typeof bucket === 'string' ? bucket : '?', key: typeof rawKey === 'string' ? rawKey : '?', reason: 'malformed-record' });
      continue;
    }
    const key = decodeS3Key(rawKey);
    const size = record.s3?.object?.size;
    const reason = size === 0 ? 'empty-object' : skipReasonForKey(key);
    if (reason) skipped.push({ bucket, key, reason });
    else refs.push(typeof size === 'number' ? { bucket, key, size } : { bucket, key });
  }
  return { refs, skipped, testEvent: false };
}
