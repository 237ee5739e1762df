import { Annotations, CfnOutput, Stack, Token, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { ConfigError } from '../lambda/errors';
import { AlertTopic } from './alert-topic';
import { Backfill } from './backfill';
import { ChatChannel } from './chat-channel';
import { DedupeTable } from './dedupe-table';
import { LogDelivery } from './log-delivery';
import { crossAccountNames } from './log-source-stack';
import { RealtimeRule } from './realtime';
import { SentinelAlarms } from './sentinel-alarms';
import { SENTINEL_TIMEOUT, SentinelFunction } from './sentinel-function';
import type { SentinelSettings } from './settings';
import { SlackWebhook } from './slack-webhook';
import { TrailSource } from './trail-source';

/** Every call a rule of this deployment alerts on: the default pack with the user's configuration. */
export function watchedEventNames(settings: SentinelSettings): string[] {
  return createRuleEngine(settings.ruleConfig).rules.flatMap((rule) => rule.eventNames);
}

export interface AcmSentinelStackProps extends StackProps {
  /** Validated settings, from `readSettings`. */
  readonly settings: SentinelSettings;
}

/**
 * acm-sentinel: CloudTrail log files → function → alert topic → email and Slack, with alarms on
 * the function's failures, and on its silence, sent to the same topic.
 */
export class AcmSentinelStack extends Stack {
  readonly trailSource: TrailSource;
  readonly alertTopic: AlertTopic;
  readonly dedupeTable?: DedupeTable;
  readonly sentinel: SentinelFunction;
  readonly logDelivery: LogDelivery;
  readonly realtime?: RealtimeRule;
  readonly backfill?: Backfill;
  readonly alarms: SentinelAlarms;
  readonly slackWebhook?: SlackWebhook;
  readonly slack?: ChatChannel;
  readonly teams?: ChatChannel;

  constructor(scope: Construct, id: string, props: AcmSentinelStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const alarmNamePrefix = `${this.stackName}-`;

    const crossAccount = settings.trail.kind === 'existing' && settings.trail.account !== undefined ? crossAccountNames(this.stackName, this.region) : undefined;
    if (crossAccount && Token.isUnresolved(this.account)) {
      throw new ConfigError('context "trailBucketAccount": the security account must be known at synth, since the log account\'s read role trusts this function\'s role by ARN. Run cdk with credentials for it (or set CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION).');
    }
    this.trailSource = new TrailSource(this, 'TrailSource', {
      ...settings.trail,
      eventBridge: settings.delivery.trigger === 'eventbridge',
      ...(crossAccount ? { readerRoleName: crossAccount.readerRole } : {}),
    });
    this.alertTopic = new AlertTopic(this, 'AlertTopic', {
      emails: settings.alertEmails,
      emailMinSeverity: settings.emailMinSeverity,
      alarmNamePrefix,
    });
    if (settings.dedupe) this.dedupeTable = new DedupeTable(this, 'Dedupe');
    this.sentinel = new SentinelFunction(this, 'Sentinel', {
      trailSource: this.trailSource,
      alertTopic: this.alertTopic,
      ruleConfig: settings.ruleConfig,
      ...(settings.maxDecompressedBytes !== undefined ? { maxDecompressedBytes: settings.maxDecompressedBytes } : {}),
      ...(this.dedupeTable ? { dedupeTable: this.dedupeTable } : {}),
      ...(crossAccount ? { roleName: crossAccount.functionRole } : {}),
    });
    this.logDelivery = new LogDelivery(this, 'LogDelivery', {
      trailSource: this.trailSource,
      function: this.sentinel.function,
      functionTimeout: SENTINEL_TIMEOUT,
      settings: settings.delivery,
      alertTopic: this.alertTopic,
      alarmNamePrefix,
      failureQueue: this.sentinel.failureQueue,
    });
    if (settings.realtime.enabled) {
      this.realtime = new RealtimeRule(this, 'Realtime', {
        function: this.sentinel.function,
        eventNames: watchedEventNames(settings),
        deadLetterQueue: this.sentinel.failureQueue,
        ...(this.logDelivery.queue ? { queue: this.logDelivery.queue } : {}),
        ...(settings.realtime.organizationId ? { organizationId: settings.realtime.organizationId } : {}),
      });
    }
    if (settings.backfill) {
      this.backfill = new Backfill(this, 'Backfill', {
        trailSource: this.trailSource,
        alertTopic: this.alertTopic,
        ...(this.dedupeTable ? { dedupeTable: this.dedupeTable } : {}),
        environment: this.sentinel.environment,
        failureQueue: this.sentinel.failureQueue,
      });
      new CfnOutput(this, 'BackfillStateMachineArn', { value: this.backfill.stateMachine.stateMachineArn, description: 'acm-sentinel backfill starts executions of this state machine.' });
      new CfnOutput(this, 'BackfillReportBucket', { value: this.backfill.reportBucket.bucketName, description: 'Backfill manifests, findings (JSON lines) and run summaries.' });
      new CfnOutput(this, 'TrailLogsPrefix', { value: this.trailSource.logFilesPrefix });
    }
    this.alarms = new SentinelAlarms(this, 'Alarms', {
      sentinel: this.sentinel,
      alertTopic: this.alertTopic,
      alarmNamePrefix,
      dedupe: settings.dedupe,
      heartbeatHours: settings.heartbeatHours,
    });

    if (settings.slackWebhook) {
      this.slackWebhook = new SlackWebhook(this, 'SlackWebhook', {
        ...settings.slackWebhook,
        alertTopic: this.alertTopic,
        failureQueue: this.sentinel.failureQueue,
        alarmNamePrefix,
      });
    }

    const chatAlarms = [...this.alarms.alarms, ...this.logDelivery.alarms, ...(this.slackWebhook?.alarms ?? [])];
    // Chat configurations are global to the account: the Region keeps a second deployment's apart.
    if (settings.teams) {
      this.teams = new ChatChannel(this, 'Teams', {
        channel: { kind: 'teams', ...settings.teams },
        configurationName: `${this.stackName}-${this.region}-teams`,
        topic: this.alertTopic.topic,
        alarms: chatAlarms,
      });
    }
    if (settings.slack) {
      this.slack = new ChatChannel(this, 'Slack', {
        channel: { kind: 'slack', ...settings.slack },
        configurationName: `${this.stackName}-${this.region}-alerts`,
        topic: this.alertTopic.topic,
        alarms: chatAlarms,
      });
      if (settings.slackWebhook && settings.slackWebhook.minSeverity !== 'low') {
        Annotations.of(this).addWarningV2(
          'acm-sentinel:chatChannelUnfiltered',
          `slackMinSeverity=${settings.slackWebhook.minSeverity} filters the incoming webhook only: the Amazon Q Developer channel (slackChannelId) still receives every alert, since the service subscribes itself and takes no filter policy.`,
        );
      }
    }

    const chatChannel = settings.slack ?? settings.teams;
    if (settings.alertEmails.length === 0 && !chatChannel && !settings.slackWebhook) {
      Annotations.of(this).addWarningV2(
        'acm-sentinel:noSubscribers',
        'No alertEmails and no Slack or Teams channel: alerts reach no one until something subscribes to the topic (output AlertTopicArn).',
      );
    } else if (settings.alertEmails.length === 0 && !chatChannel) {
      Annotations.of(this).addWarningV2(
        'acm-sentinel:noAlarmSubscribers',
        'The Slack webhook receives alerts only, and there are no alertEmails and no Amazon Q Developer channel: the alarms on failures reach no one. Add alertEmails, or subscribe something to the topic (output AlertTopicArn).',
      );
    }
    new CfnOutput(this, 'AlertTopicArn', {
      value: this.alertTopic.topic.topicArn,
      description: 'Subscribe more endpoints here; every alert and alarm is published to it.',
    });
    if (this.alertTopic.alarmTopic) {
      new CfnOutput(this, 'AlarmTopicArn', {
        value: this.alertTopic.alarmTopic.topicArn,
        description: 'Alarms only: the email addresses get them here, since their severity filter would drop them from the alert topic.',
      });
    }
    new CfnOutput(this, 'FunctionName', { value: this.sentinel.function.functionName });
    new CfnOutput(this, 'FunctionRoleArn', {
      value: this.sentinel.role.roleArn,
      description: "Name it in the key policy of a trail key held in another account, so the function may decrypt log files.",
    });
    new CfnOutput(this, 'FailureQueueUrl', {
      value: this.sentinel.failureQueue.queueUrl,
      description: 'Events acm-sentinel could not process (S3 events; with the Slack webhook, also alerts it could not post); re-drive them once the cause is fixed.',
    });
    new CfnOutput(this, 'TrailBucketName', { value: this.trailSource.bucket.bucketName });
    if (this.dedupeTable) new CfnOutput(this, 'DedupeTableName', { value: this.dedupeTable.table.tableName });
    if (this.slackWebhook) {
      new CfnOutput(this, 'SlackNotifierFunctionName', { value: this.slackWebhook.function.functionName });
      new CfnOutput(this, 'SlackNotifierRoleArn', {
        value: this.slackWebhook.role.roleArn,
        description: "Name it in the key policy of the secret's customer managed key, if it has one, so the notifier may decrypt the webhook URL.",
      });
    }
  }
}
