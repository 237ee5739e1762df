/**
 * Room `history/`: which CloudTrail log files a look back covers. Pure date arithmetic over
 * CloudTrail's key layout, `[prefix/]AWSLogs/[o-…/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE`,
 * whose file names carry the delivery time (`…_20250314T0905Z_…`).
 */

/** A look back: from `since` to `until`, both included. */
export interface TimeRange {
  readonly since: Date;
  readonly until: Date;
}

const DAY_MS = 24 * 3600_000;
const DURATION = /^(\d{1,5})([dhw])$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads `--since`/`--until`: a duration back from `now` (`90d`, `12h`, `2w`) or an ISO date or
 * time (`2025-03-14`, `2025-03-14T09:00Z`). A bare date means its whole UTC day: the start of it
 * for `since`, the end of it for `until`, so both days are included. Undefined when not valid.
 */
export function parseWhen(text: string, edge: 'since' | 'until', now: Date): Date | undefined {
  const trimmed = text.trim();
  const duration = DURATION.exec(trimmed);
  if (duration) {
    const hours = Number(duration[1]) * ({ h: 1, d: 24, w: 168 } as const)[duration[2] as 'h' | 'd' | 'w'];
    return new Date(now.getTime() - hours * 3600_000);
  }
  if (DATE_ONLY.test(trimmed)) {
    const start = Date.parse(`${trimmed}T00:00:00Z`);
    if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== trimmed) return undefined;
    return new Date(edge === 'since' ? start : start + DAY_MS - 1);
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) return undefined;
  // Without an offset, a time is UTC, as bare dates are: the answer must not depend on the laptop's zone.
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) ? trimmed : `${trimmed}Z`;
  const time = Date.parse(zoned);
  const date = trimmed.slice(0, 10);
  // Date.parse rolls 2025-02-31 over to March; an impossible day is refused instead.
  if (Number.isNaN(time) || new Date(Date.parse(`${date}T00:00:00Z`)).toISOString().slice(0, 10) !== date) return undefined;
  return new Date(time);
}

/** The longest look back accepted: ten years of day folders is already millions of listings at organization scale. */
export const MAX_LOOKBACK_DAYS = 3660;

/** The UTC days the range touches, oldest first, as CloudTrail writes them in keys: `YYYY/MM/DD`. */
export function daysOf(range: TimeRange): string[] {
  const days: string[] = [];
  const last = Math.floor(range.until.getTime() / DAY_MS);
  for (let day = Math.floor(range.since.getTime() / DAY_MS); day <= last; day += 1) days.push(new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '/'));
  return days;
}

const DELIVERY_TIME = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/;

/** When CloudTrail delivered a log file, from its name; undefined for a name without the stamp. */
export function deliveryTime(key: string): Date | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const m = DELIVERY_TIME.exec(name);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]))) : undefined;
}

/**
 * Whether a log file in a day's folder belongs to the range: by its delivery time, to the
 * minute, when its name has one; otherwise by its folder's day, which `daysOf` already chose.
 */
export function inRange(key: string, range: TimeRange): boolean {
  const time = deliveryTime(key);
  if (!time) return true;
  const minuteOfSince = Math.floor(range.since.getTime() / 60_000) * 60_000;
  return time.getTime() >= minuteOfSince && time.getTime() <= range.until.getTime();
}

/** The folder of one account, Region and day: `BASE` ends in `AWSLogs/` or `AWSLogs/o-…/`. */
export const dayPrefix = (base: string, account: string, region: string, day: string): string => `${base}${account}/CloudTrail/${region}/${day}/`;
