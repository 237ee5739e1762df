/**
 * The Lambda entry point: the only module that reads process.env, builds AWS SDK clients and
 * touches the Lambda context. Everything it does is in the core; this file wires the edge.
 */
// First: its effect must come before any other module's code runs (see tiering.ts).
import './tiering';
import { createHash, randomUUID } from 'node:crypto';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { DynamoDbDedupeStore } from './adapters/dynamodb-dedupe-store';
import { createPowertoolsLogger } from './adapters/powertools-logger';
import { logFiles } from './adapters/s3-log-listing';
import { S3LogReader } from './adapters/s3-log-reader';
import { SnsAlertPublisher } from './adapters/sns-publisher';
import { ENV, loadConfig, type Config } from './config';
import { s3EventFor } from './core/ingest/s3-event';
import { failureOf, processEvent, type EventResult, type ProcessPorts } from './core/pipeline/process';
import type { AlertPublisher } from './core/ports';
import { createRuleEngine, type RuleEngine } from './core/rules/evaluate';
import type { Alert } from './core/types';
import { ConfigError, InvocationFailedError } from './errors';

const SERVICE = 'acm-sentinel';
const { powertools, logger } = createPowertoolsLogger(SERVICE);
const metrics = new Metrics({ namespace: 'AcmSentinel', serviceName: SERVICE });
// Clients live at module scope so warm invocations reuse their connections; endpoints and
// region come from the SDK's standard environment settings.
// Time bounds: no connection waits past 3 s; an S3 body that sends nothing for 10 s fails (its
// object is named and retried); an SNS attempt fails after 5 s, so three attempts stay inside a
// claim's lease.
const S3_TIMEOUTS = { connectionTimeout: 3_000, socketTimeout: 10_000 };
const defaultS3 = new S3Client({ requestHandler: S3_TIMEOUTS });

/**
 * The client that reads log files: the default one, or, for a bucket in another account, one
 * whose credentials come from assuming the log account's read role (renewed by the SDK before
 * they expire) and which talks to the bucket's Region.
 */
function logFilesClient(config: Config): S3Client {
  if (!config.logReaderRoleArn && !config.logBucketRegion) return defaultS3;
  return new S3Client({
    requestHandler: S3_TIMEOUTS,
    ...(config.logBucketRegion ? { region: config.logBucketRegion } : {}),
    // Required only here: a function reading its own account's bucket never loads the credential providers.
    ...(config.logReaderRoleArn
      ? { credentials: (require('./adapters/log-reader-credentials') as typeof import('./adapters/log-reader-credentials')).logReaderCredentials(config.logReaderRoleArn) }
      : {}),
  });
}
const sns = new SNSClient({ requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true, socketTimeout: 5_000 } });
// A claim or mark that hangs must not outlive the invocation either.
const dynamodb = new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000, throwOnRequestTimeout: true, socketTimeout: 3_000 } });

interface Runtime {
  readonly config: Config;
  /** The client that reads log files (the read role's, for a bucket in another account). */
  readonly logs: S3Client;
  readonly engine: RuleEngine;
  readonly ports: ProcessPorts;
}
let runtime: Runtime | undefined;

// Configuration is validated on first use and kept for the container's life; a bad value fails
// every invocation loudly, with the variable named, instead of alerting on the wrong rules.
function init(): Runtime {
  if (!runtime) {
    const config = loadConfig(process.env);
    const logs = logFilesClient(config);
    return (runtime = {
      config,
      logs,
      engine: createRuleEngine(config.rules),
      ports: {
        reader: new S3LogReader(logs),
        publisher: new SnsAlertPublisher(sns, config.topicArn),
        logger,
        ...(config.dedupeTableName ? { dedupe: new DynamoDbDedupeStore(dynamodb, config.dedupeTableName, Date.now, config.claimLeaseMs) } : {}),
      },
    });
  }
  return runtime;
}

/** What one invocation did, returned to the caller (the local `invoke` command prints it). */
export interface HandlerSummary {
  objects: Array<{ bucket: string; key: string; records: number; acmRecords: number; alerts: number; published: number; duplicates: number; error?: string }>;
  skipped: Array<{ bucket: string; key: string; reason: string }>;
  /** SQS messages that could not be understood, each with the shape it had. */
  unreadable: string[];
  /** Real-time events (EventBridge): per delivery, alerts, published, duplicates (already sent by the log path), deferred (a burst). */
  realtime: Array<{ records: number; alerts: number; published: number; duplicates: number; deferred: number; error?: string }>;
  published: number;
}

function summarize(result: EventResult): HandlerSummary {
  return {
    objects: result.objects.map((object) => ({ ...object })),
    skipped: result.skipped.map((skip) => ({ ...skip })),
    unreadable: [...result.unreadable],
    realtime: result.realtime.map((entry) => ({ ...entry })),
    published: result.published.length,
  };
}

/** One set of Embedded Metric Format metrics per invocation, so alarms can watch failures and volume. */
function emitMetrics(result: EventResult): void {
  const sum = (field: 'records' | 'acmRecords' | 'alerts' | 'duplicates') => result.objects.reduce((n, object) => n + object[field], 0);
  metrics.addMetric('Objects', MetricUnit.Count, result.objects.length);
  metrics.addMetric('Records', MetricUnit.Count, sum('records'));
  metrics.addMetric('AcmRecords', MetricUnit.Count, sum('acmRecords'));
  metrics.addMetric('Alerts', MetricUnit.Count, sum('alerts') + result.realtime.reduce((n, entry) => n + entry.alerts, 0));
  metrics.addMetric('AlertsPublished', MetricUnit.Count, result.published.length);
  metrics.addMetric('Skipped', MetricUnit.Count, result.skipped.length);
  metrics.addMetric('ObjectFailures', MetricUnit.Count, result.objects.filter((object) => object.error).length);
  const realtime = (field: 'records' | 'duplicates' | 'deferred') => result.realtime.reduce((n, entry) => n + entry[field], 0);
  metrics.addMetric('DuplicatesSuppressed', MetricUnit.Count, sum('duplicates') + realtime('duplicates'));
  metrics.addMetric('RealtimeEvents', MetricUnit.Count, realtime('records'));
  metrics.addMetric('RealtimeDeferred', MetricUnit.Count, realtime('deferred'));
  metrics.addMetric('DedupeUnavailable', MetricUnit.Count, result.dedupeUnavailable ? 1 : 0);
  metrics.addMetric('ClaimsBusy', MetricUnit.Count, result.claimsBusy);
  metrics.addMetric('ClaimRaces', MetricUnit.Count, result.claimRaces);
  metrics.publishStoredMetrics();
}

/** Lambda's partial batch response for an SQS event source mapping with `ReportBatchItemFailures`. */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/**
 * One invocation: every object the event names (any accepted shape), processed and published.
 * Throws, with the summary attached, when an object failed and the event is not an SQS batch, so
 * Lambda retries it; for an SQS batch the failed messages are listed in `batchResponse` instead.
 */
export async function handleEvent(event: unknown, context?: Context): Promise<{ summary: HandlerSummary; batchResponse?: SqsBatchResponse }> {
  if (context) powertools.addContext(context);
  const { config, engine, ports } = init();
  const result = await processEvent(ports, event, {
    engine,
    maxDecompressedBytes: config.maxDecompressedBytes,
    inflate: config.inflate,
    stormThreshold: config.rules.stormThreshold,
    ...(context ? { remainingTimeMs: () => context.getRemainingTimeInMillis(), owner: `${context.awsRequestId}/${randomUUID()}` } : {}),
  });
  emitMetrics(result);
  const summary = summarize(result);
  const failure = failureOf(result);
  if (result.batchItemFailures) {
    if (failure) logger.error('some messages of the batch failed and will be retried', { error: failure.message, failedMessages: result.batchItemFailures.length });
    return { summary, batchResponse: { batchItemFailures: result.batchItemFailures.map((itemIdentifier) => ({ itemIdentifier })) } };
  }
  if (failure) throw Object.assign(failure, { summary });
  return { summary };
}

/** The Lambda entry point: the summary, or for an SQS batch exactly the partial batch response Lambda reads. */
export const handler = async (event: unknown, context?: Context): Promise<HandlerSummary | SqsBatchResponse> => {
  const { summary, batchResponse } = await handleEvent(event, context);
  return batchResponse ?? summary;
};

const REPORT_ONLY: AlertPublisher = { publish: async (alerts) => ({ published: [...alerts], failed: [] }) };

/** One batch of a backfill's Distributed Map: day folders of the trail bucket, and the run's settings. */
export interface BackfillBatch {
  Items: Array<{ prefix: string }>;
  BatchInput: { bucket: string; since: string; until: string; publish?: boolean; execution: string };
}

/** What one backfill batch found; the state machine's ResultWriter keeps it in the run's summary. */
export interface BackfillBatchResult {
  prefixes: number;
  objects: number;
  records: number;
  alerts: number;
  published: number;
  duplicates: number;
  findings?: string;
  failed: string[];
}

/**
 * The backfill entry point, the same code as `handler`: each day folder of the batch is listed
 * and every log file in the range scanned. Findings go to the report bucket as JSON lines; with
 * `publish`, alerts also go through the alert topic with the same claims as the live path, so
 * none already sent is sent again. Fails (for Step Functions to retry) when a file could not be read.
 */
export async function backfill(batch: BackfillBatch): Promise<BackfillBatchResult> {
  const { config, engine, ports, logs } = init();
  const reportBucket = process.env[ENV.reportBucket];
  if (!reportBucket) throw new ConfigError(`${ENV.reportBucket} must name the backfill report bucket; the CDK stack sets it with -c backfill=true`);
  const { bucket, since, until, publish, execution } = batch.BatchInput;
  const range = { since: new Date(since), until: new Date(until) };
  const result: BackfillBatchResult = { prefixes: batch.Items.length, objects: 0, records: 0, alerts: 0, published: 0, duplicates: 0, failed: [] };
  const found: Alert[] = [];
  for (const { prefix } of batch.Items) {
    for (const { key, size } of await logFiles(logs, bucket, prefix, range)) {
      const event = s3EventFor(bucket, key, size);
      const outcome = publish
        ? await processEvent(ports, event, { engine, maxDecompressedBytes: config.maxDecompressedBytes, inflate: config.inflate, stormThreshold: config.rules.stormThreshold })
        : // Report only: nothing is published, and nothing is claimed, so a later --publish run still sends it.
          await processEvent({ reader: ports.reader, logger: ports.logger, publisher: REPORT_ONLY }, event, { engine, maxDecompressedBytes: config.maxDecompressedBytes, inflate: config.inflate, stormThreshold: 0 });
      const object = outcome.objects[0];
      result.objects += 1;
      result.records += object?.records ?? 0;
      result.alerts += object?.alerts ?? 0;
      result.duplicates += object?.duplicates ?? 0;
      if (publish) result.published += outcome.published.length;
      found.push(...outcome.published);
      if (object?.error) result.failed.push(object.error);
    }
  }
  if (found.length) {
    const key = `findings/${execution}/${createHash('sha256').update(batch.Items.map((item) => item.prefix).join('\n')).digest('hex').slice(0, 16)}.jsonl`;
    await defaultS3.send(new PutObjectCommand({ Bucket: reportBucket, Key: key, Body: `${found.map((alert) => JSON.stringify(alert)).join('\n')}\n`, ContentType: 'application/x-ndjson' }));
    result.findings = `s3://${reportBucket}/${key}`;
  }
  logger.info('backfill batch', { ...result, failed: result.failed.length });
  if (result.failed.length) throw new InvocationFailedError(`${result.failed.length} log files could not be read: ${result.failed.join(' | ')}`);
  return result;
}
