import * as path from 'node:path';
import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ConfigError } from '../lambda/errors';
import { SEVERITY_ATTRIBUTE, severityFilter, type AlertTopic } from './alert-topic';
import { ALARM_PERIOD, alarmOnAny } from './sentinel-alarms';
import { bundledFunction, REPO_ROOT } from './bundled-function';
import type { SlackWebhookSettings } from './settings';

/** Memory of the notifier, in MB: it renders one message and makes one HTTPS request. */
export const SLACK_NOTIFIER_MEMORY_MB = 256;
/**
 * Timeout of one notification: room for the notifier's own retries (three 10 s attempts, or one
 * wait of up to 30 s that Slack asks for), which stop short of it.
 */
export const SLACK_NOTIFIER_TIMEOUT = Duration.minutes(1);
/** The environment variable the notifier reads the secret's name or ARN from. */
export const SLACK_WEBHOOK_SECRET_ENV = 'SLACK_WEBHOOK_SECRET_ID';

/** The notifier's handler, bundled by esbuild from the TypeScript source. */
export const SLACK_NOTIFIER_ENTRY = path.join(REPO_ROOT, 'lambda', 'slack-notifier.ts');

export interface SlackWebhookProps extends SlackWebhookSettings {
  /** The topic whose alerts are posted. */
  readonly alertTopic: AlertTopic;
  /** Where notifications that failed every attempt are kept; shared with the sentinel function. */
  readonly failureQueue: sqs.IQueue;
  /** Prefix of the alarm's name; the alert topic admits only alarms named with it. */
  readonly alarmNamePrefix: string;
}

/**
 * Posts alerts to Slack through an incoming webhook: the Slack notifier function, subscribed to
 * the alert topic for alerts of `minSeverity` and above, reading the webhook URL from a Secrets
 * Manager secret it alone may read. Only alerts reach it: the notifier renders alert objects, and
 * a CloudWatch alarm notification, which carries no severity, would only fail every attempt.
 */
export class SlackWebhook extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: SlackWebhookProps) {
    super(scope, id);

    const built = bundledFunction(this, {
      description: 'acm-sentinel: posts alerts to Slack through an incoming webhook',
      roleDescription: 'acm-sentinel Slack notifier: reads the webhook secret, posts alerts to Slack',
      entry: SLACK_NOTIFIER_ENTRY,
      memorySize: SLACK_NOTIFIER_MEMORY_MB,
      timeout: SLACK_NOTIFIER_TIMEOUT,
      environment: {
        // The secret's name, never its value: the URL is read at run time.
        [SLACK_WEBHOOK_SECRET_ENV]: props.secretName,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      // SNS invokes asynchronously: a Slack outage is ridden out by Lambda's retries, and what
      // still fails joins the sentinel's failed events, whose queue is alarmed.
      failureQueue: props.failureQueue,
      statements: [new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.secretArn(props.secretName)] })],
    });
    this.function = built.function;
    this.role = built.role;
    this.logGroup = built.logGroup;

    props.alertTopic.topic.addSubscription(
      new subscriptions.LambdaSubscription(this.function, {
        filterPolicy: { [SEVERITY_ATTRIBUTE]: severityFilter(props.minSeverity, { passUnlabelled: false }) },
      }),
    );

    this.alarms = [
      alarmOnAny(this, 'Errors', {
        alarmName: `${props.alarmNamePrefix}slack-notifier-errors`,
        description:
          'The acm-sentinel Slack notifier failed to post an alert to the webhook; Lambda retries it, then keeps it in the failure queue. The notifier logs say what Slack answered and what to do.',
        metric: this.function.metricErrors({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
        alertTopic: props.alertTopic,
      }),
    ];
  }

  /**
   * The ARN IAM needs for the secret. A secret named without its ARN is matched with the six
   * characters Secrets Manager appends to every secret's ARN, exactly six, so that another secret
   * whose name merely starts the same is not matched.
   */
  private secretArn(secretName: string): string {
    const stack = Stack.of(this);
    if (!secretName.startsWith('arn:')) {
      return stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secretName}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    }
    const secretRegion = secretName.split(':')[3];
    // An environment-agnostic stack learns its Region only at deploy time.
    if (!Token.isUnresolved(stack.region) && secretRegion !== stack.region) {
      throw new ConfigError(
        `context "slackWebhookSecretName": the secret is in ${secretRegion} but the stack deploys to ${stack.region}. The notifier reads it in its own Region: create the secret in ${stack.region} (docs/slack-webhook.md), or deploy to ${secretRegion}.`,
      );
    }
    return secretName;
  }
}
