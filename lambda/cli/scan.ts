import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { skipReasonForKey } from '../core/ingest/s3-event';
import { readLogStream, type PartialResult } from '../core/pipeline/analyze';
import { plain } from '../core/render/untrusted';
import { createRuleEngine } from '../core/rules/evaluate';
import { DocumentSizeError, NotCloudTrailError } from '../core/scan/records';
import type { Severity } from '../core/types';
import { loadRuleConfigFile, parseFormat, UsageError, withFailOn } from './args';
import { alertPrinter, countAlerts, plural, type Output } from './output';

export interface ScanOptions {
  /** Files and folders; `-` reads one log from standard input. */
  readonly paths: readonly string[];
  readonly format?: string;
  readonly config?: string;
  /** Exit 3 when an alert is at or above this severity. */
  readonly failOn?: Severity;
  /** Where `-` reads from. @default process.stdin */
  readonly stdin?: AsyncIterable<Uint8Array>;
}

const LOG_FILE = /\.json(\.gz)?$|\.gz$/i;
/** Symbolic links to folders followed this deep at most, so a link loop ends. */
const MAX_LINK_DEPTH = 8;

/** Files under `target`, recursively, in a stable order; a file named directly is always taken. */
async function* filesUnder(target: string, named: boolean, depth = 0): AsyncGenerator<{ file: string; named: boolean }> {
  if (target === '-') {
    yield { file: '-', named: true };
    return;
  }
  const info = await stat(target);
  if (!info.isDirectory()) {
    yield { file: target, named };
    return;
  }
  const entries = (await readdir(target, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(target, entry.name);
    // A symbolic link counts as what it points to (a synced bucket often links its folders); a loop or a dangling link is passed over.
    const kind = entry.isSymbolicLink() ? await stat(full).then((info) => (info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other'), () => 'other') : entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
    if (kind === 'dir' && !(entry.isSymbolicLink() && depth >= MAX_LINK_DEPTH)) yield* filesUnder(full, false, depth + (entry.isSymbolicLink() ? 1 : 0));
    else if (kind === 'file' && LOG_FILE.test(entry.name)) yield { file: full, named: false };
  }
}

/**
 * `scan PATH...`: the same core the Lambda runs, on local files and folders. Unreadable inputs are
 * reported on stderr with the path and the reason, and the rest are still scanned.
 * Returns the exit code: 0 when every input was read, 1 when any was not.
 */
export async function runScan(options: ScanOptions, io: Output): Promise<number> {
  const format = parseFormat(options.format);
  if (options.paths.length === 0) throw new UsageError('scan needs at least one file or folder');
  const engine = createRuleEngine(await loadRuleConfigFile(options.config));

  const printer = alertPrinter(format, io);
  const { alerts } = printer;
  let files = 0;
  let records = 0;
  let acmRecords = 0;
  let failures = 0;
  let skipped = 0;
  const fail = (message: string) => {
    failures += 1;
    io.err(`error: ${message}`);
  };

  for (const target of options.paths) {
    try {
      for await (const { file: path_, named } of filesUnder(target, true)) {
        // File names come from the folder (a synced bucket's keys): shown as one inert line.
        const file = path_ === '-' ? '<stdin>' : plain(path_);
        // Downloaded files lose their folders, but CloudTrail's file names still say what they are.
        const skip = path_ === '-' ? undefined : /_CloudTrail-Digest_/.test(path.basename(path_)) ? 'digest-file' : skipReasonForKey(path_.split(path.sep).join('/'));
        if (skip === 'digest-file' || skip === 'insights-file') {
          skipped += 1;
          if (named) io.err(`skipped ${file}: a CloudTrail ${skip === 'digest-file' ? 'digest' : 'Insights'} file, not a log file`);
          continue;
        }
        let result: PartialResult;
        try {
          const bytes = path_ === '-' ? (options.stdin ?? process.stdin) : createReadStream(path_, { highWaterMark: 256 * 1024 });
          result = await readLogStream(bytes, { engine, name: file });
        } catch (err) {
          fail(`${file}: ${(err as Error).message}`);
          continue;
        }
        // Inside a folder, JSON that is not CloudTrail at all (an S3 event, a rendering, a large
        // unrelated document) is passed over.
        const cause = result.error?.cause;
        if (!named && result.alerts.length === 0 && (cause instanceof NotCloudTrailError || (cause instanceof DocumentSizeError && cause.part === 'whole'))) {
          skipped += 1;
          continue;
        }
        if (!result.error) files += 1;
        records += result.stats.records;
        acmRecords += result.stats.acmRecords;
        // A file that breaks part-way still shows what it held before the break.
        result.alerts.forEach(printer.print);
        if (result.error) fail(result.error.message);
        if (result.unbuilt.length) fail(`${file}: ${plural(result.unbuilt.length, 'alert')} could not be built (${[...new Set(result.unbuilt)].join(', ')})`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      fail(`${plain(target)}: ${code === 'ENOENT' ? 'no such file or folder' : ((err as Error).message ?? String(err))}`);
    }
  }

  io.err(
    `scanned ${plural(files, 'file')}: ${plural(records, 'record')}, ${plural(acmRecords, 'ACM record')}, ${countAlerts(alerts)}` +
      `${skipped ? `; ${skipped} skipped` : ''}${failures ? `; ${failures} unreadable` : ''}`,
  );
  if (files === 0 && failures === 0) {
    io.err(
      skipped
        ? `no CloudTrail log file among them: ${skipped === 1 ? 'the file skipped is a digest or Insights file, or JSON' : `the ${skipped} files skipped are digest or Insights files, or JSON`} that is not CloudTrail; log files hold {"Records":[…]}`
        : 'no .json or .json.gz file found there; CloudTrail log files are named like 111122223333_CloudTrail_us-east-1_20250314T0905Z_….json.gz',
    );
  }
  return withFailOn(failures ? 1 : 0, alerts, options.failOn);
}
