import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's IAM5 finding for one wildcard resource on a role's policy, named as
 * cdk-nag renders it, so no other wildcard on the same policy passes unseen.
 */
export function acknowledgeWildcard(role: iam.IRole & IConstruct, resourceArn: string, reason: string): void {
  const rendered = flattenCfnReference(Stack.of(role).resolve(resourceArn));
  Validations.of(role.node.tryFindChild('DefaultPolicy') ?? role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}

/**
 * Acknowledges each wildcard resource of a policy CDK writes for a construct of its own (a
 * Distributed Map's child-execution policy), one finding per resource, with one reason.
 */
export function acknowledgeGeneratedWildcards(policy: iam.Policy, reason: string): void {
  const document = Stack.of(policy).resolve(policy.document.toJSON()) as { Statement?: Array<{ Resource?: unknown }> } | undefined;
  const resources = (document?.Statement ?? []).flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]));
  for (const resource of resources) {
    const rendered = flattenCfnReference(resource);
    if (rendered.includes('*')) Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
  }
}
