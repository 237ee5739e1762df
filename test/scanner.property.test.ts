/**
 * The streaming scanner must return exactly what a full parse returns: the same ACM records, in
 * the same order, deep-equal, and the same record count. Checked against JSON.parse +
 * extractRecords + isWatchedRecord on generated files full of hostile strings, written with
 * random whitespace and escaping, and fed in chunks split at arbitrary offsets.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { decodeLogBytes, INPUT_BATCH_BYTES, type InflateMode } from '../lambda/core/scan/decode';
import { scanWatchedRecords, SplitterArea } from '../lambda/core/scan/record-scanner';
import { extractRecords, isWatchedRecord, LogFormatError } from '../lambda/core/scan/records';
import type { ScanStats } from '../lambda/core/types';

const ACM = 'acm.amazonaws.com';
const PCA = 'acm-pca.amazonaws.com';

/** Strings built from the pieces that break naive splitters and filters. */
const hostileString = fc
  .array(
    fc.oneof(
      fc.constantFrom('"', '\\', '\\"', '{', '}', '[', ']', ',', ':', '},{', '"}]}', ACM, PCA, '"aws.acm', 'acm', 'cm', '\\u', '/', ' '),
      fc.constantFrom('\n', '\t', '\u0000', '\u001f', '\u007f', 'é', '東京', '😀', '\u2028', '\ud800'),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

const eventSource = fc.constantFrom(ACM, PCA, ACM, PCA, 's3.amazonaws.com', 'kms.amazonaws.com', `${ACM} `, 'ACM.amazonaws.com', 'acm', PCA.slice(1));

const leaf = fc.oneof(hostileString, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('json'), { maxKeys: 4 }),
  ),
}));

/** A CloudTrail-like record; the ACM event source also turns up inside other records' parameters. */
const record = fc
  .record(
    {
      eventVersion: fc.constant('1.09'),
      eventSource: fc.oneof(eventSource, fc.integer()),
      eventName: fc.oneof(fc.constantFrom('ExportCertificate', 'DeleteCertificate', 'IssueCertificate', 'GetObject'), hostileString, fc.constant(null)),
      requestParameters: fc.oneof(fc.constant(null), fc.dictionary(hostileString, fc.oneof(json, eventSource))),
      userAgent: hostileString,
      extra: json,
    },
    { requiredKeys: ['eventSource'] },
  )
  .map((r) => r as Record<string, unknown>);

const envelope = record.map((detail) => ({ version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.acm', detail }));
const element = fc.oneof({ weight: 8, arbitrary: record }, { weight: 2, arbitrary: envelope }, { weight: 1, arbitrary: json });

/** Writing choices: whitespace between tokens, which characters to write as \u escapes, `\/` for slashes. */
interface Style {
  readonly seed: number;
  readonly whitespace: number;
  readonly escapes: number;
}
const style = fc.record({ seed: fc.integer(), whitespace: fc.constantFrom(0, 0, 0.1, 0.5), escapes: fc.constantFrom(0, 0, 0.05, 0.3) });

function serialize(value: unknown, { seed, whitespace, escapes }: Style): string {
  let state = seed | 0;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
    return ((state >>> 8) & 0xffff) / 0x10000;
  };
  const ws = (): string => (random() < whitespace ? [' ', '\n', '\t', '\r\n  '][Math.floor(random() * 4)]! : '');
  const str = (text: string): string => {
    // Kept literal: an escaped "Records" key is valid, but it sends the file down the slow path.
    if (text === 'Records') return '"Records"';
    let out = '"';
    for (const ch of text) {
      const code = ch.codePointAt(0)!;
      if (random() < escapes) {
        for (const unit of ch.split('')) out += `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
      } else if (ch === '/' && random() < 0.5) out += '\\/';
      else out += code < 0x20 || ch === '"' || ch === '\\' || (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) ? JSON.stringify(ch).slice(1, -1) : ch;
    }
    return `${out}"`;
  };
  const write = (v: unknown): string => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return `[${ws()}${v.map((item) => write(item)).join(`${ws()},${ws()}`)}${ws()}]`;
    if (v && typeof v === 'object') {
      return `{${ws()}${Object.entries(v).map(([k, item]) => `${str(k)}${ws()}:${ws()}${write(item)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    }
    return JSON.stringify(v);
  };
  return write(value);
}

/** A whole log file: `{"Records":[...]}` (sometimes with more members after), a bare record, or a bare envelope. */
const logFile = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.array(element, { maxLength: 12 }), style, fc.option(fc.dictionary(fc.string({ maxLength: 4 }).filter((k) => k !== 'Records'), json, { maxKeys: 2 }))).map(
    ([records, s, more]) => {
      const body = serialize({ Records: records, ...(more ?? {}) }, s);
      return s.whitespace ? `\n ${body} \n` : body;
    },
  ) },
  { weight: 1, arbitrary: fc.tuple(record, style).map(([r, s]) => serialize(r, s)) },
  { weight: 1, arbitrary: fc.tuple(envelope, style).map(([e, s]) => serialize(e, s)) },
);

function* chunked(bytes: Buffer, cuts: readonly number[]): Generator<Buffer> {
  let start = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function* from(chunks: Iterable<Buffer>): AsyncGenerator<Buffer> {
  yield* chunks;
}

type Outcome = { records: unknown[]; stats: ScanStats } | { error: string };

async function scan(chunks: Iterable<Buffer>): Promise<Outcome> {
  return scanned(from(chunks));
}

/** Gzip cut into pieces, inflated on the main thread into the splitter's own input memory, as a function with one CPU or less reads it. */
async function scanInflatedInPlace(gzip: Iterable<Buffer>, inPlace = { chunks: 0 }, inflate: InflateMode = 'main-thread'): Promise<Outcome> {
  const area = new SplitterArea();
  const counted = (): Uint8Array | undefined => {
    const memory = area.area();
    if (memory) inPlace.chunks += 1;
    return memory;
  };
  return scanned(decodeLogBytes(from(gzip), undefined, undefined, { inflate, area: counted }), area);
}

async function scanned(bytes: AsyncIterable<Uint8Array>, area?: SplitterArea): Promise<Outcome> {
  const stats: ScanStats = { records: 0, acmRecords: 0 };
  const records: unknown[] = [];
  try {
    for await (const r of scanWatchedRecords(bytes, stats, { area })) records.push(r);
  } catch (err) {
    if (!(err instanceof LogFormatError)) throw err;
    return { error: 'LogFormatError' };
  }
  return { records, stats };
}

function fullParse(text: string): Outcome {
  try {
    const all = extractRecords(JSON.parse(text));
    const watched = all.filter(isWatchedRecord);
    return { records: watched, stats: { records: all.length, acmRecords: watched.length } };
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof LogFormatError) return { error: 'LogFormatError' };
    throw err;
  }
}

const cuts = fc.oneof(fc.array(fc.nat(), { maxLength: 12 }), fc.nat({ max: 64 }).map((n) => Array.from({ length: 4096 }, (_, i) => i * (n + 1))));

describe('scanWatchedRecords against a full parse', () => {
  it('returns the same ACM records, in order, and the same count, for any file and any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(logFile, cuts, async (text, at) => {
        const bytes = Buffer.from(text, 'utf8');
        expect(await scan(chunked(bytes, at))).toEqual(fullParse(text));
      }),
      { numRuns: 400 },
    );
  });

  it.each<{ inflate: InflateMode; where: string }>([
    { inflate: 'main-thread', where: 'on the main thread' },
    { inflate: 'thread-pool', where: 'on the thread pool' },
  ])('returns the same when gzip is inflated $where into the splitter\'s memory, the file much larger than that memory', async ({ inflate }) => {
    await fc.assert(
      fc.asyncProperty(fc.array(logFile, { minLength: 1, maxLength: 4 }), fc.nat({ max: 3000 }), fc.array(fc.nat(), { maxLength: 12 }), async (texts, filler, at) => {
        // Records of ~1 KB to ~3 KB around the hostile ones: 3 MB in all, so records cross the memory's end; hex
        // notes barely compress, so the gzip is over a batch and the thread pool takes it.
        const note = (i: number) => {
          let state = (i * 2654435761 + filler) | 1;
          let out = '';
          while (out.length < 1000 + filler) {
            state ^= state << 13;
            state ^= state >>> 17;
            state ^= state << 5;
            out += (state >>> 0).toString(16);
          }
          return out;
        };
        const pad = (i: number) => ({ eventSource: 'ec2.amazonaws.com', note: note(i) });
        // The records of generated log files that hold nothing else, as written (escapes and all).
        const inner = texts.map((t) => t.trim()).filter((t) => t.startsWith('{"Records":[') && t.endsWith(']}') && Object.keys(JSON.parse(t) as object).length === 1);
        const acm = JSON.stringify({ eventSource: ACM, eventName: 'DeleteCertificate', note: 'y'.repeat(filler) });
        const body = Array.from({ length: Math.ceil(3_000_000 / (1100 + filler)) }, (_, i) =>
          i % 97 === 5 && inner.length ? inner[i % inner.length]!.slice(12, -2) : i % 89 === 7 ? acm : JSON.stringify(pad(i)));
        // A file of nothing but whitespace between its brackets gives none: two commas in a row would make the file invalid,
        // and the scan would stop in its first chunk, before any is inflated into the splitter's memory.
        const text = `{"Records":[${body.filter((part) => part.trim() !== '').join(',')}]}`;
        const inPlace = { chunks: 0 };
        const expected = fullParse(text);
        const gzip = gzipSync(text);
        if (inflate === 'thread-pool') expect(gzip.length).toBeGreaterThan(INPUT_BATCH_BYTES);
        expect(await scanInflatedInPlace(chunked(gzip, at), inPlace, inflate)).toEqual(expected);
        expect(inPlace.chunks).toBeGreaterThan(0);
      }),
      { numRuns: 15 },
    );
  });

  it('agrees on every small file when inflated on the main thread into the splitter\'s memory, in any chunking of the gzip', async () => {
    await fc.assert(
      fc.asyncProperty(logFile, cuts, async (text, at) => {
        const gzip = gzipSync(Buffer.from(text, 'utf8'));
        expect(await scanInflatedInPlace(chunked(gzip, at))).toEqual(fullParse(text));
      }),
      { numRuns: 200 },
    );
  });

  it('agrees on every file cut short: the same records, or an error in both', async () => {
    await fc.assert(
      fc.asyncProperty(logFile, fc.nat(), fc.nat(), async (text, end, cut) => {
        const bytes = Buffer.from(text, 'utf8').subarray(0, end % (text.length + 1));
        expect(await scan(chunked(bytes, [cut]))).toEqual(fullParse(bytes.toString('utf8')));
      }),
      { numRuns: 300 },
    );
  });

  it('finds the same records when a small hostile file is split at every offset and byte by byte', async () => {
    const text = serialize(
      {
        Records: [
          { eventSource: 's3.amazonaws.com', eventName: 'GetObject', requestParameters: { key: `{"eventSource":"${ACM}"}`, note: 'a\\"}]},{"x' } },
          { eventSource: ACM, eventName: 'ExportCertificate', userAgent: '東京 😀 "quoted" \\ {[' },
          { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.acm', detail: { eventSource: PCA, eventName: 'IssueCertificate' } },
          'a string "acm.amazonaws.com"',
          [1, { eventSource: ACM, eventName: 'InsideAnArray' }],
          { eventSource: ACM, eventName: 'DeleteCertificate', extra: [[[{}]]] },
        ],
      },
      { seed: 7, whitespace: 0.3, escapes: 0.2 },
    );
    const bytes = Buffer.from(text, 'utf8');
    const expected = fullParse(text);
    expect((expected as { stats: ScanStats }).stats).toEqual({ records: 6, acmRecords: 3 });
    for (let at = 0; at <= bytes.length; at++) expect(await scan(chunked(bytes, [at]))).toEqual(expected);
    expect(await scan(chunked(bytes, Array.from({ length: bytes.length }, (_, i) => i)))).toEqual(expected);
  });
});
