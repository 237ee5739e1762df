import { Match, Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_TRAIL } from '../../infra/configurations';
import { build } from './build';

const LOG_ACCOUNT = '444455556666';
const context = { ...EXAMPLE_TRAIL, trailBucketAccount: LOG_ACCOUNT, trigger: 'eventbridge' };

describe('a trail bucket in another account (-c trailBucketAccount)', () => {
  const { app, stack, template } = build(context);
  const logSource = Template.fromStack(app.node.findChild('AcmSentinelLogSource') as never);

  it('adds a second stack, AcmSentinelLogSource, for the bucket\'s account and Region, deployed after the main one', () => {
    const source = app.node.findChild('AcmSentinelLogSource') as unknown as { account: string; region: string; dependencies: unknown[] };
    expect([source.account, source.region]).toEqual([LOG_ACCOUNT, stack.region]);
    expect(source.dependencies).toEqual([stack]);
  });

  it('there, a read role that trusts only the function role and may only get log files and decrypt through S3', () => {
    logSource.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'AcmSentinel-eu-west-1-log-reader',
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:role/AcmSentinel-eu-west-1-function' } }] },
      Policies: [
        {
          PolicyName: 'ReadLogFiles',
          PolicyDocument: {
            Statement: [
              { Action: 's3:GetObject', Effect: 'Allow', Resource: 'arn:aws:s3:::org-trail-logs/org/AWSLogs/*' },
              { Action: 'kms:Decrypt', Effect: 'Allow', Resource: EXAMPLE_TRAIL.trailKmsKeyArn, Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } } } },
            ],
          },
        },
      ],
    });
  });

  it('there, a rule that forwards the bucket\'s new log files to the security account\'s default bus', () => {
    logSource.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['org-trail-logs'] }, object: { key: [{ wildcard: 'org/AWSLogs/*/CloudTrail/*.json.gz' }] } } },
      Targets: [Match.objectLike({ Arn: 'arn:aws:events:eu-west-1:111122223333:event-bus/default' })],
    });
  });

  it('here, the function role, named for the trust, may only assume that role; the function is told which role and matches events from that account only', () => {
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'AcmSentinel-eu-west-1-function' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: 'arn:aws:iam::444455556666:role/AcmSentinel-eu-west-1-log-reader' }]) },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('s3:GetObject');
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ LOG_READER_ROLE_ARN: 'arn:aws:iam::444455556666:role/AcmSentinel-eu-west-1-log-reader' }) } });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ account: [LOG_ACCOUNT] }) });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: 'default',
      Statement: Match.objectLike({ Principal: { AWS: `arn:aws:iam::${LOG_ACCOUNT}:root` }, Action: 'events:PutEvents' }),
    });
  });

  it('reads a bucket in another Region from that Region', () => {
    const other = build({ trailBucketName: 'aws-controltower-logs-444455556666-us-east-1', trailBucketAccount: LOG_ACCOUNT, trailBucketRegion: 'us-east-1', trigger: 'eventbridge' });
    other.template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ LOG_BUCKET_REGION: 'us-east-1' }) } });
    expect((other.app.node.findChild('AcmSentinelLogSource') as unknown as { region: string }).region).toBe('us-east-1');
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ ...EXAMPLE_TRAIL, trailBucketAccount: LOG_ACCOUNT }, /context "trigger": is s3 \(the default\), and S3 cannot notify a function in another account/],
    [{ trailBucketAccount: LOG_ACCOUNT }, /context "trailBucketAccount": only applies to an existing trail bucket/],
    [{ ...EXAMPLE_TRAIL, trailBucketAccount: 'log-archive', trigger: 'eventbridge' }, /"log-archive" is not an account ID/],
    [{ ...EXAMPLE_TRAIL, trailBucketRegion: 'us-east-1' }, /context "trailBucketRegion": only applies with trailBucketAccount/],
  ])('refuses %j, naming the key', (bad, message) => {
    expect(() => build(bad)).toThrow(message);
  });

  it('needs the security account at synth', () => {
    expect(() => build(context, {})).toThrow(/context "trailBucketAccount": the security account must be known at synth/);
  });
});
