import { Validations } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { SlackSettings } from './settings';

export interface SlackChannelProps extends SlackSettings {
  /** Name of the chat configuration, unique in the account. */
  readonly configurationName: string;
  /** The topic whose messages are posted to the channel. */
  readonly topic: sns.ITopic;
  /** Alarms that publish to the topic; the channel may read them to draw their charts. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/**
 * Posts the alert topic's messages to a Slack channel through Amazon Q Developer in chat
 * applications. The channel can only read this stack's alarms and metrics: its role and its
 * guardrail (which caps what any channel member may do) hold the same few read actions, never the
 * AdministratorAccess guardrail the service applies when none is given.
 */
export class SlackChannel extends Construct {
  readonly configuration: chatbot.SlackChannelConfiguration;
  readonly role: iam.Role;
  readonly guardrail: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: SlackChannelProps) {
    super(scope, id);
    const statements = (): iam.PolicyStatement[] => [
      new iam.PolicyStatement({
        sid: 'DescribeStackAlarms',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: props.alarms.map((alarm) => alarm.alarmArn),
      }),
      new iam.PolicyStatement({
        sid: 'DrawAlarmCharts',
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:GetMetricWidgetImage'],
        resources: ['*'],
      }),
    ];
    const chartsReason =
      'cloudwatch:GetMetricData and GetMetricWidgetImage do not support resource-level permissions; they are read-only and let the channel draw the chart of an alarm notification.';

    this.guardrail = new iam.ManagedPolicy(this, 'Guardrail', {
      description: 'acm-sentinel Slack channel guardrail: read this stack\'s alarms and their metrics, nothing else',
      statements: statements(),
    });
    Validations.of(this.guardrail).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: chartsReason });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: 'acm-sentinel Slack channel: read this stack\'s alarms and their metrics',
      inlinePolicies: { ReadStackAlarms: new iam.PolicyDocument({ statements: statements() }) },
    });
    Validations.of(this.role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: chartsReason });

    this.configuration = new chatbot.SlackChannelConfiguration(this, 'Configuration', {
      slackChannelConfigurationName: props.configurationName,
      slackWorkspaceId: props.workspaceId,
      slackChannelId: props.channelId,
      notificationTopics: [props.topic],
      role: this.role,
      guardrailPolicies: [this.guardrail],
      // Channel members who want to run commands must bring their own role; the channel role
      // stays for notifications.
      userRoleRequired: true,
      loggingLevel: chatbot.LoggingLevel.INFO,
    });
  }
}
