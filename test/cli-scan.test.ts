import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../lambda/cli/main';
import { runScan } from '../lambda/cli/scan';
import { record, RECORDS_DIR, ROOT, SECRET_MARKERS } from './support';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const dir = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-scan-'));
const file = (name: string, content: Buffer | string) => {
  const full = path.join(dir, name);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  return full;
};

describe('acm-sentinel scan', () => {
  it('prints one JSON alert per line and nothing else on stdout with --format json', async () => {
    const { code, stdout, stderr } = await run('scan', path.join(RECORDS_DIR, 'acm-export-certificate.hidden.json'), path.join(RECORDS_DIR, 'acm-describe-certificate.json'), '--format', 'json');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ruleId: 'acm-export-certificate', severity: 'critical', logFile: expect.stringContaining('acm-export-certificate.hidden.json') });
    expect(stderr).toBe('scanned 2 files: 2 records, 2 ACM records, 1 alert (1 critical)');
  });

  it('scans folders recursively, gzip detected by magic bytes whatever the name', async () => {
    file('tree/a/log.json.gz', gzipSync(JSON.stringify({ Records: [record({ eventID: 'tree-1' })] })));
    file('tree/b/gzipped-but-named.json', gzipSync(JSON.stringify({ Records: [record({ eventID: 'tree-2', eventName: 'ExportCertificate' })] })));
    file('tree/b/notes.txt', 'not a log');
    const { code, stdout } = await run('scan', path.join(dir, 'tree'), '--format', 'json');
    expect(code).toBe(0);
    expect(stdout.split('\n').map((line) => JSON.parse(line).eventId)).toEqual(['tree-1', 'tree-2']);
  });

  it('scans the bundled events folder, printing every expected alert and nothing secret', async () => {
    const { code, stdout, stderr } = await run('scan', path.join(ROOT, 'events'));
    expect(code).toBe(0);
    expect(stdout).toContain('CRITICAL acm-export-certificate');
    expect(stdout).toContain('tried ExportCertificate on certificate');
    expect(stdout).toContain('CRITICAL acm-get-acme-eab-credentials');
    for (const marker of SECRET_MARKERS) expect(stdout + stderr).not.toContain(marker);
    const json = await run('scan', path.join(ROOT, 'events'), '--format', 'json');
    expect(json.code).toBe(0);
    for (const marker of SECRET_MARKERS) expect(json.stdout + json.stderr).not.toContain(marker);
  });

  it.each([
    ['a truncated gzip', 'cut.json.gz', gzipSync(JSON.stringify({ Records: [record()] })).subarray(0, 30), /cut\.json\.gz: unexpected end of file \(the gzip data is truncated/],
    ['a corrupt gzip', 'corrupt.json.gz', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(40, 7)]), /corrupt\.json\.gz: .*\(the gzip data is corrupt; re-download the file\)/],
    ['invalid JSON', 'broken.json', '{"Records": [ {"eventSource": "acm.amazonaws.com", "passphrase": "hunter2" ', /broken\.json: not valid JSON/],
    ['JSON that is not CloudTrail', 'other.json', '{"hello": "world"}', /other\.json: not a CloudTrail log/],
  ])('reports %s on stderr with the path and reason, scans the rest, and exits 1', async (_, name, content, message) => {
    const bad = file(`bad/${name}`, content);
    const { code, stdout, stderr } = await run('scan', bad, path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--format', 'json');
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain('hunter2');
    expect(stdout.split('\n').map((line) => JSON.parse(line).ruleId)).toEqual(['acm-delete-certificate']);
  });

  it('reports a missing file and exits 1', async () => {
    const { code, stderr } = await run('scan', path.join(dir, 'nope.json.gz'));
    expect(code).toBe(1);
    expect(stderr).toContain(`error: ${path.join(dir, 'nope.json.gz')}: no such file or folder`);
  });

  it('applies --config with the same schema as the Lambda', async () => {
    const config = file('config.json', JSON.stringify({ disabledRules: ['acm-delete-certificate'] }));
    const { code, stdout } = await run('scan', path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--config', config);
    expect(code).toBe(0);
    expect(stdout).toBe('');
  });

  it.each([
    [['scan'], 'error: scan needs at least one file or folder\nSee "acm-sentinel scan --help".'],
    [['scan', 'x', '--format', 'xml'], 'error: --format must be "text" or "json" (got "xml")\nSee "acm-sentinel scan --help".'],
    [['scan', 'x', '--bogus'], 'error: unknown option --bogus for scan\nSee "acm-sentinel scan --help".'],
    [['scan', 'x', '--formt', 'json'], 'error: unknown option --formt for scan; did you mean --format?\nSee "acm-sentinel scan --help".'],
    [['scan', 'x', '--fail-on', 'severe'], 'error: --fail-on must be one of low, medium, high, critical (got "severe")\nSee "acm-sentinel scan --help".'],
    [['frobnicate'], 'error: unknown command "frobnicate"\nSee "acm-sentinel --help".'],
    [['scna', 'x'], 'error: unknown command "scna"; did you mean "scan"?\nSee "acm-sentinel --help".'],
  ])('exits 2 with one line that says what is wrong and where to look for %j', async (argv, message) => {
    const { code, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stderr).toBe(message);
  });

  it('prints the overview without a command (exit 2), and with --help (exit 0)', async () => {
    expect(await run()).toMatchObject({ code: 2, stderr: expect.stringContaining('"acm-sentinel COMMAND --help" shows a command\'s options') });
    expect(await run('--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('acm-sentinel scan PATH...|-|s3://BUCKET[/PREFIX]') });
  });

  it.each(['--version', '-V', 'version'])('prints the version for %s', async (flag) => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await run(flag)).toEqual({ code: 0, stdout: version, stderr: '' });
  });

  it.each(['scan', 'invoke', 'backfill', 'redrive', 'demo'])('has its own help for %s: options, and exit codes where it has them', async (command) => {
    const { code, stdout } = await run(command, '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^acm-sentinel ${command}`));
    if (command !== 'demo') expect(stdout).toContain('Exit codes:');
  });

  it('says a digest file named on the command line is a digest, not a log, even out of its folder', async () => {
    const digest = file('111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20250314T100037Z.json.gz', gzipSync('{"digestStartTime":"2025-03-14T09:00:37Z","logFiles":[]}'));
    const { code, stderr } = await run('scan', digest);
    expect(code).toBe(1);
    expect(stderr).toContain(`skipped ${digest}: a CloudTrail digest file, not a log file`);
    expect(stderr).toContain('error: no CloudTrail input');
  });

  it('says why nothing was scanned in an empty folder, or one with no log file', async () => {
    mkdirSync(path.join(dir, 'empty-folder'), { recursive: true });
    expect((await run('scan', path.join(dir, 'empty-folder'))).stderr).toContain('error: no CloudTrail input: no file found there');
    file('only-events/settings.json', JSON.stringify({ alertEmails: ['secops@example.com'] }));
    const { code, stderr } = await run('scan', path.join(dir, 'only-events'), '--verbose');
    expect(code).toBe(1);
    expect(stderr).toMatch(/skipped .*settings\[?\.\]?json: not a CloudTrail log: expected/);
    expect(stderr).toContain('error: no CloudTrail input: nothing read was a CloudTrail log (1 skipped); log files hold');
  });

  it('follows symbolic links inside folders, and stops at a link loop', async () => {
    file('linked/real/log.json.gz', gzipSync(JSON.stringify({ Records: [record({ eventID: 'through-link' })] })));
    mkdirSync(path.join(dir, 'via-link'), { recursive: true });
    symlinkSync(path.join(dir, 'linked', 'real'), path.join(dir, 'via-link', 'logs'));
    symlinkSync(path.join(dir, 'via-link'), path.join(dir, 'via-link', 'loop'));
    const { code, stdout } = await run('scan', path.join(dir, 'via-link'), '--format', 'json');
    expect(code).toBe(0);
    expect([...new Set(stdout.split('\n').map((line) => JSON.parse(line).eventId))]).toEqual(['through-link']);
  });

  it('reads one log from standard input with -', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdin = (async function* () {
      yield gzipSync(JSON.stringify({ Records: [record({ eventID: 'from-stdin' })] }));
    })();
    const code = await runScan({ paths: ['-'], format: 'json', stdin }, { out: (line) => out.push(line), err: (line) => err.push(line) });
    expect(code).toBe(0);
    expect(out.map((line) => JSON.parse(line).eventId)).toEqual(['from-stdin']);
    expect(JSON.parse(out[0]!).logFile).toBe('<stdin>');
  });

  it('exits 3 with --fail-on when an alert is at or above the severity, 0 when none is', async () => {
    expect((await run('scan', path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--fail-on', 'high')).code).toBe(3);
    expect((await run('scan', path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--fail-on', 'critical')).code).toBe(0);
    expect((await run('scan', path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--fail-on', 'LOW')).code).toBe(3);
  });

  it('exits 2 naming the config file when it is invalid', async () => {
    const config = file('bad-config.json', JSON.stringify({ minSeverity: 'urgent' }));
    const { code, stderr } = await run('scan', RECORDS_DIR, '--config', config);
    expect(code).toBe(2);
    expect(stderr).toContain(`${config}: "minSeverity" must be one of low, medium, high, critical`);
  });
});

describe('acm-sentinel scan as a process', () => {
  const BIN = path.join(ROOT, 'bin', 'acm-sentinel.js');
  const cache = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-cli-cache-'));
  const bundle = path.join(cache, 'scan-cli.js');
  const args = ['scan', path.join(ROOT, 'events'), '--format', 'json'];
  const cli = () => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ACM_SENTINEL_CLI_CACHE: cache } });
  let expected: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    expected = await run(...args);
  });

  const same = (result: SpawnSyncReturns<string>) => {
    expect(result.status).toBe(expected.code);
    expect(result.stdout).toBe(`${expected.stdout}\n`);
    expect(result.stderr).toBe(`${expected.stderr}\n`);
  };

  it('prints what the CLI prints in process, from a bundle it builds on first use', () => {
    same(cli());
    expect(existsSync(bundle)).toBe(true);
  });

  it('rebuilds the bundle when a source file is newer', () => {
    utimesSync(bundle, new Date(0), new Date(0));
    same(cli());
    expect(statSync(bundle).mtimeMs).toBeGreaterThan(0);
  });

  it('runs from source when the bundle is damaged, and drops it to rebuild next time', () => {
    writeFileSync(bundle, 'throw new Error("damaged")');
    same(cli());
    expect(existsSync(bundle)).toBe(false);
    same(cli());
    expect(readFileSync(bundle, 'utf8')).toContain('scanWatchedRecords');
  });
});
