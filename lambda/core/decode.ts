import { pipeline } from 'node:stream';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Default cap on decompressed bytes per log file: a decompression bomb fails instead of filling memory or time. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024 ** 3;

/** Raised when a log file decompresses to more than the configured cap. */
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

/** Compressed input is handed to zlib in batches of at least this size, however small the pieces it arrives in. */
const INPUT_BATCH_BYTES = 256 * 1024;

function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Running count of decompressed bytes, readable by the caller while and after decoding. */
export interface DecodeProgress {
  bytes: number;
}

/**
 * The decompressed bytes of a log file. Gzip is detected by its magic bytes, not by name, so
 * plain JSON passes through unchanged; bytes are streamed, never collected.
 */
export async function* decodeLogBytes(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
  progress: DecodeProgress = { bytes: 0 },
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
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }

  let decoded: AsyncIterable<Uint8Array> = rest();
  if (isGzip(first)) {
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    // pipeline forwards a source failure (a broken S3 stream) into the gunzip iterator.
    decoded = pipeline(Readable.from(batched(rest()), { objectMode: false }), gunzip, () => {});
  }
  for await (const chunk of decoded) {
    progress.bytes += chunk.length;
    if (progress.bytes > maxBytes) throw new DecompressedSizeError(maxBytes);
    yield chunk;
  }
}

/** Joins small pieces (network reads are often 16 KB) so that zlib gets fewer, larger writes. */
async function* batched(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= INPUT_BATCH_BYTES) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}
