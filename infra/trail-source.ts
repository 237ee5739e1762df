import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcard } from './nag';
import { ConfigError } from '../lambda/errors';
import type { TrailSettings } from './settings';

/** CloudTrail writes every log file under `[prefix/]AWSLogs/`; digests and Insights files too. */
export const TRAIL_LOGS_FOLDER = 'AWSLogs/';
/** Log files, and digest files, which the function skips by key. */
export const LOG_FILE_SUFFIX = '.json.gz';

export type TrailSourceProps = TrailSettings & {
  /** Turn on the new bucket's EventBridge delivery (an existing bucket is never changed). @default false */
  readonly eventBridge?: boolean;
  /** The read role's name in the bucket's account, for a bucket in another account. @default none */
  readonly readerRoleName?: string;
};

/**
 * Where CloudTrail log files arrive: an existing trail's bucket, or a new multi-Region trail
 * with its own bucket and key. Knows how to read the log files and how to be told about new ones,
 * so the function's permissions and its notification are derived from one place.
 */
export class TrailSource extends Construct {
  readonly bucket: s3.IBucket;
  /** The key prefix every log file of the trail starts with, e.g. `AWSLogs/` or `org/AWSLogs/`. */
  readonly logFilesPrefix: string;
  /** The key that encrypts the log files, when the trail uses SSE-KMS. */
  readonly logFilesKeyArn?: string;
  /** The trail this stack created, when it created one. */
  readonly trail?: cloudtrail.Trail;
  /** The bucket's account, when it is another account's (read through `readerRoleArn`). */
  readonly account?: string;
  /** The role in the bucket's account that lets the function read the log files, for a bucket in another account. */
  readonly readerRoleArn?: string;
  /** The bucket's Region, when it differs from the stack's. */
  readonly region?: string;

  constructor(scope: Construct, id: string, props: TrailSourceProps) {
    super(scope, id);
    if (props.kind === 'existing') {
      this.bucket = props.account
        ? s3.Bucket.fromBucketAttributes(this, 'Bucket', { bucketName: props.bucketName, account: props.account, ...(props.region ? { region: props.region } : {}) })
        : s3.Bucket.fromBucketName(this, 'Bucket', props.bucketName);
      this.logFilesPrefix = `${props.keyPrefix}${TRAIL_LOGS_FOLDER}`;
      this.logFilesKeyArn = props.kmsKeyArn;
      if (props.account) {
        const stack = Stack.of(this);
        this.account = props.account;
        this.region = props.region;
        this.readerRoleArn = `arn:${stack.partition}:iam::${props.account}:role/${props.readerRoleName}`;
      }
      this.checkKeyRegion(props.kmsKeyArn, props.region);
    } else {
      const created = this.createTrail(props.eventBridge ?? false, props.organization);
      this.bucket = created.bucket;
      this.trail = created.trail;
      this.logFilesPrefix = TRAIL_LOGS_FOLDER;
      this.logFilesKeyArn = created.key.keyArn;
    }
  }

  /**
   * Lets `role` read the trail's log files and nothing else in the bucket: `s3:GetObject` under
   * the log prefix, and `kms:Decrypt` on the trail's key, usable only through S3.
   */
  grantReadLogFiles(role: iam.IRole): void {
    if (this.readerRoleArn) {
      // The S3 and KMS permissions live on the read role, in the bucket's account.
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [this.readerRoleArn] }));
      return;
    }
    const logFiles = this.bucket.arnForObjects(`${this.logFilesPrefix}*`);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [logFiles] }));
    acknowledgeWildcard(
      role as iam.IRole & IConstruct,
      logFiles,
      `Log files get new keys every few minutes, so their ARNs can only be matched by a wildcard; it is confined to the trail's ${this.logFilesPrefix} prefix and to s3:GetObject.`,
    );
    if (this.logFilesKeyArn) {
      const stack = Stack.of(this);
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [this.logFilesKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.${stack.urlSuffix}` } },
        }),
      );
    }
  }

  /**
   * Sends a bucket notification to `destination` for every new log file. On an existing bucket,
   * CDK's notification handler reads the bucket's current configuration and adds this one beside
   * it, leaving the others in place.
   */
  notifyOnLogFiles(destination: s3.IBucketNotificationDestination): void {
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, {
      prefix: this.logFilesPrefix,
      suffix: LOG_FILE_SUFFIX,
    });
    this.acknowledgeNotificationsHandler();
  }

  /** CDK's notification custom resource handler, which also turns EventBridge delivery on for a new bucket. */
  acknowledgeNotificationsHandler(): void {
    // CDK adds the handler once per stack, under an id of its own choosing.
    const handler = Stack.of(this).node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
    if (handler) {
      Validations.of(handler.node.tryFindChild('Role') ?? handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's bucket notification custom resource handler writes its own logs through AWSLambdaBasicExecutionRole; its S3 permissions are limited to this bucket's notification configuration, and it runs only during deployments.",
      });
    }
  }

  private checkKeyRegion(kmsKeyArn: string | undefined, bucketRegion: string | undefined): void {
    const region = bucketRegion ?? Stack.of(this).region;
    // An environment-agnostic stack learns its Region only at deploy time.
    if (!kmsKeyArn || Token.isUnresolved(region)) return;
    const keyRegion = kmsKeyArn.split(':')[3];
    if (keyRegion !== region) {
      throw new ConfigError(
        bucketRegion
          ? `context "trailKmsKeyArn": the key is in ${keyRegion} but trailBucketRegion is ${region}. The bucket and its key share a Region: check both.`
          : `context "trailKmsKeyArn": the key is in ${keyRegion} but the stack deploys to ${region}. The trail bucket, its key and this stack must share a Region: deploy to ${keyRegion}.`,
      );
    }
  }

  private createTrail(eventBridge: boolean, organization?: { id: string; managementAccount?: string }): { bucket: s3.Bucket; key: kms.Key; trail: cloudtrail.Trail } {
    const stack = Stack.of(this);
    // The name is fixed so the key policy can name the trail before the trail exists; a
    // multi-Region trail holds its name in every Region, so the home Region is part of it.
    const trailName = `${stack.stackName}-${stack.region}-trail`;
    // An organization trail made from a delegated administrator account belongs to the management account.
    const owner = organization?.managementAccount ?? stack.account;
    const trailArn = stack.formatArn({ service: 'cloudtrail', account: owner, resource: 'trail', resourceName: trailName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3 server access logging cannot deliver to SSE-KMS buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });

    const key = new kms.Key(this, 'LogFilesKey', {
      description: `Encrypts the CloudTrail log files of trail ${trailName}`,
      enableKeyRotation: true,
      // Log files stay encrypted under this key for as long as they are kept.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cloudtrailPrincipal = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToEncryptLogFiles',
        principals: [cloudtrailPrincipal],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': stack.formatArn({ service: 'cloudtrail', region: '*', account: owner, resource: 'trail', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }) },
        },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToDescribeKey',
        principals: [cloudtrailPrincipal],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      }),
    );

    const bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Log files are encrypted by the trail with the key above; digest files, which CloudTrail
      // always writes with SSE-S3, get the bucket default.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'trail-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
      eventBridgeEnabled: eventBridge,
      lifecycleRules: [
        {
          id: 'cheaper-storage-for-older-logs',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
          ],
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    // CDK's CloudTrail statements admit the service for any trail; these denials narrow them to
    // this trail, so another account's trail cannot be pointed at the bucket (confused deputy).
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyOtherTrails',
        effect: iam.Effect.DENY,
        principals: [cloudtrailPrincipal],
        actions: ['s3:GetBucketAcl', 's3:PutObject'],
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
        conditions: { StringNotEquals: { 'aws:SourceArn': trailArn } },
      }),
    );

    const trail = new cloudtrail.Trail(this, 'Trail', {
      trailName,
      bucket,
      encryptionKey: key,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      // Read events too: GetAcmeExternalAccountBindingCredentials, a critical rule, is a read.
      // The first trail's copy of management events is free; a second trail's is billed per event.
      managementEvents: cloudtrail.ReadWriteType.ALL,
      ...(organization ? { isOrganizationTrail: true, orgId: organization.id } : {}),
    });
    if (organization?.managementAccount) {
      // CDK's own statement for organization trails names this account's trail ARN.
      bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowOrganizationTrailWrites',
          principals: [cloudtrailPrincipal],
          actions: ['s3:PutObject'],
          resources: [bucket.arnForObjects(`AWSLogs/${organization.id}/*`)],
          conditions: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } },
        }),
      );
    }
    // The buckets are kept when the stack is deleted, and so are their policies: without them a
    // kept bucket would accept plain HTTP and any trail's writes.
    for (const kept of [bucket, accessLogs]) kept.policy?.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return { bucket, key, trail };
  }
}
