import type { Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { inflateHere, mainThreadInflateWorks, type OutputArea } from './inflate';
import { inflateOnPool, threadPoolInflateWorks } from './inflate-pool';

/** Default cap on decompressed bytes per log file: a decompression bomb fails instead of filling memory or time. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024 ** 3;

/**
 * Raised as soon as a log file has decompressed to the configured cap: reaching it is enough, so
 * a bomb of exactly the cap fails too. The chunk that reaches it is never handed on.
 */
export class DecompressedSizeError extends Error {
  constructor(limit: number) {
    super(`decompressed size exceeds the limit of ${limit} bytes (raise MAX_DECOMPRESSED_BYTES if the file is genuine)`);
    this.name = 'DecompressedSizeError';
  }
}

/**
 * Gunzip output chunk size. Each chunk costs a round trip to the thread pool and a pass through
 * the stream machinery; at zlib's default 16 KB (or 64 KB) that overhead, not inflating, is most
 * of the time spent, so one large buffer per step cuts the time to gunzip a big file by about a third.
 */
export const GUNZIP_CHUNK_BYTES = 1024 * 1024;

/**
 * Compressed input is handed to zlib in batches of at least this size, however small the pieces
 * it arrives in. Where one batch ends, zlib hands out a short chunk, each one more step for the
 * scanner; 1 MB of input (about 10 MB of JSON) makes those rare.
 */
export const INPUT_BATCH_BYTES = 1024 * 1024;

/** Decompressed bytes that may wait for the scanner before gunzip is paused: a few output chunks. */
const OUTPUT_AHEAD_BYTES = 4 * GUNZIP_CHUNK_BYTES;

function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Running count of decompressed bytes, readable by the caller while and after decoding. */
export interface DecodeProgress {
  bytes: number;
}

/**
 * Where gzip is inflated:
 * - `main-thread`, for one CPU or less, where inflating cannot overlap the scan and handing it to
 *   another thread is only extra work (inflate.ts);
 * - `thread-pool`, for two CPUs or more: on the thread pool beside the scan, a step ahead, into
 *   the same few buffers (inflate-pool.ts); a file whose gzip is all in its first batch on the
 *   main thread, since it is over before a step ahead would help;
 * - `stream`: Node's streaming gunzip, which inflates a step only when the main thread has taken
 *   the last; used where the zlib binding does not work as inflate.ts and inflate-pool.ts expect.
 */
export type InflateMode = 'stream' | 'main-thread' | 'thread-pool';

/**
 * Memory at which a Lambda function has the equivalent of one vCPU; below it, less (AWS Lambda
 * Developer Guide, "Configure Lambda function memory").
 */
export const ONE_VCPU_MEMORY_MB = 1769;

/**
 * Where a process should inflate: on the main thread when it has one CPU or less (`cpus` of 1,
 * or a Lambda function of at most ONE_VCPU_MEMORY_MB, whatever CPUs it is shown); otherwise on
 * the thread pool. `cpus` is what the process may run on (its CPU affinity, as `taskset` sets
 * it); a container's CPU quota is not seen.
 */
export function inflateModeFor(cpus: number, lambdaMemoryMb?: number): InflateMode {
  return cpus <= 1 || (lambdaMemoryMb !== undefined && lambdaMemoryMb <= ONE_VCPU_MEMORY_MB) ? 'main-thread' : 'thread-pool';
}

/**
 * Output buffer of each step on the thread pool. Each step ends in a callback on the main thread,
 * which waits while the scanner is busy; 2 MiB steps make those waits rare. Measured on the
 * bench's files as whole processes, against the floor's wall time at 100,000 and 400,000 records:
 * 2 MiB steps 1.01× and 1.01×; 1 MiB steps 1.05× and 1.06×; 4 MiB steps 1.06× and 1.01×, for
 * about 4 MB more memory.
 */
const POOL_STEP_BYTES = 2 * 1024 * 1024;

/**
 * Whether a gzip source may read every piece after its first into the same memory in this mode:
 * only where each piece is inflated or copied before the next is read (not the streaming
 * gunzip, which keeps a batch queued, and which the others fall back to where the zlib binding
 * does not work as inflate.ts expects).
 */
export function reusesInput(mode: InflateMode | undefined): boolean {
  return (mode === 'main-thread' || mode === 'thread-pool') && mainThreadInflateWorks();
}

export interface DecodeOptions {
  /** @default 'stream' */
  readonly inflate?: InflateMode;
  /**
   * Main thread or thread pool: memory to put each output chunk in (the scanner's input area),
   * asked for before each chunk; a chunk in it is valid until the next chunk is asked for.
   * @default new buffers
   */
  readonly area?: OutputArea;
}

/**
 * The decompressed bytes of a log file. Gzip is detected by its magic bytes, not by name, so
 * plain JSON passes through unchanged; bytes are streamed, never collected.
 *
 * On the main thread or the thread pool, each piece of gzip input is inflated or copied (into a
 * batch, or into the pool's input memory) before the next is asked for, so a gzip source may then
 * read every piece after its first into the same memory (reusesInput; scan's file reader does: a
 * new buffer per read costs the process page faults).
 */
export async function* decodeLogBytes(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
  progress: DecodeProgress = { bytes: 0 },
  options: DecodeOptions = {},
): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  // Gather at least two bytes to look at the magic number, however the source chunks its data.
  const head: Uint8Array[] = [];
  let headLength = 0;
  while (headLength < 2) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = head.length === 1 ? head[0]! : Buffer.concat(head);
  const body = prepended(first.length > 0 ? first : undefined, iterator);
  let decoded: AsyncIterable<Uint8Array> = body;
  if (isGzip(first) && options.inflate === 'main-thread' && mainThreadInflateWorks()) {
    decoded = inflateHere(batched(body, true), GUNZIP_CHUNK_BYTES, options.area);
  } else if (isGzip(first) && options.inflate === 'thread-pool' && mainThreadInflateWorks()) {
    decoded = poolOrHere(batched(body, true), options.area);
  } else if (isGzip(first)) {
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    void feed(body, gunzip);
    decoded = chunksAhead(gunzip, OUTPUT_AHEAD_BYTES);
  }
  for await (const chunk of decoded) {
    progress.bytes += chunk.length;
    if (progress.bytes >= maxBytes) throw new DecompressedSizeError(maxBytes);
    yield chunk;
  }
}

/**
 * The file's gzip on the thread pool, or on the main thread when it is all in the first batch (or
 * the thread pool does not inflate here as gunzipSync does).
 */
async function* poolOrHere(batches: AsyncIterable<Uint8Array>, area?: OutputArea): AsyncGenerator<Uint8Array> {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  const all = prepended(first.done ? undefined : first.value, iterator);
  if (!first.done && first.value.length >= INPUT_BATCH_BYTES && await threadPoolInflateWorks()) {
    yield* inflateOnPool(all, GUNZIP_CHUNK_BYTES, POOL_STEP_BYTES, INPUT_BATCH_BYTES, area);
  } else {
    yield* inflateHere(all, GUNZIP_CHUNK_BYTES, area);
  }
}

/**
 * `head` (when there is one), then the rest of `iterator`. However it ends, the iterator is let
 * go of: reading stops early on a broken file or at the size cap, and an S3 body holds a connection.
 */
async function* prepended(head: Uint8Array | undefined, iterator: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    if (head) yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  } finally {
    await iterator.return?.();
  }
}

/**
 * The chunks of a readable stream, taken as it emits them. Each chunk is handed over after the
 * stream has queued its next step (zlib starts inflating the next chunk on the thread pool
 * before this one is scanned), and no chunks are ever joined. The stream is paused while
 * `aheadBytes` or more wait, so memory stays flat when the consumer is slower.
 */
export async function* chunksAhead(stream: Readable, aheadBytes: number): AsyncGenerator<Buffer> {
  // A few chunks at most (`aheadBytes` and what arrives while pausing), so shift() costs nothing.
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const onData = (chunk: Buffer): void => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= aheadBytes) stream.pause();
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (error: unknown): void => {
    failure = { error };
    notify();
  };
  stream.on('data', onData).on('end', onEnd).on('error', onError);
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk) {
        queued -= chunk.length;
        if (queued < aheadBytes && stream.isPaused()) stream.resume();
        yield chunk;
        continue;
      }
      if (failure) throw failure.error;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    // The error listener stays: an error the stream reports after the reader left must not go unhandled.
    stream.off('data', onData).off('end', onEnd);
    if (!ended) stream.destroy();
  }
}

/**
 * Writes the compressed pieces into gunzip in batches, one batch ahead: when zlib finishes a
 * batch, the next is already queued and starts at once, without waiting for the main thread
 * (which may be scanning) to read and write more. At most two batches wait in memory. A source
 * failure (a broken S3 stream) destroys gunzip with that error, so the reader sees it; when
 * gunzip is destroyed (the reader stopped early, or the data is corrupt) the source is closed.
 */
async function feed(source: AsyncIterable<Uint8Array>, gunzip: Gunzip): Promise<void> {
  let previous: Promise<void> | undefined;
  try {
    for await (const piece of batched(source, false)) {
      if (gunzip.destroyed) return;
      const taken = writeTaken(gunzip, piece);
      await previous;
      previous = taken;
    }
    if (!gunzip.destroyed) gunzip.end();
  } catch (err) {
    // What arrived before the failure is inflated and handed on first, so the records it holds
    // still count (their alerts are published before the object fails).
    await previous;
    if (!gunzip.destroyed) {
      await new Promise<void>((resolve) => {
        // As in writeTaken: a stream that closes (zlib found the data corrupt) never calls back.
        const done = (): void => {
          gunzip.off('close', done);
          resolve();
        };
        gunzip.on('close', done);
        gunzip.flush(done);
      });
    }
    gunzip.destroy(err as Error);
  }
}

/** Writes a piece; resolves when zlib has taken all of it, or the stream is gone. */
function writeTaken(stream: Gunzip, piece: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('close', done);
      resolve();
    };
    stream.on('close', done);
    // A write error reaches the reader as the stream's error; here it only means the piece is gone.
    stream.write(piece, done);
  });
}

/**
 * The compressed pieces in batches of at least INPUT_BATCH_BYTES, so that zlib gets fewer, larger
 * writes (network reads are often 16 KB): a piece of a batch or more passes as it is; smaller ones
 * are copied into a batch. With `reuse` (the main thread and the thread pool, which take each batch
 * before asking for the next) every batch is the same buffer; without (Node's streaming gunzip,
 * which keeps one queued) each has its own. Nothing is kept from a piece once the next is asked
 * for. A source that breaks: what it gave before is still handed on, then its error.
 */
async function* batched(source: AsyncIterable<Uint8Array>, reuse: boolean): AsyncGenerator<Uint8Array> {
  let join: Buffer | undefined;
  let size = 0;
  try {
    for await (const piece of source) {
      if (size === 0 && piece.length >= INPUT_BATCH_BYTES) {
        yield piece;
        continue;
      }
      for (let from = 0; from < piece.length;) {
        join ??= Buffer.allocUnsafe(INPUT_BATCH_BYTES);
        const taken = Math.min(piece.length - from, join.length - size);
        join.set(piece.subarray(from, from + taken), size);
        size += taken;
        from += taken;
        if (size === join.length) {
          yield join;
          size = 0;
          if (!reuse) join = undefined;
        }
      }
    }
  } catch (err) {
    if (size > 0) yield join!.subarray(0, size);
    throw err;
  }
  if (size > 0) yield join!.subarray(0, size);
}
