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
  constructor(message = 'not a CloudTrail log: expected {"Records": [...]}, a CloudTrail record or an EventBridge "AWS API Call via CloudTrail" event') {
    super(message);
    this.name = 'NotCloudTrailError';
  }
}

/** The text is not JSON at all where it starts (a README, a binary, a gzip of something else), or not in UTF-8. */
export class NotJsonError extends LogFormatError {
  constructor(message: string) {
    super(message);
    this.name = 'NotJsonError';
  }
}

/** The bytes break JSON's syntax where a streaming reader found it: `offset` in the decompressed input. */
export class InvalidJsonError extends LogFormatError {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'InvalidJsonError';
  }
}

/**
 * An event the function receives (an S3 notification, SNS, SQS, EventBridge `Object Created`)
 * given where a CloudTrail log was expected: it names log files, it holds none of their records.
 */
export class LambdaEventError extends NotCloudTrailError {
  constructor(readonly kind: string) {
    super(`${kind}, which names log files for the function to read, not a CloudTrail log: run it with \`acm-sentinel invoke FILE\``);
    this.name = 'LambdaEventError';
  }
}

/** What reached its cap: a size in bytes, or a count of JSON values (which is what parsing costs). */
export type SizeMeasure = 'bytes' | 'values';

/** `8 MiB` for whole mebibytes, `250,000 JSON values` for a count. */
function limitText(limit: number, measure: SizeMeasure): string {
  if (measure === 'values') return `${limit.toLocaleString('en-US')} JSON values`;
  return limit % 1024 ** 2 === 0 ? `${limit / 1024 ** 2} MiB` : `${limit} bytes`;
}

const NOT_CLOUDTRAIL = 'this file is not a CloudTrail log or is damaged; check what wrote it to the bucket';

/**
 * One element of the `Records` array reached the most the scanner holds or parses for a record
 * (MAX_RECORD_BYTES, MAX_PARSED_VALUES): the file fails there, before the rest is read. Says
 * where the record starts, never what it holds.
 */
export class RecordSizeError extends LogFormatError {
  constructor(
    readonly limit: number,
    readonly measure: SizeMeasure,
    readonly offset: number,
  ) {
    super(
      `a single record reaches the limit of ${limitText(limit, measure)} (the record starting at byte ${offset}); ` +
        `CloudTrail records are a few KB: ${NOT_CLOUDTRAIL}`,
    );
    this.name = 'RecordSizeError';
  }
}

/**
 * A part of the file that is parsed whole reached MAX_DOCUMENT_BYTES or MAX_PARSED_VALUES: a
 * document that does not start with `{"Records":[` (`whole`), or what follows the `Records`
 * array (`after-records`). The file fails there, before the rest is read.
 */
export class DocumentSizeError extends LogFormatError {
  constructor(
    readonly limit: number,
    readonly measure: SizeMeasure,
    readonly part: 'whole' | 'after-records',
  ) {
    const limitOf = limitText(limit, measure);
    super(
      part === 'whole'
        ? `a document that does not start with {"Records":[ reaches the limit of ${limitOf} for one read whole; ` +
            `CloudTrail log files start with {"Records":[ and a single record or EventBridge event is a few KB: ${NOT_CLOUDTRAIL}`
        : `the data after the Records array reaches the limit of ${limitOf}; ` +
            `CloudTrail log files end with the array's closing ]}: ${NOT_CLOUDTRAIL}`,
    );
    this.name = 'DocumentSizeError';
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

/** The longest CloudTrailEvent string read: CloudTrail's records are a few KB, and 256 Ki characters hold at most 128 Ki JSON values. */
const MAX_LOOKUP_EVENT_CHARS = 256 * 1024;

/** An entry of `lookup-events` output whose record cannot be read; the reader names it by its place (1-based), never by its contents. */
export class UnreadableEntry {
  constructor(readonly index: number) {}
}

/**
 * The record inside one entry of `aws cloudtrail lookup-events` output: `CloudTrailEvent` is the
 * record as a JSON string (as `jq` may leave it, an object, or a string encoded twice).
 */
export function lookupEventRecord(entry: unknown, index: number): unknown {
  let event = isObject(entry) ? entry.CloudTrailEvent : undefined;
  // A record is a few KB; a longer string could hide more JSON values (as \u002c) than a parse may build.
  for (let decoded = 0; typeof event === 'string' && decoded < 2; decoded += 1) {
    if (event.length > MAX_LOOKUP_EVENT_CHARS) return new UnreadableEntry(index + 1);
    try {
      event = JSON.parse(event);
    } catch {
      event = undefined;
    }
  }
  return isObject(event) ? event : new UnreadableEntry(index + 1);
}

const isLookupEvents = (document: Record<string, unknown>): boolean =>
  Array.isArray(document.Events) && (document.Events.length === 0 ? Object.keys(document).every((key) => key === 'Events' || key === 'NextToken') : document.Events.some((entry) => isObject(entry) && 'CloudTrailEvent' in entry));

/** A CloudTrail digest file: hashes of the log files of an hour, signed; no records. */
const isDigest = (document: Record<string, unknown>): boolean => 'digestStartTime' in document && 'logFiles' in document;

/**
 * The records of one parsed log document, in any of the shapes users meet: a CloudTrail log
 * file (`{"Records": [...]}`), `aws cloudtrail lookup-events` output (`{"Events": [{"CloudTrailEvent":
 * "<JSON>"}]}`), a bare record, records wrapped in EventBridge envelopes (alone or inside
 * `Records`), or an array of records (`jq -s`). Entries of `Records` that are not objects are
 * dropped; an unreadable lookup-events entry is an UnreadableEntry in its place.
 */
export function extractRecords(document: unknown): unknown[] {
  if (isObject(document) && Array.isArray(document.Records)) return document.Records.map(unwrapEnvelope);
  if (isObject(document) && isLookupEvents(document)) return (document.Events as unknown[]).map(lookupEventRecord);
  if (isObject(document) && isDigest(document)) throw new NotCloudTrailError('a CloudTrail digest file, not a log file');
  if (Array.isArray(document) && document.length > 0) {
    const records = document.map(unwrapEnvelope);
    if (records.every((record) => isObject(record) && typeof record.eventSource === 'string')) return records;
  }
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
