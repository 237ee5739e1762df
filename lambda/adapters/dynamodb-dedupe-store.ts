import { BatchGetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DedupeStore } from '../core/ports';

/** How long a published event ID is remembered: longer than Lambda's retries and S3's redeliveries last. */
export const DEDUPE_TTL_SECONDS = 7 * 24 * 3600;
const BATCH_GET_LIMIT = 100;
const PUT_CONCURRENCY = 16;
const UNPROCESSED_RETRIES = 3;

/**
 * The dedupe store in a DynamoDB table with partition key `pk` (string) and TTL attribute
 * `expiresAt`. A key is written only after its alert was published, with a conditional put, so
 * a concurrent invocation that published the same event is noticed (and counted), not hidden.
 */
export class DynamoDbDedupeStore implements DedupeStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async findSent(keys: readonly string[]): Promise<Set<string>> {
    const sent = new Set<string>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let request: Record<string, { S: string }>[] = unique.slice(i, i + BATCH_GET_LIMIT).map((key) => ({ pk: { S: key } }));
      for (let attempt = 0; request.length > 0; attempt += 1) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error(`DynamoDB left ${request.length} keys unprocessed after ${UNPROCESSED_RETRIES} retries`);
        const response = await this.dynamodb.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true, ProjectionExpression: 'pk' } } }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) if (item.pk?.S) sent.add(item.pk.S);
        request = (response.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof request;
      }
    }
    return sent;
  }

  async recordSent(keys: readonly string[]): Promise<{ raced: number }> {
    const expiresAt = String(Math.floor(this.now() / 1000) + DEDUPE_TTL_SECONDS);
    const queue = [...new Set(keys)];
    let raced = 0;
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        try {
          await this.dynamodb.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: { pk: { S: key }, expiresAt: { N: expiresAt } },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (err) {
          if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
          raced += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, queue.length) }, worker));
    return { raced };
  }
}
