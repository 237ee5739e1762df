/**
 * Sent once, lost never: the real handler in separate processes (two function instances) against
 * the S3/SNS/SQS emulator and one DynamoDB stand-in, counted at an SQS subscriber of the topic.
 * The delivery guarantee under test: at most one publish per event ID, except when an instance
 * dies between publishing and marking (its lease runs out and the retry publishes again).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDbDedupeStore } from '../lambda/adapters/dynamodb-dedupe-store';
import { SnsAlertPublisher } from '../lambda/adapters/sns-publisher';
import { processEvent } from '../lambda/core/pipeline/process';
import type { PublishOutcome } from '../lambda/core/ports';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import type { Alert } from '../lambda/core/types';
import { putObject, receiveDelivered, startSandbox, type DeliveredAlert, type LocalSandbox } from '../lambda/local/sandbox';
import { startDynamoDb, type LocalDynamoDb } from '../lambda/local/dynamodb-local';
import { record, ROOT, s3RecordIn } from './support';

const BUCKET = 'trail-bucket';
const s3Record = s3RecordIn(BUCKET);
const CHILD = path.join(ROOT, 'test', 'handler-instance.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-concurrency-'));
const LEASE_MS = 4_000;
const CLIENT = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

let sandbox: LocalSandbox;
let dynamodb: LocalDynamoDb;
let tables = 0;

beforeAll(async () => {
  [sandbox, dynamodb] = await Promise.all([startSandbox(), startDynamoDb()]);
});
afterAll(async () => {
  await Promise.all([sandbox?.stop(), dynamodb?.stop()]);
});

/** A log file of `count` alerting records, event IDs `${prefix}-0…`. */
const logOf = (prefix: string, count: number) =>
  gzipSync(JSON.stringify({ Records: Array.from({ length: count }, (_, i) => record({ eventID: `${prefix}-${i}`, eventName: i % 2 ? 'ExportCertificate' : 'DeleteCertificate' })) }));

async function eventFor(keys: string[]): Promise<string> {
  const file = path.join(dir, `event-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ Records: keys.map((key) => s3Record(key)) }));
  return file;
}

interface Outcome {
  ok: boolean;
  error?: string;
  summary?: { objects: Array<{ duplicates: number; published: number }> };
}

/** One function instance: started now, runs the handler when `go` is called. */
interface Instance {
  go(): void;
  readonly done: Promise<Outcome>;
  readonly child: ChildProcess;
}

async function startInstance(eventFile: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, eventFile], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  let ready: (started: boolean) => void;
  const isReady = new Promise<boolean>((resolve) => (ready = resolve));
  const done = new Promise<Outcome>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // Only whole lines: a line may arrive in pieces.
      const lines = output.split('\n').slice(0, -1);
      if (lines[0] === 'ready') ready(true);
      if (lines.length > 1) resolve(JSON.parse(lines[1]!) as Outcome);
    });
    child.on('exit', () => {
      ready(false);
      resolve({ ok: false, error: 'killed' });
    });
  });
  if (!(await isReady)) throw new Error('the function instance exited before it was ready');
  return { go: () => child.stdin!.write('go\n'), done, child };
}

/** The environment of a function instance, with its own dedupe table. */
async function instanceEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const table = `dedupe-${(tables += 1)}`;
  await dynamodb.createDedupeTable(table);
  return {
    ...sandbox.handlerEnv,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    DEDUPE_TABLE_NAME: table,
    DEDUPE_CLAIM_LEASE_MS: String(LEASE_MS),
    ACM_SENTINEL_CONFIG: JSON.stringify({ stormThreshold: 0 }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...overrides,
  };
}

/** How many times each event ID was delivered. */
const countsOf = (delivered: readonly DeliveredAlert[]) => {
  const counts = new Map<string, number>();
  for (const { alert } of delivered) counts.set(alert.eventId, (counts.get(alert.eventId) ?? 0) + 1);
  return counts;
};
const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs an instance to its end, then Lambda's retry of it while it fails (at most `retries` times). */
async function untilDone(eventFile: string, env: Record<string, string>, first: Outcome, retries = 3): Promise<Outcome> {
  let outcome = first;
  for (let i = 0; !outcome.ok && i < retries; i += 1) {
    const retry = await startInstance(eventFile, env);
    retry.go();
    outcome = await retry.done;
  }
  return outcome;
}

describe('two function instances at the same moment', () => {
  it.each([[0], [5], [20], [60]])('on one S3 event, started %i ms apart, deliver every alert exactly once (with the retry of the one that waits)', async (offset) => {
    const prefix = `same-${offset}`;
    const key = `AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/${prefix}.json.gz`;
    await putObject(sandbox, BUCKET, key, logOf(prefix, 40));
    const event = await eventFor([key]);
    const env = await instanceEnv();
    const [a, b] = await Promise.all([startInstance(event, env), startInstance(event, env)]);
    a.go();
    await sleep(offset);
    b.go();
    const outcomes = await Promise.all([a.done, b.done]);
    const finals = await Promise.all(outcomes.map((outcome) => untilDone(event, env, outcome)));
    expect(finals.map((o) => o.ok)).toEqual([true, true]);
    const counts = countsOf(await receiveDelivered(sandbox));
    expect([...counts.keys()].sort()).toEqual(ids(prefix, 40).sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // The two met: one found the other's claims (and said so, naming the object) or its sent marks.
    for (const outcome of outcomes.filter((o) => !o.ok)) expect(outcome.error).toMatch(new RegExp(`${prefix}\\.json\\.gz: .*being published by another invocation`));
    expect(outcomes.some((o) => !o.ok) || outcomes.some((o) => (o.summary?.objects[0]?.duplicates ?? 0) > 0)).toBe(true);
  });

  it('a real-time event and the log file that carries it, processed at the same moment, go out once', async () => {
    const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/raced.json.gz';
    await putObject(sandbox, BUCKET, key, logOf('raced', 20));
    const logEvent = await eventFor([key]);
    const env = await instanceEnv();
    // Real-time copies of 10 of the file's events, in one SQS batch as queue=true would deliver them.
    const realtimeFile = path.join(dir, 'realtime-batch.json');
    const copies = JSON.parse(gunzipSync(logOf('raced', 20)).toString('utf8')).Records.slice(0, 10) as Array<{ eventID: string }>;
    writeFileSync(realtimeFile, JSON.stringify({
      Records: copies.map((detail) => ({ eventSource: 'aws:sqs', messageId: `m-${detail.eventID}`, body: JSON.stringify({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.acm', detail }) })),
    }));
    const [fromLog, fromEventBridge] = await Promise.all([startInstance(logEvent, env), startInstance(realtimeFile, env)]);
    fromLog.go();
    fromEventBridge.go();
    const outcomes = await Promise.all([fromLog.done, fromEventBridge.done]);
    await untilDone(logEvent, env, outcomes[0]!);
    // The SQS batch answers with the messages to retry: run it again while any would be retried.
    for (let i = 0, last = outcomes[1] as Outcome & { summary?: { batchItemFailures?: unknown[] } }; i < 3 && (last.summary?.batchItemFailures?.length ?? 0) > 0; i += 1) {
      const retry = await startInstance(realtimeFile, env);
      retry.go();
      last = (await retry.done) as typeof last;
    }
    const counts = countsOf(await receiveDelivered(sandbox));
    expect([...counts.keys()].sort()).toEqual(ids('raced', 20).sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('the same event IDs in two log files processed at the same time go out once', async () => {
    const keys = ['copy-a', 'copy-b'].map((name) => `AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/${name}.json.gz`);
    for (const key of keys) await putObject(sandbox, BUCKET, key, logOf('twice', 40));
    const env = await instanceEnv();
    const events = await Promise.all(keys.map((key) => eventFor([key])));
    const instances = await Promise.all(events.map((event) => startInstance(event, env)));
    instances.forEach((instance) => instance.go());
    const outcomes = await Promise.all(instances.map((instance) => instance.done));
    const finals = await Promise.all(outcomes.map((outcome, i) => untilDone(events[i]!, env, outcome)));
    expect(finals.map((o) => o.ok)).toEqual([true, true]);
    const counts = countsOf(await receiveDelivered(sandbox));
    expect(counts.size).toBe(40);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});

/** A TCP endpoint that accepts requests and never answers: a service that hangs. */
async function hangingServer(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A DynamoDB endpoint that forwards every call but holds, unanswered, the ones marking alerts sent. */
async function dynamoWithoutMarks(): Promise<{ url: string; server: Server }> {
  const target = new URL(dynamodb.endpoint);
  const server = createServer((incoming, outgoing) => {
    const body: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => body.push(chunk));
    incoming.on('end', () => {
      const text = Buffer.concat(body).toString();
      if (text.includes('"S":"sent"')) return; // the instance dies here, before its marks land
      const forward = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
        outgoing.writeHead(response.statusCode ?? 500, response.headers);
        response.pipe(outgoing);
      });
      forward.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function pendingClaims(table: string): Promise<number> {
  const { Items = [] } = await dynamodb.client.send(new ScanCommand({ TableName: table }));
  return Items.filter((item) => item.state?.S === 'pending').length;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(50);
  }
}

describe('an instance killed mid-way', () => {
  it('after claiming and before publishing: nothing is lost; once the lease runs out the retry sends each alert once', async () => {
    const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/killed-early.json.gz';
    await putObject(sandbox, BUCKET, key, logOf('early', 10));
    const event = await eventFor([key]);
    const env = await instanceEnv();
    const sns = await hangingServer();
    const doomed = await startInstance(event, { ...env, AWS_ENDPOINT_URL_SNS: sns.url });
    doomed.go();
    // Ready before the kill, so it runs well inside the lease however slow the machine.
    const tooSoon = await startInstance(event, env);
    await waitFor(async () => (await pendingClaims(env.DEDUPE_TABLE_NAME!)) === 10);
    doomed.child.kill('SIGKILL');
    await doomed.done;
    sns.server.closeAllConnections();
    sns.server.close();
    tooSoon.go();
    expect(await tooSoon.done).toMatchObject({ ok: false, error: expect.stringMatching(/10 alerts being published by another invocation/) });
    await sleep(LEASE_MS + 200);
    const retry = await startInstance(event, env);
    retry.go();
    expect(await retry.done).toMatchObject({ ok: true });
    const counts = countsOf(await receiveDelivered(sandbox));
    expect([...counts.entries()].sort()).toEqual(ids('early', 10).sort().map((id) => [id, 1]));
  });

  it('after publishing and before marking: the one window where the retry repeats the alerts, once the lease runs out', async () => {
    const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/killed-late.json.gz';
    await putObject(sandbox, BUCKET, key, logOf('late', 6));
    const event = await eventFor([key]);
    const env = await instanceEnv();
    const proxy = await dynamoWithoutMarks();
    const doomed = await startInstance(event, { ...env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
    doomed.go();
    const delivered: DeliveredAlert[] = [];
    await waitFor(async () => (delivered.push(...(await receiveDelivered(sandbox))), delivered.length === 6));
    doomed.child.kill('SIGKILL');
    await doomed.done;
    proxy.server.closeAllConnections();
    proxy.server.close();

    await sleep(LEASE_MS + 200);
    const retry = await startInstance(event, env);
    retry.go();
    expect(await retry.done).toMatchObject({ ok: true });
    delivered.push(...(await receiveDelivered(sandbox)));
    const counts = countsOf(delivered);
    expect([...counts.entries()].sort()).toEqual(ids('late', 6).sort().map((id) => [id, 2]));
  });
});

describe('a publish whose outcome is unknown', () => {
  it('keeps its claims when SNS does not answer, so a retry waits for the lease instead of sending at once', async () => {
    const env = await instanceEnv();
    const table = env.DEDUPE_TABLE_NAME!;
    const sns = await hangingServer();
    const engine = createRuleEngine({ ...DEFAULT_RULE_CONFIG, stormThreshold: 0 });
    const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const reader = { open: async () => (async function* () { yield logOf('unanswered', 5); })() };
    const event = { Records: [s3Record('AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/unanswered.json.gz')] };
    const store = new DynamoDbDedupeStore(dynamodb.client, table, Date.now, LEASE_MS);
    const silent = new SnsAlertPublisher(
      new SNSClient({ ...CLIENT, endpoint: sns.url, maxAttempts: 1, requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } }),
      sandbox.topicArn,
    );
    const first = await processEvent({ reader, publisher: silent, logger, dedupe: store }, event, { engine });
    sns.server.closeAllConnections();
    sns.server.close();
    expect(first.objects[0]!.error).toMatch(/5 of 5 alerts could not be published/);
    expect(await pendingClaims(table)).toBe(5);

    const sent: Alert[] = [];
    const recording = { publish: async (alerts: readonly Alert[]): Promise<PublishOutcome> => (sent.push(...alerts), { published: alerts, failed: [] }) };
    const retry = await processEvent({ reader, publisher: recording, logger, dedupe: store }, event, { engine });
    expect(sent).toEqual([]);
    expect(retry.objects[0]!.error).toMatch(/5 alerts being published by another invocation/);
  });
});

describe('an object that stops part-way', () => {
  it('a file that breaks after some alerts delivers those, fails naming the object, and its retry re-sends none of them', async () => {
    const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/broken.json.gz';
    const whole = gzipSync(JSON.stringify({ Records: Array.from({ length: 400 }, (_, i) => record({ eventID: `broken-${i}`, eventName: 'DeleteCertificate', userAgent: `agent ${i} `.repeat(20) })) }));
    await putObject(sandbox, BUCKET, key, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const event = await eventFor([key]);
    const env = await instanceEnv();
    const first = await startInstance(event, env);
    first.go();
    const outcome = await first.done;
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/broken\.json\.gz: .*the gzip data is truncated/) });
    const delivered = countsOf(await receiveDelivered(sandbox));
    expect(delivered.size).toBeGreaterThan(50);
    expect(delivered.size).toBeLessThan(400);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);

    const retry = await startInstance(event, env);
    retry.go();
    expect(await retry.done).toMatchObject({ ok: false });
    expect(await receiveDelivered(sandbox)).toEqual([]);
  });

  it('a stream that stalls is cut at the deadline: what was read is published before the function would be killed', async () => {
    const body = logOf('stall', 200);
    const half = body.subarray(0, Math.floor(body.length / 2));
    const stalled = {
      open: async (_ref: unknown, signal?: AbortSignal) =>
        (async function* () {
          yield half;
          await new Promise((resolve) => signal?.addEventListener('abort', resolve));
          yield Buffer.alloc(0);
        })(),
    };
    const sent: Alert[] = [];
    const publisher = { publish: async (alerts: readonly Alert[]): Promise<PublishOutcome> => (sent.push(...alerts), { published: alerts, failed: [] }) };
    const started = Date.now();
    const result = await processEvent(
      { reader: stalled, publisher, logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } },
      { Records: [s3Record('AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/stall.json.gz')] },
      { engine: createRuleEngine(DEFAULT_RULE_CONFIG), stormThreshold: 0, remainingTimeMs: () => 1_500 - (Date.now() - started), safetyMarginMs: 500, publishReserveMs: 1_000 },
    );
    // Cut at the deadline (500 ms in), not after the stream's end, which never comes.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sent.length).toBeGreaterThan(10);
    expect(result.objects[0]!.error).toMatch(/stall\.json\.gz: reading stopped 1 s before the invocation's timeout/);
  });
});
