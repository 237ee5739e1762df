/**
 * `acm-sentinel redrive` against the real SQS of the embedded emulator and a local stand-in for
 * Lambda's Invoke API. The command finds both only through the SDK's standard variables
 * (`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_LAMBDA`, `AWS_REGION`, the credential variables).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { main } from '../lambda/cli/main';
import { startEmulator, type Emulator } from '../lambda/local/emulator';
import { notFound, serviceError, startLambdaStandIn, throttled, type LambdaStandIn } from './lambda-stand-in';
import { ROOT, s3RecordIn } from './support';

const BIN = path.join(ROOT, 'bin', 'acm-sentinel.js');
const SENTINEL_ARN = 'arn:aws:lambda:us-east-1:111122223333:function:AcmSentinel-Function-Xy7AbC9dEf12:$LATEST';
const NOTIFIER_ARN = 'arn:aws:lambda:us-east-1:111122223333:function:AcmSentinel-SlackNotifier-Q1w2E3r4T5y6:$LATEST';
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/';
const s3Record = s3RecordIn('my-trail');
// One empty long poll ends every run; a second keeps the suite short without a test-only path.
const WAIT = ['--wait-seconds', '1'];

let emulator: Emulator;
let lambda: LambdaStandIn;
let sqs: SQSClient;
let env: Record<string, string>;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [emulator, lambda] = await Promise.all([startEmulator(), startLambdaStandIn()]);
  env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
  };
  Object.assign(process.env, env);
  sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, endpoint: emulator.endpoint });
});

afterAll(async () => {
  process.env = savedEnv;
  sqs.destroy();
  await Promise.all([emulator.stop(), lambda.stop()]);
});

/**
 * fauxqs names its queues `http://sqs.us-east-1.127.0.0.1:PORT/…`, which is not a valid URL, so the
 * SQS client's queue-URL check warns on every call and keeps the endpoint from
 * AWS_ENDPOINT_URL_SQS. That warning, and only that one, is expected here.
 */
const EMULATOR_QUEUE_URL_WARNING = expect.objectContaining({ code: 'ERR_INVALID_URL', input: expect.stringMatching(/^http:\/\/sqs\.us-east-1\.127\.0\.0\.1:\d+\//) });
let warn: jest.SpyInstance;

beforeEach(() => {
  lambda.received.length = 0;
  lambda.answer = () => 'accept';
  lambda.observe = undefined;
  warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
});

afterEach(() => {
  for (const args of warn.mock.calls) expect(args).toEqual([EMULATOR_QUEUE_URL_WARNING]);
  warn.mockRestore();
});

let queues = 0;
async function queueWith(bodies: readonly string[]): Promise<string> {
  queues += 1;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `failures-${queues}` }));
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
  return QueueUrl!;
}

/** Messages still in the queue, in view or not. */
async function inQueue(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** An S3 event for the sentinel, as S3 sent it (keys URL-encoded). */
const s3Event = (...keys: string[]) => ({ Records: keys.map((key) => s3Record(key)) });

/** The record Lambda puts in the on-failure queue, shaped as the AWS documentation's example. */
function failureRecord(requestId: string, event: unknown, options: { functionArn?: string; condition?: string; timestamp?: string } = {}): string {
  const condition = options.condition ?? 'RetriesExhausted';
  return JSON.stringify({
    version: '1.0',
    timestamp: options.timestamp ?? '2025-03-14T09:12:05.568Z',
    requestContext: { requestId, functionArn: options.functionArn ?? SENTINEL_ARN, condition, approximateInvokeCount: condition === 'RetriesExhausted' ? 3 : 1 },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorMessage: '1 of 1 log objects failed', errorType: 'LogObjectReadError' },
  });
}

async function redrive(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['redrive', ...args], { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('acm-sentinel redrive', () => {
  it('re-drives each failure record once with its original event, to the function that failed it, deleting each message only after Lambda accepted the invoke', async () => {
    const events = [s3Event(`${PREFIX}a.json.gz`), s3Event(`${PREFIX}b.json.gz`)];
    const notifierEvent = { Records: [{ EventSource: 'aws:sns', Sns: { MessageId: 'sns-message-1', Message: '{"ruleId":"acm-delete-certificate"}' } }] };
    const queueUrl = await queueWith([
      failureRecord('req-a', events[0]),
      failureRecord('req-b', events[1]),
      failureRecord('req-notifier', notifierEvent, { functionArn: NOTIFIER_ARN }),
    ]);
    lambda.observe = () => inQueue(queueUrl);

    const { code, out, err } = await redrive('--queue-url', queueUrl, ...WAIT);

    expect(code).toBe(0);
    expect(lambda.received.map(({ functionName, invocationType, payload }) => ({ functionName, invocationType, payload }))).toEqual([
      { functionName: SENTINEL_ARN, invocationType: 'Event', payload: events[0] },
      { functionName: SENTINEL_ARN, invocationType: 'Event', payload: events[1] },
      { functionName: NOTIFIER_ARN, invocationType: 'Event', payload: notifierEvent },
    ]);
    // Each message was still in the queue while its invoke was under way; the earlier ones were gone.
    expect(lambda.received.map((call) => call.observed)).toEqual([3, 2, 1]);
    expect(await inQueue(queueUrl)).toBe(0);
    expect(out.split('\n')).toEqual([
      `re-driven  req-a  RetriesExhausted  2025-03-14T09:12:05.568Z  s3://my-trail/${PREFIX}a.json.gz  -> AcmSentinel-Function-Xy7AbC9dEf12:$LATEST`,
      `re-driven  req-b  RetriesExhausted  2025-03-14T09:12:05.568Z  s3://my-trail/${PREFIX}b.json.gz  -> AcmSentinel-Function-Xy7AbC9dEf12:$LATEST`,
      're-driven  req-notifier  RetriesExhausted  2025-03-14T09:12:05.568Z  SNS message sns-message-1  -> AcmSentinel-SlackNotifier-Q1w2E3r4T5y6:$LATEST',
    ]);
    expect(err).toBe('re-driven 3, left 0, skipped 0 (the queue has no more messages in view)');
  });

  it('re-drives nothing on a second run after the first deleted everything', async () => {
    const queueUrl = await queueWith([failureRecord('req-once', s3Event(`${PREFIX}once.json.gz`))]);
    expect((await redrive('--queue-url', queueUrl, ...WAIT)).code).toBe(0);

    const again = await redrive('--queue-url', queueUrl, ...WAIT);

    expect(again.code).toBe(0);
    expect(lambda.received).toHaveLength(1);
    expect(again.err).toBe('re-driven 0, left 0, skipped 0 (the queue has no more messages in view)');
  });

  it('leaves each message whose invoke failed in the queue, names the error, re-drives the others and exits 1', async () => {
    const queueUrl = await queueWith([
      failureRecord('req-gone', s3Event(`${PREFIX}gone.json.gz`), { functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:deleted-function:$LATEST' }),
      failureRecord('req-busy', s3Event(`${PREFIX}busy.json.gz`), { functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:busy-function:$LATEST' }),
      failureRecord('req-broken', s3Event(`${PREFIX}broken.json.gz`), { functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:broken-function:$LATEST' }),
      failureRecord('req-ok', s3Event(`${PREFIX}ok.json.gz`)),
    ]);
    lambda.answer = ({ functionName }) =>
      functionName.includes(':deleted-function:') ? notFound(functionName) : functionName.includes(':busy-function:') ? throttled : functionName.includes(':broken-function:') ? serviceError : 'accept';

    const { code, out, err } = await redrive('--queue-url', queueUrl, ...WAIT);

    expect(code).toBe(1);
    expect(out).toMatch(/^re-driven  req-ok  /);
    expect(out.split('\n')).toHaveLength(1);
    expect(err).toMatch(/^error: left .* req-gone .*: the invoke failed \(ResourceNotFoundException \(HTTP 404\): Function not found: arn:aws:lambda:.*:deleted-function:\$LATEST\); it stays in the queue$/m);
    expect(err).toMatch(/^error: left .* req-busy .*: the invoke failed \(TooManyRequestsException \(HTTP 429\): Rate exceeded\); it stays in the queue$/m);
    expect(err).toMatch(/^error: left .* req-broken .*: the invoke failed \(ServiceException \(HTTP 500\): .*\); it stays in the queue$/m);
    expect(err).toMatch(/re-driven 1, left 3, skipped 0 \(the queue has no more messages in view\)$/);
    expect(await inQueue(queueUrl)).toBe(3);
    // The SDK retried the throttle and the server error on its own; the missing function once.
    expect(lambda.received.filter((call) => call.functionName.includes(':deleted-function:'))).toHaveLength(1);
    expect(lambda.received.filter((call) => call.status === 202)).toHaveLength(1);
  });

  it('leaves a message that is not a failure record in the queue, reports it and exits 1', async () => {
    const queueUrl = await queueWith(['not json at all', JSON.stringify(s3Event(`${PREFIX}raw-event.json.gz`)), failureRecord('req-fine', s3Event(`${PREFIX}fine.json.gz`))]);

    const { code, out, err } = await redrive('--queue-url', queueUrl, ...WAIT);

    expect(code).toBe(1);
    expect(lambda.received.map((call) => call.payload)).toEqual([s3Event(`${PREFIX}fine.json.gz`)]);
    expect(out).toMatch(/^re-driven  req-fine  /);
    expect(err).toMatch(/^error: skipped +message \S+: the body is not JSON; it stays in the queue$/m);
    expect(err).toMatch(/^error: skipped +message \S+: not a Lambda failure record \(no requestPayload\); it stays in the queue$/m);
    expect(err).toMatch(/re-driven 1, left 0, skipped 2 /);
    expect(await inQueue(queueUrl)).toBe(2);
  });

  it('reports an event Lambda accepted whose message could not be deleted, and stops with exit 1 when the queue cannot be read', async () => {
    const queueUrl = await queueWith([failureRecord('req-orphan', s3Event(`${PREFIX}orphan.json.gz`))]);
    // The queue disappears while the invoke is under way, so neither the delete nor the next receive can succeed.
    lambda.observe = () => sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));

    const { code, out, err } = await redrive('--queue-url', queueUrl, ...WAIT);

    expect(code).toBe(1);
    expect(out).toBe('');
    expect(lambda.received.map((call) => call.status)).toEqual([202]);
    expect(err).toMatch(/^error: left +message \S+: req-orphan .*: invoked, but the delete failed \(.*\), so a later run re-drives it again; it stays in the queue$/m);
    expect(err).toMatch(/^error: cannot receive from http:\/\/\S+\/failures-\d+: .*Check the URL \(stack output FailureQueueUrl\), AWS_REGION and your credentials/m);
    expect(err).toMatch(/re-driven 0, left 1, skipped 0 \(stopped: the queue could not be read\)$/);
  });

  it('--dry-run lists each request id, condition, time and S3 key, and invokes and deletes nothing', async () => {
    const queueUrl = await queueWith([
      failureRecord('req-1', s3Event(`${PREFIX}first file.json.gz`, `${PREFIX}second.json.gz`), { condition: 'EventAgeExceeded', timestamp: '2025-03-14T10:00:00.000Z' }),
      failureRecord('req-2', s3Event(`${PREFIX}third.json.gz`)),
    ]);

    const { code, out, err } = await redrive('--queue-url', queueUrl, '--dry-run', ...WAIT);

    expect(code).toBe(0);
    expect(lambda.received).toEqual([]);
    expect(await inQueue(queueUrl)).toBe(2);
    expect(out.split('\n').sort()).toEqual([
      `would re-drive  req-1  EventAgeExceeded  2025-03-14T10:00:00.000Z  s3://my-trail/${PREFIX}first file.json.gz, s3://my-trail/${PREFIX}second.json.gz  -> AcmSentinel-Function-Xy7AbC9dEf12:$LATEST`,
      `would re-drive  req-2  RetriesExhausted  2025-03-14T09:12:05.568Z  s3://my-trail/${PREFIX}third.json.gz  -> AcmSentinel-Function-Xy7AbC9dEf12:$LATEST`,
    ]);
    expect(err).toBe(
      'dry run: would re-drive 2, skipped 0; nothing invoked or deleted, and the listed messages stay out of view for 30 s (the queue has no more messages in view)',
    );
  });

  it('--max 2 stops after two messages and leaves the rest, and --function sends them to the named function', async () => {
    const queueUrl = await queueWith(['1', '2', '3'].map((n) => failureRecord(`req-${n}`, s3Event(`${PREFIX}${n}.json.gz`))));

    const { code, err } = await redrive('--queue-url', queueUrl, '--max', '2', '--function', 'replacement-function', ...WAIT);

    expect(code).toBe(0);
    expect(lambda.received.map((call) => call.functionName)).toEqual(['replacement-function', 'replacement-function']);
    expect(await inQueue(queueUrl)).toBe(1);
    expect(err).toBe('re-driven 2, left 0, skipped 0 (stopped after --max 2)');
  });

  it('exits 0 quickly on an empty queue, after one empty long poll', async () => {
    const queueUrl = await queueWith([]);
    const started = Date.now();

    const { code, out, err } = await redrive('--queue-url', queueUrl, ...WAIT);

    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(out).toBe('');
    expect(err).toBe('re-driven 0, left 0, skipped 0 (the queue has no more messages in view)');
  });

  it.each([
    [[], 'redrive needs --queue-url'],
    [['--queue-url', 'http://127.0.0.1:1/q', '--max', '0'], '--max must be a whole number from 1 up (got "0")'],
    [['--queue-url', 'http://127.0.0.1:1/q', '--max', 'all'], '--max must be a whole number from 1 up (got "all")'],
    [['--queue-url', 'http://127.0.0.1:1/q', '--wait-seconds', '21'], '--wait-seconds must be a whole number from 0 to 20 (got "21")'],
    [['--queue-url', 'http://127.0.0.1:1/q', 'extra'], 'redrive takes no arguments, only flags (got "extra")'],
    [['--queue-url', 'http://127.0.0.1:1/q', '--format', 'json'], 'unknown option --format for redrive'],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const { code, err } = await redrive(...args);
    expect(code).toBe(2);
    expect(err).toContain(`error: ${message}`);
    expect(err).toContain('See "acm-sentinel redrive --help".');
    expect(lambda.received).toEqual([]);
  });

  it('says in its help that a dry run keeps the listed messages out of view', async () => {
    const { code, out } = await redrive('--help');
    expect(code).toBe(0);
    expect(out).toContain('--dry-run               only list the messages; the listed ones then stay invisible in the queue for 30 s');
  });

  it('runs as a process, configured only by the SDK standard environment variables', async () => {
    const queueUrl = await queueWith([failureRecord('req-process', s3Event(`${PREFIX}process.json.gz`))]);

    // Asynchronous on purpose: the Lambda stand-in answers from this process's event loop.
    const child = spawn(process.execPath, [BIN, 'redrive', '--queue-url', queueUrl, ...WAIT], { cwd: ROOT, env: { ...savedEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));

    // The SDK's warnings about the emulator's queue URLs (see above) come first; then the summary.
    expect({ status, lastLine: stderr.trimEnd().split('\n').at(-1), errors: stderr.match(/^error:.*$/gm) ?? [] }).toEqual({
      status: 0,
      lastLine: 're-driven 1, left 0, skipped 0 (the queue has no more messages in view)',
      errors: [],
    });
    expect(stdout).toMatch(/^re-driven  req-process  RetriesExhausted  .*process\.json\.gz  -> AcmSentinel-Function-Xy7AbC9dEf12:\$LATEST\n$/);
    expect(lambda.received.map((call) => call.payload)).toEqual([s3Event(`${PREFIX}process.json.gz`)]);
    expect(await inQueue(queueUrl)).toBe(0);
  });
});
