/**
 * Slack Block Kit rendering: every sample record renders to a message Slack accepts, with the
 * facts a reader needs, nothing secret, nothing from the record able to mention or link, and
 * an alert of any size still within Slack's limits.
 */
import { actorName } from '../lambda/core/alerts/alert';
import { foldStorms } from '../lambda/core/alerts/storm';
import { escapeMrkdwn, renderSlackMessage, SLACK_LIMITS, type SlackMessage } from '../lambda/core/render/slack-blocks';
import { summarySentence } from '../lambda/core/render/summary';
import { mrkdwnCode } from '../lambda/core/render/untrusted';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import type { Alert, CloudTrailRecord } from '../lambda/core/types';
import { mrkdwnTexts, slackProblems } from './channel-checks';
import { alertsFor, readFixture, record, recordFixtureNames, SECRET_MARKERS } from './support';

const fieldsText = (message: SlackMessage): string =>
  message.blocks.flatMap((block) => (block.type === 'section' && 'fields' in block ? block.fields.map((field) => field.text) : [])).join('\n');
const headerText = (message: SlackMessage): string => {
  const header = message.blocks.find((block) => block.type === 'header');
  return header && header.type === 'header' ? header.text.text : '';
};
const buttons = (message: SlackMessage) => message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));

function firstRecordOf(document: unknown): CloudTrailRecord {
  const doc = document as { Records?: CloudTrailRecord[]; detail?: CloudTrailRecord };
  return doc.Records?.[0] ?? doc.detail ?? (document as CloudTrailRecord);
}

/**
 * The alerts of a sample record: the default rules' where they alert, else an extra event
 * configured for it, so that the read-only samples are rendered too.
 */
async function sampleAlerts(name: string): Promise<Alert[]> {
  const document = readFixture(name);
  const alerts = await alertsFor(document);
  if (alerts.length) return alerts;
  const { eventSource, eventName } = firstRecordOf(document);
  return alertsFor(document, { ...DEFAULT_RULE_CONFIG, additionalEvents: [{ eventSource, eventName, severity: 'low' }] });
}

describe('every sample record', () => {
  it.each(recordFixtureNames())('%s renders within Slack limits with severity, who, resource and links', async (name) => {
    const alerts = await sampleAlerts(name);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      const message = renderSlackMessage(alert);
      const json = JSON.stringify(message);
      expect(slackProblems(message)).toEqual([]);
      expect(headerText(message)).toContain(alert.severity.toUpperCase());
      expect(headerText(message)).toContain(alert.title);
      expect(message.text).toBe(`${alert.severity.toUpperCase()}: ${summarySentence(alert, mrkdwnCode)}`);
      expect(message.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: summarySentence(alert, mrkdwnCode) } });
      expect(fieldsText(message)).toContain(escapeMrkdwn(actorName(alert.actor)));
      expect(fieldsText(message)).toContain(alert.accountId);
      for (const arn of alert.resources.slice(0, 5)) expect(fieldsText(message)).toContain(`\`${arn}\``);
      expect(buttons(message).map((button) => button.url)).toEqual([alert.links.cloudTrail, ...(alert.links.console ? [alert.links.console] : [])]);
      expect(json).toContain(alert.eventId);
      for (const marker of SECRET_MARKERS) expect({ name, found: json.includes(marker) ? marker : null }).toEqual({ name, found: null });
    }
  });
});

describe('content', () => {
  it('shows who, the session issuer with MFA, when, where, from where, with what, and the rule and event as context', async () => {
    const [alert] = await alertsFor({ Records: [record()] });
    const message = renderSlackMessage(alert!);
    const fields = fieldsText(message);
    expect(fields).toContain('*Who*\n`alice` (`AssumedRole`)\n`arn:aws:sts::111122223333:assumed-role/Admin/alice`');
    expect(fields).toContain('*Session issuer &amp; MFA*\n`arn:aws:iam::111122223333:role/Admin`\nMFA: yes');
    expect(fields).toContain('*When*\n`2025-03-14T08:45:51Z`');
    expect(fields).toContain('*Account / region*\n`111122223333` / `us-east-1`');
    expect(fields).toContain('*From IP*\n`192.0.2.10`');
    expect(fields).toContain('*User agent*\n`aws-cli/2.15.0`');
    expect(fields).toContain('*Outcome*\n:white_check_mark: succeeded');
    expect(fields).toContain('*Resources*\n`arn:aws:acm:us-east-1:111122223333:certificate/2e6d0b9f-4a13-47c8-8f5e-c1a0d7b3e962`');
    expect(message.blocks.find((block) => block.type === 'context')).toEqual({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: 'Rule `acm-delete-certificate`' },
        { type: 'mrkdwn', text: 'Call `acm.amazonaws.com DeleteCertificate`' },
        { type: 'mrkdwn', text: 'Event `c63c5279-47d4-48eb-b118-82afd4e050e0`' },
        { type: 'mrkdwn', text: 'Log file `test.json.gz`' },
        { type: 'mrkdwn', text: 'Seen via CloudTrail log file' },
      ],
    });
    expect(buttons(message).map((button) => [button.text.text, button.action_id])).toEqual([
      ['CloudTrail event', 'open-cloudtrail-event'],
      ['Open in console', 'open-console'],
    ]);
    expect(message).toMatchObject({ unfurl_links: false, unfurl_media: false });
  });

  it('a failed call says so in the header and shows the error code and message', async () => {
    const [alert] = await alertsFor(readFixture('acm-export-certificate.denied.json'));
    const message = renderSlackMessage(alert!);
    expect(headerText(message)).toBe(':rotating_light: CRITICAL: Private key exported from ACM (attempt failed)');
    expect(fieldsText(message)).toMatch(/\*Outcome\*\n:no_entry: failed `AccessDenied`\n`User: arn:aws:sts::111122223333:assumed-role\/ci-deployer\/build-42 is not authorized/);
    expect(fieldsText(message)).toContain('MFA: *no*');
  });

  it('leaves out facts the alert does not have instead of sending empty text, which Slack rejects', async () => {
    const [full] = await alertsFor({ Records: [record()] });
    const bare: Alert = {
      ...full!,
      actor: { type: 'AWSService', invokedBy: 'acm.amazonaws.com' },
      resources: [],
      why: '',
      nextSteps: [],
      links: { cloudTrail: '' },
    };
    delete bare.sourceIPAddress;
    delete bare.userAgent;
    delete bare.logFile;
    const message = renderSlackMessage(bare);
    expect(slackProblems(message)).toEqual([]);
    const fields = fieldsText(message);
    for (const absent of ['From IP', 'User agent', 'Resources', 'MFA:', 'Log file']) expect(JSON.stringify(message)).not.toContain(absent);
    expect(fields).toContain('*Session issuer &amp; MFA*\ninvoked by `acm.amazonaws.com`');
    expect(message.blocks.map((block) => block.type)).toEqual(['header', 'section', 'section', 'context']);
  });

  it('links only to the AWS consoles, so a forged record cannot make a button lead elsewhere', async () => {
    const [alert] = await alertsFor({ Records: [record()] });
    const forged = renderSlackMessage({ ...alert!, links: { cloudTrail: 'https://us-east-1.evil.example/#.console.aws.amazon.com/', console: 'javascript:alert(1)' } });
    expect(buttons(forged)).toEqual([]);
    expect(forged.blocks.some((block) => block.type === 'actions')).toBe(false);
    const govCloud = renderSlackMessage({ ...alert!, links: { cloudTrail: 'https://us-gov-west-1.console.amazonaws-us-gov.com/cloudtrailv2/home' } });
    expect(buttons(govCloud)).toHaveLength(1);
  });
});

describe('escaping', () => {
  it('escapes &, < and > from the record, so it can neither mention the channel nor disguise a link', async () => {
    const [alert] = await alertsFor({
      Records: [
        record({
          userAgent: '<!channel> <https://evil.example|Open in console> & `more`',
          errorCode: 'AccessDenied<!here>',
          errorMessage: 'User <@U123> is not authorized & <!subteam^S1|@security>',
          sourceIPAddress: '<https://evil.example>',
          userIdentity: { type: 'IAMUser', userName: '<!everyone>', arn: 'arn:aws:iam::111122223333:user/<!everyone>', accountId: '111122223333' },
        }),
      ],
    });
    const message = renderSlackMessage(alert!);
    expect(slackProblems(message)).toEqual([]);
    for (const text of mrkdwnTexts(message)) {
      expect(text).not.toMatch(/[<>]/);
      expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    expect(fieldsText(message)).toContain("`&lt;!channel&gt; &lt;hxxps://evil[.]example|Open in console&gt; &amp; 'more'`");
    expect(message.text).toContain('`&lt;!everyone&gt;` (`IAMUser`)');
  });
});

describe('oversized alerts', () => {
  it('thousands of resources, a huge error message, a vast burst and long everything still fit every limit', async () => {
    const [alert] = await alertsFor({ Records: [record()] });
    const resources = Array.from({ length: 5000 }, (_, i) => `arn:aws:acm:us-east-1:111122223333:certificate/${String(i).padStart(8, '0')}-4a13-47c8-8f5e-c1a0d7b3e962`);
    const huge: Alert = {
      ...alert!,
      title: `A very long rule title ${'x'.repeat(400)}`,
      resources,
      outcome: 'failed',
      errorCode: 'E'.repeat(500),
      errorMessage: `${'&<>'.repeat(40_000)} end`,
      userAgent: 'u'.repeat(20_000),
      sourceIPAddress: '2001:db8::1'.repeat(100),
      actor: { ...alert!.actor, arn: `arn:aws:sts::111122223333:assumed-role/${'r'.repeat(3000)}/alice`, sessionIssuer: 'i'.repeat(3000), invokedBy: 'v'.repeat(3000) },
      why: 'w'.repeat(10_000),
      nextSteps: Array.from({ length: 40 }, (_, i) => `step ${i} ${'s'.repeat(2000)}`),
      eventId: 'e'.repeat(5000),
      storm: {
        count: 100_000,
        firstEventTime: 't'.repeat(5000),
        lastEventTime: '2025-03-14T10:00:00Z',
        eventIds: Array.from({ length: 1000 }, (_, i) => `event-${i}`),
        resourceCount: 250_000,
        part: { index: 3, of: 100 },
      },
      logFile: `s3://bucket/${'k'.repeat(10_000)}`,
      links: { cloudTrail: `https://us-east-1.console.aws.amazon.com/cloudtrailv2/home#/events/${'e'.repeat(5000)}`, console: alert!.links.console! },
    };
    const message = renderSlackMessage(huge);
    expect(slackProblems(message)).toEqual([]);
    expect(fieldsText(message)).toMatch(/…and \d+ more/);
    expect(message.text).toContain('(+249999 more)');
    expect(fieldsText(message)).toContain('…and 249990 more');
    for (const text of mrkdwnTexts(message)) expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    // The over-long CloudTrail link is dropped; the console link still works.
    expect(buttons(message).map((button) => button.action_id)).toEqual(['open-console']);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(40_000);
  });

  it('a summary of a burst of calls shows the count, the span, every resource counted and the other event IDs', async () => {
    const burst = Array.from({ length: 14 }, (_, i) =>
      record({
        eventID: `burst-${String(i).padStart(2, '0')}`,
        eventTime: `2025-03-14T10:${String(i).padStart(2, '0')}:00Z`,
        requestParameters: { certificateArn: `arn:aws:acm:us-east-1:111122223333:certificate/5f0c9a2e-0000-4000-8000-${String(i).padStart(12, '0')}` },
      }),
    );
    const [summary, ...others] = foldStorms(await alertsFor({ Records: burst }));
    expect(others).toEqual([]);
    expect(summary!.storm).toMatchObject({ count: 14, resourceCount: 14 });
    const message = renderSlackMessage(summary!);
    expect(slackProblems(message)).toEqual([]);
    expect(headerText(message)).toBe(':red_circle: HIGH: ACM certificate deleted (14 times)');
    expect(message.text).toBe(`HIGH: ${summarySentence(summary!, mrkdwnCode)}`);
    expect(message.text).toContain('(+13 more) in `111122223333` / `us-east-1` — succeeded, 14 times');
    expect(fieldsText(message)).toContain('*Burst*\n14 calls from `2025-03-14T10:00:00Z` to `2025-03-14T10:13:00Z`, 14 resources');
    expect(fieldsText(message)).toContain('`arn:aws:acm:us-east-1:111122223333:certificate/5f0c9a2e-0000-4000-8000-000000000009`\n…and 4 more');
    expect(JSON.stringify(message)).toContain('Event `burst-00` and 13 more (the JSON message lists every event ID)');
  });

  it('a single alert has no burst field', async () => {
    const [alert] = await alertsFor({ Records: [record()] });
    expect(fieldsText(renderSlackMessage(alert!))).not.toContain('Burst');
  });
});
