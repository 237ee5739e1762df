/**
 * A minimal WebAssembly module builder: enough of the binary format to write one SIMD kernel
 * in TypeScript (see record-splitter-kernel.ts). Code is built as nested arrays of opcodes;
 * branch targets are named `Label`s that become relative depths when the module is encoded, so
 * the kernel reads as structured code rather than as byte offsets.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof V128;

/** A branch target: the `block`, `loop` or `if_` that declares it. */
export class Label {
  constructor(readonly name: string) {}
}

interface Branch {
  readonly branch: 0x0c | 0x0d;
  readonly label: Label;
}

interface Structured {
  readonly opcode: 0x02 | 0x03 | 0x04;
  readonly label: Label;
  readonly body: Code;
  readonly otherwise?: Code;
}

type Item = number | Branch | Structured | Code;
/** Instructions, nested freely; flattened when the module is encoded. */
export type Code = readonly Item[];

export function uleb(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(value: number | bigint): number[] {
  const out: number[] = [];
  if (typeof value === 'number' && (value | 0) === value) {
    // 32-bit values, nearly all of them: arithmetic shifts keep the sign without BigInt.
    let v = value;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
      out.push(done ? byte : byte | 0x80);
      if (done) return out;
    }
  }
  let n = BigInt(value);
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const simd = (op: number, ...immediates: number[]): number[] => [0xfd, ...uleb(op), ...immediates];
const memarg = (offset: number): number[] => [0, ...uleb(offset)];

// Each operation takes its operands as code and appends its opcode: `add(a, b)` is `a b i32.add`.
const op = (opcode: number[] | number) => (...operands: Code[]): Code => [...operands, opcode];

export const i32 = {
  const: (n: number): Code => [0x41, ...sleb(n | 0)],
  eqz: op(0x45), eq: op(0x46), ne: op(0x47), lt_s: op(0x48), lt_u: op(0x49), gt_s: op(0x4a), gt_u: op(0x4b),
  le_s: op(0x4c), le_u: op(0x4d), ge_s: op(0x4e), ge_u: op(0x4f),
  ctz: op(0x68), popcnt: op(0x69), add: op(0x6a), sub: op(0x6b), mul: op(0x6c),
  and: op(0x71), or: op(0x72), xor: op(0x73), shl: op(0x74), shr_s: op(0x75), shr_u: op(0x76),
  wrap: op(0xa7),
  load8_u: (address: Code, offset = 0): Code => [address, 0x2d, ...memarg(offset)],
  load: (address: Code, offset = 0): Code => [address, 0x28, 2, ...uleb(offset)],
  store8: (address: Code, value: Code, offset = 0): Code => [address, value, 0x3a, ...memarg(offset)],
  store: (address: Code, value: Code, offset = 0): Code => [address, value, 0x36, 2, ...uleb(offset)],
  select: (whenTrue: Code, whenFalse: Code, condition: Code): Code => [whenTrue, whenFalse, condition, 0x1b],
};

export const i64 = {
  const: (n: number | bigint): Code => [0x42, ...sleb(n)],
  eqz: op(0x50), eq: op(0x51), ne: op(0x52),
  ctz: op(0x7a), popcnt: op(0x7b), add: op(0x7c), sub: op(0x7d),
  and: op(0x83), or: op(0x84), xor: op(0x85), shl: op(0x86), shr_s: op(0x87), shr_u: op(0x88),
  extend_u: op(0xad), extend_s: op(0xac),
  select: (whenTrue: Code, whenFalse: Code, condition: Code): Code => [whenTrue, whenFalse, condition, 0x1b],
};

export const v128 = {
  const: (bytes: readonly number[]): Code => [simd(0x0c, ...bytes)],
  load: (address: Code, offset = 0): Code => [address, simd(0x00, ...memarg(offset))],
  and: op(simd(0x4e)), or: op(simd(0x50)), any_true: op(simd(0x53)),
};

export const i8x16 = {
  splat: op(simd(0x0f)), swizzle: op(simd(0x0e)),
  eq: op(simd(0x23)), lt_u: op(simd(0x26)),
  bitmask: op(simd(0x64)), shl: op(simd(0x6b)), add: op(simd(0x6e)),
};

export const local = {
  get: (index: number): Code => [0x20, ...uleb(index)],
  set: (index: number, value: Code): Code => [value, 0x21, ...uleb(index)],
  tee: (index: number, value: Code): Code => [value, 0x22, ...uleb(index)],
};

export const global = {
  get: (index: number): Code => [0x23, ...uleb(index)],
  set: (index: number, value: Code): Code => [value, 0x24, ...uleb(index)],
};

export const ret = (value?: Code): Code => [value ?? [], 0x0f];
export const drop = (value: Code): Code => [value, 0x1a];

export const block = (label: Label, ...body: Code[]): Code => [{ opcode: 0x02, label, body }];
export const loop = (label: Label, ...body: Code[]): Code => [{ opcode: 0x03, label, body }];
/** `if` without a result; its label is a branch target like a block's. */
export const if_ = (condition: Code, then: Code, otherwise?: Code, label = new Label('if')): Code => [
  condition,
  { opcode: 0x04, label, body: then, otherwise },
];
export const br = (label: Label): Code => [{ branch: 0x0c, label }];
export const br_if = (label: Label, condition: Code): Code => [condition, { branch: 0x0d, label }];

function isBranch(item: Item): item is Branch {
  return typeof item === 'object' && 'branch' in item;
}

function isStructured(item: Item): item is Structured {
  return typeof item === 'object' && 'opcode' in item;
}

function flatten(code: Code, labels: Label[], out: number[]): void {
  for (const item of code) {
    if (typeof item === 'number') out.push(item);
    else if (isBranch(item)) {
      const index = labels.lastIndexOf(item.label);
      if (index < 0) throw new Error(`branch to ${item.label.name} outside its block`);
      out.push(item.branch, ...uleb(labels.length - 1 - index));
    } else if (isStructured(item)) {
      out.push(item.opcode, 0x40);
      labels.push(item.label);
      flatten(item.body, labels, out);
      if (item.otherwise) {
        out.push(0x05);
        flatten(item.otherwise, labels, out);
      }
      labels.pop();
      out.push(0x0b);
    } else flatten(item, labels, out);
  }
}

export interface FunctionSpec {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly locals: readonly ValType[];
  readonly body: Code;
}

export interface GlobalSpec {
  readonly name: string;
  readonly type: typeof I32 | typeof I64;
  readonly initial: number;
}

export interface DataSpec {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface ModuleSpec {
  readonly memoryPages: number;
  readonly globals: readonly GlobalSpec[];
  readonly functions: readonly FunctionSpec[];
  readonly data: readonly DataSpec[];
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const name = (text: string): number[] => vec([...Buffer.from(text, 'utf8')].map((b) => [b]));

/** Encodes a module: one memory and every global and function exported under its own name. */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const types = spec.functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const globals = spec.globals.map((g) => [g.type, 0x01, ...(g.type === I32 ? i32.const(g.initial) : i64.const(g.initial)).flat() as number[], 0x0b]);
  const exports = [
    [...name('memory'), 0x02, 0],
    ...spec.globals.map((g, index) => [...name(g.name), 0x03, ...uleb(index)]),
    ...spec.functions.map((f, index) => [...name(f.name), 0x00, ...uleb(index)]),
  ];
  const bodies = spec.functions.map((f) => {
    const code: number[] = [];
    flatten(f.body, [], code);
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...code, 0x0b];
    return [...uleb(body.length), ...body];
  });
  const data = spec.data.map((d) => [0x00, ...i32.const(d.offset).flat() as number[], 0x0b, ...uleb(d.bytes.length), ...d.bytes]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(spec.functions.map((_, index) => uleb(index)))),
    ...section(5, vec([[0x00, ...uleb(spec.memoryPages)]])),
    ...section(6, vec(globals)),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
    ...section(11, vec(data)),
  ]);
}
