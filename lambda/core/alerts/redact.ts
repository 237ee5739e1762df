/**
 * Removes secrets from request parameters before they reach an alert, a log line or an error:
 * passphrases, private keys, certificates and CSRs (by field name), ByteBuffer dumps (`hb`
 * arrays), PEM blocks, CloudTrail's `HIDDEN_DUE_TO_SECURITY_REASONS` placeholder and long
 * base64 runs, wherever they sit.
 */
export const REDACTED = '[redacted]';

const SECRET_FIELD = /^(passphrase|password|privatekey|certificate|certificatechain|csr|secret|secretkey|keymaterial|plaintext)$/i;
const PEM = /-----BEGIN [A-Z0-9 ]+-----/;
const LONG_BASE64 = /[A-Za-z0-9+/]{200,}={0,2}/;
const MAX_DEPTH = 8;
const MAX_STRING = 1024;

/** True for a string that holds, or stands in for, secret material. */
function looksSecret(value: string): boolean {
  return PEM.test(value) || value.includes('HIDDEN_DUE_TO_SECURITY_REASONS') || LONG_BASE64.test(value);
}

function isByteBuffer(value: Record<string, unknown>): boolean {
  return 'hb' in value || ('capacity' in value && 'limit' in value && 'position' in value);
}

/** A redacted copy of `value`; strings are also capped so one huge parameter cannot swamp an alert. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    if (looksSecret(value)) return REDACTED;
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const object = value as Record<string, unknown>;
  if (isByteBuffer(object)) return REDACTED;
  const copy: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(object)) {
    copy[field] = SECRET_FIELD.test(field) && fieldValue !== null && fieldValue !== undefined ? REDACTED : redact(fieldValue, depth + 1);
  }
  return copy;
}

/** Redacts a free-text field (an error message, a user agent) and caps its length. */
export function redactText(text: string | undefined, max = 512): string | undefined {
  if (text === undefined) return undefined;
  const cleaned = text.replace(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, REDACTED).replace(/[A-Za-z0-9+/]{200,}={0,2}/g, REDACTED);
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}
