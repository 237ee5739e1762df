import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertTopicProps {
  /** Email addresses subscribed to every alert; each must confirm once. @default none */
  readonly emails?: readonly string[];
  /**
   * Name prefix of the CloudWatch alarms allowed to publish to the topic. Alarms must be named
   * with it, because the topic and key policies admit CloudWatch only for alarms of this stack.
   */
  readonly alarmNamePrefix: string;
}

/**
 * The SNS topic every alert and alarm goes to, encrypted with its own customer managed key.
 * Publishers are admitted one by one: the function through `grantPublish`, and CloudWatch
 * alarms whose names start with `alarmNamePrefix`.
 */
export class AlertTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

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
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowStackAlarmsToPublish',
        principals: [cloudwatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowStackAlarmsToPublishToEncryptedTopic',
        principals: [cloudwatch],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );

    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
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
