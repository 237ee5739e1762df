/**
 * The real-time path with the real handler, the emulator and a shared dedupe table (dynalite):
 * an EventBridge "AWS API Call via CloudTrail" event alerts at once; the same event in the log
 * file that follows is suppressed and counted, whichever path comes first; bursts on the
 * real-time path are capped and the log file folds the rest.
 */
import { gzipSync } from 'node:zlib';
import { putObject, receiveDelivered, type LocalSandbox } from '../lambda/local/sandbox';
import { handlerSandbox } from './handler-sandbox';
import type { CloudTrailRecord } from '../lambda/core/types';
import { record, s3RecordIn, SECRET_MARKERS, type S3Handler } from './support';

const BUCKET = 'trail-bucket';
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/';
const s3Record = s3RecordIn(BUCKET);
const realtime = (detail: CloudTrailRecord) => ({
  version: '0',
  id: `eb-${String(detail.eventID)}`,
  'detail-type': 'AWS API Call via CloudTrail',
  source: detail.eventSource === 'acm-pca.amazonaws.com' ? 'aws.acm-pca' : 'aws.acm',
  account: '111122223333',
  time: detail.eventTime,
  region: 'us-east-1',
  resources: [],
  detail,
});

let sandbox: LocalSandbox;
let handler: S3Handler;
handlerSandbox({ dedupe: true }, (ready) => ({ sandbox, handler } = ready));

describe('the real-time path', () => {
  it('alerts on a real-time event alone, marked via eventbridge, redacted like any alert', async () => {
    const exported = record({ eventID: 'rt-export-1', eventName: 'ExportCertificate', requestParameters: { certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/1', passphrase: 'HIDDEN_DUE_TO_SECURITY_REASONS' } });
    const summary = await handler(realtime(exported));
    const delivered = await receiveDelivered(sandbox);
    expect(delivered.map((d) => [d.alert.eventId, d.alert.via, d.alert.ruleId])).toEqual([['rt-export-1', 'eventbridge', 'acm-export-certificate']]);
    expect(delivered[0]!.email).toMatch(/^Seen via    real-time EventBridge event/m);
    expect(summary.realtime).toEqual([{ records: 1, alerts: 1, published: 1, duplicates: 0, deferred: 0 }]);
    for (const marker of SECRET_MARKERS) expect(JSON.stringify(delivered)).not.toContain(marker);
  });

  it('delivers nothing more when the same event then arrives in a log file, and counts the duplicate', async () => {
    const deleted = record({ eventID: 'rt-delete-1' });
    await handler(realtime(deleted));
    await putObject(sandbox, BUCKET, `${PREFIX}later.json.gz`, gzipSync(JSON.stringify({ Records: [deleted, record({ eventID: 'log-only-1' })] })));
    const fromLog = await handler({ Records: [s3Record(`${PREFIX}later.json.gz`)] });
    expect(fromLog.objects.map((o) => [o.alerts, o.published, o.duplicates])).toEqual([[2, 1, 1]]);
    expect((await receiveDelivered(sandbox)).map((d) => [d.alert.eventId, d.alert.via])).toEqual([
      ['rt-delete-1', 'eventbridge'],
      ['log-only-1', 'log'],
    ]);
  });

  it('suppresses a late real-time event whose log file came first', async () => {
    const revoked = record({ eventID: 'rt-late-1', eventName: 'RevokeCertificate' });
    await putObject(sandbox, BUCKET, `${PREFIX}first.json.gz`, gzipSync(JSON.stringify({ Records: [revoked] })));
    await handler({ Records: [s3Record(`${PREFIX}first.json.gz`)] });
    const late = await handler(realtime(revoked));
    expect(late.realtime).toEqual([{ records: 1, alerts: 1, published: 0, duplicates: 1, deferred: 0 }]);
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.via)).toEqual(['log']);
  });

  it('caps a burst that arrives one event at a time: 5 alerts at once, a sixth that says a burst is on, and the log file folds the rest into one summary', async () => {
    const burst = Array.from({ length: 12 }, (_, i) =>
      record({ eventID: `rt-burst-${i}`, eventTime: `2025-03-14T11:0${Math.floor(i / 6)}:${String(i * 4).padStart(2, '0')}Z`, requestParameters: { certificateArn: `arn:aws:acm:us-east-1:111122223333:certificate/b-${i}` } }),
    );
    const summaries = [];
    for (const event of burst) summaries.push(await handler(realtime(event)));
    expect(summaries.map((s) => s.realtime[0]!.deferred)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const now = await receiveDelivered(sandbox);
    expect(now.map((d) => d.alert.eventId).sort()).toEqual(burst.slice(0, 6).map((e) => String(e.eventID)).sort());
    expect(now.find((d) => d.alert.eventId === 'rt-burst-5')!.alert.title).toMatch(/a burst, 6 or more in 5 minutes; the rest come folded from the log files/);
    // A redelivered event of the burst sends nothing.
    expect((await handler(realtime(burst[0]!))).realtime[0]).toMatchObject({ published: 0 });

    await putObject(sandbox, BUCKET, `${PREFIX}burst.json.gz`, gzipSync(JSON.stringify({ Records: burst })));
    const fromLog = await handler({ Records: [s3Record(`${PREFIX}burst.json.gz`)] });
    const delivered = await receiveDelivered(sandbox);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.alert.storm).toMatchObject({ count: 6, eventIds: burst.slice(6).map((e) => String(e.eventID)) });
    expect(fromLog.objects[0]).toMatchObject({ alerts: 12, published: 1, duplicates: 6 });
  });
});
