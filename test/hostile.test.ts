/**
 * Hostile input, as an attacker would send it: the caller controls the user agent, ARNs echoed
 * in error messages, tags and session names, and a forged file can hold any JSON type in any
 * field. For every channel (email, Amazon Q Developer card, Block Kit, SNS JSON, terminal):
 * no live markup, links, lines or control characters; no secret; every alert published; no
 * exception.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { HOSTILE_LOGS, HOSTILE_SECRETS } from '../events/objects/hostile';
import { alertLine } from '../lambda/cli/output';
import { buildAlert } from '../lambda/core/alerts/alert';
import { renderChatNotification } from '../lambda/core/render/chat';
import { renderEmail } from '../lambda/core/render/email';
import { renderSlackMessage } from '../lambda/core/render/slack-blocks';
import { buildSnsMessage, snsMessageSize, SNS_MAX_MESSAGE_BYTES } from '../lambda/core/render/sns-message';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG } from '../lambda/core/rules/rule-config';
import type { Alert, CloudTrailRecord } from '../lambda/core/types';
import { putObject, receiveDelivered, startSandbox, type LocalSandbox } from '../lambda/local/sandbox';
import { emailProblems, forbiddenCharacters, leakedSecrets, liveLinks, liveMrkdwn, mrkdwnTexts, slackProblems, terminalProblems } from './channel-checks';
import { record as baseRecord, ROOT, s3Handler, SECRET_MARKERS } from './support';

const EVENTS = path.join(ROOT, 'events');
const HOSTILE_EVENT = path.join(EVENTS, 's3-put-hostile.json');
const SECRETS = Object.values(HOSTILE_SECRETS);
const engine = createRuleEngine(DEFAULT_RULE_CONFIG);

/** Alerts each hostile file should raise: its records that trip a rule, by event ID as alerts carry it. */
const expectedAlerts = HOSTILE_LOGS.flatMap(({ records }) => records.filter((r) => engine.evaluate(r as CloudTrailRecord)?.alert)).length;

/** Every problem of one alert in every channel; an exception counts as a problem too. */
function channelProblems(alert: Alert, extraSecrets: ReadonlyArray<string | readonly number[]> = []): string[] {
  const secrets = [...SECRETS, ...extraSecrets];
  const email = renderEmail(alert);
  const card = renderChatNotification(alert);
  const slack = renderSlackMessage(alert);
  const message = buildSnsMessage(alert);
  const terminal = alertLine(alert);
  const cardTexts = [card.content.title, card.content.description, ...card.content.nextSteps, card.metadata.summary];
  const everything = [email, JSON.stringify(card), JSON.stringify(slack), message.Message, message.Subject, terminal].join('\n');
  return [
    ...emailProblems('email', email),
    ...cardTexts.flatMap((text, i) => [...liveMrkdwn(`card text ${i}`, text), ...forbiddenCharacters(`card text ${i}`, text), ...liveLinks(`card text ${i}`, text)]),
    ...[card.metadata.threadId, card.metadata.eventType, ...card.metadata.relatedResources, ...card.content.keywords, ...Object.values(card.metadata.additionalContext)].flatMap((text) => [
      ...forbiddenCharacters('card metadata', text),
      ...liveLinks('card metadata', text),
    ]),
    ...slackProblems(slack),
    ...mrkdwnTexts(slack).flatMap((text, i) => [...liveMrkdwn(`slack text ${i}`, text), ...forbiddenCharacters(`slack text ${i}`, text), ...liveLinks(`slack text ${i}`, text)]),
    ...terminalProblems('terminal', terminal),
    ...(terminal.split('\n').length === 3 ? [] : ['terminal: not three lines']),
    ...(snsMessageSize(message) <= SNS_MAX_MESSAGE_BYTES ? [] : [`sns: ${snsMessageSize(message)} bytes`]),
    ...(/^[\x20-\x7e]{1,99}$/.test(message.Subject) ? [] : ['sns: subject not printable ASCII under 100']),
    ...forbiddenCharacters('sns message', message.Message),
    ...Object.values(message.MessageAttributes).flatMap((attribute) => forbiddenCharacters('sns attribute', attribute.StringValue)),
    ...leakedSecrets('any channel', everything, secrets),
    ...SECRET_MARKERS.filter((marker) => everything.includes(marker)).map((marker) => `any channel: ${marker}`),
  ];
}

describe('hostile log files through the real handler and SNS', () => {
  let sandbox: LocalSandbox;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    sandbox = await startSandbox();
    Object.assign(process.env, sandbox.handlerEnv, { POWERTOOLS_LOG_LEVEL: 'SILENT' });
  });
  afterAll(async () => {
    process.env = savedEnv;
    await sandbox?.stop();
  });

  it('delivers every alert of every hostile file, each inert and without secrets in every channel', async () => {
    const event = JSON.parse(readFileSync(HOSTILE_EVENT, 'utf8')) as { Records: Array<{ s3: { bucket: { name: string }; object: { key: string } } }> };
    for (const { s3 } of event.Records) {
      const key = decodeURIComponent(s3.object.key.replace(/\+/g, ' '));
      await putObject(sandbox, s3.bucket.name, key, readFileSync(path.join(EVENTS, 'objects', s3.bucket.name, key)));
    }
    const handler = s3Handler();
    const summary = await handler(event);
    expect(summary.objects.filter((object) => object.error)).toEqual([]);

    const delivered = await receiveDelivered(sandbox);
    expect(delivered).toHaveLength(expectedAlerts);
    expect(new Set(delivered.map((d) => d.alert.eventId)).size).toBe(expectedAlerts);
    for (const delivery of delivered) {
      const raw = JSON.stringify(delivery);
      expect({ event: delivery.alert.eventId, problems: [...emailProblems('delivered email', delivery.email ?? ''), ...channelProblems(delivery.alert), ...leakedSecrets('delivered', raw, SECRETS)] }).toEqual({
        event: delivery.alert.eventId,
        problems: [],
      });
    }
  });
});

describe('hostile log files through the CLI, as a user runs it', () => {
  const BIN = path.join(ROOT, 'bin', 'acm-sentinel.js');
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  const hostileDir = path.join(EVENTS, 'objects', 'acm-sentinel-demo-trail', 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1', '2025', '03', '15');

  it.each([['text'], ['json']])('scan --format %s prints every alert with no control sequence, live link or secret', (format) => {
    const { status, stdout, stderr } = cli('scan', hostileDir, '--format', format);
    expect(stderr).toContain(`scanned ${HOSTILE_LOGS.length} files`);
    expect(status).toBe(0);
    // JSON lines are for programs: values stay as recorded (links included), only never a control character.
    const stdoutProblems = format === 'json' ? forbiddenCharacters('stdout', stdout) : terminalProblems('stdout', stdout);
    expect([...stdoutProblems, ...terminalProblems('stderr', stderr), ...leakedSecrets('scan', stdout + stderr, SECRETS)]).toEqual([]);
    if (format === 'json') expect(stdout.trim().split('\n').map((line) => JSON.parse(line).eventId)).toHaveLength(expectedAlerts);
  });

  it('invoke prints every delivered alert as email and chat card with nothing live in it', () => {
    const { status, stdout, stderr } = cli('invoke', HOSTILE_EVENT);
    expect(stderr).toContain(`delivered through SNS: ${expectedAlerts} alerts`);
    expect(stderr).not.toContain('FAILED');
    expect(status).toBe(0);
    expect([...terminalProblems('stdout', stdout), ...terminalProblems('stderr', stderr), ...leakedSecrets('invoke', stdout + stderr, SECRETS)]).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated attacker strings in every field a caller or a forger can reach
// ---------------------------------------------------------------------------------------------

const attackerFragments = [
  '<!channel>',
  '<!here|here>',
  '<@U024BE7LH>',
  '<https://evil.example/x|click here>',
  '*URGENT*',
  '_urgent_',
  '~struck~',
  '`',
  '```',
  '> quoted',
  '[click](https://evil.example/login)',
  '# heading',
  '<a href="https://evil.example">x</a>',
  '<script>alert(1)</script>',
  '&amp;&lt;',
  'https://evil.example/a?b=c',
  'HTTP://EVIL.EXAMPLE',
  'ftp://evil.example/x',
  'www.evil.example',
  '\nWho         arn:aws:iam::111122223333:user/alice',
  '\r\nCall        acm.amazonaws.com DescribeCertificate — succeeded',
  '\t',
  '\u001b[2K\u001b[1A',
  '\u001b]8;;https://evil.example\u0007x\u001b]8;;\u0007',
  '\u009b31m',
  '\u0000',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\u202e',
  '\u2066',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udfff',
  '😀',
  '  aligned  ',
  'arn:aws:acm:us-east-1:111122223333:certificate/5d8c2a71-3e94-4b0f-a6d2-9c17e4b8f035',
] as const;

const attackerString = fc
  .array(fc.oneof(fc.constantFrom(...attackerFragments), fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 10 })), { maxLength: 8 })
  .map((parts) => parts.join(''));
const hugeString = fc.constantFrom(40_000, 300_000).chain((size) => fc.constantFrom('x', '<!channel>\n', '\u202e', 'Ab3+').map((piece) => piece.repeat(Math.ceil(size / piece.length))));
const secretString = fc.constantFrom(...SECRETS.filter((s): s is string => typeof s === 'string'));
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }));
const hostileValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 6, arbitrary: attackerString }, { weight: 1, arbitrary: hugeString }, { weight: 2, arbitrary: secretString }, { weight: 2, arbitrary: wrongType });

/** A record with a hostile value in each field a caller or a forged file controls. */
const hostileRecord = fc
  .record({
    userAgent: hostileValue,
    errorCode: fc.option(hostileValue),
    errorMessage: hostileValue,
    sourceIPAddress: hostileValue,
    eventTime: hostileValue,
    awsRegion: hostileValue,
    recipientAccountId: hostileValue,
    eventID: hostileValue,
    arn: hostileValue,
    principalId: hostileValue,
    userName: hostileValue,
    type: hostileValue,
    invokedBy: hostileValue,
    issuer: hostileValue,
    mfa: hostileValue,
    certificateArn: hostileValue,
    responseArn: hostileValue,
    resourceArn: hostileValue,
    tagValue: hostileValue,
    eventName: fc.constantFrom('ExportCertificate', 'DeleteCertificate', 'ImportCertificate', 'RevokeCertificate'),
  })
  .map((v) =>
    baseRecord({
      eventName: v.eventName,
      userAgent: v.userAgent as string,
      ...(v.errorCode === null ? {} : { errorCode: v.errorCode as string, errorMessage: v.errorMessage as string }),
      sourceIPAddress: v.sourceIPAddress as string,
      eventTime: v.eventTime as string,
      awsRegion: v.awsRegion as string,
      recipientAccountId: v.recipientAccountId as string,
      eventID: v.eventID as string,
      userIdentity: {
        type: v.type as string,
        arn: v.arn as string,
        principalId: v.principalId as string,
        userName: v.userName as string,
        invokedBy: v.invokedBy as string,
        sessionContext: { sessionIssuer: { arn: v.issuer as string }, attributes: { mfaAuthenticated: v.mfa as string } },
      },
      requestParameters: { certificateArn: v.certificateArn, tags: [{ key: 'team', value: v.tagValue }] },
      responseElements: { certificateArn: v.responseArn },
      resources: [{ ARN: v.resourceArn as string }],
    }),
  );

describe('links acm-sentinel builds from an attacker\'s ARN', () => {
  it.each(["'", '(', ')', '!', '*'])('escape %s, where a reader would end the link and link what follows', (mark) => {
    const arn = `arn:aws:acm:us-east-1:111122223333:certificate/5d8c2a71-3e94-4b0f-a6d2-9c17e4b8f035${mark}www.evil.example`;
    const record = baseRecord({ eventName: 'DeleteCertificate', requestParameters: { certificateArn: arn }, resources: [{ ARN: arn }] });
    const verdict = engine.evaluate(record);
    expect(verdict?.alert).toBe(true);
    const alert = buildAlert(record, (verdict as { rule: Parameters<typeof buildAlert>[1] }).rule, 's3://trail/AWSLogs/x.json.gz');
    expect(alert.links.console).not.toContain(mark);
    expect(channelProblems(alert)).toEqual([]);
  });
});

describe('generated attacker strings in every field', () => {
  it('render inert in every channel, without secrets, within every size limit, and never throw', () => {
    fc.assert(
      fc.property(hostileRecord, (record) => {
        const verdict = engine.evaluate(record);
        expect(verdict?.alert).toBe(true);
        const alert = buildAlert(record, (verdict as { rule: Parameters<typeof buildAlert>[1] }).rule, 's3://trail/AWSLogs/x.json.gz');
        expect(channelProblems(alert)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('an alert object of any field sizes and characters fits SNS and Slack and renders without throwing', () => {
    const anyText = fc.oneof(attackerString, fc.string({ unit: 'binary', maxLength: 300 }), hugeString);
    const anyAlert = fc.record({
      text: anyText,
      resources: fc.array(anyText, { maxLength: 30 }),
      eventIds: fc.array(fc.uuid(), { maxLength: 1000 }),
      storm: fc.boolean(),
    });
    fc.assert(
      fc.property(anyAlert, ({ text, resources, eventIds, storm }) => {
        const alert: Alert = {
          via: storm ? 'log' : 'eventbridge',
          ruleId: 'acm-delete-certificate',
          severity: 'high',
          title: 'ACM certificate deleted',
          eventSource: text,
          eventName: text,
          eventId: text,
          eventTime: text,
          awsRegion: text,
          accountId: text,
          actor: { type: text, arn: text, accountId: text, principalId: text, userName: text, sessionIssuer: text, mfa: false, invokedBy: text },
          sourceIPAddress: text,
          userAgent: text,
          outcome: 'failed',
          errorCode: text,
          errorMessage: text,
          resources,
          details: { a: text, b: [text, text], c: { d: text } },
          why: 'why',
          nextSteps: ['step'],
          links: { cloudTrail: 'https://us-east-1.console.aws.amazon.com/cloudtrailv2/home' },
          logFile: text,
          ...(storm ? { storm: { count: eventIds.length, firstEventTime: text, lastEventTime: text, eventIds, resourceCount: resources.length } } : {}),
        };
        const message = buildSnsMessage(alert);
        expect(snsMessageSize(message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
        expect(message.Subject).toMatch(/^[\x20-\x7e]{1,99}$/);
        expect(slackProblems(renderSlackMessage(alert))).toEqual([]);
        expect(renderChatNotification(alert).content.description.length).toBeLessThanOrEqual(8000);
        expect(forbiddenCharacters('email', renderEmail(alert))).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });
});
