/**
 * The streaming scanner on the shapes and failures users meet: CloudTrail files in any chunking,
 * bare records and EventBridge envelopes, records bigger than the scanner's window, and broken
 * files, whose errors say where but never quote what.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildAlert } from '../lambda/core/alerts/alert';
import { analyzeLogStream, MAX_ALERT_BYTES_PER_OBJECT, MAX_ALERTS_PER_OBJECT } from '../lambda/core/pipeline/analyze';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import { scanWatchedRecords } from '../lambda/core/scan/record-scanner';
import { RecordSplitter } from '../lambda/core/scan/record-splitter';
import { IN_CAPACITY } from '../lambda/core/scan/record-splitter-kernel';
import { kernelModuleText } from '../lambda/core/scan/record-splitter-kernel-source';
import { extractRecords, isWatchedRecord, LogFormatError, NotCloudTrailError } from '../lambda/core/scan/records';
import type { ScanStats } from '../lambda/core/types';
import { chunked, record } from './support';

async function scan(bytes: Uint8Array | string, size = 64 * 1024) {
  const stats: ScanStats = { records: 0, acmRecords: 0 };
  const records: unknown[] = [];
  for await (const r of scanWatchedRecords(chunked(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, size), stats)) records.push(r);
  return { records, stats };
}

async function scanError(bytes: Uint8Array | string, size = 64 * 1024): Promise<Error> {
  return scan(bytes, size).then(
    () => {
      throw new Error('expected the scan to fail');
    },
    (err: Error) => err,
  );
}

const kms = record({ eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', eventID: 'kms' });
const exportCert = record({ eventName: 'ExportCertificate', eventID: 'export' });
const issue = record({ eventSource: 'acm-pca.amazonaws.com', eventName: 'IssueCertificate', eventID: 'issue' });
const envelope = (detail: object) => ({ version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.acm', detail });

describe('scanWatchedRecords', () => {
  it('yields the ACM and ACM PCA records of a CloudTrail file in order, and counts every record', async () => {
    const file = JSON.stringify({ Records: [kms, exportCert, kms, issue, kms] });
    expect(await scan(file)).toEqual({ records: [exportCert, issue], stats: { records: 5, acmRecords: 2 } });
  });

  it('never reports text inside another record as a finding', async () => {
    const decoy = record({
      eventSource: 'kms.amazonaws.com',
      eventName: 'Decrypt',
      userIdentity: { type: 'AWSService', invokedBy: 'acm.amazonaws.com' },
      requestParameters: { note: '{"eventSource":"acm.amazonaws.com","eventName":"ExportCertificate"}', '"eventSource"': 'acm-pca.amazonaws.com' },
    });
    expect(await scan(JSON.stringify({ Records: [decoy, decoy] }))).toEqual({ records: [], stats: { records: 2, acmRecords: 0 } });
  });

  it('reads an event source written with \\u escapes the way JSON.parse does', async () => {
    const file = JSON.stringify({ Records: [exportCert] }).replace('"acm.amazonaws.com"', '"\\u0061\\u0063\\u006d.amazonaws.com"');
    expect(await scan(file)).toEqual({ records: [exportCert], stats: { records: 1, acmRecords: 1 } });
  });

  it('finds an event source with JSON whitespace around its colon, or named again later in the record, as JSON.parse reads it', async () => {
    const spaced = JSON.stringify({ Records: [kms, exportCert] }).replace('"eventSource":"acm.amazonaws.com"', '"eventSource" \r\n:\t "acm.amazonaws.com"');
    expect(await scan(spaced)).toEqual({ records: [exportCert], stats: { records: 2, acmRecords: 1 } });
    // JSON.parse keeps the last of a repeated member: the first says KMS, the second ACM PCA.
    const repeated = `{"Records":[${JSON.stringify(kms).replace(/}$/, ',"eventSource":"acm-pca.amazonaws.com"}')}]}`;
    expect((await scan(repeated)).records).toEqual([{ ...kms, eventSource: 'acm-pca.amazonaws.com' }]);
    const inEnvelope = JSON.stringify({ Records: [envelope(issue)] }).replace('"eventSource":', '"eventSource"\n  :  ');
    expect((await scan(inEnvelope)).records).toEqual([issue]);
  });

  it('unwraps EventBridge envelopes inside Records, and accepts a bare record or a bare envelope', async () => {
    expect((await scan(JSON.stringify({ Records: [envelope(exportCert), kms] }))).records).toEqual([exportCert]);
    expect(await scan(JSON.stringify(exportCert))).toEqual({ records: [exportCert], stats: { records: 1, acmRecords: 1 } });
    expect(await scan(JSON.stringify(envelope(issue)))).toEqual({ records: [issue], stats: { records: 1, acmRecords: 1 } });
  });

  it('finds the same records whether the bytes arrive whole, byte by byte, or split inside a multi-byte character', async () => {
    const file = JSON.stringify({ Records: [record({ eventName: 'ExportCertificate', userAgent: 'café 東京 😀' }), kms] }, null, 2);
    const whole = await scan(file);
    expect(whole.stats).toEqual({ records: 2, acmRecords: 1 });
    expect(await scan(file, 1)).toEqual(whole);
    const bytes = Buffer.from(file);
    const inside = bytes.indexOf(Buffer.from('東')) + 1;
    for (const size of [inside, inside + 1, 3, 5]) expect(await scan(bytes, size)).toEqual(whole);
  });

  it('handles records larger than the scanning window, and chunks larger than it', async () => {
    const big = record({ eventName: 'ImportCertificate', requestParameters: { tags: 'x'.repeat(IN_CAPACITY * 2 + 17) } });
    const file = JSON.stringify({ Records: [kms, big, exportCert] });
    const expected = { records: [big, exportCert], stats: { records: 3, acmRecords: 2 } };
    expect(await scan(file, file.length)).toEqual(expected);
    expect(await scan(file, 100_003)).toEqual(expected);
  });

  it('keeps members after Records, as a full parse would', async () => {
    expect(await scan(JSON.stringify({ Records: [exportCert], digest: { files: [1, 2] } }))).toEqual({ records: [exportCert], stats: { records: 1, acmRecords: 1 } });
    expect(await scan(JSON.stringify({ version: 1, Records: [exportCert] }))).toEqual({ records: [exportCert], stats: { records: 1, acmRecords: 1 } });
  });

  it('counts values in Records that are not records, as a full parse does, however they are split', async () => {
    const file = '{"Records":[1000000000\r\n  , "two", null, [3], {"x":4}, true, -5.5e3 ]}';
    for (const size of [1, 2, 3, 5, 7, 64]) expect(await scan(file, size)).toEqual({ records: [], stats: { records: 7, acmRecords: 0 } });
  });

  it('reads past nesting three million levels deep, as JSON.parse does', async () => {
    // In a record that is no candidate: deeper than the kernel's memory is long.
    const depth = 3_000_000;
    const file = `{"Records":[{"eventSource":"ec2.amazonaws.com","deep":${'['.repeat(depth)}${']'.repeat(depth)}},${JSON.stringify(exportCert)}]}`;
    expect((await scan(file, 1024 * 1024)).stats).toEqual({ records: 2, acmRecords: 1 });
  });

  it('counts, without reading, a record with no sign of ACM whose brackets balance but do not match (CloudTrail never writes one)', async () => {
    const file = `{"Records":[{"eventSource":"ec2.amazonaws.com","a":["x"}},${JSON.stringify(exportCert)}]}`;
    expect((await scan(file)).stats).toEqual({ records: 2, acmRecords: 1 });
  });

  it.each([
    ['its event source', '"eventName":"DeleteCertificate","eventSource":"acm.amazonaws.com","x":{"a":1}'],
    ['a \\u escape', '"eventName":"DeleteCertificate","eventSource":"\\u0061\\u0063\\u006d.amazonaws.com","x":{"a":1}'],
  ])('finds an ACM record whose only sign of ACM, %s, is in a block that ends with a bracket, at every alignment', async (_name, members) => {
    // The record's bytes move one place at a time through the kernel's 64-byte blocks, so its `{` ends a block once.
    for (let pad = 0; pad < 64; pad++) {
      const file = `{"Records":[{"eventSource":"ec2.amazonaws.com","p":"${'x'.repeat(pad)}"},{${members}}]}`;
      expect({ pad, stats: (await scan(file)).stats }).toEqual({ pad, stats: { records: 2, acmRecords: 1 } });
    }
  });

  it('accepts deep nesting, as JSON.parse does', async () => {
    const depth = 100_000;
    const file = `{"Records":[${JSON.stringify(exportCert).slice(0, -1)},"deep":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    expect((await scan(file)).stats).toEqual({ records: 1, acmRecords: 1 });
  });
});

describe('scanWatchedRecords on broken files', () => {
  const secret = 'SECRET-PASSPHRASE-0123';

  it.each([
    ['cut short inside a record', `{"Records":[{"a":"${secret}"`, /not valid JSON: the document ends inside the Records array \(at byte 41\)/],
    ['cut short after the array', '{"Records":[]', /not valid JSON: the document ends before its closing brace/],
    ['a raw line break in a string', `{"Records":[{"a":"${secret}\n"}]}`, /not valid JSON: control character where JSON allows none \(a raw line break or tab inside a string\?\) \(at byte 40\)/],
    ['a bad escape', `{"Records":[{"a":"\\x${secret}"}]}`, /not valid JSON: invalid escape sequence in a string \(at byte 19\)/],
    ['a \\u escape with too few digits', `{"Records":[{"a":"\\u12${secret}"}]}`, /not valid JSON: invalid escape sequence in a string \(at byte 22\)/],
    ['a backslash outside strings', `{"Records":[{"a":\\"${secret}"}]}`, /not valid JSON: backslash outside a string \(at byte 17\)/],
    ['brackets that do not balance', `{"Records":[{"a":["${secret}"}]}`, /not valid JSON: unexpected character in the Records array \(at byte 44\)/],
    ['mismatched brackets in a record that may be ACM', `{"Records":[{"eventSource":"acm.amazonaws.com","a":["${secret}"}}]}`, /not valid JSON: invalid record \(the record starting at byte 12\)/],
    ['a missing comma between records', `{"Records":[{"a":"${secret}"} {}]}`, /not valid JSON: unexpected character in the Records array \(at byte 43\)/],
    ['a trailing comma', `{"Records":[{"a":"${secret}"},]}`, /not valid JSON: unexpected character in the Records array \(at byte 43\)/],
    ['an invalid value in Records', `{"Records":[nul, "${secret}"]}`, /not valid JSON: invalid value in the Records array \(at byte 12\)/],
    ['data after the document', `{"Records":[]} ${secret}`, /not valid JSON: unexpected data after the end of the document \(at byte 15\)/],
    ['an invalid ACM record', `{"Records":[{"eventSource":"acm.amazonaws.com","a":tru,"b":"${secret}"}]}`, /not valid JSON: invalid record \(the record starting at byte 12\)/],
    ['not JSON at all', `${secret} is not JSON`, /^not valid JSON at line 1, column 1: expected \{ or \[/],
  ])('rejects a file with %s, saying where but not what', async (_name, file, message) => {
    const err = await scanError(file);
    expect(err).toBeInstanceOf(LogFormatError);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain(secret);
    expect(await scanError(file, 1)).toMatchObject({ message: err.message });
  });

  it('rejects every proper prefix of a file, as a full parse does', async () => {
    const file = JSON.stringify({ Records: [exportCert, '\\"', [1, 2, { x: '}' }], envelope(issue)] });
    for (let end = 0; end < file.length; end++) {
      expect(await scanError(file.slice(0, end), 7)).toBeInstanceOf(LogFormatError);
    }
  });

  it('rejects JSON that is not CloudTrail', async () => {
    expect(await scanError(JSON.stringify({ Type: 'Notification' }))).toBeInstanceOf(NotCloudTrailError);
    expect(await scanError('{"Records": 5}')).toBeInstanceOf(NotCloudTrailError);
  });

  it('refuses a second Records member rather than report records a full parse would drop', async () => {
    const err = await scanError(JSON.stringify({ Records: [exportCert] }).replace(/}$/, ',"Records":[]}'));
    expect(err.message).toBe('not a CloudTrail log: the document has more than one "Records" member');
  });

  it('leaves nothing behind between files: a broken file does not affect the next', async () => {
    await scanError('{"Records":[{"a":"\\');
    const splitter = new RecordSplitter();
    expect(splitter.write(Buffer.from('{"Records":[{"eventSource":"acm.amazonaws.com"}]}'))).toMatchObject({ records: 1, candidates: [expect.anything()] });
    expect(splitter.end()).toBeUndefined();
  });
});

describe('analyzeLogStream with the streaming scanner', () => {
  it('raises the same alerts as a full parse of the same gzipped file', async () => {
    const records = [kms, exportCert, envelope(record({ eventName: 'DeleteCertificate', eventID: 'del' })), issue, record({ eventSource: 'acm-pca.amazonaws.com', eventName: 'RevokeCertificate', eventID: 'revoke' })];
    const document = { Records: records };
    const engine = createRuleEngine(DEFAULT_RULE_CONFIG);
    const expected = extractRecords(document)
      .filter(isWatchedRecord)
      .flatMap((r) => {
        const verdict = engine.evaluate(r);
        return verdict?.alert ? [buildAlert(r, verdict.rule, 'f.json.gz')] : [];
      });
    expect(expected.length).toBeGreaterThan(1);
    for (const size of [1, 10, 4096]) {
      const result = await analyzeLogStream(chunked(gzipSync(JSON.stringify(document)), size), { engine, name: 'f.json.gz' });
      expect(result.alerts).toEqual(expected);
      expect(result.stats).toEqual({ records: 5, acmRecords: 4 });
    }
  });
});

describe('alerts held per log file', () => {
  const engine = createRuleEngine(DEFAULT_RULE_CONFIG);
  const file = (count: number, extra: Partial<Parameters<typeof record>[0]> = {}) =>
    gzipSync(JSON.stringify({ Records: Array.from({ length: count }, (_, i) => record({ eventID: `many-${i}`, eventName: 'ExportCertificate', ...extra })) }));

  it('reads a file of exactly the most alerts it holds, and fails by name on one more, quoting nothing', async () => {
    expect((await analyzeLogStream(chunked(file(50)), { engine, name: 'full.json.gz', maxAlerts: 50 })).alerts).toHaveLength(50);
    await expect(analyzeLogStream(chunked(file(51)), { engine, name: 'over.json.gz', maxAlerts: 50 })).rejects.toThrow(
      /^over\.json\.gz: more than 50 alerts in one log file; a CloudTrail file of five minutes holds far fewer/,
    );
  });

  it('counts the size of the alerts too, so forged alerts with every field at its budget stop early', async () => {
    const forged = file(40, { userAgent: 'agent '.repeat(1000), errorCode: 'AccessDenied', errorMessage: 'denied '.repeat(1000) });
    await expect(analyzeLogStream(chunked(forged), { engine, name: 'big.json.gz', maxAlertBytes: 64 * 1024 })).rejects.toThrow(/big\.json\.gz: more than 0\.063 MiB of alerts in one log file/);
    expect(MAX_ALERTS_PER_OBJECT).toBe(20_000);
    expect(MAX_ALERT_BYTES_PER_OBJECT).toBe(64 * 1024 * 1024);
  });
});

describe('the kernel bytes the scanner loads', () => {
  it('are what the kernel source builds (run `npm run build:kernel` after changing the source)', () => {
    expect(readFileSync(path.join(__dirname, '..', 'lambda', 'core', 'scan', 'record-splitter-kernel-wasm.ts'), 'utf8')).toBe(kernelModuleText());
  });
});

describe('exports that are not one JSON document', () => {
  const rec = (eventID: string, eventName = 'DeleteCertificate') => ({
    eventVersion: '1.09', eventID, eventTime: '2025-03-14T09:00:00Z', eventSource: 'acm.amazonaws.com', eventName, awsRegion: 'us-east-1', recipientAccountId: '111122223333',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice' }, requestParameters: { note: 'braces } and { "quotes" inside a string' },
  });
  const scanText = async (text: string) => {
    const stats = { records: 0, acmRecords: 0 };
    const ids: string[] = [];
    for await (const record of scanWatchedRecords((async function* () { yield Buffer.from(text); })(), stats)) ids.push(String(record.eventID));
    return { ids, stats };
  };

  it('reads JSON Lines, and records written one after another without line breaks', async () => {
    expect((await scanText(`${JSON.stringify(rec('l1'))}\n${JSON.stringify(rec('l2'))}\n`)).ids).toEqual(['l1', 'l2']);
    expect((await scanText(`${JSON.stringify(rec('c1'))}${JSON.stringify(rec('c2'))} ${JSON.stringify({ Records: [rec('c3')] })}`)).ids).toEqual(['c1', 'c2', 'c3']);
  });

  it('reads the output of aws cloudtrail lookup-events, whose records are JSON strings', async () => {
    const output = { Events: [{ EventId: 'e1', EventName: 'DeleteCertificate', CloudTrailEvent: JSON.stringify(rec('e1')) }, { EventId: 'e2', CloudTrailEvent: JSON.stringify(JSON.stringify(rec('e2'))) }, { EventId: 'e3', CloudTrailEvent: rec('e3') }] };
    expect((await scanText(JSON.stringify(output))).ids).toEqual(['e1', 'e2', 'e3']);
    expect(await scanText(JSON.stringify({ Events: [] }))).toEqual({ ids: [], stats: { records: 0, acmRecords: 0 } });
  });

  it('gives the readable entries of lookup-events output, then names an unreadable one that may be ACM by its place', async () => {
    const output = { Events: [{ CloudTrailEvent: JSON.stringify(rec('good')) }, { CloudTrailEvent: '{"eventSource":"acm.amazonaws.com","password":"SECRET-VALUE-1' }, { CloudTrailEvent: 123 }] };
    for (const lenient of [false, true]) {
      const ids: string[] = [];
      const stats = { records: 0, acmRecords: 0 };
      const scanning = (async () => {
        for await (const record of scanWatchedRecords((async function* () { yield Buffer.from(JSON.stringify(output)); })(), stats, { lenient })) ids.push(String(record.eventID));
      })();
      await expect(scanning).rejects.toThrow(
        lenient
          ? /^not a CloudTrail record: lookup-events entries 2, 3 of the value at line 1, column 1 have no CloudTrailEvent that reads as a record$/
          : /^not a CloudTrail record: the lookup-events entry starting at byte \d+ has no CloudTrailEvent that reads as a record$/,
      );
      expect(ids).toEqual(['good']);
    }
  });

  it('names the value that is broken in a sequence, and still refuses text that is no sequence', async () => {
    await expect(scanText(`${JSON.stringify(rec('ok'))}\n{"eventSource": tru}\n`)).rejects.toThrow(/^not valid JSON in the value starting at line 2, column 1: an unexpected character/);
    await expect(scanText(`${JSON.stringify(rec('ok'))}\n  {"eventSource": "x" "y"}\n`)).rejects.toThrow(/^not valid JSON at line 2, column 23: expected , or \} after a value/);
    await expect(scanText(`${JSON.stringify(rec('ok'))}\n{"settings": true}\n`)).rejects.toThrow(/^not a CloudTrail record: value 2, at line 2, column 1, is an object with keys "settings"$/);
    await expect(scanText('{"a":1} trailing words')).rejects.toThrow(/not a CloudTrail log/);
    await expect(scanText(`${JSON.stringify(rec('ok'))} trailing words`)).rejects.toThrow(/^not valid JSON at line 1, column \d+: text after value 1 that starts no other value/);
  });
});

describe('documentation examples pasted as printed', () => {
  it('reads a record whose certificate body spans several raw lines, as AWS prints it', async () => {
    const printed = '{"eventVersion":"1.09","eventID":"pasted-1","eventTime":"2025-03-14T09:00:00Z","eventSource":"acm.amazonaws.com","eventName":"ImportCertificate",' +
      '"awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"},' +
      '"requestParameters":{"certificate":"-----BEGIN CERTIFICATE-----\nMIIB\tfake\r\n-----END CERTIFICATE-----"}}';
    const stats = { records: 0, acmRecords: 0 };
    const records = [];
    for await (const record of scanWatchedRecords((async function* () { yield Buffer.from(printed); })(), stats)) records.push(record);
    expect(records.map((record) => (record.requestParameters as { certificate: string }).certificate)).toEqual(['-----BEGIN CERTIFICATE-----\nMIIB\tfake\r\n-----END CERTIFICATE-----']);
  });
});
