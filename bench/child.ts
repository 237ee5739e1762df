/**
 * One benchmark case in its own process, so that peak memory belongs to that case alone:
 * `node child.js <case> <file>` prints one JSON line with the time, the peak RSS and what the
 * case found. bench/run.ts bundles this file and runs it once per case and repetition.
 */
// First, as in the handler and the CLI: the same V8 tier-up budget as the code path it measures.
import '../lambda/tiering';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { buildAlert } from '../lambda/core/alerts/alert';
import { analyzeLogStream } from '../lambda/core/pipeline/analyze';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import { decodeLogBytes, GUNZIP_CHUNK_BYTES, inflateModeFor } from '../lambda/core/scan/decode';
import { createKernel } from '../lambda/core/scan/record-splitter-kernel';
import { extractRecords, isWatchedRecord } from '../lambda/core/scan/records';
import type { Alert } from '../lambda/core/types';

/** Every case reads the file in pieces of this size, as the scan CLI does (and as the floor of the CPU-seconds table, bench/process-cost.ts). */
export const READ_BYTES = 1024 * 1024;

export const CASES = ['floor', 'decoder', 'naive', 'scanner', 'kernel-init'] as const;
export type CaseName = (typeof CASES)[number];

export interface CaseResult {
  readonly wallMs: number;
  /** CPU time (user + system, every thread of the process: zlib's included) of the timed part. */
  readonly cpuMs?: number;
  readonly maxRssMb: number;
  readonly jsonBytes?: number;
  readonly records?: number;
  readonly acmRecords?: number;
  readonly alerts?: number;
  /** SHA-256 of the alerts as JSON, to compare paths without printing them. */
  readonly digest?: string;
  /** Why the case could not finish (measured up to there). */
  readonly error?: string;
}

export const digestOf = (alerts: readonly Alert[]): string => createHash('sha256').update(JSON.stringify(alerts)).digest('hex');

const read = (file: string) => createReadStream(file, { highWaterMark: READ_BYTES });
const gunzip = (file: string) => read(file).pipe(createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }));

/** The floor: Node's streaming gunzip, 1 MB reads and 1 MB chunks, output taken through `data` events and discarded. */
async function floor(file: string): Promise<Partial<CaseResult>> {
  let jsonBytes = 0;
  const inflate = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }).on('data', (chunk: Buffer) => {
    jsonBytes += chunk.length;
  });
  // pipeline, so a read error fails the case instead of leaving it waiting.
  await pipeline(read(file), inflate);
  return { jsonBytes };
}

/**
 * acm-sentinel's own decoder, as the scanner runs it on this many CPUs (into one reused 1 MiB
 * area, standing for the kernel's input memory), output discarded: the scanner's own floor.
 */
async function decoder(file: string): Promise<Partial<CaseResult>> {
  let jsonBytes = 0;
  const area = new Uint8Array(GUNZIP_CHUNK_BYTES);
  const options = { inflate: inflateModeFor(availableParallelism()), area: () => area };
  for await (const chunk of decodeLogBytes(read(file), Infinity, undefined, options)) jsonBytes += chunk.length;
  return { jsonBytes };
}

/** The usual approach: gunzip the whole file, JSON.parse it, filter, then the same rules and alerts. */
async function naive(file: string): Promise<Partial<CaseResult>> {
  const engine = createRuleEngine(DEFAULT_RULE_CONFIG);
  const chunks: Buffer[] = [];
  for await (const chunk of gunzip(file)) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  chunks.length = 0;
  let text: string;
  try {
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG') return { jsonBytes: bytes.length, error: 'string too large' };
    throw err;
  }
  const records = extractRecords(JSON.parse(text));
  const watched = records.filter(isWatchedRecord);
  const alerts = watched.flatMap((record) => {
    const verdict = engine.evaluate(record);
    return verdict?.alert ? [buildAlert(record, verdict.rule, file)] : [];
  });
  return { jsonBytes: bytes.length, records: records.length, acmRecords: watched.length, alerts: alerts.length, digest: digestOf(alerts) };
}

/** acm-sentinel: the code path the Lambda handler and the scan CLI use. */
async function scanner(file: string): Promise<Partial<CaseResult>> {
  const engine = createRuleEngine(DEFAULT_RULE_CONFIG);
  // Where the scan CLI and the handler inflate on this many CPUs: the main thread when pinned to one.
  const inflate = inflateModeFor(availableParallelism());
  const { stats, alerts } = await analyzeLogStream(read(file), { engine, name: file, inflate });
  return { records: stats.records, acmRecords: stats.acmRecords, alerts: alerts.length, digest: digestOf(alerts) };
}

/** The one-time cost of the first scan in a process: building and compiling the scanner's kernel. */
async function kernelInit(): Promise<Partial<CaseResult>> {
  createKernel();
  return {};
}

const RUN: Record<CaseName, (file: string) => Promise<Partial<CaseResult>>> = { floor, decoder, naive, scanner, 'kernel-init': kernelInit };

async function main(): Promise<void> {
  const [name, file, preload] = process.argv.slice(2) as [CaseName, string, string | undefined];
  // The bundled Lambda handler (AWS SDK and all), loaded first to see the scanner's peak memory as the function would.
  if (preload) require(preload);
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = await RUN[name](file);
  const used = process.cpuUsage(cpu);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const out: CaseResult = { wallMs, cpuMs: (used.user + used.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, ...result };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
