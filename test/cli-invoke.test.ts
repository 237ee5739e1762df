/**
 * `acm-sentinel invoke` and `demo` as a user runs them: a separate process running the real
 * handler against the embedded emulator, read back from what SNS delivered.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { record, ROOT, s3RecordIn, SECRET_MARKERS } from './support';

const BIN = path.join(ROOT, 'bin', 'acm-sentinel.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

/** Emulator processes still running, found by their script name. */
function emulatorPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('fauxqs-server.mjs');
      } catch {
        return false;
      }
    })
    .map(Number);
}

const BUCKET = 'my-trail';
const s3Record = s3RecordIn(BUCKET);
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/';
const dir = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-invoke-'));
function writeObject(key: string, body: Buffer): void {
  const file = path.join(dir, 'objects', BUCKET, ...key.split('/'));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, body);
}
function writeEvent(name: string, keys: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ Records: keys.map((key) => s3Record(key)) }));
  return file;
}

// Emulators this test's commands started and left running (others on the machine are not ours).
let before: number[] = [];
beforeEach(() => {
  before = emulatorPids();
});
afterEach(() => {
  expect(emulatorPids().filter((pid) => !before.includes(pid))).toEqual([]);
});

describe('acm-sentinel invoke on every event shape', () => {
  const delivered = (event: string) => {
    const { status, stdout, stderr } = cli('invoke', path.join(ROOT, 'events', event), '--format', 'json');
    expect({ event, status, stderr: status === 0 ? '' : stderr }).toEqual({ event, status: 0, stderr: '' });
    return stdout.trim().split('\n').map((line) => JSON.parse(line) as { eventId: string; ruleId: string }).map((alert) => `${alert.ruleId} ${alert.eventId}`).sort();
  };

  it('delivers the same alerts for S3 events through SNS, CloudTrail notifications and SQS as for the plain S3 event', () => {
    const plain = delivered('s3-put.json');
    expect(plain).toHaveLength(5);
    for (const event of ['sns-s3-put.json', 'sns-cloudtrail-notification.json', 'sqs-s3-put.json', 'sqs-mixed.json']) expect({ event, alerts: delivered(event) }).toEqual({ event, alerts: plain });
    expect(delivered('eventbridge-object-created.json')).toEqual(delivered('s3-put-single.json'));
  });

  it("keeps stdout to the delivered alerts when the handler's own log lines are turned on", () => {
    const { status, stdout, stderr } = spawnSync(process.execPath, [BIN, 'invoke', path.join(ROOT, 'events', 's3-put-single.json'), '--format', 'json'], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'INFO' },
    });
    expect(status).toBe(0);
    expect(stdout.trim().split('\n').map((line) => (JSON.parse(line) as { ruleId: string }).ruleId).sort()).toEqual(['acm-delete-certificate', 'acm-export-certificate']);
    expect(stderr).toContain('"message":"processed log object"');
  });

  it('refuses a CloudTrail log file or an unknown document with the shape it saw, exit 2', () => {
    const log = cli('invoke', path.join(ROOT, 'events', 'records', 'acm-delete-certificate.json'));
    expect(log.status).toBe(2);
    expect(log.stderr).toContain('a CloudTrail log (Records of API calls), not an event that names log files; scan it with `acm-sentinel scan FILE`');
    const odd = path.join(dir, 'odd.json');
    writeFileSync(odd, '{"foo":"bar"}');
    const unknown = cli('invoke', odd);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`${odd}: not an event acm-sentinel handles: an object with keys "foo"`);
  });
});

describe('acm-sentinel demo', () => {
  it('runs the real handler on the bundled samples and shows each alert as email and chat card', () => {
    const { status, stdout, stderr } = cli('demo');
    expect(status).toBe(0);
    expect(stdout.match(/^Alert \d+ of 5: /gm)).toHaveLength(5);
    expect(stdout.match(/^--- email ---$/gm)).toHaveLength(5);
    expect(stdout.match(/^--- chat \(Amazon Q Developer \/ Slack\) ---$/gm)).toHaveLength(5);
    expect(stdout).toContain('alice (AssumedRole) exported the private key of certificate');
    expect(stdout).toContain('build-42 (AssumedRole) tried ExportCertificate on certificate 2e6d0b9f-4a13-47c8-8f5e-c1a0d7b3e962 in 111122223333 / us-east-1 — failed (AccessDenied)');
    expect(stderr).toMatch(/skipped  s3:\/\/acm-sentinel-demo-trail\/AWSLogs\/111122223333\/CloudTrail-Digest\/.* \(digest-file\)/);
    expect(stderr).toMatch(/scanned  s3:\/\/acm-sentinel-demo-trail\/AWSLogs\/o-a1b2c3d4e5\/444455556666\/CloudTrail\/eu-west-1\//);
    expect(stderr).toContain('delivered through SNS: 5 alerts (3 critical, 2 high)');
    for (const marker of SECRET_MARKERS) expect(stdout + stderr).not.toContain(marker);
  });
});

describe('acm-sentinel invoke', () => {
  it('prints one JSON line per delivered alert with its subject and message attributes', () => {
    const { status, stdout } = cli('invoke', 'events/s3-put.json', '--format', 'json');
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => line.ruleId).sort()).toEqual([
      'acm-delete-certificate',
      'acm-export-certificate',
      'acm-export-certificate',
      'acm-import-certificate',
      'acm-pca-delete-certificate-authority',
    ]);
    const denied = lines.find((line) => line.outcome === 'failed');
    expect(denied.subject).toBe('[acm-sentinel] CRITICAL: Private key exported from ACM - attempt failed by build-42 in 111122223333');
    expect(denied.messageAttributes).toEqual({ severity: 'critical', ruleId: 'acm-export-certificate', eventName: 'ExportCertificate', accountId: '111122223333', awsRegion: 'us-east-1', outcome: 'failed' });
    const orgTrail = lines.find((line) => line.ruleId === 'acm-pca-delete-certificate-authority');
    expect(orgTrail.logFile).toMatch(/^s3:\/\/acm-sentinel-demo-trail\/AWSLogs\/o-a1b2c3d4e5\/444455556666\/CloudTrail\/eu-west-1\//);
    for (const marker of SECRET_MARKERS) expect(stdout).not.toContain(marker);
  });

  it('runs a single-object event in text mode', () => {
    const { status, stdout, stderr } = cli('invoke', 'events/s3-put-single.json');
    expect(status).toBe(0);
    expect(stdout.match(/^Alert \d+ of 2: /gm)).toHaveLength(2);
    expect(stderr).toContain('delivered through SNS: 2 alerts (1 critical, 1 high)');
  });

  it('does nothing for the S3 test event', () => {
    const { status, stdout, stderr } = cli('invoke', 'events/s3-test-event.json');
    expect(status).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('delivered through SNS: 0 alerts');
  });

  it('applies --config to the real handler through its environment variable', () => {
    const config = path.join(dir, 'only-critical.json');
    writeFileSync(config, JSON.stringify({ minSeverity: 'critical' }));
    const { status, stdout } = cli('invoke', 'events/s3-put.json', '--format', 'json', '--config', config);
    expect(status).toBe(0);
    expect(new Set(stdout.trim().split('\n').map((line) => JSON.parse(line).severity))).toEqual(new Set(['critical']));
  });

  it('names the expected path of an object the event names but the folder lacks', () => {
    const event = writeEvent('missing.json', [`${PREFIX}not there.json.gz`]);
    const { status, stderr } = cli('invoke', event, '--objects', path.join(dir, 'objects'));
    expect(status).toBe(1);
    expect(stderr).toContain(`s3://${BUCKET}/${PREFIX}not there.json.gz: expected the file ${path.join(dir, 'objects', BUCKET, ...`${PREFIX}not there.json.gz`.split('/'))}`);
  });

  it('prints what was delivered for the good objects and the handler error for the broken one, and exits 1', () => {
    writeObject(`${PREFIX}good.json.gz`, gzipSync(JSON.stringify({ Records: [record({ eventID: 'good-event' })] })));
    writeObject(`${PREFIX}broken.json.gz`, gzipSync(JSON.stringify({ Records: [record()] })).subarray(0, 25));
    const event = writeEvent('mixed.json', [`${PREFIX}broken.json.gz`, `${PREFIX}good.json.gz`]);
    const { status, stdout, stderr } = cli('invoke', event, '--objects', path.join(dir, 'objects'), '--format', 'json');
    expect(status).toBe(1);
    expect(stdout.trim().split('\n').map((line) => JSON.parse(line).eventId)).toEqual(['good-event']);
    expect(stderr).toMatch(/error: .*: the handler failed: 1 of 2 log objects failed .*broken\.json\.gz: unexpected end of file/);
  });

  it('exits 2 when the event file cannot be read', () => {
    const { status, stderr } = cli('invoke', path.join(dir, 'no-such-event.json'));
    expect(status).toBe(2);
    expect(stderr).toContain('no-such-event.json: cannot read the event (ENOENT)');
  });

  it('leaves no emulator behind when the command is killed mid-run', async () => {
    const child = spawn(process.execPath, [BIN, 'demo'], { cwd: ROOT, stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    while (emulatorPids().length === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const gone = Date.now() + 10_000;
    while (emulatorPids().length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
  });
});
