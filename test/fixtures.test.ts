import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildSampleFiles } from '../events/objects/generate';
import { deliveriesOf } from '../lambda/core/ingest/deliveries';

const EVENTS = join(__dirname, '..', 'events');
const OBJECTS = join(EVENTS, 'objects');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const recordFiles = readdirSync(join(EVENTS, 'records')).filter((name) => name.endsWith('.json'));
const logFiles = walk(OBJECTS).filter((path) => path.endsWith('.json.gz'));

// Every sample event, whatever its shape, with the objects it names (skipped ones included: a digest file must exist too).
const s3Objects = readdirSync(EVENTS)
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) =>
    deliveriesOf(JSON.parse(readFileSync(join(EVENTS, name), 'utf8'))).flatMap((delivery) => [
      ...delivery.refs.map((ref) => ({ event: name, ...ref })),
      ...delivery.skipped.map((skip) => ({ event: name, bucket: skip.bucket, key: skip.key, size: undefined })),
    ]),
  );

describe('sample data in events/', () => {
  it.each(recordFiles)('records/%s parses as JSON', (name) => {
    expect(() => JSON.parse(readFileSync(join(EVENTS, 'records', name), 'utf8'))).not.toThrow();
  });

  it.each(logFiles.map((path) => [path.slice(OBJECTS.length + 1)]))('objects/%s gunzips to valid JSON', (relative) => {
    const text = gunzipSync(readFileSync(join(OBJECTS, relative))).toString('utf8');
    expect(() => JSON.parse(text)).not.toThrow();
  });

  it('has S3 events that name objects', () => {
    expect(s3Objects.length).toBeGreaterThan(0);
  });

  it.each(s3Objects)('$event names $key, which exists with the size the event says', ({ bucket, key, size }) => {
    const path = join(OBJECTS, bucket, key);
    if (size === undefined) expect(statSync(path).isFile()).toBe(true);
    else expect(statSync(path).size).toBe(size);
  });

  it('holds the log files the generator describes (run `npx tsx events/objects/generate.ts` after editing it)', () => {
    for (const [path, body] of buildSampleFiles()) {
      if (!path.endsWith('.json.gz')) continue;
      const committed = gunzipSync(readFileSync(join(EVENTS, path))).toString('utf8');
      expect(committed).toBe(gunzipSync(body).toString('utf8'));
    }
  });
});
