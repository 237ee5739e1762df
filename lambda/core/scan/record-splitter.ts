/**
 * Splits a CloudTrail log file (`{"Records":[...]}`) into its records as the bytes stream in,
 * without parsing them, and hands back the complete bytes of only those records that could be
 * ACM or ACM PCA records. The byte work is done by a SIMD kernel (record-splitter-kernel.ts);
 * this class feeds it, carries a record split across inputs, and handles the few bytes before
 * and after the `Records` array.
 *
 * Anything that does not start as `{"Records":[` (a bare record, an EventBridge envelope, a
 * document with other keys first) is collected whole and returned by `end()` for a full parse.
 */
import { LogFormatError } from './records';
import {
  CANDIDATE_FLAG, createKernel, ERROR, IN, IN_CAPACITY, IN_PADDING, KIND, MODE, STATUS, type Kernel,
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
  [ERROR.controlInString]: 'control character where JSON allows none',
  [ERROR.badCharacter]: 'backslash outside a string',
  [ERROR.badEscape]: 'invalid escape sequence in a string',
  [ERROR.mismatch]: 'mismatched bracket',
  [ERROR.unexpected]: 'unexpected character in the Records array',
};

const PREFIX_TOKENS = ['{', '"Records"', ':', '['].map((token) => Buffer.from(token));
const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

type State = 'prefix' | 'array' | 'tail' | 'tail-json' | 'document';

let spareKernel: Kernel | undefined;

/** The file is not valid JSON; says where, never what (the bytes may be secrets). */
export function invalidJson(reason: string, offset: number): LogFormatError {
  return new LogFormatError(`not valid JSON: ${reason} (at byte ${offset})`);
}

export class RecordSplitter {
  private state: State = 'prefix';
  private kernel: Kernel | undefined;
  /** File offset of the next byte `write` receives. */
  private offset = 0;
  private token = 0;
  private tokenByte = 0;
  /** Inputs kept for a full parse: the prefix while it is still being matched, or a whole document. */
  private held: Uint8Array[] = [];
  /** Parts of the element that is still open at the end of the last input. */
  private carried: Uint8Array[] = [];
  private carriedOffset = 0;
  private lastLength = 0;
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
    if (this.state === 'document' || this.state === 'tail-json') this.held.push(chunk);
    else this.scanTail(chunk, start);
    return out;
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
      case 'array':
        throw invalidJson('the document ends inside the Records array', this.offset);
      case 'tail':
        if (!this.tailClosed) throw invalidJson('the document ends before its closing brace', this.offset);
        return undefined;
      case 'tail-json':
        this.checkTail(Buffer.concat(this.held));
        return undefined;
    }
  }

  /** Matches `{"Records":[` (JSON whitespace allowed between tokens); returns where the array's content starts, or -1. */
  private matchPrefix(chunk: Uint8Array): number {
    this.held.push(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      const token = PREFIX_TOKENS[this.token]!;
      if (this.tokenByte === 0 && isWhitespace(byte)) continue;
      if (byte !== token[this.tokenByte]) {
        this.state = 'document';
        return -1;
      }
      this.tokenByte += 1;
      if (this.tokenByte === token.length) {
        this.token += 1;
        this.tokenByte = 0;
        if (this.token === PREFIX_TOKENS.length) {
          this.held = [];
          return i + 1;
        }
      }
    }
    return -1;
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
    this.lastLength = 0;
  }

  private releaseKernel(): void {
    if (this.kernel && !spareKernel) spareKernel = this.kernel;
    this.kernel = undefined;
  }

  private scanArray(chunk: Uint8Array, chunkOffset: number, out: SplitOutput): SplitOutput {
    for (let from = 0; from < chunk.length; from += IN_CAPACITY) {
      if (this.state === 'array') this.scanSlice(chunk.subarray(from, from + IN_CAPACITY), chunkOffset + from, out);
      else if (this.state === 'tail') this.scanTail(chunk.subarray(from, from + IN_CAPACITY), chunkOffset + from);
      else this.held.push(chunk.subarray(from, from + IN_CAPACITY));
    }
    return out;
  }

  private scanSlice(slice: Uint8Array, sliceOffset: number, out: SplitOutput): void {
    const k = this.kernel!;
    const memory = k.memory;
    const length = slice.length;
    // Keep the previous input's last bytes in front, so a pattern split across inputs is still seen.
    if (this.lastLength > 0) memory.copyWithin(IN - 2, IN + this.lastLength - 2, IN + this.lastLength);
    memory.set(slice, IN);
    memory.fill(0x20, IN + length, IN + length + IN_PADDING);
    this.lastLength = length;
    for (;;) {
      const status = k.scan(length);
      this.collect(slice, sliceOffset, out);
      if (status === STATUS.outputFull) continue;
      if (status === STATUS.needInput) {
        const mode = k.get('mode');
        if (mode === MODE.container || mode === MODE.string || mode === MODE.scalar) {
          const openFrom = k.get('openFrom');
          if (this.carried.length === 0) this.carriedOffset = sliceOffset + openFrom;
          this.carried.push(slice.subarray(openFrom));
        }
        return;
      }
      if (status === STATUS.arrayEnd) {
        const end = k.get('endPos');
        this.releaseKernel();
        this.state = 'tail';
        this.scanTail(slice.subarray(end + 1), sliceOffset + end + 1);
        return;
      }
      this.releaseKernel();
      throw invalidJson(REASONS[k.get('errCode')] ?? 'unexpected character', sliceOffset + k.get('errPos'));
    }
  }

  private collect(slice: Uint8Array, sliceOffset: number, out: SplitOutput): void {
    const k = this.kernel!;
    const events = k.events;
    const count = k.get('events');
    (out as { records: number }).records += k.get('elements');
    for (let e = 0; e < count * 3; e += 3) {
      const flags = events[e]!;
      const start = events[e + 1]!;
      const kind = flags & 0xff;
      if ((flags & CANDIDATE_FLAG) !== 0 || kind === KIND.string || kind === KIND.scalar) {
        // A scalar that ended in an earlier input (before whitespace) has its end there: take no bytes from this one.
        const end = Math.max(events[e + 2]! + 1, 0);
        const bytes = start >= 0 ? Buffer.from(slice.buffer, slice.byteOffset + start, end - start) : Buffer.concat([...this.carried, slice.subarray(0, end)]);
        const offset = start >= 0 ? sliceOffset + start : this.carriedOffset;
        if (kind === KIND.object) out.candidates.push({ bytes, offset });
        else checkValue(bytes, offset);
      }
      if (start < 0) this.carried = [];
    }
  }

  /** After the array: only `}` and whitespace, as in every CloudTrail file; anything else is checked as JSON. */
  private scanTail(bytes: Uint8Array, offset: number): void {
    this.held.push(bytes);
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (isWhitespace(byte)) continue;
      if (byte === 0x7d && !this.tailClosed) {
        this.tailClosed = true;
        continue;
      }
      if (this.tailClosed) throw invalidJson('unexpected data after the end of the document', offset + i);
      // More members after "Records": rare enough to check the rest with a full parse at the end.
      this.state = 'tail-json';
      return;
    }
  }

  private checkTail(rest: Buffer): void {
    let document: unknown;
    try {
      // The sentinel shows whether a later "Records" member replaced the array already streamed.
      document = JSON.parse(`{"Records":0${rest.toString('utf8')}`);
    } catch {
      throw new LogFormatError('not valid JSON: invalid data after the Records array');
    }
    if ((document as { Records?: unknown }).Records !== 0) {
      throw new LogFormatError('not a CloudTrail log: the document has more than one "Records" member');
    }
  }
}

/** A string or number in the Records array: not a record, but it must still be valid JSON. */
function checkValue(bytes: Buffer, offset: number): void {
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidJson('invalid value in the Records array', offset);
  }
}
