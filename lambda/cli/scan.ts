import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { skipReasonForKey } from '../core/ingest/s3-event';
import { readLogStream, type PartialResult } from '../core/pipeline/analyze';
import { plain } from '../core/render/untrusted';
import { createRuleEngine } from '../core/rules/evaluate';
import { INPUT_BATCH_BYTES } from '../core/scan/decode';
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
  /** List each file skipped, and why, on stderr. */
  readonly verbose?: boolean;
}

/** Local files are read in pieces of gunzip's input batch, so each goes to it as it is, never joined with others first. */
const READ_BYTES = INPUT_BATCH_BYTES;

/** Symbolic links to folders followed this deep at most, so a link loop ends. */
const MAX_LINK_DEPTH = 8;

/** A file found in a folder or named on the command line; `skip` says why it is not read. */
interface Found {
  readonly file: string;
  readonly named: boolean;
  readonly skip?: string;
}

/** Files under `target`, recursively, in a stable order; a file named directly is always taken. */
async function* filesUnder(target: string, named: boolean, depth = 0): AsyncGenerator<Found> {
  if (target === '-') {
    yield { file: '-', named: true };
    return;
  }
  const info = await stat(target);
  if (!info.isDirectory()) {
    const skip = named ? (info.size === 0 ? 'an empty file' : undefined) : await notJson(target, info.size);
    yield { file: target, named, ...(skip ? { skip } : {}) };
    return;
  }
  const entries = (await readdir(target, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(target, entry.name);
    if (!entry.isSymbolicLink() && !entry.isDirectory()) {
      if (entry.isFile()) yield* filesUnder(full, false, depth);
      continue;
    }
    // A symbolic link counts as what it points to (a synced bucket often links its folders); a dangling link is passed over.
    const kind = entry.isDirectory() ? 'dir' : await stat(full).then((linked) => (linked.isDirectory() ? 'dir' : linked.isFile() ? 'file' : 'other'), () => 'other');
    if (kind === 'file') yield* filesUnder(full, false, depth);
    else if (kind === 'dir') {
      if (entry.isSymbolicLink() && depth >= MAX_LINK_DEPTH) yield { file: full, named: false, skip: `a link more than ${MAX_LINK_DEPTH} links deep (a loop?)` };
      else yield* filesUnder(full, false, depth + (entry.isSymbolicLink() ? 1 : 0));
    }
  }
}

/**
 * Why a file in a folder cannot be a log, by its first bytes: log files are gzip or JSON text
 * whatever they are named (exports come as .log, .txt, .jsonl). Undefined when it may be one.
 */
async function notJson(file: string, size: number): Promise<string | undefined> {
  if (size === 0) return 'an empty file';
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return undefined;
    const text = head.toString('latin1').replace(/^\xef\xbb\xbf/, '').trimStart();
    if (text === '' && bytesRead < size) return undefined;
    return text.startsWith('{') || text.startsWith('[') ? undefined : 'neither gzip nor JSON';
  } finally {
    await handle.close();
  }
}

/** Why a file is not read, by its name: downloaded files lose their folders, but CloudTrail's file names still say what they are. */
function skipByName(file: string): string | undefined {
  const base = path.basename(file);
  const reason = /_CloudTrail-Digest_/.test(base) ? 'digest-file' : /_CloudTrail-Insight_/.test(base) ? 'insights-file' : skipReasonForKey(file.split(path.sep).join('/'));
  if (reason === 'digest-file') return 'a CloudTrail digest file, not a log file';
  if (reason === 'insights-file') return 'a CloudTrail Insights file, not a log file';
  return undefined;
}

/**
 * `scan PATH...`: the same core the Lambda runs, on local files and folders. Unreadable inputs are
 * reported on stderr with the path and the reason, and the rest are still scanned.
 * Returns the exit code: 0 when every input was read, 1 when any was not or none was CloudTrail,
 * 3 with --fail-on (see withFailOn).
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
  let unexplained = 0;
  const fail = (message: string) => {
    failures += 1;
    progress?.clear();
    io.err(`error: ${message}`);
  };
  const skip = (file: string, reason: string, say: boolean) => {
    skipped += 1;
    if (!say) {
      unexplained += 1;
      return;
    }
    progress?.clear();
    io.err(`skipped ${file}: ${reason}`);
  };
  const progress = io.progress ? fileProgress(io.progress) : undefined;

  for (const target of options.paths) {
    try {
      for await (const found of filesUnder(target, true)) {
        // File names come from the folder (a synced bucket's keys): shown as one inert line.
        const file = found.file === '-' ? '<stdin>' : plain(found.file);
        const reason = found.skip ?? (found.file === '-' ? undefined : skipByName(found.file));
        if (reason) {
          skip(file, reason, found.named || options.verbose === true);
          continue;
        }
        let result: PartialResult;
        try {
          const bytes = found.file === '-' ? (options.stdin ?? process.stdin) : createReadStream(found.file, { highWaterMark: READ_BYTES });
          result = await readLogStream(progress ? progress.track(bytes, file, found.file) : bytes, { engine, name: file, lenient: true });
        } catch (err) {
          fail(`${file}: ${(err as Error).message}`);
          continue;
        }
        // Inside a folder, JSON that is not CloudTrail at all (an S3 event, a rendering, a large
        // unrelated document) is passed over.
        const cause = result.error?.cause;
        if (!found.named && result.alerts.length === 0 && (cause instanceof NotCloudTrailError || (cause instanceof DocumentSizeError && cause.part === 'whole'))) {
          skip(file, cause.message, options.verbose === true);
          continue;
        }
        if (!result.error) files += 1;
        records += result.stats.records;
        acmRecords += result.stats.acmRecords;
        progress?.done(files, alerts.length + result.alerts.length);
        if (result.stats.repaired) {
          progress?.clear();
          io.err(`note: ${file}: read with ${plural(result.stats.repaired, 'raw line break')} inside strings taken as \\n, as AWS's documentation prints certificate bodies (JSON allows none)`);
        }
        // A file that breaks part-way still shows what it held before the break.
        if (result.alerts.length) progress?.clear();
        result.alerts.forEach(printer.print);
        if (result.error) fail(result.error.message);
        if (result.unbuilt.length) fail(`${file}: ${plural(result.unbuilt.length, 'alert')} could not be built (${[...new Set(result.unbuilt)].join(', ')})`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      fail(`${plain(target)}: ${code === 'ENOENT' ? 'no such file or folder' : ((err as Error).message ?? String(err))}`);
    }
  }
  progress?.clear();

  io.err(
    `scanned ${plural(files, 'file')}: ${plural(records, 'record')}, ${plural(acmRecords, 'ACM record')}, ${countAlerts(alerts)}` +
      `${skipped ? `; ${skipped} skipped` : ''}${failures ? `; ${failures} unreadable` : ''}`,
  );
  if (files === 0 && failures === 0) {
    io.err(
      skipped
        ? `error: no CloudTrail input: ${skipped === 1 ? 'the file skipped is not' : `none of the ${skipped} files skipped is`} a CloudTrail log${unexplained ? ' (--verbose says why for each)' : ''}; log files hold {"Records":[…]}`
        : 'error: no CloudTrail input: no file found there; CloudTrail log files are named like 111122223333_CloudTrail_us-east-1_20250314T0905Z_….json.gz',
    );
    return 1;
  }
  return withFailOn(failures ? 1 : 0, alerts, options.failOn);
}

/** Redraws this often at most: a status line is for a person, not a log. */
const PROGRESS_EVERY_MS = 100;

/**
 * The status line of a local scan: files done, alerts so far, and how far into the current file
 * (by its bytes on disk, which is what gzip reads).
 */
function fileProgress(write: (line: string) => void) {
  let done = { files: 0, alerts: 0 };
  // A scan that ends within the first interval never shows the line.
  let drawn = Date.now();
  let shown = false;
  const draw = (current: string) => {
    const now = Date.now();
    if (now - drawn < PROGRESS_EVERY_MS) return;
    drawn = now;
    shown = true;
    write(`scanning: ${plural(done.files, 'file')} done, ${plural(done.alerts, 'alert')} · ${current}`);
  };
  return {
    async *track(bytes: AsyncIterable<Uint8Array>, name: string, file: string): AsyncGenerator<Uint8Array> {
      const size = file === '-' ? 0 : await stat(file).then((info) => info.size, () => 0);
      let read = 0;
      for await (const chunk of bytes) {
        read += chunk.length;
        draw(size ? `${name} ${Math.min(99, Math.floor((read / size) * 100))}%` : `${name} ${(read / 1e6).toFixed(0)} MB`);
        yield chunk;
      }
    },
    done(files: number, alerts: number) {
      done = { files, alerts };
    },
    clear() {
      if (!shown) return;
      write('');
      shown = false;
    },
  };
}
