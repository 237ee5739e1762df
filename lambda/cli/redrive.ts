import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { decodeS3Key } from '../core/ingest/s3-event';
import { plain, visible } from '../core/render/untrusted';
import { UsageError } from './args';
import type { Output } from './output';

export interface RedriveOptions {
  readonly queueUrl?: string;
  readonly function?: string;
  readonly dryRun?: boolean;
  readonly max?: string;
  readonly waitSeconds?: string;
}

/**
 * Long enough to invoke and delete one message (the invoke is abandoned after INVOKE_TIMEOUT_MS),
 * short enough that a run killed before its invoke leaves the message out of view only briefly.
 */
export const VISIBILITY_TIMEOUT_SECONDS = 60;
/** A dry run only reads: its messages come back into view this soon after being listed. */
export const DRY_RUN_VISIBILITY_TIMEOUT_SECONDS = 30;
export const DEFAULT_WAIT_SECONDS = 20;
const INVOKE_TIMEOUT_MS = 30_000;
const KEYS_SHOWN = 5;

/**
 * The invocation record Lambda sends to an asynchronous invocation's on-failure destination; for
 * an SQS destination it is the message body ("Example invocation record" in
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). Only
 * `requestPayload`, the original event, is needed to re-drive; the rest names and dates it.
 */
export interface FailureRecord {
  readonly version?: string;
  readonly timestamp?: string;
  readonly requestContext?: {
    readonly requestId?: string;
    /** The function, qualified: `arn:aws:lambda:REGION:ACCOUNT:function:NAME:$LATEST`. Invoke takes it as it is. */
    readonly functionArn?: string;
    /** `RetriesExhausted` or `EventAgeExceeded`. */
    readonly condition?: string;
    readonly approximateInvokeCount?: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext?: { readonly statusCode?: number; readonly executedVersion?: string; readonly functionError?: string };
  readonly responsePayload?: unknown;
}

/** A message body read as a failure record, or why it is not one (it is then left in the queue). */
export function parseFailureRecord(body: string | undefined): { record: FailureRecord } | { notRecord: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(body ?? '');
  } catch {
    return { notRecord: 'the body is not JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('requestPayload' in doc)) {
    return { notRecord: 'not a Lambda failure record (no requestPayload)' };
  }
  const record = doc as FailureRecord;
  if (record.requestContext?.condition === 'Success') return { notRecord: 'a record of a successful invocation, not of a failure' };
  return { record };
}

/** What a listing shows of the event: its S3 objects, or the SNS messages the Slack notifier failed. */
export function describeEvent(event: unknown): string {
  const records = (event as { Records?: unknown } | null)?.Records;
  const list = Array.isArray(records) ? (records as Array<Record<string, unknown>>) : [];
  const objects: string[] = [];
  const snsMessages: string[] = [];
  for (const record of list) {
    const s3 = record?.s3 as { bucket?: { name?: unknown }; object?: { key?: unknown } } | undefined;
    if (typeof s3?.object?.key === 'string') objects.push(`s3://${String(s3.bucket?.name ?? '?')}/${decodeS3Key(s3.object.key)}`);
    const sns = record?.Sns as { MessageId?: unknown } | undefined;
    if (sns !== undefined) snsMessages.push(`SNS message ${String(sns.MessageId ?? '?')}`);
  }
  const parts = objects.length ? objects : snsMessages;
  if (parts.length === 0) return 'no S3 objects';
  const shown = parts.slice(0, KEYS_SHOWN).map(plain).join(', ');
  return parts.length > KEYS_SHOWN ? `${shown} (+${parts.length - KEYS_SHOWN} more)` : shown;
}

/** `arn:aws:lambda:…:function:NAME[:QUALIFIER]` as `NAME[:QUALIFIER]`; a bare name as it is. */
function functionLabel(target: string): string {
  const at = target.indexOf(':function:');
  return plain(at >= 0 ? target.slice(at + ':function:'.length) : target);
}

function recordLine(record: FailureRecord): string {
  const context = record.requestContext ?? {};
  return [
    plain(context.requestId ?? '(no request id)'),
    plain(context.condition ?? '(no condition)'),
    plain(record.timestamp ?? '(no timestamp)'),
    describeEvent(record.requestPayload),
  ].join('  ');
}

function errorText(err: unknown): string {
  const error = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = error.$metadata?.httpStatusCode;
  const message = (error.message ?? String(err)).replace(/\.+$/, '');
  return plain(`${error.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${message}`);
}

function wholeNumber(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`} (got "${value}")`);
  }
  return n;
}

/**
 * `redrive --queue-url URL`: sends each event in the function's on-failure queue back to the
 * function that failed it (or `--function`), as an asynchronous invoke of the original event,
 * one message at a time. A message is deleted only after Lambda accepted the invoke (202), so
 * an interrupted run loses nothing; a run that dies between the invoke and the delete re-drives
 * that one event again next time. Messages that are not failure records, and those whose invoke
 * failed, stay in the queue and are reported. Returns 0 when every message it received was
 * re-driven (or listed, with `--dry-run`), 1 otherwise.
 */
export async function runRedrive(options: RedriveOptions, io: Output): Promise<number> {
  const queueUrl = options.queueUrl;
  if (!queueUrl) throw new UsageError('redrive needs --queue-url (the stack output FailureQueueUrl)');
  if (options.function === '') throw new UsageError('--function needs a function name or ARN');
  const max = wholeNumber('--max', options.max, 1);
  const waitSeconds = wholeNumber('--wait-seconds', options.waitSeconds, 0, 20) ?? DEFAULT_WAIT_SECONDS;
  const dryRun = options.dryRun === true;

  // Region, credentials and endpoints (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_LAMBDA) come from the SDK's own chain.
  const sqs = new SQSClient({});
  const lambda = new LambdaClient({});
  const counts = { redriven: 0, left: 0, skipped: 0 };
  const seen = new Set<string>();
  let received = 0;
  let ending = 'the queue has no more messages in view';
  let unreadable = false;

  const leave = (kind: 'left' | 'skipped', message: Message, why: string) => {
    counts[kind] += 1;
    io.err(`error: ${kind.padEnd(9)} message ${plain(message.MessageId ?? '?')}: ${why}; it stays in the queue`);
  };

  try {
    for (;;) {
      if (max !== undefined && received >= max) {
        ending = `stopped after --max ${max}`;
        break;
      }
      let message: Message | undefined;
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: dryRun ? DRY_RUN_VISIBILITY_TIMEOUT_SECONDS : VISIBILITY_TIMEOUT_SECONDS,
          }),
        );
        message = Messages[0];
      } catch (err) {
        io.err(`error: cannot receive from ${visible(queueUrl)}: ${errorText(err)}. Check the URL (stack output FailureQueueUrl), AWS_REGION and your credentials (sqs:ReceiveMessage, sqs:DeleteMessage).`);
        unreadable = true;
        ending = 'stopped: the queue could not be read';
        break;
      }
      if (!message) break;
      // A message this run already left or listed is back in view: everything else has been seen.
      if (message.MessageId !== undefined && seen.has(message.MessageId)) {
        ending = 'stopped where messages this run already handled came back into view';
        break;
      }
      if (message.MessageId !== undefined) seen.add(message.MessageId);
      received += 1;

      const parsed = parseFailureRecord(message.Body);
      if ('notRecord' in parsed) {
        leave('skipped', message, parsed.notRecord);
        continue;
      }
      const { record } = parsed;
      const target = options.function ?? record.requestContext?.functionArn;
      if (typeof target !== 'string' || target === '') {
        leave('skipped', message, 'the record names no function (requestContext.functionArn); pass --function');
        continue;
      }
      const line = `${recordLine(record)}  -> ${functionLabel(target)}`;
      if (dryRun) {
        counts.redriven += 1;
        io.out(`would re-drive  ${line}`);
        continue;
      }

      try {
        const { StatusCode } = await lambda.send(
          new InvokeCommand({ FunctionName: target, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(record.requestPayload)) }),
          { abortSignal: AbortSignal.timeout(INVOKE_TIMEOUT_MS) },
        );
        if (StatusCode !== 202) throw new Error(`Lambda answered ${StatusCode ?? 'no status'}, not 202 Accepted`);
      } catch (err) {
        leave('left', message, `${line}: the invoke failed (${errorText(err)})`);
        continue;
      }
      try {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      } catch (err) {
        leave('left', message, `${line}: invoked, but the delete failed (${errorText(err)}), so a later run re-drives it again`);
        continue;
      }
      counts.redriven += 1;
      io.out(`re-driven  ${line}`);
    }
  } finally {
    sqs.destroy();
    lambda.destroy();
  }

  const summary = dryRun
    ? `dry run: would re-drive ${counts.redriven}, skipped ${counts.skipped}; nothing invoked or deleted, and the listed messages stay out of view for ${DRY_RUN_VISIBILITY_TIMEOUT_SECONDS} s`
    : `re-driven ${counts.redriven}, left ${counts.left}, skipped ${counts.skipped}`;
  io.err(`${summary} (${ending})`);
  return unreadable || counts.left > 0 || counts.skipped > 0 ? 1 : 0;
}
