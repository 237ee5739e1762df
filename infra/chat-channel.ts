import { Validations } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { SlackSettings, TeamsSettings } from './settings';

export interface ChatChannelProps {
  /** The Slack channel or the Microsoft Teams channel. */
  readonly channel: ({ readonly kind: 'slack' } & SlackSettings) | ({ readonly kind: 'teams' } & TeamsSettings);
  /** Name of the chat configuration, unique in the account (the service is global): include the Region. */
  readonly configurationName: string;
  /** The topic whose messages are posted to the channel. */
  readonly topic: sns.ITopic;
  /** Alarms that publish to the topic; the channel may read them to draw their charts. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/**
 * Posts the alert topic's messages to a Slack or Microsoft Teams channel through Amazon Q
 * Developer in chat applications. The channel can only read this stack's alarms and metrics: its
 * role and its guardrail (which caps what any channel member may do) hold the same few read
 * actions, never the AdministratorAccess guardrail the service applies when none is given.
 */
export class ChatChannel extends Construct {
  readonly configuration: chatbot.SlackChannelConfiguration | chatbot.CfnMicrosoftTeamsChannelConfiguration;
  readonly role: iam.Role;
  readonly guardrail: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ChatChannelProps) {
    super(scope, id);
    const { channel } = props;
    const app = channel.kind === 'slack' ? 'Slack' : 'Microsoft Teams';
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
      description: `acm-sentinel ${app} channel guardrail: read this stack's alarms and their metrics, nothing else`,
      statements: statements(),
    });
    Validations.of(this.guardrail).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: chartsReason });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: `acm-sentinel ${app} channel: read this stack's alarms and their metrics`,
      inlinePolicies: { ReadStackAlarms: new iam.PolicyDocument({ statements: statements() }) },
    });
    Validations.of(this.role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: chartsReason });

    // Channel members who want to run commands must bring their own role (userRoleRequired);
    // the channel role stays for notifications.
    this.configuration =
      channel.kind === 'slack'
        ? new chatbot.SlackChannelConfiguration(this, 'Configuration', {
            slackChannelConfigurationName: props.configurationName,
            slackWorkspaceId: channel.workspaceId,
            slackChannelId: channel.channelId,
            notificationTopics: [props.topic],
            role: this.role,
            guardrailPolicies: [this.guardrail],
            userRoleRequired: true,
            loggingLevel: chatbot.LoggingLevel.INFO,
          })
        : new chatbot.CfnMicrosoftTeamsChannelConfiguration(this, 'Configuration', {
            configurationName: props.configurationName,
            teamsTenantId: channel.tenantId,
            teamId: channel.teamId,
            teamsChannelId: channel.channelId,
            snsTopicArns: [props.topic.topicArn],
            iamRoleArn: this.role.roleArn,
            guardrailPolicies: [this.guardrail.managedPolicyArn],
            userRoleRequired: true,
            loggingLevel: 'INFO',
          });
  }
}
