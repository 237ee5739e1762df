import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambda/config';
import type { AlertTopic } from './alert-topic';
import { bundledFunction } from './bundled-function';
import type { DedupeTable } from './dedupe-table';
import { SENTINEL_ENTRY } from './sentinel-function';
import { acknowledgeGeneratedWildcards, acknowledgeWildcard } from './nag';
import type { TrailSource } from './trail-source';

/** Day folders per batch: a day of one account and Region is about 288 log files. */
export const BACKFILL_PREFIXES_PER_BATCH = 4;
/** Reports are copies of findings; they expire, the log files stay the record. */
export const REPORT_RETENTION = Duration.days(90);

export interface BackfillProps {
  readonly trailSource: TrailSource;
  readonly alertTopic: AlertTopic;
  readonly dedupeTable?: DedupeTable;
  /** The sentinel function's environment, so the backfill applies the same rules and limits. */
  readonly environment: Record<string, string>;
  readonly failureQueue: sqs.IQueue;
}

/**
 * `-c backfill=true`: an organization-scale look back on Step Functions. `acm-sentinel backfill`
 * writes the day folders of the range as a JSON Lines manifest to the report bucket and starts
 * an execution; a Distributed Map reads the manifest, batches the folders to the backfill
 * function (the sentinel's code, entry point `backfill`), which lists each folder's log files
 * and scans them, with retries and backoff, bounded concurrency and a tolerated failure
 * percentage from the execution's input. Findings land in the report bucket as JSON lines, and
 * the map's ResultWriter writes the run's summary beside them.
 */
export class Backfill extends Construct {
  readonly reportBucket: s3.Bucket;
  readonly function: nodejs.NodejsFunction;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: BackfillProps) {
    super(scope, id);
    this.reportBucket = new s3.Bucket(this, 'Reports', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-reports', expiration: REPORT_RETENTION, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    Validations.of(this.reportBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The report bucket holds manifests and copies of findings that the function and the state machine write; they expire after 90 days, and CloudTrail data events on the bucket, if wanted, record every read.',
    });

    const built = bundledFunction(this, {
      description: 'acm-sentinel backfill: scans batches of historical CloudTrail log folders',
      roleDescription: 'acm-sentinel backfill: lists and reads CloudTrail log files, writes findings to its report bucket',
      entry: SENTINEL_ENTRY,
      handler: 'backfill',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      environment: { ...props.environment, [ENV.reportBucket]: this.reportBucket.bucketName },
      failureQueue: props.failureQueue,
    });
    this.function = built.function;
    props.trailSource.grantReadLogFiles(built.role);
    built.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.trailSource.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${props.trailSource.logFilesPrefix}*`] } },
      }),
    );
    const findings = this.reportBucket.arnForObjects('findings/*');
    built.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [findings] }));
    acknowledgeWildcard(built.role, findings, 'Each batch writes one findings object under findings/ of the report bucket, named at run time; s3:PutObject only.');
    props.alertTopic.grantPublish(built.role, 'AllowBackfillToPublish');
    props.dedupeTable?.grantDedupe(built.role);

    const scanBatch = new tasks.LambdaInvoke(this, 'ScanBatch', { lambdaFunction: this.function, payloadResponseOnly: true, retryOnServiceExceptions: false });
    scanBatch.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 3, jitterStrategy: sfn.JitterType.FULL });
    const eachDay = new sfn.DistributedMap(this, 'EachDayFolder', {
      itemReader: new sfn.S3JsonLItemReader({ bucket: this.reportBucket, key: sfn.JsonPath.stringAt('$.manifestKey') }),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: BACKFILL_PREFIXES_PER_BATCH,
        // ASL's own path syntax: a key ending in `.$` takes its value from the execution's input.
        batchInput: { 'bucket.$': '$.bucket', 'since.$': '$.since', 'until.$': '$.until', 'publish.$': '$.publish', 'execution.$': '$$.Execution.Name' },
      }),
      maxConcurrencyPath: sfn.JsonPath.stringAt('$.maxConcurrency'),
      toleratedFailurePercentagePath: sfn.JsonPath.stringAt('$.toleratedFailurePercentage'),
      resultWriterV2: new sfn.ResultWriterV2({ bucket: this.reportBucket, prefix: 'runs' }),
      resultPath: sfn.JsonPath.DISCARD,
      label: 'EachDayFolder',
    });
    eachDay.itemProcessor(scanBatch);

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'acm-sentinel backfill: scans CloudTrail log files of a date range, in batches of day folders',
      definitionBody: sfn.DefinitionBody.fromChainable(eachDay),
      tracingEnabled: true,
      // Every state transition is logged, without the data: inputs name accounts and findings.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // The ItemReader reads the run's manifest; the ResultWriter writes the run's results (multipart for large ones).
    const manifests = this.reportBucket.arnForObjects('manifests/*');
    const runs = this.reportBucket.arnForObjects('runs/*');
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [manifests] }));
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], resources: [runs] }));
    acknowledgeWildcard(this.stateMachine.role, manifests, 'Each execution reads its own manifest under manifests/, named by the CLI at run time; s3:GetObject only.');
    acknowledgeWildcard(this.stateMachine.role, runs, 'The Distributed Map\'s ResultWriter writes each run\'s results under runs/<map run id>/, known only at run time.');
    const distributedMapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (distributedMapPolicy instanceof iam.Policy) {
      acknowledgeGeneratedWildcards(distributedMapPolicy, 'A Distributed Map starts, describes and stops child executions of its own state machine, whose names are known only at run time; CDK scopes the wildcard to this state machine\'s executions.');
    }
    acknowledgeWildcard(this.stateMachine.role, `arn:${Aws.PARTITION}:s3:::${this.reportBucket.bucketName}/*`, 'CDK\'s ItemReader and ResultWriter grant on the report bucket\'s objects; the bucket holds only this backfill\'s manifests, findings and results.');
    acknowledgeWildcard(this.stateMachine.role, `${this.function.functionArn}:*`, 'Invoking the backfill function by any of its versions or aliases; it is the one function the state machine calls.');
    Validations.of(this.stateMachine.role.node.tryFindChild('DefaultPolicy') ?? this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs delivery for the state machine have no resource-level permissions.',
    });
  }
}
