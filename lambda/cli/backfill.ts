import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, DescribeMapRunCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { dayFolders } from '../adapters/s3-log-listing';
import { parseWhen } from '../core/history/range';
import { plain } from '../core/render/untrusted';
import { UsageError } from './args';
import { plural, type Output } from './output';

export interface BackfillOptions {
  readonly since?: string;
  readonly until?: string;
  readonly publish?: boolean;
  /** The deployed stack whose outputs name the state machine and buckets. @default AcmSentinel */
  readonly stack?: string;
  readonly maxConcurrency?: string;
  readonly toleratedFailurePercentage?: string;
  /** Seconds between progress polls. @default 10 */
  readonly pollSeconds?: number;
  readonly now?: Date;
}

export const DEFAULT_BACKFILL_CONCURRENCY = 100;

function whole(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new UsageError(`--${name}: give a whole number from 0 to ${max}`);
  return value;
}

/** The outputs of the deployed stack that the backfill needs; a clear error when it was deployed without -c backfill=true. */
async function stackOutputs(cloudformation: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  let outputs: Record<string, string>;
  try {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']));
  } catch (err) {
    throw new UsageError(`stack ${plain(stackName)}: cannot read its outputs (${plain((err as Error).name ?? 'Error')}: ${plain((err as Error).message ?? '')}); check the Region and credentials, or name the stack with --stack`);
  }
  for (const key of ['BackfillStateMachineArn', 'BackfillReportBucket', 'TrailBucketName', 'TrailLogsPrefix']) {
    if (!outputs[key]) throw new UsageError(`stack ${plain(stackName)} has no output ${key}: deploy it with -c backfill=true first`);
  }
  return outputs;
}

const consoleLink = (executionArn: string): string => {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
};

/**
 * `backfill --since 90d [--until DATE] [--publish]`: the organization-scale look back on the
 * deployed Step Functions state machine. Lists the day folders of the range here (folder by
 * folder, as `scan s3://` does), writes them to the report bucket as a manifest, starts an
 * execution, prints its console link and follows the Map Run until it ends.
 */
export async function runBackfill(options: BackfillOptions, io: Output): Promise<number> {
  const now = options.now ?? new Date();
  const since = parseWhen(options.since ?? '', 'since', now);
  if (!since) throw new UsageError('backfill needs --since: a duration (90d, 2w) or a date (2025-01-01)');
  const until = options.until === undefined ? now : parseWhen(options.until, 'until', now);
  if (!until || until < since) throw new UsageError(`--until: give a date or time after --since, e.g. ${since.toISOString().slice(0, 10)}`);
  const maxConcurrency = whole(options.maxConcurrency, 'max-concurrency', DEFAULT_BACKFILL_CONCURRENCY, 10_000);
  const toleratedFailurePercentage = whole(options.toleratedFailurePercentage, 'tolerated-failure-percentage', 0, 100);
  const stackName = options.stack ?? 'AcmSentinel';

  const outputs = await stackOutputs(new CloudFormationClient({}), stackName);
  const s3 = new S3Client({});
  const prefixes = await dayFolders(s3, { bucket: outputs.TrailBucketName!, logs: outputs.TrailLogsPrefix! }, { since, until });
  if (prefixes.length === 0) {
    io.err(`no CloudTrail log folders under s3://${plain(outputs.TrailBucketName!)}/${plain(outputs.TrailLogsPrefix!)} for ${since.toISOString()} to ${until.toISOString()}`);
    return 0;
  }
  const name = `backfill-${now.toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`;
  const manifestKey = `manifests/${name}.jsonl`;
  await s3.send(new PutObjectCommand({ Bucket: outputs.BackfillReportBucket, Key: manifestKey, Body: `${prefixes.map((prefix) => JSON.stringify({ prefix })).join('\n')}\n`, ContentType: 'application/x-ndjson' }));

  const sfn = new SFNClient({});
  const input = { bucket: outputs.TrailBucketName, manifestKey, since: since.toISOString(), until: until.toISOString(), publish: options.publish ?? false, maxConcurrency, toleratedFailurePercentage };
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: outputs.BackfillStateMachineArn, name, input: JSON.stringify(input) }));
  io.err(`started ${name}: ${plural(prefixes.length, 'day folder')} of s3://${plain(outputs.TrailBucketName!)}/${plain(outputs.TrailLogsPrefix!)}, ${since.toISOString()} to ${until.toISOString()}${options.publish ? ', publishing alerts' : ', report only'}`);
  io.err(`console: ${consoleLink(executionArn!)}`);

  const pollMs = (options.pollSeconds ?? 10) * 1000;
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
    if (mapRuns?.[0]?.mapRunArn) {
      const run = await sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRuns[0].mapRunArn }));
      const counts = run.itemCounts;
      const line = `${counts?.succeeded ?? 0} of ${counts?.total ?? prefixes.length} batches done, ${counts?.failed ?? 0} failed, ${counts?.running ?? 0} running`;
      if (io.progress) io.progress(line);
      else if (execution.status !== 'RUNNING') io.err(line);
    }
    if (execution.status !== 'RUNNING') {
      io.progress?.('');
      const report = `s3://${outputs.BackfillReportBucket}/`;
      io.err(`${name} ${execution.status?.toLowerCase()}: findings (JSON lines) under ${plain(report)}findings/${name}/, the run's summary under ${plain(report)}runs/`);
      if (execution.status !== 'SUCCEEDED') io.err(`error: ${plain(execution.error ?? 'failed')}: ${plain(execution.cause ?? '')}`);
      return execution.status === 'SUCCEEDED' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
