/**
 * `npm run bench`: acm-sentinel's scanner side by side with the gunzip floor and the naive
 * baseline, on generated CloudTrail files of 1k to 400k records. Every case runs in its own
 * process (peak RSS is per case); floor, decoder and scanner run back to back, in alternating
 * order, so background load hits them alike, and the table reports medians. Also measures the scan CLI as
 * a whole process and the Lambda bundle's size and load time. Prints the table and writes it to
 * bench/results.md.
 *
 * Options: --reps N (default 9), --sizes 1000,10000 (default 1000,10000,100000,400000),
 * --verbose (every floor, decoder and scanner run's wall time, on stderr).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { BUNDLE_EXTERNAL_MODULES, BUNDLE_MAIN_FIELDS } from '../infra/bundle-options';
import { digestOf, type CaseName, type CaseResult } from './child';
import { generateFiles, GENERATOR_VERSION, type GeneratedFile } from './generate';
import { canPin, failure, median, pairedCost, processCost, spawnNode, type PairedCost, type ProcessRun, type Spawned } from './process-cost';

const ROOT = path.join(__dirname, '..');
const DATA = path.join(__dirname, 'data');
const DEFAULT_SIZES = [1_000, 10_000, 100_000, 400_000];
const TARGET_SIZES = [100_000, 400_000];
/** Timed back to back in every repetition. */
const TRIO = ['floor', 'decoder', 'scanner'] as const;
const baselineRuns = (records: number, reps: number): number => (records >= 400_000 ? 1 : records >= 100_000 ? 3 : reps);
/** What the bundled handler needs to load quietly outside Lambda. */
const QUIET_ENV = { AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

interface Run extends CaseResult {
  /** Spawn to exit, as a user waits for it. */
  readonly processMs: number;
}


function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** Generated files are kept in bench/data and rebuilt only when missing or made by an older generator. */
async function benchFiles(sizes: readonly number[]): Promise<GeneratedFile[]> {
  const manifestPath = path.join(DATA, 'manifest.json');
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: number; files: GeneratedFile[] };
    const files = sizes.map((records) => manifest.files.find((f) => f.records === records));
    if (manifest.version === GENERATOR_VERSION && files.every((f) => f && existsSync(path.join(DATA, f.path)))) {
      return files.map((f) => ({ ...f!, path: path.join(DATA, f!.path) }));
    }
  } catch {
    // No usable manifest: generate.
  }
  const started = Date.now();
  process.stderr.write(`generating ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')}-record CloudTrail files...`);
  const files = await generateFiles(DATA, sizes);
  process.stderr.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  writeFileSync(manifestPath, JSON.stringify({ version: GENERATOR_VERSION, files: files.map((f) => ({ ...f, path: path.basename(f.path) })) }, null, 2));
  return files;
}

const run = (args: readonly string[], env: NodeJS.ProcessEnv = process.env, pinned = false): Promise<Spawned> => spawnNode(args, env, { pinned });

async function runCase(childJs: string, name: CaseName, file: string, preload?: string, pinned = false): Promise<Run> {
  const spawned = await run([childJs, name, file, ...(preload ? [preload] : [])], { ...process.env, ...QUIET_ENV }, pinned);
  if (spawned.code !== 0) return { wallMs: NaN, maxRssMb: NaN, processMs: spawned.processMs, error: failure(spawned) };
  return { ...(JSON.parse(spawned.stdout) as CaseResult), processMs: spawned.processMs };
}

/** The scan CLI as a user runs it; peak RSS comes from a hook that reports it at exit. */
async function runCli(hook: string, file: string): Promise<Run> {
  // A bundle of its own (beside the hook), so a bench never races another run building the shared one.
  const env = { ...process.env, ACM_SENTINEL_CLI_CACHE: path.join(path.dirname(hook), 'cli') };
  const spawned = await run(['--require', hook, path.join(ROOT, 'bin', 'acm-sentinel.js'), 'scan', file, '--format', 'json'], env);
  const rss = /@@bench-rss (\d+(?:\.\d+)?)/.exec(spawned.stderr);
  if (spawned.code !== 0) return { wallMs: NaN, maxRssMb: NaN, processMs: spawned.processMs, error: failure(spawned) };
  const alerts = spawned.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return { wallMs: spawned.processMs, processMs: spawned.processMs, maxRssMb: rss ? Number(rss[1]) : NaN, alerts: alerts.length, digest: digestOf(alerts) };
}

interface Summary {
  readonly wallMs: number;
  readonly processMs: number;
  readonly maxRssMb: number;
  readonly runs: readonly Run[];
  readonly error?: string;
}

function summarize(runs: readonly Run[]): Summary {
  const ok = runs.filter((r) => !r.error);
  if (ok.length === 0) return { wallMs: NaN, processMs: NaN, maxRssMb: NaN, runs, error: runs[0]?.error };
  return { wallMs: median(ok.map((r) => r.wallMs)), processMs: median(ok.map((r) => r.processMs)), maxRssMb: Math.max(...ok.map((r) => r.maxRssMb)), runs };
}

interface CaseSummaries {
  readonly floor: Summary;
  readonly decoder: Summary;
  readonly naive: Summary;
  readonly scanner: Summary;
  readonly cli: Summary;
}

interface LambdaBundle {
  readonly bytes?: number;
  readonly outfile?: string;
  readonly note?: string;
  /** Load in a fresh process, less a bare `node -e 0`, paired run by run: as deployed, and as esbuild's defaults would build it. */
  readonly load?: readonly BundleLoad[];
  readonly defaultBytes?: number;
}

interface BundleLoad {
  readonly build: 'deployed' | 'defaults';
  readonly pinned: boolean;
  readonly sourceMaps: boolean;
  readonly cpuMs: number;
  readonly wallMs: number;
}

/**
 * The handler bundled as the CDK stack bundles it (everything, the AWS SDK included, with the
 * stack's esbuild options), and beside it as esbuild's defaults bundle it (the SDK's CommonJS
 * builds, every credential source): the cost of loading each in a fresh process, less that of a
 * bare `node -e 0`, in CPU and wall time, pinned to one CPU and not, with and without
 * `--enable-source-maps`.
 */
async function lambdaBundle(work: string, reps: number): Promise<LambdaBundle> {
  const entry = path.join(ROOT, 'lambda', 'handler.ts');
  if (!existsSync(entry)) return { note: 'skipped: lambda/handler.ts does not exist yet' };
  const common: BuildOptions = { entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', minify: true, format: 'cjs', sourcemap: true, sourcesContent: false, logLevel: 'silent' };
  const outfile = path.join(work, 'handler.js');
  const defaults = path.join(work, 'handler-defaults.js');
  await build({ ...common, outfile, mainFields: [...BUNDLE_MAIN_FIELDS], external: [...BUNDLE_EXTERNAL_MODULES] });
  await build({ ...common, outfile: defaults });
  const cost = processCost();
  const load: BundleLoad[] = [];
  try {
    for (const pinned of canPin() ? [true, false] : [false]) {
      for (const sourceMaps of [false, true]) {
        for (const [buildName, file] of [['deployed', outfile], ['defaults', defaults]] as const) {
          const cpu: number[] = [];
          const wall: number[] = [];
          const flags = sourceMaps ? ['--enable-source-maps'] : [];
          for (let i = 0; i < reps; i++) {
            const bare = await cost.node([...flags, '-e', '0'], pinned, QUIET_ENV);
            const loaded = await cost.node([...flags, '-e', 'require(process.argv[1])', file], pinned, QUIET_ENV);
            if (loaded.error) return { bytes: statSync(outfile).size, note: `require failed: ${loaded.error}` };
            cpu.push(loaded.cpuMs - bare.cpuMs);
            wall.push(loaded.wallMs - bare.wallMs);
          }
          load.push({ build: buildName, pinned, sourceMaps, cpuMs: median(cpu), wallMs: median(wall) });
        }
      }
    }
  } finally {
    cost.dispose();
  }
  return { bytes: statSync(outfile).size, defaultBytes: statSync(defaults).size, outfile, load };
}

/**
 * The handler on one EventBridge CloudTrail event, from receiving it to its publish returning
 * (claim, publish, mark against the emulator and a local DynamoDB), in fresh processes: the first
 * invocation after loading (cold) and the 30 after it (warm).
 */
async function realtimeLatency(processes: number): Promise<string> {
  const colds: number[] = [];
  const warms: number[] = [];
  for (let i = 0; i < processes; i++) {
    const spawned = await run(['--import', 'tsx', path.join(__dirname, 'realtime-child.ts')], { ...process.env, ...QUIET_ENV });
    if (spawned.code !== 0) return `- skipped: ${failure(spawned)}`;
    const result = JSON.parse(spawned.stdout.trim().split('\n').pop()!) as { coldMs: number; warmMs: number[] };
    colds.push(result.coldMs);
    warms.push(...result.warmMs);
  }
  const sorted = [...warms].sort((a, b) => a - b);
  const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? NaN;
  return `- One EventBridge \`AWS API Call via CloudTrail\` event through the handler (rules, alert, claim in DynamoDB, SNS publish, mark sent), in process against the local emulator and dynalite: cold (first invocation after loading) ${fmt(median(colds), 1)} ms, warm ${fmt(median(warms), 1)} ms median, ${fmt(p95, 1)} ms p95 (${processes} processes, ${warms.length} warm events). In AWS, EventBridge's own delivery and the network round trips add to this.`;
}

/** `scan s3://` against the local emulator, 160 generated log files over 4 days and 2 accounts, with N reads in flight (median of 3 processes each). */
async function s3ScanRates(concurrencies: readonly number[]): Promise<string[]> {
  const lines: string[] = [];
  for (const concurrency of concurrencies) {
    const runs: Array<{ objects: number; bytes: number; ms: number; rssMb: number }> = [];
    for (let i = 0; i < 3; i++) {
      const spawned = await run(['--import', 'tsx', path.join(__dirname, 's3-scan-child.ts'), String(concurrency)], { ...process.env, ...QUIET_ENV });
      if (spawned.code !== 0) return [`- skipped: ${failure(spawned)}`];
      runs.push(JSON.parse(spawned.stdout.trim().split('\n').pop()!) as (typeof runs)[number]);
    }
    const ms = median(runs.map((r) => r.ms));
    const { objects, bytes } = runs[0]!;
    lines.push(`- \`--concurrency ${concurrency}\`: ${fmt(objects / (ms / 1000))} objects/s, ${fmt(bytes / 1e6 / (ms / 1000), 2)} MB/s of gzip (${objects} objects, ${fmt(bytes / 1e6, 2)} MB, ${fmt(ms)} ms), peak RSS ${fmt(Math.max(...runs.map((r) => r.rssMb)))} MB (the scanning process; the emulator runs in its own)`);
  }
  lines.push('- Against real S3 each GET waits a round trip (tens of ms), so reads in flight matter far more there than against a local emulator.');
  return lines;
}

async function repeat<T>(times: number, run: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < times; i++) results.push(await run());
  return results;
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

async function main(): Promise<void> {
  const started = Date.now();
  const reps = Number(option('reps') ?? 9);
  const sizes = (option('sizes')?.split(',').map(Number) ?? DEFAULT_SIZES).sort((a, b) => a - b);
  const files = await benchFiles(sizes);

  const work = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-bench-'));
  try {
    const childJs = path.join(work, 'child.js');
    await build({ entryPoints: [path.join(__dirname, 'child.ts')], outfile: childJs, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent' });
    const hook = path.join(work, 'rss-hook.js');
    writeFileSync(hook, "process.on('exit',()=>process.stderr.write('\\n@@bench-rss '+(process.resourceUsage().maxRSS/1024)+'\\n'));\n");

    const cliPresent = existsSync(path.join(ROOT, 'lambda', 'cli', 'main.ts'));
    const cliFile = files.at(-1)!;
    if (cliPresent) await runCli(hook, files[0]!.path); // the CLI builds its bundle on first use; keep that out of the timings

    const results = new Map<number, { floor: Run[]; decoder: Run[]; naive: Run[]; scanner: Run[]; cli: Run[] }>();
    for (const file of files) results.set(file.records, { floor: [], decoder: [], naive: [], scanner: [], cli: [] });
    for (let rep = 0; rep < reps; rep++) {
      for (const file of files) {
        const runs = results.get(file.records)!;
        process.stderr.write(`\rrun ${rep + 1}/${reps}: ${file.records.toLocaleString('en-US')} records      `);
        // Back to back, in alternating order, so the machine's drift hits every case alike.
        for (const name of rep % 2 === 0 ? TRIO : [...TRIO].reverse()) runs[name].push(await runCase(childJs, name, file.path));
        if (cliPresent && file === cliFile) runs.cli.push(await runCli(hook, file.path));
      }
    }
    // The baseline takes seconds and gigabytes on the big files: it runs apart from the timed pairs, and fewer times there.
    for (const file of files) {
      for (let rep = 0; rep < baselineRuns(file.records, reps); rep++) {
        process.stderr.write(`\rbaseline ${rep + 1}: ${file.records.toLocaleString('en-US')} records      `);
        results.get(file.records)!.naive.push(await runCase(childJs, 'naive', file.path));
      }
    }
    process.stderr.write('\n');
    if (process.argv.includes('--verbose')) {
      for (const [records, runs] of results) {
        for (const name of TRIO) process.stderr.write(`${records} ${name}: ${runs[name].map((r) => fmt(r.wallMs)).join(' ')} ms\n`);
      }
    }
    const kernelInit = summarize(await repeat(3, () => runCase(childJs, 'kernel-init', '')));
    const bundle = await lambdaBundle(work, reps);
    // The same floor and scanner in a process that has loaded the Lambda bundle first, as in the
    // function: in pairs, alternating which goes first, pinned to one CPU (CPU seconds) and not (wall).
    const inLambda: Array<{ pinned: boolean; floor: Run[]; scanner: Run[] }> = [];
    if (bundle.outfile) {
      for (const pinned of canPin() ? [true, false] : [false]) {
        const floorRuns: Run[] = [];
        const scannerRuns: Run[] = [];
        for (let i = 0; i < reps; i++) {
          process.stderr.write(`\rin the Lambda bundle's process: ${pinned ? 'one CPU' : 'all CPUs'}, pair ${i + 1}/${reps}      `);
          const pair = [() => runCase(childJs, 'floor', cliFile.path, bundle.outfile, pinned), () => runCase(childJs, 'scanner', cliFile.path, bundle.outfile, pinned)];
          if (i % 2) pair.reverse();
          const [first, second] = [await pair[0]!(), await pair[1]!()];
          floorRuns.push(i % 2 ? second : first);
          scannerRuns.push(i % 2 ? first : second);
        }
        inLambda.push({ pinned, floor: floorRuns, scanner: scannerRuns });
      }
      process.stderr.write('\n');
    }

    // CPU seconds as well as wall time, whole processes, pinned to one CPU (as a function below
    // 1,769 MB runs: gunzip cannot overlap the scan there) and not: floor and scan CLI in pairs.
    const cost = processCost();
    // The first scan builds the CLI's bundle: once, before anything is timed.
    await cost.scan(files[0]!.path, false);
    const cpuRows: Array<{ records: number; pinned: boolean; paired: PairedCost; naive: ProcessRun }> = [];
    try {
      for (const file of files.filter((f) => TARGET_SIZES.includes(f.records))) {
        for (const pinned of canPin() ? [true, false] : [false]) {
          process.stderr.write(`\rCPU seconds: ${fmt(file.records)} records, ${pinned ? 'one CPU' : 'all CPUs'}      `);
          const paired = await pairedCost(cost, file.path, pinned, reps);
          const naive = await cost.node([childJs, 'naive', file.path], pinned, QUIET_ENV);
          cpuRows.push({ records: file.records, pinned, paired, naive });
        }
      }
    } finally {
      cost.dispose();
    }
    process.stderr.write('\n');

    const realtime = await realtimeLatency(3);
    const lookBack = await s3ScanRates([1, 16]);

    const lines: string[] = [];
    const checks: Array<{ ok: boolean; text: string }> = [];
    lines.push('| Records | JSON | Case | Wall | Throughput | Peak RSS | vs floor | vs baseline | Alerts |');
    lines.push('|---:|---:|:---|---:|---:|---:|---:|---:|:---|');
    const byCase = new Map<number, CaseSummaries>();
    for (const file of files) {
      const runs = results.get(file.records)!;
      const s: CaseSummaries = { floor: summarize(runs.floor), decoder: summarize(runs.decoder), naive: summarize(runs.naive), scanner: summarize(runs.scanner), cli: summarize(runs.cli) };
      byCase.set(file.records, s);
      const mb = file.jsonBytes / 1e6;
      const naiveDigest = s.naive.runs.find((r) => r.digest)?.digest;
      const alertCell = (summary: Summary): string => {
        const r = summary.runs.find((x) => x.digest);
        if (!r) return summary.error ?? '–';
        if (!naiveDigest) return `${r.alerts}`;
        const same = summary.runs.every((x) => x.error || x.digest === naiveDigest);
        return `${r.alerts} ${same ? '(same as baseline)' : '**(differ from baseline)**'}`;
      };
      const row = (label: string, summary: Summary, wall: number, floorWall: number, alerts: string) =>
        `| ${fmt(file.records)} | ${fmt(mb, 1)} MB | ${label} | ${summary.error && !Number.isFinite(wall) ? summary.error : `${fmt(wall)} ms`} | ${fmt(mb / (wall / 1000))} MB/s | ${fmt(summary.maxRssMb)} MB | ${ratio(wall, floorWall)} | ${ratio(wall, s.naive.wallMs)} | ${alerts} |`;
      lines.push(row('floor: streaming gunzip only', s.floor, s.floor.wallMs, s.floor.wallMs, ''));
      lines.push(row("decoder only: acm-sentinel's gunzip, output discarded", s.decoder, s.decoder.wallMs, s.floor.wallMs, ''));
      lines.push(row('baseline: gunzip, JSON.parse, filter', s.naive, s.naive.wallMs, s.floor.wallMs, alertCell(s.naive)));
      lines.push(row('**acm-sentinel scanner**', s.scanner, s.scanner.wallMs, s.floor.wallMs, alertCell(s.scanner)));
      if (s.cli.runs.length) {
        lines.push(row('scan CLI, whole process¹', s.cli, s.cli.processMs, s.floor.processMs, alertCell(s.cli)));
      }
      if (naiveDigest || s.naive.error) {
        checks.push({
          ok: s.scanner.runs.every((r) => r.digest === naiveDigest) && !!naiveDigest,
          text: `${fmt(file.records)} records: scanner alerts identical to the baseline's${naiveDigest ? '' : ' (baseline did not finish)'}`,
        });
      }
    }
    const footnotes = [
      `Wall: median of ${reps} runs (baseline: 3 on 100k, 1 on 400k, run after the others), each in a fresh process, timed from opening the file to the last alert; throughput is MB (10⁶ bytes) of decompressed JSON per second; peak RSS is the most any run reached (the process's maximum resident set).`,
      `¹ The CLI is timed as a whole process (start to exit, \`node bin/acm-sentinel.js scan FILE --format json\`), against the floor also timed as a whole process (${fmt(byCase.get(cliFile.records)?.floor.processMs ?? NaN)} ms on this file).`,
    ];
    if (!cliPresent) footnotes.push('The scan CLI row is missing: lambda/cli/main.ts does not exist yet.');
    const ownFloor = TARGET_SIZES.flatMap((records) => {
      const s = byCase.get(records);
      return s ? [`${ratio(s.scanner.wallMs, s.decoder.wallMs)} on ${fmt(records)} records`] : [];
    });
    if (ownFloor.length) footnotes.push(`Against its own decoder with the output discarded (the stricter floor), the scanner takes ${ownFloor.join(' and ')}.`);

    for (const records of TARGET_SIZES) {
      const s = byCase.get(records);
      if (!s) continue;
      const r = s.scanner.wallMs / s.floor.wallMs;
      checks.push({ ok: r <= 1.15, text: `${fmt(records)} records: scanner wall ${ratio(s.scanner.wallMs, s.floor.wallMs)} the floor (target ≤ 1.15×)` });
      const speedup = s.naive.wallMs / s.scanner.wallMs;
      checks.push({ ok: speedup >= 2.5, text: `${fmt(records)} records: scanner ${Number.isFinite(speedup) ? speedup.toFixed(1) : '–'}× faster than the baseline (target ≥ 2.5×)` });
      checks.push({ ok: s.scanner.maxRssMb <= 100, text: `${fmt(records)} records: scanner peak RSS ${fmt(s.scanner.maxRssMb)} MB (target ≤ 100 MB)` });
    }
    const [a, b] = TARGET_SIZES.map((n) => byCase.get(n)?.scanner.maxRssMb ?? NaN) as [number, number];
    if (Number.isFinite(a) && Number.isFinite(b)) {
      checks.push({ ok: b <= a * 1.1, text: `peak RSS grows ${(((b - a) / a) * 100).toFixed(1)}% from 100k to 400k records (target ≤ 10%)` });
    }
    const big = byCase.get(cliFile.records);
    if (big && big.cli.runs.length) {
      checks.push({ ok: big.cli.processMs <= 1.2 * big.floor.processMs, text: `${fmt(cliFile.records)} records: scan CLI, whole process, ${ratio(big.cli.processMs, big.floor.processMs)} the floor as a whole process (target ≤ 1.2×)` });
      const naiveDigest = big.naive.runs.find((r) => r.digest)?.digest;
      if (naiveDigest) checks.push({ ok: big.cli.runs.every((r) => r.digest === naiveDigest), text: `${fmt(cliFile.records)} records: scan CLI alerts identical to the baseline's` });
    }

    const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(3)} s` : '–');
    const cpuLines = [
      '| Records | CPUs | Floor wall | Floor CPU | Baseline wall | Baseline CPU | Scan wall | Scan CPU | Scan/floor wall | Scan/floor CPU | Scan peak RSS | Alerts |',
      '|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|',
      ...cpuRows.map(({ records, pinned, paired: r, naive }) =>
        `| ${fmt(records)} | ${pinned ? 'one (pinned)' : 'all'} | ${seconds(r.floor.wallMs)} | ${seconds(r.floor.cpuMs)} | ${naive.error ? naive.error : seconds(naive.wallMs)} | ${seconds(naive.cpuMs)} | ` +
          `${seconds(r.scan.wallMs)} | ${seconds(r.scan.cpuMs)} | ${r.wallRatio.toFixed(2)}× | ${r.cpuRatio.toFixed(2)}× | ${fmt(r.scan.maxRssMb)} MB | ${r.error ?? r.scan.alerts} |`),
    ];
    if (!canPin()) cpuLines.push('', 'Pinned rows are missing: `taskset` (util-linux) is not available here.');
    for (const { records, pinned, paired: r } of cpuRows) {
      if (pinned) checks.push({ ok: r.cpuRatio <= 1.2, text: `${fmt(records)} records, one CPU: scan CLI CPU seconds ${r.cpuRatio.toFixed(2)}× the floor's (target ≤ 1.20×)` });
      else checks.push({ ok: r.wallRatio <= 1.1, text: `${fmt(records)} records, all CPUs: scan CLI wall ${r.wallRatio.toFixed(2)}× the floor's (target ≤ 1.10×)` });
    }
    // The same on one CPU, where gzip is inflated on the main thread rather than the thread pool.
    const [onePinned, fourPinned] = TARGET_SIZES.map((n) => cpuRows.find((row) => row.records === n && row.pinned)?.paired.scan.maxRssMb ?? NaN) as [number, number];
    if (Number.isFinite(onePinned) && Number.isFinite(fourPinned)) {
      checks.push({ ok: fourPinned <= onePinned * 1.1, text: `one CPU, on the main thread: scan CLI peak RSS grows ${(((fourPinned - onePinned) / onePinned) * 100).toFixed(1)}% from 100k to 400k records (target ≤ 10%)` });
    }
    const pairedRatio = (a: readonly Run[], b: readonly Run[], key: 'wallMs' | 'cpuMs'): number => median(a.map((run, i) => (b[i]![key] ?? NaN) / (run[key] ?? NaN)));
    for (const { pinned, floor, scanner } of inLambda) {
      const r = pairedRatio(floor, scanner, pinned ? 'cpuMs' : 'wallMs');
      checks.push({
        ok: r <= (pinned ? 1.2 : 1.1),
        text: `${fmt(cliFile.records)} records, in a process that loaded the Lambda bundle, ${pinned ? 'one CPU: scanner CPU seconds' : 'all CPUs: scanner wall'} ${r.toFixed(2)}× the floor's (target ≤ ${pinned ? '1.20' : '1.10'}×)`,
      });
    }

    const bundleLines = bundle.bytes === undefined || !bundle.load
      ? [`- Lambda bundle: ${bundle.note}`]
      : [
        `- Lambda bundle (handler and AWS SDK, minified, one file, as the stack deploys it): ${fmt(bundle.bytes)} bytes; ` +
          `as esbuild's defaults build it, as the stack did before (the SDK's CommonJS builds, every credential source): ${fmt(bundle.defaultBytes!)} bytes.`,
        `- Loading it in a fresh process, less a bare \`node -e 0\` (medians of ${reps} pairs):`,
        '',
        '| CPUs | Source maps | Deployed: CPU | Deployed: wall | Defaults: CPU | Defaults: wall | Deployed / defaults (CPU) |',
        '|:---|:---|---:|---:|---:|---:|---:|',
        ...[true, false].flatMap((pinned) => [false, true].flatMap((sourceMaps) => {
          const of = (name: 'deployed' | 'defaults') => bundle.load!.find((l) => l.build === name && l.pinned === pinned && l.sourceMaps === sourceMaps);
          const deployed = of('deployed');
          const defaults = of('defaults');
          if (!deployed || !defaults) return [];
          return [`| ${pinned ? 'one (pinned)' : 'all'} | ${sourceMaps ? '--enable-source-maps' : 'off (deployed)'} | ${fmt(deployed.cpuMs, 1)} ms | ${fmt(deployed.wallMs, 1)} ms | ${fmt(defaults.cpuMs, 1)} ms | ${fmt(defaults.wallMs, 1)} ms | ${(deployed.cpuMs / defaults.cpuMs).toFixed(2)}× |`];
        })),
        '',
      ];
    if (bundle.bytes !== undefined) checks.push({ ok: bundle.bytes <= 600_000, text: `Lambda bundle ${fmt(bundle.bytes)} bytes (target ≤ 600,000)` });
    // Before, the stack built the defaults and ran them with --enable-source-maps; it now runs its own build without.
    for (const pinned of [true, false]) {
      const now = bundle.load?.find((l) => l.build === 'deployed' && l.pinned === pinned && !l.sourceMaps);
      const before = bundle.load?.find((l) => l.build === 'defaults' && l.pinned === pinned && l.sourceMaps);
      if (!now || !before) continue;
      bundleLines.push(`- ${pinned ? 'One CPU' : 'All CPUs'}: loading as deployed now takes ${(now.cpuMs / before.cpuMs).toFixed(2)}× the CPU of loading as deployed before (esbuild's defaults, run with --enable-source-maps).`);
      checks.push({ ok: now.cpuMs / before.cpuMs <= 0.6, text: `${pinned ? 'one CPU' : 'all CPUs'}: Lambda bundle load ${(now.cpuMs / before.cpuMs).toFixed(2)}× the CPU of the bundle as deployed before (target ≤ 0.60×)` });
    }
    bundleLines.push(`- The scanner's first use in a process compiles its WebAssembly kernel: ${fmt(kernelInit.wallMs, 1)} ms (median of 3)`);
    for (const { pinned, floor, scanner } of inLambda) {
      const f = summarize(floor);
      const sc = summarize(scanner);
      const cpu = (runs: readonly Run[]) => median(runs.map((run) => run.cpuMs ?? NaN));
      bundleLines.push(
        `- In a process that has loaded the Lambda bundle first, on the ${fmt(cliFile.records)}-record file, ${pinned ? 'one CPU (pinned)' : 'all CPUs'} (medians of ${reps} pairs): ` +
          `floor ${fmt(f.wallMs)} ms wall, ${fmt(cpu(floor))} ms CPU; scanner ${fmt(sc.wallMs)} ms wall, ${fmt(cpu(scanner))} ms CPU ` +
          `(${pairedRatio(floor, scanner, 'wallMs').toFixed(2)}× the floor's wall, ${pairedRatio(floor, scanner, 'cpuMs').toFixed(2)}× its CPU), scanner peak RSS ${fmt(sc.maxRssMb)} MB`,
      );
    }

    const machine = `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'})`;
    const text = [
      `## Benchmark`,
      '',
      `${machine}; generated CloudTrail files (mixed services, ~${fmt(files.at(-1)!.jsonBytes / files.at(-1)!.records)} bytes per record, ACM and ACM PCA about 0.2% of records).`,
      '',
      ...lines,
      '',
      ...footnotes,
      '',
      '### CPU seconds, whole processes',
      '',
      'Floor: Node\'s streaming gunzip (1 MB reads, 1 MB chunks, output taken through `data` events and discarded) as a whole process; scan: `node bin/acm-sentinel.js scan FILE --format json`; baseline: gunzip, JSON.parse, filter, alerts (one run). ' +
        `Floor and scan run in ${reps} pairs, alternating which goes first; medians, ratios are medians of the pairs' ratios. CPU is user + system time of the process (its thread pool included); one CPU is \`taskset -c 0\`, as a Lambda function below 1,769 MB has less than one vCPU.`,
      '',
      ...cpuLines,
      '',
      '### Targets',
      '',
      ...checks.map((c) => `- ${c.ok ? 'met' : '**not met**'}: ${c.text}`),
      '',
      '### Lambda package',
      '',
      ...bundleLines,
      '',
      '### Real-time path',
      '',
      realtime,
      '',
      '### Look back (`scan s3://`)',
      '',
      ...lookBack,
      '',
      `Bench run time: ${((Date.now() - started) / 1000).toFixed(0)} s.`,
      '',
    ].join('\n');
    process.stdout.write(`${text}\n`);
    writeFileSync(path.join(__dirname, 'results.md'), text);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
