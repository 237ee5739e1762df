import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.join(__dirname, '..', '..');

// Every setting at once, as `-c key=value` gives it on the command line: both functions are bundled.
const EVERY_OPTION = {
  trailBucketName: 'org-trail-logs',
  trailKeyPrefix: 'org',
  trailKmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  alertEmails: 'secops@example.com,oncall@example.com',
  emailMinSeverity: 'high',
  slackWorkspaceId: 'T07EXAMPLE',
  slackChannelId: 'C07EXAMPLE1',
  slackWebhookSecretName: 'acm-sentinel/slack-webhook',
  slackMinSeverity: 'medium',
  ruleConfig: '{"minSeverity":"medium"}',
  dedupe: 'true',
  maxDecompressedBytes: '1073741824',
  heartbeatHours: '24',
};

type TemplateJson = { Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }> };

// What a new user runs after `npm ci`: the project's own CLI, cdk.json's app, real esbuild
// bundling and cdk-nag, all offline. Slow (it bundles), so each configuration runs once, here.
// The existing trail's key is in eu-west-1, so the stack must deploy there, as docs/deploy.md says.
describe.each([
  ['the default app', {}, {}, 1],
  ['the app with every option', EVERY_OPTION, { AWS_REGION: 'eu-west-1' }, 2],
])('npx cdk synth of %s', (_name, context: Record<string, string>, extraEnv: Record<string, string>, functionCount) => {
  let outdir: string;
  let result: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'acm-sentinel-synth-'));
    const contextArgs = Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
    result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir, ...contextArgs], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, ...extraEnv, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
  }, 300_000);

  afterAll(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  it('succeeds', () => {
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    if (/schema version mismatch/i.test(output)) {
      throw new Error(
        `The project's aws-cdk CLI cannot read the cloud assembly that aws-cdk-lib writes; the devDependency "aws-cdk" must be a CLI release at least as new as aws-cdk-lib's assembly schema.\n${output.slice(-1500)}`,
      );
    }
    expect({ status: result.status, output: result.status === 0 ? '' : output.slice(-3000) }).toEqual({ status: 0, output: '' });
  });

  it('writes a template with each function, its bundle, and no cdk-nag violation', () => {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'AcmSentinel.template.json'), 'utf8')) as TemplateJson;
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x');
    expect(functions).toHaveLength(functionCount);
    for (const fn of functions) {
      const assetPath = fn.Metadata?.['aws:asset:path'];
      expect(fs.existsSync(path.join(outdir, String(assetPath), 'index.js'))).toBe(true);
    }

    // Reports list only plugins that found something; the acknowledgements copied into the
    // template show that cdk-nag did run.
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ violations: unknown[] }> };
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
    expect(Object.values(template.Resources).some((r) => r.Metadata?.['cdk_nag'] !== undefined)).toBe(true);
  });

  it('bundles each function into at most 600 KB (600,000 bytes) that loads with nothing beside it: what it leaves out is imported only later, if ever', () => {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'AcmSentinel.template.json'), 'utf8')) as TemplateJson;
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x');
    for (const fn of functions) {
      const bundle = path.join(outdir, String(fn.Metadata?.['aws:asset:path']), 'index.js');
      expect(fs.statSync(bundle).size).toBeLessThanOrEqual(600_000);
      const loaded = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(bundle)})`], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      expect({ status: loaded.status, stderr: loaded.stderr }).toEqual({ status: 0, stderr: '' });
    }
  });
});
