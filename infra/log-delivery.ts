import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigError } from '../lambda/errors';
import type { AlertTopic } from './alert-topic';
import { ALARM_PERIOD, alarmOnAny } from './sentinel-alarms';
import type { DeliverySettings } from './settings';
import { LOG_FILE_SUFFIX, type TrailSource } from './trail-source';

/** How long the delivery queue and its dead-letter queue keep a message: SQS's maximum. */
export const DELIVERY_QUEUE_RETENTION = Duration.days(14);
/** Receives of one message before it moves to the dead-letter queue (AWS suggests at least 5). */
export const MAX_RECEIVE_COUNT = 5;
/** Messages per invocation: each names one log file (or a few), and each fails or succeeds alone. */
export const DELIVERY_BATCH_SIZE = 10;

/** The EventBridge pattern of a new CloudTrail log file in `bucketName` under `logFilesPrefix` (`[prefix/]AWSLogs/`), from `account` when given. */
export function logFilesPattern(bucketName: string, logFilesPrefix: string, account?: string): events.EventPattern {
  return {
    source: ['aws.s3'],
    detailType: ['Object Created'],
    ...(account ? { account: [account] } : {}),
    detail: {
      bucket: { name: [bucketName] },
      // Only CloudTrail log files: not digests (CloudTrail-Digest/), Insights files, or AWS Config
      // files that share the bucket in AWS Control Tower's log archive.
      object: { key: events.Match.wildcard(`${logFilesPrefix.replace(/[\\*]/g, '\\$&')}*/CloudTrail/*${LOG_FILE_SUFFIX}`) },
    },
  };
}

export interface LogDeliveryProps {
  readonly trailSource: TrailSource;
  readonly function: lambda.IFunction;
  /** The function's timeout: the queue's visibility timeout is six times it, per AWS's guidance. */
  readonly functionTimeout: Duration;
  readonly settings: DeliverySettings;
  readonly alertTopic: AlertTopic;
  readonly alarmNamePrefix: string;
  /** Where events EventBridge could not deliver after its retries are kept (and alarmed). */
  readonly failureQueue: sqs.IQueue;
}

/**
 * How the function hears of each new log file: a bucket notification, the bucket's EventBridge
 * events, or an existing SNS topic (the bucket's events or the trail's own notifications),
 * optionally through an SQS queue with a dead-letter queue, partial batch responses and an alarm.
 */
export class LogDelivery extends Construct {
  /** The queue between the trigger and the function, with `queue=true`. */
  readonly queue?: sqs.Queue;
  /** Where messages that failed every receive are kept, raw, with `queue=true`. */
  readonly deadLetterQueue?: sqs.Queue;
  /** The EventBridge rule, with `trigger=eventbridge`. */
  readonly rule?: events.Rule;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: LogDeliveryProps) {
    super(scope, id);
    const { settings, trailSource } = props;
    if (settings.queue) {
      this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: DELIVERY_QUEUE_RETENTION,
      });
      this.queue = new sqs.Queue(this, 'Queue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: DELIVERY_QUEUE_RETENTION,
        // AWS: at least six times the function's timeout, so a message is not received again while a batch still runs.
        visibilityTimeout: Duration.seconds(props.functionTimeout.toSeconds() * 6),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      });
      props.function.addEventSource(new SqsEventSource(this.queue, { batchSize: DELIVERY_BATCH_SIZE, reportBatchItemFailures: true }));
    }

    if (settings.trigger === 's3') {
      trailSource.notifyOnLogFiles(this.queue ? new s3n.SqsDestination(this.queue) : new s3n.LambdaDestination(props.function));
    } else if (settings.trigger === 'eventbridge') {
      this.rule = new events.Rule(this, 'LogFileCreated', {
        description: 'acm-sentinel: a new CloudTrail log file in the trail bucket',
        eventPattern: logFilesPattern(trailSource.bucket.bucketName, trailSource.logFilesPrefix, trailSource.account),
        targets: [
          this.queue
            ? new targets.SqsQueue(this.queue)
            : new targets.LambdaFunction(props.function, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: props.failureQueue }),
        ],
      });
      // A bucket this stack creates sends its events to EventBridge; an existing one is turned on by its owner (docs/deploy.md).
      if (trailSource.trail) trailSource.acknowledgeNotificationsHandler();
      // A bucket in another account: AcmSentinelLogSource forwards its events to this account's default bus.
      if (trailSource.account) {
        new events.CfnEventBusPolicy(this, 'LogAccountMayForward', {
          eventBusName: 'default',
          statementId: `acm-sentinel-log-files-from-${trailSource.account}`,
          statement: {
            Effect: 'Allow',
            Principal: { AWS: `arn:${Stack.of(this).partition}:iam::${trailSource.account}:root` },
            Action: 'events:PutEvents',
            Resource: `arn:${Stack.of(this).partition}:events:${Stack.of(this).region}:${Stack.of(this).account}:event-bus/default`,
            Condition: { 'ForAllValues:StringEquals': { 'events:source': ['aws.s3'], 'events:detail-type': ['Object Created'] } },
          },
        });
      }
    } else {
      const topicArn = settings.trailTopicArn!;
      const region = Stack.of(this).region;
      const topicRegion = topicArn.split(':')[3];
      if (!Token.isUnresolved(region) && topicRegion !== region) {
        throw new ConfigError(`context "trailTopicArn": the topic is in ${topicRegion} but the stack deploys to ${region}. Deploy the stack to ${topicRegion}, where the topic is.`);
      }
      const topic = sns.Topic.fromTopicArn(this, 'TrailTopic', topicArn);
      topic.addSubscription(this.queue ? new subscriptions.SqsSubscription(this.queue) : new subscriptions.LambdaSubscription(props.function));
    }

    this.alarms = this.deadLetterQueue
      ? [
          alarmOnAny(this, 'DeadLetterQueueDepth', {
            alarmName: `${props.alarmNamePrefix}delivery-dead-letter-queue-not-empty`,
            description: `Log file deliveries failed ${MAX_RECEIVE_COUNT} times and wait in the delivery dead-letter queue: the log files they name were not checked. Fix the cause, then redrive them to the delivery queue (SQS "Start DLQ redrive").`,
            metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
            alertTopic: props.alertTopic,
          }),
        ]
      : [];
  }
}
