import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { AlertTopic } from './alert-topic';
import { DEFAULT_HEARTBEAT_HOURS, heartbeatAlarm } from './heartbeat-alarm';
import { SENTINEL_METRICS_NAMESPACE, SENTINEL_SERVICE_NAME, type SentinelFunction } from './sentinel-function';

/** How long each alarm's metric is summed over; one bad period is enough to tell someone. */
export const ALARM_PERIOD = Duration.minutes(5);

export interface SentinelAlarmsProps {
  readonly sentinel: SentinelFunction;
  readonly alertTopic: AlertTopic;
  /** Prefix of every alarm name; the alert topic admits only alarms named with it. */
  readonly alarmNamePrefix: string;
  /** Whether the function deduplicates through its table, so that losing the table deserves an alarm. @default false */
  readonly dedupe?: boolean;
  /**
   * Hours without any invocation of the function after which the heartbeat alarm fires: a whole
   * number from 1 to `MAX_HEARTBEAT_HOURS`, or 0 for no heartbeat alarm.
   * @default DEFAULT_HEARTBEAT_HOURS (3)
   */
  readonly heartbeatHours?: number;
}

/**
 * An alarm that fires on the first occurrence of `metric` in a period and notifies the alert
 * topic (and the alarm topic, if any). Shared by every alarm of the stack so they all read alike.
 */
export function alarmOnAny(
  scope: Construct,
  id: string,
  props: { alarmName: string; description: string; metric: cloudwatch.IMetric; alertTopic: AlertTopic },
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.description,
    metric: props.metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // No data means no invocations and an empty queue: nothing is wrong.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  props.alertTopic.notifyOnAlarm(alarm);
  return alarm;
}

/**
 * Tells the people who receive alerts when alerts may be missing: the function failed, was
 * throttled, could not read a log file, or left events in its failure queue, or Lambda could not
 * even deliver to that queue, or it has not been invoked at all for `heartbeatHours`; and when
 * they may be repeated, because the dedupe table was out of reach.
 */
export class SentinelAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];
  /** The alarm on the function not being invoked, unless `heartbeatHours` is 0. */
  readonly heartbeat?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SentinelAlarmsProps) {
    super(scope, id);
    const fn = props.sentinel.function;
    const period = ALARM_PERIOD;
    const atLeastOnce = (alarmId: string, name: string, description: string, metric: cloudwatch.IMetric): cloudwatch.Alarm =>
      alarmOnAny(this, alarmId, { alarmName: `${props.alarmNamePrefix}${name}`, description, metric, alertTopic: props.alertTopic });
    // Powertools Metrics adds the service name as the one default dimension, named "service";
    // an alarm must name exactly the dimensions the metric was emitted with.
    const functionMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: SENTINEL_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SENTINEL_SERVICE_NAME },
        period,
        statistic: cloudwatch.Stats.SUM,
      });

    const heartbeatHours = props.heartbeatHours ?? DEFAULT_HEARTBEAT_HOURS;
    if (heartbeatHours !== 0) {
      this.heartbeat = heartbeatAlarm(this, 'Heartbeat', {
        alarmName: `${props.alarmNamePrefix}no-invocations`,
        fn,
        hours: heartbeatHours,
        alertTopic: props.alertTopic,
      });
    }

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
        'Events acm-sentinel could not process are waiting in its failure queue: the log files or alerts they name were not handled. Fix the cause, then re-drive them.',
        props.sentinel.failureQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      ),
      atLeastOnce(
        'FailureDeliveryFailures',
        'failure-destination-delivery-failures',
        'Lambda could not deliver failed acm-sentinel events to the failure queue: those events are lost. Check the queue and the function role.',
        fn.metric('DestinationDeliveryFailures', { period, statistic: cloudwatch.Stats.SUM }),
      ),
      atLeastOnce(
        'ObjectFailures',
        'object-failures',
        'acm-sentinel could not read or check a CloudTrail log file (access denied, corrupt, or larger than its decompression limit); the invocation is retried. The function logs name the bucket, the key and the cause.',
        functionMetric('ObjectFailures'),
      ),
      ...(props.dedupe
        ? [
            atLeastOnce(
              'DedupeUnavailable',
              'dedupe-unavailable',
              'acm-sentinel could not reach its DynamoDB dedupe table and published without it: a retried log file may repeat alerts already sent. Check the table and the function role.',
              functionMetric('DedupeUnavailable'),
            ),
          ]
        : []),
      ...(this.heartbeat ? [this.heartbeat] : []),
    ];
  }
}
