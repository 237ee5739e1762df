import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { AlertTopic } from './alert-topic';

/**
 * The heartbeat alarm's period. Each hour without an invocation is one breaching period, so
 * `heartbeatHours` is simply the number of periods evaluated. An hour is the shortest period for
 * which CloudWatch looks back up to 7 days: below an hour, period × evaluation periods may not
 * exceed one day.
 */
export const HEARTBEAT_PERIOD = Duration.hours(1);
// PutMetricAlarm: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds".
const MAX_ALARM_EVALUATION_RANGE = Duration.days(7);
/** The longest heartbeat, in hours (168, 7 days): as many one-hour periods as one alarm may evaluate. */
export const MAX_HEARTBEAT_HOURS = MAX_ALARM_EVALUATION_RANGE.toHours() / HEARTBEAT_PERIOD.toHours();
/**
 * Hours without any invocation before the heartbeat alarm fires. A busy trail delivers log files
 * every few minutes; 3 hours rides out a quiet spell without leaving a broken pipeline unnoticed
 * for long.
 */
export const DEFAULT_HEARTBEAT_HOURS = 3;

/**
 * An alarm that fires when `fn` has not been invoked for `hours` whole hours. The other alarms
 * watch for failures, and a function that is never invoked fails nothing: this one watches for
 * the silence itself. No data is what silence looks like (Lambda emits no `Invocations` datapoint
 * for an hour without invocations), so missing data breaches.
 */
export function heartbeatAlarm(
  scope: Construct,
  id: string,
  props: { alarmName: string; fn: lambda.IFunction; hours: number; alertTopic: AlertTopic },
): cloudwatch.Alarm {
  const { hours } = props;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HEARTBEAT_HOURS) {
    throw new Error(`heartbeat hours must be a whole number from 1 to ${MAX_HEARTBEAT_HOURS}, got ${hours}`);
  }
  const span = hours === 1 ? '1 hour' : `${hours} hours`;
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription:
      `acm-sentinel has not been invoked for ${span}: no CloudTrail log file reached it, so ACM activity in that time went unchecked. ` +
      "Likely causes: the trail bucket's event notification to the function was removed or overwritten (each PutBucketNotificationConfiguration replaces the bucket's whole configuration, so another tool may have dropped it); " +
      'the trail stopped logging or delivering (aws cloudtrail get-trail-status: IsLogging, LatestDeliveryError); ' +
      "or the function cannot be invoked (S3's permission to invoke it removed, or its concurrency set to 0). " +
      'Fix the cause and redeploy the stack, which restores the notification and the permission; then scan the log files delivered meanwhile with acm-sentinel scan. ' +
      `If the account is simply quiet for that long, raise heartbeatHours (now ${hours}, at most ${MAX_HEARTBEAT_HOURS}).`,
    metric: props.fn.metricInvocations({ period: HEARTBEAT_PERIOD, statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    // Every one of the last `hours` hours must be empty: a single invocation is a heartbeat.
    evaluationPeriods: hours,
    datapointsToAlarm: hours,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
  props.alertTopic.notifyOnAlarm(alarm);
  return alarm;
}
