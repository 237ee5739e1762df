/**
 * Every sample record through every channel: the email text, the Amazon Q Developer custom
 * notification (checked against its documented schema), the Slack Block Kit message (limits are
 * in slack-blocks.test.ts) and the SNS message limits. A golden copy
 * of each rendering of a few samples, hostile ones among them, is kept in events/rendered/ for reviewers; refresh them with
 * `UPDATE_RENDERED=1 npx jest test/channels.test.ts` after an intended change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HOSTILE_LOGS } from '../events/objects/hostile';
import { foldStorms } from '../lambda/core/alerts/storm';
import { renderChatNotification } from '../lambda/core/render/chat';
import { renderEmail } from '../lambda/core/render/email';
import { renderSlackMessage } from '../lambda/core/render/slack-blocks';
import { buildSnsMessage, snsMessageSize, SNS_MAX_MESSAGE_BYTES } from '../lambda/core/render/sns-message';
import type { Alert } from '../lambda/core/types';
import { alertsFor, readFixture, record, recordFixtureNames, ROOT } from './support';

const RENDERED_DIR = path.join(ROOT, 'events', 'rendered');
const HOSTILE_GOLDENS = ['markup', 'forged-lines', 'terminal-escapes', 'invisible-and-links'];

/**
 * The custom notification event schema as documented for Amazon Q Developer in chat applications:
 * `version` "1.0" and `source` "custom" required, `content.description` required, the other
 * fields optional with these types, and nothing else at the top level.
 */
function chatSchemaErrors(card: unknown): string[] {
  const errors: string[] = [];
  const isString = (v: unknown) => typeof v === 'string';
  const isStringList = (v: unknown) => Array.isArray(v) && v.every(isString);
  const doc = card as Record<string, unknown>;
  const allowed = (object: Record<string, unknown>, keys: string[], where: string) =>
    Object.keys(object).filter((k) => !keys.includes(k)).forEach((k) => errors.push(`${where}.${k} is not in the schema`));
  allowed(doc, ['version', 'source', 'id', 'content', 'metadata'], '$');
  if (doc.version !== '1.0') errors.push('$.version must be "1.0"');
  if (doc.source !== 'custom') errors.push('$.source must be "custom"');
  if (doc.id !== undefined && !isString(doc.id)) errors.push('$.id must be a string');
  const content = (doc.content ?? {}) as Record<string, unknown>;
  allowed(content, ['textType', 'title', 'description', 'nextSteps', 'keywords'], '$.content');
  if (content.textType !== undefined && content.textType !== 'client-markdown') errors.push('$.content.textType must be "client-markdown"');
  if (!isString(content.description) || !(content.description as string).length) errors.push('$.content.description is required');
  if (content.title !== undefined && !isString(content.title)) errors.push('$.content.title must be a string');
  for (const list of ['nextSteps', 'keywords']) if (content[list] !== undefined && !isStringList(content[list])) errors.push(`$.content.${list} must be a list of strings`);
  const metadata = (doc.metadata ?? {}) as Record<string, unknown>;
  allowed(metadata, ['threadId', 'summary', 'eventType', 'relatedResources', 'additionalContext', 'enableCustomActions'], '$.metadata');
  for (const field of ['threadId', 'summary', 'eventType']) if (metadata[field] !== undefined && !isString(metadata[field])) errors.push(`$.metadata.${field} must be a string`);
  if (metadata.relatedResources !== undefined && !isStringList(metadata.relatedResources)) errors.push('$.metadata.relatedResources must be a list of strings');
  if (metadata.additionalContext !== undefined && !Object.values(metadata.additionalContext as object).every(isString)) errors.push('$.metadata.additionalContext values must be strings');
  return errors;
}

async function sampleAlerts(): Promise<Array<[string, Alert]>> {
  const samples: Array<[string, Alert]> = [];
  for (const name of recordFixtureNames()) for (const alert of await alertsFor(readFixture(name))) samples.push([name, alert]);
  const burst = Array.from({ length: 7 }, (_, i) =>
    record({ eventID: `storm-${i}`, eventTime: `2025-03-14T10:0${i}:00Z`, requestParameters: { certificateArn: `arn:aws:acm:us-east-1:111122223333:certificate/5f0c9a2e-0000-4000-8000-00000000000${i}` } }),
  );
  samples.push(['storm-summary', foldStorms(await alertsFor({ Records: burst }))[0]!]);
  // A few hostile files (events/objects/hostile.ts): their goldens show what a reviewer should see.
  for (const { name, records } of HOSTILE_LOGS.filter((log) => HOSTILE_GOLDENS.includes(log.name))) {
    for (const [i, alert] of (await alertsFor({ Records: records })).entries()) samples.push([`hostile-${name}${i ? `-${i + 1}` : ''}`, alert]);
  }
  return samples;
}

describe('every sample through every channel', () => {
  let samples: Array<[string, Alert]>;
  beforeAll(async () => {
    samples = await sampleAlerts();
  });

  it('chat cards follow the documented custom notification schema', () => {
    for (const [name, alert] of samples) expect({ name, errors: chatSchemaErrors(renderChatNotification(alert)) }).toEqual({ name, errors: [] });
  });

  it('emails lead with one sentence and read in a plain-text client: no tabs, no markup, short lines but for links', () => {
    // The hostile samples carry markup as text on purpose; hostile.test.ts holds them to the hostile-input rules.
    for (const [name, alert] of samples.filter(([sample]) => !sample.startsWith('hostile-'))) {
      const email = renderEmail(alert);
      expect({ name, first: email.split('\n')[0] }).toEqual({ name, first: expect.stringMatching(/ in \d{12} \/ [a-z0-9-]+ — (succeeded|failed)/) });
      for (const line of email.split('\n')) {
        expect(line).not.toMatch(/\t|<\/?[a-z]+>|\*\w/);
        if (!/https:\/\//.test(line)) expect({ name, line: line.length <= 220 }).toEqual({ name, line: true });
      }
    }
  });

  it('every SNS message fits the limits: subject under 100 printable characters, at most 10 attributes, 256 KB', () => {
    for (const [, alert] of samples) {
      const message = buildSnsMessage(alert);
      expect(message.Subject).toMatch(/^[\x20-\x7e]{1,99}$/);
      expect(Object.keys(message.MessageAttributes).length).toBeLessThanOrEqual(10);
      expect(snsMessageSize(message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    }
  });

  it.each([
    ['acm-export-certificate.hidden.json'],
    ['acm-export-certificate.denied.json'],
    ['acm-import-certificate.bare.json'],
    ['acm-pca-delete-certificate-authority.json'],
    ['acm-get-acme-external-account-binding-credentials.json'],
    ['acm-pca-issue-certificate.subordinate-ca.json'],
    ['storm-summary'],
    ['hostile-markup'],
    ['hostile-markup-2'],
    ['hostile-forged-lines'],
    ['hostile-terminal-escapes'],
    ['hostile-invisible-and-links'],
  ])('keeps a golden rendering of %s in events/rendered/', (name) => {
    const alert = samples.find(([sample]) => sample === name)![1];
    const base = name.replace(/\.json$/, '');
    const renderings: Array<[string, string]> = [
      [`${base}.email.txt`, renderEmail(alert)],
      [`${base}.chat.json`, `${JSON.stringify(renderChatNotification(alert), null, 2)}\n`],
      [`${base}.slack.json`, `${JSON.stringify(renderSlackMessage(alert), null, 2)}\n`],
    ];
    for (const [file, rendered] of renderings) {
      const golden = path.join(RENDERED_DIR, file);
      if (process.env.UPDATE_RENDERED === '1' || !existsSync(golden)) {
        if (process.env.CI) throw new Error(`${golden} is missing: run UPDATE_RENDERED=1 npx jest test/channels.test.ts and commit it`);
        mkdirSync(RENDERED_DIR, { recursive: true });
        writeFileSync(golden, rendered);
      }
      expect(rendered).toBe(readFileSync(golden, 'utf8'));
    }
  });
});
