/**
 * The byte scanner behind RecordSplitter, as a WebAssembly SIMD kernel.
 *
 * Why WebAssembly: gunzip inflates a CloudTrail file at about 1 GB/s of JSON on the libuv thread
 * pool, and a JavaScript loop that looks at every byte runs at about half that, so it could never
 * keep up. This kernel classifies 64 bytes per step with 16-byte vector compares (the first pass
 * of the fastest JSON parsers works the same way): quotes, backslashes, brackets, control
 * characters, and the bytes that can make a record an ACM one. Quote positions become an "inside
 * a string" mask with a prefix XOR, so brackets inside strings are ignored without visiting them.
 * Brackets outside strings are counted, not visited: a block with fewer closing brackets than
 * the depth cannot end the record, so only the depth moves; they are visited one by one only in
 * a block where the record may end (about one per record).
 *
 * What it reports: how many elements of the top-level `Records` array ended, and an event for
 * each element the JavaScript side must see: one whose bytes contain `cm` or a `\u` escape (the
 * only ways its parsed `eventSource` can read `acm.amazonaws.com` or `acm-pca.amazonaws.com`),
 * a string or number (to be validated), or one that began in an earlier input (its parts are
 * held there). An event gives the element's kind, where it starts and ends, and whether it is
 * a candidate; other records, nearly all of them, cost no event at all. What it checks:
 * everything about strings (termination, escapes, no raw control characters), that brackets
 * balance, and the exact grammar of the array itself (elements, commas, whitespace). It does not
 * check the order of tokens between strings inside an element, nor which kind of bracket closes
 * which: candidates are checked in full by JSON.parse, and other records are never parsed (see
 * record-splitter.ts). A record whose brackets do not match (`{"a":[}]`) could never come
 * from CloudTrail, which writes the files; if it holds no sign of ACM it is counted, not read.
 *
 * This file holds the memory layout and state the kernel and RecordSplitter share, and loads
 * the kernel. Its code is written in record-splitter-kernel-source.ts; the built bytes are kept
 * in record-splitter-kernel-wasm.ts (`npm run build:kernel`).
 */
import { KERNEL_WASM } from './record-splitter-kernel-wasm';
import { I32, I64 } from './wasm-builder';

/** Why the kernel returned from `scan`. */
export const STATUS = { needInput: 0, arrayEnd: 1, outputFull: 2, error: 3 } as const;

/** The kind of an element of the `Records` array, in the low byte of an event's flags. */
export const KIND = { object: 1, array: 2, string: 3, scalar: 4 } as const;
/** Set in an event's flags when the element's bytes could make it an ACM record. */
export const CANDIDATE_FLAG = 0x100;

/** What the array-level state machine expects next; `container`, `string` and `scalar` are inside an element. */
export const MODE = { first: 0, element: 1, separator: 2, container: 3, string: 4, scalar: 5 } as const;

export const ERROR = { controlInString: 1, badCharacter: 2, badEscape: 3, unexpected: 4 } as const;

/** Memory layout: lookup tables, vector constants, the event output, then the input. */
export const ESC_TABLE = 0;
export const HEX_TABLE = 256;
export const DELIM_TABLE = 512;
export const CONST_TABLE = 768;
export const CONST_SLOTS = 16;
export const OUT = 1024;
export const OUT_EVENTS = 4096;
/** Where input bytes go; the 64 bytes before hold the end of the previous input (for patterns split across inputs). */
export const IN = 65536 + 64;
/** The most input bytes one `scan` call takes. */
export const IN_CAPACITY = 1 << 20;
/** Bytes after the input that the vector loads may read; the caller fills them with spaces. */
export const IN_PADDING = 128;
export const PAGES = Math.ceil((IN + IN_CAPACITY + IN_PADDING) / 65536);

export const G = {
  pos: 0, inString: 1, escCarry: 2, hexPending: 3, depth: 4, mode: 5, kind: 6, elemStart: 7, cand: 8, scalarLast: 9,
  events: 10, errCode: 11, errPos: 12, endPos: 13, openFrom: 14, elements: 15,
} as const;
export const GLOBALS = [
  { name: 'pos', type: I32 }, { name: 'inString', type: I64 }, { name: 'escCarry', type: I32 }, { name: 'hexPending', type: I32 },
  { name: 'depth', type: I32 }, { name: 'mode', type: I32 }, { name: 'kind', type: I32 }, { name: 'elemStart', type: I32 },
  { name: 'cand', type: I32 }, { name: 'scalarLast', type: I32 }, { name: 'events', type: I32 }, { name: 'errCode', type: I32 },
  { name: 'errPos', type: I32 }, { name: 'endPos', type: I32 }, { name: 'openFrom', type: I32 }, { name: 'elements', type: I32 },
] as const;

/** One kernel instance: its memory and its state, read and written by RecordSplitter. */
export interface Kernel {
  readonly memory: Uint8Array;
  readonly events: Int32Array;
  scan(length: number): number;
  get(name: keyof typeof G): number;
  set(name: keyof typeof G, value: number): void;
}

// The compiler's libraries here describe no WebAssembly API (it is a web global), so name the little that is used.
interface WasmGlobal {
  value: number | bigint;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;
/** Every kernel's memory, so that bytes inside one can be told apart (a decoder may inflate into it). */
const memories = new WeakSet<ArrayBufferLike>();

/**
 * Bytes that may be kept past the current write: a copy when they are in a kernel's memory,
 * which the next input overwrites; otherwise the bytes themselves (producers hand chunks over for good).
 */
export function keepable(bytes: Uint8Array): Uint8Array {
  return memories.has(bytes.buffer) ? Buffer.from(bytes) : bytes;
}

/** Whether `bytes` are in a kernel's memory. */
export function inKernelMemory(bytes: Uint8Array): boolean {
  return memories.has(bytes.buffer);
}

export function createKernel(): Kernel {
  compiled ??= new wasm.Module(Buffer.from(KERNEL_WASM, 'base64'));
  const exports = new wasm.Instance(compiled, {}).exports;
  const memory = exports.memory as { buffer: ArrayBuffer };
  memories.add(memory.buffer);
  const globals = Object.fromEntries(GLOBALS.map((g) => [g.name, exports[g.name] as WasmGlobal])) as Record<keyof typeof G, WasmGlobal>;
  return {
    memory: new Uint8Array(memory.buffer),
    events: new Int32Array(memory.buffer, OUT, OUT_EVENTS * 3),
    scan: exports.scan as (length: number) => number,
    get: (name) => Number(globals[name].value),
    set: (name, value) => {
      globals[name].value = GLOBALS[G[name]].type === I64 ? BigInt(value) : value;
    },
  };
}
