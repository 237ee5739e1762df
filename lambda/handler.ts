/**
 * The Lambda entry point: the only module that reads process.env, builds AWS SDK clients and
 * touches the Lambda context. Everything it does is in the core; this file wires the edge.
 */
import { randomUUID } from 'node:crypto';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { DynamoDbDedupeStore } from './adapters/dynamodb-dedupe-store';
import { createPowertoolsLogger } from './adapters/powertools-logger';
import { S3LogReader } from './adapters/s3-log-reader';
import { SnsAlertPublisher } from './adapters/sns-publisher';
import { loadConfig, type Config } from './config';
import { failureOf, processS3Event, type EventResult, type ProcessPorts } from './core/pipeline/process';
import { createRuleEngine, type RuleEngine } from './core/rules/evaluate';

const SERVICE = 'acm-sentinel';
const { powertools, logger } = createPowertoolsLogger(SERVICE);
const metrics = new Metrics({ namespace: 'AcmSentinel', serviceName: SERVICE });
// Clients live at module scope so warm invocations reuse their connections; endpoints and
// region come from the SDK's standard environment settings.
// Time bounds: no connection waits past 3 s; an S3 body that sends nothing for 10 s fails (its
// object is named and retried); an SNS attempt fails after 5 s, so three attempts stay inside a
// claim's lease.
const s3 = new S3Client({ requestHandler: { connectionTimeout: 3_000, socketTimeout: 10_000 } });
const sns = new SNSClient({ requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true, socketTimeout: 5_000 } });
// A claim or mark that hangs must not outlive the invocation either.
const dynamodb = new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000, throwOnRequestTimeout: true, socketTimeout: 3_000 } });

interface Runtime {
  readonly config: Config;
  readonly engine: RuleEngine;
  readonly ports: ProcessPorts;
}
let runtime: Runtime | undefined;

// Configuration is validated on first use and kept for the container's life; a bad value fails
// every invocation loudly, with the variable named, instead of alerting on the wrong rules.
function init(): Runtime {
  if (!runtime) {
    const config = loadConfig(process.env);
    return (runtime = {
      config,
      engine: createRuleEngine(config.rules),
      ports: {
        reader: new S3LogReader(s3),
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
  published: number;
}

function summarize(result: EventResult): HandlerSummary {
  return {
    objects: result.objects.map((object) => ({ ...object })),
    skipped: result.skipped.map((skip) => ({ ...skip })),
    published: result.published.length,
  };
}

/** One set of Embedded Metric Format metrics per invocation, so alarms can watch failures and volume. */
function emitMetrics(result: EventResult): void {
  const sum = (field: 'records' | 'acmRecords' | 'alerts' | 'duplicates') => result.objects.reduce((n, object) => n + object[field], 0);
  metrics.addMetric('Objects', MetricUnit.Count, result.objects.length);
  metrics.addMetric('Records', MetricUnit.Count, sum('records'));
  metrics.addMetric('AcmRecords', MetricUnit.Count, sum('acmRecords'));
  metrics.addMetric('Alerts', MetricUnit.Count, sum('alerts'));
  metrics.addMetric('AlertsPublished', MetricUnit.Count, result.published.length);
  metrics.addMetric('Skipped', MetricUnit.Count, result.skipped.length);
  metrics.addMetric('ObjectFailures', MetricUnit.Count, result.objects.filter((object) => object.error).length);
  metrics.addMetric('DuplicatesSuppressed', MetricUnit.Count, sum('duplicates'));
  metrics.addMetric('DedupeUnavailable', MetricUnit.Count, result.dedupeUnavailable ? 1 : 0);
  metrics.addMetric('ClaimsBusy', MetricUnit.Count, result.claimsBusy);
  metrics.addMetric('ClaimRaces', MetricUnit.Count, result.claimRaces);
  metrics.publishStoredMetrics();
}

export const handler = async (event: unknown, context?: Context): Promise<HandlerSummary> => {
  if (context) powertools.addContext(context);
  const { config, engine, ports } = init();
  const result = await processS3Event(ports, event, {
    engine,
    maxDecompressedBytes: config.maxDecompressedBytes,
    stormThreshold: config.rules.stormThreshold,
    ...(context ? { remainingTimeMs: () => context.getRemainingTimeInMillis(), owner: `${context.awsRequestId}/${randomUUID()}` } : {}),
  });
  emitMetrics(result);
  const summary = summarize(result);
  const failure = failureOf(result);
  if (failure) throw Object.assign(failure, { summary });
  return summary;
};
