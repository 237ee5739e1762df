import { availableParallelism } from 'node:os';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { skipReasonForKey } from '../core/ingest/s3-event';
import { readLogStream, systemProblem, type PartialResult } from '../core/pipeline/analyze';
import { plain } from '../core/render/untrusted';
import { createRuleEngine } from '../core/rules/evaluate';
import { inflateModeFor, INPUT_BATCH_BYTES, reusesInput } from '../core/scan/decode';
import { NotCloudTrailError, NotJsonError } from '../core/scan/records';
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

/**
 * A local file in READ_BYTES pieces. With `reuse` (gzip inflated on the main thread or the thread
 * pool, where each piece is taken before the next is asked for: DecodeOptions), every piece after
 * the first of a gzip file is read into the same buffer; a new one per read costs page faults,
 * about 25 ms of CPU per 50 MB of gzip. The first piece keeps its own (the decoder holds it to
 * look at), and so does every piece of a file that is not gzip (the scanner keeps views of them).
 */
async function* fileChunks(file: string, reuse: boolean): AsyncGenerator<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    let shared: Buffer | undefined;
    for (let first = true; ; first = false) {
      const buffer = shared ?? Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null);
      if (bytesRead === 0) return;
      if (first && reuse && bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) shared = Buffer.allocUnsafe(READ_BYTES);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** A file found in a folder or named on the command line; `skip` says why it is not read, `error` why it cannot be. */
interface Found {
  readonly file: string;
  readonly named: boolean;
  /** A regular file's size, from the walk's own stat (for the progress line). */
  readonly size?: number;
  readonly skip?: string;
  readonly error?: string;
}

/**
 * Files under `target`, recursively, in a stable order; a file named directly is always taken.
 * Each real folder and file is visited once (by device and inode), so links, loops included, add
 * nothing twice; an entry that cannot be read is reported and the walk goes on.
 */
async function* filesUnder(target: string, named: boolean, visited = new Set<string>()): AsyncGenerator<Found> {
  if (target === '-') {
    yield { file: '-', named: true };
    return;
  }
  let info;
  try {
    info = await stat(target);
  } catch (err) {
    // In a folder, a link to nothing (or to itself) is passed over; anything else that cannot be read is reported.
    const link = named ? false : await lstat(target).then((linked) => linked.isSymbolicLink(), () => false);
    yield { file: target, named, ...(link ? { skip: `a symbolic link to nothing readable: ${systemProblem(err)}` } : { error: systemProblem(err) }) };
    return;
  }
  if (!info.isDirectory()) {
    // Pipes and devices (`<(cat f)`, /dev/stdin) report no size: only a regular file can be empty.
    if (!info.isFile()) {
      yield { file: target, named, ...(named ? {} : { skip: 'not a regular file' }) };
      return;
    }
    // A file reached twice (named twice, or through a link) is read once.
    const fileId = `file ${info.dev}:${info.ino}`;
    if (visited.has(fileId)) {
      yield { file: target, named, skip: 'already read (the same file, by another name or link)' };
      return;
    }
    visited.add(fileId);
    let skip: string | undefined;
    try {
      skip = info.size === 0 ? 'an empty file' : named ? undefined : await notJson(target);
    } catch (err) {
      yield { file: target, named, error: systemProblem(err) };
      return;
    }
    yield { file: target, named, size: info.size, ...(skip ? { skip } : {}) };
    return;
  }
  const id = `${info.dev}:${info.ino}`;
  if (visited.has(id)) return;
  visited.add(id);
  let entries;
  try {
    entries = (await readdir(target, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    yield { file: target, named, error: systemProblem(err) };
    return;
  }
  for (const entry of entries) {
    const full = path.join(target, entry.name);
    if (entry.name.startsWith('.') || entry.name === 'node_modules') {
      yield { file: full, named: false, skip: entry.name === 'node_modules' ? 'node_modules is not searched' : 'a hidden name (starting with .)' };
      continue;
    }
    yield* filesUnder(full, false, visited);
  }
}

/**
 * Why a file in a folder cannot be a log, by its first bytes: log files are gzip or JSON text
 * whatever they are named (exports come as .log, .txt, .jsonl). Undefined when it may be one.
 */
async function notJson(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return undefined;
    const text = head.toString('latin1').replace(/^\xef\xbb\xbf/, '').trimStart();
    if (text === '' && bytesRead === 512) return undefined;
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
  // One way of inflating for the whole scan: the CPUs this process may run on do not change per file.
  const inflate = inflateModeFor(availableParallelism());

  const printer = alertPrinter(format, io);
  const { alerts } = printer;
  let files = 0;
  let records = 0;
  let acmRecords = 0;
  let failures = 0;
  let skipped = 0;
  let partial = 0;
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

  if (options.paths.filter((target) => target === '-').length > 1) throw new UsageError('- (standard input) can be named once');
  // One set for every target: `scan logs logs/2025` reads the shared folder once.
  const visited = new Set<string>();
  for (const target of options.paths) {
    try {
      for await (const found of filesUnder(target, true, visited)) {
        // File names come from the folder (a synced bucket's keys): shown as one inert line; alerts carry the real path.
        const file = found.file === '-' ? '<stdin>' : plain(found.file);
        if (found.error) {
          fail(`${file}: ${found.error}`);
          continue;
        }
        const reason = found.skip ?? (found.file === '-' ? undefined : skipByName(found.file));
        if (reason) {
          skip(file, reason, found.named || options.verbose === true);
          continue;
        }
        if (found.file === '-' && !options.stdin && process.stdin.isTTY) io.err('reading CloudTrail records from standard input; end with Ctrl-D');
        let result: PartialResult;
        const printedBefore = alerts.length;
        try {
          const bytes = found.file === '-' ? (options.stdin ?? process.stdin) : fileChunks(found.file, reusesInput(inflate));
          result = await readLogStream(progress ? progress.track(bytes, file, found.size) : bytes, {
            engine, name: found.file === '-' ? '<stdin>' : found.file, lenient: true, inflate,
            // A local scan has no function's memory to protect: alerts are printed as they are found, and any size is read.
            maxDecompressedBytes: Number.POSITIVE_INFINITY,
            onAlert: (alert) => {
              progress?.clear();
              printer.print(alert);
            },
          });
        } catch (err) {
          fail(`${file}: ${systemProblem(err)}`);
          continue;
        }
        const cause = result.error?.cause;
        // Inside a folder, what is not CloudTrail at all (an S3 event, settings, a gzip of something else) is passed over.
        if (!found.named && alerts.length === printedBefore && result.stats.acmRecords === 0 && (cause instanceof NotCloudTrailError || cause instanceof NotJsonError)) {
          skip(file, cause.message, options.verbose === true);
          continue;
        }
        if (result.empty) {
          skip(file, found.file === '-' ? 'standard input was empty' : 'it holds nothing once decompressed', true);
          continue;
        }
        // A file that broke part-way counts with what was read of it, and says so.
        if (!result.error || result.stats.records > 0) {
          files += 1;
          records += result.stats.records;
          acmRecords += result.stats.acmRecords;
          if (result.error) partial += 1;
        }
        progress?.done(files, alerts.length);
        if (result.stats.repaired) {
          progress?.clear();
          io.err(`note: ${file}: read with ${plural(result.stats.repaired, 'raw line break')} inside strings taken as \\n, as AWS's documentation prints certificate bodies (JSON allows none)`);
        }
        // A file that breaks part-way has shown what it held before the break.
        if (result.error) fail(`${file}: ${result.error.reason}`);
        if (result.unbuilt.length) fail(`${file}: ${plural(result.unbuilt.length, 'alert')} could not be built (${[...new Set(result.unbuilt)].join(', ')})`);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      fail(`${plain(target)}: ${systemProblem(err)}`);
    }
  }
  progress?.clear();

  io.err(
    `scanned ${plural(files, 'file')}${partial ? ` (${partial} only in part)` : ''}: ${plural(records, 'record')}, ${plural(acmRecords, 'ACM record')}, ${countAlerts(alerts)}` +
      `${skipped ? `; ${skipped} skipped` : ''}${failures ? `; ${failures} unreadable` : ''}`,
  );
  if (files === 0 && failures === 0) {
    io.err(
      skipped
        ? `error: no CloudTrail input: nothing read was a CloudTrail log (${skipped} skipped${unexplained ? '; --verbose says why for each' : ''}); log files hold {"Records":[…]}`
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
    /** `size`: the file's, when known, for a percentage. */
    async *track(bytes: AsyncIterable<Uint8Array>, name: string, size: number | undefined): AsyncGenerator<Uint8Array> {
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
