/**
 * The real handler with real SDK clients against the local S3/SNS/SQS emulator:
 * S3 GetObject -> scan -> SNS PublishBatch -> an SQS queue subscribed to the topic.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { putObject, receiveDelivered, type LocalSandbox } from '../lambda/local/sandbox';
import { handlerSandbox } from './handler-sandbox';
import { record, RECORDS_DIR, type S3Handler, s3RecordIn, SECRET_MARKERS } from './support';

const BUCKET = 'trail-bucket';
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/';
const fixture = (name: string) => readFileSync(path.join(RECORDS_DIR, name));
const s3Record = s3RecordIn(BUCKET);

let sandbox: LocalSandbox;
let handler: S3Handler;
handlerSandbox({}, (ready) => ({ sandbox, handler } = ready));

describe('handler end to end', () => {
  it('answers an SQS batch with the ids of the messages to retry: a missing object and a message it cannot read, not the others', async () => {
    await putObject(sandbox, BUCKET, `${PREFIX}queued.json.gz`, gzipSync(JSON.stringify({ Records: [record({ eventID: 'queued-1' })] })));
    const message = (messageId: string, body: unknown) => ({ eventSource: 'aws:sqs', messageId, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const { handler: lambdaHandler } = require('../lambda/handler') as typeof import('../lambda/handler');

    const response = await lambdaHandler({
      Records: [
        message('m-good', { Records: [s3Record(`${PREFIX}queued.json.gz`)] }),
        message('m-missing', { Type: 'Notification', Message: JSON.stringify({ s3Bucket: BUCKET, s3ObjectKey: [`${PREFIX}gone.json.gz`] }) }),
        message('m-odd', { hello: 'world' }),
      ],
    });

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-missing' }, { itemIdentifier: 'm-odd' }] });
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId)).toEqual(['queued-1']);
  });

  it('fails loudly, naming the shape, on an event it does not understand', async () => {
    await expect(handler({ detail: {}, source: 'aws.ec2' })).rejects.toThrow(/not an event acm-sentinel handles: an object with keys "detail", "source"/);
  });

  it('streams gzipped logs from S3 and delivers one alert per sensitive call through SNS', async () => {
    // Prepare
    const mixed = { Records: [record({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', eventID: 'e1' }), record({ eventID: 'delete-1' })] };
    await putObject(sandbox, BUCKET, `${PREFIX}mixed.json.gz`, gzipSync(JSON.stringify(mixed)));
    await putObject(sandbox, BUCKET, `${PREFIX}export.json.gz`, gzipSync(fixture('acm-export-certificate.hidden.json')));
    await putObject(sandbox, BUCKET, `${PREFIX}plain export denied.json`, fixture('acm-export-certificate.denied.json'));

    // Act
    const summary = await handler({
      Records: [s3Record(`${PREFIX}mixed.json.gz`), s3Record(`${PREFIX}export.json.gz`), s3Record(`${PREFIX}plain export denied.json`)],
    });

    // Assess
    const delivered = await receiveDelivered(sandbox);
    expect(delivered.map((d) => [d.alert.ruleId, d.alert.outcome]).sort()).toEqual([
      ['acm-delete-certificate', 'succeeded'],
      ['acm-export-certificate', 'failed'],
      ['acm-export-certificate', 'succeeded'],
    ]);
    expect(summary.objects.map((o) => [o.key.slice(PREFIX.length), o.records, o.acmRecords, o.alerts, o.published])).toEqual([
      ['mixed.json.gz', 2, 1, 1, 1],
      ['export.json.gz', 1, 1, 1, 1],
      ['plain export denied.json', 1, 1, 1, 1],
    ]);
    const exported = delivered.find((d) => d.alert.outcome === 'succeeded' && d.alert.eventName === 'ExportCertificate')!;
    expect(exported.subject).toBe('[acm-sentinel] CRITICAL: Private key exported from ACM by alice in 111122223333');
    expect(exported.messageAttributes).toMatchObject({ severity: 'critical', ruleId: 'acm-export-certificate', outcome: 'succeeded', accountId: '111122223333' });
    expect(exported.alert.logFile).toBe(`s3://${BUCKET}/${PREFIX}export.json.gz`);
    expect(exported.email).toMatch(/^alice \(AssumedRole\) exported the private key/);
    for (const delivery of delivered) {
      const raw = JSON.stringify(delivery);
      for (const marker of SECRET_MARKERS) expect(raw).not.toContain(marker);
    }
  });

  it('skips digest files, insights files and 0-byte objects and still processes the others', async () => {
    await putObject(sandbox, BUCKET, `${PREFIX}delete.json.gz`, gzipSync(fixture('acm-delete-certificate.json')));
    const summary = await handler({
      Records: [
        s3Record('AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/14/digest.json.gz'),
        s3Record('AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2025/03/14/insight.json.gz'),
        s3Record(`${PREFIX}empty.json.gz`, 0),
        s3Record(`${PREFIX}delete.json.gz`),
      ],
    });
    expect(summary.skipped.map((s) => s.reason)).toEqual(['digest-file', 'insights-file', 'empty-object']);
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.ruleId)).toEqual(['acm-delete-certificate']);
  });

  it('sends an event ID once per invocation even when two objects carry it', async () => {
    const body = gzipSync(JSON.stringify({ Records: [record({ eventID: 'same-event' })] }));
    await putObject(sandbox, BUCKET, `${PREFIX}copy-1.json.gz`, body);
    await putObject(sandbox, BUCKET, `${PREFIX}copy-2.json.gz`, body);
    const summary = await handler({ Records: [s3Record(`${PREFIX}copy-1.json.gz`), s3Record(`${PREFIX}copy-2.json.gz`)] });
    expect(summary.objects.map((o) => o.duplicates)).toEqual([0, 1]);
    expect(await receiveDelivered(sandbox)).toHaveLength(1);
  });

  it('publishes the alerts of readable objects, then fails naming the missing one', async () => {
    await putObject(sandbox, BUCKET, `${PREFIX}good.json.gz`, gzipSync(JSON.stringify({ Records: [record({ eventID: 'good-1' })] })));
    const failure = handler({ Records: [s3Record(`${PREFIX}missing.json.gz`), s3Record(`${PREFIX}good.json.gz`)] });
    await expect(failure).rejects.toThrow(`1 of 2 log objects failed (1 alert found, 1 message published)`);
    await expect(failure).rejects.toThrow(`s3://${BUCKET}/${PREFIX}missing.json.gz: NoSuchKey`);
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId)).toEqual(['good-1']);
  });

  it('fails on a truncated gzip object, naming it, after delivering the others', async () => {
    const whole = gzipSync(JSON.stringify({ Records: [record({ eventID: 'cut-1' })] }));
    await putObject(sandbox, BUCKET, `${PREFIX}cut.json.gz`, whole.subarray(0, whole.length - 12));
    await putObject(sandbox, BUCKET, `${PREFIX}fine.json.gz`, gzipSync(JSON.stringify({ Records: [record({ eventID: 'fine-1' })] })));
    await expect(handler({ Records: [s3Record(`${PREFIX}cut.json.gz`), s3Record(`${PREFIX}fine.json.gz`)] })).rejects.toThrow(/cut\.json\.gz: .*truncated/);
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId)).toEqual(['fine-1']);
  });

  it('folds a burst of one rule by one actor into one summary message that carries every event ID', async () => {
    const burst = Array.from({ length: 8 }, (_, i) => record({ eventID: `burst-${i}`, requestParameters: { certificateArn: `arn:aws:acm:us-east-1:111122223333:certificate/c-${i}` } }));
    await putObject(sandbox, BUCKET, `${PREFIX}burst.json.gz`, gzipSync(JSON.stringify({ Records: [...burst, record({ eventID: 'lone', eventName: 'ExportCertificate' })] })));
    const summary = await handler({ Records: [s3Record(`${PREFIX}burst.json.gz`)] });
    expect(summary.objects[0]).toMatchObject({ alerts: 9, published: 2 });
    const delivered = await receiveDelivered(sandbox);
    const folded = delivered.find((d) => d.alert.storm)!;
    expect(folded.alert.storm!.eventIds).toEqual(burst.map((r) => r.eventID));
    expect(folded.subject).toBe('[acm-sentinel] HIGH: ACM certificate deleted (8 times) by alice in 111122223333');
    expect(delivered.filter((d) => !d.alert.storm).map((d) => d.alert.eventId)).toEqual(['lone']);
  });

  it('does nothing for the s3:TestEvent sent when the notification is configured', async () => {
    expect(await handler({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2025-03-14T08:00:00.000Z', Bucket: BUCKET })).toEqual({ objects: [], skipped: [], unreadable: [], realtime: [], published: 0 });
    expect(await receiveDelivered(sandbox)).toEqual([]);
  });
});
