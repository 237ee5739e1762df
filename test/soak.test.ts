/**
 * Soak: 200 generated log files through the core the handler runs, with real SDK clients against
 * the S3/SNS/SQS emulator and a DynamoDB-compatible server, random faults injected into S3 and
 * SNS calls (seeded, so a failure replays), duplicate S3 notifications, and Lambda-style retries
 * of every failed invocation. It ends with every expected alert delivered exactly once.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient, type PublishBatchCommandInput } from '@aws-sdk/client-sns';
import { gzipSync } from 'node:zlib';
import { DynamoDbDedupeStore } from '../lambda/adapters/dynamodb-dedupe-store';
import { S3LogReader } from '../lambda/adapters/s3-log-reader';
import { SnsAlertPublisher } from '../lambda/adapters/sns-publisher';
import { failureOf, processEvent } from '../lambda/core/pipeline/process';
import type { Logger } from '../lambda/core/ports';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import { putObject, receiveDelivered, startSandbox, type LocalSandbox } from '../lambda/local/sandbox';
import { startDynamoDb, type LocalDynamoDb } from '../lambda/local/dynamodb-local';
import { record } from './support';

const FILES = 200;
const BUCKET = 'soak-trail';
const MAX_ATTEMPTS = 12;

/** A small seeded PRNG (mulberry32): the same faults on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let sandbox: LocalSandbox;
let dynamodb: LocalDynamoDb;
beforeAll(async () => {
  [sandbox, dynamodb] = await Promise.all([startSandbox(), startDynamoDb()]);
  await dynamodb.createDedupeTable('soak-dedupe');
});
afterAll(async () => {
  await Promise.all([sandbox?.stop(), dynamodb?.stop()]);
});

it('delivers every expected alert exactly once through faults, duplicate notifications and retries', async () => {
  const random = prng(20250314);
  const actions = ['DeleteCertificate', 'ExportCertificate', 'RevokeCertificate', 'ImportCertificate'];
  const expected: string[] = [];
  const keys: string[] = [];
  for (let f = 0; f < FILES; f += 1) {
    const records = Array.from({ length: 15 }, (_, r) => record({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', eventID: `noise-${f}-${r}` }));
    const alerts = Math.floor(random() * 4) + (f % 25 === 0 ? 7 : 0); // now and then a burst that storm control folds
    for (let a = 0; a < alerts; a += 1) {
      const eventID = `soak-${f}-${a}`;
      expected.push(eventID);
      records.splice(Math.floor(random() * records.length), 0, record({ eventID, eventName: actions[a % actions.length]! }));
    }
    const key = `AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/soak_${String(f).padStart(3, '0')}.json.gz`;
    keys.push(key);
    await putObject(sandbox, BUCKET, key, gzipSync(JSON.stringify({ Records: records })));
  }

  const env = sandbox.handlerEnv;
  const config = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const s3 = new S3Client({ ...config, endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, maxAttempts: 1 });
  const sns = new SNSClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_SNS, maxAttempts: 1 });
  let injected = 0;
  // Faults before the request leaves: S3 errors, and SNS either failing the call or failing some entries on its side.
  s3.middlewareStack.add(
    (next) => async (args) => {
      if (random() < 0.1) {
        injected += 1;
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'soakFaults' },
  );
  sns.middlewareStack.add(
    (next) => async (args) => {
      const roll = random();
      if (roll < 0.08) {
        injected += 1;
        throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
      }
      const input = args.input as PublishBatchCommandInput;
      if (roll < 0.2 && input.PublishBatchRequestEntries && input.PublishBatchRequestEntries.length > 1) {
        injected += 1;
        const dropped = input.PublishBatchRequestEntries.slice(-1);
        const result = await next({ ...args, input: { ...input, PublishBatchRequestEntries: input.PublishBatchRequestEntries.slice(0, -1) } });
        const output = result.output as { Failed?: unknown[] };
        output.Failed = [...(output.Failed ?? []), ...dropped.map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false, Message: 'injected' }))];
        return result;
      }
      return next(args);
    },
    { step: 'initialize', name: 'soakFaults' },
  );
  const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const ports = {
    reader: new S3LogReader(s3),
    publisher: new SnsAlertPublisher(sns, sandbox.topicArn, 1),
    logger: silent,
    dedupe: new DynamoDbDedupeStore(dynamodb.client, 'soak-dedupe'),
  };
  const engine = createRuleEngine(DEFAULT_RULE_CONFIG);

  // S3 events of 1 to 5 objects; every fifth event is delivered twice, as S3 may.
  const events: unknown[] = [];
  for (let i = 0; i < keys.length; ) {
    const size = 1 + Math.floor(random() * 5);
    const event = { Records: keys.slice(i, i + size).map((key) => ({ s3: { bucket: { name: BUCKET }, object: { key, size: 1 } } })) };
    events.push(event);
    if (events.length % 5 === 0) events.push(event);
    i += size;
  }
  let retries = 0;
  for (const event of events) {
    for (let attempt = 1; ; attempt += 1) {
      const failure = failureOf(await processEvent(ports, event, { engine }));
      if (!failure) break;
      retries += 1;
      if (attempt === MAX_ATTEMPTS) throw failure;
    }
  }

  const delivered = (await receiveDelivered(sandbox)).flatMap((d) => d.alert.storm?.eventIds ?? [d.alert.eventId]);
  expect(injected).toBeGreaterThan(20);
  expect(retries).toBeGreaterThan(10);
  expect(delivered.length).toBe(expected.length);
  expect([...delivered].sort()).toEqual([...expected].sort());
  s3.destroy();
  sns.destroy();
});
