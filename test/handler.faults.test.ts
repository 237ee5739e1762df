/**
 * Faults the emulator cannot produce, injected into the real handler's SDK clients:
 * S3 AccessDenied / NoSuchKey / KMS errors, a stream that breaks mid-file,
 * PublishBatch partial failures and throttling.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { record, s3Handler, type S3Handler } from './support';

const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:111122223333:acm-sentinel-alerts';
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/';
const event = (...keys: string[]) => ({ Records: keys.map((key) => ({ s3: { bucket: { name: 'trail' }, object: { key: `${PREFIX}${key}`, size: 10 } } })) });
const body = (bytes: Buffer) => Readable.from([bytes]);
const logWith = (...ids: string[]) => gzipSync(JSON.stringify({ Records: ids.map((id) => record({ eventID: id })) }));
const awsError = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 403 }, ...extra });

let handler: S3Handler;
const savedEnv = { ...process.env };

beforeAll(() => {
  // Storm folding off: these tests count one SNS entry per alert.
  Object.assign(process.env, { ACM_SENTINEL_CONFIG: JSON.stringify({ stormThreshold: 0 }), ALERT_TOPIC_ARN: TOPIC, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  handler = s3Handler();
});
afterAll(() => {
  process.env = savedEnv;
});
beforeEach(() => {
  s3Mock.reset();
  snsMock.reset();
  snsMock.on(PublishBatchCommand).callsFake((input) => ({ Successful: input.PublishBatchRequestEntries.map((e: { Id: string }) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] }));
});

describe('S3 read failures', () => {
  it.each([
    ['AccessDenied', awsError('AccessDenied', 'Access Denied'), /AccessDenied: Access Denied \(grant the function s3:GetObject/],
    ['NoSuchKey', awsError('NoSuchKey', 'The specified key does not exist.'), /NoSuchKey: .*\(the object is gone/],
    [
      'KMS AccessDenied',
      awsError('AccessDenied', 'User: arn:aws:sts::111122223333:assumed-role/fn/x is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext'),
      /\(grant the function kms:Decrypt on the key that encrypts the trail/,
    ],
  ])('%s on one object fails the invocation naming it, after publishing the other object\'s alerts', async (_, error, message) => {
    s3Mock.on(GetObjectCommand, { Key: `${PREFIX}bad.json.gz` }).rejects(error);
    s3Mock.on(GetObjectCommand, { Key: `${PREFIX}good.json.gz` }).resolves({ Body: body(logWith('good-1')) as never });
    await expect(handler(event('bad.json.gz', 'good.json.gz'))).rejects.toThrow(message);
    expect(snsMock).toHaveReceivedCommandTimes(PublishBatchCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishBatchCommand, { TopicArn: TOPIC, PublishBatchRequestEntries: [expect.objectContaining({ MessageStructure: 'json' })] });
  });

  it('a stream that breaks mid-file fails the invocation with the object named', async () => {
    const whole = logWith('a', 'b', 'c');
    const broken = new Readable({
      read() {
        this.push(whole.subarray(0, 20));
        this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
    });
    s3Mock.on(GetObjectCommand).resolves({ Body: broken as never });
    await expect(handler(event('broken.json.gz'))).rejects.toThrow(`s3://trail/${PREFIX}broken.json.gz: socket hang up`);
  });
});

describe('SNS publish failures', () => {
  beforeEach(() => {
    s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: body(logWith(...Array.from({ length: 12 }, (_, i) => `event-${i}`))) }));
  });

  it('publishes in batches of at most 10 entries', async () => {
    const summary = await handler(event('twelve.json.gz'));
    expect(summary.published).toBe(12);
    const sizes = snsMock.commandCalls(PublishBatchCommand).map((call) => call.args[0].input.PublishBatchRequestEntries!.length);
    expect(sizes).toEqual([10, 2]);
  });

  it('retries entries SNS failed on its side, and succeeds when they go through', async () => {
    let first = true;
    snsMock.on(PublishBatchCommand).callsFake((input) => {
      const entries = input.PublishBatchRequestEntries as Array<{ Id: string }>;
      const fail = first ? entries.slice(0, 2) : [];
      first = false;
      return {
        Successful: entries.filter((e) => !fail.includes(e)).map((e) => ({ Id: e.Id, MessageId: 'm' })),
        Failed: fail.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false, Message: 'try again' })),
      };
    });
    const summary = await handler(event('twelve.json.gz'));
    expect(summary.published).toBe(12);
    const calls = snsMock.commandCalls(PublishBatchCommand).map((call) => call.args[0].input.PublishBatchRequestEntries!.length);
    expect(calls).toEqual([10, 2, 2]);
  });

  it('still publishes the rest when some alerts keep failing, then fails the invocation with counts', async () => {
    snsMock.on(PublishBatchCommand).callsFake((input) => {
      const entries = input.PublishBatchRequestEntries as Array<{ Id: string; MessageAttributes: Record<string, { StringValue: string }> }>;
      const bad = entries.filter((e) => e.Id === 'alert-3');
      return {
        Successful: entries.filter((e) => !bad.includes(e)).map((e) => ({ Id: e.Id, MessageId: 'm' })),
        Failed: bad.map((e) => ({ Id: e.Id, Code: 'KMSAccessDenied', SenderFault: true, Message: 'key policy denies' })),
      };
    });
    await expect(handler(event('twelve.json.gz'))).rejects.toThrow(
      /1 of 1 log objects failed \(12 alerts found, 11 messages published\).*twelve\.json\.gz.*1 of 12 alerts could not be published \(KMSAccessDenied: key policy denies\)/,
    );
    // A sender fault is not retried: it would fail the same way.
    expect(snsMock).toHaveReceivedCommandTimes(PublishBatchCommand, 2);
  });

  it('fails the invocation when PublishBatch is still throttled after the SDK retries', async () => {
    snsMock.on(PublishBatchCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    await expect(handler(event('twelve.json.gz'))).rejects.toThrow(/12 alerts found, 0 messages published.*12 of 12 alerts could not be published \(Throttling: Rate exceeded\)/);
  });
});
