import { extractRecords, isWatchedRecord, LogFormatError } from './records';
import type { CloudTrailRecord, ScanStats } from './types';

/**
 * The ACM and ACM Private CA records of one decompressed log file, in file order. Counts every
 * record seen into `stats`. Throws LogFormatError when the bytes are not a CloudTrail log.
 */
export async function* scanWatchedRecords(
  bytes: AsyncIterable<Uint8Array>,
  stats: ScanStats,
): AsyncGenerator<CloudTrailRecord> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of bytes) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new LogFormatError(`not valid JSON${jsonErrorPosition(err)}`);
  }
  for (const record of extractRecords(document)) {
    stats.records += 1;
    if (isWatchedRecord(record)) {
      stats.acmRecords += 1;
      yield record;
    }
  }
}

/**
 * Where JSON.parse failed, without its message: newer engines quote the surrounding input in the
 * message, and log contents must never reach an error.
 */
export function jsonErrorPosition(err: unknown): string {
  const match = /position (\d+)/.exec(String((err as Error)?.message));
  return match ? ` (at character ${match[1]})` : '';
}
