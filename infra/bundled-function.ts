import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BUNDLE_EXTERNAL_MODULES, BUNDLE_MAIN_FIELDS } from './bundle-options';

/** Async retries after the first attempt: Lambda's maximum, since a lost alert costs more than a repeated one. */
export const SENTINEL_RETRY_ATTEMPTS = 2;
/**
 * An event still unprocessed after this long goes to the failure queue, whose alarm tells a
 * human, instead of waiting in Lambda's queue for up to the default 6 hours.
 */
export const SENTINEL_MAX_EVENT_AGE = Duration.hours(1);
/** How long the functions' own logs are kept. */
export const SENTINEL_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS;

export const REPO_ROOT = path.join(__dirname, '..');

export interface BundledFunctionProps {
  readonly description: string;
  /** What the function's role is for, in the role's description. */
  readonly roleDescription: string;
  /** A fixed name for the role, when another account's policy must name it. @default generated */
  readonly roleName?: string;
  /** The exported function Lambda calls. @default 'handler' */
  readonly handler?: string;
  /** The TypeScript handler file, bundled by esbuild. */
  readonly entry: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Where events that failed every attempt, or grew too old, are kept. */
  readonly failureQueue: sqs.IQueue;
  /** What the role may do besides writing its logs and keeping failures. @default nothing; callers may grant more later */
  readonly statements?: readonly iam.PolicyStatement[];
}

/** A function of this app with what it owns: its role and its log group. */
export interface BundledFunction {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * One of the app's Lambda functions, as every one of them is built, in `scope` (construct ids
 * Role, LogGroup and Function): Node.js 24 on arm64, bundled by local esbuild with the AWS SDK
 * versions the tests ran, a role with no managed policies (callers add each permission for one
 * named reason), its own log group, and asynchronous retries that end in `failureQueue`.
 */
export function bundledFunction(scope: Construct, props: BundledFunctionProps): BundledFunction {
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.roleDescription,
    ...(props.roleName ? { roleName: props.roleName } : {}),
  });
  const logGroup = new logs.LogGroup(scope, 'LogGroup', { retention: SENTINEL_LOG_RETENTION });
  logGroup.grantWrite(role);
  for (const statement of props.statements ?? []) role.addToPrincipalPolicy(statement);

  const fn = new nodejs.NodejsFunction(scope, 'Function', {
    description: props.description,
    entry: props.entry,
    handler: props.handler ?? 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role,
    logGroup,
    environment: props.environment,
    retryAttempts: SENTINEL_RETRY_ATTEMPTS,
    maxEventAge: SENTINEL_MAX_EVENT_AGE,
    onFailure: new SqsDestination(props.failureQueue),
    bundling: {
      minify: true,
      mainFields: [...BUNDLE_MAIN_FIELDS],
      // The map ships beside the bundle, to read a logged stack against the TypeScript source.
      // The functions do not run with --enable-source-maps: at 512 MB (about 0.3 vCPU) it cost
      // about 35 ms of every cold start, and about 265 ms more when the first stack was printed.
      sourceMap: true,
      sourcesContent: false,
      // The deployed function runs the SDK versions the tests ran, not whatever the runtime ships;
      // only credential sources it cannot reach are left out (see BUNDLE_EXTERNAL_MODULES).
      bundleAwsSDK: true,
      externalModules: [...BUNDLE_EXTERNAL_MODULES],
    },
  });
  return { function: fn, role, logGroup };
}
