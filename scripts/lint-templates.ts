/**
 * `npm run lint:templates`: synthesizes every documented configuration (infra/configurations.ts)
 * and runs cfn-lint, AWS's CloudFormation linter, on each template. Fails on any error or
 * warning except W3005 (a DependsOn that CDK's own constructs add beside an implied one).
 * cfn-lint is a Python tool: `pip install cfn-lint`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DOCUMENTED_CONFIGURATIONS } from '../infra/configurations';
import { createApp } from '../infra/create-app';

const IGNORED = ['W3005'];
const ENV = { account: '111122223333', region: 'eu-west-1' };

function main(): number {
  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    process.stderr.write('lint:templates: cfn-lint was not found on PATH. Install it with `pip install cfn-lint` (Python 3.9 or later), then run npm run lint:templates again.\n');
    return 2;
  }
  const root = mkdtempSync(path.join(tmpdir(), 'acm-sentinel-templates-'));
  let failures = 0;
  try {
    for (const [i, [name, context]] of DOCUMENTED_CONFIGURATIONS.entries()) {
      // Bundling is skipped (CDK's own bundling-stacks context): cfn-lint reads templates, not code.
      const { app } = createApp({ context: { 'aws:cdk:bundling-stacks': [], ...context }, env: ENV, outdir: path.join(root, String(i)) });
      const templates = app.synth().stacksRecursively.map((stack) => stack.templateFullPath);
      const lint = spawnSync('cfn-lint', ['--ignore-checks', ...IGNORED, '--', ...templates], { encoding: 'utf8' });
      const ok = lint.status === 0;
      if (!ok) failures += 1;
      process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}\n${ok ? '' : `${lint.stdout}${lint.stderr}\n`}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  process.stdout.write(`${DOCUMENTED_CONFIGURATIONS.length - failures} of ${DOCUMENTED_CONFIGURATIONS.length} configurations lint clean (cfn-lint ${version.stdout.trim().replace(/^cfn-lint\s*/, '')}, ignoring ${IGNORED.join(', ')})\n`);
  return failures ? 1 : 0;
}

process.exitCode = main();
