/**
 * JSON text as people handle it (log documents given to scan, rule configuration files): documents pasted from AWS's documentation, exports written by
 * other tools, files edited by hand. Parses one value with the only repair that is unambiguous
 * (raw line breaks and tabs inside strings, which AWS prints inside certificate bodies, written
 * as escapes) and, when the text is still not JSON, says where the first problem is as a line
 * and column, with a hint for its usual cause. Never quotes the text: it may hold secrets.
 */
/** Text that is not JSON, with where and why, never what. */
export class JsonTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonTextError';
  }
}

/** Where in a text: 1-based line and column (characters, as an editor counts them). */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** A value parsed from text, and how many raw line breaks (CR LF counted once), tabs and other control characters inside its strings were escaped to read it. */
export interface ParsedText {
  readonly value: unknown;
  readonly repaired: number;
}

/** A repaired text, and for each escaped character its index in the original and how many characters it grew by. */
export interface Repair {
  readonly text: string;
  readonly at: readonly number[];
  readonly grew: readonly number[];
}

/**
 * `text` with raw control characters inside string literals written as JSON escapes, and where
 * each one was in the text, so a position in the repaired text can be mapped back. Undefined
 * when there is nothing to repair. One pass, linear in the text.
 */
export function escapeControlsInStrings(text: string): Repair | undefined {
  const parts: string[] = [];
  const at: number[] = [];
  const grew: number[] = [];
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (!inString) {
      if (c === 0x22) inString = true;
      continue;
    }
    if (c === 0x5c) {
      // A backslash at the end of a printed line, before the raw break: the page wrapped a `\n`.
      const next = text.charCodeAt(i + 1);
      const letter = next === 0x0a ? 'n' : next === 0x0d ? 'r' : next === 0x09 ? 't' : undefined;
      if (letter) {
        parts.push(text.slice(last, i + 1), letter);
        at.push(i + 1);
        grew.push(0);
        last = i + 2;
      }
      i += 1;
    } else if (c === 0x22) inString = false;
    else if (c < 0x20) {
      const escape = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : `\\u${c.toString(16).padStart(4, '0')}`;
      parts.push(text.slice(last, i), escape);
      at.push(i);
      grew.push(escape.length - 1);
      last = i + 1;
    }
  }
  if (at.length === 0) return undefined;
  parts.push(text.slice(last));
  return { text: parts.join(''), at, grew };
}

/** The line and column of `index` in `text`, counting from `start` (the text's own first position in a larger input). */
export function positionOf(text: string, index: number, start: TextPosition = { line: 1, column: 1 }): TextPosition {
  let line = start.line;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: (line === start.line ? start.column : 1) + end - lineStart };
}

/** "line 5, column 3". */
export const describePosition = ({ line, column }: TextPosition): string => `line ${line}, column ${column}`;

/**
 * What JSON.parse's message says, as a problem and its usual cause. Only the engine's own words
 * are matched, never the input it may quote.
 */
function explain(message: string, atEnd: boolean): string {
  if (atEnd || /Unexpected end of JSON input/.test(message)) return 'the text ends before the document does: is a closing } or ] missing, or was the file cut short?';
  if (/Expected ',' or '\}' after property value/.test(message)) return 'expected , or } after a value: is a comma missing at the end of the line before, or a string closed too early?';
  if (/Expected ',' or '\]' after array element/.test(message)) return 'expected , or ] after an array element: is a comma missing?';
  if (/Expected double-quoted property name/.test(message)) return 'expected a property name in double quotes: is there a comma before a closing } or ], or a name without quotes?';
  if (/Expected property name or '\}'/.test(message)) return 'expected a property name in double quotes or }: is a name written without quotes?';
  if (/Expected ':' after property name/.test(message)) return 'expected : after a property name: is a colon missing, or a comma written as one?';
  if (/Unterminated string/.test(message)) return 'a string is not closed: is a closing double quote missing?';
  if (/Bad escaped character|Bad Unicode escape/.test(message)) return 'an invalid escape in a string: is a backslash meant to be \\\\?';
  if (/Unexpected non-whitespace character after JSON/.test(message)) return 'more text after the end of the document: an extra } or ], or a second document after the first?';
  if (/Bad control character/.test(message)) return 'a control character inside a string';
  if (/Unexpected (string|number)/.test(message)) return 'a value where , : } or ] was expected: is a comma or a colon missing before it?';
  if (/Unexpected token/.test(message)) return 'an unexpected character: a misspelt true, false or null, or a string without quotes?';
  return 'check the quotes, commas and brackets around it';
}

/**
 * Parses one JSON value from `text`, repairing raw line breaks inside strings. Throws
 * JsonTextError naming the line and column of the first problem (relative to `start`, where
 * the text begins in its input) and a hint.
 */
export function parseJsonText(text: string, start?: TextPosition): ParsedText {
  const repair = escapeControlsInStrings(text);
  try {
    return { value: JSON.parse(repair?.text ?? text), repaired: repair ? repair.at.filter((at) => !(text.charCodeAt(at) === 0x0d && text.charCodeAt(at + 1) === 0x0a)).length : 0 };
  } catch (err) {
    // Newer engines quote the input after the first double quote: only the engine's own words
    // before it are read, and the position only as the message's very end.
    const full = String((err as Error)?.message);
    const message = full.split('"')[0]!;
    const match = / at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(full);
    // Some of the engine's messages give no position (an unexpected token): then the value's start is named.
    if (!match) throw new JsonTextError(`not valid JSON in the value starting at ${describePosition(start ?? { line: 1, column: 1 })}: ${explain(message, false)}`);
    const index = repair ? originalIndex(Number(match[1]), repair) : Number(match[1]);
    const atEnd = index >= text.trimEnd().length;
    // At the end, the place to look is the last line with something on it.
    const where = positionOf(text, atEnd ? Math.max(text.trimEnd().length - 1, 0) : index, start);
    throw new JsonTextError(`not valid JSON at ${describePosition(where)}: ${explain(message, atEnd)}`);
  }
}

/** Maps an index in the repaired text back to the original one. */
function originalIndex(index: number, { at, grew }: Repair): number {
  let grown = 0;
  for (let i = 0; i < at.length; i += 1) {
    // The escape written for the character at at[i] starts at at[i] + grown in the repaired text.
    if (at[i]! + grown >= index) break;
    grown += grew[i]!;
  }
  return index - grown;
}
