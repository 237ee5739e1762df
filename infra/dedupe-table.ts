import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The table's partition key, a string: the keys the function's DynamoDB dedupe store reads and writes. */
export const DEDUPE_PARTITION_KEY = 'pk';
/** The attribute holding each item's expiry, in epoch seconds, which DynamoDB's TTL deletes by. */
export const DEDUPE_TTL_ATTRIBUTE = 'expiresAt';
/**
 * Everything the dedupe store calls: a conditional update claims each alert's event (and marks
 * it sent), a consistent read tells a sent event from one another invocation holds, a
 * conditional delete releases a claim whose publish failed.
 */
export const DEDUPE_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'] as const;

/**
 * The DynamoDB table that remembers which CloudTrail events were already alerted on, so that a
 * retried invocation, or S3 delivering the same event twice, does not send the same alerts again.
 */
export class DedupeTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: DEDUPE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      // Written only when alerts go out (three writes each), which is rarely: paying per request costs cents.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // The items are event IDs and expiry times, nothing from the records themselves, so the
      // AWS owned key suffices; a customer managed key would add a monthly fee and a key policy
      // to keep in step with the function's role for no reader it would keep out.
      encryption: dynamodb.TableEncryption.DEFAULT,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: DEDUPE_TTL_ATTRIBUTE,
      // Items expire within days and only suppress repeats: losing them costs at most a repeated
      // alert, while a retained table would outlive the stack unnoticed.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Lets `role` do what the dedupe store does, on this table only. */
  grantDedupe(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...DEDUPE_ACTIONS], resources: [this.table.tableArn] }));
  }
}
