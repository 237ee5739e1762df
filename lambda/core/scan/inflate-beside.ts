/**
 * Gunzip on a worker thread beside the main one, for a process with two CPUs or more: the worker
 * inflates while the main thread scans, as the thread pool does, but into memory both threads
 * share, the same few slots each time. Node's streaming gunzip hands every step back to the
 * main thread to ask for the next one, so zlib waits whenever the scanner is busy, and it puts
 * each step's output in a new buffer; here the worker goes on as long as a slot is free.
 *
 * The worker drives the zlib binding as inflate.ts does (checked there once per process). Workers
 * are kept for the next file, and left out of what keeps the process alive while idle.
 */
import type { Worker } from 'node:worker_threads';
import { inflateHere } from './inflate';

/** Output slots per worker: the worker may run this many chunks ahead of the scanner. */
const SLOTS = 4;
/**
 * Compressed pieces sent to the worker and not yet inflated: enough for it never to wait for
 * input. Each goes through one of as many shared input slots, so the worker allocates nothing.
 */
const PIECES_AHEAD = 2;

// The worker's code, run with `eval` so that it needs no file of its own beside a bundle.
// Control words: slot states (0 free, 1 full), then each slot's byte count, then the stop flag.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const { control, memory, input, slots, slotBytes, pieceBytes } = workerData;
const words = new Int32Array(control);
const STOP = 2 * slots;
const views = Array.from({ length: slots }, (_, i) => new Uint8Array(memory, i * slotBytes, slotBytes));
const pieces = [0, 1].map((i) => new Uint8Array(input, i * pieceBytes, pieceBytes));
let stream, handle, state, failure, next = 0, file = 0, over = false;
const post = (message) => parentPort.postMessage({ ...message, file });
function inflate(piece, flush) {
  let inOffset = 0, inLength = piece.length;
  for (;;) {
    while (Atomics.load(words, next) !== 0) {
      if (Atomics.load(words, STOP)) return false;
      Atomics.wait(words, next, 1, 1000);
    }
    if (Atomics.load(words, STOP)) return false;
    handle.writeSync(flush, piece, inOffset, inLength, views[next], 0, slotBytes);
    if (failure) {
      post({ type: 'error', ...failure });
      return false;
    }
    const outLeft = state[0], inLeft = state[1];
    inOffset += inLength - inLeft;
    inLength = inLeft;
    if (outLeft < slotBytes) {
      words[slots + next] = slotBytes - outLeft;
      Atomics.store(words, next, 1);
      Atomics.notify(words, next);
      next = (next + 1) % slots;
    }
    if (outLeft > 0) {
      // Input left over with output space to spare: the gzip data has ended; what follows is ignored, as the stream ignores it.
      if (inLeft > 0) {
        over = true;
        post({ type: 'ended' });
        return false;
      }
      return true;
    }
  }
}
parentPort.on('message', (message) => {
  if (message.type === 'start') {
    file = message.file;
    over = false;
    stream = zlib.createGunzip();
    handle = stream._handle;
    state = stream._writeState;
    failure = undefined;
    next = 0;
    handle.onerror = (message, errno, code) => { failure = failure || { message, errno, code }; };
  } else if (over) {
    // After the end of the gzip data: nothing more is inflated for this file.
  } else if (message.type === 'piece') {
    if (inflate(pieces[message.slot].subarray(0, message.length), zlib.constants.Z_NO_FLUSH)) post({ type: 'taken' });
  } else if (message.type === 'end') {
    if (inflate(new Uint8Array(0), zlib.constants.Z_FINISH)) post({ type: 'ended' });
    stream.destroy();
  }
});
`;

interface Message {
  readonly type: 'taken' | 'ended' | 'error';
  /** The file the message is about: one a worker read before may still have messages on the way. */
  readonly file: number;
  readonly message?: string;
  readonly errno?: number;
  readonly code?: string;
}

class BesideWorker {
  readonly words: Int32Array;
  readonly memory: SharedArrayBuffer;
  readonly input: SharedArrayBuffer;
  readonly worker: Worker;
  /** Called on each message, and when the worker fails or exits. */
  onEvent: (message: Message | Error) => void = () => undefined;
  /** Set when the worker has exited: it is not used again. */
  gone = false;

  constructor(readonly slotBytes: number, readonly pieceBytes: number) {
    const control = new SharedArrayBuffer(4 * (2 * SLOTS + 1));
    this.words = new Int32Array(control);
    this.memory = new SharedArrayBuffer(SLOTS * slotBytes);
    this.input = new SharedArrayBuffer(PIECES_AHEAD * pieceBytes);
    const workerData = { control, memory: this.memory, input: this.input, slots: SLOTS, slotBytes, pieceBytes };
    // Its heap holds a few small objects: a small one keeps its memory small.
    // Loaded with the first worker: a process that never starts one does not pay for the module.
    const { Worker: WorkerThread } = require('node:worker_threads') as typeof import('node:worker_threads');
    this.worker = new WorkerThread(WORKER_CODE, { eval: true, workerData, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } });
    this.worker.on('message', (message: Message) => this.onEvent(message));
    this.worker.on('error', (err) => this.onEvent(err));
    this.worker.on('exit', () => {
      this.gone = true;
      this.onEvent(new Error('the gunzip worker stopped'));
    });
  }

  slot(index: number): Uint8Array {
    return new Uint8Array(this.memory, index * this.slotBytes, this.words[SLOTS + index]);
  }
}

// ES2024's Atomics.waitAsync (Node 16 and later), not in the compiler's libraries here.
const { waitAsync } = Atomics as unknown as { waitAsync(words: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string } };

const idle: BesideWorker[] = [];
let files = 0;

/** Whether a worker is up and free, so a file may use it without waiting for one to start. */
export function workerIdle(): boolean {
  return idle.some((w) => !w.gone);
}

/** An idle worker, or a new one; undefined when none can start here (a resource limit). */
function takeWorker(slotBytes: number, pieceBytes: number): BesideWorker | undefined {
  for (let i = idle.length - 1; i >= 0; i--) if (idle[i]!.gone) idle.splice(i, 1);
  const found = idle.findIndex((w) => w.slotBytes === slotBytes && w.pieceBytes === pieceBytes);
  let worker: BesideWorker;
  try {
    worker = found >= 0 ? idle.splice(found, 1)[0]! : new BesideWorker(slotBytes, pieceBytes);
  } catch {
    return undefined;
  }
  worker.worker.ref();
  worker.words.fill(0);
  return worker;
}

function giveBack(worker: BesideWorker): void {
  worker.onEvent = () => undefined;
  worker.worker.unref();
  idle.push(worker);
}

/**
 * The decompressed bytes of gzip `pieces`, inflated on a worker thread in chunks of up to
 * `chunkBytes`. Each chunk is copied out of the shared slot at once, into `area()` when that
 * gives memory (valid until the next chunk is asked for, as in inflateHere), else into a new
 * buffer, so the worker may fill the slot again while the chunk is scanned. What a source gave
 * before it failed is handed on first; errors are zlib's own, as the stream raises them. Where no
 * worker can be created, the main thread inflates (inflateHere); a worker that fails or exits
 * part-way fails the file, as a broken stream would.
 */
export async function* inflateBeside(
  pieces: AsyncIterable<Uint8Array>,
  chunkBytes: number,
  pieceBytes: number,
  area: () => Uint8Array | undefined = () => undefined,
): AsyncGenerator<Uint8Array> {
  const beside = takeWorker(chunkBytes, pieceBytes);
  if (!beside) {
    yield* inflateHere(pieces, chunkBytes, area);
    return;
  }
  const { words, worker } = beside;
  let sent = 0;
  let taken = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let sourceFailure: { error: unknown } | undefined;
  let stopped = false;
  // The feeding loop and the reading loop may both be waiting for the worker's next message.
  let waiting: (() => void)[] = [];
  const notify = (): void => {
    const resolve = waiting;
    waiting = [];
    for (const wake of resolve) wake();
  };
  const wait = (): Promise<void> => new Promise((resolve) => {
    waiting.push(resolve);
  });
  const file = (files += 1);
  beside.onEvent = (event) => {
    if (!(event instanceof Error) && event.file !== file) return;
    if (event instanceof Error) failure ??= { error: event };
    else if (event.type === 'taken') taken += 1;
    else if (event.type === 'ended') ended = true;
    else failure ??= { error: Object.assign(new Error(event.message), { errno: event.errno, code: event.code }) };
    notify();
  };
  worker.postMessage({ type: 'start', file });

  // Sends the pieces as the worker takes them, a few ahead; runs beside the loop below.
  const feeding = (async () => {
    try {
      for await (const piece of pieces) {
        for (let from = 0; from < piece.length; from += pieceBytes) {
          // The slot of the piece PIECES_AHEAD before, which the worker has taken.
          while (sent - taken >= PIECES_AHEAD && !stopped && !failure && !ended) await wait();
          if (stopped || failure || ended) return;
          const part = piece.subarray(from, from + pieceBytes);
          const slot = sent % PIECES_AHEAD;
          new Uint8Array(beside.input, slot * pieceBytes, part.length).set(part);
          worker.postMessage({ type: 'piece', slot, length: part.length });
          sent += 1;
        }
      }
    } catch (err) {
      // The pieces sent are still inflated and handed on, then this is the file's error: no end is
      // sent, since finishing the gzip there would only report it truncated.
      sourceFailure = { error: err };
      notify();
      return;
    }
    if (!stopped && !failure && !ended) worker.postMessage({ type: 'end' });
  })();

  let next = 0;
  let clean = false;
  try {
    for (;;) {
      if (Atomics.load(words, next) === 1) {
        const slot = beside.slot(next);
        const into = area();
        const chunk = into && into.length >= slot.length ? into.subarray(0, slot.length) : Buffer.allocUnsafe(slot.length);
        chunk.set(slot);
        Atomics.store(words, next, 0);
        Atomics.notify(words, next);
        next = (next + 1) % SLOTS;
        yield chunk;
        continue;
      }
      if (failure) throw failure.error;
      if (ended || (sourceFailure && sent === taken)) break;
      // A full slot, a message, or the worker's end: whichever comes first.
      const full = waitAsync(words, next, 0);
      await (full.async ? Promise.race([full.value, wait()]) : Promise.resolve());
    }
    if (sourceFailure) throw sourceFailure.error;
    clean = true;
  } finally {
    stopped = true;
    notify();
    if (clean) {
      // The worker may take the next file at once: this one's feeding loop posts nothing more once it
      // sees `stopped` (it may still be waiting for a piece, after gzip data that ended early), and any
      // message of this file still on its way is not the next one's.
      giveBack(beside);
    } else {
      // Stopped early or failed: the worker may be waiting for a slot or part-way through a piece. The
      // feeding loop closes the source when its next piece comes (a stalled source ends at its deadline).
      Atomics.store(words, 2 * SLOTS, 1);
      for (let i = 0; i < SLOTS; i++) Atomics.notify(words, i);
      beside.onEvent = () => undefined;
      void worker.terminate();
    }
  }
}
