/**
 * Gunzip on the calling thread, into memory the caller may provide. For a process with one CPU
 * or less (a Lambda function up to 1,769 MB): there the thread pool cannot inflate while the
 * main thread scans, so handing each step to it only adds work, and so does what the stream
 * does with its output (a new 1 MB buffer per step, which the process must fault in and the
 * garbage collector free). Inflating on this thread into the same memory each time (the
 * scanner's own input area, so the bytes are not even copied) took 0.87× the CPU of Node's
 * streaming gunzip on the bench's 500 MB file, pinned to one CPU (315 against 361 ms).
 *
 * Node has no public call that inflates into a given buffer, so this drives the zlib binding
 * behind a Gunzip stream (`_handle.writeSync`, `_writeState`), as Node's own synchronous zlib
 * calls do. That is not a public interface: `mainThreadInflateWorks()` checks it once per process
 * against `gunzipSync` on sample data, corrupt and truncated data included, and when anything
 * differs the caller uses the stream on the thread pool instead.
 */
import { types } from 'node:util';
import { constants, createGunzip, gunzipSync, gzipSync, type Gunzip } from 'node:zlib';

interface ZlibBinding {
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, out: Uint8Array, outOffset: number, outLength: number): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

/** One gzip stream inflated on this thread, step by step. */
class Inflater {
  private failure: Error | undefined;
  /**
   * Set when a step left input unused with output space to spare: the gzip data has ended (what
   * follows, zero padding or anything else, is ignored from there on, as the stream ignores it).
   */
  ended = false;

  private constructor(
    private readonly stream: Gunzip,
    private readonly handle: ZlibBinding,
    /** After each write: output space left, then input left. */
    private readonly state: Uint32Array,
  ) {
    // The binding reports errors through this property; the stream's own handler would destroy the stream and emit them later.
    handle.onerror = (message, errno, code) => {
      this.failure ??= Object.assign(new Error(message), { errno, code });
    };
  }

  static open(): Inflater | undefined {
    const stream = createGunzip();
    const { _handle: handle, _writeState: state } = stream as unknown as { _handle?: Partial<ZlibBinding>; _writeState?: unknown };
    if (typeof handle?.writeSync !== 'function' || !types.isUint32Array(state) || state.length < 2) {
      stream.destroy();
      return undefined;
    }
    return new Inflater(stream, handle as ZlibBinding, state as Uint32Array);
  }

  /**
   * Inflates one input piece (or, with Z_FINISH, the end), yielding each chunk as it completes:
   * when its memory is full, or when the input is used up, so output follows input as the
   * stream's does. Memory comes from `area()`, else a new buffer of `chunkBytes`; the next step
   * runs only when the consumer asks for the next chunk, so `area()` may give the same memory each time.
   */
  *write(input: Uint8Array, flush: number, area: OutputArea, chunkBytes: number): Generator<Uint8Array> {
    let inOffset = 0;
    let inLength = input.length;
    for (;;) {
      const out = area() ?? Buffer.allocUnsafe(chunkBytes);
      this.handle.writeSync(flush, input, inOffset, inLength, out, 0, out.length);
      if (this.failure) throw this.failure;
      const outLeft = this.state[0]!;
      const inLeft = this.state[1]!;
      inOffset += inLength - inLeft;
      inLength = inLeft;
      if (outLeft === 0) {
        yield out;
        continue;
      }
      // Input used up, or the gzip data ended before it.
      if (inLeft > 0) this.ended = true;
      if (outLeft < out.length) yield out.subarray(0, out.length - outLeft);
      return;
    }
  }

  close(): void {
    this.stream.destroy();
  }
}

const EMPTY = new Uint8Array(0);

/** Memory to inflate the next output step into, or undefined for a new buffer. */
export type OutputArea = () => Uint8Array | undefined;
const newBuffers: OutputArea = () => undefined;

/**
 * The decompressed bytes of gzip `pieces`, inflated on this thread. Each chunk is a view of the
 * memory it was inflated into: of `area()` when that gave memory (the chunk is then valid only
 * until the next one is asked for), or of a new buffer of `chunkBytes`. Errors are zlib's own
 * (`code` Z_DATA_ERROR, Z_BUF_ERROR), as the stream raises them.
 */
export async function* inflateHere(pieces: AsyncIterable<Uint8Array>, chunkBytes: number, area: OutputArea = newBuffers): AsyncGenerator<Uint8Array> {
  const inflater = Inflater.open();
  if (!inflater) throw new Error('zlib binding unavailable');
  try {
    // A chunk in the caller's memory is overwritten by the next step: each is handed over before inflating more.
    for await (const piece of pieces) {
      yield* inflater.write(piece, constants.Z_NO_FLUSH, area, chunkBytes);
      if (inflater.ended) return;
    }
    yield* inflater.write(EMPTY, constants.Z_FINISH, area, chunkBytes);
  } finally {
    inflater.close();
  }
}

let works: boolean | undefined;

/** Whether inflating here gives exactly what gunzipSync gives, errors included, in this Node; checked once per process. */
export function mainThreadInflateWorks(): boolean {
  works ??= check();
  return works;
}

/**
 * What an inflater must give exactly as gunzipSync does: two gzip members, as `cat a.gz b.gz`
 * makes, then zero padding and a member that is ignored after it; the same data corrupt must fail
 * with Z_DATA_ERROR, and cut short with Z_BUF_ERROR.
 */
function samples(): { gzip: Buffer; expected: Buffer; corrupt: Buffer; truncated: Buffer } {
  const sample = Buffer.from(Array.from({ length: 3000 }, (_, i) => `{"eventID":"${i}","n":${(i * 7919) % 1000}}`).join(','));
  const gzip = Buffer.concat([gzipSync(sample), gzipSync(sample.subarray(0, 999)), Buffer.alloc(2500), gzipSync(sample.subarray(0, 10))]);
  const corrupt = Buffer.from(gzip);
  corrupt.fill(0xff, 20, 40);
  return { gzip, expected: gunzipSync(gzip), corrupt, truncated: gzip.subarray(0, gzip.length / 3) };
}

function check(): boolean {
  try {
    const { gzip, expected, corrupt, truncated } = samples();
    return inflateAll(gzip).equals(expected) && errorCode(() => inflateAll(corrupt)) === 'Z_DATA_ERROR' && errorCode(() => inflateAll(truncated)) === 'Z_BUF_ERROR';
  } catch {
    return false;
  }
}

/** The same check for an inflater that calls back (inflate-pool.ts). */
export async function checkInflater(inflateAll: (gzip: Buffer) => Promise<Buffer>): Promise<boolean> {
  const { gzip, expected, corrupt, truncated } = samples();
  const code = (run: Promise<unknown>): Promise<string | undefined> => run.then(() => undefined, (err: NodeJS.ErrnoException) => err.code);
  return (await inflateAll(gzip)).equals(expected) && (await code(inflateAll(corrupt))) === 'Z_DATA_ERROR' && (await code(inflateAll(truncated))) === 'Z_BUF_ERROR';
}

/** Inflates in-memory gzip in pieces of 1,000 bytes into one reused 4 KB area, as the scanner's use of it does. */
function inflateAll(gzip: Buffer): Buffer {
  const inflater = Inflater.open();
  if (!inflater) throw new Error('zlib binding unavailable');
  const memory = new Uint8Array(4096);
  const parts: Buffer[] = [];
  const keep = (chunks: Iterable<Uint8Array>): void => {
    for (const chunk of chunks) parts.push(Buffer.from(chunk));
  };
  try {
    for (let i = 0; i < gzip.length && !inflater.ended; i += 1000) keep(inflater.write(gzip.subarray(i, i + 1000), constants.Z_NO_FLUSH, () => memory, memory.length));
    if (!inflater.ended) keep(inflater.write(EMPTY, constants.Z_FINISH, () => memory, memory.length));
  } finally {
    inflater.close();
  }
  return Buffer.concat(parts);
}

function errorCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}
