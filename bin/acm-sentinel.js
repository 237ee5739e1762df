#!/usr/bin/env node
// Runs the TypeScript CLI straight from a clone, without a build step.
// The local commands run on Node 20 as well as 22+; the AWS SDK's notice about its future Node
// requirement would only clutter their output (the deployed Lambda runs the newest runtime).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `acm-sentinel scan … | head` closes stdout early: stop quietly, as other command-line tools do.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const SOURCE = path.join(ROOT, 'lambda');
const ENTRY = path.join(SOURCE, 'cli', 'main.ts');
// ACM_SENTINEL_CLI_CACHE moves the bundles (the tests use their own).
const CACHE = process.env.ACM_SENTINEL_CLI_CACHE ?? path.join(ROOT, 'node_modules', '.cache', 'acm-sentinel');
/**
 * Scanning local files never loads the S3, SNS and DynamoDB clients, so its bundle leaves them
 * out: a sixteenth of the size, it loads in a few milliseconds, and the garbage collector, which
 * works harder on a heap that holds the AWS SDK's code, keeps pace with gunzip on one CPU. Any
 * argument naming s3:// (even an option's value) takes the bundle with everything.
 */
const S3 = process.argv.slice(3).some((arg) => arg.includes('s3://'));
const BUNDLE = path.join(CACHE, S3 ? 'scan-s3-cli.js' : 'scan-cli.js');

/** The newest modification time of the files a bundle is built from. */
function newestSource(dir = SOURCE) {
  let newest = fs.statSync(path.join(ROOT, 'package-lock.json')).mtimeMs;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/**
 * `scan`, help and version run from a bundled file, rebuilt by esbuild whenever a source file is
 * newer: loading it takes a few milliseconds, where compiling the TypeScript modules on the fly
 * takes about 70, so the command starts in about the time of `node` itself. The other commands
 * need files beside their sources (the emulator's script, the sample events), so they run from
 * source. Returns undefined when no bundle can be made here.
 */
function scanBundle() {
  try {
    if (!fs.existsSync(BUNDLE) || fs.statSync(BUNDLE).mtimeMs < newestSource()) {
      const partial = `${BUNDLE}.${process.pid}`;
      require('esbuild').buildSync({
        entryPoints: [ENTRY], outfile: partial, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
        // Only `invoke`, `demo`, `redrive` and `backfill` load these, and they never run from the bundle;
        // `scan s3://` loads ./scan-s3, which only its own bundle holds.
        external: ['./invoke', './redrive', './backfill', ...(S3 ? [] : ['./scan-s3'])], logLevel: 'silent',
      });
      fs.renameSync(partial, BUNDLE);
    }
    return require(BUNDLE);
  } catch {
    // Unusable (a read-only folder, a damaged file): run from source, and rebuild next time.
    try {
      fs.rmSync(BUNDLE, { force: true });
    } catch {
      // Not ours to remove: it stays, and the next run falls back the same way.
    }
    return undefined;
  }
}

function fromSource() {
  require('tsx/cjs');
  return require(ENTRY);
}

/** What runs from the bundle: scan, and the answers a person waits for (help, version). */
const BUNDLED = new Set(['scan', 'help', '--help', '-h', 'version', '--version', '-V', undefined]);
const cli = (BUNDLED.has(process.argv[2]) && scanBundle()) || fromSource();
cli
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => { console.error(`error: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; });
