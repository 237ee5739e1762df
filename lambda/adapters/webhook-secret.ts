import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SlackConfigurationError, SlackDeliveryError } from '../errors';

/**
 * A webhook URL and how to name it in logs and errors. The URL is a credential (anyone holding
 * it can post into the channel), so nothing prints it: messages use `label` instead.
 */
export interface WebhookTarget {
  readonly url: URL;
  /** "the webhook URL from secret <id>": what messages say in place of the URL. */
  readonly label: string;
}

/** Where the notifier gets its webhook from; the URL is kept for the container's life. */
export interface WebhookSource {
  get(): Promise<WebhookTarget>;
  /** Forgets the kept URL, so that the next `get` reads the secret again after someone replaced a revoked webhook. */
  invalidate(): void;
}

const SLACK_WEBHOOK_HOST = 'hooks.slack.com';
const LOOPBACK_HOST = '127.0.0.1';

const describeTarget = (secretId: string): string => `the webhook URL from secret ${secretId}`;

/**
 * Reads a webhook URL out of a secret value: the bare URL, or JSON `{"url": "…"}`. Accepts only
 * `https://hooks.slack.com/…` and, for local testing, plain http to 127.0.0.1 with a port, so
 * that a mistyped secret never sends alerts to another host. Errors name the secret, never its
 * value; the JSON and URL parsers' own errors quote their input, so they are not kept as causes.
 */
export function parseWebhookSecret(secretValue: string, secretId: string): WebhookTarget {
  const label = describeTarget(secretId);
  const fail = (what: string): never => {
    throw new SlackConfigurationError(`${label} ${what}; store the incoming webhook URL Slack shows (https://${SLACK_WEBHOOK_HOST}/services/…), bare or as {"url": "…"}`);
  };
  let raw = secretValue.trim();
  if (!raw) fail('is empty');
  if (raw.startsWith('{')) {
    let document: unknown;
    try {
      document = JSON.parse(raw);
    } catch {
      fail('looks like JSON but does not parse');
    }
    const url = (document as { url?: unknown } | null)?.url;
    if (typeof url !== 'string') fail('is JSON without a "url" string');
    raw = (url as string).trim();
  }
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    fail('is not a URL');
  }
  const parsed = url as URL;
  const credentials = parsed.username !== '' || parsed.password !== '';
  const slack = parsed.protocol === 'https:' && parsed.hostname === SLACK_WEBHOOK_HOST && parsed.port === '';
  const loopback = parsed.protocol === 'http:' && parsed.hostname === LOOPBACK_HOST && parsed.port !== '';
  if (credentials || !(slack || loopback) || parsed.pathname.length <= 1) {
    fail(`is not a Slack incoming webhook URL (only https://${SLACK_WEBHOOK_HOST}/… is accepted, and plain http to ${LOOPBACK_HOST}:<port> for local testing)`);
  }
  return { url: parsed, label };
}

/** What to do about each Secrets Manager error a misconfigured deployment produces. */
const READ_ADVICE: Readonly<Record<string, string>> = {
  ResourceNotFoundException: 'it does not exist in this account and region; create it, or point the function at the right secret name or ARN',
  AccessDeniedException: "grant the function secretsmanager:GetSecretValue on the secret, and kms:Decrypt on the secret's key if it has a customer managed one",
  DecryptionFailure: "grant the function kms:Decrypt on the secret's KMS key",
  InvalidRequestException: 'it may be scheduled for deletion; restore it or create a new one',
  InvalidParameterException: 'check the secret name or ARN the function is configured with',
};

/**
 * The webhook URL from AWS Secrets Manager, read on first use and kept for the container's life
 * so that warm invocations make no Secrets Manager call. A failed read is not kept: the next
 * invocation tries again.
 */
export class SecretsManagerWebhookSource implements WebhookSource {
  private cached: Promise<WebhookTarget> | undefined;

  constructor(
    private readonly secretsManager: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  get(): Promise<WebhookTarget> {
    if (!this.cached) {
      const reading = this.read();
      this.cached = reading;
      reading.catch(() => {
        if (this.cached === reading) this.cached = undefined;
      });
    }
    return this.cached;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async read(): Promise<WebhookTarget> {
    let response;
    try {
      response = await this.secretsManager.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    } catch (err) {
      const error = err as { name?: string; message?: string; $fault?: string };
      const name = error?.name ?? 'Error';
      const advice = READ_ADVICE[name];
      const what = `could not read secret ${this.secretId} holding the Slack webhook URL: ${name}: ${error?.message ?? String(err)}`;
      // Permission and existence problems stay until someone fixes them; throttling and service errors pass.
      if (advice) throw new SlackConfigurationError(`${what} (${advice})`, { cause: err });
      throw new SlackDeliveryError(`${what} (retried by the SDK; the delivery is retried later)`, { cause: err });
    }
    const value = response.SecretString ?? (response.SecretBinary ? Buffer.from(response.SecretBinary).toString('utf8') : '');
    return parseWebhookSecret(value, this.secretId);
  }
}
