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

function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * The decompressed bytes of a log file. Gzip is detected by its magic bytes, not by name, so
 * plain JSON passes through unchanged; bytes are streamed, never collected.
 */
export async function* decodeLogBytes(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
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
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    // pipeline forwards a source failure (a broken S3 stream) into the gunzip iterator.
    decoded = pipeline(Readable.from(rest(), { objectMode: false }), gunzip, () => {});
  }
  let total = 0;
  for await (const chunk of decoded) {
    total += chunk.length;
    if (total > maxBytes) throw new DecompressedSizeError(maxBytes);
    yield chunk;
  }
}
