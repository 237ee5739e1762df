// First: its effect must come before any other module's code runs (see tiering.ts).
import '../tiering';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { nearest } from '../core/nearest';
import { plain } from '../core/render/untrusted';
import { ConfigError } from '../errors';
import { parseFailOn, UsageError } from './args';
import { processOutput, type Output } from './output';
import { runScan } from './scan';

type Flag = { readonly type: 'string' | 'boolean'; readonly short?: string };

/** Each command: its flags (parsed strictly, so a typo is caught and a near one suggested) and its help. */
const COMMANDS: Readonly<Record<string, { readonly flags: Readonly<Record<string, Flag>>; readonly help: string }>> = {
  scan: {
    flags: {
      format: { type: 'string' }, config: { type: 'string' }, 'fail-on': { type: 'string' }, verbose: { type: 'boolean' },
      since: { type: 'string' }, until: { type: 'string' }, accounts: { type: 'string' }, regions: { type: 'string' }, concurrency: { type: 'string' },
      checkpoint: { type: 'string' }, publish: { type: 'boolean' }, 'topic-arn': { type: 'string' }, 'dedupe-table': { type: 'string' },
    },
    help: `acm-sentinel scan PATH... [options]         local CloudTrail files or folders, or - for standard input
acm-sentinel scan s3://BUCKET[/PREFIX] [options]   log files where they are in S3, over a date range

Options:
  --format text|json      text (default): two lines per alert; json: one alert object per line, nothing else on stdout
  --config FILE           rule configuration (the schema of "Configure rules" in the README); default: the rule pack
  --fail-on SEVERITY      exit 3 when an alert is at or above low, medium, high or critical (for CI jobs)
  --verbose               list each file skipped in a folder, and why
  s3:// only:
  --since 90d|12h|2w|DATE the start of the range, included (default 7d)
  --until DATE            the end of the range, included (default now); a bare date is its whole UTC day
  --accounts A,B          only these accounts
  --regions R,S           only these Regions
  --concurrency N         objects read at a time, 1 to 64 (default 8)
  --checkpoint FILE       remember progress there; run the same command again to resume
  --publish --topic-arn ARN [--dedupe-table NAME]   send the alerts through the deployed topic, deduplicated

Reads: CloudTrail log files (gzip or not, whatever their names), {"Records":[…]}, single records,
EventBridge events, aws cloudtrail lookup-events output, JSON Lines and records written one after
another; raw line breaks inside strings (pasted documentation) are repaired, with a note.
Folders are read recursively, following links; files are recognised by their content.

Environment: NO_COLOR, FORCE_COLOR (colour on a terminal); AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL_S3 and the rest of the AWS SDK's standard chain (s3:// only).
Exit codes: 0 every input read, 1 an input unreadable (the others are still scanned) or no CloudTrail
input at all, 2 usage error, 3 --fail-on matched.

Examples:
  acm-sentinel scan events/
  aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventSource,AttributeValue=acm.amazonaws.com | acm-sentinel scan -
  zcat 111122223333_CloudTrail_*.json.gz | acm-sentinel scan - --format json --fail-on high
  acm-sentinel scan s3://my-org-cloudtrail-logs/org-trail --since 90d`,
  },
  invoke: {
    flags: { objects: { type: 'string' }, format: { type: 'string' }, config: { type: 'string' } },
    help: `acm-sentinel invoke EVENT.json... [options]

Runs the real Lambda handler on each event file, in order, against one local S3/SNS/SQS emulator and
one local dedupe table, and prints what SNS delivered. Any event shape the function accepts: S3,
EventBridge (Object Created, or AWS API Call via CloudTrail), SNS, CloudTrail's notification, SQS.

Options:
  --objects DIR           where the objects the events name are, as DIR/<bucket>/<key> (default events/objects)
  --format text|json      text (default): email and chat card per alert; json: one delivered alert per line
  --config FILE           rule configuration

Environment: POWERTOOLS_LOG_LEVEL (default SILENT) to see the handler's own log lines.
Exit codes: 0 the handler succeeded on every event, 1 it failed (after printing why), 2 usage error, or a
file that is not an event the function takes (a CloudTrail log: use scan).

Examples:
  acm-sentinel invoke events/s3-put.json
  acm-sentinel invoke events/eventbridge-realtime-export.json events/s3-put.json`,
  },
  demo: {
    flags: { format: { type: 'string' }, config: { type: 'string' } },
    help: `acm-sentinel demo [options]

Runs invoke on events/s3-put.json, the 60-second tour: the bundled sample log files go to a local
S3/SNS/SQS emulator, the real handler reads them, and what SNS delivered is printed.

Options:
  --format text|json      text (default): email and chat card per alert; json: one delivered alert per line
  --config FILE           rule configuration (default: the rule pack)

Environment: POWERTOOLS_LOG_LEVEL (default SILENT) to see the handler's own log lines, on stderr.
Exit codes: 0 the handler succeeded, 1 it failed (after printing why), 2 usage error.

Examples:
  acm-sentinel demo
  acm-sentinel demo --format json | jq .subject`,
  },
  backfill: {
    flags: { since: { type: 'string' }, until: { type: 'string' }, publish: { type: 'boolean' }, stack: { type: 'string' }, 'max-concurrency': { type: 'string' }, 'tolerated-failure-percentage': { type: 'string' } },
    help: `acm-sentinel backfill --since 90d|DATE [options]

Starts the deployed Step Functions backfill (-c backfill=true) over the range and follows it to the end.

Options:
  --until DATE                         end of the range, included (default now)
  --publish                            also send alerts through the alert topic, deduplicated (default: report only)
  --stack NAME                         the deployed stack (default AcmSentinel)
  --max-concurrency N                  batches at a time (default 100)
  --tolerated-failure-percentage P     batches that may fail before the run fails (default 0)

Environment: the AWS SDK's standard chain (AWS_PROFILE, AWS_REGION, ...).
Exit codes: 0 the run succeeded, 1 it failed, 2 usage error.`,
  },
  redrive: {
    flags: { 'queue-url': { type: 'string' }, function: { type: 'string' }, 'dry-run': { type: 'boolean' }, max: { type: 'string' }, 'wait-seconds': { type: 'string' } },
    help: `acm-sentinel redrive --queue-url URL [options]

Re-invokes each event in the deployed stack's failure queue (output FailureQueueUrl) asynchronously,
one at a time, and deletes its message once Lambda accepted it (202). Messages whose invoke failed,
and messages that are not Lambda failure records, stay in the queue and are reported.

Options:
  --queue-url URL         the failure queue (required)
  --function NAME|ARN     invoke this function (default: the one each failure record names)
  --dry-run               only list the messages; the listed ones then stay invisible in the queue for 30 s
  --max N                 stop after N messages (default: until the queue has no more in view)
  --wait-seconds 0-20     long-poll this long for each receive (default 20)

Environment: AWS_PROFILE, AWS_REGION and the rest of the AWS SDK's standard chain; AWS_ENDPOINT_URL_SQS
and AWS_ENDPOINT_URL_LAMBDA for local stand-ins.
Exit codes: 0 every message re-driven, 1 some message left, 2 usage error.

Examples:
  acm-sentinel redrive --queue-url "$QUEUE_URL" --dry-run
  acm-sentinel redrive --queue-url "$QUEUE_URL" --max 10`,
  },
};

const USAGE = `acm-sentinel ${version()}: alerts on sensitive AWS Certificate Manager activity in CloudTrail logs

Usage:
  acm-sentinel scan PATH...|-|s3://BUCKET[/PREFIX] [options]   scan CloudTrail log files, local or in S3
  acm-sentinel invoke EVENT.json... [options]                    run the real handler on events, locally
  acm-sentinel demo                                               invoke on the bundled samples
  acm-sentinel backfill --since 90d [options]                    the organization-scale look back on Step Functions
  acm-sentinel redrive --queue-url URL [options]                 re-drive the failure queue
  acm-sentinel --version

"acm-sentinel COMMAND --help" shows a command's options, defaults, environment, exit codes and examples.
Exit codes: 0 ok, 1 unreadable input or handler failure, 2 usage error, 3 findings at or above --fail-on.`;

/** The package's version, from its package.json: beside the sources, or beside bin/ when run from the bundle. */
function version(): string {
  const candidates = [path.join(__dirname, '..', '..', 'package.json'), ...(require.main ? [path.join(path.dirname(require.main.filename), '..', 'package.json')] : [])];
  for (const candidate of candidates) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'acm-sentinel' && pkg.version) return pkg.version;
    } catch {
      // Not there: the next place.
    }
  }
  return 'unknown';
}

/** Runs the CLI and returns its exit code; never calls process.exit, so tests can drive it. */
export async function main(argv: readonly string[], io: Output = processOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V' || command === 'version') {
    io.out(version());
    return 0;
  }
  if (command === 'help' && rest[0] && Object.hasOwn(COMMANDS, rest[0])) {
    io.out(COMMANDS[rest[0]]!.help);
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.err : io.out)(USAGE);
    return command === undefined ? 2 : 0;
  }
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  try {
    if (!spec) {
      const guess = nearest(command, Object.keys(COMMANDS));
      throw new UsageError(`unknown command "${plain(command)}"${guess ? `; did you mean "${guess}"?` : ''}`);
    }
    let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
    try {
      parsed = parseArgs({ args: [...rest], allowPositionals: true, strict: true, options: { ...spec.flags, help: { type: 'boolean', short: 'h' } } }) as typeof parsed;
    } catch (err) {
      const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((err as Error).message)?.[1];
      if (!unknown) throw new UsageError((err as Error).message);
      const guess = nearest(unknown.replace(/^-+/, ''), Object.keys(spec.flags));
      throw new UsageError(`unknown option ${plain(unknown)} for ${command}${guess ? `; did you mean --${guess}?` : ''}`);
    }
    const { values, positionals } = parsed;
    const text = (name: string) => values[name] as string | undefined;
    const flag = (name: string) => values[name] as boolean | undefined;
    if (values.help) {
      io.out(spec.help);
      return 0;
    }
    switch (command) {
      case 'scan': {
        const failOn = parseFailOn(text('fail-on'));
        if (positionals.some((target) => target.startsWith('s3://'))) {
          if (positionals.length !== 1) throw new UsageError('scan takes one s3:// location at a time, without local paths beside it');
          // Loaded on demand: scanning local files does not pay for the S3, SNS and DynamoDB clients.
          const { runS3Scan } = require('./scan-s3') as typeof import('./scan-s3');
          return await runS3Scan(
            {
              source: positionals[0]!, since: text('since'), until: text('until'), accounts: text('accounts'), regions: text('regions'), concurrency: text('concurrency'),
              checkpoint: text('checkpoint'), format: text('format'), config: text('config'), publish: flag('publish'), topicArn: text('topic-arn'), dedupeTable: text('dedupe-table'),
              ...(failOn ? { failOn } : {}),
            },
            io,
          );
        }
        const s3Only = ['since', 'until', 'accounts', 'regions', 'concurrency', 'checkpoint', 'publish', 'topic-arn', 'dedupe-table'].find((name) => values[name] !== undefined);
        if (s3Only) throw new UsageError(`--${s3Only} applies to scan s3://…, not to local files`);
        return await runScan({ paths: positionals, format: text('format'), config: text('config'), verbose: flag('verbose'), ...(failOn ? { failOn } : {}) }, io);
      }
      case 'invoke':
      case 'demo': {
        // Loaded on demand: scan does not pay for the SDK clients and the emulator.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { runInvoke, runDemo } = require('./invoke') as typeof import('./invoke');
        if (command === 'demo') return await runDemo({ format: text('format'), config: text('config') }, io);
        if (positionals.length === 0) throw new UsageError('invoke needs at least one event file, e.g. events/s3-put.json');
        return await runInvoke({ events: positionals, objects: text('objects'), format: text('format'), config: text('config') }, io);
      }
      case 'backfill': {
        if (positionals.length) throw new UsageError(`backfill takes no arguments, only flags (got "${plain(positionals[0]!)}")`);
        const { runBackfill } = require('./backfill') as typeof import('./backfill');
        return await runBackfill(
          { since: text('since'), until: text('until'), publish: flag('publish'), stack: text('stack'), maxConcurrency: text('max-concurrency'), toleratedFailurePercentage: text('tolerated-failure-percentage') },
          io,
        );
      }
      default: {
        if (positionals.length) throw new UsageError(`redrive takes no arguments, only flags (got "${plain(positionals[0]!)}")`);
        // Loaded on demand, like invoke: scan does not pay for the SQS and Lambda clients.
        const { runRedrive } = require('./redrive') as typeof import('./redrive');
        return await runRedrive({ queueUrl: text('queue-url'), function: text('function'), dryRun: flag('dry-run'), max: text('max'), waitSeconds: text('wait-seconds') }, io);
      }
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.err(`error: ${err.message}`);
      io.err(spec ? `See "acm-sentinel ${command} --help".` : 'See "acm-sentinel --help".');
      return 2;
    }
    throw err;
  }
}
