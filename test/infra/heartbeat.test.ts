import { Match, type Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_HEARTBEAT_HOURS, HEARTBEAT_PERIOD, MAX_HEARTBEAT_HOURS } from '../../infra/heartbeat-alarm';
import { ConfigError } from '../../lambda/errors';
import { build } from './build';

const HEARTBEAT_ALARM = 'AcmSentinel-no-invocations';
// PutMetricAlarm refuses Period × EvaluationPeriods above 7 days, and above 1 day for periods under an hour.
const SEVEN_DAYS_S = 7 * 24 * 3600;
// AlarmDescription in AWS::CloudWatch::Alarm: 0-1024 characters.
const DESCRIPTION_LIMIT = 1024;

const ref = (logicalIdPrefix: string) => ({ Ref: Match.stringLikeRegexp(`^${logicalIdPrefix}`) });

interface AlarmProperties {
  AlarmName: string;
  AlarmDescription: string;
  Period: number;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Dimensions: unknown[];
  AlarmActions: unknown[];
}

function heartbeatOf(template: Template): AlarmProperties | undefined {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Invocations' } })) as Array<{ Properties: AlarmProperties }>;
  if (alarms.length > 1) throw new Error(`expected at most one alarm on Invocations, found ${alarms.length}`);
  return alarms[0]?.Properties;
}

describe('the heartbeat alarm, by default', () => {
  const { template } = build();

  it(`fires when the sentinel function has had no invocation in each of the last ${DEFAULT_HEARTBEAT_HOURS} hours, and notifies the alert topic`, () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: HEARTBEAT_ALARM,
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: ref('SentinelFunction') }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmActions: [ref('AlertTopic')],
    });
  });

  it('treats an hour without data as breaching, since Lambda emits no Invocations datapoint for an hour without invocations', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: HEARTBEAT_ALARM, TreatMissingData: 'breaching' });
  });

  it('says what it catches and what to do, within the 1024 characters CloudWatch allows', () => {
    const description = heartbeatOf(template)!.AlarmDescription;
    expect(description).toMatch(/not been invoked for 3 hours/);
    expect(description).toMatch(/event notification to the function was removed or overwritten/);
    expect(description).toMatch(/trail stopped logging/);
    expect(description).toMatch(/function cannot be invoked/);
    expect(description).toMatch(/redeploy the stack/);
    expect(description).toMatch(/raise heartbeatHours/);
    expect(description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
  });
});

describe('heartbeatHours', () => {
  it('turns the alarm off at 0, and leaves the other alarms alone', () => {
    const { template: withHeartbeat } = build();
    const { template } = build({ heartbeatHours: '0' });
    expect(heartbeatOf(template)).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(Object.keys(withHeartbeat.findResources('AWS::CloudWatch::Alarm')).length - 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'AcmSentinel-function-errors' });
  });

  it.each([
    ['24', 24],
    [24, 24],
    ['1', 1],
    [String(MAX_HEARTBEAT_HOURS), MAX_HEARTBEAT_HOURS],
  ])('sets %j hours as that many one-hour periods, all of which must be empty', (value, hours) => {
    const { template } = build({ heartbeatHours: value });
    const alarm = heartbeatOf(template)!;
    expect({ period: alarm.Period, evaluationPeriods: alarm.EvaluationPeriods, datapointsToAlarm: alarm.DatapointsToAlarm }).toEqual({
      period: 3600,
      evaluationPeriods: hours,
      datapointsToAlarm: hours,
    });
    expect(alarm.AlarmDescription).toContain(hours === 1 ? 'for 1 hour:' : `for ${hours} hours:`);
    expect(alarm.AlarmDescription.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
  });

  it('allows exactly the longest look-back CloudWatch accepts: 7 days of one-hour periods', () => {
    expect(HEARTBEAT_PERIOD.toSeconds()).toBeGreaterThanOrEqual(3600);
    expect(MAX_HEARTBEAT_HOURS * HEARTBEAT_PERIOD.toSeconds()).toBe(SEVEN_DAYS_S);
    expect(MAX_HEARTBEAT_HOURS).toBe(168);
  });

  it.each([['-1'], ['1.5'], ['abc'], [String(MAX_HEARTBEAT_HOURS + 1)], [-1], [1.5]])('stops the synth on %j, naming the key', (value) => {
    expect(() => build({ heartbeatHours: value })).toThrow(ConfigError);
    expect(() => build({ heartbeatHours: value })).toThrow(/context "heartbeatHours"/);
  });
});

describe('the heartbeat alarm with email filtered by severity', () => {
  const { template } = build({ alertEmails: 'secops@example.com', emailMinSeverity: 'critical' });

  it('also goes to the unfiltered alarm topic, which is how the addresses receive alarms', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: HEARTBEAT_ALARM,
      AlarmActions: [ref('AlertTopic(?!Alarm)'), ref('AlertTopicAlarmTopic')],
    });
  });
});

describe('the heartbeat alarm beside the Slack notifier', () => {
  it('watches the sentinel function only: the notifier is invoked only when alerts go out, so its silence means nothing', () => {
    const { template } = build({ slackWebhookSecretName: 'acm-sentinel/slack-webhook' });
    const sentinelId = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^acm-sentinel: alerts on') } }));
    expect(sentinelId).toHaveLength(1);
    expect(heartbeatOf(template)).toMatchObject({ Dimensions: [{ Name: 'FunctionName', Value: { Ref: sentinelId[0] } }] });
  });
});

describe('the heartbeat alarm with an Amazon Q Developer channel', () => {
  const { template } = build({ slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1' });

  it('is among the alarms the channel may describe, so its notification renders there', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'DescribeStackAlarms', Resource: Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsHeartbeat'), 'Arn'] }]) }),
        ]),
      },
    });
  });
});
