/**
 * Splits a CloudTrail log file (`{"Records":[...]}`, or `aws cloudtrail lookup-events` output,
 * `{"Events":[...]}`) into its records as the bytes stream in,
 * without parsing them, and hands back the complete bytes of only those records that could be
 * ACM or ACM PCA records. The byte work is done by a SIMD kernel (record-splitter-kernel.ts);
 * this class feeds it, carries a record split across inputs, and handles the few bytes before
 * and after the `Records` array.
 *
 * Anything that does not start as `{"Records":[` (a bare record, an EventBridge envelope, a
 * document with other keys first, JSON Lines) is handed over by `takeDocument()` as soon as that
 * is known, or by `end()` when the input ends first, for the caller to read as JSON text.
 *
 * Bytes are held in three places only, each capped so that memory stays bounded whatever the
 * input: the parts of a record still open at the end of an input (MAX_RECORD_BYTES), a document
 * collected for a full parse, and what follows the Records array when it is more than `}`
 * (MAX_DOCUMENT_BYTES). A cap is checked as the bytes arrive, so a file fails as soon as it
 * reaches one, without the rest being read. Whatever is parsed whole is first held to
 * MAX_PARSED_VALUES, since what JSON.parse builds can be 30 times the size of its input.
 */
import { DocumentSizeError, InvalidJsonError, LogFormatError, RecordSizeError } from './records';
import {
  CANDIDATE_FLAG, createKernel, ERROR, IN, IN_CAPACITY, IN_PADDING, inKernelMemory, keepable, KIND, MODE, STATUS, type Kernel,
} from './record-splitter-kernel';

/** The bytes of one record that may be an ACM record, and where it starts in the decompressed file. */
export interface Candidate {
  readonly bytes: Buffer;
  readonly offset: number;
}

/** What one `write` completed. */
export interface SplitOutput {
  /** Elements of the `Records` array that ended in this input. */
  readonly records: number;
  /** Those elements that could be ACM records, whole, in file order. */
  readonly candidates: Candidate[];
}

const REASONS: Record<number, string> = {
  [ERROR.controlInString]: 'control character where JSON allows none (a raw line break or tab inside a string?)',
  [ERROR.badCharacter]: 'backslash outside a string',
  [ERROR.badEscape]: 'invalid escape sequence in a string',
  [ERROR.unexpected]: 'unexpected character in the Records array',
};

/**
 * The most bytes one element of the `Records` array may take; at this size the file fails with
 * RecordSizeError. CloudTrail's own records are a few KB (CloudTrail truncates any field over its
 * maximum size and marks it `omitted`), and a bare record or EventBridge envelope pasted by a user
 * is as small, so 8 MiB is far more than any real file needs, and little beside a 512 MB function:
 * the record is held, joined and decoded once each, about 30 MB at most. What parsing it costs is
 * bounded by MAX_PARSED_VALUES. It stays above the kernel's input (IN_CAPACITY, 1 MiB), so a
 * record that starts and ends in one input, which costs no JavaScript work unless it may be an
 * ACM one, never reaches it.
 */
export const MAX_RECORD_BYTES = 8 * 1024 * 1024;

/**
 * The most bytes collected for a full parse; at this size the file fails with DocumentSizeError.
 * What is parsed whole is what users paste (a bare record or an EventBridge envelope, a few KB)
 * and whatever follows the Records array (`}` in every CloudTrail file), never a CloudTrail file
 * itself, so the cap is the record cap, for the same reasons.
 */
export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

/**
 * The most JSON values one record or document may hold to be parsed whole. Bytes alone do not
 * bound what JSON.parse needs: 8 MiB of `[{},{},…]` is 2.8 million objects, about 240 MB, past
 * the 256 MB a scan must stay under on a 512 MB function (test/scan-limits.test.ts), while 8 MiB
 * in one string takes 8 MB. At this count the costliest record within both caps (empty objects,
 * then a string up to 8 MiB) adds about 60 MB in all, held, decoded and parsed. A real record
 * holds a few hundred values; one of 256 KB packed with empty objects would hold under 90,000.
 */
export const MAX_PARSED_VALUES = 250_000;

/**
 * True when `bytes` may hold MAX_PARSED_VALUES JSON values or more, checked before a full parse.
 * Counts `{`, `[` and `,` (every value but the first of a container follows a comma), inside
 * strings too, so it can only over-count. Bytes shorter than the cap cannot reach it and are not
 * looked at: the few-KB records of a real file never cost this loop.
 */
export function mayHoldTooManyValues(bytes: Uint8Array): boolean {
  if (bytes.length < MAX_PARSED_VALUES) return false;
  let count = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if ((byte === 0x2c || byte === 0x7b || byte === 0x5b) && ++count >= MAX_PARSED_VALUES) return true;
  }
  return false;
}

/** The start of a file the kernel splits: `{"Records":[` (a CloudTrail log) or `{"Events":[` (`aws cloudtrail lookup-events` output). */
const PREFIX_TOKENS = [['{'], ['"Records"', '"Events"'], [':'], ['[']].map((choices) => choices.map((token) => Buffer.from(token)));

/** Which array the file's elements are in: CloudTrail records, or lookup-events entries (each a record as a JSON string). */
export type ArrayKey = 'Records' | 'Events';
/** JSON's four whitespace bytes. */
export const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

type State = 'prefix' | 'array' | 'tail' | 'tail-json' | 'document' | 'taken' | 'ended';

let spareKernel: Kernel | undefined;

/** The file is not valid JSON; says where, never what (the bytes may be secrets). */
export function invalidJson(reason: string, offset: number): InvalidJsonError {
  return new InvalidJsonError(`not valid JSON: ${reason} (at byte ${offset})`, offset);
}

export class RecordSplitter {
  /**
   * Where the next document starts (a file offset), when `followed` and another `{` came after
   * this one's end: log files written one after another (`zcat *.json.gz`). The splitter takes
   * nothing more; the caller starts another at that byte.
   */
  nextAt: number | undefined;

  /** @param followed whether another document may follow this one (the CLI's lenient reading). */
  constructor(private readonly followed = false) {}

  private state: State = 'prefix';
  private kernel: Kernel | undefined;
  /** File offset of the next byte `write` receives. */
  offset = 0;
  private token = 0;
  private tokenByte = 0;
  private choices: Buffer[] = [];
  /** The array being split, once the prefix is matched. */
  arrayKey: ArrayKey = 'Records';
  /** Inputs kept for a full parse: the prefix while it is still being matched, a whole document, or the data after the array. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Parts of the element that is still open at the end of the last input. */
  private carried: Uint8Array[] = [];
  private carriedOffset = 0;
  private carriedBytes = 0;
  private tailClosed = false;

  /** Takes the next decompressed bytes, in any chunking. Throws LogFormatError as soon as the file cannot be valid. */
  write(chunk: Uint8Array): SplitOutput {
    const out: SplitOutput = { records: 0, candidates: [] };
    const start = this.offset;
    this.offset += chunk.length;
    if (this.state === 'prefix') {
      const matched = this.matchPrefix(chunk);
      if (matched < 0) return out;
      chunk = chunk.subarray(matched);
      this.startArray();
      return this.scanArray(chunk, start + matched, out);
    }
    if (this.state === 'array') return this.scanArray(chunk, start, out);
    if (this.state === 'document' || this.state === 'tail-json') this.hold(chunk);
    else if (this.state === 'tail') this.scanTail(chunk, start);
    return out;
  }

  /**
   * The kernel's input memory while the splitter is inside the array: a decoder may inflate the
   * next chunk straight into it (DecodeOptions.area), and `write` then scans it where it is,
   * without a copy. Undefined otherwise: the next chunk must be a buffer of its own.
   */
  inputArea(): Uint8Array | undefined {
    return this.state === 'array' && this.kernel ? this.kernel.memory.subarray(IN, IN + IN_CAPACITY) : undefined;
  }

  /**
   * When the input has turned out not to be a `{"Records":[` file, hands over the bytes held so
   * far: the caller reads it, and the rest of the input, as JSON text (value-sequence.ts), and
   * this splitter takes no more. Undefined otherwise.
   */
  takeDocument(): Uint8Array[] | undefined {
    if (this.state !== 'document') return undefined;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.state = 'taken';
    return held;
  }

  /**
   * Ends the input. Returns the whole document when it was not a `{"Records":[...]}` file (the
   * caller parses it in full); throws LogFormatError when the file ended early or its end is invalid.
   */
  end(): Buffer | undefined {
    this.releaseKernel();
    switch (this.state) {
      case 'prefix':
      case 'document':
        return Buffer.concat(this.held);
      case 'taken':
      case 'ended':
        return undefined;
      case 'array':
        throw invalidJson(`the document ends inside the ${this.arrayKey} array`, this.offset);
      case 'tail':
        if (!this.tailClosed) throw invalidJson('the document ends before its closing brace', this.offset);
        return undefined;
      case 'tail-json':
        this.checkTail(Buffer.concat(this.held));
        return undefined;
    }
  }

  /**
   * Matches `{"Records":[` (JSON whitespace allowed between tokens); returns where the array's
   * content starts, or -1. Until it is matched the bytes are held, in case the file turns out to
   * be another shape, parsed whole.
   */
  private matchPrefix(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.tokenByte === 0 && isWhitespace(byte)) continue;
      // The choices still possible for this token: those whose bytes so far all matched.
      const choices = (this.tokenByte === 0 ? PREFIX_TOKENS[this.token]! : this.choices).filter((token) => token[this.tokenByte] === byte);
      if (choices.length === 0) {
        this.state = 'document';
        this.hold(chunk);
        return -1;
      }
      this.choices = choices;
      this.tokenByte += 1;
      const done = choices.find((token) => token.length === this.tokenByte);
      if (done) {
        if (this.token === 1) this.arrayKey = done.toString('latin1').slice(1, -1) as ArrayKey;
        this.token += 1;
        this.tokenByte = 0;
        if (this.token === PREFIX_TOKENS.length) {
          this.held = [];
          this.heldBytes = 0;
          return i + 1;
        }
      }
    }
    this.hold(chunk);
    return -1;
  }

  /** Keeps bytes for a full parse, failing as soon as they reach MAX_DOCUMENT_BYTES. */
  private hold(bytes: Uint8Array): void {
    this.heldBytes += bytes.length;
    if (this.heldBytes >= MAX_DOCUMENT_BYTES) {
      this.held = [];
      throw new DocumentSizeError(MAX_DOCUMENT_BYTES, 'bytes', this.state === 'tail-json' ? 'after-records' : 'whole');
    }
    this.held.push(keepable(bytes));
  }

  private startArray(): void {
    this.state = 'array';
    // A kernel's memory is a few MB; files are scanned one after another, so one instance is reused.
    this.kernel = spareKernel ?? createKernel();
    spareKernel = undefined;
    const k = this.kernel;
    k.set('pos', 0); k.set('inString', 0); k.set('escCarry', 0); k.set('hexPending', 0); k.set('depth', 0);
    k.set('mode', MODE.first); k.set('kind', 0); k.set('elemStart', -1); k.set('cand', 0); k.set('scalarLast', -2);
    k.memory.fill(0x20, IN - 64, IN);
  }

  /** Takes no more input (the caller stopped on an error): the kernel goes back for the next splitter, and inputArea() gives none. */
  abandon(): void {
    this.releaseKernel();
    this.state = 'ended';
  }

  private releaseKernel(): void {
    if (this.kernel && !spareKernel) spareKernel = this.kernel;
    this.kernel = undefined;
  }

  private scanArray(chunk: Uint8Array, chunkOffset: number, out: SplitOutput): SplitOutput {
    for (let from = 0; from < chunk.length && this.state !== 'ended'; from += IN_CAPACITY) {
      if (this.state === 'array') this.scanSlice(chunk.subarray(from, from + IN_CAPACITY), chunkOffset + from, out);
      else if (this.state === 'tail') this.scanTail(chunk.subarray(from, from + IN_CAPACITY), chunkOffset + from);
      else this.hold(chunk.subarray(from, from + IN_CAPACITY));
    }
    return out;
  }

  private scanSlice(slice: Uint8Array, sliceOffset: number, out: SplitOutput): void {
    const k = this.kernel!;
    const memory = k.memory;
    const length = slice.length;
    // A chunk inflated into the input area is scanned where it is; any other is copied in. Bytes in a
    // kernel's memory are overwritten by the next input, so those kept past this write are copied out.
    if (slice.buffer !== memory.buffer || slice.byteOffset !== IN) memory.set(slice, IN);
    const transient = inKernelMemory(slice);
    const input = transient ? memory.subarray(IN, IN + length) : slice;
    memory.fill(0x20, IN + length, IN + length + IN_PADDING);
    for (;;) {
      const status = k.scan(length);
      this.collect(input, transient, sliceOffset, out);
      if (status === STATUS.outputFull) continue;
      if (status === STATUS.needInput) {
        const mode = k.get('mode');
        if (mode === MODE.container || mode === MODE.string || mode === MODE.scalar) {
          const openFrom = k.get('openFrom');
          if (this.carried.length === 0) {
            this.carriedOffset = sliceOffset + openFrom;
            this.carriedBytes = 0;
          }
          // One check per input, not per byte: the record is at least this long even if it ends at the next byte.
          this.carriedBytes += length - openFrom;
          if (this.carriedBytes >= MAX_RECORD_BYTES) this.failRecordTooLarge(this.carriedOffset);
          const rest = input.subarray(openFrom);
          this.carried.push(transient ? Buffer.from(rest) : rest);
        }
        // Keep this input's last bytes in front of the next, so a pattern split across inputs is still seen.
        memory.copyWithin(IN - 2, IN + length - 2, IN + length);
        return;
      }
      if (status === STATUS.arrayEnd) {
        const end = k.get('endPos');
        this.releaseKernel();
        this.state = 'tail';
        this.scanTail(input.subarray(end + 1), sliceOffset + end + 1);
        return;
      }
      this.releaseKernel();
      throw invalidJson(REASONS[k.get('errCode')] ?? 'unexpected character', sliceOffset + k.get('errPos'));
    }
  }

  private collect(input: Uint8Array, transient: boolean, inputOffset: number, out: SplitOutput): void {
    const k = this.kernel!;
    const events = k.events;
    const count = k.get('events');
    (out as { records: number }).records += k.get('elements');
    for (let e = 0; e < count * 3; e += 3) {
      const flags = events[e]!;
      const start = events[e + 1]!;
      const kind = flags & 0xff;
      // A scalar that ended in an earlier input (before whitespace) has its end there: take no bytes from this one.
      const end = Math.max(events[e + 2]! + 1, 0);
      // Only a record carried from earlier inputs can reach the cap: one input holds less.
      if (start < 0 && this.carriedBytes + end >= MAX_RECORD_BYTES) this.failRecordTooLarge(this.carriedOffset);
      if ((flags & CANDIDATE_FLAG) !== 0 || kind === KIND.string || kind === KIND.scalar) {
        const bytes = start < 0
          ? Buffer.concat([...this.carried, input.subarray(0, end)])
          : transient ? Buffer.from(input.subarray(start, end)) : Buffer.from(input.buffer, input.byteOffset + start, end - start);
        const offset = start >= 0 ? inputOffset + start : this.carriedOffset;
        if (kind === KIND.object) out.candidates.push({ bytes, offset });
        else checkValue(bytes, offset);
      }
      if (start < 0) this.carried = [];
    }
  }

  private failRecordTooLarge(offset: number): never {
    this.carried = [];
    this.releaseKernel();
    throw new RecordSizeError(MAX_RECORD_BYTES, 'bytes', offset);
  }

  /**
   * After the array: only `}` and whitespace, as in every CloudTrail file; anything else is
   * checked as JSON. Whitespace before it is not kept (it changes nothing in that check), so a
   * file that ends in a flood of whitespace is read through in constant memory.
   */
  private scanTail(bytes: Uint8Array, offset: number): void {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (isWhitespace(byte)) continue;
      if (byte === 0x7d && !this.tailClosed) {
        this.tailClosed = true;
        continue;
      }
      if (this.tailClosed) {
        if (!this.followed || byte !== 0x7b) throw invalidJson('unexpected data after the end of the document', offset + i);
        this.nextAt = offset + i;
        this.state = 'ended';
        return;
      }
      // More members after "Records": rare enough to check the rest with a full parse at the end.
      this.state = 'tail-json';
      this.hold(bytes.subarray(i));
      return;
    }
  }

  private checkTail(rest: Buffer): void {
    if (mayHoldTooManyValues(rest)) throw new DocumentSizeError(MAX_PARSED_VALUES, 'values', 'after-records');
    let document: unknown;
    try {
      // The sentinel shows whether a later member of the same name replaced the array already streamed.
      document = JSON.parse(`{"${this.arrayKey}":0${rest.toString('utf8')}`);
    } catch {
      throw new LogFormatError(`not valid JSON: invalid data after the ${this.arrayKey} array`);
    }
    if ((document as Record<string, unknown>)[this.arrayKey] !== 0) {
      throw new LogFormatError(`not a CloudTrail log: the document has more than one "${this.arrayKey}" member`);
    }
  }
}

/** A string or number in the Records array: not a record, but it must still be valid JSON. */
function checkValue(bytes: Buffer, offset: number): void {
  // An array in Records, if it may name ACM, comes here too: as costly to parse as a record.
  if (mayHoldTooManyValues(bytes)) throw new RecordSizeError(MAX_PARSED_VALUES, 'values', offset);
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidJson('invalid value in the Records array', offset);
  }
}
