/**
 * Room `scan/`: bytes in, CloudTrail records out. decode.ts gunzips a stream under a size cap,
 * record-splitter.ts and its WebAssembly kernel (record-splitter-kernel*.ts, built with
 * wasm-builder.ts) split a log file into records without parsing it, records.ts knows the
 * document shapes, and this file joins them: the ACM and ACM Private CA records of one file.
 */
import { WATCHED_EVENT_SOURCES, type CloudTrailRecord, type ScanStats } from '../types';
import { isWhitespace, MAX_DOCUMENT_BYTES, MAX_PARSED_VALUES, mayHoldTooManyValues, RecordSplitter, type Candidate } from './record-splitter';
import { keepable } from './record-splitter-kernel';
import { describeShape, lambdaEventKind } from '../ingest/deliveries';
import { describePosition, JsonTextError, parseJsonText } from '../json-text';
import { DocumentSizeError, extractRecords, InvalidJsonError, isWatchedRecord, LambdaEventError, LogFormatError, lookupEventRecord, NotCloudTrailError, RecordSizeError, UnreadableEntry, unwrapEnvelope } from './records';
import { ValueSequenceSplitter, type SequenceValue } from './value-sequence';

/** How the bytes of one input are read. */
export interface ScanOptions {
  /**
   * For documents people handle by hand (the CLI's `scan`): a `{"Records":[` document that the
   * streaming splitter finds broken within its first MAX_DOCUMENT_BYTES is read again as JSON
   * text, so raw line breaks pasted from AWS's documentation are repaired and any other problem
   * is named by line and column; and a Lambda event (S3, SNS, SQS, EventBridge `Object Created`)
   * is refused as one (LambdaEventError) rather than read as a log that holds nothing.
   * Holds on to the first MAX_DOCUMENT_BYTES of the input until it is read. @default false
   */
  readonly lenient?: boolean;
  /** Set to each splitter as it is made, so the decoder can inflate into its input memory (DecodeOptions.area). */
  readonly area?: SplitterArea;
}

/** The input memory of the splitter that takes the next chunk, for DecodeOptions.area. */
export class SplitterArea {
  splitter: RecordSplitter | undefined;
  readonly area = (): Uint8Array | undefined => this.splitter?.inputArea();
}

/** A `{"Records":[` input this small, that raised nothing, is checked for being a Lambda event (lenient only). */
const EVENT_CHECK_BYTES = 256 * 1024;

/**
 * The ACM and ACM Private CA records of one decompressed log file, in file order. Counts every
 * record seen into `stats`. Throws LogFormatError when the bytes are not a CloudTrail log, and
 * its RecordSizeError or DocumentSizeError when a part too large to hold or parse reaches its cap
 * (see record-splitter.ts), so memory stays bounded whatever the file holds.
 *
 * A CloudTrail file (`{"Records":[...]}`) is split into records as it streams, in memory that
 * does not grow with the file; only records whose bytes could name ACM are parsed, and each is
 * confirmed on the parsed object, so text inside other records never counts. Records are
 * yielded as they are found: when a later part of the file turns out to be invalid, this throws
 * after them, and the file must be treated as unreadable as a whole (as analyzeLogStream does).
 * `aws cloudtrail lookup-events` output (`{"Events":[...]}`) is split the same way, each entry's
 * CloudTrailEvent read as the record. Any other JSON text (a bare record, an EventBridge
 * envelope, JSON Lines or records written one after another) is read value by value as it
 * streams (value-sequence.ts), each value parsed whole.
 */
export async function* scanWatchedRecords(
  bytes: AsyncIterable<Uint8Array>,
  stats: ScanStats,
  options: ScanOptions = {},
): AsyncGenerator<CloudTrailRecord> {
  let splitter = new RecordSplitter(options.lenient);
  if (options.area) options.area.splitter = splitter;
  const iterator = bytes[Symbol.asyncIterator]();
  const kept = options.lenient ? new KeptBytes(MAX_DOCUMENT_BYTES) : undefined;
  let yielded = 0;
  // What the splitter hands over when the input is no `{"Records":[` or `{"Events":[` file, and the rest of the input after it.
  let document: { head: readonly Uint8Array[]; rest: AsyncIterator<Uint8Array> | undefined } | undefined;
  // Log files already read before the current one (lenient: files written one after another).
  let before = 0;
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      let chunk = next.value;
      kept?.add(chunk);
      for (;;) {
        const start = splitter.offset;
        const { records, candidates } = splitter.write(chunk);
        const held = splitter.takeDocument();
        if (held) {
          document = { head: held, rest: iterator };
          break;
        }
        stats.records += records;
        for (const candidate of candidates) {
          const events = splitter.arrayKey === 'Events';
          if (!(events ? mayNameWatchedSource(candidate.bytes) : mayHoldWatchedSource(candidate.bytes))) continue;
          const record = events ? lookupEntry(candidate) : unwrapEnvelope(parseCandidate(candidate));
          if (isWatchedRecord(record)) {
            stats.acmRecords += 1;
            yielded += 1;
            yield record;
          }
        }
        // Another log file follows this one (lenient only): a splitter of its own takes the rest.
        if (splitter.nextAt === undefined) break;
        // (A copy when it is in the kernel's memory, which the splitter just gave back.)
        chunk = keepable(chunk.subarray(splitter.nextAt - start));
        splitter.end();
        splitter = new RecordSplitter(options.lenient);
        if (options.area) options.area.splitter = splitter;
        before += 1;
      }
      if (document) break;
    }
    if (!document) {
      const whole = splitter.end();
      if (whole) document = { head: [whole], rest: undefined };
    }
  } catch (err) {
    // The splitter is done with: its memory is no longer offered to the decoder, whose later chunks the text path keeps.
    splitter.abandon();
    // A pasted document, broken where the splitter reads it: read it again as text, skipping the records already given.
    if (!(err instanceof InvalidJsonError) || !kept?.complete) throw err;
    const head = kept.take();
    stats.records = 0;
    stats.acmRecords = 0;
    try {
      yield* scanJsonText(head, iterator, stats, options, yielded);
    } catch (textErr) {
      // Past what one text value may hold (a log file broken early, read on), the splitter's own error says more.
      throw textErr instanceof DocumentSizeError || textErr instanceof RecordSizeError ? err : textErr;
    }
    return;
  }
  kept?.release();
  if (document) {
    yield* scanJsonText(document.head, document.rest, stats, options, 0, before);
    return;
  }
  if (kept?.complete && kept.bytes <= EVENT_CHECK_BYTES && stats.acmRecords === 0) refuseLambdaEvent(parsedOrUndefined(Buffer.concat(kept.take())));
}

/** Copies of the first bytes of an input, up to a cap; `complete` while they are all of it. */
class KeptBytes {
  private chunks: Uint8Array[] = [];
  bytes = 0;
  complete = true;

  constructor(private readonly cap: number) {}

  add(chunk: Uint8Array): void {
    if (!this.complete) return;
    this.bytes += chunk.length;
    if (this.bytes > this.cap) {
      this.complete = false;
      this.chunks = [];
      return;
    }
    // The chunk itself where its producer hands it over for good (the splitters keep views of them across writes too).
    this.chunks.push(keepable(chunk));
  }

  take(): Uint8Array[] {
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }

  /** Lets go of the copies when they are no longer needed but the count still is. */
  release(): void {
    if (this.bytes > EVENT_CHECK_BYTES) this.chunks = [];
  }
}

/**
 * Reads JSON text value by value: `head`, then the rest of `rest`. The first `skip` watched
 * records are counted but not yielded (they were, before a fallback from the splitter); `before`
 * documents were read ahead of this text (log files written one after another).
 */
async function* scanJsonText(
  head: readonly Uint8Array[],
  rest: AsyncIterator<Uint8Array> | undefined,
  stats: ScanStats,
  options: ScanOptions,
  skip: number,
  before = 0,
): AsyncGenerator<CloudTrailRecord> {
  const sequence = new ValueSequenceSplitter(MAX_DOCUMENT_BYTES, options.lenient);
  let seen = 0;
  // Lenient only: values that cannot be read are counted and the rest still given; the input then fails at its end.
  const broken: { count: number; first?: string; line?: number } = { count: 0 };
  function* recordsOf(values: readonly SequenceValue[]): Generator<CloudTrailRecord> {
    for (const value of values) {
      const unreadable: number[] = [];
      let records: unknown[];
      try {
        // After log files already read, no value is the input's first.
        records = recordsOfValue(before ? { ...value, index: value.index + before } : value, stats, options);
      } catch (err) {
        if (!options.lenient || !(err instanceof UnreadableValueError)) throw err;
        broken.count += 1;
        if (broken.first === undefined) {
          broken.first = err.message;
          broken.line = value.start.line;
        }
        continue;
      }
      for (const record of records) {
        if (record instanceof UnreadableEntry) {
          unreadable.push(record.index);
          continue;
        }
        stats.records += 1;
        if (!isWatchedRecord(record)) continue;
        stats.acmRecords += 1;
        seen += 1;
        if (seen > skip) yield record;
      }
      // The readable entries have been given; the others are named, so the input counts as unreadable.
      if (unreadable.length) {
        throw new LogFormatError(
          `not a CloudTrail record: lookup-events ${unreadable.length === 1 ? 'entry' : 'entries'} ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? `, … (${unreadable.length} in all)` : ''} ` +
            'of the value at ' + `${describePosition(value.start)} ${unreadable.length === 1 ? 'has' : 'have'} no CloudTrailEvent that reads as a record`,
        );
      }
    }
  }
  // The Lambda reads JSON text whole, as before, up to one document's cap: a CloudTrail file is
  // never JSON Lines, and parsing text costs many times what the splitter does per byte.
  let total = 0;
  const take = (chunk: Uint8Array): readonly SequenceValue[] => {
    total += chunk.length;
    if (!options.lenient && total >= MAX_DOCUMENT_BYTES) throw new DocumentSizeError(MAX_DOCUMENT_BYTES, 'bytes', 'whole');
    return sequence.write(chunk);
  };
  for (const chunk of head) yield* recordsOf(take(chunk));
  if (rest) for (let next = await rest.next(); !next.done; next = await rest.next()) yield* recordsOf(take(next.value));
  const { unclosed, values } = sequence.end();
  // An unclosed value cannot parse: its parse says what is missing, and where.
  if (unclosed) {
    try {
      recordsOfValue(unclosed, stats, options);
    } catch (err) {
      if (!(err instanceof UnreadableValueError) || broken.count === 0) throw err;
      broken.count += 1;
    }
  }
  const lines = sequence.skipped;
  if (broken.count || lines.count) {
    // The first problem in the text, whichever kind it was.
    const first = broken.first !== undefined && (lines.first === undefined || broken.line! <= lines.line!) ? broken.first : lines.first!;
    const others = broken.count + lines.count - 1;
    throw new LogFormatError(`${first}${others ? ` (and ${others} more ${others === 1 ? 'value or line' : 'values or lines'} that could not be read; the others were)` : ''}`);
  }
  if (unclosed || values === 0) throw new LogFormatError(unclosed ? 'not valid JSON: the text ends inside a value' : 'not valid JSON: the text holds no JSON value');
}

/** A value of JSON text that cannot be read (its syntax, or no CloudTrail record in a later value): the CLI goes on past it. */
class UnreadableValueError extends LogFormatError {}

/** The records of one top-level value; names its line when it is not CloudTrail (a later value of a sequence). */
function recordsOfValue(value: SequenceValue, stats: ScanStats, options: ScanOptions): unknown[] {
  if (mayHoldTooManyValues(value.bytes)) throw new DocumentSizeError(MAX_PARSED_VALUES, 'values', 'whole');
  let parsed;
  try {
    parsed = parseJsonText(value.bytes.toString('utf8'), value.start);
  } catch (err) {
    throw err instanceof JsonTextError ? new UnreadableValueError(err.message) : err;
  }
  if (parsed.repaired) stats.repaired = (stats.repaired ?? 0) + parsed.repaired;
  if (value.index === 1 && options.lenient) refuseLambdaEvent(parsed.value);
  try {
    return extractRecords(parsed.value);
  } catch (err) {
    if (value.index === 1 || !(err instanceof NotCloudTrailError)) throw err;
    throw new UnreadableValueError(`not a CloudTrail record: value ${value.index}, at ${describePosition(value.start)}, is ${describeShape(parsed.value)}`);
  }
}

/** Throws LambdaEventError when the document is an event the function receives rather than a log. */
function refuseLambdaEvent(document: unknown): void {
  const kind = lambdaEventKind(document);
  if (kind) throw new LambdaEventError(kind);
}

function parsedOrUndefined(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

const ACM_SOURCE = Buffer.from('acm.amazonaws.com');
const PCA_SOURCE = Buffer.from('acm-pca.amazonaws.com');
const UNICODE_ESCAPE = Buffer.from('\\u');

/**
 * The kernel's candidate test (`cm` or a `\u` escape) is coarse so it stays a vector compare;
 * this one, for lookup-events entries (whose records are JSON strings, their quotes escaped), is
 * cheap on the few records it passes. A parsed string can only read `acm.amazonaws.com` or
 * `acm-pca.amazonaws.com` if the bytes hold that text or a `\u` escape: no other JSON escape
 * produces any of its characters.
 */
function mayNameWatchedSource(bytes: Buffer): boolean {
  return bytes.includes(ACM_SOURCE) || bytes.includes(PCA_SOURCE) || bytes.includes(UNICODE_ESCAPE);
}

const SOURCE_KEY = Buffer.from('"eventSource"');
const WATCHED_SOURCE_VALUES = WATCHED_EVENT_SOURCES.map((source) => Buffer.from(JSON.stringify(source)));

/**
 * The exact test for a record (or an envelope whose detail is one): about half the records that
 * name ACM's service do so elsewhere than as their source (another service acting for ACM, a
 * resource). A record whose `eventSource` is a watched one holds, as written, `"eventSource"`,
 * JSON whitespace, `:`, whitespace and the quoted name, unless a `\u` escape spells some of it:
 * no other escape produces any of those characters. Wherever the member sits (nested, repeated),
 * a record without it cannot be watched, so it is not parsed: like a record with no sign of ACM,
 * it is counted, and a JSON error in it (CloudTrail writes none) does not fail the file.
 */
function mayHoldWatchedSource(bytes: Buffer): boolean {
  if (bytes.includes(UNICODE_ESCAPE)) return true;
  for (let at = bytes.indexOf(SOURCE_KEY); at >= 0; at = bytes.indexOf(SOURCE_KEY, at + 1)) {
    let i = at + SOURCE_KEY.length;
    // Past the end, bytes[i] is undefined, which is no whitespace.
    while (isWhitespace(bytes[i]!)) i++;
    if (bytes[i] !== 0x3a) continue;
    i++;
    while (isWhitespace(bytes[i]!)) i++;
    for (const value of WATCHED_SOURCE_VALUES) {
      if (i + value.length <= bytes.length && bytes.compare(value, 0, value.length, i, i + value.length) === 0) return true;
    }
  }
  return false;
}

/**
 * The record of a lookup-events entry the splitter handed over; an unreadable one fails the input
 * there, by its place. An InvalidJsonError although the entry is valid JSON: in the CLI's lenient
 * mode that reads the input again as text, which names the entry by its number.
 */
function lookupEntry(candidate: Candidate): unknown {
  const record = lookupEventRecord(parseCandidate(candidate), 0);
  if (record instanceof UnreadableEntry) {
    throw new InvalidJsonError(`not a CloudTrail record: the lookup-events entry starting at byte ${candidate.offset} has no CloudTrailEvent that reads as a record`, candidate.offset);
  }
  return record;
}

function parseCandidate({ bytes, offset }: Candidate): unknown {
  if (mayHoldTooManyValues(bytes)) throw new RecordSizeError(MAX_PARSED_VALUES, 'values', offset);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidJsonError(`not valid JSON: invalid record (the record starting at byte ${offset})`, offset);
  }
}
