/**
 * No alert lost, none sent twice: the real handler against the S3/SNS/SQS emulator and a
 * DynamoDB-compatible server, across Lambda-style retries.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDbDedupeStore } from '../lambda/adapters/dynamodb-dedupe-store';
import { SnsAlertPublisher } from '../lambda/adapters/sns-publisher';
import { failureOf, processEvent } from '../lambda/core/pipeline/process';
import type { Logger, PublishOutcome } from '../lambda/core/ports';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import type { Alert } from '../lambda/core/types';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { putObject, receiveDelivered, startSandbox, type LocalSandbox } from '../lambda/local/sandbox';
import { startDynamoDb, type LocalDynamoDb } from '../lambda/local/dynamodb-local';
import { chunked, record, RECORDS_DIR, s3Handler, type S3Handler, s3RecordIn } from './support';

const BUCKET = 'trail-bucket';
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/';
const s3Record = s3RecordIn(BUCKET);
const logWith = (...ids: string[]) => gzipSync(JSON.stringify({ Records: ids.map((id, i) => record({ eventID: id, eventName: i % 2 ? 'ExportCertificate' : 'DeleteCertificate' })) }));

let sandbox: LocalSandbox;
let dynamodb: LocalDynamoDb;
let handler: S3Handler;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [sandbox, dynamodb] = await Promise.all([startSandbox(), startDynamoDb()]);
  await dynamodb.createDedupeTable('acm-sentinel-dedupe');
  Object.assign(process.env, sandbox.handlerEnv, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    DEDUPE_TABLE_NAME: 'acm-sentinel-dedupe',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  handler = s3Handler();
});
afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([sandbox?.stop(), dynamodb?.stop()]);
});
beforeEach(async () => {
  await receiveDelivered(sandbox);
});

describe('cross-invocation deduplication', () => {
  it('a repeated S3 notification sends nothing twice', async () => {
    await putObject(sandbox, BUCKET, `${PREFIX}once.json.gz`, logWith('once-1', 'once-2'));
    const first = await handler({ Records: [s3Record(`${PREFIX}once.json.gz`)] });
    const second = await handler({ Records: [s3Record(`${PREFIX}once.json.gz`)] });
    expect(first.published).toBe(2);
    expect(second).toMatchObject({ published: 0, objects: [expect.objectContaining({ alerts: 2, duplicates: 2 })] });
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId).sort()).toEqual(['once-1', 'once-2']);
  });

  it('a retry after a failed object re-sends exactly what failed', async () => {
    await putObject(sandbox, BUCKET, `${PREFIX}good.json.gz`, logWith('good-1', 'good-2'));
    const event = { Records: [s3Record(`${PREFIX}good.json.gz`), s3Record(`${PREFIX}late.json.gz`)] };
    await expect(handler(event)).rejects.toThrow(/late\.json\.gz: NoSuchKey/);
    await putObject(sandbox, BUCKET, `${PREFIX}late.json.gz`, logWith('late-1'));
    await handler(event); // Lambda's retry, once the object is readable
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId).sort()).toEqual(['good-1', 'good-2', 'late-1']);
  });

  it('an event recorded as sent before claims existed (an item without a state) is not sent again', async () => {
    await dynamodb.client.send(new PutItemCommand({ TableName: 'acm-sentinel-dedupe', Item: { pk: { S: 'legacy-1/DeleteCertificate' }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) } } }));
    await putObject(sandbox, BUCKET, `${PREFIX}legacy.json.gz`, logWith('legacy-1', 'legacy-2'));
    const summary = await handler({ Records: [s3Record(`${PREFIX}legacy.json.gz`)] });
    expect(summary.objects[0]).toMatchObject({ alerts: 2, duplicates: 1, published: 1 });
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId)).toEqual(['legacy-2']);
  });

  it('the sample records are recorded under the key the handler dedupes by', async () => {
    await putObject(sandbox, BUCKET, `${PREFIX}sample.json.gz`, gzipSync(readFileSync(path.join(RECORDS_DIR, 'acm-delete-certificate.json'))));
    await handler({ Records: [s3Record(`${PREFIX}sample.json.gz`)] });
    const store = new DynamoDbDedupeStore(dynamodb.client, 'acm-sentinel-dedupe');
    expect([...(await store.findSent(['01234567-89ab-cdef-0123-456789abcdef/DeleteCertificate', 'never/Seen']))]).toEqual([
      '01234567-89ab-cdef-0123-456789abcdef/DeleteCertificate',
    ]);
    await receiveDelivered(sandbox);
  });
});

describe('the core under faults', () => {
  const engine = createRuleEngine(DEFAULT_RULE_CONFIG);
  const messages: string[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, warn: (m) => messages.push(`warn ${m}`), error: (m) => messages.push(`error ${m}`) };
  const reader = (bodies: Record<string, Buffer>) => ({
    open: async (ref: { key: string }) => {
      if (!bodies[ref.key]) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: {} });
      return chunked(bodies[ref.key]!);
    },
  });
  const recordingPublisher = () => {
    const sent: Alert[] = [];
    return { sent, publish: async (alerts: readonly Alert[]): Promise<PublishOutcome> => (sent.push(...alerts), { published: alerts, failed: [] }) };
  };

  beforeEach(() => {
    messages.length = 0;
  });

  it('fails open when DynamoDB is unreachable: publishes, logs loudly, reports it', async () => {
    const unreachable = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const publisher = recordingPublisher();
    const result = await processEvent(
      { reader: reader({ [`${PREFIX}a.json.gz`]: logWith('a-1') }), publisher, logger, dedupe: new DynamoDbDedupeStore(unreachable, 'acm-sentinel-dedupe') },
      { Records: [s3Record(`${PREFIX}a.json.gz`)] },
      { engine },
    );
    expect(publisher.sent.map((a) => a.eventId)).toEqual(['a-1']);
    expect(result.dedupeUnavailable).toBe(true);
    expect(failureOf(result)).toBeUndefined();
    expect(messages).toEqual([
      expect.stringMatching(/^error dedupe store unavailable: publishing without cross-invocation deduplication/),
      expect.stringMatching(/^error dedupe store unavailable: published alerts were not recorded/),
    ]);
  });

  it('a publisher that throws on one object fails that object by name, and the next object is still published', async () => {
    const sent: Alert[] = [];
    let calls = 0;
    const flaky = {
      publish: async (alerts: readonly Alert[]): Promise<PublishOutcome> => {
        calls += 1;
        if (calls === 1) throw new TypeError('text.replace is not a function');
        sent.push(...alerts);
        return { published: alerts, failed: [] };
      },
    };
    const bodies = { [`${PREFIX}first.json.gz`]: logWith('first-1'), [`${PREFIX}second.json.gz`]: logWith('second-1') };
    const result = await processEvent({ reader: reader(bodies), publisher: flaky, logger }, { Records: Object.keys(bodies).map((key) => s3Record(key)) }, { engine });
    expect(sent.map((a) => a.eventId)).toEqual(['second-1']);
    expect(failureOf(result)?.message).toMatch(/1 of 2 log objects failed .*first\.json\.gz: 1 of 1 alerts could not be published \(publishing failed \(TypeError\)\)/);
    expect(failureOf(result)?.message).not.toContain('replace');
  });

  it('an alert SNS cannot render is reported failed, and the other alerts of the batch still go out through SNS', async () => {
    const alerts = (await processEvent(
      { reader: reader({ [`${PREFIX}r.json.gz`]: logWith('r-1', 'r-2') }), publisher: recordingPublisher(), logger },
      { Records: [s3Record(`${PREFIX}r.json.gz`)] },
      { engine },
    )).published;
    const broken = Object.defineProperty({ ...alerts[0]! }, 'actor', { get: () => { throw new RangeError('unrenderable'); }, enumerable: true });
    // The SDK's standard settings (AWS_ENDPOINT_URL_SNS, AWS_REGION) point it at the emulator.
    const publisher = new SnsAlertPublisher(new SNSClient({}), sandbox.topicArn);
    const outcome = await publisher.publish([broken, alerts[1]!]);
    expect(outcome.published.map((a) => a.eventId)).toEqual(['r-2']);
    expect(outcome.failed.map((f) => f.reason)).toEqual(['the message could not be rendered (RangeError)']);
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId)).toEqual(['r-2']);
  });

  it('stops starting new objects as the timeout approaches and fails naming the unfinished keys', async () => {
    const publisher = recordingPublisher();
    let remaining = 60_000;
    const bodies = { [`${PREFIX}1.json.gz`]: logWith('t-1'), [`${PREFIX}2.json.gz`]: logWith('t-2'), [`${PREFIX}3.json.gz`]: logWith('t-3') };
    const slowReader = { open: async (ref: { key: string }) => ((remaining -= 20_000), reader(bodies).open(ref)) };
    const result = await processEvent(
      { reader: slowReader, publisher, logger },
      { Records: Object.keys(bodies).map((key) => s3Record(key)) },
      { engine, remainingTimeMs: () => remaining, safetyMarginMs: 30_000 },
    );
    expect(publisher.sent.map((a) => a.eventId)).toEqual(['t-1', 't-2']);
    expect(failureOf(result)?.message).toMatch(/1 of 3 log objects failed .*3\.json\.gz: not started, the invocation was about to time out/);
  });
});
