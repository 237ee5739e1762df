/**
 * Untrusted text, made inert once per channel. Every value a CloudTrail record carries may have
 * been chosen by the caller being reported on (a user agent, an ARN echoed in an error message,
 * a session name), so no renderer writes a record value as it is: each passes it through its
 * channel's encoder here, the way a template engine escapes by default.
 *
 * - `visible`: control characters (C0, DEL, C1, line and paragraph separators), bidi controls,
 *   zero-width and other invisible characters, and lone surrogates become `\uXXXX` escapes, so
 *   nothing can break a line, rewrite a terminal, reorder text or hide in it.
 * - `defang`: URLs (`scheme://host`, but for `s3://`), `www.` and bare host names (but AWS's
 *   own), `mailto:` and the like lose what makes mail clients and chat link them:
 *   `hxxps://evil[.]example/x`, `evil[.]example/login`.
 * - `plain`: one line of plain text (email, terminal, subject material): visible, defanged,
 *   runs of spaces collapsed so no value can line up as another field.
 * - `mrkdwnCode`: a Slack mrkdwn inline code span holding the plain text with `&`, `<`, `>`
 *   escaped and backticks replaced, so the value can neither close the span nor add mentions,
 *   links or formatting.
 */

/** What a channel does with a value it did not write itself. */
export type Encode = (value: string) => string;

// Characters that draw nothing but change how text around them reads: soft hyphen, combining
// grapheme joiner, Arabic letter mark, Hangul fillers, Khmer and Mongolian invisible marks,
// zero-width space/joiners, directional marks and embeddings, overrides and isolates, invisible
// operators, variation selectors, the byte-order mark, interlinear annotation characters, the
// noncharacters U+FFFE and U+FFFF, tag characters, Arabic prepended marks, the Braille blank,
// and the astral format characters (Kaithi, Egyptian, shorthand and musical format controls).
const INVISIBLE =
  /[\u00AD\u034F\u0600-\u0605\u061C\u06DD\u070F\u08E2\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF]|\uDB40[\uDC00-\uDDEF]|\uD804\uDCBD|\uD80D[\uDC30-\uDC3F]|\uD82F[\uDCA0-\uDCA3]|\uD834[\uDD73-\uDD7A]/g;
// Spaces that look like a plain space, and combining marks stacked past two, which can draw
// over neighbouring lines.
const WIDE_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
const COMBINING = '\\u0300-\\u036F\\u1AB0-\\u1AFF\\u1DC0-\\u1DFF\\u20D0-\\u20FF\\uFE20-\\uFE2F';
const STACKED = new RegExp(`(?<=[${COMBINING}]{2})[${COMBINING}]`, 'g');
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeUnicode(match: string): string {
  let out = '';
  for (let i = 0; i < match.length; i += 1) out += `\\u${match.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

const escapeCodeUnits = (match: string): string => NAMED[match] ?? escapeUnicode(match);

/**
 * `text` with every control, invisible and bidi character shown as a `\uXXXX` escape (`\n`,
 * `\r`, `\t` by name), look-alike spaces as plain ones, and combining marks past two in a row escaped.
 */
export function visible(text: string): string {
  return text
    .replace(CONTROL, escapeCodeUnits)
    .replace(INVISIBLE, escapeCodeUnits)
    .replace(LONE_SURROGATE, escapeCodeUnits)
    .replace(WIDE_SPACE, ' ')
    .replace(STACKED, escapeCodeUnits);
}

// Bounded patterns only, so matching stays linear on any input. The host after `://` ends at a
// port, path, query or fragment; the scheme is what precedes `://` (so `_ftp://` is `ftp://`, and
// a `://` with no scheme still loses its slashes' meaning), and each `://` is handled on its own.
const HOST = /:\/\/([^\s/?#:\\]{0,255})/g;
const SCHEME = /([a-z0-9+.-]{0,64}):\/\//gi;
const WWW = /(?<![a-z0-9-])www\.([^\s/?#:\\]{0,255})/gi;
const MAILTO = /\b(mailto|tel|sms|javascript|data):/gi;
// A bare host name (`evil.example/login`), which mail clients link by themselves: labels, a
// final label of letters, then the end of the token. AWS's own domains, common in ARNs and
// service names (`sso.amazonaws.com`), stay readable, and so do email addresses (the session
// names of IAM Identity Center users): at worst they open a draft, never a page.
const DOMAIN = /(?<![\w.@-])(?:[a-z0-9-]{1,63}\.){1,10}[a-z]{2,24}(?![\w-]|\.[\w-])/gi;
const AWS_DOMAIN = /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|amazon\.com|aws\.amazon\.com)$/i;
// File names (a log file's `….json.gz`) end in extensions that are no top-level domain.
const FILE_NAME = /\.(json|gz|txt|log|csv|ya?ml)$/i;

function defangScheme(scheme: string): string {
  // An S3 URI (a log file's name) is not a link any reader follows.
  if (/^s3$/i.test(scheme)) return `${scheme}://`;
  if (/^https?$/i.test(scheme)) return `${scheme.replace(/t/i, 'x').replace(/t/i, 'x')}://`;
  return `${scheme}[:]//`;
}

/** `text` with URLs and `www.` hosts made unclickable: `hxxps://evil[.]example/x`, `www[.]evil[.]example`. */
export function defang(text: string): string {
  return text
    .replace(HOST, (match, host: string, at: number) => (/s3$/i.test(text.slice(Math.max(0, at - 3), at)) ? match : `://${host.replace(/\./g, '[.]')}`))
    .replace(SCHEME, (_match, scheme: string) => defangScheme(scheme))
    .replace(WWW, (_match, host: string) => `www[.]${host.replace(/\./g, '[.]')}`)
    .replace(MAILTO, '$1[:]')
    .replace(DOMAIN, (domain: string) => (AWS_DOMAIN.test(domain) || FILE_NAME.test(domain) ? domain : domain.replace(/\./g, '[.]')));
}

/** One line of inert plain text: for email, the terminal and anything a person reads as text. */
export const plain: Encode = (value) => defang(visible(String(value))).replace(/ {2,}/g, ' ').trim();

export const MRKDWN_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters. Without this a
 * record value could carry `<!channel>` or a disguised `<https://…|link>` into the channel.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (char) => MRKDWN_ESCAPES[char] ?? char);
}

/** The plain text of a value as it may sit inside a mrkdwn code span (escape before wrapping). */
export const codeSafe = (value: string): string => plain(value).replace(/`/g, "'");

/** A value as an inert Slack mrkdwn inline code span. */
export const mrkdwnCode: Encode = (value) => {
  const text = escapeMrkdwn(codeSafe(value));
  return text ? `\`${text}\`` : "''";
};

/**
 * The last guard before a terminal: any control or invisible character still in a line (other
 * than the line breaks the line is made of) becomes a `\uXXXX` escape. Inside JSON text the
 * escape reads back as the same character, so `--format json` stays valid and exact.
 */
export function terminalSafe(text: string): string {
  return text
    .replace(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029]/g, escapeUnicode)
    .replace(INVISIBLE, escapeUnicode)
    .replace(LONE_SURROGATE, escapeUnicode);
}

/**
 * JSON text of `value` with the characters JSON.stringify leaves raw (bidi controls, C1, line and
 * paragraph separators, invisible characters) written as `\uXXXX` escapes: the same value for a
 * parser, nothing live for a terminal or a viewer.
 */
export const inertJson = (value: unknown): string => terminalSafe(JSON.stringify(value));

/**
 * Cuts mrkdwn built from encoded parts to `max` characters, marking the cut, without leaving half
 * an entity (`&am`), half a surrogate pair, or a code span open (an odd backtick would start one).
 */
export function fitMrkdwn(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - ellipsis.length));
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  if ((cut.match(/`/g)?.length ?? 0) % 2 === 1) cut = cut.slice(0, cut.lastIndexOf('`'));
  return `${cut}${ellipsis}`;
}

/** Joins lines of mrkdwn while they fit in `max` characters; what does not fit is left out whole, marked `…`. */
export function joinWithin(lines: readonly string[], max: number): string {
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    const next = length + (kept.length ? 1 : 0) + line.length;
    if (next > max - 2) {
      kept.push('…');
      break;
    }
    kept.push(line);
    length = next;
  }
  return kept.join('\n');
}

