import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Alert } from '../core/types';
import { startDynamoDb, type LocalDynamoDb } from './dynamodb-local';
import { startEmulator, type Emulator } from './emulator';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * A local stand-in for the deployed stack: the emulator, an alert topic, and a queue subscribed
 * to it that plays the part of a subscriber, so what SNS delivered can be read back.
 */
export interface LocalSandbox {
  readonly emulator: Emulator;
  readonly topicArn: string;
  readonly queueUrl: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** Environment for the real handler: SDK endpoints pointed at the emulator, the topic ARN. */
  readonly handlerEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** One alert as a subscriber received it. */
export interface DeliveredAlert {
  readonly alert: Alert;
  readonly subject?: string;
  readonly messageAttributes: Record<string, string>;
  /** The email body, when the delivery carried the per-protocol bodies. */
  readonly email?: string;
  /** The chat card JSON, when the delivery carried the per-protocol bodies. */
  readonly chat?: unknown;
}

/** The dedupe table's name in a sandbox started with `dedupe`. */
export const SANDBOX_DEDUPE_TABLE = 'acm-sentinel-dedupe';

/**
 * Starts the emulator with the alert topic and its subscriber queue; with `dedupe`, also a local
 * DynamoDB (dynalite) holding the dedupe table, so several invocations share one claim store.
 */
export async function startSandbox(options: { dedupe?: boolean } = {}): Promise<LocalSandbox> {
  const emulator = await startEmulator();
  let dynamodb: LocalDynamoDb | undefined;
  try {
    if (options.dedupe) {
      dynamodb = await startDynamoDb();
      await dynamodb.createDedupeTable(SANDBOX_DEDUPE_TABLE);
    }
    const config = { region: REGION, credentials: CREDENTIALS, endpoint: emulator.endpoint };
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const sns = new SNSClient(config);
    const sqs = new SQSClient(config);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'acm-sentinel-alerts' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'acm-sentinel-subscriber' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn! }));
    sns.destroy();
    return {
      emulator,
      topicArn: TopicArn!,
      queueUrl: QueueUrl!,
      s3,
      sqs,
      handlerEnv: {
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_S3: emulator.endpoint,
        AWS_ENDPOINT_URL_SNS: emulator.endpoint,
        ALERT_TOPIC_ARN: TopicArn!,
        ...(dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint, DEDUPE_TABLE_NAME: SANDBOX_DEDUPE_TABLE } : {}),
      },
      stop: async () => {
        s3.destroy();
        sqs.destroy();
        await Promise.all([emulator.stop(), dynamodb?.stop()]);
      },
    };
  } catch (err) {
    await Promise.all([emulator.stop(), dynamodb?.stop()]);
    throw err;
  }
}

/** Creates the bucket if needed and uploads one object. */
export async function putObject(sandbox: LocalSandbox, bucket: string, key: string, body: Uint8Array): Promise<void> {
  await sandbox.s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
  await sandbox.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/**
 * Reads one SQS body as a subscriber sees it. Real SNS delivers the `sqs` body of a
 * `MessageStructure: "json"` message inside its envelope; the emulator delivers the whole JSON
 * document; both, and raw delivery, are handled.
 */
export function parseDelivery(body: string): DeliveredAlert {
  const outer = JSON.parse(body) as Record<string, unknown>;
  const isEnvelope = outer.Type === 'Notification' && typeof outer.Message === 'string';
  const message = isEnvelope ? (JSON.parse(outer.Message as string) as Record<string, unknown>) : outer;
  const perProtocol = typeof message.sqs === 'string';
  const alert = (perProtocol ? JSON.parse(message.sqs as string) : message) as Alert;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries((outer.MessageAttributes ?? {}) as Record<string, { Value?: string; StringValue?: string }>)) {
    attributes[name] = value.Value ?? value.StringValue ?? '';
  }
  return {
    alert,
    ...(isEnvelope && typeof outer.Subject === 'string' ? { subject: outer.Subject } : {}),
    messageAttributes: attributes,
    ...(perProtocol && typeof message.email === 'string' ? { email: message.email } : {}),
    ...(perProtocol && typeof message.default === 'string' ? { chat: JSON.parse(message.default) } : {}),
  };
}

/** Drains the subscriber queue: every delivery so far, in arrival order. */
export async function receiveDelivered(sandbox: LocalSandbox): Promise<DeliveredAlert[]> {
  const delivered: DeliveredAlert[] = [];
  for (;;) {
    const { Messages = [] } = await sandbox.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sandbox.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return delivered;
    delivered.push(...Messages.map((message) => parseDelivery(message.Body ?? '{}')));
    await sandbox.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: sandbox.queueUrl, Entries: Messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
}
