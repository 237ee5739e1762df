/**
 * `scan s3://` against the local S3 emulator: a bucket holding log files over several days, two
 * accounts, two Regions and an organization prefix, read where they are.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../lambda/cli/main';
import { parseS3Uri } from '../lambda/cli/scan-s3';
import { daysOf, inRange, parseWhen } from '../lambda/core/history/range';
import { putObject, receiveDelivered, SANDBOX_DEDUPE_TABLE, startSandbox, type LocalSandbox } from '../lambda/local/sandbox';
import { record } from './support';

const BUCKET = 'history-trail';
const ORG = 'o-a1b2c3d4e5';
let sandbox: LocalSandbox;
const savedEnv = { ...process.env };
const dir = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-scan-s3-'));

/** A log file's key as CloudTrail writes it, delivered at `time` (`2025-03-14T09:05`). */
function keyOf(base: string, account: string, region: string, time: string, suffix = 'a1b2'): string {
  const [date, clock] = time.split('T') as [string, string];
  const stamp = `${date.replaceAll('-', '')}T${clock.replace(':', '')}Z`;
  return `${base}${account}/CloudTrail/${region}/${date.replaceAll('-', '/')}/${account}_CloudTrail_${region}_${stamp}_${suffix}.json.gz`;
}
const logWith = (eventID: string) => gzipSync(JSON.stringify({ Records: [record({ eventID }), record({ eventID: `${eventID}-quiet`, eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances' })] }));

const OBJECTS: Array<[key: string, eventId: string]> = [
  [keyOf('AWSLogs/', '111122223333', 'us-east-1', '2025-03-12T23:55'), 'day-before'],
  [keyOf('AWSLogs/', '111122223333', 'us-east-1', '2025-03-13T00:00'), 'first-minute'],
  [keyOf('AWSLogs/', '111122223333', 'eu-west-1', '2025-03-13T12:00'), 'eu-13'],
  [keyOf('AWSLogs/', '444455556666', 'us-east-1', '2025-03-14T09:05'), 'other-account-14'],
  [keyOf(`AWSLogs/${ORG}/`, '777788889999', 'ap-southeast-2', '2025-03-14T23:55'), 'org-last-minute'],
  [keyOf('AWSLogs/', '111122223333', 'us-east-1', '2025-03-15T00:00'), 'day-after'],
];

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), events: out.map((line) => JSON.parse(line).eventId as string).sort() };
}

beforeAll(async () => {
  sandbox = await startSandbox({ dedupe: true });
  Object.assign(process.env, sandbox.handlerEnv);
  for (const [key, eventId] of OBJECTS) await putObject(sandbox, BUCKET, key, logWith(eventId));
  // Not log files: a digest, an AWS Config file and an empty marker, in the same folders.
  await putObject(sandbox, BUCKET, 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/13/111122223333_CloudTrail-Digest_us-east-1_x_20250313T010000Z.json.gz', gzipSync('{}'));
  await putObject(sandbox, BUCKET, 'AWSLogs/111122223333/Config/us-east-1/2025/3/13/ConfigHistory/c.json.gz', gzipSync('{"configurationItems":[]}'));
});

afterAll(async () => {
  process.env = savedEnv;
  await sandbox?.stop();
});

describe('scan s3://', () => {
  it('prints exactly the alerts of the log files in the range, both ends included, across accounts, Regions and an organization prefix', async () => {
    const { code, events, stderr } = await run('scan', `s3://${BUCKET}/`, '--since', '2025-03-13', '--until', '2025-03-14', '--format', 'json');
    expect(code).toBe(0);
    expect(events).toEqual(['eu-13', 'first-minute', 'org-last-minute', 'other-account-14']);
    expect(stderr).toMatch(/^scanned 4 log files \([\d.]+ MB\) from s3:\/\/history-trail\/AWSLogs\/, 2025-03-13T00:00:00.000Z to 2025-03-14T23:59:59.999Z: 8 records, 4 ACM records, 4 alerts \(4 high\) in/);
  });

  it('narrows to accounts, Regions, an organization in the URI, and to the minute with ISO times', async () => {
    expect((await run('scan', `s3://${BUCKET}`, '--since', '2025-03-12', '--until', '2025-03-15', '--accounts', '111122223333', '--regions', 'us-east-1', '--format', 'json')).events).toEqual(['day-after', 'day-before', 'first-minute']);
    expect((await run('scan', `s3://${BUCKET}/AWSLogs/${ORG}/`, '--since', '2025-03-01', '--until', '2025-03-31', '--format', 'json')).events).toEqual(['org-last-minute']);
    expect((await run('scan', `s3://${BUCKET}/`, '--since', '2025-03-13T00:01Z', '--until', '2025-03-14T09:05Z', '--format', 'json')).events).toEqual(['eu-13', 'other-account-14']);
  });

  it('counts empty log files as skipped, and resumes a --since duration from its checkpoint on a later run', async () => {
    await putObject(sandbox, BUCKET, keyOf('AWSLogs/', '111122223333', 'us-east-1', '2025-05-01T10:00', 'empty'), Buffer.alloc(0));
    const { stderr } = await run('scan', `s3://${BUCKET}`, '--since', '2025-05-01', '--until', '2025-05-01', '--format', 'json');
    expect(stderr).toMatch(/; 1 empty skipped in/);
    const checkpoint = path.join(dir, 'duration.json');
    const first = await run('scan', `s3://${BUCKET}/`, '--since', '30d', '--checkpoint', checkpoint);
    const again = await run('scan', `s3://${BUCKET}`, '--since', '30d', '--checkpoint', checkpoint);
    expect([first.code, again.code]).toEqual([0, 0]);
  });

  it.each([['--accounts'], ['--regions']])('refuses an empty %s list', async (flag) => {
    expect(await run('scan', `s3://${BUCKET}/`, flag, ',')).toMatchObject({ code: 2, stderr: expect.stringContaining(`${flag}: give at least one, comma-separated`) });
  });

  it('gives the same alerts with 1 and with 16 reads in flight', async () => {
    const one = await run('scan', `s3://${BUCKET}/`, '--since', '2025-03-10', '--until', '2025-03-20', '--concurrency', '1', '--format', 'json');
    const many = await run('scan', `s3://${BUCKET}/`, '--since', '2025-03-10', '--until', '2025-03-20', '--concurrency', '16', '--format', 'json');
    expect(many.events).toEqual(one.events);
    expect(one.events).toHaveLength(6);
  });

  it('names and counts an object it cannot read, exits 1, and still reads the others', async () => {
    const broken = keyOf('AWSLogs/', '111122223333', 'us-east-1', '2025-04-02T10:00', 'broken');
    await putObject(sandbox, BUCKET, broken, logWith('broken').subarray(0, 40));
    await putObject(sandbox, BUCKET, keyOf('AWSLogs/', '111122223333', 'us-east-1', '2025-04-02T10:05', 'fine'), logWith('fine-0402'));
    const { code, events, stderr } = await run('scan', `s3://${BUCKET}/`, '--since', '2025-04-02', '--until', '2025-04-02', '--format', 'json');
    expect(code).toBe(1);
    expect(events).toEqual(['fine-0402']);
    expect(stderr).toContain(`error: s3://${BUCKET}/${broken}: unexpected end of file`);
    expect(stderr).toMatch(/; 1 unreadable in/);
  });

  it('resumes from --checkpoint without reading again what was done, and reads what failed', async () => {
    const checkpoint = path.join(dir, 'look-back.json');
    const first = await run('scan', `s3://${BUCKET}/`, '--since', '2025-03-13', '--until', '2025-04-02', '--checkpoint', checkpoint, '--format', 'json');
    expect(first.code).toBe(1);
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { donePrefixes: string[]; doneKeys: string[] };
    expect(saved.donePrefixes).toContain('AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/13/');
    expect(saved.doneKeys).toEqual([expect.stringContaining('_fine.json.gz')]);
    // The broken file is fixed; the resumed run reads it alone.
    await putObject(sandbox, BUCKET, keyOf('AWSLogs/', '111122223333', 'us-east-1', '2025-04-02T10:00', 'broken'), logWith('repaired'));
    const resumed = await run('scan', `s3://${BUCKET}/`, '--since', '2025-03-13', '--until', '2025-04-02', '--checkpoint', checkpoint, '--format', 'json');
    expect(resumed.code).toBe(0);
    expect(resumed.events).toEqual(['repaired']);
    expect(resumed.stderr).toMatch(/^scanned 1 log file /);
    // Another range refuses the checkpoint rather than skipping the wrong files.
    writeFileSync(path.join(dir, 'other.json'), readFileSync(checkpoint));
    const other = await run('scan', `s3://${BUCKET}/`, '--since', '2025-03-01', '--until', '2025-04-02', '--checkpoint', path.join(dir, 'other.json'));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/written for another scan/);
  });

  it('with --publish, sends what it finds through the alert topic, deduplicated: a second run sends nothing again', async () => {
    const args = ['scan', `s3://${BUCKET}/`, '--since', '2025-03-13', '--until', '2025-03-14', '--publish', '--topic-arn', sandbox.topicArn, '--dedupe-table', SANDBOX_DEDUPE_TABLE, '--format', 'json'];
    const first = await run(...args);
    expect(first.code).toBe(0);
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId).sort()).toEqual(['eu-13', 'first-minute', 'org-last-minute', 'other-account-14']);
    expect(first.stderr).toMatch(/4 alerts published, 0 already sent/);
    const second = await run(...args);
    expect(second.events).toEqual([]);
    expect(second.stderr).toMatch(/0 alerts published, 4 already sent/);
    expect(await receiveDelivered(sandbox)).toEqual([]);
  });

  it.each<[string[], RegExp]>([
    [['s3://Bad_Bucket'], /not an S3 location/],
    [[`s3://${BUCKET}/`, '--since', 'last tuesday'], /--since: "last tuesday" is not a date or duration/],
    [[`s3://${BUCKET}/`, '--since', '2025-03-14', '--until', '2025-03-01'], /--until .* is before --since/],
    [[`s3://${BUCKET}/`, '--concurrency', '0'], /--concurrency: give a whole number from 1 to 64/],
    [[`s3://${BUCKET}/`, '--accounts', 'prod'], /--accounts: "prod" is not an account ID/],
    [[`s3://${BUCKET}/`, '--publish'], /--publish needs --topic-arn/],
    [['events/records', '--since', '7d'], /--since applies to scan s3:\/\/…, not to local files/],
  ])('refuses scan %j with a usage error', async (args, message) => {
    const { code, stderr } = await run('scan', ...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe('look-back ranges', () => {
  const now = new Date('2025-03-15T12:00:00Z');
  it('reads durations back from now and dates as whole UTC days', () => {
    expect(parseWhen('90d', 'since', now)?.toISOString()).toBe('2024-12-15T12:00:00.000Z');
    expect(parseWhen('12h', 'since', now)?.toISOString()).toBe('2025-03-15T00:00:00.000Z');
    expect(parseWhen('2025-03-14', 'until', now)?.toISOString()).toBe('2025-03-14T23:59:59.999Z');
    expect(parseWhen('2025-02-30', 'since', now)).toBeUndefined();
    expect(parseWhen('2025-02-31T00:00Z', 'since', now)).toBeUndefined();
    // A time without an offset is UTC, wherever the command runs.
    expect(parseWhen('2025-02-28T10:00', 'since', now)?.toISOString()).toBe('2025-02-28T10:00:00.000Z');
    expect(parseWhen('2025-02-28T10:00+02:00', 'since', now)?.toISOString()).toBe('2025-02-28T08:00:00.000Z');
    expect(daysOf({ since: new Date('2025-02-27T10:00Z'), until: new Date('2025-03-01T00:00Z') })).toEqual(['2025/02/27', '2025/02/28', '2025/03/01']);
    expect(inRange('x/111122223333_CloudTrail_us-east-1_20250314T0905Z_a.json.gz', { since: new Date('2025-03-14T09:05:30Z'), until: now })).toBe(true);
  });

  it('finds the logs folder whatever the URI names', () => {
    expect(parseS3Uri('s3://bkt')).toEqual({ bucket: 'bkt', logs: 'AWSLogs/' });
    expect(parseS3Uri('s3://bkt/org-trail/')).toEqual({ bucket: 'bkt', logs: 'org-trail/AWSLogs/' });
    expect(parseS3Uri(`s3://bkt/${ORG}/AWSLogs/${ORG}/111122223333`)).toEqual({ bucket: 'bkt', logs: `${ORG}/AWSLogs/`, organization: ORG, account: '111122223333' });
  });
});

describe('scan s3:// when S3 refuses a listing', () => {
  it('names the day folder it could not list, counts it, exits 1 and still reads the other folders', async () => {
    const { mockClient } = await import('aws-sdk-client-mock');
    const { ListObjectsV2Command, GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    const s3 = mockClient(S3Client);
    try {
      const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      s3.on(ListObjectsV2Command, { Prefix: 'AWSLogs/', Delimiter: '/' }).resolves({ CommonPrefixes: [{ Prefix: 'AWSLogs/111122223333/' }] });
      s3.on(ListObjectsV2Command, { Prefix: 'AWSLogs/111122223333/CloudTrail/', Delimiter: '/' }).resolves({ CommonPrefixes: [{ Prefix: 'AWSLogs/111122223333/CloudTrail/us-east-1/' }] });
      s3.on(ListObjectsV2Command, { Prefix: 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/13/' }).rejects(denied);
      s3.on(ListObjectsV2Command, { Prefix: 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/' }).resolves({ Contents: [{ Key: OBJECTS[3]![0].replace('444455556666', '111122223333'), Size: 100 }] });
      s3.on(GetObjectCommand).resolves({ Body: (async function* () { yield logWith('after-denied'); })() as never });
      const { code, events, stderr } = await run('scan', 's3://denied-bucket/', '--since', '2025-03-13', '--until', '2025-03-14', '--format', 'json');
      expect(code).toBe(1);
      expect(events).toEqual(['after-denied']);
      expect(stderr).toContain('error: s3://denied-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/13/: listing failed (AccessDenied: Access Denied); the credentials need s3:ListBucket');
      expect(stderr).toMatch(/; 1 unreadable in/);
    } finally {
      s3.restore();
    }
  });
});
