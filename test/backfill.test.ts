/**
 * The backfill: its batch entry point (the sentinel's code) against the local S3 emulator and
 * dedupe table, and the `backfill` command, whose Step Functions and CloudFormation calls are
 * stood in for by aws-sdk-client-mock (no local Step Functions), with the real S3 emulator for
 * listing the day folders and writing the manifest.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, DescribeMapRunCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { gzipSync } from 'node:zlib';
import { main } from '../lambda/cli/main';
import type { BackfillBatch, BackfillBatchResult } from '../lambda/handler';
import { putObject, receiveDelivered, type LocalSandbox } from '../lambda/local/sandbox';
import { handlerSandbox } from './handler-sandbox';
import { record } from './support';

const TRAIL = 'org-trail-logs';
const REPORTS = 'backfill-reports';
const day = (d: string) => `AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/${d}/`;
const key = (d: string, hhmm: string, id: string) => `${day(d)}111122223333_CloudTrail_us-east-1_202503${d}T${hhmm}Z_${id}.json.gz`;

let sandbox: LocalSandbox;
let backfill: (batch: BackfillBatch) => Promise<BackfillBatchResult>;
handlerSandbox({ dedupe: true, env: { BACKFILL_REPORT_BUCKET: REPORTS }, drain: false }, (ready) => ({ sandbox } = ready));

beforeAll(async () => {
  await putObject(sandbox, REPORTS, 'placeholder', Buffer.from(''));
  await putObject(sandbox, TRAIL, key('13', '0905', 'a'), gzipSync(JSON.stringify({ Records: [record({ eventID: 'bf-1' }), record({ eventID: 'bf-2', eventName: 'ExportCertificate' })] })));
  await putObject(sandbox, TRAIL, key('13', '2355', 'b'), gzipSync(JSON.stringify({ Records: [record({ eventID: 'bf-late', eventName: 'RevokeCertificate' })] })));
  await putObject(sandbox, TRAIL, key('14', '0100', 'c'), gzipSync(JSON.stringify({ Records: [record({ eventID: 'bf-3', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' })] })));
  ({ backfill } = require('../lambda/handler') as typeof import('../lambda/handler'));
});


const batch = (prefixes: string[], publish: boolean, until = '2025-03-14T23:59:59.999Z'): BackfillBatch => ({
  Items: prefixes.map((prefix) => ({ prefix })),
  BatchInput: { bucket: TRAIL, since: '2025-03-13T00:00:00.000Z', until, publish, execution: `test-${publish}` },
});

describe('the backfill batch entry point', () => {
  it('lists each day folder, scans its log files in the range, and writes the findings as JSON lines, publishing nothing by default', async () => {
    const result = await backfill(batch([day('13'), day('14')], false));
    expect(result).toMatchObject({ prefixes: 2, objects: 3, alerts: 3, published: 0, failed: [] });
    const body = await sandbox.s3.send(new GetObjectCommand({ Bucket: REPORTS, Key: result.findings!.replace(`s3://${REPORTS}/`, '') }));
    const lines = (await body.Body!.transformToString()).trim().split('\n').map((line) => JSON.parse(line) as { eventId: string });
    expect(lines.map((alert) => alert.eventId).sort()).toEqual(['bf-1', 'bf-2', 'bf-late']);
    expect(await receiveDelivered(sandbox)).toEqual([]);
  });

  it('keeps to the range within a day by the delivery time in the file name', async () => {
    const result = await backfill(batch([day('13')], false, '2025-03-13T12:00:00.000Z'));
    expect(result).toMatchObject({ objects: 1, alerts: 2 });
  });

  it('with publish, sends through the alert topic with the live path\'s claims: a second run sends nothing again', async () => {
    const first = await backfill(batch([day('13')], true));
    expect(first).toMatchObject({ published: 3, duplicates: 0 });
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId).sort()).toEqual(['bf-1', 'bf-2', 'bf-late']);
    const second = await backfill(batch([day('13')], true));
    expect(second).toMatchObject({ published: 0, duplicates: 3 });
    expect(await receiveDelivered(sandbox)).toEqual([]);
  });

  it('fails the batch, for Step Functions to retry, when a log file cannot be read, after writing what it found', async () => {
    await putObject(sandbox, TRAIL, key('15', '0000', 'cut'), gzipSync(JSON.stringify({ Records: [record({ eventID: 'bf-cut' })] })).subarray(0, 20));
    await expect(backfill(batch([day('15')], false, '2025-03-15T23:59:59.999Z'))).rejects.toThrow(/1 log files could not be read: s3:\/\/org-trail-logs\/.*cut\.json\.gz: unexpected end of file/);
  });
});

describe('acm-sentinel backfill', () => {
  const sfn = mockClient(SFNClient);
  const cloudformation = mockClient(CloudFormationClient);
  const outputs = [
    ['BackfillStateMachineArn', 'arn:aws:states:us-east-1:111122223333:stateMachine:Backfill'],
    ['BackfillReportBucket', REPORTS],
    ['TrailBucketName', TRAIL],
    ['TrailLogsPrefix', 'AWSLogs/'],
  ].map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));

  beforeEach(() => {
    sfn.reset();
    cloudformation.reset();
  });
  afterAll(() => {
    sfn.restore();
    cloudformation.restore();
  });

  it('writes the day folders of the range as a manifest, starts an execution with it, prints the console link and follows it to the end', async () => {
    cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'AcmSentinel', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: outputs }] });
    const executionArn = 'arn:aws:states:us-east-1:111122223333:execution:Backfill:backfill-20250320000000';
    sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING', executionArn, stateMachineArn: 'x', startDate: new Date() }).resolves({ status: 'SUCCEEDED', executionArn, stateMachineArn: 'x', startDate: new Date() });
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [{ mapRunArn: 'arn:aws:states:us-east-1:111122223333:mapRun:Backfill/EachDayFolder:1', executionArn, stateMachineArn: 'x', startDate: new Date() }] });
    sfn.on(DescribeMapRunCommand).resolves({ itemCounts: { total: 2, succeeded: 2, failed: 0, running: 0, pending: 0, timedOut: 0, aborted: 0, resultsWritten: 2 } } as never);

    const err: string[] = [];
    const { runBackfill } = require('../lambda/cli/backfill') as typeof import('../lambda/cli/backfill');
    const code = await runBackfill({ since: '2025-03-13', until: '2025-03-14', pollSeconds: 0, now: new Date('2025-03-20T00:00:00Z') }, { out: () => {}, err: (line) => err.push(line) });

    expect(code).toBe(0);
    const started = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    const input = JSON.parse(started.input!) as Record<string, unknown>;
    expect(input).toEqual({ bucket: TRAIL, manifestKey: 'manifests/backfill-20250320000000.jsonl', since: '2025-03-13T00:00:00.000Z', until: '2025-03-14T23:59:59.999Z', publish: false, maxConcurrency: 100, toleratedFailurePercentage: 0 });
    const manifest = await sandbox.s3.send(new GetObjectCommand({ Bucket: REPORTS, Key: 'manifests/backfill-20250320000000.jsonl' }));
    expect((await manifest.Body!.transformToString()).trim().split('\n').map((line) => JSON.parse(line))).toEqual([{ prefix: day('13') }, { prefix: day('14') }]);
    expect(err.join('\n')).toContain(`console: https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${encodeURIComponent(executionArn)}`);
    expect(err.join('\n')).toMatch(/2 of 2 batches done, 0 failed/);
    expect(err.join('\n')).toMatch(/backfill-20250320000000 succeeded: findings \(JSON lines\) under s3:\/\/backfill-reports\/findings\/backfill-20250320000000\//);
  });

  it('says to deploy with -c backfill=true when the stack has no backfill, exit 2', async () => {
    cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'AcmSentinel', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
    const err: string[] = [];
    expect(await main(['backfill', '--since', '30d'], { out: () => {}, err: (line) => err.push(line) })).toBe(2);
    expect(err.join('\n')).toMatch(/stack AcmSentinel has no output BackfillStateMachineArn: deploy it with -c backfill=true first/);
  });
});
