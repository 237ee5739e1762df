/**
 * The scan CLI against the gunzip floor as whole processes, in CPU seconds as well as wall time:
 * below 1,769 MB a Lambda function has less than one vCPU, so zlib cannot overlap the scan there
 * and CPU seconds bound its duration. Pinned to one CPU (`taskset -c 0`, where taskset exists)
 * and unpinned, floor and scan run in pairs, alternating which goes first, and the table
 * reports medians.
 *
 * The floor: Node's streaming gunzip, 1 MB reads and 1 MB chunks, output taken through `data`
 * events and discarded, as a whole process. Also used by bench/run.ts.
 *
 * `tsx bench/process-cost.ts [--pairs N] [--sizes 100000,400000]`
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const DATA = path.join(__dirname, 'data');

/** One whole process: wall from spawn to exit, CPU (user + system) and peak RSS from its own resource usage at exit. */
export interface ProcessRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly stdout: string;
  readonly error?: string;
}

const FLOOR_SCRIPT = [
  "const fs = require('node:fs');",
  "const zlib = require('node:zlib');",
  'fs.createReadStream(process.argv[2], { highWaterMark: 1 << 20 }).pipe(zlib.createGunzip({ chunkSize: 1 << 20 })).on(\'data\', () => {});',
  '',
].join('\n');

/** Reports the process's own CPU time and peak RSS on stderr as it exits. */
const USAGE_HOOK = "process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('\\n@@usage '+(u.userCPUTime+u.systemCPUTime)/1000+' '+u.maxRSS/1024+'\\n')});\n";

let pinnable: boolean | undefined;
/** Whether `taskset -c 0` works here (util-linux, Linux only). */
export function canPin(): boolean {
  pinnable ??= spawnSync('taskset', ['-c', '0', process.execPath, '-e', '0'], { stdio: 'ignore' }).status === 0;
  return pinnable;
}

export interface ProcessCost {
  /** Runs the floor as a whole process on `file`. */
  floor(file: string, pinned: boolean): Promise<ProcessRun>;
  /** Runs `node bin/acm-sentinel.js scan FILE --format json` as a whole process. */
  scan(file: string, pinned: boolean): Promise<ProcessRun>;
  /** Runs any Node script as a whole process, measured the same way. */
  node(args: readonly string[], pinned: boolean, env?: NodeJS.ProcessEnv): Promise<ProcessRun>;
  dispose(): void;
}

/** A Node process run to its end: exit code, output, and the time from spawn to exit. */
export interface Spawned {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly processMs: number;
}

/** Runs `node ARGS`, pinned to the first CPU with `taskset -c 0` when asked; killed at the time limit. */
export function spawnNode(args: readonly string[], env: NodeJS.ProcessEnv = process.env, options: { pinned?: boolean; timeoutMs?: number } = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const [command, argv] = options.pinned ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, [...args]];
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), processMs: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

/** Why a process failed, in a few words: its first line of stderr, or how it ended. */
export function failure(spawned: Spawned): string {
  if (/heap out of memory|Allocation failed/i.test(spawned.stderr)) return 'out of memory';
  if (spawned.code === null) return 'killed (time limit)';
  return spawned.stderr.trim().split('\n')[0]?.slice(0, 120) || `exit code ${spawned.code}`;
}

async function runProcess(args: readonly string[], pinned: boolean, env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  const spawned = await spawnNode(args, env, { pinned });
  const usage = /@@usage (\S+) (\S+)/.exec(spawned.stderr);
  return {
    wallMs: spawned.processMs,
    cpuMs: usage ? Number(usage[1]) : NaN,
    maxRssMb: usage ? Number(usage[2]) : NaN,
    stdout: spawned.stdout,
    ...(spawned.code !== 0 ? { error: failure(spawned) } : {}),
  };
}

/** Sets up the floor script, the usage hook and a CLI bundle of its own in a temporary folder. */
export function processCost(): ProcessCost {
  const work = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-cost-'));
  const floorJs = path.join(work, 'floor.js');
  const hook = path.join(work, 'usage-hook.js');
  writeFileSync(floorJs, FLOOR_SCRIPT);
  writeFileSync(hook, USAGE_HOOK);
  // A CLI bundle of its own, so a run never races another one building the shared bundle.
  const env = { ...process.env, ACM_SENTINEL_CLI_CACHE: path.join(work, 'cli') };
  const cli = path.join(ROOT, 'bin', 'acm-sentinel.js');
  return {
    floor: (file, pinned) => runProcess(['--require', hook, floorJs, file], pinned, env),
    scan: (file, pinned) => runProcess(['--require', hook, cli, 'scan', file, '--format', 'json'], pinned, env),
    node: (args, pinned, extra) => runProcess(['--require', hook, ...args], pinned, { ...env, ...extra }),
    dispose: () => rmSync(work, { recursive: true, force: true }),
  };
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface PairedCost {
  readonly floor: { wallMs: number; cpuMs: number; maxRssMb: number };
  readonly scan: { wallMs: number; cpuMs: number; maxRssMb: number; alerts: number };
  /** Median of the per-pair ratios (scan / floor). */
  readonly wallRatio: number;
  readonly cpuRatio: number;
  readonly error?: string;
}

/** `pairs` pairs of floor and scan on one file, alternating which runs first. */
export async function pairedCost(cost: ProcessCost, file: string, pinned: boolean, pairs: number): Promise<PairedCost> {
  const floors: ProcessRun[] = [];
  const scans: ProcessRun[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      floors.push(await cost.floor(file, pinned));
      scans.push(await cost.scan(file, pinned));
    } else {
      scans.push(await cost.scan(file, pinned));
      floors.push(await cost.floor(file, pinned));
    }
  }
  const error = [...floors, ...scans].find((r) => r.error)?.error;
  const summary = (runs: ProcessRun[]) => ({
    wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)), maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
  });
  const alerts = scans[0]!.stdout.split('\n').filter(Boolean).length;
  return {
    floor: summary(floors),
    scan: { ...summary(scans), alerts },
    wallRatio: median(floors.map((f, i) => scans[i]!.wallMs / f.wallMs)),
    cpuRatio: median(floors.map((f, i) => scans[i]!.cpuMs / f.cpuMs)),
    ...(error ? { error } : {}),
  };
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const pairs = Number(option('pairs') ?? 7);
  const sizes = option('sizes')?.split(',').map(Number) ?? [100_000, 400_000];
  const manifest = JSON.parse(readFileSync(path.join(DATA, 'manifest.json'), 'utf8')) as { files: { path: string; records: number }[] };
  const cost = processCost();
  try {
    const files = sizes.map((records) => {
      const entry = manifest.files.find((f) => f.records === records);
      if (!entry || !existsSync(path.join(DATA, entry.path))) throw new Error(`no ${records}-record file in bench/data: run npm run bench first`);
      return { records, file: path.join(DATA, entry.path) };
    });
    await cost.scan(files[0]!.file, false); // builds the CLI bundle
    const modes = canPin() ? [true, false] : [false];
    if (!canPin()) process.stderr.write('taskset is not available here: unpinned only\n');
    const f = (ms: number): string => (ms / 1000).toFixed(3);
    process.stdout.write('| Records | CPUs | Floor wall | Floor CPU | Scan wall | Scan CPU | Wall ratio | CPU ratio | Floor RSS | Scan RSS | Alerts |\n');
    process.stdout.write('|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n');
    for (const { records, file } of files) {
      for (const pinned of modes) {
        const r = await pairedCost(cost, file, pinned, pairs);
        process.stdout.write(
          `| ${records.toLocaleString('en-US')} | ${pinned ? 'one (pinned)' : 'all'} | ${f(r.floor.wallMs)} s | ${f(r.floor.cpuMs)} s | ${f(r.scan.wallMs)} s | ${f(r.scan.cpuMs)} s | ` +
            `${r.wallRatio.toFixed(2)}× | ${r.cpuRatio.toFixed(2)}× | ${r.floor.maxRssMb.toFixed(0)} MB | ${r.scan.maxRssMb.toFixed(0)} MB | ${r.scan.alerts}${r.error ? ` (${r.error})` : ''} |\n`,
        );
      }
    }
  } finally {
    cost.dispose();
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
