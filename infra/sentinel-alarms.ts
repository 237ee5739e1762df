import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import type { AlertTopic } from './alert-topic';
import type { SentinelFunction } from './sentinel-function';

export interface SentinelAlarmsProps {
  readonly sentinel: SentinelFunction;
  readonly alertTopic: AlertTopic;
  /** Prefix of every alarm name; the alert topic admits only alarms named with it. */
  readonly alarmNamePrefix: string;
}

/**
 * Tells the people who receive alerts when alerts may be missing: the function failed, was
 * throttled, or left events in its failure queue, or Lambda could not even deliver to that queue.
 */
export class SentinelAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: SentinelAlarmsProps) {
    super(scope, id);
    const fn = props.sentinel.function;
    const period = Duration.minutes(5);
    const atLeastOnce = (alarmId: string, name: string, description: string, metric: cloudwatch.IMetric): cloudwatch.Alarm =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${props.alarmNamePrefix}${name}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means no invocations and an empty queue: nothing is wrong.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    this.alarms = [
      atLeastOnce(
        'FunctionErrors',
        'function-errors',
        'acm-sentinel failed to process a CloudTrail log file; Lambda retries it, then keeps the event in the failure queue. See the function logs.',
        fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
      ),
      atLeastOnce(
        'FunctionThrottles',
        'function-throttles',
        'acm-sentinel was throttled; alerts are delayed, and events older than the maximum event age go to the failure queue. Check the account concurrency.',
        fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
      ),
      atLeastOnce(
        'FailureQueueDepth',
        'failure-queue-not-empty',
        'Events acm-sentinel could not process are waiting in its failure queue: the log files they name were not checked. Fix the cause, then re-drive them.',
        props.sentinel.failureQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      ),
      atLeastOnce(
        'FailureDeliveryFailures',
        'failure-destination-delivery-failures',
        'Lambda could not deliver failed acm-sentinel events to the failure queue: those events are lost. Check the queue and the function role.',
        fn.metric('DestinationDeliveryFailures', { period, statistic: cloudwatch.Stats.SUM }),
      ),
    ];
    const notify = new actions.SnsAction(props.alertTopic.topic);
    for (const alarm of this.alarms) alarm.addAlarmAction(notify);
  }
}
