/**
 * Decoding log bytes: gzip found by its magic bytes however the source chunks them, plain JSON
 * passed through untouched, the decompressed-size cap enforced, and source failures surfaced.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { chunksAhead, decodeLogBytes, DecompressedSizeError, inflateModeFor, INPUT_BATCH_BYTES, reusesInput, type InflateMode } from '../lambda/core/scan/decode';
import { inflateHere, mainThreadInflateWorks } from '../lambda/core/scan/inflate';
import { inflateOnPool, threadPoolInflateWorks } from '../lambda/core/scan/inflate-pool';
import { chunked } from './support';

const json = Buffer.from(JSON.stringify({ Records: Array.from({ length: 2000 }, (_, i) => ({ eventID: `e-${i}`, note: 'x'.repeat(i % 97) })) }));

describe.each<InflateMode>(['stream', 'main-thread', 'thread-pool'])('decodeLogBytes, inflating with %s', (inflate) => {
  async function decode(source: AsyncIterable<Uint8Array>, maxBytes?: number): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    for await (const part of decodeLogBytes(source, maxBytes, undefined, { inflate })) parts.push(part);
    return Buffer.concat(parts);
  }

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

  it.each(['gzip', 'plain'])('closes a %s source when the reader stops early, as the Lambda does on a broken file', async (kind) => {
    // Random text barely compresses, so the first output arrives long before the input ends.
    const text = Buffer.from(randomBytes(6 * 1024 * 1024).toString('base64'));
    const big = kind === 'gzip' ? gzipSync(text) : text;
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < big.length; i += 64 * 1024) yield big.subarray(i, i + 64 * 1024);
      } finally {
        closed = true;
      }
    }
    for await (const part of decodeLogBytes(source())) if (part.length > 0) break;
    for (let i = 0; i < 50 && !closed; i++) await tick();
    expect(closed).toBe(true);
  });

  it('rejects truncated gzip data', async () => {
    await expect(decode(chunked(gzipSync(json).subarray(0, 500), 64))).rejects.toMatchObject({ code: 'Z_BUF_ERROR' });
  });

  it('rejects corrupt gzip data', async () => {
    const corrupt = Buffer.from(gzipSync(json));
    corrupt.fill(0xff, 30, 60);
    await expect(decode(chunked(corrupt, 100))).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
  });

  it('ignores what follows zero padding after the gzip data, as gunzipSync does, however the input is cut', async () => {
    // Padding that ends where a piece of 1,000 bytes does, and where one of 64 KiB does.
    const first = gzipSync(json);
    for (const [size, padding] of [[1000, 5_000 - (first.length % 1000)], [64 * 1024, 2 * 64 * 1024 - first.length]] as const) {
      const padded = Buffer.concat([first, Buffer.alloc(padding), gzipSync(Buffer.from('{"Records":[]}')), Buffer.from('not gzip')]);
      expect(gunzipSync(padded).equals(json)).toBe(true);
      expect((await decode(chunked(padded, size))).equals(json)).toBe(true);
    }
  });

  it('reads gzip files written one after another (cat a.gz b.gz) as one', async () => {
    const half = json.subarray(0, 10_000);
    expect((await decode(chunked(Buffer.concat([gzipSync(json), gzipSync(half)]), 3000))).equals(Buffer.concat([json, half]))).toBe(true);
  });
});

describe('decodeLogBytes through Node\'s streaming gunzip', () => {
  it('keeps the next batch of input queued in gunzip, so inflating never waits for the reader', async () => {
    const big = gzipSync(randomBytes(8 * 1024 * 1024).toString('base64'));
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < big.length; i += 64 * 1024) {
        pulled += Math.min(64 * 1024, big.length - i);
        yield big.subarray(i, i + 64 * 1024);
      }
    }
    let pulledAtFirstOutput = 0;
    for await (const part of decodeLogBytes(source())) {
      if (part.length > 0 && pulledAtFirstOutput === 0) pulledAtFirstOutput = pulled;
    }
    // The first batch is being inflated and the second is already written behind it.
    expect(pulledAtFirstOutput).toBeGreaterThanOrEqual(2 * INPUT_BATCH_BYTES);
    expect(pulled).toBe(big.length);
  });
});

describe('decodeLogBytes on the main thread', () => {
  it('works in this Node: what it inflates and the errors it raises match gunzipSync', () => {
    expect(mainThreadInflateWorks()).toBe(true);
  });

  it('stops at the end of the gzip data when zero padding follows, without the check that guards it', async () => {
    // inflateHere itself, not through decodeLogBytes, which would fall back to the stream were it wrong.
    // The padding ends where a piece does, so the next piece starts with what follows it (zlib would read on from there).
    const first = gzipSync(json);
    const padded = Buffer.concat([first, Buffer.alloc(5_000 - (first.length % 1000)), gzipSync(Buffer.from('{"Records":[]}')), Buffer.from('junk')]);
    const parts: Buffer[] = [];
    for await (const chunk of inflateHere(chunked(padded, 1000), INPUT_BATCH_BYTES)) parts.push(Buffer.from(chunk));
    expect(Buffer.concat(parts).equals(json)).toBe(true);
  });

  it('inflates into the memory it is given, each chunk handed over before the next is inflated over it', async () => {
    const text = Buffer.from(randomBytes(3 * 1024 * 1024).toString('hex'));
    const area = new Uint8Array(256 * 1024);
    const parts: Buffer[] = [];
    let inArea = 0;
    for await (const chunk of decodeLogBytes(chunked(gzipSync(text), 100_000), undefined, undefined, { inflate: 'main-thread', area: () => area })) {
      if (chunk.buffer === area.buffer) inArea += 1;
      parts.push(Buffer.from(chunk));
    }
    expect(Buffer.concat(parts).equals(text)).toBe(true);
    expect(inArea).toBe(parts.length);
    expect(inArea).toBeGreaterThan(24);
  });

  it('takes a gzip source that reads every piece after the first into the same memory, in pieces of any size', async () => {
    const text = Buffer.from(randomBytes(4 * 1024 * 1024).toString('base64'));
    const gzip = gzipSync(text);
    const sizes = [7, 100_000, INPUT_BATCH_BYTES, 3, INPUT_BATCH_BYTES + 5, 1];
    async function* sameMemory(): AsyncGenerator<Uint8Array> {
      const memory = Buffer.alloc(INPUT_BATCH_BYTES + 5);
      let at = 0;
      for (let i = 0; at < gzip.length; i++) {
        const size = Math.min(sizes[i % sizes.length]!, gzip.length - at);
        // The first piece in memory of its own, as a reader hands it over to be looked at; the rest in one buffer.
        const piece = i === 0 ? Buffer.from(gzip.subarray(at, at + size)) : memory.subarray(0, size);
        if (i > 0) gzip.copy(memory, 0, at, at + size);
        at += size;
        yield piece;
        if (i > 0) memory.fill(0xee);
      }
    }
    const parts: Buffer[] = [];
    for await (const chunk of decodeLogBytes(sameMemory(), undefined, undefined, { inflate: 'main-thread' })) parts.push(Buffer.from(chunk));
    expect(Buffer.concat(parts).equals(text)).toBe(true);
  });

  it('hands on what a source gave before it failed, then the failure', async () => {
    const gzip = gzipSync(json);
    const seen: Uint8Array[] = [];
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield gzip.subarray(0, gzip.length - 100);
      throw new Error('connection reset');
    }
    await expect((async () => {
      for await (const chunk of decodeLogBytes(broken(), undefined, undefined, { inflate: 'main-thread' })) seen.push(Buffer.from(chunk));
    })()).rejects.toThrow('connection reset');
    expect(Buffer.concat(seen).length).toBeGreaterThan(json.length / 2);
    expect(json.subarray(0, Buffer.concat(seen).length).equals(Buffer.concat(seen))).toBe(true);
  });
});

describe('decodeLogBytes on the thread pool', () => {
  // Random text barely compresses: several MB of gzip, so the thread pool takes it (gzip all in one batch is inflated on the main thread).
  const text = Buffer.from(randomBytes(5 * 1024 * 1024).toString('base64'));
  const gzip = gzipSync(text);
  const decode = async (source: AsyncIterable<Uint8Array>): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const part of decodeLogBytes(source, undefined, undefined, { inflate: 'thread-pool' })) parts.push(Buffer.from(part));
    return Buffer.concat(parts);
  };

  it('works in this Node: what it inflates and the errors it raises match gunzipSync', async () => {
    expect(await threadPoolInflateWorks()).toBe(true);
  });

  it('inflates ahead into every free buffer while the reader holds a chunk, and holds input for more', async () => {
    // Stored gzip (level 0) in pieces of 1,000 bytes: each piece is one step of about 1,000 bytes
    // (steps of up to 4 KiB, chunks of 1 KiB), so the pieces pulled count the steps inflated.
    const stored = gzipSync(text.subarray(0, 200_000), { level: 0 });
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < stored.length; i += 1000) {
        pulled += 1;
        yield stored.subarray(i, i + 1000);
      }
    }
    const parts: Buffer[] = [];
    let pulledWhileHeld = -1;
    for await (const part of inflateOnPool(source(), 1024, 4096, 1000)) {
      parts.push(Buffer.from(part));
      if (pulledWhileHeld >= 0) continue;
      // The reader holds its first chunk (the first step, whose buffer it gave back) until zlib stops.
      for (let i = 0, last = -1; i < 200 && pulled !== last; i++) {
        last = pulled;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      pulledWhileHeld = pulled;
    }
    expect(Buffer.concat(parts).equals(text.subarray(0, 200_000))).toBe(true);
    // The piece read, one step in each of the three output buffers, and a piece in each of the two input buffers: no more.
    expect(pulledWhileHeld).toBe(1 + 3 + 2);
  });

  it.each([1000, 64 * 1024, INPUT_BATCH_BYTES, 3 * INPUT_BATCH_BYTES])('inflates a file of several MB of gzip delivered in %i-byte pieces', async (size) => {
    expect(gzip.length).toBeGreaterThan(2 * INPUT_BATCH_BYTES);
    expect((await decode(chunked(gzip, size))).equals(text)).toBe(true);
  });

  it('ignores what follows zero padding after large gzip data, and the next file then reads', async () => {
    // The padding ends where a batch does, so the next batch starts with the member after it.
    const padded = Buffer.concat([gzip, Buffer.alloc(3 * INPUT_BATCH_BYTES - (gzip.length % INPUT_BATCH_BYTES)), gzipSync(Buffer.from('more')), Buffer.from('junk')]);
    for (const size of [64 * 1024, INPUT_BATCH_BYTES, 3 * INPUT_BATCH_BYTES]) expect((await decode(chunked(padded, size))).equals(text)).toBe(true);
    expect((await decode(chunked(gzip, INPUT_BATCH_BYTES))).equals(text)).toBe(true);
  });

  it('reads large gzip files written one after another as one', async () => {
    expect((await decode(chunked(Buffer.concat([gzip, gzip]), 256 * 1024))).equals(Buffer.concat([text, text]))).toBe(true);
  });

  it('raises zlib\'s own errors for corrupt and truncated data', async () => {
    const corrupt = Buffer.from(gzip);
    corrupt.fill(0, 2_000_000, 2_000_100);
    await expect(decode(chunked(corrupt, 100_000))).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
    await expect(decode(chunked(gzip.subarray(0, gzip.length - 1000), 100_000))).rejects.toMatchObject({ code: 'Z_BUF_ERROR' });
  });

  it('hands on what a source gave before it failed, then the failure', async () => {
    const seen: Buffer[] = [];
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield* chunked(gzip.subarray(0, 3_000_000), 200_000);
      throw new Error('connection reset');
    }
    await expect((async () => {
      for await (const chunk of decodeLogBytes(broken(), undefined, undefined, { inflate: 'thread-pool' })) seen.push(Buffer.from(chunk));
    })()).rejects.toThrow('connection reset');
    const got = Buffer.concat(seen);
    expect(got.length).toBeGreaterThan(3_000_000);
    expect(text.subarray(0, got.length).equals(got)).toBe(true);
  });

  it('reports a source that fails between batches as itself, not as truncated gzip', async () => {
    const seen: Buffer[] = [];
    async function* broken(): AsyncGenerator<Uint8Array> {
      // Whole batches, each taken before the next is read, then the failure: nothing is left in flight.
      for (let at = 0; at < 2 * INPUT_BATCH_BYTES; at += INPUT_BATCH_BYTES) {
        yield gzip.subarray(at, at + INPUT_BATCH_BYTES);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('connection reset');
    }
    await expect((async () => {
      for await (const chunk of decodeLogBytes(broken(), undefined, undefined, { inflate: 'thread-pool' })) seen.push(Buffer.from(chunk));
    })()).rejects.toThrow('connection reset');
    const got = Buffer.concat(seen);
    expect(got.length).toBeGreaterThan(INPUT_BATCH_BYTES);
    expect(text.subarray(0, got.length).equals(got)).toBe(true);
  });

  it('closes the source when the reader stops early, and the next file still reads', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield* chunked(gzip, 64 * 1024);
      } finally {
        closed = true;
      }
    }
    for await (const part of decodeLogBytes(source(), undefined, undefined, { inflate: 'thread-pool' })) if (part.length > 0) break;
    for (let i = 0; i < 50 && !closed; i++) await tick();
    expect(closed).toBe(true);
    expect((await decode(chunked(gzip, INPUT_BATCH_BYTES))).equals(text)).toBe(true);
  });

  it('inflates files read at the same time each exactly, in memory of their own', async () => {
    const other = Buffer.from(randomBytes(3 * 1024 * 1024).toString('hex'));
    const [a, b] = await Promise.all([decode(chunked(gzip, 100_000)), decode(chunked(gzipSync(other), 150_000))]);
    expect(a.equals(text)).toBe(true);
    expect(b.equals(other)).toBe(true);
  });
});

describe('reusesInput', () => {
  it('lets a gzip source reuse its memory only where each piece is taken before the next is read', () => {
    expect(reusesInput('stream')).toBe(false);
    expect(reusesInput(undefined)).toBe(false);
    expect(reusesInput('main-thread')).toBe(mainThreadInflateWorks());
    expect(reusesInput('thread-pool')).toBe(mainThreadInflateWorks());
  });
});

describe('inflateModeFor', () => {
  it.each([
    [1, undefined, 'main-thread'],
    [2, undefined, 'thread-pool'],
    [2, 512, 'main-thread'],
    [2, 1769, 'main-thread'],
    [2, 1770, 'thread-pool'],
    [1, 10_240, 'main-thread'],
  ] as const)('%i CPU(s) and %s MB of Lambda memory: inflates on the %s', (cpus, memory, mode) => {
    expect(inflateModeFor(cpus, memory)).toBe(mode);
  });
});

describe('chunksAhead', () => {
  /** A stream of `count` chunks of `size` bytes, each filled with its index, produced as fast as it is read. */
  function numbered(count: number, size: number): { stream: Readable; produced: () => number } {
    let next = 0;
    const stream = new Readable({
      highWaterMark: size,
      read() {
        this.push(next < count ? Buffer.alloc(size, next++ % 256) : null);
      },
    });
    return { stream, produced: () => next };
  }

  it('hands over every chunk in order, unjoined', async () => {
    const { stream } = numbered(50, 1000);
    const seen: number[] = [];
    for await (const chunk of chunksAhead(stream, 4000)) {
      expect(chunk.length).toBe(1000);
      seen.push(chunk[0]!);
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('pauses the stream while the limit waits to be taken, so a slow consumer keeps memory flat', async () => {
    const { stream, produced } = numbered(1000, 1000);
    const chunks = chunksAhead(stream, 10_000);
    await chunks.next();
    for (let i = 0; i < 20; i++) await tick();
    // The limit, plus what the stream itself buffers before it notices the pause.
    expect(produced()).toBeLessThan(30);
    expect(stream.isPaused()).toBe(true);
    let taken = 1;
    for await (const chunk of chunks) taken += chunk.length > 0 ? 1 : 0;
    expect(taken).toBe(1000);
  });

  it('destroys the stream when the consumer stops early', async () => {
    const { stream } = numbered(100, 1000);
    for await (const chunk of chunksAhead(stream, 4000)) if (chunk[0] === 3) break;
    expect(stream.destroyed).toBe(true);
  });

  it('delivers what came before a stream error, then throws it', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from('one'));
    const seen: string[] = [];
    const done = (async () => {
      for await (const chunk of chunksAhead(stream, 4000)) seen.push(chunk.toString());
    })();
    await tick();
    stream.destroy(new Error('inflate failed'));
    await expect(done).rejects.toThrow('inflate failed');
    expect(seen).toEqual(['one']);
  });
});
