import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { daysOf, dayPrefix, inRange, type TimeRange } from '../core/history/range';
import { skipReasonForKey } from '../core/ingest/s3-event';

/** Where a trail's log files are: the bucket and its `[prefix/]AWSLogs/` folder, perhaps narrowed. */
export interface Location {
  readonly bucket: string;
  /** Up to and including `AWSLogs/`. */
  readonly logs: string;
  /** An organization folder (`AWSLogs/o-…/`), if the look back is narrowed to it. */
  readonly organization?: string;
  /** An account folder, if the look back is narrowed to it. */
  readonly account?: string;
}

export interface Found {
  readonly key: string;
  readonly size: number;
}

/** The child folders of `prefix` (CommonPrefixes with delimiter `/`), every page. */
async function folders(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }));
    for (const common of page.CommonPrefixes ?? []) if (common.Prefix) found.push(common.Prefix.slice(prefix.length).replace(/\/$/, ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

const LOG_FILE = /\.json(\.gz)?$/i;

/** The log files of one day folder, in key order; `empty` counts the 0-byte objects passed over. */
export async function logFiles(s3: S3Client, bucket: string, prefix: string, range: TimeRange, empty?: { count: number }): Promise<Found[]> {
  const found: Found[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (!key || !LOG_FILE.test(key) || skipReasonForKey(key) || !inRange(key, range)) continue;
      if (object.Size === 0) {
        if (empty) empty.count += 1;
        continue;
      }
      found.push({ key, size: object.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/**
 * The day folders to read, by walking CloudTrail's layout one level at a time (accounts, their
 * Regions), never the whole bucket: oldest day first, then account, then Region.
 */
export async function dayFolders(s3: S3Client, location: Location, range: TimeRange, accounts?: string[], regions?: string[]): Promise<string[]> {
  const bases: Array<{ base: string; account: string }> = [];
  const addAccounts = async (base: string, named?: string) => {
    for (const account of named ? [named] : (await folders(s3, location.bucket, base)).filter((name) => /^\d{12}$/.test(name))) {
      if (!accounts || accounts.includes(account)) bases.push({ base, account });
    }
  };
  if (location.organization) await addAccounts(`${location.logs}${location.organization}/`, location.account);
  else if (location.account) await addAccounts(location.logs, location.account);
  else {
    const top = await folders(s3, location.bucket, location.logs);
    await addAccounts(location.logs);
    for (const organization of top.filter((name) => /^o-[a-z0-9]{10,32}$/.test(name))) await addAccounts(`${location.logs}${organization}/`);
  }
  const trails: Array<{ base: string; account: string; region: string }> = [];
  for (const { base, account } of bases) {
    for (const region of await folders(s3, location.bucket, `${base}${account}/CloudTrail/`)) if (!regions || regions.includes(region)) trails.push({ base, account, region });
  }
  return daysOf(range).flatMap((day) => trails.map(({ base, account, region }) => dayPrefix(base, account, region, day)));
}
