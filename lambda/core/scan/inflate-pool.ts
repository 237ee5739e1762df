/**
 * Gunzip on the thread pool beside the main thread, for a process with two CPUs or more, into the
 * same few buffers each time. Node's streaming gunzip also inflates on the thread pool, but it
 * inflates a step only when the main thread has taken the one before (through the stream's
 * machinery, pause and resume included), and puts each step's output in a new 1 MB buffer; here
 * the next step is under way while the scanner reads the last, into memory that is used again.
 * No second JavaScript thread is started, so nothing is paid to start one and no second heap is
 * kept.
 *
 * Node has no public call for this, so it drives a zlib binding of its own, made and set up as
 * Node's zlib module makes the one behind a Gunzip stream, with this module's callback for when a
 * step is done (`write`, as the stream calls it). `threadPoolInflateWorks()` checks it once per
 * process against `gunzipSync`, corrupt and truncated data included; when anything differs the
 * caller inflates another way.
 */
import { constants, createGunzip, Gunzip } from 'node:zlib';
import { checkInflater, type OutputArea } from './inflate';

interface AsyncZlibHandle {
  init(windowBits: number, level: number, memLevel: number, strategy: number, state: Uint32Array, done: () => void, dictionary: undefined): void;
  write(flush: number, input: Uint8Array, inOffset: number, inLength: number, out: Uint8Array, outOffset: number, outLength: number): void;
  close(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

type HandleClass = new (mode: number) => AsyncZlibHandle;

let handleClass: HandleClass | undefined | null;

/**
 * How Node's zlib module sets up the binding behind a stream, in its own source. The binding
 * checks its arguments natively, and a mismatch there would stop the process rather than throw,
 * so the call this module makes is made only where Node's own reads the same.
 */
const NODE_INIT_CALL = /\bhandle\.init\(\s*windowBits,\s*level,\s*memLevel,\s*strategy,\s*this\._writeState,\s*processCallback,\s*dictionary,?\s*\)/;

/** The class of the binding behind Node's zlib streams, or undefined where it is not what this module expects. */
function zlibHandleClass(): HandleClass | undefined {
  if (handleClass === undefined) {
    const stream = createGunzip();
    const handle = (stream as unknown as { _handle?: Partial<AsyncZlibHandle> })._handle;
    const zlibClass: unknown = Object.getPrototypeOf(Gunzip.prototype)?.constructor;
    const usable = typeof handle?.write === 'function' && typeof handle.init === 'function' && typeof handle.close === 'function'
      && typeof zlibClass === 'function' && NODE_INIT_CALL.test(Function.prototype.toString.call(zlibClass));
    handleClass = usable ? (handle.constructor as HandleClass) : null;
    stream.destroy();
  }
  return handleClass ?? undefined;
}

/** Output buffers per file: zlib may run this many steps ahead of the scanner. */
const SLOTS = 3;
/** Input pieces held ahead of zlib (copied, so a source may reuse its memory). */
const PIECES_AHEAD = 2;

const EMPTY = Buffer.alloc(0);

interface Step {
  readonly out: Buffer;
  readonly length: number;
}

/**
 * Buffers of files that are done, by size, for the next file: they are faulted in already. A
 * buffer comes back when no step writes into it any more; a few sets' worth are kept at most.
 */
const spareBuffers = new Map<number, Buffer[]>();
const SPARE_PER_SIZE = 2 * SLOTS;

function takeBuffers(size: number, count: number): Buffer[] {
  const spare = spareBuffers.get(size) ?? [];
  const taken = spare.splice(0, count);
  while (taken.length < count) taken.push(Buffer.allocUnsafe(size));
  return taken;
}

function giveBackBuffer(buffer: Buffer): void {
  const spare = spareBuffers.get(buffer.length) ?? [];
  spareBuffers.set(buffer.length, spare);
  if (spare.length < SPARE_PER_SIZE) spare.push(buffer);
}

/**
 * One gzip stream inflated on the thread pool, a step at a time, each step into a free output
 * buffer as soon as there is one and input for it. All of it runs on the main thread but zlib's
 * own work: `step()` starts a write, the binding calls `afterStep` when it is done.
 */
class PoolInflater {
  private readonly state = new Uint32Array(2);
  private readonly handle: AsyncZlibHandle;
  private readonly free: Buffer[];
  private readonly idleInputs: Buffer[];
  /** Inflated steps, oldest first, for the reader. */
  readonly full: Step[] = [];
  /** Input not yet given to zlib, oldest first; the first is the one zlib is at. */
  private readonly pending: { buffer: Buffer; offset: number; length: number }[] = [];
  private finishing = false;
  /** The output buffer of the step under way. */
  private writing: Buffer | undefined;
  private closed = false;
  failure: Error | undefined;
  /** Set when the gzip data has ended, before its input or at Z_FINISH. */
  done = false;
  /** Called whenever a step ends or fails. */
  onChange: () => void = () => undefined;

  constructor(Handle: HandleClass, slotBytes: number, pieceBytes: number) {
    this.free = takeBuffers(slotBytes, SLOTS);
    this.idleInputs = takeBuffers(pieceBytes, PIECES_AHEAD);
    this.handle = new Handle(constants.GUNZIP);
    // The binding reports a step's errors through this property, and then does not call back.
    this.handle.onerror = (message, errno, code) => {
      if (this.writing && this.closed) this.giveBackStep(this.writing);
      else if (this.writing) this.free.push(this.writing);
      this.writing = undefined;
      this.failure ??= Object.assign(new Error(message), { errno, code });
      this.onChange();
    };
    this.handle.init(constants.Z_DEFAULT_WINDOWBITS, constants.Z_DEFAULT_COMPRESSION, constants.Z_DEFAULT_MEMLEVEL, constants.Z_DEFAULT_STRATEGY, this.state, () => this.afterStep(), undefined);
  }

  /** Whether zlib has nothing left to do: no step under way and no input waiting (output may be). */
  get drained(): boolean {
    return !this.writing && this.pending.length === 0;
  }

  /** Whether another piece of input may be added: one of the input buffers is free. */
  get wantsInput(): boolean {
    return this.idleInputs.length > 0 && !this.done && !this.failure;
  }

  /** Copies `part` (at most pieceBytes) into a free input buffer and queues it. */
  add(part: Uint8Array): void {
    const buffer = this.idleInputs.pop()!;
    buffer.set(part);
    this.pending.push({ buffer, offset: 0, length: part.length });
    this.step();
  }

  /** No more input: zlib is told to finish once what is queued is inflated. */
  finish(): void {
    this.finishing = true;
    this.step();
  }

  /** Gives back a step's buffer, read by the reader. */
  release(out: Buffer): void {
    this.free.push(out);
    this.step();
  }

  private step(): void {
    if (this.writing || this.closed || this.done || this.failure || this.free.length === 0) return;
    const input = this.pending[0];
    if (!input && !this.finishing) return;
    const out = this.free.pop()!;
    this.writing = out;
    const flush = input ? constants.Z_NO_FLUSH : constants.Z_FINISH;
    this.handle.write(flush, input?.buffer ?? EMPTY, input?.offset ?? 0, input?.length ?? 0, out, 0, out.length);
  }

  private afterStep(): void {
    const out = this.writing!;
    this.writing = undefined;
    if (this.closed) {
      this.giveBackStep(out);
      return;
    }
    const outLeft = this.state[0]!;
    const inLeft = this.state[1]!;
    const input = this.pending[0];
    if (input) {
      input.offset += input.length - inLeft;
      input.length = inLeft;
    }
    const produced = out.length - outLeft;
    if (produced > 0) this.full.push({ out, length: produced });
    else this.free.push(out);
    if (outLeft > 0) {
      if (!input || inLeft > 0) {
        // Z_FINISH done, or input left over with output space to spare: the gzip data has ended
        // (what follows, zero padding or anything else, is ignored, as the stream ignores it).
        this.done = true;
      } else {
        this.pending.shift();
        this.idleInputs.push(input.buffer);
      }
    }
    this.step();
    this.onChange();
  }

  /**
   * Stops inflating and gives the buffers back for the next file: `reading`, the one the reader
   * was copying from, and every other but the two a step under way uses (its output, and the
   * input it reads), which go back when the binding calls back.
   */
  close(reading?: Buffer): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
    const inUse = this.writing ? this.pending.slice(1) : this.pending;
    for (const buffer of [...this.free, ...this.full.map((step) => step.out), ...(reading ? [reading] : [])]) giveBackBuffer(buffer);
    for (const buffer of [...this.idleInputs, ...inUse.map((piece) => piece.buffer)]) giveBackBuffer(buffer);
    this.free.length = 0;
    this.full.length = 0;
  }

  /** After close: the buffers of the step that was under way, now that the binding is done with them. */
  private giveBackStep(out: Buffer): void {
    giveBackBuffer(out);
    const input = this.pending[0];
    if (input) giveBackBuffer(input.buffer);
  }
}

/**
 * The decompressed bytes of gzip `pieces`, inflated on the thread pool in steps of up to
 * `slotBytes`, handed on in chunks of up to `chunkBytes`, each copied into `area()` when that
 * gives memory (valid until the next chunk is asked for, as in inflateHere) or into a new buffer.
 * What a source gave before it failed is handed on first, then its error; zlib's errors are its
 * own (`code` Z_DATA_ERROR, Z_BUF_ERROR), as the stream raises them.
 */
export async function* inflateOnPool(
  pieces: AsyncIterable<Uint8Array>,
  chunkBytes: number,
  slotBytes: number,
  pieceBytes: number,
  area: OutputArea = () => undefined,
): AsyncGenerator<Uint8Array> {
  const Handle = zlibHandleClass();
  if (!Handle) throw new Error('zlib binding unavailable');
  const inflater = new PoolInflater(Handle, slotBytes, pieceBytes);
  // The feeding loop and the reading loop may both be waiting for the inflater.
  let waiting: (() => void)[] = [];
  const notify = (): void => {
    const resolve = waiting;
    waiting = [];
    for (const wake of resolve) wake();
  };
  const wait = (): Promise<void> => new Promise((resolve) => {
    waiting.push(resolve);
  });
  inflater.onChange = notify;
  let stopped = false;
  let sourceFailure: { error: unknown } | undefined;
  const over = (): boolean => stopped || inflater.done || inflater.failure !== undefined;
  // Copies the pieces in as input buffers come free; runs beside the loop below. The next piece is
  // asked for only once there is a buffer for it, so no read is left waiting when the reader stops
  // (an S3 body closes when its read returns).
  const source = pieces[Symbol.asyncIterator]();
  void (async () => {
    try {
      for (;;) {
        while (!inflater.wantsInput && !over()) await wait();
        if (over()) return;
        const next = await source.next();
        if (next.done) break;
        const piece = next.value;
        for (let from = 0; from < piece.length; from += pieceBytes) {
          while (!inflater.wantsInput && !over()) await wait();
          if (over()) return;
          inflater.add(piece.subarray(from, from + pieceBytes));
        }
      }
      inflater.finish();
    } catch (err) {
      // What the source gave before is still inflated and handed on, then this is the file's error:
      // zlib is not told to finish, which would only report the data truncated.
      sourceFailure = { error: err };
      notify();
    } finally {
      // Nothing is waiting for this loop, so a source that fails to close must not fail it.
      await Promise.resolve(source.return?.()).catch(() => undefined);
    }
  })();
  // The step the reader is copying from: it goes back to the inflater once copied out.
  let reading: Buffer | undefined;
  try {
    for (;;) {
      const step = inflater.full.shift();
      if (step) {
        reading = step.out;
        for (let from = 0; from < step.length; from += chunkBytes) {
          const length = Math.min(chunkBytes, step.length - from);
          const into = area();
          const chunk = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
          chunk.set(step.out.subarray(from, from + length));
          // The last of a step is copied out: zlib may fill its buffer again while that is scanned.
          if (from + length >= step.length) {
            reading = undefined;
            inflater.release(step.out);
          }
          yield chunk;
        }
        continue;
      }
      if (inflater.failure) throw inflater.failure;
      if (inflater.done) return;
      if (sourceFailure && inflater.drained) throw sourceFailure.error;
      await wait();
    }
  } finally {
    // The feeding loop stops at its next piece (a stalled source ends at its deadline) and closes the source.
    stopped = true;
    notify();
    inflater.close(reading);
  }
}

let works: Promise<boolean> | undefined;

/** Whether inflating on the thread pool here gives exactly what gunzipSync gives, errors included; checked once per process. */
export function threadPoolInflateWorks(): Promise<boolean> {
  works ??= zlibHandleClass() ? checkInflater(inflateAllOnPool).catch(() => false) : Promise.resolve(false);
  return works;
}

/** Inflates in-memory gzip in pieces of 1,000 bytes, in steps of 4 KB, into one reused 1 KB area, as the scanner's use does. */
async function inflateAllOnPool(gzip: Uint8Array): Promise<Buffer> {
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < gzip.length; i += 1000) yield gzip.subarray(i, i + 1000);
  }
  const memory = new Uint8Array(1024);
  const parts: Buffer[] = [];
  for await (const chunk of inflateOnPool(pieces(), memory.length, 4096, 1000, () => memory)) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}
