/**
 * Hostile and broken inputs, all in one S3 event beside a good object: each gets a clear error
 * naming the object or a clean skip, and the good object's alert is always delivered.
 */
import { gzipSync } from 'node:zlib';
import { putObject, receiveDelivered, type LocalSandbox } from '../lambda/local/sandbox';
import { handlerSandbox } from './handler-sandbox';
import { record, type S3Handler, s3RecordIn, SECRET_MARKERS } from './support';

const BUCKET = 'trail-bucket';
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/';
const MAX_BYTES = 8 * 1024 * 1024;
const s3Record = s3RecordIn(BUCKET);

const deep = 50_000;
const objects: Record<string, Buffer> = {
  'truncated.json.gz': gzipSync(JSON.stringify({ Records: [record({ eventID: 'cut' })] })).subarray(0, 40),
  'not-json.json.gz': gzipSync('this is a plain text file, not JSON'),
  'not-cloudtrail.json.gz': gzipSync(JSON.stringify({ Type: 'Notification', Message: 'hello' })),
  'null-parameters.json.gz': gzipSync(JSON.stringify({ Records: [record({ eventID: 'null-params', eventName: 'PutAccountConfiguration', requestParameters: null })] })),
  'empty.json.gz': Buffer.alloc(0),
  'bomb.json.gz': gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)),
  'deep.json.gz': gzipSync(
    `{"Records":[${JSON.stringify(record({ eventID: 'deep', requestParameters: { certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/deep' } })).slice(0, -1)},"extra":${'['.repeat(deep)}${']'.repeat(deep)}}]}`,
  ),
  // Invalid UTF-8 bytes (0xff 0xfe) inside a string value.
  'bad-utf8.json.gz': gzipSync(
    Buffer.concat(JSON.stringify({ Records: [record({ eventID: 'utf8', userAgent: '@@' })] }).split('@@').flatMap((part, i) => (i ? [Buffer.from([0xff, 0xfe]), Buffer.from(part)] : [Buffer.from(part)]))),
  ),
  'empty-inside.json.gz': gzipSync(Buffer.alloc(0)),
  'café +plus%2B.json.gz': gzipSync(JSON.stringify({ Records: [record({ eventID: 'unicode-key' })] })),
  'unknown-fields.json.gz': gzipSync(
    JSON.stringify({ Records: [{ ...record({ eventID: 'unknown-fields', eventName: 'ExportCertificate' }), futureField: { nested: [1, { x: true }] }, userIdentity: { type: 'FutureType', whatever: 1 } }], extra: 'top-level' }),
  ),
  'good.json.gz': gzipSync(JSON.stringify({ Records: [record({ eventID: 'good' })] })),
};

let sandbox: LocalSandbox;
let handler: S3Handler;
handlerSandbox({ env: { MAX_DECOMPRESSED_BYTES: String(MAX_BYTES) }, drain: false }, (ready) => ({ sandbox, handler } = ready));

beforeAll(async () => {
  for (const [name, body] of Object.entries(objects)) await putObject(sandbox, BUCKET, `${PREFIX}${name}`, body);
});

describe('abuse inputs in one event', () => {
  let error: Error & { summary?: import('../lambda/handler').HandlerSummary };
  let delivered: Awaited<ReturnType<typeof receiveDelivered>>;

  beforeAll(async () => {
    error = await handler({ Records: Object.keys(objects).map((name) => s3Record(`${PREFIX}${name}`)) }).then(
      () => {
        throw new Error('expected the invocation to fail');
      },
      (err: Error) => err,
    );
    delivered = await receiveDelivered(sandbox);
  });

  it('delivers every alert of the good and odd-but-valid objects, each once', () => {
    expect(delivered.map((d) => d.alert.eventId).sort()).toEqual(['deep', 'good', 'null-params', 'unicode-key', 'unknown-fields', 'utf8'].sort());
  });

  it.each([
    ['truncated.json.gz', /truncated\.json\.gz: unexpected end of file \(the gzip data is truncated/],
    ['not-json.json.gz', /not-json\.json\.gz: not valid JSON/],
    ['not-cloudtrail.json.gz', /not-cloudtrail\.json\.gz: not a CloudTrail log/],
    ['bomb.json.gz', new RegExp(`bomb\\.json\\.gz: decompressed size exceeds the limit of ${MAX_BYTES} bytes \\(raise MAX_DECOMPRESSED_BYTES`)],
  ])('names %s with its reason in the invocation error', (name, reason) => {
    expect(error.message).toMatch(reason);
    expect(error.summary!.objects.find((o) => o.key.endsWith(name))!.error).toMatch(reason);
  });

  it('fails the invocation for exactly the unreadable objects and no others', () => {
    expect(error.message).toMatch(/^4 of 12 log objects failed/);
    expect(error.summary!.objects.filter((o) => o.error).map((o) => o.key.slice(PREFIX.length)).sort()).toEqual(
      ['bomb.json.gz', 'not-cloudtrail.json.gz', 'not-json.json.gz', 'truncated.json.gz'],
    );
  });

  it('skips a 0-byte object and a gzip of nothing cleanly, and decodes keys with unicode, + and %2B', () => {
    for (const name of ['/empty.json.gz', '/empty-inside.json.gz']) {
      const empty = error.summary!.objects.find((o) => o.key.endsWith(name))!;
      expect(empty).toMatchObject({ records: 0, alerts: 0 });
      expect(empty.error).toBeUndefined();
    }
    expect(error.summary!.objects.map((o) => o.key)).toContain(`${PREFIX}café +plus%2B.json.gz`);
  });

  it('caps deeply nested request data in the alert and keeps secrets and contents out of errors', () => {
    const alert = delivered.find((d) => d.alert.eventId === 'deep')!.alert;
    expect(JSON.stringify(alert).length).toBeLessThan(20_000);
    for (const marker of [...SECRET_MARKERS, 'this is a plain text file', 'hello']) expect(error.message).not.toContain(marker);
  });
});

describe('a large event', () => {
  it('handles an S3 event with 100 records', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `${PREFIX}many/${i}.json.gz`);
    for (const [i, key] of keys.entries()) await putObject(sandbox, BUCKET, key, gzipSync(JSON.stringify({ Records: [record({ eventID: `many-${i}` })] })));
    const summary = await handler({ Records: keys.map((key) => s3Record(key)) });
    expect(summary.objects).toHaveLength(100);
    expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId).sort()).toEqual(keys.map((_, i) => `many-${i}`).sort());
  });
});
