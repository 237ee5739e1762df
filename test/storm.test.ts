import { dedupeKeys, foldStorms, MAX_EVENT_IDS_PER_SUMMARY } from '../lambda/core/alerts/storm';
import { renderChatNotification } from '../lambda/core/render/chat';
import { renderEmail } from '../lambda/core/render/email';
import { buildSnsMessage, snsMessageSize, SNS_MAX_MESSAGE_BYTES } from '../lambda/core/render/sns-message';
import { parseRuleConfig } from '../lambda/core/rules/rule-config';
import type { Alert } from '../lambda/core/types';
import { alertsFor, record } from './support';

const cert = (i: number) => `arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const exportBy = (actor: string, i: number, errorCode?: string) =>
  record({
    eventName: 'ExportCertificate',
    eventID: `${actor}-${i}`,
    eventTime: `2025-03-14T09:${String(i % 60).padStart(2, '0')}:00Z`,
    userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/Ops/${actor}`, accountId: '111122223333' },
    requestParameters: { certificateArn: cert(i), passphrase: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
    ...(errorCode ? { errorCode, errorMessage: 'denied' } : {}),
  });
const burst = (actor: string, count: number, errorCode?: string) => Array.from({ length: count }, (_, i) => exportBy(actor, i, errorCode));

describe('storm control', () => {
  let alerts: Alert[];
  beforeAll(async () => {
    alerts = await alertsFor({ Records: [...burst('mallory', 12), exportBy('alice', 99), ...burst('mallory', 2, 'AccessDenied')] });
  });

  it('folds more than 5 alerts of one rule by one actor into one summary, keeping the others', () => {
    const folded = foldStorms(alerts);
    expect(folded.map((a) => [a.actor.arn!.split('/').pop(), a.outcome, a.storm?.count ?? 1])).toEqual([
      ['mallory', 'succeeded', 12],
      ['alice', 'succeeded', 1],
      ['mallory', 'failed', 1],
      ['mallory', 'failed', 1],
    ]);
  });

  it('the summary lists counts, first and last event times, up to 10 resources and every event ID', () => {
    const [summary] = foldStorms(alerts);
    expect(summary!.storm).toEqual({
      count: 12,
      firstEventTime: '2025-03-14T09:00:00Z',
      lastEventTime: '2025-03-14T09:11:00Z',
      eventIds: Array.from({ length: 12 }, (_, i) => `mallory-${i}`),
      resourceCount: 12,
    });
    expect(summary!.resources).toHaveLength(10);
    expect(summary!.title).toBe('Private key exported from ACM (12 times)');
    expect(dedupeKeys(summary!)).toHaveLength(12);
    expect(JSON.parse(JSON.parse(buildSnsMessage(summary!).Message).sqs).storm.eventIds).toHaveLength(12);
  });

  it('renders the burst in the email and the chat card', () => {
    const [summary] = foldStorms(alerts);
    const email = renderEmail(summary!);
    expect(email.split('\n')[0]).toBe(
      'mallory (AssumedRole) exported the private key of certificate 00000000-0000-4000-8000-000000000000 (+11 more) in 111122223333 / us-east-1 — succeeded, 12 times',
    );
    expect(email).toContain('Burst       12 calls from 2025-03-14T09:00:00Z to 2025-03-14T09:11:00Z, 12 resources');
    expect(email).toContain('Event IDs (first 10 of 12; the JSON message carries all):');
    expect(renderChatNotification(summary!).content.description).toContain('*Burst:* 12 calls');
  });

  it('honours a configured threshold, and 0 turns folding off', () => {
    expect(foldStorms(alerts, 12)).toHaveLength(alerts.length);
    expect(foldStorms(alerts, 11)).toHaveLength(4);
    expect(foldStorms(alerts, 0)).toHaveLength(alerts.length);
    expect(parseRuleConfig({ stormThreshold: 20 }, 'test').stormThreshold).toBe(20);
    expect(() => parseRuleConfig({ stormThreshold: -1 }, 'test')).toThrow('"stormThreshold" must be a whole number');
  });

  it('splits a huge burst over several summaries that each fit in an SNS message', async () => {
    const count = MAX_EVENT_IDS_PER_SUMMARY * 2 + 5;
    const folded = foldStorms(await alertsFor({ Records: burst('mallory', count) }));
    expect(folded.map((a) => a.storm!.part)).toEqual([
      { index: 1, of: 3 },
      { index: 2, of: 3 },
      { index: 3, of: 3 },
    ]);
    expect(folded.reduce((n, a) => n + a.storm!.eventIds.length, 0)).toBe(count);
    for (const summary of folded) expect(snsMessageSize(buildSnsMessage(summary))).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
  });
});
