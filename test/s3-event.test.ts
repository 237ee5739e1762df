import { decodeS3Key, skipReasonForKey, toObjectRefs } from '../lambda/core/ingest/s3-event';

const LOG = 'AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/111122223333_CloudTrail_us-east-1_20250314T0850Z_a1b2c3d4e5f6g7h8.json.gz';

const s3Record = (key: string, size = 1234, bucket = 'trail-bucket') => ({
  eventSource: 'aws:s3',
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: bucket }, object: { key, size } },
});

describe('S3 event to object refs', () => {
  it('turns every record of the event into an object ref', () => {
    const { refs, skipped } = toObjectRefs({ Records: [s3Record(LOG), s3Record(LOG.replace('0850Z', '0855Z'), 99)] });
    expect(refs).toEqual([
      { bucket: 'trail-bucket', key: LOG, size: 1234 },
      { bucket: 'trail-bucket', key: LOG.replace('0850Z', '0855Z'), size: 99 },
    ]);
    expect(skipped).toEqual([]);
  });

  it('URL-decodes keys, with + as a space and %2B as a plus', () => {
    expect(decodeS3Key('my+prefix/AWSLogs/a%2Bb%20c.json.gz')).toBe('my prefix/AWSLogs/a+b c.json.gz');
    expect(decodeS3Key('caf%C3%A9')).toBe('café');
    expect(decodeS3Key('bad%E0%A4%A')).toBe('bad%E0%A4%A');
  });

  it('accepts organization-trail keys and keys under a prefix', () => {
    expect(skipReasonForKey('AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/eu-west-1/2025/03/14/f.json.gz')).toBeUndefined();
    expect(skipReasonForKey('my prefix/AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/f.json.gz')).toBeUndefined();
  });

  it.each([
    ['digest-file', 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/14/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20250314T085000Z.json.gz'],
    ['digest-file', 'AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail-Digest/eu-west-1/2025/03/14/d.json.gz'],
    ['insights-file', 'AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2025/03/14/i.json.gz'],
    ['not-a-cloudtrail-log', 'AWSLogs/111122223333/elasticloadbalancing/us-east-1/2025/03/14/lb.log.gz'],
    ['not-a-cloudtrail-log', 'AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile'.replace('CloudTrail/', '')],
    ['not-a-cloudtrail-log', 'reports/summary.json.gz'],
  ])('skips a %s: %s', (reason, key) => {
    const { refs, skipped } = toObjectRefs({ Records: [s3Record(key)] });
    expect(refs).toEqual([]);
    expect(skipped).toEqual([{ bucket: 'trail-bucket', key, reason }]);
  });

  it('skips 0-byte objects', () => {
    expect(toObjectRefs({ Records: [s3Record(LOG, 0)] }).skipped).toEqual([{ bucket: 'trail-bucket', key: LOG, reason: 'empty-object' }]);
  });

  it('skips digest files and still processes the other objects of the event', () => {
    const digest = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/14/d.json.gz';
    const { refs, skipped } = toObjectRefs({ Records: [s3Record(digest), s3Record(LOG), { s3: { bucket: {} } }] });
    expect(refs.map((ref) => ref.key)).toEqual([LOG]);
    expect(skipped.map((skip) => skip.reason)).toEqual(['digest-file', 'malformed-record']);
  });

  it('treats s3:TestEvent as a no-op', () => {
    expect(toObjectRefs({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'trail-bucket' })).toEqual({ refs: [], skipped: [], testEvent: true });
  });

  it('returns nothing for an event without records', () => {
    expect(toObjectRefs({})).toEqual({ refs: [], skipped: [], testEvent: false });
    expect(toObjectRefs(null)).toEqual({ refs: [], skipped: [], testEvent: false });
  });
});
