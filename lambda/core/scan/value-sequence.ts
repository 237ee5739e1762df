/**
 * Splits a stream of JSON text into its top-level values as the bytes arrive: one document (a bare
 * record, an EventBridge envelope, `aws cloudtrail lookup-events` output), or many written one
 * after another, as JSON Lines and SIEM, Athena, CloudTrail Lake and `jq -c` exports are. Only
 * the value still open is held, so memory does not grow with the file, and each value is
 * handed back with the line and column it starts at, for errors a person can find.
 *
 * Strings and brackets are followed without validating anything else: each value is then parsed
 * whole (json-text.ts), which finds whatever is wrong inside it.
 */
import { describePosition, type TextPosition } from '../json-text';
import { isWhitespace } from './record-splitter';
import { DocumentSizeError, LogFormatError, NotJsonError } from './records';

/** One complete top-level value: its bytes, where it starts, and which value of the input it is (1-based). */
const UTF16 = 'not UTF-8: the text looks like UTF-16 (as Windows PowerShell writes with >); save it as UTF-8, e.g. with Out-File -Encoding utf8';

/** UTF-16, as Windows PowerShell's > writes: a byte-order mark, or a zero byte beside the first ASCII character. */
const looksUtf16 = (head: Uint8Array): boolean =>
  head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff) || head[0] === 0 || head[1] === 0);

export interface SequenceValue {
  readonly bytes: Buffer;
  readonly start: TextPosition;
  readonly index: number;
}

const BOM = [0xef, 0xbb, 0xbf];

export class ValueSequenceSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Parts of the value still open at the end of the last input, and their length. */
  private open: Uint8Array[] = [];
  private openBytes = 0;
  private openStart: TextPosition = { line: 1, column: 1 };
  private values = 0;
  private line = 1;
  /** Offset of the next byte, and of the first byte of the current line, for columns. */
  private offset = 0;
  private lineStart = 0;
  /** Why the input failed, thrown by the next call. */
  private failed: LogFormatError | undefined;
  /** How much of a byte-order mark has been seen at the start, or -1 once past it. */
  private bom = 0;

  /** Lines skipped (lenient only) because they start no value: how many, and what the first one's error would have said. */
  readonly skipped: { count: number; first?: string; line?: number } = { count: 0 };
  private skippingLine = false;
  /** One record per line, once the first value has shown it (lenient only). */
  private lineMode = false;

  /**
   * @param maxValueBytes the most one value may take; at that size the input fails with DocumentSizeError.
   * @param lenient after the first value, a line that starts no value (a `null`, a comment) is skipped and counted instead of failing the input.
   */
  constructor(
    private readonly maxValueBytes: number,
    private readonly lenient = false,
  ) {}

  /**
   * Takes the next bytes, in any chunking; returns the values they complete, in order. Text that
   * starts no value fails the input: the values before it are returned, and the error is thrown
   * by the next call (or by `end`).
   */
  write(chunk: Uint8Array): SequenceValue[] {
    if (this.failed) throw this.failed;
    const out: SequenceValue[] = [];
    if (this.offset === 0 && looksUtf16(chunk)) {
      this.failed = new NotJsonError(UTF16);
      return out;
    }
    let from = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i]!;
      // A byte-order mark, as some Windows editors write, however the input is cut.
      if (this.bom >= 0 && this.offset + i === this.bom && byte === BOM[this.bom]) {
        this.bom = this.bom === 2 ? -1 : this.bom + 1;
        // The mark is no column of the first line.
        this.lineStart = this.offset + i + 1;
        continue;
      }
      this.bom = -1;
      if (byte === 0x0a) {
        // JSON Lines hold one record per line: a record still open at its line's end is broken,
        // and the next line starts afresh, however its quotes and brackets were left.
        if (this.lineMode && this.depth > 0) {
          this.skip(`not valid JSON at ${describePosition(this.positionAt(i))}: the record on this line ends before it is complete (JSON Lines hold one record per line)`);
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          this.open = [];
          this.openBytes = 0;
          from = -1;
        }
        this.line += 1;
        this.lineStart = this.offset + i + 1;
        this.skippingLine = false;
        continue;
      }
      if (this.depth > 0) {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (byte === 0x5c) this.escaped = true;
          else if (byte === 0x22) this.inString = false;
        } else if (byte === 0x22) this.inString = true;
        else if (byte === 0x7b || byte === 0x5b) this.depth += 1;
        else if ((byte === 0x7d || byte === 0x5d) && --this.depth === 0) {
          out.push(this.close(chunk.subarray(from, i + 1)));
          from = -1;
        }
        continue;
      }
      if (this.skippingLine) continue;
      if (isWhitespace(byte) || (byte === 0x2c && this.values > 0)) continue;
      if (byte !== 0x7b && byte !== 0x5b && this.lenient && this.values > 0) {
        this.skip(this.notAValue(i).message);
        this.skippingLine = true;
        continue;
      }
      if (byte !== 0x7b && byte !== 0x5b) {
        // The values this input completed are handed over first; the error comes with the next call.
        this.failed = this.notAValue(i);
        return out;
      }
      this.depth = 1;
      this.openStart = this.positionAt(i);
      from = i;
    }
    if (this.depth > 0) {
      const rest = chunk.subarray(Math.max(from, 0));
      this.openBytes += rest.length;
      if (this.openBytes >= this.maxValueBytes) {
        this.open = [];
        throw new DocumentSizeError(this.maxValueBytes, 'bytes', 'whole');
      }
      this.open.push(rest);
    }
    this.offset += chunk.length;
    return out;
  }

  /**
   * Ends the input. Returns the value left open, if any, for the caller's parse to say what is
   * wrong with it (it cannot be complete), and the count of values.
   */
  end(): { unclosed?: SequenceValue; values: number } {
    if (this.failed) throw this.failed;
    if (this.depth === 0) return { values: this.values };
    const unclosed = { bytes: Buffer.concat(this.open), start: this.openStart, index: this.values + 1 };
    this.open = [];
    return { unclosed, values: this.values };
  }

  private notAValue(i: number): LogFormatError {
    const where = describePosition(this.positionAt(i));
    if (this.values > 0) return new LogFormatError(`not valid JSON at ${where}: text after value ${this.values} that starts no other value (each record or document must be a JSON object)`);
    return new NotJsonError(`not valid JSON at ${where}: expected { or [ (CloudTrail logs, records and exports are JSON objects)`);
  }

  /** Counts a line passed over (lenient only), keeping what the first one's error says. */
  private skip(message: string): void {
    this.skipped.count += 1;
    if (this.skipped.first !== undefined) return;
    this.skipped.first = message;
    this.skipped.line = this.line;
  }

  private close(last: Uint8Array): SequenceValue {
    const bytes = this.open.length ? Buffer.concat([...this.open, last]) : Buffer.from(last.buffer, last.byteOffset, last.length);
    if (bytes.length >= this.maxValueBytes) throw new DocumentSizeError(this.maxValueBytes, 'bytes', 'whole');
    this.open = [];
    this.openBytes = 0;
    this.values += 1;
    // A first value on one line makes the input JSON Lines (lenient only): see write.
    if (this.values === 1 && this.lenient && this.openStart.line === this.line) this.lineMode = true;
    return { bytes, start: this.openStart, index: this.values };
  }

  /** Line and column of byte `i` of the current input; columns count bytes, which for the ASCII around JSON's structure are characters. */
  private positionAt(i: number): TextPosition {
    return { line: this.line, column: this.offset + i - this.lineStart + 1 };
  }
}
