import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { logFilesPattern } from './log-delivery';
import { acknowledgeWildcard } from './nag';
import type { DeliverySettings } from './settings';
import { LOG_FILE_SUFFIX, TRAIL_LOGS_FOLDER } from './trail-source';

/** Names both stacks agree on, so neither needs the other's outputs. */
export const crossAccountNames = (stackName: string, sentinelRegion: string) => ({
  /** The function's role in the security account, which the read role trusts. */
  functionRole: `${stackName}-${sentinelRegion}-function`,
  /** The read role in the bucket's account. */
  readerRole: `${stackName}-${sentinelRegion}-log-reader`,
});

export interface LogSourceStackProps extends StackProps {
  readonly bucketName: string;
  /** The trail's key prefix with a trailing slash, or ''. */
  readonly keyPrefix: string;
  readonly kmsKeyArn?: string;
  /** Where the sentinel function runs. */
  readonly sentinelAccount: string;
  readonly sentinelRegion: string;
  readonly sentinelStackName: string;
  readonly delivery: DeliverySettings;
}

/**
 * AcmSentinelLogSource: the small stack for the trail bucket's account. A read role that only
 * the sentinel function's role may assume, allowed `s3:GetObject` on the log files and
 * `kms:Decrypt` through S3; with `trigger=eventbridge`, a rule that forwards the bucket's new log
 * files to the security account's default event bus. It changes nothing on the bucket itself.
 */
export class LogSourceStack extends Stack {
  readonly readerRole: iam.Role;
  readonly forwardRule?: events.Rule;

  constructor(scope: Construct, id: string, props: LogSourceStackProps) {
    super(scope, id, props);
    const names = crossAccountNames(props.sentinelStackName, props.sentinelRegion);
    const logFiles = `arn:${this.partition}:s3:::${props.bucketName}/${props.keyPrefix}${TRAIL_LOGS_FOLDER}*`;
    const functionRoleArn = `arn:${this.partition}:iam::${props.sentinelAccount}:role/${names.functionRole}`;

    this.readerRole = new iam.Role(this, 'LogReaderRole', {
      roleName: names.readerRole,
      description: 'acm-sentinel: lets the sentinel function in the security account read CloudTrail log files, nothing else',
      assumedBy: new iam.ArnPrincipal(functionRoleArn),
      inlinePolicies: {
        ReadLogFiles: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [logFiles] }),
            ...(props.kmsKeyArn
              ? [new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.kmsKeyArn], conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.${this.urlSuffix}` } } })]
              : []),
          ],
        }),
      },
    });
    acknowledgeWildcard(
      this.readerRole,
      logFiles,
      `Log files get new keys every few minutes, so their ARNs can only be matched by a wildcard; it is confined to the trail's ${props.keyPrefix}${TRAIL_LOGS_FOLDER} prefix and to s3:GetObject.`,
    );

    if (props.delivery.trigger === 'eventbridge') {
      const bus = events.EventBus.fromEventBusArn(this, 'SentinelBus', `arn:${this.partition}:events:${props.sentinelRegion}:${props.sentinelAccount}:event-bus/default`);
      this.forwardRule = new events.Rule(this, 'ForwardLogFiles', {
        description: 'acm-sentinel: forwards new CloudTrail log files of the trail bucket to the security account',
        eventPattern: logFilesPattern(props.bucketName, props.keyPrefix + TRAIL_LOGS_FOLDER),
        targets: [new targets.EventBus(bus)],
      });
    }

    new CfnOutput(this, 'LogReaderRoleArn', { value: this.readerRole.roleArn, description: `The role the sentinel function assumes to read *${LOG_FILE_SUFFIX} log files.` });
  }
}
