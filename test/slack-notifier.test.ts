/**
 * The Slack notifier Lambda end to end: SNS events in, HTTP posts out to a local server on
 * 127.0.0.1 that answers the way Slack's incoming webhooks do, with the webhook URL from a
 * mocked Secrets Manager. What the server received, the retries, the errors, and that the URL
 * never shows in a log line or an error.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { renderSlackMessage, type SlackMessage } from '../lambda/core/render/slack-blocks';
import { buildSnsMessage } from '../lambda/core/render/sns-message';
import type { Alert } from '../lambda/core/types';
import { InvocationFailedError, SlackConfigurationError, SlackDeliveryError } from '../lambda/errors';
import { createSlackNotifier, type SlackNotifierOptions } from '../lambda/slack-notifier';
import { alertsFor, readFixture, record } from './support';

const secretsMock = mockClient(SecretsManagerClient);
const SECRET_ID = 'acm-sentinel/slack-webhook';
const TOKEN = 'xq7SECRETwebhookTOKENz9';
const TOPIC = 'arn:aws:sns:us-east-1:111122223333:acm-sentinel-alerts';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hang';

/**
 * A stand-in for hooks.slack.com: answers each post with the next scripted reply, or by
 * default the way Slack does (200 `ok` for a JSON body with text, 400 `invalid_payload` else).
 */
class FakeSlack {
  readonly received: Received[] = [];
  readonly replies: Reply[] = [];
  private readonly server: Server;
  private readonly hung: ServerResponse[] = [];

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
        const reply = this.replies.shift() ?? FakeSlack.answer(body);
        if (reply === 'hang') {
          this.hung.push(response);
          return;
        }
        response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers }).end(reply.body);
      });
    });
  }

  private static answer(body: string): Reply {
    try {
      const message = JSON.parse(body) as { text?: unknown };
      if (typeof message.text === 'string' && message.text) return { status: 200, body: 'ok' };
    } catch {
      // Slack says the same for a body that is not JSON.
    }
    return { status: 400, body: 'invalid_payload' };
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  webhookUrl(path = `/services/T00000000/B00000000/${TOKEN}`): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  messages(): SlackMessage[] {
    return this.received.map((request) => JSON.parse(request.body) as SlackMessage);
  }

  async stop(): Promise<void> {
    for (const response of this.hung) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Log lines the notifier wrote, as JSON strings, for asserting what they do and do not say. */
const logLines: string[] = [];
const capture = (level: string) => (message: string, fields?: Record<string, unknown>) => logLines.push(JSON.stringify({ level, message, ...fields }));
const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };

function notifier(options: Partial<SlackNotifierOptions> = {}) {
  return createSlackNotifier({
    env: { SLACK_WEBHOOK_SECRET_ID: SECRET_ID },
    logger,
    webhook: { baseDelayMs: 5, timeoutMs: 2000 },
    ...options,
  });
}

type Delivery = 'lambda' | 'whole document' | 'sqs body only';

/** The SNS event Lambda receives for alerts published the way the alert Lambda publishes them. */
function snsEvent(alerts: readonly Alert[], delivery: Delivery = 'lambda') {
  return {
    Records: alerts.map((alert, i) => {
      const message = buildSnsMessage(alert);
      const bodies = JSON.parse(message.Message) as Record<string, string>;
      const delivered = { lambda: bodies.lambda, 'whole document': message.Message, 'sqs body only': JSON.stringify({ sqs: bodies.sqs }) }[delivery];
      return {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${TOPIC}:0b6941c3-f04d-4d3e-a66d-b1df00e1e381`,
        Sns: {
          Type: 'Notification',
          MessageId: `message-${i + 1}`,
          TopicArn: TOPIC,
          Subject: message.Subject,
          Message: delivered,
          Timestamp: '2025-03-14T09:20:00.000Z',
          SignatureVersion: '1',
          MessageAttributes: Object.fromEntries(Object.entries(message.MessageAttributes).map(([name, value]) => [name, { Type: 'String', Value: value.StringValue }])),
        },
      };
    }),
  };
}

/** The error an invocation failed with, checked not to carry the webhook URL anywhere, causes included. */
async function failureOf(invocation: Promise<unknown>): Promise<Error> {
  const error = await invocation.then(
    () => {
      throw new Error('expected the invocation to fail');
    },
    (err: unknown) => err as Error,
  );
  expect(inspect(error, { depth: 10 })).not.toContain(TOKEN);
  return error;
}

const lambdaContext = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

let slack: FakeSlack;
let exportAlert: Alert;
let deleteAlert: Alert;

beforeAll(async () => {
  [exportAlert] = (await alertsFor(readFixture('acm-export-certificate.hidden.json'))) as [Alert];
  [deleteAlert] = (await alertsFor({ Records: [record()] })) as [Alert];
});
beforeEach(async () => {
  slack = await new FakeSlack().start();
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: slack.webhookUrl() });
  logLines.length = 0;
});
afterEach(async () => {
  await slack.stop();
  for (const line of logLines) expect(line).not.toContain(TOKEN);
});

describe('delivery', () => {
  it('posts the Block Kit message of each alert as JSON to the webhook URL from the secret', async () => {
    const result = await notifier()(snsEvent([exportAlert]));
    expect(result).toEqual({ delivered: 1 });
    expect(slack.received).toHaveLength(1);
    const [request] = slack.received;
    expect(request).toMatchObject({ method: 'POST', path: `/services/T00000000/B00000000/${TOKEN}` });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(slack.messages()[0]).toEqual(JSON.parse(JSON.stringify(renderSlackMessage(exportAlert))));
    expect(slack.messages()[0]!.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: ':rotating_light: CRITICAL: Private key exported from ACM' } });
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ID });
    expect(logLines).toEqual([
      JSON.stringify({ level: 'info', message: 'sent slack notification', messageId: 'message-1', ruleId: 'acm-export-certificate', severity: 'critical', eventId: exportAlert.eventId, attempts: 1 }),
    ]);
  });

  it.each<Delivery>(['whole document', 'sqs body only'])('reads the alert out of the %s, as local emulators deliver it', async (delivery) => {
    await notifier()(snsEvent([deleteAlert], delivery));
    expect(slack.messages().map((message) => message.text)).toEqual([renderSlackMessage(deleteAlert).text]);
  });

  it('reads the secret once per container across invocations', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ url: slack.webhookUrl() }) });
    const handler = notifier();
    await handler(snsEvent([exportAlert]));
    await handler(snsEvent([deleteAlert]));
    expect(slack.received).toHaveLength(2);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('renders an alert from a newer publisher with fields it does not know, and one with only the essentials', async () => {
    const storm = { count: 12, firstEventTime: '2025-03-14T10:00:00Z', lastEventTime: '2025-03-14T10:11:00Z', eventIds: ['a', 'b'], resourceCount: 12 };
    const newer = { ...deleteAlert, storm, title: `${deleteAlert.title} (12 times)`, fieldFromTheFuture: { anything: 1 } };
    const essentials = { ruleId: 'custom-rule', severity: 'low', title: 'Custom call' };
    const event = {
      Records: [
        { Sns: { MessageId: 'm-1', Message: JSON.stringify(newer) } },
        { Sns: { MessageId: 'm-2', Message: JSON.stringify(essentials) } },
      ],
    };
    await expect(notifier()(event)).resolves.toEqual({ delivered: 2 });
    const [first, second] = slack.messages();
    expect(first!.blocks[0]).toMatchObject({ text: { text: ':red_circle: HIGH: ACM certificate deleted (12 times)' } });
    expect(JSON.stringify(first)).toContain('*Burst*\\n12 calls from `2025-03-14T10:00:00Z` to `2025-03-14T10:11:00Z`, 12 resources');
    expect(second!.blocks[0]).toMatchObject({ text: { text: ':large_blue_circle: LOW: Custom call' } });
  });

  it('drops a malformed burst summary instead of rendering "undefined"', async () => {
    const malformed = { ...deleteAlert, storm: { count: 'twelve', eventIds: 'a' } };
    await notifier()({ Records: [{ Sns: { MessageId: 'm-1', Message: JSON.stringify(malformed) } }] });
    const json = JSON.stringify(slack.messages()[0]);
    expect(json).not.toContain('Burst');
    expect(json).not.toContain('undefined');
  });
});

describe('Slack refusing the webhook', () => {
  it('400 invalid_payload fails at once, naming the error and calling it a bug to report', async () => {
    slack.replies.push({ status: 400, body: 'invalid_payload' });
    const error = await failureOf(notifier()(snsEvent([exportAlert])));
    expect(error).toBeInstanceOf(SlackConfigurationError);
    expect(error.message).toBe(
      `Slack rejected the notification with 400 invalid_payload for the webhook URL from secret ${SECRET_ID}: Slack could not read the message; this is a bug in acm-sentinel's Slack rendering, please report it with the alert's event id`,
    );
    expect(slack.received).toHaveLength(1);
  });

  it('404 no_service says the webhook was revoked, and the next invocation reads the replaced secret', async () => {
    slack.replies.push({ status: 404, body: 'no_service' });
    const handler = notifier();
    const error = await failureOf(handler(snsEvent([exportAlert])));
    expect(error).toBeInstanceOf(SlackConfigurationError);
    expect(error.message).toMatch(/404 no_service .*the webhook was revoked or its Slack app removed; create a new incoming webhook and update the secret/);
    expect(logLines.map((line) => JSON.parse(line) as { message: string; error?: string })).toEqual([
      expect.objectContaining({ message: 'slack notification failed', messageId: 'message-1', error: `SlackConfigurationError: ${error.message}` }),
    ]);

    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: slack.webhookUrl('/services/T00000000/B11111111/replacement') });
    await expect(handler(snsEvent([exportAlert]))).resolves.toEqual({ delivered: 1 });
    expect(slack.received.map((request) => request.path)).toEqual([`/services/T00000000/B00000000/${TOKEN}`, '/services/T00000000/B11111111/replacement']);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it.each([
    [403, 'action_prohibited', /ask them to allow the app/],
    [404, 'channel_not_found', /channel was deleted/],
    [410, 'channel_is_archived', /unarchive it/],
    [403, 'invalid_token', /create a new incoming webhook and update the secret/],
    [400, 'no_text', /bug in acm-sentinel's Slack rendering/],
    [404, '<html>Not Found: /services/T00000000/B00000000/xq7SECRETwebhookTOKENz9</html>', /404 \(no Slack error string\) .*check that the webhook still exists/],
  ])('%i %s fails at once with what to do', async (status, body, advice) => {
    slack.replies.push({ status, body });
    const error = await failureOf(notifier()(snsEvent([exportAlert])));
    expect(error).toBeInstanceOf(SlackConfigurationError);
    expect(error.message).toMatch(advice);
    expect(slack.received).toHaveLength(1);
  });

  it('a redirect is not followed: a webhook never redirects', async () => {
    slack.replies.push({ status: 302, body: '', headers: { location: 'http://127.0.0.1:1/elsewhere' } });
    const error = await failureOf(notifier()(snsEvent([exportAlert])));
    expect(error.message).toMatch(/answered 302, a redirect/);
    expect(slack.received).toHaveLength(1);
  });
});

describe('retries', () => {
  it('429 waits the Retry-After Slack asks for, then delivers', async () => {
    slack.replies.push({ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } });
    const started = Date.now();
    await expect(notifier()(snsEvent([exportAlert]))).resolves.toEqual({ delivered: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.received).toHaveLength(2);
    expect(slack.received[1]!.body).toBe(slack.received[0]!.body);
    expect(logLines[0]).toBe(JSON.stringify({ level: 'warn', message: 'retrying slack webhook', attempt: 1, reason: 'rate limited (429, Retry-After 1 s)', delayMs: 1000 }));
  });

  it('a Retry-After longer than it waits gives up at once, leaving the retry to Lambda', async () => {
    slack.replies.push({ status: 429, body: 'rate_limited', headers: { 'retry-after': '120' } });
    const error = await failureOf(notifier()(snsEvent([exportAlert])));
    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect(error.message).toMatch(/rate limited \(429, Retry-After 120 s\), longer than the 30 s this function waits; Lambda retries the delivery/);
    expect(slack.received).toHaveLength(1);
  });

  it("never waits past the Lambda's remaining time", async () => {
    slack.replies.push({ status: 429, body: 'rate_limited', headers: { 'retry-after': '5' } });
    const error = await failureOf(notifier()(snsEvent([exportAlert]), lambdaContext(4000)));
    expect(error.message).toMatch(/too little of the invocation is left to wait 5000 ms/);
    expect(slack.received).toHaveLength(1);
  });

  it('500 then 200: retried with backoff and delivered', async () => {
    slack.replies.push({ status: 500, body: 'internal_error' });
    await expect(notifier()(snsEvent([exportAlert]))).resolves.toEqual({ delivered: 1 });
    expect(slack.received).toHaveLength(2);
    expect(logLines.map((line) => JSON.parse(line).message)).toEqual(['retrying slack webhook', 'sent slack notification']);
    expect(JSON.parse(logLines[1]!)).toMatchObject({ attempts: 2 });
  });

  it('5xx on every attempt fails after three, with the doubling backoff between them', async () => {
    slack.replies.push({ status: 503, body: '' }, { status: 500, body: 'internal_error' }, { status: 502, body: '' });
    const error = await failureOf(notifier()(snsEvent([exportAlert])));
    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect(error.message).toBe(`Slack notification not delivered to the webhook URL from secret ${SECRET_ID} after 3 attempts: Slack answered 502; Lambda retries the delivery`);
    expect(slack.received).toHaveLength(3);
    expect(logLines.filter((line) => line.includes('retrying')).map((line) => JSON.parse(line).delayMs)).toEqual([5, 10]);
  });

  it('a request Slack never answers times out and is retried', async () => {
    slack.replies.push('hang', 'hang');
    const handler = notifier({ webhook: { baseDelayMs: 5, timeoutMs: 150 } });
    await expect(handler(snsEvent([exportAlert]))).resolves.toEqual({ delivered: 1 });
    expect(slack.received).toHaveLength(3);
    expect(JSON.parse(logLines[0]!)).toMatchObject({ reason: 'no answer within 150 ms' });
  });

  it('a network error is retried, then fails naming its code but not the URL', async () => {
    const port = slack.port;
    await slack.stop();
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: `http://127.0.0.1:${port}/services/T00000000/B00000000/${TOKEN}` });
    const error = await failureOf(notifier()(snsEvent([exportAlert])));
    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect(error.message).toMatch(/after 3 attempts: network error TypeError \(ECONNREFUSED\); Lambda retries the delivery$/);
    slack = await new FakeSlack().start();
  });
});

describe('several SNS records', () => {
  it('delivers all it can, then throws naming the counts', async () => {
    const event = snsEvent([exportAlert, deleteAlert, exportAlert]);
    event.Records[1]!.Sns.Message = 'not json';
    slack.replies.push({ status: 200, body: 'ok' }, { status: 500, body: '' }, { status: 500, body: '' }, { status: 500, body: '' });
    const error = await failureOf(notifier()(event));
    expect(error).toBeInstanceOf(InvocationFailedError);
    expect(error.message).toMatch(/^2 of 3 Slack notifications not delivered \(1 delivered\): message-2: SNS message message-2: the message is not JSON; .*message-3: Slack notification not delivered .* after 3 attempts/);
    expect(slack.received).toHaveLength(4);
    const unreadable = logLines.map((line) => JSON.parse(line)).find((line) => line.message === 'unreadable sns message');
    expect(unreadable).toEqual({ level: 'error', message: 'unreadable sns message', messageId: 'message-2', problem: 'the message is not JSON', ruleId: 'acm-delete-certificate', severity: 'high' });
  });

  it('stops at a configuration error, since the rest would fail the same way', async () => {
    slack.replies.push({ status: 404, body: 'no_service' });
    const error = await failureOf(notifier()(snsEvent([exportAlert, deleteAlert, exportAlert])));
    expect(error.message).toMatch(/^3 of 3 Slack notifications not delivered \(0 delivered, 2 not attempted after the configuration error\): message-1: .*no_service/);
    expect(slack.received).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('a missing SLACK_WEBHOOK_SECRET_ID fails naming the variable', async () => {
    await expect(notifier({ env: {} })(snsEvent([exportAlert]))).rejects.toThrow(/SLACK_WEBHOOK_SECRET_ID must be the name or ARN of the Secrets Manager secret/);
  });

  it('the webhook URL put in SLACK_WEBHOOK_SECRET_ID by mistake is not repeated in the error', async () => {
    const error = await failureOf(notifier({ env: { SLACK_WEBHOOK_SECRET_ID: slack.webhookUrl() } })(snsEvent([exportAlert])));
    expect(error.message).toMatch(/\(it holds a URL; store the URL in the secret and put the secret name here\)/);
    expect(slack.received).toHaveLength(0);
  });

  it('accepts a secret ARN', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:acm-sentinel/slack-webhook-AbCdEf';
    await notifier({ env: { SLACK_WEBHOOK_SECRET_ID: arn } })(snsEvent([exportAlert]));
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: arn });
  });

  it('a secret that is not a Slack webhook fails before anything is sent', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: `https://example.com/services/${TOKEN}` });
    const error = await failureOf(notifier()(snsEvent([exportAlert])));
    expect(error.message).toMatch(/the webhook URL from secret acm-sentinel\/slack-webhook is not a Slack incoming webhook URL/);
    expect(slack.received).toHaveLength(0);
  });

  it('an event that is not from SNS fails the invocation', async () => {
    await expect(notifier()({ Records: undefined })).rejects.toThrow(/not an SNS notification.*protocol lambda/);
  });
});

describe('the real logger', () => {
  it('Powertools log lines carry outcomes and never the webhook URL', async () => {
    // Powertools writes INFO to stdout, WARN and ERROR to stderr.
    const written: string[] = [];
    const keep = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(keep), jest.spyOn(process.stderr, 'write').mockImplementation(keep)];
    try {
      slack.replies.push({ status: 500, body: '' }, { status: 200, body: 'ok' }, { status: 404, body: 'no_service' });
      const handler = createSlackNotifier({ env: { SLACK_WEBHOOK_SECRET_ID: SECRET_ID }, webhook: { baseDelayMs: 5 } });
      await handler(snsEvent([exportAlert]));
      await failureOf(handler(snsEvent([exportAlert])));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const lines = written.join('').trim().split('\n').map((line) => JSON.parse(line) as { message: string; level: string; service: string });
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ['WARN', 'retrying slack webhook'],
      ['INFO', 'sent slack notification'],
      ['ERROR', 'slack notification failed'],
    ]);
    expect(lines[0]!.service).toBe('acm-sentinel-slack');
    expect(written.join('')).not.toContain(TOKEN);
  });
});
