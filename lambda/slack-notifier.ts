/**
 * The Slack notifier Lambda, for teams without Amazon Q Developer in chat applications:
 * subscribed to the alert topic with protocol `lambda`, it posts each alert to a Slack incoming
 * webhook whose URL it reads from Secrets Manager. Like handler.ts, this is the edge: it reads
 * process.env, builds the SDK client once and touches the Lambda context; rendering is in the
 * core (render/slack-blocks.ts), HTTP and the secret in adapters.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { createPowertoolsLogger } from './adapters/powertools-logger';
import { SlackWebhookClient, type SlackWebhookOptions } from './adapters/slack-webhook';
import { SecretsManagerWebhookSource, type WebhookSource } from './adapters/webhook-secret';
import type { Logger as LoggerPort } from './core/ports';
import { renderSlackMessage } from './core/render/slack-blocks';
import { SEVERITIES, type Actor, type Alert, type Severity } from './core/types';
import { ConfigError, InvocationFailedError, SlackConfigurationError } from './errors';

/** Environment variables the notifier reads; the CDK stack sets them. */
export const SLACK_ENV = {
  webhookSecretId: 'SLACK_WEBHOOK_SECRET_ID',
} as const;

const SECRET_ID = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+|[\w/+=.@-]{1,512})$/;
// Leaves the runtime time to report the failure instead of being cut off mid-request.
const DEADLINE_MARGIN_MS = 1000;

/** Reads and validates the notifier's configuration; throws ConfigError naming the variable at fault. */
export function loadSlackConfig(env: NodeJS.ProcessEnv): Readonly<{ webhookSecretId: string }> {
  const secretId = env[SLACK_ENV.webhookSecretId]?.trim();
  if (!secretId || !SECRET_ID.test(secretId)) {
    // The value is not repeated: a common slip is to put the webhook URL itself here.
    const got = !secretId ? 'it is not set' : /^https?:/i.test(secretId) ? 'it holds a URL; store the URL in the secret and put the secret name here' : 'it is neither';
    throw new ConfigError(
      `${SLACK_ENV.webhookSecretId} must be the name or ARN of the Secrets Manager secret holding the Slack webhook URL (${got}); the CDK option slackWebhookSecretName sets it`,
    );
  }
  return Object.freeze({ webhookSecretId: secretId });
}

/** One SNS record: its alert, or why it has none. */
interface Notification {
  readonly messageId: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly alert?: Alert;
  readonly problem?: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const stringsOf = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

function actorFrom(value: unknown): Actor {
  const doc = isObject(value) ? value : {};
  const actor: Actor = { type: stringOf(doc.type) ?? 'Unknown' };
  for (const field of ['arn', 'accountId', 'principalId', 'userName', 'sessionIssuer', 'invokedBy'] as const) {
    const text = stringOf(doc[field]);
    if (text) actor[field] = text;
  }
  if (typeof doc.mfa === 'boolean') actor.mfa = doc.mfa;
  return actor;
}

/** A burst summary as the renderer reads it, or nothing when the message's is malformed. */
function stormFrom(value: unknown): Alert['storm'] {
  if (!isObject(value)) return undefined;
  const { count, firstEventTime, lastEventTime, eventIds, resourceCount, part } = value;
  if (typeof count !== 'number' || typeof resourceCount !== 'number' || typeof firstEventTime !== 'string' || typeof lastEventTime !== 'string') return undefined;
  const storm: NonNullable<Alert['storm']> = { count, firstEventTime, lastEventTime, eventIds: stringsOf(eventIds), resourceCount };
  if (isObject(part) && typeof part.index === 'number' && typeof part.of === 'number') storm.part = { index: part.index, of: part.of };
  return storm;
}

/**
 * The alert object out of a parsed message. Only the fields a header needs are required;
 * the rest default, and fields this version does not know are carried through, so a newer
 * publisher's alerts still render.
 */
function alertFrom(doc: Record<string, unknown>): Alert | string {
  const severity = stringOf(doc.severity) as Severity | undefined;
  const missing = [
    stringOf(doc.ruleId) ? undefined : 'ruleId',
    severity && SEVERITIES.includes(severity) ? undefined : 'severity',
    stringOf(doc.title) ? undefined : 'title',
  ].filter(Boolean);
  if (missing.length) return `the message is not an acm-sentinel alert (missing or invalid: ${missing.join(', ')})`;
  const links = isObject(doc.links) ? doc.links : {};
  const consoleLink = stringOf(links.console);
  const storm = stormFrom(doc.storm);
  const { storm: _unchecked, ...rest } = doc;
  return {
    ...rest,
    ...(storm ? { storm } : {}),
    ruleId: doc.ruleId as string,
    severity: severity as Severity,
    title: doc.title as string,
    eventSource: stringOf(doc.eventSource) ?? 'unknown',
    eventName: stringOf(doc.eventName) ?? 'unknown',
    eventId: stringOf(doc.eventId) ?? '',
    eventTime: stringOf(doc.eventTime) ?? '',
    awsRegion: stringOf(doc.awsRegion) ?? 'unknown',
    accountId: stringOf(doc.accountId) ?? 'unknown',
    actor: actorFrom(doc.actor),
    outcome: doc.outcome === 'failed' ? 'failed' : 'succeeded',
    resources: stringsOf(doc.resources),
    details: isObject(doc.details) ? doc.details : {},
    why: stringOf(doc.why) ?? '',
    nextSteps: stringsOf(doc.nextSteps),
    links: { cloudTrail: stringOf(links.cloudTrail) ?? '', ...(consoleLink ? { console: consoleLink } : {}) },
  } as Alert;
}

/**
 * The alert an SNS message carries. A `lambda` subscription receives the `lambda` body of the
 * message structure, the alert itself; local emulators deliver the whole per-protocol document
 * instead, so its `lambda` or `sqs` body is read too. Parser errors are not repeated: they quote
 * the message, which holds identities and IP addresses.
 */
function parseMessage(message: unknown): Alert | string {
  if (typeof message !== 'string') return 'the SNS record has no Message';
  let doc: unknown;
  try {
    doc = JSON.parse(message);
    if (isObject(doc) && doc.ruleId === undefined) {
      const body = stringOf(doc.lambda) ?? stringOf(doc.sqs);
      if (body !== undefined) doc = JSON.parse(body);
    }
  } catch {
    return 'the message is not JSON';
  }
  return isObject(doc) ? alertFrom(doc) : 'the message is not a JSON object';
}

/** The notifications of an SNS event; throws when the event is not one, since nothing in it can be delivered. */
function notificationsOf(event: unknown): Notification[] {
  const records = isObject(event) ? event.Records : undefined;
  if (!Array.isArray(records)) {
    throw new InvocationFailedError('the event is not an SNS notification (no Records); subscribe this function to the alert topic with protocol lambda');
  }
  return records.map((record, i): Notification => {
    const sns = isObject(record) && isObject(record.Sns) ? record.Sns : {};
    const attributes: Record<string, string> = {};
    for (const [name, attribute] of Object.entries(isObject(sns.MessageAttributes) ? sns.MessageAttributes : {})) {
      const value = isObject(attribute) ? stringOf(attribute.Value) : undefined;
      if (value !== undefined) attributes[name] = value;
    }
    const messageId = stringOf(sns.MessageId) ?? `record-${i + 1}`;
    const parsed = parseMessage(sns.Message);
    return typeof parsed === 'string' ? { messageId, attributes, problem: parsed } : { messageId, attributes, alert: parsed };
  });
}

/** What one invocation delivered. */
export interface SlackNotifierSummary {
  readonly delivered: number;
}

/** Replaceable parts of the notifier: tests pass a logger to read and shorter retry delays. */
export interface SlackNotifierOptions {
  /** @default process.env, read on the first invocation */
  readonly env?: NodeJS.ProcessEnv;
  /** @default a client built once per container from the SDK's standard settings */
  readonly secretsManager?: SecretsManagerClient;
  /** @default Powertools Logger, service "acm-sentinel-slack" */
  readonly logger?: LoggerPort;
  /** @default the client's own: 3 attempts, 1 s backoff, Retry-After up to 30 s, 10 s timeout */
  readonly webhook?: Omit<SlackWebhookOptions, 'logger'>;
}

const { powertools, logger: powertoolsPort } = createPowertoolsLogger('acm-sentinel-slack');
// At module scope so warm invocations reuse its connection.
const defaultSecretsManager = new SecretsManagerClient({});

const errorMessage = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/**
 * Builds the notifier's Lambda handler. It renders and posts each alert of the SNS event in
 * turn, then throws when any failed, so that Lambda retries the delivery and the failure is
 * visible: a single failure is rethrown as is, several are summed up with their counts. After
 * a configuration error (a revoked webhook, say) it stops trying the rest, which would fail the
 * same way, and forgets the kept webhook URL so that a replaced secret is read on the next try.
 */
export function createSlackNotifier(options: SlackNotifierOptions = {}) {
  const logger = options.logger ?? powertoolsPort;
  let runtime: { webhook: WebhookSource; slack: SlackWebhookClient } | undefined;
  // Validated on first use and kept: a bad value fails every invocation with the variable named.
  const init = () => {
    if (!runtime) {
      const config = loadSlackConfig(options.env ?? process.env);
      runtime = {
        webhook: new SecretsManagerWebhookSource(options.secretsManager ?? defaultSecretsManager, config.webhookSecretId),
        slack: new SlackWebhookClient({ ...options.webhook, logger }),
      };
    }
    return runtime;
  };

  return async (event: unknown, context?: Context): Promise<SlackNotifierSummary> => {
    if (context && !options.logger) powertools.addContext(context);
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    const deadline = remaining === undefined ? undefined : Date.now() + remaining - DEADLINE_MARGIN_MS;
    const { webhook, slack } = init();
    const notifications = notificationsOf(event);
    const failures: Array<{ messageId: string; error: Error }> = [];
    let delivered = 0;
    let stoppedBy: SlackConfigurationError | undefined;
    let notAttempted = 0;

    for (const notification of notifications) {
      const { messageId, alert, attributes } = notification;
      if (!alert) {
        logger.error('unreadable sns message', { messageId, problem: notification.problem, ruleId: attributes.ruleId, severity: attributes.severity });
        failures.push({ messageId, error: new InvocationFailedError(`SNS message ${messageId}: ${notification.problem}; subscribe this function to acm-sentinel's alert topic only`) });
        continue;
      }
      if (stoppedBy) {
        notAttempted += 1;
        continue;
      }
      const facts = { messageId, ruleId: alert.ruleId, severity: alert.severity, eventId: alert.eventId };
      try {
        const target = await webhook.get();
        const { attempts } = await slack.post(target, renderSlackMessage(alert), deadline === undefined ? {} : { deadline });
        delivered += 1;
        logger.info('sent slack notification', { ...facts, attempts });
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        logger.error('slack notification failed', { ...facts, error: errorMessage(err) });
        failures.push({ messageId, error });
        if (err instanceof SlackConfigurationError) {
          stoppedBy = err;
          webhook.invalidate();
        }
      }
    }

    if (failures.length === 0) return { delivered };
    if (notifications.length === 1) throw failures[0]!.error;
    const skipped = notAttempted ? `, ${notAttempted} not attempted after the configuration error` : '';
    const reasons = failures.map(({ messageId, error }) => `${messageId}: ${error.message}`).join('; ');
    throw new InvocationFailedError(`${failures.length + notAttempted} of ${notifications.length} Slack notifications not delivered (${delivered} delivered${skipped}): ${reasons}`, {
      cause: new AggregateError(failures.map(({ error }) => error)),
    });
  };
}

/** The notifier Lambda's entry point (`lambda/slack-notifier.handler`). */
export const handler = createSlackNotifier();
