import { Match, Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_TRAIL } from '../../infra/configurations';
import { build } from './build';

const PATTERN = Match.objectLike({ source: ['aws.acm', 'aws.acm-pca'], 'detail-type': ['AWS API Call via CloudTrail'] });
const HOME_BUS = 'arn:aws:events:eu-west-1:111122223333:event-bus/default';

describe('the real-time path (-c realtime, on by default with dedupe)', () => {
  it('adds a home rule for ACM and ACM PCA CloudTrail events, read-only calls included, targeting the function', () => {
    const { template } = build({});
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: PATTERN,
      State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sentinel'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 3600 } })],
    });
  });

  it('matches only the calls a rule alerts on, so frequent read calls never invoke the function or cross an account', () => {
    const { template } = build({ ruleConfig: { additionalEvents: [{ eventSource: 'acm.amazonaws.com', eventName: 'ListCertificates', severity: 'low' }] } });
    const [rule] = Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: PATTERN } })) as Array<{ Properties: { EventPattern: { detail: { eventName: string[]; eventSource: string[] } } } }>;
    const names = rule!.Properties.EventPattern.detail.eventName;
    expect(names).toEqual(expect.arrayContaining(['ExportCertificate', 'GetAcmeExternalAccountBindingCredentials', 'IssueCertificate', 'ListCertificates']));
    expect(names).not.toContain('DescribeCertificate');
    expect(rule!.Properties.EventPattern.detail.eventSource).toEqual(['acm.amazonaws.com', 'acm-pca.amazonaws.com']);
  });

  it('keeps events EventBridge could not deliver in the failure queue', () => {
    build({}).template.hasResourceProperties('AWS::Events::Rule', { EventPattern: PATTERN, Targets: [Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SentinelFailureQueue'), 'Arn'] } } })] });
  });

  it('goes through the queue with queue=true', () => {
    const { template } = build({ queue: 'true' });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: PATTERN, Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogDeliveryQueue'), 'Arn'] } })] });
  });

  it('is off with realtime=false, and off by default when dedupe is off', () => {
    for (const context of [{ realtime: 'false' }, { dedupe: 'false' }]) {
      expect(build(context).template.findResources('AWS::Events::Rule', { Properties: { EventPattern: PATTERN } })).toEqual({});
    }
  });

  it('refuses realtime=true with dedupe=false: every event would alert twice', () => {
    expect(() => build({ realtime: 'true', dedupe: 'false' })).toThrow(/context "realtime": needs deduplication, and dedupe=false/);
  });

  it('adds one forwarder stack per other Region, sending the same events to the home bus with a role that may only put events there', () => {
    const { app, forwarders } = build({ realtimeRegions: 'us-east-1,eu-west-1,ap-southeast-2' });
    expect(forwarders.map((stack) => [stack.stackName, stack.region, stack.account])).toEqual([
      ['AcmSentinelForwarder-us-east-1', 'us-east-1', '111122223333'],
      ['AcmSentinelForwarder-ap-southeast-2', 'ap-southeast-2', '111122223333'],
    ]);
    const forwarder = Template.fromStack(forwarders[0]!);
    forwarder.hasResourceProperties('AWS::Events::Rule', { EventPattern: PATTERN, State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS', Targets: [Match.objectLike({ Arn: HOME_BUS })] });
    forwarder.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: [{ Action: 'events:PutEvents', Effect: 'Allow', Resource: HOME_BUS }] } });
    // No bootstrap in the forwarded Regions: the template checks no bootstrap version.
    expect(JSON.stringify(forwarder.toJSON())).not.toContain('BootstrapVersion');
    expect(app.node.tryFindChild('Organization')).toBeUndefined();
  });

  it('for an organization: a bus policy limited to it, and an environment-agnostic forwarder template for a StackSet, outside cdk deploy --all', () => {
    const { template, forwarders } = build({ ...EXAMPLE_TRAIL, organizationId: 'o-a1b2c3d4e5' });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: 'default',
      Statement: {
        Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: HOME_BUS,
        Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' }, 'ForAllValues:StringEquals': { 'events:source': ['aws.acm', 'aws.acm-pca'], 'events:detail-type': ['AWS API Call via CloudTrail'] } },
      },
    });
    const [stackSet] = forwarders;
    expect(stackSet!.node.path).toBe('Organization/AcmSentinelForwarder');
    expect(stackSet!.environment).toBe('aws://unknown-account/unknown-region');
    Template.fromStack(stackSet!).hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: HOME_BUS })] });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ realtimeRegions: 'us-east-1,mars-1' }, /context "realtimeRegions": "mars-1" is not a Region/],
    [{ realtimeRegions: 'us-east-1', realtime: 'false' }, /context "realtimeRegions": only applies with the real-time path on/],
  ])('refuses %j, naming the key', (context, message) => {
    expect(() => build(context)).toThrow(message);
  });

  it('needs the home account and Region at synth for forwarders', () => {
    expect(() => build({ realtimeRegions: 'us-east-1' }, {})).toThrow(/context "realtimeRegions": forwarders name the home event bus by account and Region/);
  });
});
