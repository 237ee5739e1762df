import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { SEVERITIES, type Severity } from '../lambda/core/types';

/** The message attribute every alert carries its severity in, for subscription filter policies. */
export const SEVERITY_ATTRIBUTE = 'severity';

/**
 * A filter on the `severity` attribute that passes `min` and every severity above it.
 * `passUnlabelled` also passes messages that carry attributes but no severity. It cannot pass
 * CloudWatch alarm notifications: they carry no attributes at all, and SNS matches no filter
 * policy against an empty set of attributes.
 */
export function severityFilter(min: Severity, options: { passUnlabelled: boolean }): sns.SubscriptionFilter {
  const severities: unknown[] = SEVERITIES.slice(SEVERITIES.indexOf(min));
  return new sns.SubscriptionFilter(options.passUnlabelled ? [...severities, { exists: false }] : severities);
}

export interface AlertTopicProps {
  /** Email addresses subscribed to the alerts; each must confirm once. @default none */
  readonly emails?: readonly string[];
  /**
   * The lowest severity the email subscriptions receive. Above `low`, the alarms reach the same
   * addresses through a second, unfiltered topic, since a filter policy would drop them.
   * @default 'low', every alert, with the alarms on the same subscription
   */
  readonly emailMinSeverity?: Severity;
  /**
   * Name prefix of the CloudWatch alarms allowed to publish to the topic. Alarms must be named
   * with it, because the topic and key policies admit CloudWatch only for alarms of this stack.
   */
  readonly alarmNamePrefix: string;
}

/**
 * The SNS topic every alert and alarm goes to, encrypted with its own customer managed key.
 * Publishers are admitted one by one: the function through `grantPublish`, and CloudWatch
 * alarms whose names start with `alarmNamePrefix`. When email subscriptions are filtered by
 * severity, a second topic under the same key carries the alarms to those addresses.
 */
export class AlertTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  /** Alarms only, for email subscriptions whose severity filter would drop them from `topic`. */
  readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the acm-sentinel alert topic of stack ${stack.stackName}`,
      enableKeyRotation: true,
      // Nothing stays encrypted under this key once SNS has delivered, so tearing the stack
      // down may schedule its deletion; the waiting period still allows a change of mind.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'acm-sentinel',
      masterKey: this.key,
      enforceSSL: true,
    });

    // CloudWatch publishes as a service, so both the topic policy (which replaces SNS's default
    // one) and the key policy must admit it; the conditions keep other accounts' and other
    // stacks' alarms out (confused deputy).
    const alarmArnPattern = stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${props.alarmNamePrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': alarmArnPattern },
    };
    const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const admitOurAlarms = (topic: sns.Topic) =>
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowStackAlarmsToPublish',
          principals: [cloudwatch],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: fromOurAlarms,
        }),
      );
    admitOurAlarms(this.topic);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowStackAlarmsToPublishToEncryptedTopic',
        principals: [cloudwatch],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );

    this.alarmTopic = this.subscribeEmails(props.emails ?? [], props.emailMinSeverity ?? 'low', admitOurAlarms);
  }

  private subscribeEmails(emails: readonly string[], minSeverity: Severity, admitOurAlarms: (topic: sns.Topic) => void): sns.Topic | undefined {
    if (minSeverity === 'low' || emails.length === 0) {
      for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
      return undefined;
    }
    // Unlabelled messages pass too: an alert that somehow lost its severity had better arrive.
    const filterPolicy = { [SEVERITY_ATTRIBUTE]: severityFilter(minSeverity, { passUnlabelled: true }) };
    const alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'acm-sentinel alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    admitOurAlarms(alarmTopic);
    for (const email of emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email, { filterPolicy }));
      alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    return alarmTopic;
  }

  /** Sends `alarm`'s notifications to every topic that carries alarms to someone. */
  notifyOnAlarm(alarm: cloudwatch.Alarm): void {
    for (const topic of [this.topic, this.alarmTopic]) if (topic) alarm.addAlarmAction(new actions.SnsAction(topic));
  }

  /**
   * Lets `role` publish alerts: `sns:Publish` on this topic in its own policy, and the data-key
   * calls SNS makes on its behalf in the key policy, so the key names every principal that may
   * use it. `sid` names the key policy statement, one per publisher.
   */
  grantPublish(role: iam.IRole, sid = 'AllowSentinelFunctionToPublish'): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ArnPrincipal(role.roleArn)],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );
  }
}
