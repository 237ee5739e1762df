import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { parseRuleConfig } from '../../lambda/core/rule-config';
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
      ConfigurationName: 'AcmSentinel-alerts',
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

  it('warns when a new write-only trail could never record an additional read-only event', () => {
    const additionalEvents = [{ eventSource: 'acm.amazonaws.com', eventName: 'GetCertificate', severity: 'low' }];
    const { stack } = build({ ruleConfig: { additionalEvents } });
    Annotations.fromStack(stack).hasWarning('/AcmSentinel', Match.stringLikeRegexp('GetCertificate.*write events only'));
    const existing = build({ trailBucketName: 'org-trail-logs', ruleConfig: { additionalEvents } });
    Annotations.fromStack(existing.stack).hasNoWarning('/AcmSentinel', Match.stringLikeRegexp('GetCertificate'));
  });

  it("refuses a configuration too large for the function's environment", () => {
    const ignorePrincipals = Array.from({ length: 80 }, (_, i) => `arn:aws:iam::111122223333:role/some-long-role-name-number-${i}`);
    expect(() => build({ ruleConfig: { ignorePrincipals } })).toThrow(/context "ruleConfig".*4 KB/);
  });
});
