/**
 * The CLI as a user meets it: the real `bin/acm-sentinel.js` process, its exit codes, what it
 * prints on stdout and stderr, piped or on a terminal (FORCE_COLOR stands in for one).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { INPUT_BATCH_BYTES } from '../lambda/core/scan/decode';
import { record, RECORDS_DIR, ROOT } from './support';

const BIN = path.join(ROOT, 'bin', 'acm-sentinel.js');
const EXAMPLES = path.join(__dirname, 'fixtures', 'aws-documentation-examples');
const cache = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-cli-process-'));
const dir = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-cli-inputs-'));
const file = (name: string, content: Buffer | string) => {
  const full = path.join(dir, name);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  return full;
};

/**
 * Runs the CLI as a process; `env` adds to a clean colour setting (none forced, none refused).
 * `oneCpu` runs it with `taskset -c 0`, where it inflates gzip on its main thread, as a Lambda function below 1,769 MB does.
 */
function cli(args: string[], options: { input?: string | Buffer; env?: Record<string, string>; oneCpu?: boolean } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ACM_SENTINEL_CLI_CACHE: cache, FORCE_COLOR: undefined, NO_COLOR: undefined, ...options.env };
  const [command, argv] = options.oneCpu ? ['taskset', ['-c', '0', process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  const { status, stdout, stderr, error } = spawnSync(command, argv, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env, input: options.input ?? '' });
  if (error) throw error;
  return { code: status, stdout, stderr };
}

const ESCAPE = '\u001b[';
const jsonLines = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { ruleId: string; eventId: string });

describe('the twelve examples of the ACM CloudTrail documentation, pasted as printed', () => {
  const examples = readdirSync(EXAMPLES).filter((name) => name.endsWith('.json')).sort();

  it('are all here', () => {
    expect(examples).toHaveLength(12);
  });

  const expected: Record<string, string[]> = {
    'add-tags-to-certificate.json': ['acm-add-tags'],
    'delete-certificate.json': ['acm-delete-certificate'],
    'describe-certificate.json': [],
    'export-certificate.json': ['acm-export-certificate'],
    'get-certificate.json': [],
    'import-certificate.json': ['acm-import-certificate'],
    'list-certificates.json': [],
    'list-tags-for-certificate.json': [],
    'remove-tags-from-certificate.json': ['acm-remove-tags'],
    'request-certificate.json': [],
    'resend-validation-email.json': ['acm-resend-validation-email'],
  };

  it.each(Object.entries(expected))('%s gives its alert, or none for a call no rule watches, and exits 0', (name, rules) => {
    const { code, stdout, stderr } = cli(['scan', path.join(EXAMPLES, name), '--format', 'json']);
    expect({ code, rules: jsonLines(stdout).map((alert) => alert.ruleId) }).toEqual({ code: 0, rules });
    expect(stderr).toContain('scanned 1 file: 1 record, 1 ACM record');
  });

  it('says when it repaired the certificate bodies printed across lines', () => {
    const { stderr } = cli(['scan', path.join(EXAMPLES, 'export-certificate.json')]);
    expect(stderr).toMatch(/^note: .*export-certificate\[?\.\]?json: read with 7 raw line breaks inside strings taken as \\n/m);
  });

  it('points at the missing comma of the one that is truly broken, by line and column, first problem first', () => {
    const { code, stdout, stderr } = cli(['scan', path.join(EXAMPLES, 'export-certificate-eventbridge.json')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('not valid JSON at line 5, column 3: expected , or } after a value: is a comma missing at the end of the line before, or a string closed too early?');
  });

  it('names the next problem after each fix, in order, until it gives the critical alert', () => {
    const printed = readFileSync(path.join(EXAMPLES, 'export-certificate-eventbridge.json'), 'utf8');
    const rounds = [
      // The comma after "id".
      printed.replace('"12345678-1234-1234-1234-123456789012"\n', '"12345678-1234-1234-1234-123456789012",\n'),
    ];
    // The page closes the chain's string at the end of line 52 and prints its second certificate on a line of its own.
    rounds.push(rounds[0]!.replace('-----END CERTIFICATE-----\\n"\n      -----BEGIN', '-----END CERTIFICATE-----\\n-----BEGIN'));
    // The closing brace of the document.
    rounds.push(`${rounds[1]!.trimEnd()}\n}\n`);
    expect(cli(['scan', '-'], { input: rounds[0] }).stderr).toContain(
      '<stdin>: not valid JSON at line 53, column 7: expected , or } after a value: is a comma missing at the end of the line before, or a string closed too early?',
    );
    expect(cli(['scan', '-'], { input: rounds[1] }).stderr).toContain(
      '<stdin>: not valid JSON at line 60, column 2: the text ends before the document does: is a closing } or ] missing, or was the file cut short?',
    );
    const { code, stdout } = cli(['scan', '-', '--format', 'json'], { input: rounds[2] });
    expect({ code, rules: jsonLines(stdout).map((alert) => alert.ruleId) }).toEqual({ code: 0, rules: ['acm-export-certificate'] });
  });
});

describe('what scan reads', () => {
  it('reads log files written one after another from standard input, as zcat prints them', () => {
    const logs = ['one', 'two', 'three'].map((id) => gzipSync(JSON.stringify({ Records: [record({ eventID: id })] })));
    const zcat = Buffer.concat(logs.map((log) => gunzipSync(log)));
    expect(jsonLines(cli(['scan', '-', '--format', 'json'], { input: zcat }).stdout).map((alert) => alert.eventId)).toEqual(['one', 'two', 'three']);
    // cat of the .gz files: gzip members one after another.
    expect(jsonLines(cli(['scan', '-', '--format', 'json'], { input: Buffer.concat(logs) }).stdout).map((alert) => alert.eventId)).toEqual(['one', 'two', 'three']);
  });

  it('reads the output of aws cloudtrail lookup-events from standard input', () => {
    const output = { Events: [{ EventId: 'lookup-1', EventName: 'DeleteCertificate', CloudTrailEvent: JSON.stringify(record({ eventID: 'lookup-1' })) }] };
    const { code, stdout } = cli(['scan', '-', '--format', 'json'], { input: JSON.stringify(output, null, 4) });
    expect({ code, ids: jsonLines(stdout).map((alert) => alert.eventId) }).toEqual({ code: 0, ids: ['lookup-1'] });
  });

  it('streams lookup-events output past the size of one document, as the AWS CLI prints it when it pages through months', () => {
    const events = Array.from({ length: 5_000 }, (_, i) => {
      const acm = i % 1_000 === 0;
      const one = record({ eventID: `lookup-${i + 1}`, eventSource: acm ? 'acm.amazonaws.com' : 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(1_500) } });
      return { EventId: one.eventID, EventName: one.eventName, ReadOnly: 'false', EventTime: '2025-03-14T09:00:00+00:00', EventSource: one.eventSource, Resources: [], CloudTrailEvent: JSON.stringify(one) };
    });
    const output = JSON.stringify({ Events: events, NextToken: 'eyJ0b2tlbiI6IDF9' }, null, 4);
    expect(output.length).toBeGreaterThan(8 * 1024 * 1024);
    const { code, stdout, stderr } = cli(['scan', file('lookup-months.json', output), '--format', 'json']);
    expect({ code, ids: jsonLines(stdout).map((alert) => alert.eventId) }).toEqual({ code: 0, ids: ['lookup-1', 'lookup-1001', 'lookup-2001', 'lookup-3001', 'lookup-4001'] });
    expect(stderr).toContain('scanned 1 file: 5000 records, 5 ACM records');
  });

  it('streams JSON Lines past the size of one document, and names the line of a broken record', () => {
    // About 12 MB: more than the 8 MiB one document may take.
    const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify(record({ eventID: `line-${i + 1}`, eventSource: i % 2500 === 0 ? 'acm.amazonaws.com' : 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(1_100) } })));
    const good = file('export.jsonl', `${lines.join('\n')}\n`);
    const ok = cli(['scan', good, '--format', 'json']);
    expect({ code: ok.code, ids: jsonLines(ok.stdout).map((alert) => alert.eventId) }).toEqual({ code: 0, ids: ['line-1', 'line-2501', 'line-5001', 'line-7501'] });
    expect(ok.stderr).toContain('scanned 1 file: 10000 records, 4 ACM records');
    lines[6000] = lines[6000]!.replace('"eventTime":', '"eventTime" ');
    const bad = cli(['scan', file('broken.jsonl', `${lines.join('\n')}\n`), '--format', 'json']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/broken\[?\.\]?jsonl: not valid JSON at line 6001, column \d+: a value where , : } or ] was expected: is a comma or a colon missing before it\?/);
    // The broken record is named; every other record, before it and after, is still read.
    expect(jsonLines(bad.stdout).map((alert) => alert.eventId)).toEqual(['line-1', 'line-2501', 'line-5001', 'line-7501']);
  });

  it('recognises files in a folder by their content, lists what it skipped with --verbose, and reads a digest named on the command line as a digest', () => {
    file('exports/cloudtrail-export.log', `${JSON.stringify(record({ eventID: 'from-log-file' }))}\n`);
    file('exports/compressed.data', gzipSync(JSON.stringify({ Records: [record({ eventID: 'from-gzip' })] })));
    file('exports/notes.txt', 'not a log');
    file('exports/empty.json', '');
    const { code, stdout, stderr } = cli(['scan', path.join(dir, 'exports'), '--format', 'json', '--verbose']);
    expect({ code, ids: jsonLines(stdout).map((alert) => alert.eventId).sort() }).toEqual({ code: 0, ids: ['from-gzip', 'from-log-file'] });
    expect(stderr).toMatch(/skipped .*empty\[?\.\]?json: an empty file/);
    expect(stderr).toMatch(/skipped .*notes\[?\.\]?txt: neither gzip nor JSON/);
    expect(stderr).toContain('scanned 2 files: 2 records, 2 ACM records, 2 alerts (2 high); 2 skipped');
    expect(cli(['scan', path.join(dir, 'exports'), '--format', 'json']).stderr).not.toContain('skipped ');

    const digest = file('111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20250314T100037Z.json.gz', gzipSync('{"digestStartTime":"2025-03-14T09:00:37Z","logFiles":[]}'));
    const alone = cli(['scan', digest]);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/^skipped .*: a CloudTrail digest file, not a log file$/m);
    expect(alone.stderr).toContain('error: no CloudTrail input');
    expect(cli(['scan', digest, path.join(RECORDS_DIR, 'acm-delete-certificate.json')]).code).toBe(0);
  });

  it('says a scan found no CloudTrail input, and exits 1', () => {
    mkdirSync(path.join(dir, 'nothing'), { recursive: true });
    const empty = cli(['scan', path.join(dir, 'nothing')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('error: no CloudTrail input: no file found there');
    file('settings-only/cdk.context.json', JSON.stringify({ alertEmails: ['secops@example.com'] }));
    const other = cli(['scan', path.join(dir, 'settings-only')]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('error: no CloudTrail input: nothing read was a CloudTrail log (1 skipped; --verbose says why for each)');
  });
});

describe('on one CPU, where gzip is inflated on the main thread into the scanner\'s own memory, and on two, where the thread pool inflates a file of more than a batch of gzip', () => {
  const acm = (id: string, pad = 0) => record({ eventID: id, requestParameters: { certificateArn: `arn:aws:acm:us-east-1:111122223333:certificate/${id}`, pad: 'x'.repeat(pad) } });
  const other = (id: string, pad: number) => record({ eventID: id, eventSource: 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(pad) } });
  const big = (broken?: number) => {
    const records = Array.from({ length: 6_000 }, (_, i) => (i % 700 === 3 ? acm(`big-${i}`, i % 50) : other(`o-${i}`, 900 + (i % 300))));
    const text = JSON.stringify({ Records: records });
    return broken === undefined ? text : `${text.slice(0, broken)}\n${text.slice(broken)}`;
  };
  const inputs: Record<string, () => string[]> = {
    'a log file of 7 MB': () => [file('one-cpu/big.json.gz', gzipSync(big()))],
    // Random text barely compresses: over the batch of gzip from which the thread pool inflates a file on two CPUs.
    'a log file of 3 MB of gzip': () => {
      const records = Array.from({ length: 3_000 }, (_, i) => (i % 700 === 7 ? acm(`noisy-${i}`) : record({ eventID: `n-${i}`, eventSource: 'ec2.amazonaws.com', requestParameters: { pad: randomBytes(950).toString('hex') } })));
      const gzip = gzipSync(JSON.stringify({ Records: records }), { level: 1 });
      expect(gzip.length).toBeGreaterThan(2 * INPUT_BATCH_BYTES);
      return [file('one-cpu/noisy.json.gz', gzip)];
    },
    'a log file broken 4 MB in': () => [file('one-cpu/broken.json.gz', gzipSync(big(4_000_123)))],
    'log files joined with cat, and JSON Lines': () => [
      file('one-cpu/cat.json.gz', Buffer.concat([gzipSync(big()), gzipSync(JSON.stringify({ Records: [acm('second')] }))])),
      file('one-cpu/lines.jsonl.gz', gzipSync(`${Array.from({ length: 3_000 }, (_, i) => JSON.stringify(i % 1000 === 1 ? acm(`line-${i}`) : other(`l-${i}`, 1_000))).join('\n')}\n`)),
    ],
    'a documentation example pasted with its line breaks': () => [file('one-cpu/pasted.json.gz', gzipSync(readFileSync(path.join(EXAMPLES, 'export-certificate.json'))))],
  };

  it.each(Object.keys(inputs))('reads %s exactly as on two CPUs', (name) => {
    const targets = inputs[name]!();
    const args = ['scan', ...targets, '--format', 'json'];
    const pinned = cli(args, { oneCpu: true });
    expect(pinned).toEqual(cli(args));
    expect(jsonLines(pinned.stdout).length).toBeGreaterThan(0);
  });
});

describe('inputs that fight back', () => {
  const rec = (eventID: string) => JSON.stringify(record({ eventID }));

  it('reports an entry it cannot read and still reads the rest of the folder', () => {
    file('mixed/a.json', rec('before'));
    file('mixed/z.json', rec('after'));
    // A name that is not UTF-8: the folder lists it, but no path built from the listing reaches it.
    writeFileSync(Buffer.concat([Buffer.from(path.join(dir, 'mixed', 'm')), Buffer.from([0xff]), Buffer.from('.json')]), rec('unnamed'));
    const { code, stdout, stderr } = cli(['scan', path.join(dir, 'mixed'), '--format', 'json']);
    expect(code).toBe(1);
    expect(jsonLines(stdout).map((alert) => alert.eventId)).toEqual(['before', 'after']);
    expect(stderr).toMatch(/^error: .*: no such file or folder \(ENOENT\)$/m);
  });

  it('visits each real folder once, however many links lead back to it', () => {
    file('looped/r.json', rec('looped'));
    for (const name of ['l1', 'l2', 'l3', 'l4', 'l5']) symlinkSync('.', path.join(dir, 'looped', name));
    const { code, stdout, stderr } = cli(['scan', path.join(dir, 'looped'), '--format', 'json']);
    expect({ code, ids: jsonLines(stdout).map((alert) => alert.eventId) }).toEqual({ code: 0, ids: ['looped'] });
    expect(stderr).toContain('scanned 1 file: 1 record');
  });

  it('reads past lines that start no record and records that cannot be read, then names the first and counts the rest', () => {
    const text = `${rec('t1')}\nnull\n{"eventID": "x" "y"}\n# a comment\n${rec('t2')}\n`;
    const { code, stdout, stderr } = cli(['scan', file('tail.jsonl', text), '--format', 'json']);
    expect({ code, ids: jsonLines(stdout).map((alert) => alert.eventId) }).toEqual({ code: 1, ids: ['t1', 't2'] });
    expect(stderr).toMatch(/tail\[?\.\]?jsonl: not valid JSON at line 2, column 1: text after value 1 that starts no other value.* \(and 2 more values or lines that could not be read; the others were\)/);
  });

  it('exits 1 on empty standard input, so a failed fetch piped in never passes a CI gate', () => {
    const { code, stderr } = cli(['scan', '-', '--fail-on', 'high'], { input: '' });
    expect(code).toBe(1);
    expect(stderr).toContain('skipped <stdin>: standard input was empty');
    expect(stderr).toContain('error: no CloudTrail input');
  });

  it('reads a pipe or device named as a path, and an array of records', () => {
    const single = file('single.json', rec('via-a-pipe'));
    // Process substitution: the path names a pipe, whose size is 0 whatever it carries.
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" scan <(cat "${single}") --format json`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ACM_SENTINEL_CLI_CACHE: cache } });
    expect({ code: piped.status, ids: jsonLines(piped.stdout).map((alert) => alert.eventId) }).toEqual({ code: 0, ids: ['via-a-pipe'] });
    const array = cli(['scan', file('array.json', `[${rec('a1')},${rec('a2')}]`), '--format', 'json']);
    expect({ code: array.code, ids: jsonLines(array.stdout).map((alert) => alert.eventId) }).toEqual({ code: 0, ids: ['a1', 'a2'] });
  });

  it('names UTF-16 text as what it is, with the fix', () => {
    const utf16 = file('powershell.json', Buffer.from(`\ufeff${JSON.stringify({ Records: [record()] })}`, 'utf16le'));
    expect(cli(['scan', utf16]).stderr).toContain('not UTF-8: the text looks like UTF-16 (as Windows PowerShell writes with >); save it as UTF-8');
  });

  it('never quotes a broken configuration file, and names its line and column', () => {
    const config = file('broken-config.json', '{\n  "rules": [SECRET-VALUE-123]\n}');
    const { code, stderr } = cli(['scan', path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain('broken-config.json: not valid JSON in the value starting at line 1, column 1: an unexpected character');
    expect(stderr).not.toContain('SECRET');
  });

  it('prints a command\'s help for help COMMAND', () => {
    expect(cli(['help', 'scan']).stdout).toBe(cli(['scan', '--help']).stdout);
  });
});

describe('misuse', () => {
  it.each([
    ['s3-put.json', 'an S3 event notification'],
    ['sns-s3-put.json', 'an SNS notification'],
    ['sqs-mixed.json', 'an SQS batch'],
    ['eventbridge-object-created.json', 'an EventBridge "Object Created" event from S3'],
  ])('scan on the Lambda event %s says to use invoke and exits 1', (name, kind) => {
    const { code, stderr } = cli(['scan', path.join(ROOT, 'events', name)]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${kind}, which names log files for the function to read, not a CloudTrail log: run it with \`acm-sentinel invoke FILE\``);
  });

  it('invoke on a bare record, lookup-events output or JSON Lines says to use scan, and names the line of a broken event', () => {
    const bare = cli(['invoke', file('bare-record.json', JSON.stringify(record()))]);
    expect({ code: bare.code, hint: bare.stderr.includes('a CloudTrail record, not an event that names log files; scan it with `acm-sentinel scan FILE`') }).toEqual({ code: 2, hint: true });
    const lookup = cli(['invoke', file('lookup.json', JSON.stringify({ Events: [{ CloudTrailEvent: JSON.stringify(record()) }] }))]);
    expect(lookup.stderr).toContain('aws cloudtrail lookup-events output, not an event that names log files; scan it with `acm-sentinel scan FILE`');
    const lines = cli(['invoke', file('two-events.jsonl', `${JSON.stringify(record())}\n${JSON.stringify(record())}\n`)]);
    expect(lines.code).toBe(2);
    expect(lines.stderr).toMatch(/two-events\.jsonl: not valid JSON at line 2, column 1: more text after the end of the document.*invoke takes one event per file/);
    expect(cli(['invoke', file('empty-event.json', '')]).stderr).toContain('empty-event.json: empty; an S3 event notification looks like events/s3-put.json');
  });

  it('invoke on a CloudTrail log says to use scan, and names the shape of an event it cannot use', () => {
    const log = cli(['invoke', path.join(RECORDS_DIR, 'acm-delete-certificate.json')]);
    expect(log.code).toBe(2);
    expect(log.stderr).toContain('scan it with `acm-sentinel scan FILE`');
    const other = cli(['invoke', file('foo.json', '{"foo":"bar"}')]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('an object with keys "foo"');
  });
});

describe('help, version and usage errors', () => {
  it('prints the version with --version, -V and version', () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V', 'version']) expect(cli([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints per-command help with options, environment, exit codes and examples', () => {
    const { code, stdout } = cli(['scan', '--help']);
    expect(code).toBe(0);
    for (const part of ['--fail-on SEVERITY', '--verbose', 'NO_COLOR', 'Exit codes:', 'aws cloudtrail lookup-events']) expect(stdout).toContain(part);
  });

  it('answers a mistyped flag with one line that suggests the right one and points to --help', () => {
    expect(cli(['scan', 'events', '--fail-of', 'high'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: unknown option --fail-of for scan; did you mean --fail-on?\nSee "acm-sentinel scan --help".\n',
    });
  });
});

describe('output on a terminal and in a pipe', () => {
  const log = path.join(RECORDS_DIR, 'acm-export-certificate.hidden.json');

  it('is plain text in a pipe, and no progress line reaches stderr', () => {
    const { stdout, stderr } = cli(['scan', RECORDS_DIR]);
    expect(stdout).toContain('CRITICAL acm-export-certificate');
    expect(stdout + stderr).not.toContain(ESCAPE);
    expect(stderr).not.toContain('\r');
  });

  it('colours severities with FORCE_COLOR, and never with NO_COLOR on its own', () => {
    const forced = cli(['scan', log], { env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain(`${ESCAPE}31m${ESCAPE}1mCRITICAL`);
    expect(cli(['scan', log], { env: { NO_COLOR: '1' } }).stdout).not.toContain(ESCAPE);
  });

  it('shows a progress line on stderr when it is a terminal, and clears it before the summary', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(record({ eventID: `p${i}`, eventSource: 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(1_500) } })));
    const slow = file('progress.jsonl', `${lines.join('\n')}\n`);
    // `script` gives the CLI a terminal, as a person's shell does; its output is what that terminal showed.
    const shown = spawnSync('script', ['-qec', `"${process.execPath}" "${BIN}" scan "${slow}"`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ACM_SENTINEL_CLI_CACHE: cache } });
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/\r\u001b\[2Kscanning: 0 files done, 0 alerts · .*progress\[?\.\]?jsonl \d+%/);
    expect(shown.stdout).toMatch(/\r\u001b\[2K(\u001b\[[0-9;]*m)?scanned 1 file: 20000 records/);
  });

  it('exits 3 with --fail-on when a finding is at or above it, and 0 below it', () => {
    expect(cli(['scan', path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--fail-on', 'high']).code).toBe(3);
    expect(cli(['scan', path.join(RECORDS_DIR, 'acm-delete-certificate.json'), '--fail-on', 'critical']).code).toBe(0);
  });

  it('never colours --format json, whatever is forced', () => {
    const { stdout } = cli(['scan', log, '--format', 'json'], { env: { FORCE_COLOR: '1' } });
    expect(stdout).not.toContain(ESCAPE);
    expect(jsonLines(stdout).map((alert) => alert.ruleId)).toEqual(['acm-export-certificate']);
  });

  it('keeps a hostile file name inert however colour is set', () => {
    const hostile = file(`evil\u001b[2J\u001b]8;;https://example.com\u0007name.json`, JSON.stringify({ Records: [record({ eventID: 'hostile-name' })] }));
    const { stdout, stderr } = cli(['scan', hostile], { env: { FORCE_COLOR: '1' } });
    expect(stdout + stderr).not.toMatch(/\u001b\[2J|\u001b\]8|\u0007/);
  });
});
