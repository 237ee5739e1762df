import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertPublisher, PublishFailure, PublishOutcome } from '../core/ports';
import { buildSnsMessage, snsMessageSize, SNS_MAX_MESSAGE_BYTES } from '../core/render/sns-message';
import type { Alert } from '../core/types';

const MAX_BATCH_ENTRIES = 10;
/** Extra attempts for entries SNS reports as failed on its side (not sender faults), after the SDK's own retries. */
const ENTRY_RETRIES = 2;

interface Pending {
  readonly alert: Alert;
  readonly entry: PublishBatchRequestEntry;
  readonly size: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A failure after which SNS may still have taken the messages: no answer came back. */
function isAmbiguous(err: unknown): boolean {
  const { name, code, $metadata } = (err ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'TimeoutError' || name === 'RequestTimeout' || /^(ECONNRESET|EPIPE|ETIMEDOUT|ECONNABORTED)$/.test(code ?? '') || !$metadata?.httpStatusCode;
}

function describeError(err: unknown): string {
  const error = err as { name?: string; message?: string };
  return `${error?.name ?? 'Error'}: ${error?.message ?? String(err)}`;
}

/** Publishes alerts to an SNS topic with PublishBatch, one entry per alert. */
export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
    private readonly retryDelayMs = 200,
  ) {}

  async publish(alerts: readonly Alert[]): Promise<PublishOutcome> {
    const published: Alert[] = [];
    const failed: PublishFailure[] = [];
    // Messages are rendered a batch at a time (at most 10 entries and 256 KB), so memory holds one
    // batch however many alerts an object raised.
    let batch: Pending[] = [];
    let bytes = 0;
    const send = async () => {
      if (!batch.length) return;
      const outcome = await this.sendBatch(batch);
      published.push(...outcome.published);
      failed.push(...outcome.failed);
      batch = [];
      bytes = 0;
    };
    for (const [i, alert] of alerts.entries()) {
      let item: Pending;
      try {
        const message = buildSnsMessage(alert);
        item = { alert, entry: { Id: `alert-${i}`, ...message }, size: snsMessageSize(message) };
      } catch (err) {
        // One alert that cannot be rendered must not keep the others from going out.
        failed.push({ alert, reason: `the message could not be rendered (${(err as Error)?.name ?? 'Error'})` });
        continue;
      }
      if (batch.length === MAX_BATCH_ENTRIES || (batch.length > 0 && bytes + item.size > SNS_MAX_MESSAGE_BYTES)) await send();
      batch.push(item);
      bytes += item.size;
    }
    await send();
    return { published, failed };
  }

  private async sendBatch(batch: readonly Pending[]): Promise<PublishOutcome> {
    const published: Alert[] = [];
    const failed: PublishFailure[] = [];
    let remaining = [...batch];
    for (let attempt = 0; remaining.length > 0; attempt += 1) {
      if (attempt > 0) await sleep(this.retryDelayMs * 4 ** (attempt - 1));
      let response;
      try {
        response = await this.sns.send(
          new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: remaining.map((item) => item.entry) }),
        );
      } catch (err) {
        // The SDK already retried throttling and 5xx; a call that still fails fails every entry in it.
        failed.push(...remaining.map((item) => ({ alert: item.alert, reason: describeError(err), ...(isAmbiguous(err) ? { ambiguous: true } : {}) })));
        break;
      }
      const byId = new Map(remaining.map((item) => [item.entry.Id, item]));
      for (const ok of response.Successful ?? []) {
        const item = byId.get(ok.Id);
        if (item) published.push(item.alert);
      }
      const retry: Pending[] = [];
      for (const failure of response.Failed ?? []) {
        const item = byId.get(failure.Id);
        if (!item) continue;
        // A sender fault (bad entry) fails the same way again: report it instead of retrying.
        if (!failure.SenderFault && attempt < ENTRY_RETRIES) retry.push(item);
        else failed.push({ alert: item.alert, reason: `${failure.Code ?? 'Failed'}: ${failure.Message ?? 'no message'}` });
      }
      remaining = retry;
    }
    return { published, failed };
  }
}
