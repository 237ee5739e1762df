/**
 * Bounded memory whatever a log file holds: a record, a document read whole, or what follows the
 * Records array fails as soon as it reaches its cap (in bytes, or in JSON values before a full
 * parse), with a named error that says what and where but never quotes the file; a file just
 * under every cap still works; the decompression cap holds at exactly its size. Then child
 * processes stream hostile files of hundreds of MB to 1 GiB and stay under 256 MB of RSS.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { LogObjectReadError } from '../lambda/errors';
import { analyzeLogStream } from '../lambda/core/pipeline/analyze';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import { DecompressedSizeError } from '../lambda/core/scan/decode';
import { scanWatchedRecords } from '../lambda/core/scan/record-scanner';
import { MAX_DOCUMENT_BYTES, MAX_PARSED_VALUES, MAX_RECORD_BYTES } from '../lambda/core/scan/record-splitter';
import { IN_CAPACITY } from '../lambda/core/scan/record-splitter-kernel';
import { DocumentSizeError, LogFormatError, RecordSizeError } from '../lambda/core/scan/records';
import type { ScanStats } from '../lambda/core/types';
import { fillerBelow, type ChildReport, type InputName } from './scan-limits-child';
import { chunked, ROOT } from './support';

const MIB = 1024 * 1024;
const RSS_BUDGET_MB = 256;
const engine = createRuleEngine(DEFAULT_RULE_CONFIG);
const gzipFast = (text: string): Buffer => gzipSync(text, { level: constants.Z_BEST_SPEED });

/** `head`, then `fill` repeated, then `tail`: exactly `length` bytes. */
function exactly(length: number, head: string, tail: string, fill = 'a'): string {
  return `${head}${fill.repeat(length - head.length - tail.length)}${tail}`;
}

/** An ACM record of exactly `length` bytes, most of them one string no redaction pattern matches. */
const acmRecordOf = (length: number): string =>
  exactly(length, '{"eventSource":"acm.amazonaws.com","eventName":"ExportCertificate","eventID":"limits","note":"', '"}', ' ');

/** `{`, `[` and `,`: what the scanner counts as JSON values before a full parse. */
const valueMarks = (text: string): number => text.replace(/[^{[,]/g, '').length;

/** An ACM record whose bytes hold exactly `values` value marks: a list of zeros. */
function acmRecordWithValues(values: number): string {
  const head = '{"eventSource":"acm.amazonaws.com","eventName":"ExportCertificate","eventID":"values","requestParameters":{"zeros":[';
  const tail = ']}}';
  // n zeros add n - 1 commas.
  const zeros = values - valueMarks(head + tail) + 1;
  return `${head}${'0,'.repeat(zeros - 1)}0${tail}`;
}

async function scan(text: string, chunkSize = 64 * 1024): Promise<ScanStats> {
  const stats: ScanStats = { records: 0, acmRecords: 0 };
  for await (const _ of scanWatchedRecords(chunked(Buffer.from(text), chunkSize), stats));
  return stats;
}

async function scanError(text: string, chunkSize = 64 * 1024): Promise<Error> {
  return scan(text, chunkSize).then(
    () => {
      throw new Error('expected the scan to fail');
    },
    (err: Error) => err,
  );
}

async function analyzeError(gzip: Buffer, name: string, maxDecompressedBytes?: number): Promise<LogObjectReadError> {
  return analyzeLogStream(chunked(gzip), { engine, name, maxDecompressedBytes }).then(
    () => {
      throw new Error('expected the analysis to fail');
    },
    (err: LogObjectReadError) => err,
  );
}

describe('a single record', () => {
  it('fails the file with RecordSizeError when one record of the Records array reaches MAX_RECORD_BYTES, in any chunking', async () => {
    // Prepare: a huge string inside an ACM record, exactly at the cap, between two ordinary records.
    const file = `{"Records":[${acmRecordOf(100)},${acmRecordOf(MAX_RECORD_BYTES)},${acmRecordOf(100)}]}`;

    for (const chunkSize of [64 * 1024, IN_CAPACITY + 5, file.length]) {
      // Act
      const err = await scanError(file, chunkSize);

      // Assess: named, says where and what to do, quotes nothing.
      expect(err).toBeInstanceOf(RecordSizeError);
      expect(err).toBeInstanceOf(LogFormatError);
      expect(err.message).toBe(
        'a single record reaches the limit of 8 MiB (the record starting at byte 113); CloudTrail records are a few KB: ' +
          'this file is not a CloudTrail log or is damaged; check what wrote it to the bucket',
      );
      expect(err.message).not.toContain('   ');
    }
  });

  it('reads a record one byte under MAX_RECORD_BYTES, whole and in pieces', async () => {
    const file = `{"Records":[${acmRecordOf(100)},${acmRecordOf(MAX_RECORD_BYTES - 1)},${acmRecordOf(100)}]}`;
    for (const chunkSize of [64 * 1024, file.length]) expect(await scan(file, chunkSize)).toEqual({ records: 3, acmRecords: 3 });
  });

  it('holds a record that cannot be an ACM one, or a bare string in Records, to the same cap', async () => {
    const kms = (length: number) => exactly(length, '{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","note":"', '"}');
    const string = (length: number) => exactly(length, '"', '"');

    for (const element of [kms, string]) {
      expect(await scanError(`{"Records":[${element(MAX_RECORD_BYTES)}]}`)).toBeInstanceOf(RecordSizeError);
      expect(await scan(`{"Records":[${element(MAX_RECORD_BYTES - 1)}]}`)).toEqual({ records: 1, acmRecords: 0 });
    }
  });

  it('fails a record that holds MAX_PARSED_VALUES values before parsing it, and parses one with a value fewer', async () => {
    const err = await scanError(`{"Records":[${acmRecordWithValues(MAX_PARSED_VALUES)}]}`);
    expect(err).toBeInstanceOf(RecordSizeError);
    expect(err.message).toMatch(/^a single record reaches the limit of 250,000 JSON values \(the record starting at byte 12\); /);

    expect(await scan(`{"Records":[${acmRecordWithValues(MAX_PARSED_VALUES - 1)}]}`)).toEqual({ records: 1, acmRecords: 1 });
  });

  it('holds an array in Records that may name ACM to the same count of values', async () => {
    const array = `["acm.amazonaws.com",${'0,'.repeat(MAX_PARSED_VALUES)}0]`;
    expect(await scanError(`{"Records":[${array}]}`)).toBeInstanceOf(RecordSizeError);
  });
});

describe('a document read whole', () => {
  const otherKeyFirst = (length: number) => exactly(length, '{"foo":"', '","Records":[]}');

  it.each([
    ['another key before Records', otherKeyFirst, { records: 0, acmRecords: 0 }],
    ['a bare record with a huge field', acmRecordOf, { records: 1, acmRecords: 1 }],
  ])('fails %s at MAX_DOCUMENT_BYTES and reads it one byte under', async (_, document, underCap) => {
    const err = await scanError(document(MAX_DOCUMENT_BYTES));
    expect(err).toBeInstanceOf(DocumentSizeError);
    expect(err.message).toBe(
      'a document that does not start with {"Records":[ reaches the limit of 8 MiB for one read whole; CloudTrail log files start with ' +
        '{"Records":[ and a single record or EventBridge event is a few KB: this file is not a CloudTrail log or is damaged; check what wrote it to the bucket',
    );

    expect(await scan(document(MAX_DOCUMENT_BYTES - 1))).toEqual(underCap);
  });

  it('fails a document of MAX_PARSED_VALUES values before parsing it', async () => {
    const err = await scanError(acmRecordWithValues(MAX_PARSED_VALUES));
    expect(err).toBeInstanceOf(DocumentSizeError);
    expect(err.message).toMatch(/^a document that does not start with \{"Records":\[ reaches the limit of 250,000 JSON values for one read whole; /);
    expect(await scan(acmRecordWithValues(MAX_PARSED_VALUES - 1))).toEqual({ records: 1, acmRecords: 1 });
  });

  it('holds what follows the Records array to the same caps, and never keeps trailing whitespace', async () => {
    // What is held starts at the first byte after the array that is not whitespace: `,"x":"…"}`.
    const after = (length: number) => `{"Records":[]  ${exactly(length, ',"x":"', '"}')}`;
    const err = await scanError(after(MAX_DOCUMENT_BYTES));
    expect(err).toBeInstanceOf(DocumentSizeError);
    expect(err.message).toMatch(/^the data after the Records array reaches the limit of 8 MiB; CloudTrail log files end with the array's closing \]\}: /);
    expect(await scan(after(MAX_DOCUMENT_BYTES - 1))).toEqual({ records: 0, acmRecords: 0 });

    expect(await scanError(`{"Records":[],"x":[${'0,'.repeat(MAX_PARSED_VALUES)}0]}`)).toBeInstanceOf(DocumentSizeError);
    expect(await scan(`{"Records":[${acmRecordOf(200)}]}${'\n'.repeat(3 * MAX_DOCUMENT_BYTES)}`)).toEqual({ records: 1, acmRecords: 1 });
  });
});

describe('through analyzeLogStream', () => {
  it('names the object and the size error, as for any unreadable file, with nothing of the file in it', async () => {
    const err = await analyzeError(gzipFast(`{"Records":[${acmRecordOf(MAX_RECORD_BYTES)}]}`), 's3://trail/huge.json.gz');

    expect(err).toBeInstanceOf(LogObjectReadError);
    expect(err.cause).toBeInstanceOf(RecordSizeError);
    expect(err.message).toBe(
      's3://trail/huge.json.gz: a single record reaches the limit of 8 MiB (the record starting at byte 12); CloudTrail records are a few KB: ' +
        'this file is not a CloudTrail log or is damaged; check what wrote it to the bucket',
    );
  });

  it('still reads a gzipped file just under every cap', async () => {
    const file = `{"Records":[${acmRecordOf(MAX_RECORD_BYTES - 1)},${acmRecordWithValues(MAX_PARSED_VALUES - 1)}]}`;
    const { stats, empty } = await analyzeLogStream(chunked(gzipFast(file)), { engine, name: 'under.json.gz' });
    expect({ stats, empty }).toEqual({ stats: { records: 2, acmRecords: 2 }, empty: false });
  });

  it('fails a decompression bomb of exactly maxDecompressedBytes, gzip or plain, and reads one byte less', async () => {
    const limit = 3 * MIB + 7;
    const bomb = exactly(limit, '{"Records":[]}', '', '\n');

    for (const body of [gzipFast(bomb), Buffer.from(bomb)]) {
      const err = await analyzeError(body, 'bomb.json.gz', limit);
      expect(err.cause).toBeInstanceOf(DecompressedSizeError);
      expect(err.message).toBe(`bomb.json.gz: decompressed size exceeds the limit of ${limit} bytes (raise MAX_DECOMPRESSED_BYTES if the file is genuine)`);

      const under = await analyzeLogStream(chunked(body), { engine, name: 'bomb.json.gz', maxDecompressedBytes: limit + 1 });
      expect(under.stats).toEqual({ records: 0, acmRecords: 0 });
    }
  });
});

describe('peak memory on hostile files, each streamed in its own process', () => {
  const CHILD = path.join(__dirname, 'scan-limits-child.ts');

  function runChild(name: InputName, size: number): Promise<ChildReport> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, name, String(size)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(JSON.parse(stdout) as ChildReport);
        else reject(new Error(`child ${name} exited ${code}: ${stderr.slice(0, 2000)}`));
      });
    });
  }

  const GIB = 1024 * MIB;
  const cases: [InputName, number, RegExp | { records: number; acmRecords: number }][] = [
    ['huge-string', GIB, /^LogObjectReadError: huge-string\.json\.gz: a single record reaches the limit of 8 MiB/],
    ['not-records-first', 768 * MIB, /^LogObjectReadError: not-records-first\.json\.gz: a document that does not start with \{"Records":\[ reaches the limit of 8 MiB/],
    ['trailing-whitespace', 256 * MIB, { records: 0, acmRecords: 0 }],
    ['widest-record', fillerBelow('widest-record', MAX_RECORD_BYTES), { records: 1, acmRecords: 1 }],
    ['widest-bare-record', fillerBelow('widest-bare-record', MAX_DOCUMENT_BYTES), { records: 1, acmRecords: 1 }],
  ];
  let reports: Map<InputName, ChildReport>;

  beforeAll(async () => {
    // Two at a time, one per core.
    reports = new Map();
    for (let i = 0; i < cases.length; i += 2) {
      const pair = cases.slice(i, i + 2);
      const done = await Promise.all(pair.map(([name, size]) => runChild(name, size)));
      done.forEach((report, j) => reports.set(pair[j]![0], report));
    }
  }, 60_000);

  it.each(cases)(`streams %s (%d filler bytes) with the expected outcome in under ${RSS_BUDGET_MB} MB`, (name, size, expected) => {
    const report = reports.get(name)!;
    if (expected instanceof RegExp) {
      expect(report.error).toMatch(expected);
      // It stopped reading long before the end: only what gunzip had in hand was generated.
      expect(report.generatedBytes).toBeLessThan(size / 2);
    } else {
      expect(report.error).toBeUndefined();
      expect({ records: report.records, acmRecords: report.acmRecords }).toEqual(expected);
    }
    expect(report.maxRssMb).toBeLessThan(RSS_BUDGET_MB);
  });
});
