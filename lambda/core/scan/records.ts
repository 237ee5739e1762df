import { WATCHED_EVENT_SOURCES, type CloudTrailRecord } from '../types';

/** A log document that holds no CloudTrail records in any shape acm-sentinel accepts. */
export class LogFormatError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LogFormatError';
  }
}

/** Valid JSON that is not CloudTrail at all (an S3 event, a digest file, some other document). */
export class NotCloudTrailError extends LogFormatError {
  constructor() {
    super('not a CloudTrail log: expected {"Records": [...]}, a CloudTrail record or an EventBridge "AWS API Call via CloudTrail" event');
    this.name = 'NotCloudTrailError';
  }
}

const ENVELOPE_DETAIL_TYPE = 'AWS API Call via CloudTrail';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Unwraps an EventBridge envelope (`detail-type: "AWS API Call via CloudTrail"`) to its record. */
export function unwrapEnvelope(value: unknown): unknown {
  if (isObject(value) && value['detail-type'] === ENVELOPE_DETAIL_TYPE && isObject(value.detail)) return value.detail;
  return value;
}

/**
 * The records of one parsed log document, in any of the shapes users meet: a CloudTrail log
 * file (`{"Records": [...]}`), a bare record, or records wrapped in EventBridge envelopes
 * (alone or inside `Records`). Entries that are not objects are dropped.
 */
export function extractRecords(document: unknown): unknown[] {
  if (isObject(document) && Array.isArray(document.Records)) return document.Records.map(unwrapEnvelope);
  const single = unwrapEnvelope(document);
  if (isObject(single) && typeof single.eventSource === 'string') return [single];
  throw new NotCloudTrailError();
}

/** True for a record of ACM or ACM Private CA, confirmed on the parsed object. */
export function isWatchedRecord(record: unknown): record is CloudTrailRecord {
  return (
    isObject(record) &&
    typeof record.eventSource === 'string' &&
    WATCHED_EVENT_SOURCES.includes(record.eventSource) &&
    typeof record.eventName === 'string'
  );
}
