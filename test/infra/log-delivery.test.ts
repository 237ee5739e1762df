import { Match, type Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_TRAIL, EXAMPLE_TRAIL_TOPIC } from '../../infra/configurations';
import { DELIVERY_BATCH_SIZE, MAX_RECEIVE_COUNT } from '../../infra/log-delivery';
import { SENTINEL_TIMEOUT } from '../../infra/sentinel-function';
import { build, TEST_ENV } from './build';

const ref = (logicalIdPrefix: string) => ({ Ref: Match.stringLikeRegexp(`^${logicalIdPrefix}`) });
const notifications = (template: Template) => Object.values(template.findResources('Custom::S3BucketNotifications')) as Array<{ Properties: { NotificationConfiguration: Record<string, unknown> } }>;

describe('trigger=eventbridge', () => {
  it('on an existing bucket: a rule for Object Created on that bucket, prefix and suffix, targeting the function, and no bucket notification', () => {
    const { template } = build({ ...EXAMPLE_TRAIL, trigger: 'eventbridge' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: ['org-trail-logs'] }, object: { key: [{ wildcard: 'org/AWSLogs/*/CloudTrail/*.json.gz' }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sentinel'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 }, DeadLetterConfig: Match.anyValue() })],
    });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogDeliveryLogFileCreated'), 'Arn'] } });
  });

  it('on a bucket the stack creates: turns its EventBridge delivery on and adds no S3 notification to the function', () => {
    const { template } = build({ trigger: 'eventbridge' });
    const [configuration] = notifications(template).map((resource) => resource.Properties.NotificationConfiguration);
    expect(configuration).toEqual({ EventBridgeConfiguration: {} });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ detail: { bucket: { name: [ref('TrailSourceBucket')] }, object: { key: [{ wildcard: 'AWSLogs/*/CloudTrail/*.json.gz' }] } } }) });
  });
});

describe('trigger=sns', () => {
  it('subscribes the function to the existing topic and lets only that topic invoke it', () => {
    const { template } = build({ ...EXAMPLE_TRAIL, trigger: 'sns', trailTopicArn: EXAMPLE_TRAIL_TOPIC });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', TopicArn: EXAMPLE_TRAIL_TOPIC, Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sentinel'), 'Arn'] } });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'sns.amazonaws.com', SourceArn: EXAMPLE_TRAIL_TOPIC });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['trigger=sns without a topic', { ...EXAMPLE_TRAIL, trigger: 'sns' }, /context "trailTopicArn": is missing while trigger=sns/],
    ['trigger=sns with a new trail', { trigger: 'sns', trailTopicArn: EXAMPLE_TRAIL_TOPIC }, /context "trigger": sns needs an existing trail bucket/],
    ['trigger=sns with a FIFO topic', { ...EXAMPLE_TRAIL, trigger: 'sns', trailTopicArn: `${EXAMPLE_TRAIL_TOPIC}.fifo` }, /is a FIFO topic, which cannot deliver to Lambda/],
    ['trigger=sns with a topic in another Region', { ...EXAMPLE_TRAIL, trigger: 'sns', trailTopicArn: 'arn:aws:sns:us-east-1:111122223333:logs' }, /the topic is in us-east-1 but the stack deploys to eu-west-1/],
    ['a topic without trigger=sns', { ...EXAMPLE_TRAIL, trailTopicArn: EXAMPLE_TRAIL_TOPIC }, /context "trailTopicArn": only applies to trigger=sns, and trigger is s3/],
    ['an unknown trigger', { trigger: 'sqs' }, /context "trigger": "sqs" is not a trigger\. Use one of s3, eventbridge, sns/],
    ['a queue setting that is not a boolean', { queue: 'yes' }, /context "queue": expected true or false/],
  ])('refuses %s, naming the key', (_name, context, message) => {
    expect(() => build(context, TEST_ENV)).toThrow(message);
  });
});

describe.each([
  ['s3', {}],
  ['eventbridge', { trigger: 'eventbridge' }],
  ['sns', { ...EXAMPLE_TRAIL, trigger: 'sns', trailTopicArn: EXAMPLE_TRAIL_TOPIC }],
])('queue=true with trigger %s', (trigger, context) => {
  const { template } = build({ ...context, queue: 'true' });
  const queues = template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } });
  const [queueId] = Object.keys(queues);

  it('puts an encrypted queue with 14-day retention and a dead-letter queue between the trigger and the function', () => {
    expect(Object.keys(queues)).toHaveLength(1);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
      VisibilityTimeout: SENTINEL_TIMEOUT.toSeconds() * 6,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogDeliveryDeadLetterQueue'), 'Arn'] }, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: DELIVERY_BATCH_SIZE,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('alarms on the dead-letter queue, to the alert topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'AcmSentinel-delivery-dead-letter-queue-not-empty',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogDeliveryDeadLetterQueue'), 'QueueName'] } }],
      AlarmActions: Match.arrayWith([ref('AlertTopic')]),
    });
  });

  it(`delivers the ${trigger} events to the queue, not to the function`, () => {
    if (trigger === 's3') {
      const [configuration] = notifications(template).map((resource) => resource.Properties.NotificationConfiguration);
      expect(configuration).toMatchObject({ QueueConfigurations: [{ Events: ['s3:ObjectCreated:*'], QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] } }] });
      expect(configuration).not.toHaveProperty('LambdaFunctionConfigurations');
    } else if (trigger === 'eventbridge') {
      template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })] });
    } else {
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', TopicArn: EXAMPLE_TRAIL_TOPIC, Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    }
    expect(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: Match.stringLikeRegexp('^(s3|events|sns)\\.amazonaws\\.com$') } })).toEqual({});
  });
});
