/**
 * A log bucket in another account: the real handler assumes the log account's read role through
 * STS (a local stand-in that speaks STS's query protocol) and reads the log files with the
 * credentials it returns, against the local S3 emulator.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { putObject, receiveDelivered, startSandbox, type LocalSandbox } from '../lambda/local/sandbox';
import { record, s3RecordIn, type S3Handler } from './support';

const BUCKET = 'log-archive-trail';
const KEY = 'AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/eu-west-1/2025/03/14/444455556666_CloudTrail_eu-west-1_20250314T1020Z_x.json.gz';
const ROLE = 'arn:aws:iam::444455556666:role/AcmSentinel-eu-west-1-log-reader';

let sandbox: LocalSandbox;
let sts: Server;
const assumed: URLSearchParams[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  sandbox = await startSandbox();
  sts = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const params = new URLSearchParams(body);
      assumed.push(params);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>
<AccessKeyId>ASIALOGREADEREXAMPLE</AccessKeyId><SecretAccessKey>log-reader-secret</SecretAccessKey><SessionToken>log-reader-session</SessionToken>
<Expiration>${new Date(Date.now() + 3_600_000).toISOString()}</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::444455556666:assumed-role/AcmSentinel-eu-west-1-log-reader/acm-sentinel</Arn><AssumedRoleId>AROAEXAMPLE:acm-sentinel</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    });
  });
  await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, sandbox.handlerEnv, {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    LOG_READER_ROLE_ARN: ROLE,
    AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}`,
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await sandbox?.stop();
  await new Promise((resolve) => sts?.close(resolve));
});

it('assumes the log account read role, once, and reads the log files with it', async () => {
  await putObject(sandbox, BUCKET, KEY, gzipSync(JSON.stringify({ Records: [record({ eventID: 'cross-1' }), record({ eventID: 'cross-2', eventName: 'ExportCertificate' })] })));
  let handler: S3Handler | undefined;
  jest.isolateModules(() => {
    handler = (require('../lambda/handler') as typeof import('../lambda/handler')).handler as S3Handler;
  });

  const first = await handler!({ Records: [s3RecordIn(BUCKET)(KEY)] });
  expect(first.objects.map((o) => [o.alerts, o.error ?? null])).toEqual([[2, null]]);
  expect((await receiveDelivered(sandbox)).map((d) => d.alert.eventId).sort()).toEqual(['cross-1', 'cross-2']);
  // A warm invocation reuses the credentials until they near their expiry.
  const second = await handler!({ Records: [s3RecordIn(BUCKET)(KEY)] });
  expect(second.objects.map((o) => o.error ?? null)).toEqual([null]);
  expect(assumed.map((params) => [params.get('Action'), params.get('RoleArn'), params.get('RoleSessionName')])).toEqual([['AssumeRole', ROLE, 'acm-sentinel']]);
});
