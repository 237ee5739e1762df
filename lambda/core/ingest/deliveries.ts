/**
 * Every way a log file's arrival reaches the function, unwrapped to the objects it names:
 *
 * - an S3 event notification (`Records[].s3`), S3 → Lambda;
 * - an EventBridge `Object Created` event from S3 (`source` `aws.s3`);
 * - a CloudTrail delivery notification (`{"s3Bucket", "s3ObjectKey": [...]}`), CloudTrail → SNS;
 * - any of these inside SNS (`Records[].Sns.Message`, SNS → Lambda, or the SNS envelope
 *   `{"Type": "Notification", "Message"}` that SNS puts in an SQS message);
 * - SQS messages carrying any of the above, one delivery per message, so one failing message
 *   retries alone (partial batch responses);
 * - an EventBridge `AWS API Call via CloudTrail` event: one CloudTrail record, the real-time path
 *   (directly, or in SQS).
 *
 * Anything else is refused with an error that names the shape it saw.
 */
import { UnsupportedEventError } from '../../errors';
import type { CloudTrailRecord, ObjectRef } from '../types';
import { decodeS3Key, skipReasonForKey, type ObjectRefs, type SkippedObject } from './s3-event';

/** The objects one delivery names: the whole event, or one SQS message of a batch. */
export interface Delivery extends Unwrapped {
  /** How the objects arrived, outermost first, e.g. `sqs > sns > s3-notification`. */
  readonly shape: string;
  /** The SQS message id, for a batch's partial failure response. */
  readonly messageId?: string;
  /** Why this SQS message could not be understood; its objects are unknown and it is reported as failed. */
  readonly error?: string;
}

/** What one document holds: log objects to read, or CloudTrail records that arrived in real time. */
interface Unwrapped extends ObjectRefs {
  readonly shape: string;
  /** Records of `AWS API Call via CloudTrail` events, each the event's `detail`. */
  readonly records: readonly CloudTrailRecord[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const recordsOf = (doc: Json): unknown[] => (Array.isArray(doc.Records) ? doc.Records : []);

/** Nesting deeper than this (SNS in SQS in SNS…) is not something AWS produces. */
const MAX_WRAPPING = 4;

/**
 * A key as an error message may show it: a name like `Records` or `detail-type`. Anything else
 * (long, digit-laden, with other characters) may be a secret pasted where a key goes, and is
 * shown by its length only.
 */
function shownKey(key: string): string {
  const digits = key.replace(/[^0-9]/g, '').length;
  return /^[A-Za-z][A-Za-z0-9_-]{0,23}$/.test(key) && digits <= 3 ? `"${key}"` : `a key of ${key.length} characters`;
}

/** A short, inert description of a document for an error message: its kind and first few keys. */
export function describeShape(doc: unknown): string {
  if (Array.isArray(doc)) return 'a JSON array';
  if (!isObject(doc)) return doc === null ? 'null' : `a JSON ${typeof doc}`;
  const keys = Object.keys(doc);
  if (keys.length === 0) return 'an empty JSON object';
  const shown = keys.slice(0, 6).map(shownKey);
  return `an object with keys ${shown.join(', ')}${keys.length > 6 ? `, … (${keys.length} in all)` : ''}`;
}

const ACCEPTED =
  'acm-sentinel accepts S3 event notifications, EventBridge "Object Created" events from S3, CloudTrail delivery notifications (through SNS), EventBridge "AWS API Call via CloudTrail" events, and any of them inside SNS or SQS';

/** The objects a document names, or an UnsupportedEventError naming what it is instead. */
function unwrap(doc: unknown, path: string[], depth: number): Unwrapped {
  const shape = (name: string) => [...path, name].join(' > ');
  const refuse = (what: string): never => {
    throw new UnsupportedEventError(`${path.length ? `${path.join(' > ')}: ` : ''}${what}. ${ACCEPTED}.`);
  };
  if (depth > MAX_WRAPPING) refuse('events nested more than 4 deep');
  if (!isObject(doc)) return refuse(`not an event: ${describeShape(doc)}`);

  const none = { refs: [], skipped: [], testEvent: false, records: [] };
  if (doc.Event === 's3:TestEvent') return { ...none, testEvent: true, shape: shape('s3-test-event') };

  const records = recordsOf(doc);
  const first = records.find(isObject);
  if (first && (isObject(first.s3) || first.eventSource === 'aws:s3')) return { ...none, ...s3NotificationRefs(records), shape: shape('s3-notification') };
  if (first && (first.EventSource === 'aws:sns' || isObject(first.Sns))) {
    return merge(records.map((record, i) => {
      const message = isObject(record) && isObject(record.Sns) ? record.Sns.Message : undefined;
      return unwrap(parseJson(message, `SNS record ${i + 1}: its Message`, refuse), [...path, 'sns'], depth + 1);
    }), shape('sns'));
  }
  if (doc.Type === 'Notification' && typeof doc.Message === 'string') {
    return unwrap(parseJson(doc.Message, 'the SNS notification\'s Message', refuse), [...path, 'sns'], depth + 1);
  }
  if (typeof doc.s3Bucket === 'string' && Array.isArray(doc.s3ObjectKey)) return { ...none, ...cloudTrailNotificationRefs(doc.s3Bucket, doc.s3ObjectKey), shape: shape('cloudtrail-notification') };
  if (doc.source === 'aws.s3' && doc['detail-type'] === 'Object Created') return { ...none, ...eventBridgeObjectRefs(doc), shape: shape('eventbridge-object-created') };
  if (doc['detail-type'] === 'AWS API Call via CloudTrail') {
    if (!isObject(doc.detail)) return refuse('an EventBridge "AWS API Call via CloudTrail" event without its CloudTrail record (detail)');
    return { ...none, records: [doc.detail as unknown as CloudTrailRecord], shape: shape('eventbridge-cloudtrail') };
  }
  if (first && typeof first.eventName === 'string' && typeof first.eventSource === 'string' && first.eventSource.endsWith('.amazonaws.com')) {
    return refuse('a CloudTrail log (Records of API calls), not an event that names log files; scan it with `acm-sentinel scan FILE`');
  }
  if (typeof doc.eventName === 'string' && typeof doc.eventSource === 'string' && doc.eventSource.endsWith('.amazonaws.com')) {
    return refuse('a CloudTrail record, not an event that names log files; scan it with `acm-sentinel scan FILE`');
  }
  if (Array.isArray(doc.Events) && doc.Events.some((entry) => isObject(entry) && 'CloudTrailEvent' in entry)) {
    return refuse('aws cloudtrail lookup-events output, not an event that names log files; scan it with `acm-sentinel scan FILE`');
  }
  if (first && (first.eventSource === 'aws:sqs' || 'receiptHandle' in first)) return refuse('SQS messages nested inside another event');
  return refuse(`not an event acm-sentinel handles: ${describeShape(doc)}`);
}

function parseJson(text: unknown, what: string, refuse: (what: string) => never): unknown {
  if (typeof text !== 'string') return refuse(`${what} is missing or not text`);
  try {
    return JSON.parse(text);
  } catch {
    return refuse(`${what} is not JSON`);
  }
}

function merge(parts: Unwrapped[], shape: string): Unwrapped {
  return {
    refs: parts.flatMap((part) => part.refs),
    skipped: parts.flatMap((part) => part.skipped),
    records: parts.flatMap((part) => part.records),
    testEvent: parts.length > 0 && parts.every((part) => part.testEvent),
    shape: parts.length === 1 ? parts[0]!.shape : shape,
  };
}

/** One object: to scan, or skipped with its reason. Empty objects and non-log keys are skipped. */
function classify(bucket: unknown, key: unknown, size: unknown, refs: ObjectRef[], skipped: SkippedObject[]): void {
  if (typeof bucket !== 'string' || typeof key !== 'string' || bucket === '' || key === '') {
    skipped.push({ bucket: typeof bucket === 'string' ? bucket : '?', key: typeof key === 'string' ? key : '?', reason: 'malformed-record' });
    return;
  }
  const reason = size === 0 ? 'empty-object' : skipReasonForKey(key);
  if (reason) skipped.push({ bucket, key, reason });
  else refs.push(typeof size === 'number' ? { bucket, key, size } : { bucket, key });
}

/** S3 event notification records; their keys are URL-encoded with `+` for spaces. */
function s3NotificationRefs(records: unknown[]): ObjectRefs {
  const refs: ObjectRef[] = [];
  const skipped: SkippedObject[] = [];
  for (const record of records) {
    const s3 = isObject(record) && isObject(record.s3) ? record.s3 : {};
    const bucket = isObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = isObject(s3.object) ? s3.object : {};
    classify(bucket, typeof object.key === 'string' ? decodeS3Key(object.key) : object.key, object.size, refs, skipped);
  }
  return { refs, skipped, testEvent: false };
}

/** CloudTrail's own notification lists the keys it just wrote, as they are (not URL-encoded). */
function cloudTrailNotificationRefs(bucket: string, keys: unknown[]): ObjectRefs {
  const refs: ObjectRef[] = [];
  const skipped: SkippedObject[] = [];
  for (const key of keys) classify(bucket, key, undefined, refs, skipped);
  return { refs, skipped, testEvent: false };
}

/** S3's EventBridge events carry the key as it is (not URL-encoded, unlike event notifications). */
function eventBridgeObjectRefs(doc: Json): ObjectRefs {
  const detail = isObject(doc.detail) ? doc.detail : {};
  const object = isObject(detail.object) ? detail.object : {};
  const refs: ObjectRef[] = [];
  const skipped: SkippedObject[] = [];
  classify(isObject(detail.bucket) ? detail.bucket.name : undefined, object.key, object.size, refs, skipped);
  return { refs, skipped, testEvent: false };
}

/** True for an event Lambda's SQS event source mapping delivers. */
export function isSqsBatch(event: unknown): boolean {
  if (!isObject(event)) return false;
  const records = recordsOf(event);
  return records.length > 0 && records.every((record) => isObject(record) && record.eventSource === 'aws:sqs');
}

const EVENT_KINDS: Readonly<Record<string, string>> = {
  's3-test-event': 'an S3 test event',
  's3-notification': 'an S3 event notification',
  sns: 'an SNS notification',
  'cloudtrail-notification': "CloudTrail's delivery notification",
  'eventbridge-object-created': 'an EventBridge "Object Created" event from S3',
  sqs: 'an SQS batch',
};

/**
 * What kind of Lambda event the document is when it names log files for the function to read
 * (S3, SNS, SQS, EventBridge `Object Created`, CloudTrail's notification), in words; undefined
 * for anything else, a CloudTrail record in an EventBridge envelope included.
 */
export function lambdaEventKind(doc: unknown): string | undefined {
  if (isSqsBatch(doc)) return EVENT_KINDS.sqs;
  try {
    return EVENT_KINDS[unwrap(doc, [], 0).shape.split(' > ')[0]!];
  } catch {
    return undefined;
  }
}

/**
 * The deliveries an invocation's event holds: one per SQS message for an SQS batch (a message
 * that cannot be understood becomes a delivery with an `error`, so the others still go
 * through), else one for the whole event. Throws UnsupportedEventError, naming the shape, for an
 * event that is none of the accepted kinds.
 */
export function deliveriesOf(event: unknown): Delivery[] {
  if (!isSqsBatch(event)) return [unwrap(event, [], 0)];
  return recordsOf(event as Json).map((record, i) => {
    const message = record as Json;
    const messageId = typeof message.messageId === 'string' ? message.messageId : `message-${i + 1}`;
    try {
      let body: unknown;
      try {
        body = JSON.parse(String(message.body));
      } catch {
        throw new UnsupportedEventError(`sqs: the message body is not JSON. ${ACCEPTED}.`);
      }
      return { ...unwrap(body, ['sqs'], 1), messageId };
    } catch (err) {
      if (!(err instanceof UnsupportedEventError)) throw err;
      return { refs: [], skipped: [], testEvent: false, records: [], shape: 'sqs', messageId, error: `SQS message ${messageId}: ${err.message}` };
    }
  });
}
