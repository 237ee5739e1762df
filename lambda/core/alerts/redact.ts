/**
 * Removes secrets from anything that may reach an alert, a log line or an error, by field name and
 * by content, wherever they sit. Every string here may have been chosen by an attacker, so every
 * scan is hand-written over char codes: linear in the length of the text, constant extra stack,
 * no regular expression that could backtrack. Objects are walked at most {@link MAX_DEPTH} deep.
 *
 * By content ({@link redactString}), each secret span becomes `[redacted]` and the rest stays:
 * - PEM-like blocks (`-----BEGIN …-----` through the `-----END …-----` with the same label, or to the
 *   end of the text), which covers OpenSSH and SSH2 keys; PuTTY key files through `Private-MAC:`;
 * - long base64 / base64url runs that look random (see {@link looksRandom}), also when wrapped or
 *   split by whitespace;
 * - 64 or more hex digits, also with separators (`ab:cd:…`, spaces, dashes), except UUIDs;
 * - lists of 16 or more byte values written as text (`[42, 17, 3, …]`);
 * - values of secret members in JSON text (`"privateKey": "…"`; JWK `d`, `p`, … when the text has `"kty"`);
 * - CloudTrail's `HIDDEN_DUE_TO_SECURITY_REASONS` placeholder.
 * By structure ({@link redactDeep}): fields whose name means a secret, JWK private members, byte
 * arrays and ByteBuffer dumps.
 */
export const REDACTED = '[redacted]';

const NESTED_TOO_DEEP = '[nested too deep]';
const MAX_DEPTH = 8;
const MAX_STRING = 1024;

/** Normalized names (lower case, letters and digits only) whose value is secret whatever it holds. */
const SECRET_NAMES = new Set(['certificate', 'certificatechain', 'csr', 'secret', 'credential', 'credentials', 'hb', 'pwd', 'pass', 'pin', 'hmac', 'private']);
/** Fragments that make any normalized name secret: `PrivateKeyPem`, `eab_hmac_key`, `keyMaterial`. */
const SECRET_NAME_PARTS = [
  'privatekey', 'passphrase', 'password', 'passwd', 'secretkey', 'secretaccesskey', 'sessiontoken', 'clientsecret', 'mackey', 'keymaterial', 'plaintext',
  'privkey', 'privatepem', 'privatedata', 'secretvalue', 'secretstring', 'sharedsecret', 'apisecret', 'credentialvalue', 'signingkey', 'hmackey',
  'accountkey', 'eabkey', 'hmacsecret', 'macsecret',
];
/** RFC 7517/7518 private members of a JSON Web Key. */
const JWK_PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);
const MAX_NAME = 256;

/** Base64 runs at least this long are secret whatever they look like. */
const BASE64_ALWAYS = 200;
/** Base64 runs (or whitespace-joined runs) at least this long are secret when they look random. */
const BASE64_MIN = 40;
/** Runs split by whitespace join only when each piece is at least this long, so words never join. */
const BASE64_PIECE = 16;
/** At most this much whitespace between two pieces of one wrapped run. */
const BASE64_GAP = 8;
/** Fraction of adjacent letter/digit pairs at which the class must change in random-looking data. */
const CLASS_CHANGE_MIN = 0.2;
const HEX_MIN = 64;
const BYTE_LIST_MIN = 16;
const MAX_LABEL = 64;
const MAX_JSON_KEY = 128;
const MAX_ARN_RESOURCE = 2048;
/** Inside an ARN, a base64 run is secret only with a random-looking component at least this long. */
const ARN_COMPONENT = 24;
/** …and that component's class must change at this fraction of its pairs (random data: 0.59). */
const ARN_CLASS_CHANGE_MIN = 0.4;

const TAB = 9, LF = 10, CR = 13, SPACE = 32, QUOTE = 34, PERCENT = 37, APOSTROPHE = 39, PLUS = 43, COMMA = 44, DASH = 45, DOT = 46;
const SLASH = 47, ZERO = 48, NINE = 57, COLON = 58, SEMICOLON = 59, EQUALS = 61, UPPER_A = 65, UPPER_F = 70, UPPER_X = 88, UPPER_Z = 90;
const BACKSLASH = 92, UNDERSCORE = 95, LOWER_A = 97, LOWER_F = 102, LOWER_N = 110, LOWER_R = 114, LOWER_T = 116, LOWER_X = 120, LOWER_Z = 122;
const OPEN_BRACKET = 91, CLOSE_BRACKET = 93, OPEN_BRACE = 123, CLOSE_BRACE = 125;

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
const isUpper = (c: number): boolean => c >= UPPER_A && c <= UPPER_Z;
const isLower = (c: number): boolean => c >= LOWER_A && c <= LOWER_Z;
const isAlnum = (c: number): boolean => isDigit(c) || isUpper(c) || isLower(c);
const isWordChar = (c: number): boolean => isAlnum(c) || c === UNDERSCORE;
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= UPPER_A && c <= UPPER_F) || (c >= LOWER_A && c <= LOWER_F);
const isSpace = (c: number): boolean => c === SPACE || c === TAB || c === LF || c === CR;

// ---------------------------------------------------------------------------------------------
// Field names

/** True for a field name that means a secret, in any case or separator (`private_key`, `PrivateKeyPem`). */
function isSecretName(name: string): boolean {
  let normalized = '';
  const length = Math.min(name.length, MAX_NAME);
  for (let i = 0; i < length; i += 1) {
    const c = name.charCodeAt(i);
    if (isUpper(c)) normalized += String.fromCharCode(c + 32);
    else if (isLower(c) || isDigit(c)) normalized += name[i];
  }
  if (SECRET_NAMES.has(normalized)) return true;
  // `macKeyId`, `signingKeyArn`, `accountKeyThumbprint` name a secret's handle, not the secret.
  if (NOT_SECRET_SUFFIXES.some((suffix) => normalized.endsWith(suffix))) return false;
  for (const part of SECRET_NAME_PARTS) if (normalized.includes(part)) return true;
  return false;
}
const NOT_SECRET_SUFFIXES = ['id', 'ids', 'arn', 'arns', 'thumbprint', 'algorithm', 'type', 'policy', 'length', 'format'];

// ---------------------------------------------------------------------------------------------
// Spans: each detector returns [start, end, start, end, …] in increasing order

/** Merges detectors' sorted span lists into one sorted list of disjoint spans. */
function mergeSpans(lists: readonly number[][]): number[] {
  const cursors = lists.map(() => 0);
  const merged: number[] = [];
  for (;;) {
    let best = -1;
    let bestStart = Infinity;
    for (let l = 0; l < lists.length; l += 1) {
      const list = lists[l]!;
      const cursor = cursors[l]!;
      if (cursor < list.length && list[cursor]! < bestStart) {
        bestStart = list[cursor]!;
        best = l;
      }
    }
    if (best === -1) return merged;
    const cursor = cursors[best]!;
    const end = lists[best]![cursor + 1]!;
    cursors[best] = cursor + 2;
    const last = merged.length - 1;
    if (last > 0 && bestStart <= merged[last]!) {
      if (end > merged[last]!) merged[last] = end;
    } else {
      merged.push(bestStart, end);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PEM blocks and PuTTY key files

/** Start of a run of at least four dashes that ends just before `at` (optionally then one space), or -1. */
function dashesBefore(text: string, at: number): number {
  let i = at - 1;
  if (text.charCodeAt(i) === SPACE) i -= 1;
  let dashes = 0;
  while (i >= 0 && dashes < MAX_LABEL && text.charCodeAt(i) === DASH) {
    dashes += 1;
    i -= 1;
  }
  return dashes >= 4 ? i + 1 : -1;
}

/**
 * Reads the label after `BEGIN ` / `END ` up to its closing dashes. Returns the label (trimmed,
 * single-spaced) and the index after the dashes; `label` is undefined for a malformed marker, and
 * `end` is then where reading stopped.
 */
function readLabel(text: string, from: number): { label: string | undefined; end: number } {
  const limit = Math.min(text.length, from + MAX_LABEL);
  let i = from;
  while (i < limit) {
    const c = text.charCodeAt(i);
    if (c === DASH || c === LF || c === CR || c === BACKSLASH) break;
    i += 1;
  }
  let dashes = i;
  while (dashes < text.length && text.charCodeAt(dashes) === DASH) dashes += 1;
  if (dashes - i < 4) return { label: undefined, end: i };
  return { label: text.slice(from, i).trim().split(' ').filter(Boolean).join(' '), end: dashes };
}

function pemSpans(text: string): number[] {
  const spans: number[] = [];
  let from = 0;
  for (;;) {
    const begin = text.indexOf('BEGIN', from);
    if (begin === -1) return spans;
    from = begin + 5;
    const start = dashesBefore(text, begin);
    if (start === -1 || text.charCodeAt(begin + 5) !== SPACE) continue;
    const { label, end: bodyStart } = readLabel(text, begin + 6);
    let blockEnd = text.length;
    let search = bodyStart;
    for (;;) {
      const end = text.indexOf('END', search);
      if (end === -1) break;
      search = end + 3;
      if (dashesBefore(text, end) === -1 || text.charCodeAt(end + 3) !== SPACE) continue;
      const closing = readLabel(text, end + 4);
      if (label === undefined || closing.label === undefined || closing.label === label) {
        blockEnd = closing.end;
        break;
      }
    }
    spans.push(start, blockEnd);
    if (blockEnd >= text.length) return spans;
    from = blockEnd;
  }
}

/** Index of the next `needle` at or after `from`, remembering the last answer so repeated calls stay linear. */
function nextFinder(text: string, needle: string): (from: number) => number {
  let found = -2;
  return (from) => {
    if (found === -1) return -1;
    if (found < from) found = text.indexOf(needle, from);
    return found;
  };
}

function puttySpans(text: string): number[] {
  const spans: number[] = [];
  const nextMac = nextFinder(text, 'Private-MAC:');
  const nextHash = nextFinder(text, 'Private-Hash:');
  let from = 0;
  for (;;) {
    const start = text.indexOf('PuTTY-User-Key-File-', from);
    if (start === -1) return spans;
    let i = start + 20;
    while (isDigit(text.charCodeAt(i)) && i < start + 23) i += 1;
    if (i === start + 20 || text.charCodeAt(i) !== COLON) {
      from = start + 1;
      continue;
    }
    const mac = nextMac(i);
    const hash = nextHash(i);
    const marker = mac === -1 ? hash : hash === -1 ? mac : Math.min(mac, hash);
    if (marker === -1) {
      spans.push(start, text.length);
      return spans;
    }
    let end = text.indexOf(':', marker) + 1;
    while (text.charCodeAt(end) === SPACE || text.charCodeAt(end) === TAB) end += 1;
    while (isHexDigit(text.charCodeAt(end))) end += 1;
    spans.push(start, end);
    from = end;
  }
}

function hiddenSpans(text: string): number[] {
  const spans: number[] = [];
  const marker = 'HIDDEN_DUE_TO_SECURITY_REASONS';
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) spans.push(at, at + marker.length);
  return spans;
}

// ---------------------------------------------------------------------------------------------
// ARNs: identifiers by construction, so base64 inside them must pass a stricter test (hasRandomComponent)

const isArnFieldChar = (c: number): boolean => isLower(c) || isDigit(c) || c === DASH;

function isArnTerminator(c: number): boolean {
  return (
    c <= SPACE || c === QUOTE || c === APOSTROPHE || c === 96 || c === BACKSLASH || c === 60 || c === 62 || c === 40 || c === 41 ||
    c === OPEN_BRACKET || c === CLOSE_BRACKET || c === OPEN_BRACE || c === CLOSE_BRACE || c === 124 || c === COMMA || c === SEMICOLON
  );
}

/** Index after the `:` that ends an ARN field of `min`…`max` field characters starting at `from`, or -1. */
function arnField(text: string, from: number, min: number, max: number): number {
  let i = from;
  while (i - from <= max && isArnFieldChar(text.charCodeAt(i))) i += 1;
  return i - from >= min && i - from <= max && text.charCodeAt(i) === COLON ? i + 1 : -1;
}

/** Spans of `arn:partition:service:region:account:resource`, the resource ending at whitespace, quotes or brackets. */
function arnSpans(text: string): number[] {
  const spans: number[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('arn:', from);
    if (start === -1) return spans;
    from = start + 4;
    if (start > 0 && isWordChar(text.charCodeAt(start - 1))) continue;
    let i = arnField(text, start + 4, 1, 16);
    if (i !== -1) i = arnField(text, i, 1, 64);
    if (i !== -1) i = arnField(text, i, 0, 32);
    if (i !== -1) i = arnField(text, i, 0, 32);
    if (i === -1) continue;
    const limit = Math.min(text.length, i + MAX_ARN_RESOURCE);
    let end = i;
    while (end < limit && !isArnTerminator(text.charCodeAt(end))) end += 1;
    if (end === i) continue;
    spans.push(start, end);
    from = end;
  }
}

// ---------------------------------------------------------------------------------------------
// Base64

/** The 100 commonest English letter pairs, as a 26×26 lookup table. */
const ENGLISH_BIGRAMS = (() => {
  const table = new Uint8Array(26 * 26);
  const pairs =
    'th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ' +
    'll be ma si om ur ca el ta la ns di fo ho pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em ad ol rt po ' +
    'we na ul ni ts mo ow pa im mi ai sh';
  for (const pair of pairs.split(' ')) table[(pair.charCodeAt(0) - LOWER_A) * 26 + pair.charCodeAt(1) - LOWER_A] = 1;
  return table;
})();

/**
 * Width of the base64/base64url character at `i` (1; 2 for JSON's `\/`; 3 for URL-encoded `%2B`
 * and `%2F`), or 0 when there is none.
 */
function base64Width(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (isAlnum(c) || c === PLUS || c === SLASH || c === DASH || c === UNDERSCORE) return 1;
  if (c === BACKSLASH && text.charCodeAt(i + 1) === SLASH) return 2;
  if (c === PERCENT && text.charCodeAt(i + 1) === 50) {
    const d = text.charCodeAt(i + 2) | 32;
    if (d === 98 || d === 102) return 3;
  }
  return 0;
}

/** Width of one `=` padding character at `i` (1, or 3 for `%3D`), or 0. */
function paddingWidth(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === EQUALS) return 1;
  if (c === PERCENT && text.charCodeAt(i + 1) === 51 && (text.charCodeAt(i + 2) | 32) === 100) return 3;
  return 0;
}

/** Width of whitespace (or a JSON escape `\n`, `\r`, `\t`) at `i`, or 0. */
function gapWidth(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (isSpace(c)) return 1;
  if (c === BACKSLASH) {
    const d = text.charCodeAt(i + 1);
    if (d === LOWER_N || d === LOWER_R || d === LOWER_T) return 2;
  }
  return 0;
}

const CLASS_NONE = 0, CLASS_UPPER = 1, CLASS_LOWER = 2, CLASS_DIGIT = 3;
const classOf = (c: number): number => (isUpper(c) ? CLASS_UPPER : isLower(c) ? CLASS_LOWER : isDigit(c) ? CLASS_DIGIT : CLASS_NONE);

/**
 * True when the base64 text in [start, end) looks like random key material rather than an
 * identifier. Random base64 is a jumble of classes; identifiers are words, hex and numbers.
 * It looks random when all of these hold:
 * 1. it has both upper- and lower-case letters (hex, UUIDs, `AKIA…` key ids, `us-east-1` do not);
 * 2. English-looking words (3+ lower-case letters, or a capital and 2+, of whose adjacent letter
 *    pairs at least half are among the 100 commonest English bigrams) cover under half of its
 *    letters and digits;
 * 3. the class (upper, lower, digit) changes at 20% or more of adjacent letter/digit pairs, not
 *    counting changes into or out of such words nor inside hex-only segments of 4+ characters
 *    between symbols (UUID parts, hashes).
 * Measured with 10⁶ random base64/base64url strings per length: random data scores about 0.59 on
 * (3); a 40-character run is missed 2.5 times in 10⁵, a 43–44-character one (a 32-byte secret)
 * 1–1.5 in 10⁵, a 64-character one 1 in 10⁶, an 88-character one never. CamelCase identifiers score
 * under 0.1 (`AWSReservedSSO_…` 0, `AmazonCloudWatchAgentServerPolicyForEC2InstanceProfile` 0.08);
 * random jumbles of AWS product words of 40+ characters pass as random about 1 time in 100. Names
 * generated with a random suffix (`Stack-AlertTopicD4A1C2B3-AbCdEf1234Gh`) do look random: inside
 * an ARN the stricter {@link hasRandomComponent} applies instead, elsewhere they are redacted.
 */
function looksRandom(text: string, start: number, end: number, minChange = CLASS_CHANGE_MIN): boolean {
  let upper = false;
  let lower = false;
  let alnum = 0;
  let pairs = 0;
  let changes = 0;
  let covered = 0;
  // the current segment (letters and digits between symbols)
  let segmentLength = 0;
  let segmentChanges = 0;
  let hexLower = true;
  let hexUpper = true;
  // the current lower-case run
  let runLength = 0;
  let runHits = 0;
  let runCapital = false;
  let runEntryCounted = false;
  let previous = CLASS_NONE;
  let previousCode = 0;

  /** Ends the lower-case run; true when it was an English-looking word. */
  const endRun = (): boolean => {
    const word = (runLength >= 3 || (runLength === 2 && runCapital)) && 2 * runHits >= runLength - 1;
    if (word) {
      covered += runLength + (runCapital ? 1 : 0);
      if (runEntryCounted) segmentChanges -= 1;
    }
    runLength = 0;
    runHits = 0;
    return word;
  };
  const endSegment = (): void => {
    if (runLength > 0) endRun();
    if (!(segmentLength >= 4 && (hexLower || hexUpper))) changes += segmentChanges;
    segmentLength = 0;
    segmentChanges = 0;
    hexLower = true;
    hexUpper = true;
    previous = CLASS_NONE;
  };

  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    const kind = classOf(c);
    if (kind === CLASS_NONE) {
      endSegment();
      i += c === PERCENT ? 3 : c === BACKSLASH ? 2 : 1;
      continue;
    }
    alnum += 1;
    segmentLength += 1;
    if (kind === CLASS_UPPER) upper = true;
    if (kind === CLASS_LOWER) lower = true;
    if (!(isDigit(c) || (c >= LOWER_A && c <= LOWER_F))) hexLower = false;
    if (!(isDigit(c) || (c >= UPPER_A && c <= UPPER_F))) hexUpper = false;
    let countChange = previous !== CLASS_NONE && previous !== kind;
    if (previous === CLASS_LOWER && kind !== CLASS_LOWER && endRun()) countChange = false;
    if (kind === CLASS_LOWER) {
      if (previous === CLASS_LOWER) {
        runHits += ENGLISH_BIGRAMS[(previousCode - LOWER_A) * 26 + c - LOWER_A]!;
      } else {
        runCapital = previous === CLASS_UPPER;
        runEntryCounted = countChange;
      }
      runLength += 1;
    }
    if (previous !== CLASS_NONE) pairs += 1;
    if (countChange) segmentChanges += 1;
    previous = kind;
    previousCode = c;
    i += 1;
  }
  endSegment();
  return upper && lower && 2 * covered < alnum && pairs > 0 && changes >= minChange * pairs;
}

/**
 * True when [start, end) holds a component (letters and digits between symbols) of 24 or more
 * characters, a digit among them, that {@link looksRandom} with a class change at 40% of its pairs
 * or more (role names such as `OpsOpsLambdaOpsDeployRole` have no digit). Used inside
 * ARNs, whose names are made of short components: a generated `Stack-FunctionD4A1C2B3-Xy7AbC9dEf12`
 * stays, a key pasted as a user or session name goes. Measured: a 138-byte PKCS#8 key in an ARN
 * was missed 2 times in 300 (its fixed header weighs on the test), which holdsPrivateKeyDer now
 * catches by that header; 64 bytes of raw key material 96%, 32 bytes 72% (its base64 symbols often
 * leave no 24-character component); random jumbles of AWS product words as role names are
 * redacted 1 time in 1000.
 */
function hasRandomComponent(text: string, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    while (i < end && !isAlnum(text.charCodeAt(i))) i += 1;
    const from = i;
    let digits = 0;
    for (let c = text.charCodeAt(i); i < end && isAlnum(c); c = text.charCodeAt(i)) {
      if (isDigit(c)) digits += 1;
      i += 1;
    }
    if (i - from >= ARN_COMPONENT && digits > 0 && looksRandom(text, from, i, ARN_CLASS_CHANGE_MIN)) return true;
  }
  return false;
}

/**
 * Base64 key material: a run of base64/base64url characters of 200 or more, or of 40 or more that
 * {@link looksRandom}. Runs separated only by whitespace (at most 8 characters of it, a line break
 * or JSON's `\n` included) join when each piece is 16+ characters and random-looking on its own; the
 * short last line of a body wrapped at a fixed width (or one ending in `=` padding) joins too.
 */
const BASE64_VALUES = (() => {
  const values = new Int8Array(128).fill(-1);
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, v) => { values[c.charCodeAt(0)] = v; });
  values[DASH] = 62;
  values[UNDERSCORE] = 63;
  return values;
})();

/**
 * True when base64 in [start, end) holds, at its start or after a `/`, the DER header every
 * private key format begins with: a SEQUENCE whose first member is the INTEGER 0 or 1 (PKCS#1 RSA,
 * PKCS#8, SEC1 EC keys); certificates, public keys and requests begin otherwise. Whatever the
 * rest looks like, so a key is caught even where it could pass for an identifier (inside an ARN,
 * whose test for random components a key with a long fixed header can fail).
 */
function holdsPrivateKeyDer(text: string, start: number, end: number): boolean {
  for (let p = start; p + BASE64_MIN <= end; p += 1) {
    if (text.charCodeAt(p) !== 77 || (p > start && text.charCodeAt(p - 1) !== SLASH)) continue; // 'M': a first byte of 0x30
    const bytes: number[] = [];
    for (let q = p; q + 4 <= p + 12; q += 4) {
      const v = [0, 1, 2, 3].map((k) => BASE64_VALUES[text.charCodeAt(q + k)] ?? -1);
      if (v.some((x) => x < 0)) break;
      bytes.push((v[0]! << 2) | (v[1]! >> 4), ((v[1]! & 15) << 4) | (v[2]! >> 2), ((v[2]! & 3) << 6) | v[3]!);
    }
    if (bytes.length < 9 || bytes[0] !== 0x30) continue;
    const at = bytes[1]! < 0x80 ? 2 : bytes[1] === 0x81 ? 3 : bytes[1] === 0x82 ? 4 : -1;
    if (at > 0 && bytes[at] === 0x02 && bytes[at + 1] === 0x01 && (bytes[at + 2] === 0x00 || bytes[at + 2] === 0x01)) return true;
  }
  return false;
}

function base64Spans(text: string, arns: readonly number[]): number[] {
  const spans: number[] = [];
  const n = text.length;
  let arnCursor = 0;
  let chainStart = -1;
  let chainEnd = 0;
  let chainLength = 0;
  let chainPieces = 0;
  let firstWidth = 0;
  let restWidth = 0; // width shared by the pieces after the first: 0 none yet, -1 unequal
  let previousEnd = -1;
  let i = 0;

  const closeChain = (tailEnd: number): void => {
    if (chainStart !== -1 && chainLength >= BASE64_MIN) spans.push(chainStart, Math.max(chainEnd, tailEnd));
    chainStart = -1;
  };

  while (i < n) {
    const escape = gapWidth(text, i);
    if (escape === 2) {
      i += 2;
      continue;
    }
    if (base64Width(text, i) === 0) {
      i += 1;
      continue;
    }
    const start = i;
    let length = 0;
    for (let width = base64Width(text, i); width > 0; width = base64Width(text, i)) {
      i += width;
      length += 1;
    }
    let padded = false;
    for (let pad = 0; pad < 2; pad += 1) {
      const width = paddingWidth(text, i);
      if (width === 0) break;
      i += width;
      padded = true;
    }
    const end = i;

    // the gap since the previous piece: whitespace only, short, and is it exactly one line break?
    let joinable = false;
    let singleBreak = false;
    if (previousEnd !== -1 && start - previousEnd <= BASE64_GAP && start > previousEnd) {
      joinable = true;
      let breaks = 0;
      let other = 0;
      for (let g = previousEnd; g < start; ) {
        const width = gapWidth(text, g);
        if (width === 0) {
          joinable = false;
          break;
        }
        const c = text.charCodeAt(g + width - 1);
        if (c === LF || c === LOWER_N) breaks += 1;
        else if (c !== CR && c !== LOWER_R) other += 1;
        g += width;
      }
      singleBreak = joinable && breaks === 1 && other === 0;
    }
    previousEnd = end;

    while (arnCursor < arns.length && arns[arnCursor + 1]! <= start) arnCursor += 2;
    const inArn = arnCursor < arns.length && arns[arnCursor]! <= start;
    const member = length >= BASE64_ALWAYS || (length >= BASE64_PIECE && (inArn ? hasRandomComponent(text, start, end) : looksRandom(text, start, end)))
      || (length >= BASE64_MIN && holdsPrivateKeyDer(text, start, end));

    if (member && joinable && chainStart !== -1) {
      chainEnd = end;
      chainLength += length;
      chainPieces += 1;
      restWidth = restWidth === 0 ? length : restWidth === length ? restWidth : -1;
      continue;
    }
    if (chainStart !== -1) {
      // a tail ends its line: nothing but a line break, a quote or a backslash (JSON) may follow
      const after = text.charCodeAt(end);
      const bounded = end >= n || after === LF || after === CR || after === QUOTE || after === APOSTROPHE || after === BACKSLASH;
      const wrapped = chainPieces >= 2 && restWidth > 0 && firstWidth <= restWidth && length < restWidth;
      const tail = !member && singleBreak && bounded && (wrapped || (padded && length < BASE64_PIECE));
      closeChain(tail ? end : 0);
      if (tail) continue;
    }
    if (member) {
      chainStart = start;
      chainEnd = end;
      chainLength = length;
      chainPieces = 1;
      firstWidth = length;
      restWidth = 0;
    }
  }
  closeChain(0);
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Hex

/** True when [from, to) is 1–8 characters of `:`, `;`, `,`, `-` and whitespace. */
function isHexSeparator(text: string, from: number, to: number): boolean {
  if (to <= from || to - from > 8) return false;
  for (let i = from; i < to; i += 1) {
    const c = text.charCodeAt(i);
    if (!(c === COLON || c === SEMICOLON || c === COMMA || c === DASH || isSpace(c))) return false;
  }
  return true;
}

/** True for a UUID (8-4-4-4-12 hex digits) at `at`, not followed by a word character. */
function isUuidAt(text: string, at: number): boolean {
  for (let k = 0; k < 36; k += 1) {
    const c = text.charCodeAt(at + k);
    if (k === 8 || k === 13 || k === 18 || k === 23 ? c !== DASH : !isHexDigit(c)) return false;
  }
  return !isWordChar(text.charCodeAt(at + 36));
}

/**
 * 64 or more hex digits: one run, or whole groups of equal length (each a word of its own, `0x`
 * allowed) joined by separators, as in `ab:cd:…`, `deadbeef 01234567 …`, `0x12, 0x34, …`; a
 * group of another length (an account id, a word such as `be`) starts a new chain, so it is never
 * swallowed. At least one digit in eight must be a letter a–f (random hex has 3 in 8), so lists
 * of decimal numbers stay. UUIDs are skipped, so two of them side by side are not 64 digits of key.
 */
function hexSpans(text: string): number[] {
  const spans: number[] = [];
  const n = text.length;
  let chainStart = -1;
  let chainEnd = 0;
  let digits = 0;
  let letters = 0;
  let groupLength = 0;
  const closeChain = (): void => {
    if (chainStart !== -1 && digits >= HEX_MIN && letters * 8 >= digits) spans.push(chainStart, chainEnd);
    chainStart = -1;
  };

  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isHexDigit(c)) {
      i += 1;
      continue;
    }
    const groupStart = i;
    let digitStart = i;
    const x = text.charCodeAt(i + 1);
    if (c === ZERO && (x === LOWER_X || x === UPPER_X) && isHexDigit(text.charCodeAt(i + 2))) digitStart = i + 2;
    let j = digitStart;
    let groupLetters = 0;
    for (let d = text.charCodeAt(j); isHexDigit(d); d = text.charCodeAt(j)) {
      if (d >= UPPER_A) groupLetters += 1;
      j += 1;
    }
    const groupDigits = j - digitStart;
    // a whole group is a word of its own, and not part of a dotted number (an IP address, a version)
    const before = text.charCodeAt(groupStart - 1);
    const after = text.charCodeAt(j);
    const dotted = (before === DOT && isAlnum(text.charCodeAt(groupStart - 2))) || (after === DOT && isAlnum(text.charCodeAt(j + 1)));
    const whole = !isWordChar(before) && !isWordChar(after) && !dotted;
    if (whole && groupDigits === 8 && digitStart === groupStart && isUuidAt(text, groupStart)) {
      closeChain();
      i = groupStart + 36;
      continue;
    }
    if (whole && chainStart !== -1 && groupDigits === groupLength && isHexSeparator(text, chainEnd, groupStart)) {
      chainEnd = j;
      digits += groupDigits;
      letters += groupLetters;
    } else {
      closeChain();
      if (whole) {
        chainStart = groupStart;
        chainEnd = j;
        digits = groupDigits;
        letters = groupLetters;
        groupLength = groupDigits;
      } else if (groupDigits >= HEX_MIN && groupLetters * 8 >= groupDigits) {
        spans.push(digitStart, j);
      }
    }
    i = j;
  }
  closeChain();
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Byte lists written as text

/** True when [from, to) is 1–8 characters holding exactly one comma and otherwise whitespace. */
function isListSeparator(text: string, from: number, to: number): boolean {
  if (to <= from || to - from > 8) return false;
  let commas = 0;
  for (let i = from; i < to; i += 1) {
    const c = text.charCodeAt(i);
    if (c === COMMA) commas += 1;
    else if (!isSpace(c)) return false;
  }
  return commas === 1;
}

/** 16 or more comma-separated integers in −128…255 (`[42, 17, 3, …]`, `42,17,3,…`), brackets included. */
function byteListSpans(text: string): number[] {
  const spans: number[] = [];
  const n = text.length;
  let chainStart = -1;
  let chainEnd = 0;
  let count = 0;
  const closeChain = (): void => {
    if (chainStart !== -1 && count >= BYTE_LIST_MIN) {
      const bracketed = text.charCodeAt(chainStart - 1) === OPEN_BRACKET && text.charCodeAt(chainEnd) === CLOSE_BRACKET;
      spans.push(bracketed ? chainStart - 1 : chainStart, bracketed ? chainEnd + 1 : chainEnd);
    }
    chainStart = -1;
  };

  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const negative = c === DASH && isDigit(text.charCodeAt(i + 1));
    if (!negative && !isDigit(c)) {
      i += 1;
      continue;
    }
    const start = i;
    const digitStart = negative ? i + 1 : i;
    let j = digitStart;
    let value = 0;
    for (let d = text.charCodeAt(j); isDigit(d); d = text.charCodeAt(j)) {
      if (j - digitStart < 4) value = value * 10 + d - ZERO;
      j += 1;
    }
    const before = text.charCodeAt(start - 1);
    const after = text.charCodeAt(j);
    const valid =
      j - digitStart <= 3 && (negative ? value <= 128 : value <= 255) && !isWordChar(before) && before !== DOT && (negative || before !== DASH) &&
      !isWordChar(after) && after !== DOT;
    if (valid && chainStart !== -1 && isListSeparator(text, chainEnd, start)) {
      chainEnd = j;
      count += 1;
    } else {
      closeChain();
      if (valid) {
        chainStart = start;
        chainEnd = j;
        count = 1;
      }
    }
    i = j;
  }
  closeChain();
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Secret members in JSON (or Python-style) text, also when the JSON is itself escaped in JSON

/** End of the string value whose content starts at `from`, for a value quoted by `quote` (or `\"` when escaped). */
function stringEnd(text: string, from: number, quote: number, escaped: boolean): number {
  if (escaped) {
    const end = text.indexOf('\\"', from);
    return end === -1 ? text.length : end;
  }
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i += 2;
    else if (c === quote) return i;
    else i += 1;
  }
  return text.length;
}

/** End of the array or object that opens at `from`: bracket depth counted, strings skipped. */
function nestedEnd(text: string, from: number, escaped: boolean): number {
  let depth = 0;
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === OPEN_BRACKET || c === OPEN_BRACE) depth += 1;
    else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth -= 1;
      if (depth === 0) return i + 1;
    } else if (c === QUOTE && !escaped) {
      i = stringEnd(text, i + 1, QUOTE, false);
    }
    i += 1;
  }
  return text.length;
}

function isTokenEnd(c: number): boolean {
  return isSpace(c) || c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === QUOTE || c === APOSTROPHE || c === BACKSLASH;
}

function jsonMemberSpans(text: string): number[] {
  const spans: number[] = [];
  // A member is a quoted name, then a colon: text without both holds none (an ARN has colons, no quotes).
  if (!text.includes(':') || !(text.includes('"') || text.includes("'"))) return spans;
  const n = text.length;
  const jwk = text.includes('"kty"') || text.includes('\\"kty\\"') || text.includes("'kty'");
  let i = 0;
  while (i < n) {
    const quote = text.charCodeAt(i);
    if (quote !== QUOTE && quote !== APOSTROPHE) {
      i += 1;
      continue;
    }
    const escaped = quote === QUOTE && text.charCodeAt(i - 1) === BACKSLASH;
    const keyStart = i + 1;
    const limit = Math.min(n, keyStart + MAX_JSON_KEY);
    let j = keyStart;
    while (j < limit) {
      const c = text.charCodeAt(j);
      if (c === QUOTE || c === APOSTROPHE || c === LF || c === CR) break;
      j += 1;
    }
    if (j >= limit || text.charCodeAt(j) !== quote) {
      i = j; // another quote there opens the next candidate
      continue;
    }
    const quoteEscaped = text.charCodeAt(j - 1) === BACKSLASH;
    if (escaped !== quoteEscaped) {
      // a plain key cannot hold `\"`: that quote opens an escaped key instead
      i = quoteEscaped ? j : j + 1;
      continue;
    }
    const name = text.slice(keyStart, escaped ? j - 1 : j);
    let v = j + 1;
    while (text.charCodeAt(v) === SPACE || text.charCodeAt(v) === TAB) v += 1;
    if (text.charCodeAt(v) !== COLON || !(isSecretName(name) || (jwk && JWK_PRIVATE_MEMBERS.has(name)))) {
      i = j + 1;
      continue;
    }
    v += 1;
    while (v < n && gapWidth(text, v) > 0) v += gapWidth(text, v);
    const first = text.charCodeAt(v);
    let valueStart = v;
    let valueEnd: number;
    let resume: number;
    if (escaped && first === BACKSLASH && text.charCodeAt(v + 1) === QUOTE) {
      valueStart = v + 2;
      valueEnd = stringEnd(text, valueStart, QUOTE, true);
      resume = valueEnd + 2;
    } else if (!escaped && (first === QUOTE || first === APOSTROPHE)) {
      valueStart = v + 1;
      valueEnd = stringEnd(text, valueStart, first, false);
      resume = valueEnd + 1;
    } else if (first === OPEN_BRACKET || first === OPEN_BRACE) {
      valueEnd = nestedEnd(text, v, escaped);
      resume = valueEnd;
    } else {
      valueEnd = v;
      while (valueEnd < n && !isTokenEnd(text.charCodeAt(valueEnd))) valueEnd += 1;
      if (text.startsWith('null', v) && valueEnd === v + 4) valueEnd = v;
      resume = Math.max(valueEnd, v + 1);
    }
    if (valueEnd > valueStart) spans.push(valueStart, valueEnd);
    i = resume;
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Secrets written as text: `passphrase=…`, `password: …`, AWS's `Value '…' at 'passphrase'`, `\x30\x77…`

// Every quantifier is bounded and the prefix pieces are split by separators, so matching stays
// linear whatever the text.
// A secret name may be joined to words before it (`eabHmacKey`, `LEGO_EAB_HMAC`, `acme.eab.hmacEncoded`)
// and carry an encoding suffix (`hmacKeyB64`).
const ASSIGNED = /(?<![A-Za-z0-9])(?:[A-Za-z0-9]{1,24}[_.-]){0,3}[A-Za-z0-9]{0,24}?(?:pass(?:phrase|word|wd)?|pwd|secret(?:[_-]?(?:key|value|string))?|private[_-]?key|priv[_-]?key|api[_-]?(?:key|secret)|h?mac[_-]?key|hmac|eab[_-]?(?:hmac|key)|account[_-]?key|client[_-]?secret|signing[_-]?key)(?:[_-]?(?:b64|base64|encoded))?["']?[ \t]{0,3}[:=][ \t]{0,3}(?!(?:null|true|false)(?![\w-]))(?:"([^"\n]{1,1024})"|'([^'\n]{1,1024})'|([^\s"',;)\]}<]{1,1024}))/gi;
/** Command-line flags that take a secret after a space: certbot's and acme.sh's `--eab-hmac-key KEY`, `--password X`. */
const SECRET_FLAG = /(?<![A-Za-z0-9-])(?:--(?:(?:eab-)?(?:hmac-key|mac-key|hmac)|eab-key|password|passphrase|private-key|secret)|-ExtAcctHMACKey|-EabHmacKey)(?:[ \t]{1,3}|=)(?!-)("[^"\n]{1,1024}"|'[^'\n]{1,1024}'|[^\s"',;)\]}]{1,1024})/gi;
/** XML elements named as a secret: `<macKey>…</macKey>`, `<Password>…</Password>`. */
const XML_SECRET = /<[A-Za-z0-9_.-]{0,24}?(?:h?mac[_-]?key|hmac|eab[_-]?key|private[_-]?key|pass(?:word|phrase)|secret(?:[_-]?key)?)>([^<\n]{1,1024})<\//gi;
const VALUE_AT = /Value '([^']{1,1024})' at '([A-Za-z0-9_.[\]-]{1,256})'/g;
const HEX_ESCAPES = /(?:\\x[0-9A-Fa-f]{2}){16}(?:\\x[0-9A-Fa-f]{2}){0,4096}/g;

/** A word that every name ASSIGNED matches holds (case aside): a cheap first test before the costly pattern. */
const ASSIGNED_WORD = /pass|pwd|secret|priv|api|mac|eab|account|client|signing/i;

/**
 * Values assigned to a secret name in free text, a secret member AWS quotes in a validation
 * error, and `\x` escaped bytes. Each pattern runs only on text holding what it cannot match
 * without (a `:` or `=`, a `<`, a `-`, `Value '`, `\x`).
 */
function assignedSpans(text: string): number[] {
  const spans: number[] = [];
  const assigns = (text.includes('=') || text.includes(':')) && ASSIGNED_WORD.test(text);
  for (const match of assigns ? text.matchAll(ASSIGNED) : []) {
    const value = match[1] ?? match[2] ?? match[3]!;
    const start = match.index! + match[0].length - value.length - (match[3] === undefined ? 1 : 0);
    spans.push(start, start + value.length);
  }
  for (const match of text.includes('<') ? text.matchAll(XML_SECRET) : []) {
    const start = match.index! + match[0].length - 2 - match[1]!.length;
    spans.push(start, start + match[1]!.length);
  }
  for (const match of text.includes('-') ? text.matchAll(SECRET_FLAG) : []) {
    const value = match[1]!;
    const start = match.index! + match[0].length - value.length;
    spans.push(start, start + value.length);
  }
  for (const match of text.includes("Value '") ? text.matchAll(VALUE_AT) : []) {
    const field = match[2]!.split('.').pop()!;
    if (isSecretName(field)) spans.push(match.index! + 7, match.index! + 7 + match[1]!.length);
  }
  for (const match of text.includes('\\x') ? text.matchAll(HEX_ESCAPES) : []) {
    // The pattern is bounded; a longer run is followed by hand, four characters at a time.
    let end = match.index! + match[0].length;
    while (isHexEscape(text, end)) end += 4;
    spans.push(match.index!, end);
  }
  return sortedPairs(spans);
}

const isHexEscape = (text: string, at: number): boolean =>
  text.charCodeAt(at) === BACKSLASH && text.charCodeAt(at + 1) === LOWER_X && isHexDigit(text.charCodeAt(at + 2)) && isHexDigit(text.charCodeAt(at + 3));

/** Start/end pairs in order of their starts. */
function sortedPairs(spans: number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < spans.length; i += 2) pairs.push([spans[i]!, spans[i + 1]!]);
  return pairs.sort((a, b) => a[0] - b[0]).flat();
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Strings seen to hold no secret, so that the next look at the same text costs one lookup: the
 * alerts of one log file repeat most of their values (accounts, Regions, principals, ARNs, user
 * agents, request keys), and each look runs every detector, the costliest work in building an
 * alert. Only text returned unchanged is kept, so no secret is ever held here; what is kept is
 * bounded (short strings, a few thousand, cleared when full).
 */
const clean = new Set<string>();
/**
 * An ACM certificate ARN as AWS writes it, in a known partition and Region shape, with an account
 * number and a lowercase UUID: nothing else fits, and no detector changes such an ARN (a test
 * checks the shape against them), so it is returned without running them. Most alerts' resources
 * are one, a different one each.
 */
const CERTIFICATE_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-[bef]|-eusc)?:acm:(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eusc)-(?:east|west|north|south|central|northeast|southeast|northwest|southwest)-\d:\d{12}:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const CLEAN_MAX_ENTRIES = 4096;
const CLEAN_MAX_LENGTH = 512;

/**
 * Content redaction of one string: each secret span (PEM block, PuTTY key, random-looking base64,
 * long hex, byte list, secret JSON member value, CloudTrail's hidden placeholder) is replaced by
 * `[redacted]` and the rest is kept verbatim. Linear time in the length of `text`.
 */
const NONE: number[] = [];

export function redactString(text: string): string {
  if (text.length === 0) return text;
  if (text.length <= CLEAN_MAX_LENGTH && clean.has(text)) return text;
  if (CERTIFICATE_ARN.test(text)) return text;
  const spans = secretSpans(text);
  if (spans.length === 0) {
    if (text.length <= CLEAN_MAX_LENGTH) {
      if (clean.size >= CLEAN_MAX_ENTRIES) clean.clear();
      clean.add(text);
    }
    return text;
  }
  const parts: string[] = [];
  let kept = 0;
  for (let s = 0; s < spans.length; s += 2) {
    parts.push(text.slice(kept, spans[s]!), REDACTED);
    kept = spans[s + 1]!;
  }
  parts.push(text.slice(kept));
  return parts.join('');
}

/** What every detector finds in `text`, merged: redactString without its shortcuts (its tests check those against this). */
export function secretSpans(text: string): number[] {
  // Base64, hex and byte-list runs are secret only from a length up (BASE64_MIN, HEX_MIN, BYTE_LIST_MIN
  // numbers with a comma between each two): shorter text cannot hold one, and is not walked for one.
  const length = text.length;
  return mergeSpans([
    pemSpans(text),
    puttySpans(text),
    hiddenSpans(text),
    jsonMemberSpans(text),
    length >= BASE64_MIN ? base64Spans(text, arnSpans(text)) : NONE,
    length >= HEX_MIN ? hexSpans(text) : NONE,
    length >= 2 * BYTE_LIST_MIN - 1 ? byteListSpans(text) : NONE,
    assignedSpans(text),
  ]);
}

function isByteBuffer(value: object): boolean {
  return 'hb' in value || ('capacity' in value && 'limit' in value && 'position' in value);
}

function isByteArray(value: readonly unknown[]): boolean {
  if (value.length < BYTE_LIST_MIN) return false;
  for (const item of value) if (typeof item !== 'number' || !Number.isInteger(item) || item < -128 || item > 255) return false;
  return true;
}

const capped = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * For a tag or name/value pair whose name means a secret (`{"key": "eab_hmac_key", "value": …}`,
 * `{"Name": "password", "Value": …}`), the field holding the value; otherwise undefined.
 */
function secretTagValueField(object: Record<string, unknown>): string | undefined {
  let name: unknown;
  let valueField: string | undefined;
  let fields = 0;
  for (const field in object) {
    if (!Object.hasOwn(object, field) || (fields += 1) > 4) return undefined;
    const lower = field.toLowerCase();
    if (TAG_NAME_FIELDS.has(lower)) name = object[field];
    else if (TAG_VALUE_FIELDS.has(lower)) valueField = field;
  }
  return typeof name === 'string' && valueField !== undefined && isSecretName(name) ? valueField : undefined;
}
const TAG_NAME_FIELDS = new Set(['key', 'name', 'tagkey', 'tagname', 'tag_key']);
const TAG_VALUE_FIELDS = new Set(['value', 'tagvalue', 'tag_value']);

/** Redacts `value` by name, structure and content; recursion only over object depth, at most {@link MAX_DEPTH}. */
function walk(value: unknown, depth: number, maxString: number): unknown {
  if (typeof value === 'string') return capped(redactString(value), maxString);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return NESTED_TOO_DEEP;
  try {
    if (Array.isArray(value)) {
      if (isByteArray(value)) return REDACTED;
      const copy: unknown[] = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i += 1) copy[i] = walk(value[i], depth + 1, maxString);
      return copy;
    }
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || isByteBuffer(value)) return REDACTED;
    const jwk = Object.hasOwn(value, 'kty');
    const tagged = secretTagValueField(value as Record<string, unknown>);
    const entries: [string, unknown][] = [];
    for (const [field, fieldValue] of Object.entries(value)) {
      const secret = fieldValue !== null && fieldValue !== undefined && (isSecretName(field) || field === tagged || (jwk && JWK_PRIVATE_MEMBERS.has(field)));
      entries.push([redactString(field), secret ? REDACTED : walk(fieldValue, depth + 1, maxString)]);
    }
    // fromEntries defines own properties, so a `__proto__` key stays a plain field
    return Object.fromEntries(entries);
  } catch {
    return REDACTED;
  }
}

/**
 * A copy of any JSON value with secrets removed by field name (`privateKey`, `passphrase`,
 * `macKey`, `certificate`, …: the whole value, whatever its type, unless null), by structure (JWK
 * private members next to `kty`, arrays of 16+ byte values, ByteBuffer dumps) and by content in
 * every string ({@link redactString}). Objects deeper than 8 levels become `[nested too deep]`.
 * Never throws: a value that cannot be read is redacted whole.
 */
export function redactDeep(value: unknown): unknown {
  return walk(value, 0, Infinity);
}

/**
 * A redacted copy of request parameters, as {@link redactDeep}; strings are also capped at 1024
 * characters so one huge parameter cannot swamp an alert.
 */
export function redact(value: unknown, depth = 0): unknown {
  return walk(value, depth, MAX_STRING);
}

/** Redacts a free-text field (an error message, a user agent) and caps its length. */
export function redactText(text: string | undefined, max = 512): string | undefined {
  if (text === undefined) return undefined;
  return capped(redactString(text), max);
}
