/**
 * Builds the record splitter's WebAssembly kernel (see record-splitter-kernel.ts for what it does
 * and why). The built bytes are kept in record-splitter-kernel-wasm.ts, so a process loads them
 * instead of building them at startup; `npm run build:kernel` rewrites that file after a change
 * here, and a test fails while it is stale.
 */
import {
  block, br, br_if, encodeModule, global, i32, I32, i64, I64, i8x16, if_, Label, local, loop, ret, V128, v128, type Code, type ValType,
} from './wasm-builder';
import {
  CONST_SLOTS, CONST_TABLE, DELIM_TABLE, ERROR, ESC_TABLE, G, GLOBALS, HEX_TABLE, IN, KIND, MODE, OUT, OUT_EVENTS, PAGES, STATUS,
} from './record-splitter-kernel';

function tables(): { offset: number; bytes: Uint8Array }[] {
  const esc = new Uint8Array(256);
  for (const c of '"\\/bfnrt') esc[c.charCodeAt(0)] = 1;
  esc['u'.charCodeAt(0)] = 2;
  const hex = new Uint8Array(256);
  for (const c of '0123456789abcdefABCDEF') hex[c.charCodeAt(0)] = 1;
  const delim = new Uint8Array(256);
  for (const c of ',]}{[":') delim[c.charCodeAt(0)] = 1;
  return [{ offset: ESC_TABLE, bytes: esc }, { offset: HEX_TABLE, bytes: hex }, { offset: DELIM_TABLE, bytes: delim }];
}

function buildScan(): { locals: ValType[]; body: Code; constants: Uint8Array } {
  const types: ValType[] = [];
  const add = (type: ValType): number => types.push(type); // parameter 0 is `len`, so locals start at 1
  const len = 0;
  const p = add(I32), n = add(I32), addr = add(I32), addrm2 = add(I32);
  const v = [add(V128), add(V128), add(V128), add(V128)];
  const qlo = add(I32), qhi = add(I32), blo = add(I32), bhi = add(I32), clo = add(I32), chi = add(I32);
  const q = add(I64), brackets = add(I64), bs = add(I64), ctl = add(I64), uq = add(I64), inside = add(I64), candU = add(I64);
  const esc = add(I64), candMask = add(I64), tok = add(I64), m = add(I64), t = add(I64), closes = add(I64), closing = add(I32);
  const i = add(I32), c = add(I32), from = add(I32), candFrom = add(I32), errFirst = add(I32), errKind = add(I32);
  const wsDone = add(I32), susp = add(I32), j = add(I32), x = add(I32);

  const get = local.get;
  const set = local.set;
  const gget = global.get;
  const gset = global.set;
  const c32 = i32.const;
  const c64 = i64.const;
  // Vector constants are loaded from a table once per call into locals: written as immediates, each
  // would be rebuilt (three instructions) on every block.
  const constants = new Map<number, number>();
  const splat = (byte: number): Code => {
    if (!constants.has(byte)) constants.set(byte, add(V128));
    return get(constants.get(byte)!);
  };
  const not64 = (a: Code): Code => i64.xor(a, c64(-1));
  const bit = (mask: Code, index: Code): Code => i64.ne(i64.and(i64.shr_u(mask, i64.extend_u(index)), c64(1)), c64(0));
  const from64 = (index: Code): Code => i64.shl(c64(-1), i64.extend_u(index));
  // Four 16-lane compare results into one 64-bit mask, bit k for byte k of the block.
  const mask64 = (lanes: (k: number) => Code): Code => i64.or(
    i64.extend_u(i32.or(i8x16.bitmask(lanes(0)), i32.shl(i8x16.bitmask(lanes(1)), c32(16)))),
    i64.shl(i64.extend_u(i32.or(i8x16.bitmask(lanes(2)), i32.shl(i8x16.bitmask(lanes(3)), c32(16)))), c64(32)),
  );
  const anyOf = (lanes: (k: number) => Code): Code => v128.any_true(v128.or(v128.or(lanes(0), lanes(1)), v128.or(lanes(2), lanes(3))));
  const eqv = (k: number, byte: number): Code => i8x16.eq(get(v[k]!), splat(byte));
  // `m` with `c` before it and `a` before that; the other sign of a candidate, `\u`, only occurs in blocks with a backslash.
  const candidateAt = (k: number): Code =>
    v128.and(eqv(0, 0x6d), i8x16.eq(v128.load(get(addrm2), 16 * k + 1), splat(0x63)));
  // `{` and `[` are `{` once bit 5 is set, `}` and `]` are `}`: two compares find every bracket.
  const bracket = (k: number): Code => {
    const lower = v128.or(get(v[k]!), splat(0x20));
    return v128.or(i8x16.eq(lower, splat(0x7b)), i8x16.eq(lower, splat(0x7d)));
  };
  // Control characters and backslashes: rare in CloudTrail, and each needs a closer look.
  const unusual = (k: number): Code => v128.or(control(k), eqv(k, 0x5c));
  // Bytes below 0x20 are those with none of the top three bits set (cheaper than an unsigned compare).
  function control(k: number): Code {
    return i8x16.eq(v128.and(get(v[k]!), splat(0xe0)), splat(0));
  }
  const flag = (position: number, code: number): Code =>
    if_(i32.lt_u(get(position), get(errFirst)), [set(errFirst, get(position)), set(errKind, c32(code))]);
  const fail = (position: Code, code: Code): Code => [
    gset(G.errCode, code), gset(G.errPos, i32.add(get(p), position)), ret(c32(STATUS.error)),
  ];
  const emit = (flags: Code, start: Code, end: Code): Code => [
    set(x, i32.add(c32(OUT), i32.mul(gget(G.events), c32(12)))),
    i32.store(get(x), flags), i32.store(get(x), start, 4), i32.store(get(x), end, 8),
    gset(G.events, i32.add(gget(G.events), c32(1))),
  ];
  const countElement = (): Code => gset(G.elements, i32.add(gget(G.elements), c32(1)));
  const isMode = (mode: number): Code => i32.eq(gget(G.mode), c32(mode));

  // Validates the escaped byte at `j`; a \u escape also needs four hex digits, some maybe in the next block.
  const checkEscape = (): Code => {
    const digits = new Label('digits');
    return [
      set(x, i32.load8_u(i32.add(get(addr), get(j)), 0)),
      set(x, i32.load8_u(get(x), ESC_TABLE)),
      if_(i32.eqz(get(x)), flag(j, ERROR.badEscape)),
      if_(i32.eq(get(x), c32(2)), [
        set(x, c32(1)),
        loop(digits, [
          set(j, i32.add(get(j), c32(1))),
          if_(i32.lt_u(get(j), get(n)),
            if_(i32.eqz(i32.load8_u(i32.load8_u(i32.add(get(addr), get(j))), HEX_TABLE)), flag(j, ERROR.badEscape)),
            gset(G.hexPending, i32.add(gget(G.hexPending), c32(1)))),
          set(x, i32.add(get(x), c32(1))),
          br_if(digits, i32.le_u(get(x), c32(4))),
        ]),
      ]),
    ];
  };

  const blocks = new Label('blocks');
  const hex = new Label('hex');
  const hexDone = new Label('hexDone');
  const escapes = new Label('escapes');
  const escapesDone = new Label('escapesDone');
  const iter = new Label('iter');
  const blockDone = new Label('blockDone');

  const body: Code = [
    set(p, gget(G.pos)),
    gset(G.events, c32(0)),
    gset(G.elements, c32(0)),
    loop(blocks, [
      // The input is used up: say where an open element began, then make positions relative to the next input.
      if_(i32.ge_u(get(p), get(len)), [
        gset(G.pos, c32(0)),
        gset(G.openFrom, i32.select(gget(G.elemStart), c32(0), i32.ge_s(gget(G.elemStart), c32(0)))),
        gset(G.elemStart, c32(-1)),
        gset(G.scalarLast, i32.select(c32(-1), c32(-2), i32.eq(gget(G.scalarLast), i32.sub(get(len), c32(1))))),
        ret(c32(STATUS.needInput)),
      ]),
      set(addr, i32.add(get(p), c32(IN))),
      set(addrm2, i32.sub(get(addr), c32(2))),
      // One 16-byte vector at a time, each reduced at once to 16-bit masks: quotes, brackets, candidate
      // bytes, and whether anything unusual is there. Keeping no vector alive for long keeps them in registers.
      set(qlo, c32(0)), set(qhi, c32(0)), set(blo, c32(0)), set(bhi, c32(0)), set(clo, c32(0)), set(chi, c32(0)), set(susp, c32(0)),
      ...[0, 1, 2, 3].map((k) => {
        const [qm, bm, cm] = k < 2 ? [qlo, blo, clo] : [qhi, bhi, chi];
        const shift = (mask: Code): Code => (k % 2 ? i32.shl(mask, c32(16)) : mask);
        return [
          set(v[0]!, v128.load(get(addr), 16 * k)),
          set(qm, i32.or(get(qm), shift(i8x16.bitmask(eqv(0, 0x22))))),
          set(bm, i32.or(get(bm), shift(i8x16.bitmask(bracket(0))))),
          set(cm, i32.or(get(cm), shift(i8x16.bitmask(candidateAt(k))))),
          set(susp, i32.or(get(susp), i8x16.bitmask(unusual(0)))),
        ];
      }),
      set(susp, i32.or(get(susp), i32.or(gget(G.escCarry), gget(G.hexPending)))),
      // Most blocks: inside an element, no bracket, nothing unusual. Only the string state moves, by
      // the parity of the block's quotes (the bytes after the input are spaces, so a short last block is no different).
      if_(i32.and(i32.eqz(i32.or(get(susp), i32.or(get(blo), get(bhi)))), isMode(MODE.container)), [
        gset(G.inString, i64.xor(gget(G.inString), i64.extend_s(i32.sub(c32(0), i32.and(i32.popcnt(i32.xor(get(qlo), get(qhi))), c32(1)))))),
        if_(i32.or(get(clo), get(chi)), gset(G.cand, c32(1))),
        set(p, i32.add(get(p), c32(64))),
        br(blocks),
      ]),

      // A block emits at most 64 events; stop at a block boundary, where every carry is consistent.
      if_(i32.gt_u(i32.add(gget(G.events), c32(64)), c32(OUT_EVENTS)), [gset(G.pos, get(p)), ret(c32(STATUS.outputFull))]),
      set(n, i32.select(c32(64), i32.sub(get(len), get(p)), i32.gt_u(i32.sub(get(len), get(p)), c32(64)))),
      ...[0, 1, 2, 3].map((k) => set(v[k]!, v128.load(get(addr), 16 * k))),
      set(q, i64.or(i64.extend_u(get(qlo)), i64.shl(i64.extend_u(get(qhi)), c64(32)))),
      set(brackets, i64.or(i64.extend_u(get(blo)), i64.shl(i64.extend_u(get(bhi)), c64(32)))),

      set(bs, c64(0)), set(ctl, c64(0)), set(esc, c64(0)), set(candU, c64(0)), set(errFirst, c32(64)), set(errKind, c32(0)),
      if_(get(susp), [
        set(bs, mask64((k) => eqv(k, 0x5c))),
        set(ctl, mask64(control)),
        // Hex digits of a \u escape that began in the previous block.
        if_(gget(G.hexPending), [
          set(j, c32(0)),
          block(hexDone, loop(hex, [
            br_if(hexDone, i32.ge_u(get(j), gget(G.hexPending))),
            br_if(hexDone, i32.ge_u(get(j), get(n))),
            if_(i32.eqz(i32.load8_u(i32.load8_u(i32.add(get(addr), get(j))), HEX_TABLE)), flag(j, ERROR.badEscape)),
            set(j, i32.add(get(j), c32(1))),
            br(hex),
          ])),
          gset(G.hexPending, i32.sub(gget(G.hexPending), get(j))),
        ]),
        if_(gget(G.escCarry), [set(esc, c64(1)), gset(G.escCarry, c32(0)), set(j, c32(0)), checkEscape()]),
        // A backslash escapes the next byte unless it is escaped itself; backslashes are rare, so walk them.
        set(m, get(bs)),
        block(escapesDone, loop(escapes, [
          br_if(escapesDone, i64.eqz(get(m))),
          set(i, i32.wrap(i64.ctz(get(m)))),
          set(m, i64.and(get(m), i64.sub(get(m), c64(1)))),
          if_(i32.eqz(bit(get(esc), get(i))), [
            set(j, i32.add(get(i), c32(1))),
            if_(i32.ge_u(get(j), get(n)),
              gset(G.escCarry, c32(1)),
              [set(esc, i64.or(get(esc), i64.shl(c64(1), i64.extend_u(get(j))))), checkEscape()]),
          ]),
          br(escapes),
        ])),
        // An escaped `u` is a \u escape, which could spell anything once parsed.
        set(candU, i64.and(get(esc), mask64((k) => eqv(k, 0x75)))),
      ]),

      set(uq, i64.and(get(q), not64(get(esc)))),
      // Prefix XOR: bit k is set when an odd number of unescaped quotes are at or before byte k.
      set(inside, get(uq)),
      ...[1, 2, 4, 8, 16, 32].map((shift) => set(inside, i64.xor(get(inside), i64.shl(get(inside), c64(shift))))),
      set(inside, i64.xor(get(inside), gget(G.inString))),
      gset(G.inString, i64.shr_s(get(inside), c64(63))),

      if_(get(susp), [
        // Raw control characters: never inside strings, only \t \n \r outside; backslashes only inside.
        set(t, mask64((k) => v128.or(v128.or(eqv(k, 0x09), eqv(k, 0x0a)), eqv(k, 0x0d)))),
        set(t, i64.or(i64.and(get(ctl), get(inside)), i64.and(i64.and(get(ctl), not64(get(inside))), not64(get(t))))),
        if_(i64.ne(get(t), c64(0)), [set(x, i32.wrap(i64.ctz(get(t)))), flag(x, ERROR.controlInString)]),
        set(t, i64.and(get(bs), not64(get(inside)))),
        if_(i64.ne(get(t), c64(0)), [set(x, i32.wrap(i64.ctz(get(t)))), flag(x, ERROR.badCharacter)]),
      ]),
      set(candMask, get(candU)),
      set(candMask, i64.or(get(candMask), i64.or(i64.extend_u(get(clo)), i64.shl(i64.extend_u(get(chi)), c64(32))))),
      set(brackets, i64.and(get(brackets), not64(get(inside)))),
      set(from, c32(0)), set(candFrom, c32(0)), set(wsDone, c32(0)),
      // Inside an element, a block with fewer closing brackets than the depth cannot end it: only
      // the depth moves, by the counts, and no bracket is visited (most blocks with any bracket).
      if_(isMode(MODE.container), [
        set(closes, i64.and(get(brackets), mask64((k) => i8x16.eq(v128.or(get(v[k]!), splat(0x20)), splat(0x7d))))),
        set(closing, i32.wrap(i64.popcnt(get(closes)))),
        if_(i32.gt_s(gget(G.depth), get(closing)), [
          gset(G.depth, i32.add(gget(G.depth), i32.sub(i32.wrap(i64.popcnt(i64.xor(get(brackets), get(closes)))), get(closing)))),
          if_(i64.ne(get(candMask), c64(0)), gset(G.cand, c32(1))),
          if_(i32.lt_u(get(errFirst), get(n)), fail(get(errFirst), get(errKind))),
          set(p, i32.add(get(p), get(n))),
          br(blocks),
        ]),
      ]),

      // Walk the block's events in order: brackets inside an element, tokens between elements.
      block(blockDone, loop(iter, [
        br_if(blockDone, i32.ge_u(get(from), get(n))),
        if_(isMode(MODE.container), [
          set(m, i64.and(get(brackets), from64(get(from)))),
          br_if(blockDone, i64.eqz(get(m))),
          set(i, i32.wrap(i64.ctz(get(m)))),
          if_(i32.ge_u(get(i), get(errFirst)), fail(get(errFirst), get(errKind))),
          set(c, i32.load8_u(i32.add(get(addr), get(i)))),
          if_(i32.eq(i32.or(get(c), c32(0x20)), c32(0x7b)), [
            gset(G.depth, i32.add(gget(G.depth), c32(1))),
          ], [
            gset(G.depth, i32.sub(gget(G.depth), c32(1))),
            if_(i32.eqz(gget(G.depth)), [
              if_(i64.ne(i64.and(i64.and(get(candMask), from64(get(candFrom))), i64.sub(i64.shl(c64(1), i64.extend_u(get(i))), c64(1))), c64(0)),
                gset(G.cand, c32(1))),
              countElement(),
              // Most records are neither candidates nor carried over from an earlier input: only counted.
              if_(i32.or(gget(G.cand), i32.lt_s(gget(G.elemStart), c32(0))),
                emit(i32.or(gget(G.kind), i32.shl(gget(G.cand), c32(8))), gget(G.elemStart), i32.add(get(p), get(i)))),
              gset(G.cand, c32(0)),
              gset(G.mode, c32(MODE.separator)),
            ]),
          ]),
          set(from, i32.add(get(i), c32(1))),
          br(iter),
        ]),

        // Between elements, or in a string or scalar element: every byte that is not whitespace matters.
        if_(i32.eqz(get(wsDone)), [
          set(t, mask64((k) => v128.or(v128.or(eqv(k, 0x20), eqv(k, 0x09)), v128.or(eqv(k, 0x0a), eqv(k, 0x0d))))),
          set(tok, i64.or(i64.and(not64(get(t)), not64(get(inside))), get(uq))),
          set(wsDone, c32(1)),
        ]),
        set(m, i64.and(get(tok), from64(get(from)))),
        br_if(blockDone, i64.eqz(get(m))),
        set(i, i32.wrap(i64.ctz(get(m)))),
        if_(i32.ge_u(get(i), get(errFirst)), fail(get(errFirst), get(errKind))),
        set(c, i32.load8_u(i32.add(get(addr), get(i)))),
        if_(isMode(MODE.scalar), [
          if_(i32.and(i32.eq(i32.add(get(p), get(i)), i32.add(gget(G.scalarLast), c32(1))), i32.eqz(i32.load8_u(get(c), DELIM_TABLE))), [
            gset(G.scalarLast, i32.add(get(p), get(i))),
            set(from, i32.add(get(i), c32(1))),
            br(iter),
          ]),
          countElement(),
          emit(c32(KIND.scalar), gget(G.elemStart), gget(G.scalarLast)),
          gset(G.mode, c32(MODE.separator)),
          br(iter),
        ]),
        if_(isMode(MODE.string), [
          countElement(),
          emit(c32(KIND.string), gget(G.elemStart), i32.add(get(p), get(i))),
          gset(G.mode, c32(MODE.separator)),
          set(from, i32.add(get(i), c32(1))),
          br(iter),
        ]),
        if_(isMode(MODE.separator), [
          if_(i32.eq(get(c), c32(0x2c)), [gset(G.mode, c32(MODE.element)), set(from, i32.add(get(i), c32(1))), br(iter)]),
          if_(i32.eq(get(c), c32(0x5d)), [gset(G.endPos, i32.add(get(p), get(i))), ret(c32(STATUS.arrayEnd))]),
          fail(get(i), c32(ERROR.unexpected)),
        ]),
        // Expecting an element (or, right after the opening bracket, the end of the array).
        if_(i32.eq(get(c), c32(0x5d)), [
          if_(isMode(MODE.first), [gset(G.endPos, i32.add(get(p), get(i))), ret(c32(STATUS.arrayEnd))]),
          fail(get(i), c32(ERROR.unexpected)),
        ]),
        if_(i32.eq(i32.or(get(c), c32(0x20)), c32(0x7b)), [
          gset(G.mode, c32(MODE.container)),
          gset(G.depth, c32(1)),
          gset(G.kind, i32.select(c32(KIND.object), c32(KIND.array), i32.eq(get(c), c32(0x7b)))),
          gset(G.elemStart, i32.add(get(p), get(i))),
          gset(G.cand, c32(0)),
          set(candFrom, get(i)),
          set(from, i32.add(get(i), c32(1))),
          br(iter),
        ]),
        if_(i32.eq(get(c), c32(0x22)), [
          gset(G.mode, c32(MODE.string)),
          gset(G.kind, c32(KIND.string)),
          gset(G.elemStart, i32.add(get(p), get(i))),
          set(from, i32.add(get(i), c32(1))),
          br(iter),
        ]),
        if_(i32.load8_u(get(c), DELIM_TABLE), fail(get(i), c32(ERROR.unexpected))),
        gset(G.mode, c32(MODE.scalar)),
        gset(G.kind, c32(KIND.scalar)),
        gset(G.elemStart, i32.add(get(p), get(i))),
        gset(G.scalarLast, i32.add(get(p), get(i))),
        set(from, i32.add(get(i), c32(1))),
        br(iter),
      ])),
      // The signs of ACM in the element still open at the block's end, from where it began or the block did
      // (after the loop, so a block whose last byte is a bracket counts them too).
      if_(isMode(MODE.container), if_(i64.ne(i64.and(get(candMask), from64(get(candFrom))), c64(0)), gset(G.cand, c32(1)))),
      // An error this block found that no event reached: a control character or stray backslash in a record.
      if_(i32.lt_u(get(errFirst), get(n)), fail(get(errFirst), get(errKind))),
      set(p, i32.add(get(p), get(n))),
      br(blocks),
    ]),
    c32(STATUS.needInput),
  ];
  const bytes = [...constants.keys()];
  if (bytes.length > CONST_SLOTS) throw new Error('too many vector constants for the constant table');
  const load = [...constants.values()].map((index, slot) => set(index, v128.load(c32(CONST_TABLE + 16 * slot))));
  return { locals: types, body: [load, body], constants: new Uint8Array(bytes.flatMap((byte) => new Array<number>(16).fill(byte))) };
}

/** The kernel's module bytes. */
export function kernelModuleBytes(): Uint8Array {
  const scan = buildScan();
  return encodeModule({
    memoryPages: PAGES,
    globals: GLOBALS.map((g) => ({ ...g, initial: 0 })),
    functions: [{ name: 'scan', params: [I32], results: [I32], locals: scan.locals, body: scan.body }],
    data: [...tables(), { offset: CONST_TABLE, bytes: scan.constants }],
  });
}


/** The text of record-splitter-kernel-wasm.ts for the current source: the module bytes in base64, in lines of 100 characters. */
export function kernelModuleText(): string {
  const base64 = Buffer.from(kernelModuleBytes()).toString('base64');
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    '// Generated by `npm run build:kernel` from record-splitter-kernel-source.ts; do not edit.',
    '// The record splitter\'s WebAssembly kernel, in base64.',
    'export const KERNEL_WASM = [',
    ...lines.map((line) => `  '${line}',`),
    "].join('');",
    '',
  ].join('\n');
}
