/**
 * Child process of scan-limits.test.ts: streams one generated log file through analyzeLogStream,
 * gzipped as it is generated (the generator holds one shared 1 MiB filler, never the file), and
 * prints one JSON line: the outcome, the bytes generated before reading stopped, and the
 * process's peak RSS. Run alone, it measures one input:
 *
 *   node --import tsx test/scan-limits-child.ts huge-string 1073741824
 */
import { readFileSync } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { constants, createGzip } from 'node:zlib';
import { analyzeLogStream } from '../lambda/core/pipeline/analyze';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import { MAX_PARSED_VALUES } from '../lambda/core/scan/record-splitter';

/**
 * A generated file: `frame[0]`, then the part the caps measure (`head`, `size` bytes of `filler`
 * repeated, `tail`), then `frame[1]`.
 */
interface Shape {
  readonly frame: readonly [string, string];
  readonly head: string;
  readonly filler: string;
  readonly tail: string;
}

const RECORDS: Shape['frame'] = ['{"Records":[', ']}'];
const WHOLE: Shape['frame'] = ['', ''];
const ACM_RECORD_START = '{"eventSource":"acm.amazonaws.com","eventName":"ExportCertificate","eventID":"limits",';

/** `{`, `[` and `,`: what the scanner counts as JSON values before a full parse. */
const valueMarks = (text: string): number => text.replace(/[^{[,]/g, '').length;

/**
 * An ACM record as costly to parse as the caps allow: one value short of MAX_PARSED_VALUES in
 * empty objects (the most memory per byte JSON.parse can be made to use), then a string.
 */
function widestRecord(): Pick<Shape, 'head' | 'tail'> {
  const open = `${ACM_RECORD_START}"requestParameters":{"objects":[`;
  const close = '],"text":"';
  const tail = '"}}';
  // n empty objects add n brackets and n - 1 commas.
  const objects = Math.floor((MAX_PARSED_VALUES - valueMarks(open + close + tail)) / 2);
  return { head: `${open}${'{},'.repeat(objects - 1)}{}${close}`, tail };
}

export const INPUTS = {
  /** One ACM record of the Records array holding one huge string. */
  'huge-string': { frame: RECORDS, head: `${ACM_RECORD_START}"note":"`, filler: 'a', tail: '"}' },
  /** A document that is not `{"Records":[` first, parsed whole: one huge member before Records. */
  'not-records-first': { frame: WHOLE, head: '{"foo":"', filler: 'a', tail: '","Records":[]}' },
  /** A valid CloudTrail file followed by a flood of whitespace: read to the end in constant memory. */
  'trailing-whitespace': { frame: WHOLE, head: '{"Records":[]}', filler: '\n', tail: '' },
  /** widestRecord() inside a CloudTrail file; its string is spaces, which no redaction pattern matches. */
  'widest-record': { frame: RECORDS, filler: ' ', ...widestRecord() },
  /** widestRecord() alone, as a bare record is parsed whole. */
  'widest-bare-record': { frame: WHOLE, filler: ' ', ...widestRecord() },
} as const satisfies Record<string, Shape>;
export type InputName = keyof typeof INPUTS;

/** The most filler (whole repeats) that keeps the measured part below `limit` bytes. */
export function fillerBelow(name: InputName, limit: number): number {
  const { head, filler, tail } = INPUTS[name];
  const room = limit - 1 - head.length - tail.length;
  return room - (room % filler.length);
}

export interface ChildReport {
  /** `LogObjectReadError: <message>` when analyzeLogStream failed. */
  readonly error?: string;
  readonly records?: number;
  readonly acmRecords?: number;
  /** Decompressed bytes the generator produced before the reader stopped it. */
  readonly generatedBytes: number;
  /** Peak RSS with everything loaded, before the first byte, then at the end. */
  readonly startRssMb: number;
  readonly maxRssMb: number;
}

const FILLER_CHUNK = 1024 * 1024;

/**
 * Peak resident set size of this process so far, in MB. On Linux it is read from VmHWM, the peak
 * of this program's own memory: `process.resourceUsage().maxRSS` keeps, across exec, the RSS the
 * parent had when it forked this process (a jest worker of 260 MB makes every child report 260).
 */
function maxRssMb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Math.round(Number(hwm[1]) / 1024);
  } catch {
    // Not Linux: the portable figure, which is right when the parent is small.
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function main(): Promise<void> {
  const [name, sizeArg] = process.argv.slice(2);
  const shape: Shape | undefined = INPUTS[name as InputName];
  const size = Number(sizeArg);
  if (!shape || !Number.isSafeInteger(size) || size % shape.filler.length !== 0) {
    throw new Error(`usage: scan-limits-child.ts <${Object.keys(INPUTS).join('|')}> <filler bytes, whole repeats>`);
  }

  let generatedBytes = 0;
  const counted = (part: Buffer): Buffer => {
    generatedBytes += part.length;
    return part;
  };
  const filler = Buffer.from(shape.filler.repeat(Math.floor(FILLER_CHUNK / shape.filler.length)));
  function* generate(): Generator<Buffer> {
    yield counted(Buffer.from(shape!.frame[0] + shape!.head));
    for (let left = size; left > 0; left -= filler.length) yield counted(left >= filler.length ? filler : filler.subarray(0, left));
    yield counted(Buffer.from(shape!.tail + shape!.frame[1]));
  }
  // Level 1 on repeated bytes: 1 GiB costs about 4.5 MB of gzip and well under a second.
  const gzip = createGzip({ level: constants.Z_BEST_SPEED });
  // The reader destroys gzip when it stops early; the premature close reported here is expected.
  pipeline(Readable.from(generate()), gzip, () => undefined);

  const startRssMb = maxRssMb();
  let report: ChildReport;
  try {
    const { stats } = await analyzeLogStream(gzip, { engine: createRuleEngine(DEFAULT_RULE_CONFIG), name: `${name}.json.gz` });
    report = { records: stats.records, acmRecords: stats.acmRecords, generatedBytes, startRssMb, maxRssMb: maxRssMb() };
  } catch (err) {
    report = { error: `${(err as Error).name}: ${(err as Error).message}`, generatedBytes, startRssMb, maxRssMb: maxRssMb() };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  });
}
