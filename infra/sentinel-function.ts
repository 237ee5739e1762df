import * as path from 'node:path';
import { Duration, Token, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambda/config';
import type { RuleConfig } from '../lambda/core/rules/rule-config';
import { ConfigError } from '../lambda/errors';
import type { AlertTopic } from './alert-topic';
import { bundledFunction, REPO_ROOT } from './bundled-function';
import type { DedupeTable } from './dedupe-table';
import type { TrailSource } from './trail-source';

/** The service name the function logs and emits its metrics under (Powertools' `service` dimension). */
export const SENTINEL_SERVICE_NAME = 'acm-sentinel';
/** The CloudWatch namespace of the function's Embedded Metric Format metrics. */
export const SENTINEL_METRICS_NAMESPACE = 'AcmSentinel';

// Sized from `npm run bench` (docs/performance.md): with the whole function loaded, the streaming
// scanner's peak RSS is 92–100 MB on one CPU, where it inflates on its main thread, flat from
// 100,000 to 400,000 records, so 512 MB holds it with room for a burst of alerts; past that, memory
// only buys CPU. The 400,000-record file (500 MB of JSON) takes about 0.47 s of CPU, so about 1.6 s
// at 512 MB's share of one vCPU.
/** Memory of the function, in MB. */
export const SENTINEL_MEMORY_MB = 512;
/** Timeout of one invocation, which may carry several large log files; the handler stops starting new ones 30 s before it. */
export const SENTINEL_TIMEOUT = Duration.minutes(5);

/**
 * How long the failure queue keeps an event before SQS deletes it: SQS's maximum. The dedupe
 * store must remember what was sent for longer, or a redrive late in this window repeats alerts.
 */
export const FAILURE_QUEUE_RETENTION = Duration.days(14);

/** The Lambda handler, bundled by esbuild from the TypeScript source. */
export const SENTINEL_ENTRY = path.join(REPO_ROOT, 'lambda', 'handler.ts');

// Lambda refuses a function whose environment variables exceed 4 KB in total.
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

export interface SentinelFunctionProps {
  /** Where the log files come from; the function may read only those. */
  readonly trailSource: TrailSource;
  /** Where alerts go; the function may publish only there. */
  readonly alertTopic: AlertTopic;
  /** Validated rule configuration, passed to the function as JSON. */
  readonly ruleConfig: RuleConfig;
  /** Upper bound on one decompressed log file, in bytes. @default the function's built-in limit */
  readonly maxDecompressedBytes?: number;
  /** Where the function remembers the events it alerted on. @default none: no deduplication across invocations */
  readonly dedupeTable?: DedupeTable;
  /** A fixed role name, for a log bucket in another account whose read role trusts it by name. @default generated */
  readonly roleName?: string;
}

/**
 * The acm-sentinel Lambda: invoked for each new log file (see LogDelivery), with a role written by hand,
 * its own log group, and an encrypted SQS queue that keeps the events it failed to process.
 */
export class SentinelFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  /** Events that failed every attempt or grew too old; its depth is alarmed. */
  readonly failureQueue: sqs.Queue;
  readonly logGroup: logs.LogGroup;
  /** The function's environment, for other entry points of the same code (the backfill). */
  readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: SentinelFunctionProps) {
    super(scope, id);

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: FAILURE_QUEUE_RETENTION,
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the last stop for failed events: nothing consumes it automatically, its messages are kept ${FAILURE_QUEUE_RETENTION.toDays()} days, and a non-empty queue raises an alarm to a human.`,
    });

    const environment: Record<string, string> = {
      [ENV.topicArn]: props.alertTopic.topic.topicArn,
      [ENV.ruleConfig]: JSON.stringify(props.ruleConfig),
      POWERTOOLS_SERVICE_NAME: SENTINEL_SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...(props.maxDecompressedBytes !== undefined ? { [ENV.maxDecompressedBytes]: String(props.maxDecompressedBytes) } : {}),
      ...(props.dedupeTable ? { [ENV.dedupeTable]: props.dedupeTable.table.tableName } : {}),
      ...(props.trailSource.readerRoleArn ? { [ENV.logReaderRoleArn]: props.trailSource.readerRoleArn } : {}),
      ...(props.trailSource.region ? { [ENV.logBucketRegion]: props.trailSource.region } : {}),
    };
    // The topic ARN and table name are still tokens here; 256 bytes bound any real one.
    const environmentBytes = Object.entries(environment).reduce(
      (sum, [name, value]) => sum + Buffer.byteLength(name) + (Token.isUnresolved(value) ? 256 : Buffer.byteLength(value)),
      0,
    );
    if (environmentBytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
      throw new ConfigError(
        `context "ruleConfig": its JSON (${Buffer.byteLength(environment[ENV.ruleConfig] ?? '')} bytes) does not fit in the function's environment, which Lambda limits to 4 KB in all. Shorten it, e.g. with globs in ignorePrincipals instead of long lists.`,
      );
    }

    const built = bundledFunction(this, {
      description: 'acm-sentinel: alerts on sensitive ACM activity in CloudTrail log files',
      roleDescription: 'acm-sentinel: reads CloudTrail log files, publishes alerts',
      entry: SENTINEL_ENTRY,
      memorySize: SENTINEL_MEMORY_MB,
      timeout: SENTINEL_TIMEOUT,
      environment,
      failureQueue: this.failureQueue,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    this.function = built.function;
    this.environment = environment;
    this.role = built.role;
    this.logGroup = built.logGroup;

    props.trailSource.grantReadLogFiles(this.role);
    props.alertTopic.grantPublish(this.role);
    props.dedupeTable?.grantDedupe(this.role);
  }
}
