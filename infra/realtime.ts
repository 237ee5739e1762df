import { BootstraplessSynthesizer, Duration, Stack, Stage, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const CLOUDTRAIL_EVENT_SOURCES = ['aws.acm', 'aws.acm-pca'];

/**
 * CloudTrail's ACM and ACM Private CA calls that a rule alerts on, as EventBridge delivers them:
 * read-only calls such as DescribeCertificate are frequent and alert on nothing, so they never
 * invoke the function nor cross an account or Region.
 */
export function cloudTrailEventsPattern(eventNames: readonly string[]): events.EventPattern {
  return {
    source: CLOUDTRAIL_EVENT_SOURCES,
    detailType: ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['acm.amazonaws.com', 'acm-pca.amazonaws.com'], eventName: [...new Set(eventNames)].sort() },
  };
}

/**
 * Read-only calls (GetAcmeExternalAccountBindingCredentials among them) reach EventBridge only
 * through a rule in this state; a plain ENABLED rule would see write calls alone.
 */
export const READ_AND_WRITE_STATE = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

/** A rule on the default bus for CloudTrail's ACM events, including read-only calls. */
function cloudTrailRule(scope: Construct, id: string, description: string, eventNames: readonly string[], target: events.IRuleTarget): events.Rule {
  const rule = new events.Rule(scope, id, { description, eventPattern: cloudTrailEventsPattern(eventNames), targets: [target] });
  (rule.node.defaultChild as events.CfnRule).state = READ_AND_WRITE_STATE;
  return rule;
}

export interface RealtimeRuleProps {
  readonly function: lambda.IFunction;
  /** The calls the rules alert on (the pack and `additionalEvents`); only they are matched. */
  readonly eventNames: readonly string[];
  /** Where events EventBridge could not deliver after its retries are kept (and alarmed). */
  readonly deadLetterQueue: sqs.IQueue;
  /** The delivery queue, with `queue=true`: real-time events go through it too. */
  readonly queue?: sqs.IQueue;
  /** Lets member accounts of this organization forward their events to this bus. */
  readonly organizationId?: string;
}

/**
 * The home Region's real-time path: CloudTrail's ACM and ACM PCA events on the default bus,
 * forwarded ones included, to the function (or its queue). EventBridge delivers them on a best
 * effort basis; the log files stay the complete path, and deduplication keeps one alert per event.
 */
export class RealtimeRule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RealtimeRuleProps) {
    super(scope, id);
    // A real-time alert older than an hour is late anyway: the log file has delivered it by then.
    const target = props.queue
      ? new targets.SqsQueue(props.queue)
      : new targets.LambdaFunction(props.function, { retryAttempts: 20, maxEventAge: Duration.hours(1), deadLetterQueue: props.deadLetterQueue });
    this.rule = cloudTrailRule(this, 'Rule', 'acm-sentinel: ACM and ACM PCA API calls, in near real time (read and write)', props.eventNames, target);
    if (props.organizationId) {
      const stack = Stack.of(this);
      new events.CfnEventBusPolicy(this, 'OrganizationMayForward', {
        eventBusName: 'default',
        statementId: 'acm-sentinel-organization-forwarders',
        statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: `arn:${stack.partition}:events:${stack.region}:${stack.account}:event-bus/default`,
          // Only the forwarders' events: CloudTrail's ACM calls, from the organization's accounts.
          Condition: {
            StringEquals: { 'aws:PrincipalOrgID': props.organizationId },
            'ForAllValues:StringEquals': { 'events:source': CLOUDTRAIL_EVENT_SOURCES, 'events:detail-type': ['AWS API Call via CloudTrail'] },
          },
        },
      });
    }
  }
}

export interface ForwarderStackProps extends StackProps {
  /** The home Region's default bus, where the sentinel's rule listens. */
  readonly homeBusArn: string;
  /** The calls the rules alert on. */
  readonly eventNames: readonly string[];
}

/**
 * A small stack for one more Region (or, deployed as a StackSet, one member account and Region):
 * a rule that forwards CloudTrail's ACM and ACM PCA events to the home Region's default bus, with
 * a role that may only put events there. It needs no bootstrap: the template has no assets.
 */
export class ForwarderStack extends Stack {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ForwarderStackProps) {
    super(scope, id, { ...props, synthesizer: new BootstraplessSynthesizer() });
    const home = events.EventBus.fromEventBusArn(this, 'HomeBus', props.homeBusArn);
    this.rule = cloudTrailRule(this, 'Forward', 'acm-sentinel: forwards ACM and ACM PCA API calls to the home Region', props.eventNames, new targets.EventBus(home));
  }
}

/** The stage that holds the organization's forwarder template; `cdk deploy --all` does not deploy stage stacks. */
export const ORGANIZATION_STAGE = 'Organization';
export const ORGANIZATION_FORWARDER = 'AcmSentinelForwarder';

/**
 * Forwarders for every Region listed and, for an organization, an environment-agnostic template
 * for a service-managed StackSet (cdk.out/assembly-Organization/), to deploy to the member
 * accounts in every Region the organization uses.
 */
export function addForwarders(
  scope: Construct,
  home: { account: string; region: string; partition: string },
  eventNames: readonly string[],
  regions: readonly string[],
  organizationId?: string,
): ForwarderStack[] {
  const homeBusArn = `arn:${home.partition}:events:${home.region}:${home.account}:event-bus/default`;
  const stacks = regions
    .filter((region) => region !== home.region)
    .map((region) => new ForwarderStack(scope, `AcmSentinelForwarder-${region}`, {
      env: { account: home.account, region },
      homeBusArn,
      eventNames,
      description: `acm-sentinel: forwards ACM CloudTrail events from ${region} to ${home.region}`,
    }));
  if (organizationId) {
    const stage = new Stage(scope, ORGANIZATION_STAGE);
    stacks.push(new ForwarderStack(stage, ORGANIZATION_FORWARDER, { homeBusArn, eventNames, description: `acm-sentinel: forwards ACM CloudTrail events of a member account to ${home.account} / ${home.region} (StackSet template)` }));
  }
  return stacks;
}
