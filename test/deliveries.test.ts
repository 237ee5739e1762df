import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { deliveriesOf } from '../lambda/core/ingest/deliveries';
import { decodeS3Key, skipReasonForKey } from '../lambda/core/ingest/s3-event';
import { ROOT } from './support';

/** The one delivery of an event that is not an SQS batch. */
const toObjectRefs = (event: unknown) => {
  const [delivery, ...rest] = deliveriesOf(event);
  expect(rest).toEqual([]);
  return { refs: delivery!.refs, skipped: delivery!.skipped, testEvent: delivery!.testEvent };
};
const sample = (name: string): unknown => JSON.parse(readFileSync(path.join(ROOT, 'events', name), 'utf8'));
const refsOf = (event: unknown) => deliveriesOf(event).flatMap((delivery) => delivery.refs);

const LOG = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/111122223333_CloudTrail_us-east-1_20250314T0850Z_a1b2c3d4e5f6g7h8.json.gz';

const s3Record = (key: string, size = 1234, bucket = 'trail-bucket') => ({
  eventSource: 'aws:s3',
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: bucket }, object: { key, size } },
});

describe('S3 event notifications to object refs', () => {
  it('turns every record of the event into an object ref', () => {
    const { refs, skipped } = toObjectRefs({ Records: [s3Record(LOG), s3Record(LOG.replace('0850Z', '0855Z'), 99)] });
    expect(refs).toEqual([
      { bucket: 'trail-bucket', key: LOG, size: 1234 },
      { bucket: 'trail-bucket', key: LOG.replace('0850Z', '0855Z'), size: 99 },
    ]);
    expect(skipped).toEqual([]);
  });

  it('URL-decodes keys, with + as a space and %2B as a plus', () => {
    expect(decodeS3Key('my+prefix/AWSLogs/a%2Bb%20c.json.gz')).toBe('my prefix/AWSLogs/a+b c.json.gz');
    expect(decodeS3Key('caf%C3%A9')).toBe('café');
    expect(decodeS3Key('bad%E0%A4%A')).toBe('bad%E0%A4%A');
  });

  it('accepts organization-trail keys and keys under a prefix', () => {
    expect(skipReasonForKey('AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/eu-west-1/2025/03/14/f.json.gz')).toBeUndefined();
    expect(skipReasonForKey('my prefix/AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/f.json.gz')).toBeUndefined();
  });

  it.each([
    ['digest-file', 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/14/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20250314T085000Z.json.gz'],
    ['digest-file', 'AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail-Digest/eu-west-1/2025/03/14/d.json.gz'],
    ['insights-file', 'AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2025/03/14/i.json.gz'],
    ['not-a-cloudtrail-log', 'AWSLogs/111122223333/elasticloadbalancing/us-east-1/2025/03/14/lb.log.gz'],
    ['not-a-cloudtrail-log', 'AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile'.replace('CloudTrail/', '')],
    ['not-a-cloudtrail-log', 'reports/summary.json.gz'],
  ])('skips a %s: %s', (reason, key) => {
    const { refs, skipped } = toObjectRefs({ Records: [s3Record(key)] });
    expect(refs).toEqual([]);
    expect(skipped).toEqual([{ bucket: 'trail-bucket', key, reason }]);
  });

  it('skips 0-byte objects', () => {
    expect(toObjectRefs({ Records: [s3Record(LOG, 0)] }).skipped).toEqual([{ bucket: 'trail-bucket', key: LOG, reason: 'empty-object' }]);
  });

  it('skips digest files and still processes the other objects of the event', () => {
    const digest = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/14/d.json.gz';
    const { refs, skipped } = toObjectRefs({ Records: [s3Record(digest), s3Record(LOG), { s3: { bucket: {} } }] });
    expect(refs.map((ref) => ref.key)).toEqual([LOG]);
    expect(skipped.map((skip) => skip.reason)).toEqual(['digest-file', 'malformed-record']);
  });

  it('treats s3:TestEvent as a no-op', () => {
    expect(toObjectRefs({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'trail-bucket' })).toEqual({ refs: [], skipped: [], testEvent: true });
  });

});

describe('every shape a log file\'s arrival takes', () => {
  const s3Put = refsOf(sample('s3-put.json'));
  const logFiles = s3Put.filter((ref) => ref.key.includes('/CloudTrail/'));

  it.each([
    ['sns-s3-put.json', 'sns > s3-notification', 's3-put.json'],
    ['sns-cloudtrail-notification.json', 'sns > cloudtrail-notification', 's3-put.json'],
    ['sqs-s3-put.json', 'sqs > s3-notification', 's3-put.json'],
    ['eventbridge-object-created.json', 'eventbridge-object-created', 's3-put-single.json'],
  ])('events/%s (%s) names the same log files as events/%s', (name, shape, plain) => {
    const deliveries = deliveriesOf(sample(name));
    expect(deliveries.map((delivery) => delivery.shape)).toEqual([shape]);
    const expected = refsOf(sample(plain)).filter((ref) => ref.key.includes('/CloudTrail/'));
    // CloudTrail's own notification carries no sizes.
    expect(refsOf(sample(name)).map(({ bucket, key }) => ({ bucket, key }))).toEqual(expected.map(({ bucket, key }) => ({ bucket, key })));
  });

  it('unwraps an SQS batch into one delivery per message, each with its message id and shape', () => {
    const deliveries = deliveriesOf(sample('sqs-mixed.json'));
    expect(deliveries.map((delivery) => [delivery.shape, delivery.messageId?.slice(-1), delivery.refs.map((ref) => ref.key)])).toEqual([
      ['sqs > eventbridge-object-created', '0', [logFiles[0]!.key]],
      ['sqs > sns > s3-notification', '1', [logFiles[1]!.key]],
      ['sqs > sns > cloudtrail-notification', '2', [logFiles[2]!.key]],
    ]);
  });

  it('takes EventBridge and CloudTrail keys as they are, and URL-decodes only S3 notification keys', () => {
    const key = 'my prefix/AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/a+b%20c.json.gz';
    const eventBridge = { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key, size: 10 } } };
    expect(refsOf(eventBridge)).toEqual([{ bucket: 'b', key, size: 10 }]);
    expect(refsOf({ s3Bucket: 'b', s3ObjectKey: [key] })).toEqual([{ bucket: 'b', key }]);
    expect(refsOf({ Records: [s3Record('my+prefix/AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/a%2Bb%2520c.json.gz', 10, 'b')] })).toEqual([{ bucket: 'b', key, size: 10 }]);
  });

  it('skips digest files and empty objects whatever the shape', () => {
    const digest = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/14/d.json.gz';
    expect(deliveriesOf({ s3Bucket: 'b', s3ObjectKey: [digest, LOG] })[0]).toMatchObject({ refs: [{ key: LOG }], skipped: [{ key: digest, reason: 'digest-file' }] });
    const empty = { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: LOG, size: 0 } } };
    expect(deliveriesOf(empty)[0]).toMatchObject({ refs: [], skipped: [{ key: LOG, reason: 'empty-object' }] });
  });

  it('treats the S3 test event as a no-op inside SNS and SQS too', () => {
    const test = { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' };
    expect(deliveriesOf({ Type: 'Notification', Message: JSON.stringify(test) })[0]!.testEvent).toBe(true);
    expect(deliveriesOf({ Records: [{ eventSource: 'aws:sqs', messageId: 'm1', body: JSON.stringify(test) }] })[0]).toMatchObject({ testEvent: true, messageId: 'm1' });
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown object', { foo: 'bar' }, /not an event acm-sentinel handles: an object with keys "foo"\. acm-sentinel accepts S3 event notifications/],
    ['an empty object', {}, /an empty JSON object/],
    ['null', null, /not an event: null/],
    ['an array', [1, 2], /not an event: a JSON array/],
    ['a CloudTrail log file', { Records: [{ eventVersion: '1.09', eventSource: 'acm.amazonaws.com', eventName: 'ExportCertificate' }] }, /a CloudTrail log .*acm-sentinel scan FILE/],
    ['a real-time CloudTrail event without its record', { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.acm' }, /"AWS API Call via CloudTrail" event without its CloudTrail record/],
    ['an SNS record whose message is not JSON', { Records: [{ EventSource: 'aws:sns', Sns: { Message: 'hello' } }] }, /SNS record 1: its Message is not JSON/],
    ['a key name made of control characters, by its length only', { '\u001b[2J\n': 1 }, /keys a key of 5 characters\./],
    ['a secret pasted as a key, by its length only', { 'password=Hunter2Hunter2': 1, sQj8GgUApB7xK2mN9pL4qR7tV0h5udVUoI: 2 }, /keys a key of 23 characters, a key of 34 characters\./],
  ])('refuses %s, naming what it saw', (_name, event, message) => {
    expect(() => deliveriesOf(event)).toThrow(message);
  });

  it.each([
    ['eventbridge-realtime-export.json', 'eventbridge-cloudtrail'],
    ['eventbridge-export-certificate-example.json', 'eventbridge-cloudtrail'],
  ])('takes the CloudTrail record out of the real-time event events/%s', (name, shape) => {
    const [delivery] = deliveriesOf(sample(name));
    expect(delivery).toMatchObject({ shape, refs: [], records: [expect.objectContaining({ eventSource: 'acm.amazonaws.com', eventName: 'ExportCertificate' })] });
    const inSqs = deliveriesOf({ Records: [{ eventSource: 'aws:sqs', messageId: 'm1', body: JSON.stringify(sample(name)) }] });
    expect(inSqs.map((d) => [d.shape, d.records.length])).toEqual([[`sqs > ${shape}`, 1]]);
  });

  it('keeps the other messages of an SQS batch when one cannot be understood', () => {
    const batch = {
      Records: [
        { eventSource: 'aws:sqs', messageId: 'good', body: JSON.stringify({ Records: [s3Record(LOG)] }) },
        { eventSource: 'aws:sqs', messageId: 'not-json', body: '{' },
        { eventSource: 'aws:sqs', messageId: 'odd', body: JSON.stringify({ hello: 'world' }) },
      ],
    };
    expect(deliveriesOf(batch).map((delivery) => [delivery.messageId, delivery.refs.length, delivery.error ?? null])).toEqual([
      ['good', 1, null],
      ['not-json', 0, expect.stringMatching(/^SQS message not-json: sqs: the message body is not JSON/)],
      ['odd', 0, expect.stringMatching(/^SQS message odd: sqs: not an event acm-sentinel handles: an object with keys "hello"/)],
    ]);
  });
});
