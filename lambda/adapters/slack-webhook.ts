import type { Logger } from '../core/ports';
import type { SlackMessage } from '../core/render/slack-blocks';
import { SlackConfigurationError, SlackDeliveryError } from '../errors';
import type { WebhookTarget } from './webhook-secret';

/** Retry and timeout settings; tests shorten the delays, production keeps the defaults. */
export interface SlackWebhookOptions {
  /** Attempts per message, the first included, for 429, 5xx, timeouts and network errors. @default 3 */
  readonly maxAttempts?: number;
  /** Wait before the second attempt after a 5xx or network error; doubled for each further one. @default 1000 */
  readonly baseDelayMs?: number;
  /** Longest `Retry-After` honoured; Slack asking for more gives up, leaving the retry to Lambda. @default 30000 */
  readonly maxRetryAfterMs?: number;
  /** Time limit of one request. @default 10000 */
  readonly timeoutMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default the global fetch */
  readonly fetch?: typeof fetch;
  readonly logger?: Logger;
}

/** Per-call limits: the Lambda's own deadline. */
export interface PostOptions {
  /** Epoch milliseconds by which every attempt and wait must be over. @default none */
  readonly deadline?: number;
}

export interface PostResult {
  readonly attempts: number;
}

// An attempt with less time than this left would only time out.
const MIN_ATTEMPT_MS = 1000;
const RESPONSE_BODY_MAX = 1024;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What each error string Slack answers an incoming webhook with means to the operator. Slack
 * sends these as a plain-text body with a 400, 403, 404 or 410 status; none of them goes away
 * by retrying.
 */
const SLACK_ERROR_ADVICE: Readonly<Record<string, string>> = {
  invalid_payload: "Slack could not read the message; this is a bug in acm-sentinel's Slack rendering, please report it with the alert's event id",
  invalid_blocks: "Slack rejected the message's blocks; this is a bug in acm-sentinel's Slack rendering, please report it with the alert's event id",
  invalid_blocks_format: "Slack rejected the message's blocks; this is a bug in acm-sentinel's Slack rendering, please report it with the alert's event id",
  no_text: "the message had no text; this is a bug in acm-sentinel's Slack rendering, please report it",
  missing_text_or_fallback_or_attachments: "the message had no text; this is a bug in acm-sentinel's Slack rendering, please report it",
  too_many_attachments: "the message had too many attachments; this is a bug in acm-sentinel's Slack rendering, please report it",
  no_service: 'the webhook was revoked or its Slack app removed; create a new incoming webhook and update the secret',
  no_service_id: 'the webhook URL is incomplete; copy the whole URL from Slack into the secret',
  invalid_token: 'the webhook URL is not valid (revoked, or mis-copied); create a new incoming webhook and update the secret',
  no_team: "the webhook's Slack workspace no longer exists; create a webhook in your workspace and update the secret",
  team_disabled: "the webhook's Slack workspace is disabled; create a webhook in an active workspace and update the secret",
  channel_not_found: "the webhook's channel was deleted; create a webhook for an existing channel and update the secret",
  channel_is_archived: "the webhook's channel is archived; unarchive it, or create a webhook for another channel and update the secret",
  action_prohibited: 'a workspace admin restricted posting in the channel; ask them to allow the app, or create a webhook for another channel and update the secret',
  posting_to_general_channel_denied: "only admins may post in the workspace's general channel; create a webhook for another channel and update the secret",
  user_not_found: "the webhook's target user no longer exists; create a webhook for a channel and update the secret",
};

/** Slack's error string when the body is one; anything else (a proxy's page, say) is not repeated, as it may echo the URL. */
function slackErrorCode(body: string): string | undefined {
  const trimmed = body.trim();
  return /^[a-z][a-z0-9_]{0,63}$/.test(trimmed) ? trimmed : undefined;
}

function configurationError(status: number, body: string, target: WebhookTarget): SlackConfigurationError {
  if (status >= 300 && status < 400) {
    return new SlackConfigurationError(
      `Slack webhook answered ${status}, a redirect, which an incoming webhook never does: ${target.label} is not a Slack incoming webhook; update the secret with the URL Slack shows`,
    );
  }
  const code = slackErrorCode(body);
  const advice = (code && SLACK_ERROR_ADVICE[code]) ?? `check that the webhook still exists in Slack and that the secret holds its whole URL`;
  return new SlackConfigurationError(`Slack rejected the notification with ${status} ${code ?? '(no Slack error string)'} for ${target.label}: ${advice}`);
}

/** Names a network failure by its error code, not its message, which can carry request details. */
function describeNetworkError(err: unknown, timeoutMs: number): string {
  const error = err as { name?: string; cause?: { code?: unknown } };
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = typeof error?.cause?.code === 'string' ? ` (${error.cause.code})` : '';
  return `network error ${error?.name ?? 'Error'}${code}`;
}

/** `Retry-After` in milliseconds: delta seconds, or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function readBody(response: Response): Promise<string> {
  try {
    return (await response.text()).slice(0, RESPONSE_BODY_MAX);
  } catch {
    return '';
  }
}

/**
 * Posts Block Kit messages to a Slack incoming webhook. Retries what can pass (429 after the
 * `Retry-After` Slack asks for, 5xx, timeouts and network errors, with exponential backoff)
 * within the caller's deadline, and fails at once with a `SlackConfigurationError` on what
 * cannot (a revoked webhook, an archived channel …), naming Slack's error string and the fix.
 * Errors and logs name the webhook by its label, never by its URL.
 */
export class SlackWebhookClient {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetch: typeof fetch;
  private readonly logger: Logger | undefined;

  constructor(options: SlackWebhookOptions = {}) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.sleep = options.sleep ?? sleepFor;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.logger = options.logger;
  }

  async post(target: WebhookTarget, message: SlackMessage, options: PostOptions = {}): Promise<PostResult> {
    const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    const body = JSON.stringify(message);
    let reason = 'not attempted';
    for (let attempt = 1; ; attempt += 1) {
      const left = deadline - Date.now();
      if (left < MIN_ATTEMPT_MS) {
        throw new SlackDeliveryError(`Slack notification not delivered to ${target.label}: the invocation ran out of time after ${attempt - 1} attempt(s) (last: ${reason}); Lambda retries the delivery`);
      }
      const timeoutMs = Math.min(this.timeoutMs, left);
      let waitMs: number | undefined;
      let cause: unknown;
      try {
        const response = await this.fetch(target.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          // A webhook never redirects; following one would hand the alert to another host.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await readBody(response);
        if (response.status >= 200 && response.status < 300) return { attempts: attempt };
        if (response.status === 429) {
          waitMs = retryAfterMs(response.headers.get('retry-after'));
          reason = `rate limited (429${waitMs === undefined ? '' : `, Retry-After ${Math.ceil(waitMs / 1000)} s`})`;
          if (waitMs !== undefined && waitMs > this.maxRetryAfterMs) {
            throw new SlackDeliveryError(
              `Slack notification not delivered to ${target.label}: ${reason}, longer than the ${this.maxRetryAfterMs / 1000} s this function waits; Lambda retries the delivery`,
            );
          }
        } else if (response.status >= 500) {
          reason = `Slack answered ${response.status}${slackErrorCode(text) ? ` ${slackErrorCode(text)}` : ''}`;
        } else {
          throw configurationError(response.status, text, target);
        }
      } catch (err) {
        if (err instanceof SlackConfigurationError || err instanceof SlackDeliveryError) throw err;
        reason = describeNetworkError(err, timeoutMs);
        cause = err;
      }
      if (attempt >= this.maxAttempts) {
        throw new SlackDeliveryError(`Slack notification not delivered to ${target.label} after ${attempt} attempts: ${reason}; Lambda retries the delivery`, cause ? { cause } : undefined);
      }
      const delayMs = waitMs ?? this.baseDelayMs * 2 ** (attempt - 1);
      if (Date.now() + delayMs + MIN_ATTEMPT_MS > deadline) {
        throw new SlackDeliveryError(
          `Slack notification not delivered to ${target.label}: ${reason}, and too little of the invocation is left to wait ${delayMs} ms and try again; Lambda retries the delivery`,
          cause ? { cause } : undefined,
        );
      }
      this.logger?.warn('retrying slack webhook', { attempt, reason, delayMs });
      await this.sleep(delayMs);
    }
  }
}
