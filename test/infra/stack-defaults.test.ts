import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SENTINEL_MAX_EVENT_AGE, SENTINEL_RETRY_ATTEMPTS } from '../../infra/bundled-function';
import { SENTINEL_MEMORY_MB, SENTINEL_TIMEOUT } from '../../infra/sentinel-function';
import { ENV } from '../../lambda/config';
import { parseRuleConfig } from '../../lambda/core/rules/rule-config';
import { build, lambdaNotification } from './build';

// One synthesis serves every assertion: the default app, as `cdk deploy` with no context builds it.
let template: Template;
beforeAll(() => {
  ({ template } = build());
});

const ref = (logicalIdPrefix: string) => Match.objectLike({ Ref: Match.stringLikeRegexp(`^${logicalIdPrefix}`) });
const getAtt = (logicalIdPrefix: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${logicalIdPrefix}`), attribute] });

function policyStatementsOf(roleLogicalIdPrefix: string): unknown[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: Match.stringLikeRegexp(`^${roleLogicalIdPrefix}`) }]) },
  });
  return Object.values(policies).flatMap((policy) => (policy as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
}

describe('the default stack: a new trail', () => {
  it('creates one multi-Region trail that encrypts its log files with a rotating customer managed key and validates them', () => {
    template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      IsLogging: true,
      KMSKeyId: getAtt('TrailSourceLogFilesKey'),
      S3BucketName: ref('TrailSourceBucket'),
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }],
    });
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, Description: Match.stringLikeRegexp('CloudTrail log files') },
      DeletionPolicy: 'Retain',
    });
  });

  it('lets only this trail use the log file key and write to the bucket', () => {
    const trailArn = 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/AcmSentinel-eu-west-1-trail';
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudTrailToEncryptLogFiles',
            Principal: { Service: 'cloudtrail.amazonaws.com' },
            Action: 'kms:GenerateDataKey*',
            Condition: {
              StringEquals: { 'aws:SourceArn': trailArn },
              StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': 'arn:aws:cloudtrail:*:111122223333:trail/*' },
            },
          }),
          Match.objectLike({ Sid: 'AllowCloudTrailToDescribeKey', Action: 'kms:DescribeKey', Condition: { StringEquals: { 'aws:SourceArn': trailArn } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref('TrailSourceBucket'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyOtherTrails',
            Effect: 'Deny',
            Principal: { Service: 'cloudtrail.amazonaws.com' },
            Action: ['s3:GetBucketAcl', 's3:PutObject'],
            Condition: { StringNotEquals: { 'aws:SourceArn': trailArn } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudTrail::Trail', { TrailName: 'AcmSentinel-eu-west-1-trail' });
  });

  it('stores log files in a private, versioned, encrypted, access-logged bucket that survives the stack and moves older files to cheaper storage', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: ref('TrailSourceAccessLogsBucket'), LogFilePrefix: 'trail-bucket/' },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Status: 'Enabled',
              Transitions: [
                { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
                { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
              ],
              NoncurrentVersionExpiration: { NoncurrentDays: 90 },
            }),
          ],
        },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('refuses plain HTTP and TLS below 1.2 on the trail bucket', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref('TrailSourceBucket'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('keeps the access logs in their own private, encrypted, SSL-only bucket that survives the stack', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LoggingConfiguration: Match.absent(),
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref('TrailSourceAccessLogsBucket'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
        ]),
      },
    });
  });

  it('invokes the function for each new .json.gz object under AWSLogs/, and for nothing else', () => {
    expect(lambdaNotification(template)).toEqual({
      managed: true,
      events: ['s3:ObjectCreated:*'],
      filter: { prefix: 'AWSLogs/', suffix: '.json.gz' },
      functionArn: getAttValue('SentinelFunction'),
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: ref('TrailSourceBucket') });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceAccount: '111122223333',
      SourceArn: getAtt('TrailSourceBucket'),
    });
  });
});

describe('the function', () => {
  it('runs the bundled handler on the newest Node.js runtime CDK knows, on arm64, with the named memory and timeout', () => {
    const newestNode = lambda.Runtime.ALL.filter((r) => /^nodejs\d+\.x$/.test(r.name))
      .map((r) => r.name)
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .pop();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: newestNode,
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: SENTINEL_MEMORY_MB,
      Timeout: SENTINEL_TIMEOUT.toSeconds(),
      Role: getAtt('SentinelRole'),
      LoggingConfig: { LogGroup: ref('SentinelLogGroup') },
      // A bundled asset, never inline code.
      Code: { S3Bucket: Match.anyValue(), S3Key: Match.stringLikeRegexp('\\.zip$') },
    });
  });

  it('gets its whole configuration from environment variables the stack sets, the dedupe table included', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.exact({
          ALERT_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^AlertTopic') },
          ACM_SENTINEL_CONFIG: JSON.stringify(parseRuleConfig(undefined, 'defaults')),
          POWERTOOLS_SERVICE_NAME: 'acm-sentinel',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          DEDUPE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^DedupeTable') },
        }),
      },
    });
  });

  it('names the variables exactly as the function reads them', () => {
    expect([ENV.topicArn, ENV.ruleConfig, ENV.dedupeTable]).toEqual(['ALERT_TOPIC_ARN', 'ACM_SENTINEL_CONFIG', 'DEDUPE_TABLE_NAME']);
  });

  it('logs to its own log group with a retention period', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('retries asynchronous invocations, bounds their age and keeps failures in an encrypted, SSL-only queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref('SentinelFunction'),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: SENTINEL_RETRY_ATTEMPTS,
      MaximumEventAgeInSeconds: SENTINEL_MAX_EVENT_AGE.toSeconds(),
      DestinationConfig: { OnFailure: { Destination: getAtt('SentinelFailureQueue') } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('has a role with no managed policies and exactly the permissions it needs', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      Description: Match.stringLikeRegexp('acm-sentinel'),
      ManagedPolicyArns: Match.absent(),
    });
    const statements = policyStatementsOf('SentinelRole');
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAttValue('SentinelLogGroup') },
      { Effect: 'Allow', Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], Resource: getAttValue('SentinelFailureQueue') },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [getAttValue('TrailSourceBucket'), '/AWSLogs/*']] } },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: getAttValue('TrailSourceLogFilesKey'),
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } } },
      },
      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: logicalId('AlertTopic', 'AWS::SNS::Topic') } },
      // What the dedupe store calls, and nothing of grantReadWriteData's Scan, Query or DeleteItem.
      { Effect: 'Allow', Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: getAttValue('DedupeTable') },
    ]);
  });
});

describe('the dedupe table', () => {
  it('is keyed by the string pk and expires items by expiresAt, as the dedupe store writes them', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('bills per request, is encrypted with the AWS owned key, has point-in-time recovery, and goes with the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        ProvisionedThroughput: Match.absent(),
        // DynamoDB encrypts every table at rest; "SSEEnabled: false" selects the AWS owned key.
        SSESpecification: { SSEEnabled: false },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });
});

describe('the alert topic', () => {
  it('is encrypted with its own rotating customer managed key and refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: getAtt('AlertTopicKey') });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('alert topic') });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it("lets the function's role and this stack's alarms, and no one else, use the topic key", () => {
    const keys = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('alert topic') } });
    const [key] = Object.values(keys) as Array<{ Properties: { KeyPolicy: { Statement: Array<Record<string, unknown>> } } }>;
    const grants = key!.Properties.KeyPolicy.Statement.filter((s) => s.Sid !== undefined);
    expect(grants).toEqual([
      {
        Sid: 'AllowStackAlarmsToPublishToEncryptedTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': '111122223333' },
          ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:AcmSentinel-*' },
        },
      },
      {
        Sid: 'AllowSentinelFunctionToPublish',
        Effect: 'Allow',
        Principal: { AWS: getAttValue('SentinelRole') },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
      },
    ]);
  });

  it("admits this stack's alarms to publish, even though its policy replaces SNS's default one", () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:AcmSentinel-*' } },
          }),
        ]),
      },
    });
  });

  it('has no subscriptions, no second topic and no Slack channel unless asked for', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
  });
});

describe('the alarms', () => {
  it.each([
    ['AcmSentinel-function-errors', 'AWS/Lambda', 'Errors', 'Sum'],
    ['AcmSentinel-function-throttles', 'AWS/Lambda', 'Throttles', 'Sum'],
    ['AcmSentinel-failure-queue-not-empty', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum'],
    ['AcmSentinel-failure-destination-delivery-failures', 'AWS/Lambda', 'DestinationDeliveryFailures', 'Sum'],
    ['AcmSentinel-object-failures', 'AcmSentinel', 'ObjectFailures', 'Sum'],
    ['AcmSentinel-dedupe-unavailable', 'AcmSentinel', 'DedupeUnavailable', 'Sum'],
  ])('%s fires on the first %s %s and notifies the alert topic', (alarmName, namespace, metricName, statistic) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: alarmName,
      Namespace: namespace,
      MetricName: metricName,
      Statistic: statistic,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref('AlertTopic')],
    });
  });

  it("watch the function's own metrics under the one dimension Powertools Metrics emits them with", () => {
    // new Metrics({ namespace: 'AcmSentinel', serviceName: 'acm-sentinel' }) adds service=acm-sentinel
    // as its only default dimension; an alarm naming any other set of dimensions never sees data.
    for (const metricName of ['ObjectFailures', 'DedupeUnavailable']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AcmSentinel',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: 'acm-sentinel' }],
      });
    }
  });

  it('exist exactly seven times, the heartbeat included (test/infra/heartbeat.test.ts)', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });
});

describe('outputs', () => {
  it('names the topic, the function and its role, the failure queue, the trail bucket and the dedupe table', () => {
    for (const output of ['AlertTopicArn', 'FunctionName', 'FunctionRoleArn', 'FailureQueueUrl', 'TrailBucketName', 'DedupeTableName']) template.hasOutput(output, {});
  });

  it('has no alarm topic and no Slack notifier unless asked for', () => {
    for (const output of ['AlarmTopicArn', 'SlackNotifierFunctionName', 'SlackNotifierRoleArn']) expect(template.findOutputs(output)).toEqual({});
  });
});

function logicalId(prefix: string, type: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

function getAttValue(prefix: string): { 'Fn::GetAtt': [string, string] } {
  const id = Object.keys(template.toJSON().Resources as object).find((candidate) => candidate.startsWith(prefix) && !candidate.includes('Policy'));
  if (!id) throw new Error(`no resource named ${prefix}*`);
  return { 'Fn::GetAtt': [id, 'Arn'] };
}
