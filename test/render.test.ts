import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { redact, REDACTED } from '../lambda/core/alerts/redact';
import { renderChatNotification } from '../lambda/core/render/chat';
import { renderEmail } from '../lambda/core/render/email';
import { alertSubject, buildSnsMessage, snsMessageSize, SNS_MAX_MESSAGE_BYTES } from '../lambda/core/render/sns-message';
import type { Alert } from '../lambda/core/types';
import { alertsFor, readFixture, record, recordFixtureNames, ROOT, SECRET_MARKERS } from './support';

/** Every alert the sample data raises: each record fixture and each bundled log object. */
async function everySampleAlert(): Promise<Alert[]> {
  const alerts: Alert[] = [];
  for (const name of recordFixtureNames()) alerts.push(...(await alertsFor(readFixture(name))));
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(path.join(dir, entry.name)) : entry.name.endsWith('.json.gz') && !dir.includes('CloudTrail-Digest') ? [path.join(dir, entry.name)] : [],
    );
  for (const file of walk(path.join(ROOT, 'events', 'objects'))) {
    alerts.push(...(await alertsFor(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')))));
  }
  return alerts;
}

describe('secrets never leave', () => {
  it('no rendered message of any sample alert carries a passphrase, key or certificate bytes', async () => {
    const alerts = await everySampleAlert();
    expect(alerts.length).toBeGreaterThan(20);
    for (const alert of alerts) {
      const message = buildSnsMessage(alert);
      const rendered = [JSON.stringify(message), JSON.stringify(alert), renderEmail(alert), JSON.stringify(renderChatNotification(alert))].join('\n');
      for (const marker of SECRET_MARKERS) expect({ event: alert.eventId, found: rendered.includes(marker) ? marker : null }).toEqual({ event: alert.eventId, found: null });
    }
  });

  it('redacts ByteBuffer dumps, secret fields, PEM blocks and long base64 wherever they sit', () => {
    const input = {
      passphrase: { hb: [42, 42], offset: 0, limit: 2, capacity: 2, position: 0 },
      nested: { list: [{ privateKey: 'anything' }, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'] },
      csr: 'MIIC',
      blob: 'A'.repeat(300),
      hidden: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/x',
      maxItems: 10,
      emptyKey: null,
    };
    expect(redact(input)).toEqual({
      passphrase: REDACTED,
      nested: { list: [{ privateKey: REDACTED }, REDACTED] },
      csr: REDACTED,
      blob: REDACTED,
      hidden: REDACTED,
      certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/x',
      maxItems: 10,
      emptyKey: null,
    });
  });

  it('caps nesting depth instead of walking hostile documents', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 50; i += 1) deep = { next: deep };
    expect(JSON.stringify(redact(deep))).toContain('[nested too deep]');
  });
});

describe('SNS message', () => {
  const exportAlert = async () => (await alertsFor(readFixture('acm-export-certificate.hidden.json')))[0]!;

  it('carries one body per protocol: chat card for default and https, text for email, the alert object for sqs and lambda', async () => {
    const alert = await exportAlert();
    const message = buildSnsMessage(alert);
    expect(message.MessageStructure).toBe('json');
    const bodies = JSON.parse(message.Message);
    expect(Object.keys(bodies).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs']);
    expect(JSON.parse(bodies.sqs)).toEqual(alert);
    expect(JSON.parse(bodies.lambda)).toEqual(alert);
    expect(bodies.default).toBe(bodies.https);
    expect(JSON.parse(bodies.default)).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' } });
    expect(bodies.email).toMatch(/^alice \(AssumedRole\) exported the private key of certificate 2e6d0b9f-/);
  });

  it('sets the filterable message attributes', async () => {
    const { MessageAttributes } = buildSnsMessage(await exportAlert());
    expect(Object.fromEntries(Object.entries(MessageAttributes).map(([k, v]) => [k, v.StringValue]))).toEqual({
      severity: 'critical',
      ruleId: 'acm-export-certificate',
      eventName: 'ExportCertificate',
      accountId: '111122223333',
      awsRegion: 'us-east-1',
      outcome: 'succeeded',
    });
    expect(Object.keys(MessageAttributes).length).toBeLessThanOrEqual(10);
  });

  it('keeps the subject printable ASCII, on one line, under 100 characters', async () => {
    const alert = { ...(await exportAlert()), title: `Ünïcødé title\nwith a line break ${'x'.repeat(200)}`, actor: { type: 'IAMUser', userName: 'zoë\u2028' } };
    const subject = alertSubject(alert);
    expect(subject.length).toBeLessThanOrEqual(99);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('truncates request details of an oversized alert instead of failing', async () => {
    const huge = record({ eventName: 'ImportCertificate', requestParameters: { tags: Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(100) })) } });
    const [alert] = await alertsFor({ Records: [huge] });
    const message = buildSnsMessage(alert!);
    expect(snsMessageSize(message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    // The details budget keeps the first 20 items and says how many more there were.
    const tags = JSON.parse(JSON.parse(message.Message).sqs).details.tags as unknown[];
    expect(tags).toHaveLength(21);
    expect(tags[20]).toBe('…[+4980 items]');
  });
});

describe('renderings', () => {
  it('email leads with one sentence, then aligned facts and links', async () => {
    const [alert] = await alertsFor(readFixture('acm-export-certificate.denied.json'));
    const email = renderEmail(alert!);
    const lines = email.split('\n');
    expect(lines[0]).toMatch(/^build-42 \(AssumedRole\) tried ExportCertificate on certificate .* in 111122223333 \/ us-east-1 — failed \(AccessDenied\)$/);
    expect(email).toMatch(/^Session     issued by arn:aws:iam::111122223333:role\/ci-deployer/m);
    expect(email).toContain(`CloudTrail event: ${alert!.links.cloudTrail}`);
    expect(email).toContain(`Console:          ${alert!.links.console}`);
  });

  it('links to the CloudTrail event and the certificate in its own region', async () => {
    const [alert] = await alertsFor(readFixture('acm-import-certificate.bare.json'));
    expect(alert!.links).toEqual({
      cloudTrail: 'https://ap-southeast-2.console.aws.amazon.com/cloudtrailv2/home?region=ap-southeast-2#/events/01234567-89ab-cdef-0123-456789abcdef',
      console: 'https://ap-southeast-2.console.aws.amazon.com/acm/home?region=ap-southeast-2#/certificates/01234567-89ab-cdef-0123-456789abcdef',
    });
  });

  it('chat card threads alerts about one certificate together', async () => {
    const [first] = await alertsFor({ Records: [record()] });
    const [second] = await alertsFor({ Records: [record({ eventName: 'RevokeCertificate', eventID: 'other' })] });
    expect(renderChatNotification(first!).metadata.threadId).toBe(renderChatNotification(second!).metadata.threadId);
  });
});

describe('links from hostile records', () => {
  it('never puts a malformed region into a console host name', async () => {
    const [alert] = await alertsFor({ Records: [record({ awsRegion: 'evil.example.com/x?', requestParameters: { certificateArn: 'arn:aws:acm:evil.example.com#:111122223333:certificate/abc' } })] });
    expect(alert!.links.cloudTrail.startsWith('https://us-east-1.console.aws.amazon.com/')).toBe(true);
    expect(alert!.links.console!.startsWith('https://us-east-1.console.aws.amazon.com/acm/')).toBe(true);
  });
});
