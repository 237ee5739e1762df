/**
 * Room `scan/`: bytes in, CloudTrail records out. decode.ts gunzips a stream under a size cap,
 * record-splitter.ts and its WebAssembly kernel (record-splitter-kernel*.ts, built with
 * wasm-builder.ts) split a log file into records without parsing it, records.ts knows the
 * document shapes, and this file joins them: the ACM and ACM Private CA records of one file.
 */
import type { CloudTrailRecord, ScanStats } from '../types';
import { MAX_PARSED_VALUES, mayHoldTooManyValues, RecordSplitter, type Candidate } from './record-splitter';
import { DocumentSizeError, escapeControlsInStrings, extractRecords, isWatchedRecord, LogFormatError, RecordSizeError, splitConcatenated, unwrapEnvelope } from './records';

/**
 * The ACM and ACM Private CA records of one decompressed log file, in file order. Counts every
 * record seen into `stats`. Throws LogFormatError when the bytes are not a CloudTrail log, and
 * its RecordSizeError or DocumentSizeError when a part too large to hold or parse reaches its cap
 * (see record-splitter.ts), so memory stays bounded whatever the file holds.
 *
 * A CloudTrail file (`{"Records":[...]}`) is split into records as it streams, in memory that
 * does not grow with the file; only records whose bytes could name ACM are parsed, and each is
 * confirmed on the parsed object, so text inside other records never counts. Records are
 * yielded as they are found: when a later part of the file turns out to be invalid, this throws
 * after them, and the file must be treated as unreadable as a whole (as analyzeLogStream does).
 * Other shapes (a bare record, an EventBridge envelope) are parsed whole.
 */
export async function* scanWatchedRecords(
  bytes: AsyncIterable<Uint8Array>,
  stats: ScanStats,
): AsyncGenerator<CloudTrailRecord> {
  const splitter = new RecordSplitter();
  for await (const chunk of bytes) {
    const { records, candidates } = splitter.write(chunk);
    stats.records += records;
    for (const candidate of candidates) {
      if (!mayNameWatchedSource(candidate.bytes)) continue;
      const record = unwrapEnvelope(parseCandidate(candidate));
      if (isWatchedRecord(record)) {
        stats.acmRecords += 1;
        yield record;
      }
    }
  }
  const whole = splitter.end();
  if (!whole) return;
  if (mayHoldTooManyValues(whole)) throw new DocumentSizeError(MAX_PARSED_VALUES, 'values', 'whole');
  const raw = whole.toString('utf8');
  // Pasted documentation examples carry certificate bodies across lines: written as escapes, they parse.
  const text = escapeControlsInStrings(raw) ?? raw;
  let documents: unknown[];
  try {
    documents = [JSON.parse(text)];
  } catch (err) {
    // JSON Lines, or records written one after another: each value is a document of its own.
    const parts = splitConcatenated(text);
    if (!parts) throw new LogFormatError(`not valid JSON${jsonErrorPosition(err)}`);
    documents = parts.map((part, i) => {
      try {
        return JSON.parse(part);
      } catch (partErr) {
        throw new LogFormatError(`not valid JSON: value ${i + 1} of ${parts.length}${jsonErrorPosition(partErr)}`);
      }
    });
  }
  for (const record of documents.flatMap((document) => extractRecords(document))) {
    stats.records += 1;
    if (isWatchedRecord(record)) {
      stats.acmRecords += 1;
      yield record;
    }
  }
}

/**
 * The kernel's candidate test (`cm` or a `\u` escape) is coarse so it stays a vector compare;
 * this exact one is cheap on the few records it passes. A parsed string can only read
 * `acm.amazonaws.com` or `acm-pca.amazonaws.com` if the bytes hold that text or a `\u` escape:
 * no other JSON escape produces any of its characters.
 */
function mayNameWatchedSource(bytes: Buffer): boolean {
  return bytes.includes('acm.amazonaws.com') || bytes.includes('acm-pca.amazonaws.com') || bytes.includes('\\u');
}

function parseCandidate({ bytes, offset }: Candidate): unknown {
  if (mayHoldTooManyValues(bytes)) throw new RecordSizeError(MAX_PARSED_VALUES, 'values', offset);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new LogFormatError(`not valid JSON: invalid record (the record starting at byte ${offset})`);
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
