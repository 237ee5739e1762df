/**
 * Documents people handle by hand: pasted documentation, JSON Lines exports, Lambda events given
 * to scan. The scanner in lenient mode (the CLI's), and the JSON text helpers under it.
 */
import { escapeControlsInStrings, parseJsonText, positionOf } from '../lambda/core/json-text';
import { gzipSync } from 'node:zlib';
import { decodeLogBytes, type InflateMode } from '../lambda/core/scan/decode';
import { scanWatchedRecords, SplitterArea } from '../lambda/core/scan/record-scanner';
import { MAX_DOCUMENT_BYTES } from '../lambda/core/scan/record-splitter';
import { InvalidJsonError, LambdaEventError, LogFormatError } from '../lambda/core/scan/records';
import { ValueSequenceSplitter } from '../lambda/core/scan/value-sequence';
import type { ScanStats } from '../lambda/core/types';
import { chunked, record } from './support';

async function scan(text: string | Buffer, options: { lenient?: boolean; size?: number } = {}) {
  const stats: ScanStats = { records: 0, acmRecords: 0 };
  const ids: string[] = [];
  for await (const found of scanWatchedRecords(chunked(Buffer.from(text), options.size ?? 64 * 1024), stats, { lenient: options.lenient ?? true })) ids.push(String(found.eventID));
  return { ids, stats };
}

const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a failure'); }, (err: Error) => err);

/** A record as AWS's documentation prints it: its certificate body across raw lines. */
const printed = (eventID: string) => JSON.stringify(record({ eventID, eventName: 'ImportCertificate', requestParameters: { certificate: 'BEGIN@@MIIB@@END' } }), null, 2).replace(/@@/g, '\n');

describe('raw line breaks inside strings', () => {
  it('are escaped, and each repair is remembered where it was', () => {
    expect(escapeControlsInStrings('{"a":"x\ny\tz"}\n')).toEqual({ text: '{"a":"x\\ny\\tz"}\n', at: [7, 9], grew: [1, 1] });
    expect(escapeControlsInStrings('{"a":"x"}\n')).toBeUndefined();
    // A page that wrapped a printed \n after its backslash.
    expect(JSON.parse(escapeControlsInStrings('{"a":"x\\\ny"}')!.text)).toEqual({ a: 'x\ny' });
  });

  it('do not move the line and column of a later problem', () => {
    const text = '{\n  "a": "one\ntwo\u0001three",\n  "b": 1\n  "c": 2\n}';
    expect(() => parseJsonText(text)).toThrow('not valid JSON at line 5, column 3: expected , or } after a value');
  });

  it('in a {"Records":[…]} document are repaired when lenient, and still refused, by byte, when not', async () => {
    const document = `{"Records": [\n${JSON.stringify(record({ eventID: 'before' }))},\n${printed('pasted')}\n]}`;
    expect(await scan(document)).toEqual({ ids: ['before', 'pasted'], stats: { records: 2, acmRecords: 2, repaired: 2 } });
    const strict = await failure(scan(document, { lenient: false }));
    expect(strict).toBeInstanceOf(InvalidJsonError);
    expect(strict.message).toMatch(/^not valid JSON: control character where JSON allows none \(a raw line break or tab inside a string\?\) \(at byte \d+\)$/);
  });

  it('never give a record twice when the break comes after records already read, in any chunking', async () => {
    const document = `{"Records":[${[1, 2, 3].map((i) => JSON.stringify(record({ eventID: `r${i}` }))).join(',')},${printed('r4')}]}`;
    for (const size of [1, 7, 300, 100_000]) expect((await scan(document, { size })).ids).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('past the first 8 MiB of a {"Records":[…]} file are refused by byte, as the Lambda does', async () => {
    const filler = JSON.stringify(record({ eventSource: 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(4_000) } }));
    const many = Array.from({ length: Math.ceil(MAX_DOCUMENT_BYTES / filler.length) + 1 }, () => filler).join(',');
    const err = await failure(scan(`{"Records":[${many},${printed('late')}]}`, { size: 1024 * 1024 }));
    expect(err).toBeInstanceOf(InvalidJsonError);
  });
});

describe('errors a person can find', () => {
  it.each([
    ['a missing comma', '{\n  "a": 1\n  "b": 2\n}', 'line 3, column 3: expected , or } after a value: is a comma missing at the end of the line before'],
    ['a missing closing brace', '{\n  "a": {\n    "b": 1\n  }\n', 'line 4, column 3: the text ends before the document does: is a closing } or ] missing'],
    ['a trailing comma', '{\n  "a": 1,\n}', 'line 3, column 1: expected a property name in double quotes: is there a comma before a closing } or ]'],
    ['a misspelt literal', '{"a": tru}', 'in the value starting at line 1, column 1: an unexpected character: a misspelt true, false or null'],
    ['an unclosed string', '{"a": "x}', 'line 1, column 9: the text ends before the document does'],
  ])('names the line and column of %s, with a hint, and never the text', (_name, text, message) => {
    expect(() => parseJsonText(text)).toThrow(message);
  });

  it('counts lines and columns from where a value starts in its input', () => {
    expect(positionOf('ab\ncd', 4, { line: 10, column: 5 })).toEqual({ line: 11, column: 2 });
    expect(positionOf('abcd', 2, { line: 10, column: 5 })).toEqual({ line: 10, column: 7 });
  });
});

describe('log files written one after another (zcat *.json.gz)', () => {
  const file = (prefix: string, count: number) => JSON.stringify({ Records: Array.from({ length: count }, (_, i) => record({ eventID: `${prefix}${i}`, eventSource: i === 0 ? 'acm.amazonaws.com' : 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(2_000) } })) });

  it('are each split by the kernel when lenient, however large and however the bytes are cut', async () => {
    // Three files, together past what a text re-read may hold.
    const text = `${file('a', 1_500)}\n${file('b', 1_500)}${file('c', 1_500)}\n`;
    expect(text.length).toBeGreaterThan(MAX_DOCUMENT_BYTES);
    for (const size of [1024 * 1024, 65_537]) expect(await scan(text, { size })).toEqual({ ids: ['a0', 'b0', 'c0'], stats: { records: 4_500, acmRecords: 3 } });
  });

  it('go on past a document between them that is not CloudTrail, and name it', async () => {
    const ids: string[] = [];
    const reading = (async () => {
      for await (const found of scanWatchedRecords(chunked(Buffer.from(`${file('a', 2)}\n{"foo":1}\n${file('b', 2)}`), 64), { records: 0, acmRecords: 0 }, { lenient: true })) ids.push(String(found.eventID));
    })();
    await expect(reading).rejects.toThrow(/^not a CloudTrail record: value 2, at line \d+, column 1, is an object with keys "foo"$/);
    expect(ids).toEqual(['a0', 'b0']);
  });

  it('are refused by the Lambda, which reads one log file per object', async () => {
    await expect(scan(`${file('a', 2)}${file('b', 2)}`, { lenient: false })).rejects.toThrow(/^not valid JSON: unexpected data after the end of the document \(at byte \d+\)$/);
  });
});

describe('JSON Lines and records written one after another', () => {
  const lines = ['a', 'b', 'c'].map((id) => JSON.stringify(record({ eventID: id })));

  it('split into the same values in any chunking, with the line each starts on', () => {
    const text = Buffer.from(`\ufeff${lines[0]}\r\n\r\n${lines[1]}${lines[2]}\n`);
    for (const size of [1, 2, 5, 64, text.length]) {
      const splitter = new ValueSequenceSplitter(MAX_DOCUMENT_BYTES);
      const values = [];
      for (let i = 0; i < text.length; i += size) values.push(...splitter.write(text.subarray(i, i + size)));
      expect(splitter.end()).toEqual({ values: 3 });
      expect(values.map((value) => [value.bytes.toString(), value.start, value.index])).toEqual([
        [lines[0], { line: 1, column: 1 }, 1],
        [lines[1], { line: 3, column: 1 }, 2],
        [lines[2], { line: 3, column: lines[1]!.length + 1 }, 3],
      ]);
    }
  });

  it('are read in memory that does not grow with the file, one value at a time, by the CLI; the Lambda reads text whole, up to one document', async () => {
    const big = JSON.stringify(record({ eventSource: 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(100_000) } }));
    const text = `${Array.from({ length: 120 }, () => big).join('\n')}\n${lines[0]}\n`;
    expect(text.length).toBeGreaterThan(MAX_DOCUMENT_BYTES);
    expect(await scan(text, { lenient: true, size: 1024 * 1024 })).toEqual({ ids: ['a'], stats: { records: 121, acmRecords: 1 } });
    await expect(scan(text, { lenient: false, size: 1024 * 1024 })).rejects.toThrow(/^a document that does not start with \{"Records":\[ reaches the limit of 8 MiB/);
    const splitter = new ValueSequenceSplitter(1_000);
    expect(() => splitter.write(Buffer.from(`{"a":"${'x'.repeat(1_000)}`))).toThrow(/reaches the limit of 1000 bytes/);
  });

  it('are read past a broken record by the CLI, which names it at the end; the Lambda stops at it', async () => {
    const text = `${lines[0]}\n{"eventID": tru}\n${lines[1]}\n`;
    const ids: string[] = [];
    const reading = (async () => {
      for await (const found of scanWatchedRecords(chunked(Buffer.from(text), 7), { records: 0, acmRecords: 0 }, { lenient: true })) ids.push(String(found.eventID));
    })();
    await expect(reading).rejects.toThrow(/^not valid JSON in the value starting at line 2, column 1: an unexpected character/);
    expect(ids).toEqual(['a', 'b']);
    await expect(scan(text, { lenient: false })).rejects.toThrow(/^not valid JSON in the value starting at line 2, column 1/);
  });

  it('lose only the line of a truncated record, whatever quotes and brackets it left open', async () => {
    for (const cut of [40, 61, 90]) {
      const text = `${lines[0]}\n${lines[1]!.slice(0, cut)}\n${lines[1]}\n{"eventID":"bad}\n${lines[2]}\n`;
      const ids: string[] = [];
      const reading = (async () => {
        for await (const found of scanWatchedRecords(chunked(Buffer.from(text), 13), { records: 0, acmRecords: 0 }, { lenient: true })) ids.push(String(found.eventID));
      })();
      await expect(reading).rejects.toThrow(/^not valid JSON at line 2, column \d+: the record on this line ends before it is complete \(JSON Lines hold one record per line\) \(and 1 more value or line that could not be read; the others were\)$/);
      expect(ids).toEqual(['a', 'b', 'c']);
    }
  });

  it('name the line of text that starts no value', async () => {
    await expect(scan(`${lines[0]}\nwhat is this\n`)).rejects.toThrow('not valid JSON at line 2, column 1: text after value 1 that starts no other value');
    await expect(scan(`${lines[0]}\nwhat is this\n`, { lenient: false })).rejects.toThrow('not valid JSON at line 2, column 1: text after value 1 that starts no other value');
  });
});

describe('Lambda events given to scan', () => {
  const s3Event = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'trail' }, object: { key: 'AWSLogs/x.json.gz', size: 1 } } }] };

  it('are refused as what they are when lenient, pretty-printed or not', async () => {
    for (const text of [JSON.stringify(s3Event), JSON.stringify(s3Event, null, 2), JSON.stringify({ 'detail-type': 'Object Created', source: 'aws.s3', detail: { bucket: { name: 'b' }, object: { key: 'k' } } })]) {
      const err = await failure(scan(text));
      expect(err).toBeInstanceOf(LambdaEventError);
      expect(err.message).toMatch(/^an? (S3 event notification|EventBridge "Object Created" event from S3), which names log files for the function to read, not a CloudTrail log: run it with `acm-sentinel invoke FILE`$/);
    }
  });

  it('are not refused by the Lambda, which reads logs only, nor is a log that merely mentions aws:s3', async () => {
    expect((await scan(JSON.stringify(s3Event), { lenient: false })).stats).toEqual({ records: 1, acmRecords: 0 });
    const log = JSON.stringify({ Records: [record({ eventID: 'mentions', requestParameters: { eventSource: 'aws:s3', s3: {} } })] });
    expect((await scan(log)).ids).toEqual(['mentions']);
    const otherService = JSON.stringify({ Records: [record({ eventSource: 's3.amazonaws.com', eventName: 'PutObject' })] });
    expect((await scan(otherService)).stats).toEqual({ records: 1, acmRecords: 0 });
  });

  it('is a LogFormatError, so a folder scan passes over it', () => {
    expect(new LambdaEventError('an S3 event notification')).toBeInstanceOf(LogFormatError);
  });
});

describe('a document read again as text after the splitter found it broken, gzip inflated into the splitter\'s memory', () => {
  /** What the CLI's lenient scan gives, from gzip inflated the given way. */
  async function lenientScan(gzip: Buffer, inflate: InflateMode) {
    const stats: ScanStats = { records: 0, acmRecords: 0 };
    const ids: string[] = [];
    const area = new SplitterArea();
    try {
      for await (const found of scanWatchedRecords(decodeLogBytes(chunked(gzip, 256 * 1024), Infinity, undefined, { inflate, area: area.area }), stats, { lenient: true, area })) ids.push(String(found.eventID));
    } catch (err) {
      return { ids, stats, error: (err as Error).message };
    }
    return { ids, stats };
  }

  it('reads the rest of the input into memory of its own, so what it finds is what the streaming gunzip gives', async () => {
    // lookup-events output whose first entry names ACM but holds no record (the splitter stops there), then MBs of entries, some ACM.
    const events = Array.from({ length: 4_000 }, (_, i) => {
      const one = record({ eventID: `e-${i}`, eventSource: i % 1_500 === 1_499 ? 'acm.amazonaws.com' : 'ec2.amazonaws.com', requestParameters: { pad: 'x'.repeat(900 + (i % 7)) } });
      return i === 0 ? { EventId: 'e-0', EventSource: 'acm.amazonaws.com' } : { EventId: one.eventID, CloudTrailEvent: JSON.stringify(one) };
    });
    const gzip = gzipSync(JSON.stringify({ Events: events }));
    const expected = await lenientScan(gzip, 'stream');
    expect(expected).toMatchObject({ ids: ['e-1499', 'e-2999'], error: expect.stringContaining('lookup-events entry 1 of the value at line 1') });
    expect(await lenientScan(gzip, 'main-thread')).toEqual(expected);
    expect(await lenientScan(gzip, 'thread-pool')).toEqual(expected);
  });
});
