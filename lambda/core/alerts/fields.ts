import type * as Crypto from 'node:crypto';
import { redactDeep, redactString } from './redact';

// Loaded when first needed (an event ID to hash is rare): a local scan's start does not pay for the module.
let crypto: typeof Crypto | undefined;
const sha256Hex = (text: string): string => (crypto ??= require('node:crypto') as typeof Crypto).createHash('sha256').update(text).digest('hex');

/**
 * Reading a record's fields as an attacker may have written them: any JSON type in any field,
 * any size. Every value becomes a string within its budget or is left out; a wrong type becomes
 * a visible placeholder, never an exception. Secrets are redacted before a value is cut, so a
 * cut can never leave a key fragment too short to recognise.
 */

/** Most characters each kind of field keeps; real CloudTrail values are far shorter. */
export const FIELD_BUDGETS = {
  /** Event IDs are UUIDs; a longer or stranger one is replaced by `invalid-<hash>`. */
  eventId: 64,
  /** Account ids, Regions, event times, error codes. */
  short: 128,
  /** Names: event names, identity types, user and session names, principal ids, invokedBy. */
  name: 256,
  /** IP addresses and hosts (`sourceIPAddress`). */
  address: 256,
  userAgent: 1024,
  errorMessage: 2048,
  /** ARNs (IAM allows 2048 characters) and log file names. */
  arn: 2048,
} as const;

/** Resources listed per alert; the CloudTrail event holds the rest. */
export const MAX_RESOURCES = 20;

/** Request details: at most this many bytes of JSON, else replaced by a truncation note. */
export const DETAILS_BUDGET_BYTES = 16 * 1024;
const DETAIL_STRING = 1024;
const DETAIL_KEYS = 50;
const DETAIL_ITEMS = 20;
const DETAIL_KEY_NAME = 128;

/** Cuts `text` to `max` characters with a visible mark saying how much was cut; never splits a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const mark = `…[+${text.length - max} chars]`;
  let end = Math.max(0, max - mark.length);
  if (end > 0 && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end -= 1;
  return `${text.slice(0, end)}${mark}`;
}

/** A placeholder naming the type found where a string belongs: `[invalid: number]`. */
export function placeholder(value: unknown): string {
  return `[invalid: ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}]`;
}

/** The text of a field: a string as it is, absent for null/undefined/'', any other type as a placeholder. */
export function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : placeholder(value);
}

/** A field of the finished alert: read, redacted by content, cut to its budget. */
export function field(value: unknown, max: number): string | undefined {
  const text = textOf(value);
  return text === undefined ? undefined : cut(redactString(text), max);
}

/** Sets `target[key]` to the field made of `value` (see `field`), leaving it out when there is none. */
export function setField<T extends object, K extends keyof T>(target: T, key: K, value: unknown, max: number): void {
  const text = field(value, max);
  if (text !== undefined) target[key] = text as T[K];
}

/** The object at `value`, or an empty one when it is anything else. */
export function objectAt(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const EVENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The event ID as alerts and deduplication use it. CloudTrail's are UUIDs; a missing one is
 * `missing-` and a hash of the record, and one that is not a short identifier (another type, a huge or odd string, or one
 * that looks like key material) becomes `invalid-` and a hash of it, so it stays distinct, short
 * and inert.
 */
export function eventIdOf(value: unknown, record?: unknown): string {
  // Without an ID, the record itself tells it apart: two different records never share a key.
  if (value === undefined || value === null || value === '') return record === undefined ? 'unknown' : `missing-${sha256Hex(JSON.stringify(record) ?? '').slice(0, 24)}`;
  if (typeof value === 'string' && EVENT_ID.test(value) && redactString(value) === value) return value;
  const raw = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return `invalid-${sha256Hex(raw).slice(0, 24)}`;
}

/** Request parameters as alert details: secrets redacted by name and content, then cut to the details budget. */
export function detailsOf(requestParameters: unknown): Record<string, unknown> {
  const redacted = objectAt(redactDeep(objectAt(requestParameters)));
  const budgeted = objectAt(budget(redacted));
  const size = Buffer.byteLength(JSON.stringify(budgeted));
  return size <= DETAILS_BUDGET_BYTES ? budgeted : { truncated: `request parameters exceeded ${DETAILS_BUDGET_BYTES / 1024} KB; see the CloudTrail event` };
}

/** A copy of a JSON value with strings, key names, objects and arrays cut to the detail limits (depth is bounded by redactDeep). */
function budget(value: unknown): unknown {
  if (typeof value === 'string') return cut(value, DETAIL_STRING);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items = value.slice(0, DETAIL_ITEMS).map(budget);
    return value.length > DETAIL_ITEMS ? [...items, `…[+${value.length - DETAIL_ITEMS} items]`] : items;
  }
  const entries = Object.entries(value);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, DETAIL_KEYS)) copy[cut(redactString(key), DETAIL_KEY_NAME)] = budget(item);
  if (entries.length > DETAIL_KEYS) copy['…'] = `+${entries.length - DETAIL_KEYS} more fields`;
  return copy;
}
