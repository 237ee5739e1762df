import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { SENTINEL_MAX_EVENT_AGE, SENTINEL_RETRY_ATTEMPTS } from '../../infra/bundled-function';
import { SLACK_NOTIFIER_ENTRY, SLACK_NOTIFIER_MEMORY_MB, SLACK_NOTIFIER_TIMEOUT, SLACK_WEBHOOK_SECRET_ENV } from '../../infra/slack-webhook';
import { ENV } from '../../lambda/config';
import { parseRuleConfig } from '../../lambda/core/rules/rule-config';
import { SLACK_ENV } from '../../lambda/slack-notifier';
import { EXISTING_TRAIL, build, lambdaNotification } from './build';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function sentinelStatements(template: ReturnType<typeof build>['template']): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^SentinelRole') }] },
  });
  return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

describe('an existing trail bucket', () => {
  const { template } = build({ trailBucketName: EXISTING_TRAIL.trailBucketName });

  it('creates no trail, no bucket and no log file key of its own', () => {
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::KMS::Key', 1); // the alert topic's
  });

  it("adds its notification beside the bucket's existing ones instead of replacing them", () => {
    expect(lambdaNotification(template)).toMatchObject({ managed: false, filter: { prefix: 'AWSLogs/', suffix: '.json.gz' } });
    template.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: EXISTING_TRAIL.trailBucketName, Managed: false });
    // Reading the current configuration is what lets the handler keep the others.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: ['s3:GetBucketNotification', 's3:PutBucketNotification'], Resource: 'arn:aws:s3:::org-trail-logs' }],
      },
    });
  });

  it('reads log files under AWSLogs/ only, and needs no KMS permission when the trail uses SSE-S3', () => {
    const statements = sentinelStatements(template);
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::org-trail-logs/AWSLogs/*' });
    expect(JSON.stringify(statements)).not.toContain('kms:');
  });

  it('lets S3 invoke the function only for that bucket, from this account', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 's3.amazonaws.com',
      SourceAccount: '111122223333',
      SourceArn: 'arn:aws:s3:::org-trail-logs',
    });
  });
});

describe('an existing trail bucket with a key prefix and a KMS key', () => {
  const { template } = build({ ...EXISTING_TRAIL });

  it('watches and reads only the prefixed log folder', () => {
    expect(lambdaNotification(template).filter).toEqual({ prefix: 'org/AWSLogs/', suffix: '.json.gz' });
    expect(sentinelStatements(template)).toContainEqual({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::org-trail-logs/org/AWSLogs/*' });
  });

  it("may decrypt with the trail's key, and only through S3", () => {
    expect(sentinelStatements(template)).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: EXISTING_TRAIL.trailKmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } } },
    });
  });

  it('refuses a key in another Region than the stack, naming the key and the fix', () => {
    expect(() => build({ ...EXISTING_TRAIL, trailKmsKeyArn: EXISTING_TRAIL.trailKmsKeyArn.replace('eu-west-1', 'us-east-2') })).toThrow(
      /context "trailKmsKeyArn": the key is in us-east-2 but the stack deploys to eu-west-1.*deploy to us-east-2/,
    );
  });

  it('accepts any key Region when the stack is environment-agnostic, since the Region is only known at deploy time', () => {
    expect(() => build({ ...EXISTING_TRAIL }, {})).not.toThrow();
  });
});

describe('email subscriptions', () => {
  it('subscribes each address once, keyed by the address so removing one leaves the others subscribed', () => {
    const { template } = build({ alertEmails: 'secops@example.com, oncall@example.com,SecOps@example.com' });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    for (const email of ['secops@example.com', 'oncall@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email, TopicArn: { Ref: Match.stringLikeRegexp('^AlertTopic') } });
    }
    const ids = Object.keys(template.findResources('AWS::SNS::Subscription'));
    expect(ids.some((id) => id.startsWith('AlertTopicsecopsexamplecom'))).toBe(true);
  });

  it('accepts the list as cdk.json gives it', () => {
    const { template } = build({ alertEmails: ['secops@example.com'] });
    template.resourceCountIs('AWS::SNS::Subscription', 1);
  });

  it('warns at synth time when nobody would receive the alerts', () => {
    const { stack } = build();
    Annotations.fromStack(stack).hasWarning('/AcmSentinel', Match.stringLikeRegexp('alerts reach no one'));
    const withEmail = build({ alertEmails: ['secops@example.com'] });
    Annotations.fromStack(withEmail.stack).hasNoWarning('/AcmSentinel', Match.stringLikeRegexp('alerts reach no one'));
  });
});

describe('Slack', () => {
  const slack = { slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1' };
  const { template } = build(slack);

  it('posts the alert topic to the channel, with logging on and user roles required for commands', () => {
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      ConfigurationName: 'AcmSentinel-eu-west-1-alerts',
      SlackWorkspaceId: 'T07EXAMPLE',
      SlackChannelId: 'C07EXAMPLE1',
      SnsTopicArns: [{ Ref: Match.stringLikeRegexp('^AlertTopic') }],
      LoggingLevel: 'INFO',
      UserRoleRequired: true,
      IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SlackRole'), 'Arn'] },
      GuardrailPolicies: [{ Ref: Match.stringLikeRegexp('^SlackGuardrail') }],
    });
  });

  it('never ships the AdministratorAccess guardrail, nor any AWS managed policy', () => {
    const json = JSON.stringify(template.findResources('AWS::Chatbot::SlackChannelConfiguration'));
    expect(json).not.toMatch(/AdministratorAccess|ReadOnlyAccess|arn:aws:iam::aws:policy/);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'chatbot.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
  });

  it("limits the channel role and its guardrail to reading this stack's alarms and drawing their charts", () => {
    const expected = [
      Match.objectLike({ Sid: 'DescribeStackAlarms', Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsFunctionErrors'), 'Arn'] }]) }),
      { Sid: 'DrawAlarmCharts', Effect: 'Allow', Action: ['cloudwatch:GetMetricData', 'cloudwatch:GetMetricWidgetImage'], Resource: '*' },
    ];
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', { PolicyDocument: { Statement: expected } });
    template.hasResourceProperties('AWS::IAM::Role', { Policies: [{ PolicyName: 'ReadStackAlarms', PolicyDocument: { Statement: expected } }] });
  });

  it('is absent when not configured', () => {
    const { template: without } = build();
    without.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    without.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });
});

describe('rule configuration', () => {
  it('passes the validated configuration, defaults filled in, to the function', () => {
    const ruleConfig = { minSeverity: 'high', disabledRules: ['acm-renew-certificate'] };
    const { template } = build({ ruleConfig });
    const expected = parseRuleConfig(ruleConfig, 'test');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ACM_SENTINEL_CONFIG: JSON.stringify(expected) }) },
    });
    expect(expected.alertOnFailedCalls).toBe(true);
  });

  it('takes the JSON text that -c ruleConfig=... gives', () => {
    const { template } = build({ ruleConfig: '{"minSeverity":"critical"}' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ACM_SENTINEL_CONFIG: JSON.stringify(parseRuleConfig({ minSeverity: 'critical' }, 'test')) }) },
    });
  });

  it("refuses a configuration too large for the function's environment", () => {
    const ignorePrincipals = Array.from({ length: 80 }, (_, i) => `arn:aws:iam::111122223333:role/some-long-role-name-number-${i}`);
    expect(() => build({ ruleConfig: { ignorePrincipals } })).toThrow(/context "ruleConfig".*4 KB/);
  });
});

describe('deduplication turned off (-c dedupe=false)', () => {
  const { template, stack } = build({ dedupe: 'false' });

  it('creates no table, sets no table name and grants no DynamoDB call', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DEDUPE_TABLE_NAME: Match.absent() }) } });
    expect(JSON.stringify(sentinelStatements(template))).not.toContain('dynamodb:');
    expect(template.findOutputs('DedupeTableName')).toEqual({});
  });

  it('drops the dedupe alarm and keeps the one on unreadable log files', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    expect(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'DedupeUnavailable' } })).toEqual({});
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'AcmSentinel-object-failures', Namespace: 'AcmSentinel' });
    expect(stack.dedupeTable).toBeUndefined();
  });
});

describe('maxDecompressedBytes', () => {
  it('reaches the function as MAX_DECOMPRESSED_BYTES, the variable it reads', () => {
    const { template } = build({ maxDecompressedBytes: '1073741824' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [ENV.maxDecompressedBytes]: '1073741824' }) } });
    expect(ENV.maxDecompressedBytes).toBe('MAX_DECOMPRESSED_BYTES');
  });

  it('is left to the function when not set', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MAX_DECOMPRESSED_BYTES: Match.absent() }) } });
  });
});

type FilterPolicy = Record<string, Array<string | { exists: boolean }>>;

/**
 * Whether SNS delivers a message with these attributes to a subscription with this policy, by the
 * documented rules the policies here rely on: each key must match; values of one key are OR-ed;
 * `{"exists": false}` matches a missing key, but only on a message with at least one attribute.
 */
function snsDelivers(policy: FilterPolicy | undefined, attributes: Record<string, string>): boolean {
  if (!policy) return true;
  if (Object.keys(attributes).length === 0) return false;
  return Object.entries(policy).every(([key, conditions]) =>
    conditions.some((condition) => (typeof condition === 'string' ? attributes[key] === condition : condition.exists === (key in attributes))),
  );
}

const alertAttributes = (severity: string) => ({ severity, ruleId: 'acm-export-certificate', eventName: 'ExportCertificate', accountId: '111122223333', awsRegion: 'eu-west-1', outcome: 'succeeded' });
// What CloudWatch publishes for an alarm: no message attributes at all.
const ALARM_NOTIFICATION = {};

function subscriptionsOf(template: ReturnType<typeof build>['template'], protocol: string) {
  return Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: protocol } })).map(
    (resource) => (resource as { Properties: { Endpoint: unknown; TopicArn: { Ref: string }; FilterPolicy?: FilterPolicy } }).Properties,
  );
}

describe('email routed by severity (-c emailMinSeverity=high)', () => {
  const { template } = build({ alertEmails: 'secops@example.com,oncall@example.com', emailMinSeverity: 'high' });
  const alertTopicId = Object.keys(template.findResources('AWS::SNS::Topic', { Properties: { DisplayName: 'acm-sentinel' } }))[0]!;
  const alarmTopicId = Object.keys(template.findResources('AWS::SNS::Topic', { Properties: { DisplayName: 'acm-sentinel alarms' } }))[0]!;

  it('filters each address on the alert topic to high and critical, and to alerts that carry no severity', () => {
    const onAlertTopic = subscriptionsOf(template, 'email').filter((s) => s.TopicArn.Ref === alertTopicId);
    expect(onAlertTopic.map((s) => s.Endpoint).sort()).toEqual(['oncall@example.com', 'secops@example.com']);
    for (const subscription of onAlertTopic) {
      expect(subscription.FilterPolicy).toEqual({ severity: ['high', 'critical', { exists: false }] });
      expect(['low', 'medium', 'high', 'critical'].filter((severity) => snsDelivers(subscription.FilterPolicy, alertAttributes(severity)))).toEqual(['high', 'critical']);
      const { severity: _dropped, ...unlabelled } = alertAttributes('high');
      expect(snsDelivers(subscription.FilterPolicy, unlabelled)).toBe(true);
    }
  });

  it('still brings the alarms to each address, which no filter on the alert topic could pass, through an unfiltered alarm topic', () => {
    const [filtered] = subscriptionsOf(template, 'email').filter((s) => s.TopicArn.Ref === alertTopicId);
    expect(snsDelivers(filtered!.FilterPolicy, ALARM_NOTIFICATION)).toBe(false);
    const onAlarmTopic = subscriptionsOf(template, 'email').filter((s) => s.TopicArn.Ref === alarmTopicId);
    expect(onAlarmTopic.map((s) => s.Endpoint).sort()).toEqual(['oncall@example.com', 'secops@example.com']);
    for (const subscription of onAlarmTopic) expect(subscription.FilterPolicy).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Subscription', 4);
  });

  it('sends every alarm to both topics', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: { AlarmActions: unknown[] } }>;
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: alertTopicId }, { Ref: alarmTopicId }]);
  });

  it('encrypts the alarm topic with the alert key, refuses plain HTTP, and admits only this stack\'s alarms', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'acm-sentinel alarms', KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertTopicKey'), 'Arn'] } });
    template.resourceCountIs('AWS::KMS::Key', 2); // the alert topics' and the new trail's
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: alarmTopicId }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:AcmSentinel-*' } },
          }),
        ],
      },
    });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: alarmTopicId } });
  });

  it('puts no filter on the addresses, and makes no alarm topic, at the default of low', () => {
    const { template: unfiltered } = build({ alertEmails: 'secops@example.com', emailMinSeverity: 'low' });
    unfiltered.resourceCountIs('AWS::SNS::Topic', 1);
    unfiltered.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', FilterPolicy: Match.absent() });
  });
});

describe('Slack through an incoming webhook (-c slackWebhookSecretName=...)', () => {
  const secretName = 'acm-sentinel/slack-webhook';
  const { template, stack } = build({ slackWebhookSecretName: secretName });

  function notifierStatements(t: ReturnType<typeof build>['template']): Statement[] {
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^SlackWebhookRole') }] } });
    return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
  }
  const notifierId = () => Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('incoming webhook') } }))[0]!;

  it('deploys the notifier from its own source, like the sentinel: newest Node.js on arm64, bundled, small and quick', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('incoming webhook'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: SLACK_NOTIFIER_MEMORY_MB,
      Timeout: SLACK_NOTIFIER_TIMEOUT.toSeconds(),
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SlackWebhookRole'), 'Arn'] },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^SlackWebhookLogGroup') } },
      Code: { S3Bucket: Match.anyValue(), S3Key: Match.stringLikeRegexp('\\.zip$') },
    });
    expect(SLACK_NOTIFIER_ENTRY).toMatch(/lambda[/\\]slack-notifier\.ts$/);
    expect(SLACK_NOTIFIER_MEMORY_MB).toBeLessThanOrEqual(256);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
  });

  it('gives it the secret name, never a URL, in the variable the notifier reads', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('incoming webhook'),
      Environment: { Variables: Match.exact({ SLACK_WEBHOOK_SECRET_ID: secretName, POWERTOOLS_LOG_LEVEL: 'INFO' }) },
    });
    expect(SLACK_WEBHOOK_SECRET_ENV).toBe(SLACK_ENV.webhookSecretId);
  });

  it('lets it read that one secret, write its logs and keep failures, and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      Description: Match.stringLikeRegexp('Slack notifier'),
      ManagedPolicyArns: Match.absent(),
    });
    const idOf = (type: string, prefix: string) => Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix))!;
    expect(notifierStatements(template)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [idOf('AWS::Logs::LogGroup', 'SlackWebhookLogGroup'), 'Arn'] } },
      // Exactly six characters: the random suffix Secrets Manager appends to the secret's name.
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:acm-sentinel/slack-webhook-??????' },
      { Effect: 'Allow', Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], Resource: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'SentinelFailureQueue'), 'Arn'] } },
    ]);
  });

  it('grants exactly the complete ARN when given one', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:acm-sentinel/slack-webhook-AbC123';
    const withArn = build({ slackWebhookSecretName: arn }).template;
    expect(notifierStatements(withArn)).toContainEqual({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: arn });
    withArn.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SLACK_WEBHOOK_SECRET_ID: arn }) } });
  });

  it('refuses a secret in another Region than the stack, naming the key and the fix', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:acm-sentinel/slack-webhook-AbC123';
    expect(() => build({ slackWebhookSecretName: arn })).toThrow(/context "slackWebhookSecretName": the secret is in us-east-1 but the stack deploys to eu-west-1/);
    expect(() => build({ slackWebhookSecretName: arn }, {})).not.toThrow();
  });

  it('subscribes it to the alert topic for alerts only, so it never receives an alarm it cannot render', () => {
    const [subscription, ...others] = subscriptionsOf(template, 'lambda');
    expect(others).toEqual([]);
    expect(subscription).toEqual({
      Endpoint: { 'Fn::GetAtt': [notifierId(), 'Arn'] },
      Protocol: 'lambda',
      TopicArn: { Ref: expect.stringMatching(/^AlertTopic(?!Alarm)/) },
      FilterPolicy: { severity: ['low', 'medium', 'high', 'critical'] },
    });
    expect(snsDelivers(subscription!.FilterPolicy, alertAttributes('low'))).toBe(true);
    expect(snsDelivers(subscription!.FilterPolicy, ALARM_NOTIFICATION)).toBe(false);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [notifierId(), 'Arn'] },
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: Match.stringLikeRegexp('^AlertTopic') },
    });
  });

  it('posts only slackMinSeverity and above', () => {
    const { template: high } = build({ slackWebhookSecretName: secretName, slackMinSeverity: 'high' });
    expect(subscriptionsOf(high, 'lambda')[0]!.FilterPolicy).toEqual({ severity: ['high', 'critical'] });
  });

  it('retries failed posts, bounds their age, and keeps what still fails in the failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: notifierId() },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: SENTINEL_RETRY_ATTEMPTS,
      MaximumEventAgeInSeconds: SENTINEL_MAX_EVENT_AGE.toSeconds(),
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SentinelFailureQueue'), 'Arn'] } } },
    });
    template.resourceCountIs('AWS::SQS::Queue', 1);
  });

  it('raises an alarm to the alert topic when a post fails', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AcmSentinel-slack-notifier-errors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: notifierId() } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertTopic') }],
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 8);
  });

  it('outputs the notifier and its role, and counts as a subscriber to alerts', () => {
    template.hasOutput('SlackNotifierFunctionName', { Value: { Ref: notifierId() } });
    template.hasOutput('SlackNotifierRoleArn', {});
    Annotations.fromStack(stack).hasNoWarning('/AcmSentinel', Match.stringLikeRegexp('alerts reach no one'));
  });

  it('warns when, with the webhook alone, nothing would receive the alarms', () => {
    Annotations.fromStack(stack).hasWarning('/AcmSentinel', Match.stringLikeRegexp('receives alerts only.*the alarms on failures reach no one'));
    const { stack: withEmail } = build({ slackWebhookSecretName: secretName, alertEmails: 'secops@example.com' });
    Annotations.fromStack(withEmail).hasNoWarning('/AcmSentinel', Match.stringLikeRegexp('alarms on failures reach no one'));
  });

  it('sends its alarm to the alarm topic too when email is filtered by severity', () => {
    const { template: both } = build({ slackWebhookSecretName: secretName, alertEmails: 'secops@example.com', emailMinSeverity: 'critical' });
    both.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AcmSentinel-slack-notifier-errors',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertTopic(?!Alarm)') }, { Ref: Match.stringLikeRegexp('^AlertTopicAlarmTopic') }],
    });
  });
});

describe('the webhook beside an Amazon Q Developer channel', () => {
  const both = { slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1', slackWebhookSecretName: 'acm-sentinel/slack-webhook' };

  it("lets the channel describe the notifier's alarm too", () => {
    const { template } = build(both);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'DescribeStackAlarms', Resource: Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^SlackWebhookErrors'), 'Arn'] }]) }),
        ]),
      },
    });
  });

  it('warns that slackMinSeverity filters the webhook only', () => {
    const { stack } = build({ ...both, slackMinSeverity: 'high' });
    Annotations.fromStack(stack).hasWarning('/AcmSentinel', Match.stringLikeRegexp('filters the incoming webhook only.*Amazon Q Developer channel.*still receives every alert'));
    const { stack: unfiltered } = build(both);
    Annotations.fromStack(unfiltered).hasNoWarning('/AcmSentinel', Match.stringLikeRegexp('filters the incoming webhook only'));
  });

  it('fails synth when slackMinSeverity could only apply to the Amazon Q Developer channel', () => {
    expect(() => build({ slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1', slackMinSeverity: 'high' })).toThrow(
      /context "slackMinSeverity": cannot apply to the Amazon Q Developer in chat applications channel/,
    );
  });
});

describe('Microsoft Teams', () => {
  const teams = { teamsTenantId: 'a1b2c3d4-0000-4000-8000-0123456789ab', teamsTeamId: 'f0e1d2c3-1111-4111-8111-0123456789ab', teamsChannelId: '19:0123456789abcdef0123456789abcdef@thread.tacv2' };
  const { template } = build(teams);

  it('posts the alert topic to the channel with the same least-privilege role and guardrail as Slack, the channel id encoded as the service wants', () => {
    template.hasResourceProperties('AWS::Chatbot::MicrosoftTeamsChannelConfiguration', {
      ConfigurationName: 'AcmSentinel-eu-west-1-teams',
      TeamsTenantId: teams.teamsTenantId,
      TeamId: teams.teamsTeamId,
      TeamsChannelId: '19%3a0123456789abcdef0123456789abcdef%40thread.tacv2',
      SnsTopicArns: [{ Ref: Match.stringLikeRegexp('^AlertTopic') }],
      LoggingLevel: 'INFO',
      UserRoleRequired: true,
      IamRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TeamsRole'), 'Arn'] },
      GuardrailPolicies: [{ Ref: Match.stringLikeRegexp('^TeamsGuardrail') }],
    });
    expect(JSON.stringify(template.findResources('AWS::Chatbot::MicrosoftTeamsChannelConfiguration'))).not.toMatch(/AdministratorAccess|arn:aws:iam::aws:policy/);
    Annotations.fromStack(build(teams).stack).hasNoWarning('/AcmSentinel', Match.stringLikeRegexp('alerts reach no one'));
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ teamsTenantId: teams.teamsTenantId }, /context "teamsTeamId": is missing: the three Teams keys go together/],
    [{ ...teams, teamsTenantId: 'contoso' }, /context "teamsTenantId": "contoso" is not a tenant ID/],
    [{ ...teams, teamsChannelId: 'General' }, /context "teamsChannelId": "General" is not a Teams channel ID/],
  ])('refuses %j, naming the key', (context, message) => {
    expect(() => build(context)).toThrow(message);
  });
});

describe('the kept buckets of a new trail', () => {
  it('keep their bucket policies when the stack is deleted', () => {
    const { template } = build({});
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')) as Array<{ DeletionPolicy?: string }>;
    expect(policies.length).toBe(2);
    for (const policy of policies) expect(policy.DeletionPolicy).toBe('Retain');
  });
});

describe('a new organization trail (-c organizationTrail=true)', () => {
  it('creates an organization trail whose bucket admits its writes under AWSLogs/<organization ID>/ from this trail only', () => {
    const { template } = build({ organizationTrail: 'true', organizationId: 'o-a1b2c3d4e5' });
    template.hasResourceProperties('AWS::CloudTrail::Trail', { IsOrganizationTrail: true, TrailName: 'AcmSentinel-eu-west-1-trail' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:PutObject',
            Principal: { Service: 'cloudtrail.amazonaws.com' },
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^TrailSourceBucket'), 'Arn'] }, '/AWSLogs/o-a1b2c3d4e5/*']] },
            Condition: { StringEquals: Match.objectLike({ 'aws:SourceArn': 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/AcmSentinel-eu-west-1-trail' }) },
          }),
        ]),
      },
    });
  });

  it('from a delegated administrator, names the management account as the trail owner in the bucket and key policies', () => {
    const { template } = build({ organizationTrail: 'true', organizationId: 'o-a1b2c3d4e5', organizationManagementAccount: '999988887777' });
    const owned = 'arn:aws:cloudtrail:eu-west-1:999988887777:trail/AcmSentinel-eu-west-1-trail';
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowOrganizationTrailWrites', Condition: { StringEquals: Match.objectLike({ 'aws:SourceArn': owned }) } })]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowCloudTrailToEncryptLogFiles', Condition: Match.objectLike({ StringEquals: { 'aws:SourceArn': owned } }) })]) },
    });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ organizationTrail: 'true' }, /context "organizationId": is missing while organizationTrail=true/],
    [{ organizationTrail: 'true', organizationId: 'r-abcd' }, /"r-abcd" is not an organization ID/],
    [{ organizationTrail: 'true', organizationId: 'o-a1b2c3d4e5', trailBucketName: 'org-trail-logs' }, /context "organizationTrail": creates a new organization trail/],
    [{ organizationId: 'o-a1b2c3d4e5', realtime: 'false' }, /context "organizationId": only applies with organizationTrail=true or the real-time path/],
  ])('refuses %j, naming the key', (context, message) => {
    expect(() => build(context)).toThrow(message);
  });
});
