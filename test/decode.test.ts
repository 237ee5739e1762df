/**
 * Decoding log bytes: gzip found by its magic bytes however the source chunks them, plain JSON
 * passed through untouched, the decompressed-size cap enforced, and source failures surfaced.
 */
import { gzipSync } from 'node:zlib';
import { decodeLogBytes, DecompressedSizeError } from '../lambda/core/decode';
import { chunked } from './support';

async function decode(source: AsyncIterable<Uint8Array>, maxBytes?: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of decodeLogBytes(source, maxBytes)) parts.push(part);
  return Buffer.concat(parts);
}

const json = Buffer.from(JSON.stringify({ Records: Array.from({ length: 2000 }, (_, i) => ({ eventID: `e-${i}`, note: 'x'.repeat(i % 97) })) }));

describe('decodeLogBytes', () => {
  it.each([1, 2, 3, 1000, 16 * 1024, 1 << 20])('gunzips a gzip file delivered in %i-byte pieces', async (size) => {
    expect((await decode(chunked(gzipSync(json), size))).equals(json)).toBe(true);
  });

  it('passes plain JSON through unchanged, in any chunking', async () => {
    for (const size of [1, 7, 64 * 1024]) expect((await decode(chunked(json, size))).equals(json)).toBe(true);
  });

  it('yields nothing for an empty source', async () => {
    expect((await decode(chunked(Buffer.alloc(0)))).length).toBe(0);
  });

  it('stops a file that decompresses beyond the cap, gzip or plain', async () => {
    await expect(decode(chunked(gzipSync(json), 4096), 10_000)).rejects.toBeInstanceOf(DecompressedSizeError);
    await expect(decode(chunked(json, 4096), 10_000)).rejects.toBeInstanceOf(DecompressedSizeError);
  });

  it('surfaces a failure of the source stream', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield gzipSync(json).subarray(0, 100);
      throw new Error('connection reset');
    }
    await expect(decode(broken())).rejects.toThrow('connection reset');
  });

  it('rejects truncated gzip data', async () => {
    await expect(decode(chunked(gzipSync(json).subarray(0, 500), 64))).rejects.toMatchObject({ code: 'Z_BUF_ERROR' });
  });
});
