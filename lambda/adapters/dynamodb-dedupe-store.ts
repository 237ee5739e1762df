import { BatchGetItemCommand, DeleteItemCommand, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CLAIM_LEASE_MS } from '../config';
import type { ClaimOutcome, DedupeStore } from '../core/ports';

/**
 * How long an event ID is remembered: longer than the failure queue keeps an event (14 days), so
 * a redrive late in the second week still finds what was sent, plus two days of margin.
 */
export const DEDUPE_TTL_SECONDS = 16 * 24 * 3600;
/** Burst counters of the real-time path outlive their 5-minute window by a day. */
export const BURST_TTL_SECONDS = 24 * 3600;
const BATCH_GET_LIMIT = 100;
const CONCURRENCY = 16;
const UNPROCESSED_RETRIES = 3;

const NAMES = { '#state': 'state', '#owner': 'owner' };
const isConditionFailure = (err: unknown) => (err as { name?: string }).name === 'ConditionalCheckFailedException';

/**
 * Runs `work` over `items`, `CONCURRENCY` at a time, to the end even when some fail: no call is
 * still running when this returns. The first failure is thrown after all have finished, unless
 * `onError` takes it.
 */
async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>, onError?: (item: T, err: unknown) => void): Promise<void> {
  const queue = [...items];
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await work(item);
      } catch (err) {
        if (onError) onError(item, err);
        else failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  if (failure) throw failure.err;
}

/**
 * The dedupe store in a DynamoDB table with partition key `pk` (string) and TTL attribute
 * `expiresAt`. Each key's item is a claim (`state` pending, `owner`, `leaseUntil`) made with a
 * conditional write before its alert is published, then marked `sent` after. Items without a
 * `state` (written before claims existed) read as sent.
 */
export class DynamoDbDedupeStore implements DedupeStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    private readonly leaseMs: number = CLAIM_LEASE_MS,
  ) {}

  private expiresAt(): string {
    return String(Math.floor(this.now() / 1000) + DEDUPE_TTL_SECONDS);
  }

  async claim(keys: readonly string[], owner: string): Promise<ClaimOutcome> {
    const claimed: string[] = [];
    const sent: string[] = [];
    const busy: string[] = [];
    const unknown: string[] = [];
    let takenOver = 0;
    let failure: unknown;
    await eachLimited([...new Set(keys)], async (key) => {
      const now = this.now();
      try {
        const { Attributes } = await this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: key } },
            UpdateExpression: 'SET #state = :pending, #owner = :owner, leaseUntil = :lease, expiresAt = :ttl',
            // Free, or pending under an expired lease, or already this owner's (a second object of one invocation).
            ConditionExpression: 'attribute_not_exists(pk) OR (#state = :pending AND (leaseUntil < :now OR #owner = :owner))',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: {
              ':pending': { S: 'pending' },
              ':owner': { S: owner },
              ':lease': { N: String(now + this.leaseMs) },
              ':ttl': { N: this.expiresAt() },
              ':now': { N: String(now) },
            },
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        claimed.push(key);
        if (Attributes?.owner && Attributes.owner.S !== owner) takenOver += 1;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const { Item } = await this.dynamodb.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: key } }, ConsistentRead: true }));
        // Gone again (released or expired) between the two calls: another owner is at work, so wait for the retry.
        if (Item && Item.state?.S !== 'pending') sent.push(key);
        else busy.push(key);
      }
    }, (key, err) => {
      unknown.push(key);
      failure ??= err;
    });
    // Keys the store could not answer for: the caller fails open for them alone.
    return { claimed, sent, busy, takenOver, ...(unknown.length ? { unknown, error: failure } : {}) };
  }

  async markSent(keys: readonly string[], owner: string): Promise<{ raced: number }> {
    let raced = 0;
    await eachLimited([...new Set(keys)], async (key) => {
      const mark = (condition?: string) =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: key } },
            UpdateExpression: 'SET #state = :sent, expiresAt = :ttl REMOVE leaseUntil',
            ...(condition ? { ConditionExpression: condition } : {}),
            ExpressionAttributeNames: condition ? NAMES : { '#state': 'state' },
            ExpressionAttributeValues: { ':sent': { S: 'sent' }, ':ttl': { N: this.expiresAt() }, ...(condition ? { ':owner': { S: owner } } : {}) },
          }),
        );
      try {
        await mark('#owner = :owner');
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        // Another owner took the claim over after this one's lease ran out: it may publish again.
        raced += 1;
        await mark();
      }
    });
    return { raced };
  }

  async release(keys: readonly string[], owner: string): Promise<void> {
    await eachLimited([...new Set(keys)], async (key) => {
      try {
        await this.dynamodb.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: key } },
            ConditionExpression: '#owner = :owner AND #state = :pending',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: { ':owner': { S: owner }, ':pending': { S: 'pending' } },
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    });
  }

  /**
   * Adds an event to a burst's set (`burst#…`, kept a day) and returns how many distinct events
   * the burst holds, so a redelivered event is counted once.
   */
  async countBurst(key: string, eventId: string): Promise<number> {
    const { Attributes } = await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `burst#${key}` } },
        UpdateExpression: 'ADD #events :event SET expiresAt = if_not_exists(expiresAt, :ttl)',
        ExpressionAttributeNames: { '#events': 'events' },
        ExpressionAttributeValues: { ':event': { SS: [eventId] }, ':ttl': { N: String(Math.floor(this.now() / 1000) + BURST_TTL_SECONDS) } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Attributes?.events?.SS?.length ?? 1;
  }

  /** The keys among `keys` marked sent (or written before claims existed); for operators and tests. */
  async findSent(keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let request: Record<string, { S: string }>[] = unique.slice(i, i + BATCH_GET_LIMIT).map((key) => ({ pk: { S: key } }));
      for (let attempt = 0; request.length > 0; attempt += 1) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error(`DynamoDB left ${request.length} keys unprocessed after ${UNPROCESSED_RETRIES} retries`);
        const response = await this.dynamodb.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } } }));
        for (const item of response.Responses?.[this.tableName] ?? []) if (item.pk?.S && item.state?.S !== 'pending') found.add(item.pk.S);
        request = (response.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof request;
      }
    }
    return found;
  }
}
