import { Template } from 'aws-cdk-lib/assertions';
import type { Environment } from 'aws-cdk-lib';
import { createApp } from '../../infra/create-app';

/** A concrete account and Region, as `cdk deploy` with credentials would give. */
export const TEST_ENV: Environment = { account: '111122223333', region: 'eu-west-1' };

export { EXAMPLE_TRAIL as EXISTING_TRAIL } from '../../infra/configurations';

/**
 * Builds the real app in-process from `context` (as `-c key=value` gives it). Bundling is skipped
 * through CDK's own `aws:cdk:bundling-stacks` context, the one `cdk deploy STACK` uses for stacks
 * it does not deploy; the function keeps its real entry point and bundling options.
 */
export function build(context: Record<string, unknown> = {}, env: Environment | undefined = TEST_ENV) {
  const { app, stack, forwarders } = createApp({ context: { 'aws:cdk:bundling-stacks': [], ...context }, env });
  return { app, stack, forwarders, template: Template.fromStack(stack) };
}

interface NotificationsResource {
  Properties: {
    Managed: boolean;
    NotificationConfiguration: { LambdaFunctionConfigurations: Array<{ Events: string[]; Filter: { Key: { FilterRules: Array<{ Name: string; Value: string }> } }; LambdaFunctionArn: unknown }> };
  };
}

/** The stack's one S3 notification, with its key filter as `{ prefix, suffix }` whatever order CDK renders the rules in. */
export function lambdaNotification(template: Template) {
  const resources = Object.values(template.findResources('Custom::S3BucketNotifications')) as NotificationsResource[];
  if (resources.length !== 1) throw new Error(`expected one bucket notification resource, found ${resources.length}`);
  const configurations = resources[0]!.Properties.NotificationConfiguration.LambdaFunctionConfigurations;
  if (configurations.length !== 1) throw new Error(`expected one Lambda notification, found ${configurations.length}`);
  const { Events, Filter, LambdaFunctionArn } = configurations[0]!;
  const filter = Object.fromEntries(Filter.Key.FilterRules.map((rule) => [rule.Name, rule.Value]));
  return { managed: resources[0]!.Properties.Managed, events: Events, filter, functionArn: LambdaFunctionArn };
}
