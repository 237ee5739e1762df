import { App, Token, Validations, type AppProps, type Environment } from 'aws-cdk-lib';
import { ConfigError } from '../lambda/errors';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AcmSentinelStack, watchedEventNames } from './acm-sentinel-stack';
import { LogSourceStack } from './log-source-stack';
import { addForwarders, type ForwarderStack } from './realtime';
import { readSettings } from './settings';

/** The stack's name; alarm names and the trail name derive from it. */
export const STACK_NAME = 'AcmSentinel';
/** The second stack, for the trail bucket's account when it is not the sentinel's. */
export const LOG_SOURCE_STACK_NAME = 'AcmSentinelLogSource';

/**
 * Feature flags the template depends on. They are set here, not in cdk.json, so that the tests,
 * which build the app in-process, synthesize exactly what `cdk deploy` does, and so that no
 * cdk.json can turn them off.
 */
export const FEATURE_FLAGS = {
  // Access logs are delivered through a bucket policy; the ACL alternative is refused by buckets
  // that enforce bucket-owner object ownership.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  // One statement per resource and set of actions: the policies a reviewer reads stay short.
  '@aws-cdk/aws-iam:minimizePolicies': true,
  // ARNs read "arn:aws:..." rather than a partition reference once the Region is known.
  '@aws-cdk/core:enablePartitionLiterals': true,
  // The backfill's Distributed Map writes its results with ResultWriter's current form.
  '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2': true,
} as const;

export interface CreateAppOptions {
  /** Context as `-c key=value` would give it; the CLI's own context is read as usual. @default none */
  readonly context?: AppProps['context'];
  /** Where to deploy. @default the CLI's account and Region, if any */
  readonly env?: Environment;
  /** Run cdk-nag's AWS Solutions checks as part of synthesis. @default true */
  readonly nag?: boolean;
  /** Where `app.synth()` writes the cloud assembly. @default the CLI's, or a temporary folder */
  readonly outdir?: string;
}

/**
 * Builds the acm-sentinel app: settings validated from context, one stack, and cdk-nag's AWS
 * Solutions checks, so any unacknowledged finding fails `cdk synth`.
 */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: AcmSentinelStack; logSource?: LogSourceStack; forwarders: ForwarderStack[] } {
  const app = new App({ context: options.context, postCliContext: FEATURE_FLAGS, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const settings = readSettings(app.node.getAllContext());
  const env = options.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stack = new AcmSentinelStack(app, STACK_NAME, {
    settings,
    env,
    description: 'acm-sentinel: alerts on sensitive ACM activity found in CloudTrail log files',
  });
  // A bucket in another account: the small stack its account deploys (cdk deploy --all).
  const trail = settings.trail;
  const logSource =
    trail.kind === 'existing' && trail.account !== undefined
      ? new LogSourceStack(app, LOG_SOURCE_STACK_NAME, {
          env: { account: trail.account, region: trail.region ?? stack.region },
          description: 'acm-sentinel log source: lets the sentinel function read this account\'s CloudTrail log files and hear of new ones',
          bucketName: trail.bucketName,
          keyPrefix: trail.keyPrefix,
          ...(trail.kmsKeyArn ? { kmsKeyArn: trail.kmsKeyArn } : {}),
          sentinelAccount: stack.account,
          sentinelRegion: stack.region,
          sentinelStackName: stack.stackName,
          delivery: settings.delivery,
        })
      : undefined;
  // The read role trusts the function's role by ARN, and IAM refuses to trust a role that does not exist yet.
  logSource?.addDependency(stack);
  const { realtime } = settings;
  let forwarders: ForwarderStack[] = [];
  if (realtime.regions.length || realtime.organizationId) {
    if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
      throw new ConfigError('context "realtimeRegions": forwarders name the home event bus by account and Region, which must be known at synth. Run cdk with credentials (or set CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION).');
    }
    forwarders = addForwarders(app, { account: stack.account, region: stack.region, partition: stack.partition }, watchedEventNames(settings), realtime.regions, realtime.organizationId);
  }
  if (options.nag ?? true) {
    // Acknowledgements are copied into the template's metadata, so a reviewer reading the
    // template sees each one with its reason.
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
  }
  return { app, stack, forwarders, ...(logSource ? { logSource } : {}) };
}
