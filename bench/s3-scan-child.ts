/**
 * One process of the `scan s3://` bench: uploads generated log files to the local S3 emulator
 * (several days, two accounts; the emulator in its own process), then scans them with `--concurrency N` (argv[2]) through the CLI
 * code path. Prints one JSON line: objects, bytes, wall time and this process's peak RSS.
 */
import { gzipSync } from 'node:zlib';
import { main } from '../lambda/cli/main';
import { putObject, startSandbox } from '../lambda/local/sandbox';

const OBJECTS = 160;
const RECORDS = 400;

async function run(): Promise<void> {
  const concurrency = process.argv[2] ?? '1';
  const sandbox = await startSandbox();
  try {
    Object.assign(process.env, sandbox.handlerEnv);
    let bytes = 0;
    for (let i = 0; i < OBJECTS; i++) {
      const account = i % 2 ? '111122223333' : '444455556666';
      const day = String(10 + (i % 4)).padStart(2, '0');
      const minute = String(i % 60).padStart(2, '0');
      const records = Array.from({ length: RECORDS }, (_, r) => ({
        eventVersion: '1.09', eventID: `bench-${i}-${r}`, eventTime: `2025-03-${day}T09:${minute}:00Z`,
        eventSource: r === 0 ? 'acm.amazonaws.com' : 'ec2.amazonaws.com', eventName: r === 0 ? 'DeleteCertificate' : 'DescribeInstances',
        awsRegion: 'us-east-1', recipientAccountId: account, sourceIPAddress: '192.0.2.10', userAgent: 'aws-cli/2.15.0',
        userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${account}:assumed-role/ops/alice`, accountId: account },
        requestParameters: r === 0 ? { certificateArn: `arn:aws:acm:us-east-1:${account}:certificate/${i}` } : { instanceIds: [`i-${r.toString(16).padStart(17, '0')}`] },
        responseElements: null,
      }));
      const body = gzipSync(JSON.stringify({ Records: records }));
      bytes += body.length;
      const key = `AWSLogs/${account}/CloudTrail/us-east-1/2025/03/${day}/${account}_CloudTrail_us-east-1_202503${day}T09${minute}Z_${i}.json.gz`;
      await putObject(sandbox, 'bench-trail', key, body);
    }
    const started = process.hrtime.bigint();
    let alerts = 0;
    const code = await main(['scan', 's3://bench-trail/', '--since', '2025-03-10', '--until', '2025-03-13', '--concurrency', concurrency, '--format', 'json'], { out: () => (alerts += 1), err: () => {} });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (code !== 0 || alerts !== OBJECTS) throw new Error(`scan exited ${code} with ${alerts} alerts, expected ${OBJECTS}`);
    process.stdout.write(`${JSON.stringify({ objects: OBJECTS, bytes, ms, rssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
  } finally {
    await sandbox.stop();
  }
}

run().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
