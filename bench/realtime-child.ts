/**
 * One process of the real-time bench: the local emulator and dedupe table, then the real handler
 * on EventBridge "AWS API Call via CloudTrail" events, each with a new event ID so every one is
 * claimed, published and marked. Prints one JSON line: how long `require` of the handler took,
 * the first (cold) invocation, and the later (warm) ones, each from receiving the event to its
 * publish returning.
 */
import { startSandbox } from '../lambda/local/sandbox';

const WARM = 30;

async function main(): Promise<void> {
  const sandbox = await startSandbox({ dedupe: true });
  try {
    Object.assign(process.env, sandbox.handlerEnv, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
    const loading = process.hrtime.bigint();
    const { handler } = require('../lambda/handler') as typeof import('../lambda/handler');
    const requireMs = Number(process.hrtime.bigint() - loading) / 1e6;
    const event = (i: number) => ({
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.acm',
      detail: {
        eventVersion: '1.11', eventID: `bench-${process.pid}-${i}`, eventTime: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString().replace('.000', ''),
        eventSource: 'acm.amazonaws.com', eventName: 'ExportCertificate', awsRegion: 'us-east-1', recipientAccountId: '111122223333',
        userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/bench/${i}`, accountId: '111122223333', principalId: `AROAEXAMPLE:${i}` },
        requestParameters: { certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/9a2f7c14-0b3e-4d85-a6c9-1e8b5d2f7a30', passphrase: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
        responseElements: null,
      },
    });
    const timed = async (i: number) => {
      const started = process.hrtime.bigint();
      const summary = (await handler(event(i))) as { published: number };
      if (summary.published !== 1) throw new Error(`event ${i}: expected one alert published, got ${summary.published}`);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const coldMs = await timed(0);
    const warmMs: number[] = [];
    for (let i = 1; i <= WARM; i += 1) warmMs.push(await timed(i));
    process.stdout.write(`${JSON.stringify({ requireMs, coldMs, warmMs })}\n`);
  } finally {
    await sandbox.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
