import type { Alert, Severity } from '../types';
import { actorLabel, stormLine, summarySentence, viaLine } from './summary';
import { codeSafe, escapeMrkdwn, fitMrkdwn, MRKDWN_ESCAPES, plain } from './untrusted';

export { escapeMrkdwn };

/**
 * Slack's documented Block Kit limits that an alert can reach. Exceeding any of them makes an
 * incoming webhook answer 400 `invalid_blocks` or `invalid_payload`, and the alert is lost, so
 * every text below is cut to fit before it is sent.
 */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  actionId: 255,
  /** Slack accepts far more, but the fallback shows in notifications and previews: keep it readable. */
  fallbackText: 3000,
} as const;

export interface SlackPlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface SlackMrkdwn {
  type: 'mrkdwn';
  text: string;
}

export interface SlackLinkButton {
  type: 'button';
  text: SlackPlainText;
  url: string;
  action_id: string;
}

export type SlackBlock =
  | { type: 'header'; text: SlackPlainText }
  | { type: 'section'; text: SlackMrkdwn }
  | { type: 'section'; fields: SlackMrkdwn[] }
  | { type: 'context'; elements: SlackMrkdwn[] }
  | { type: 'actions'; elements: SlackLinkButton[] };

/** The JSON body posted to a Slack incoming webhook. */
export interface SlackMessage {
  /** Shown in notifications and by clients that cannot draw blocks. */
  text: string;
  blocks: SlackBlock[];
  unfurl_links: boolean;
  unfurl_media: boolean;
}

const SEVERITY_ICON: Record<Severity, string> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_blue_circle:',
};

const ELLIPSIS = '…';
/** Escapes `raw` and cuts it to `max` characters without splitting an entity or a surrogate pair. */
function escapeWithin(raw: string, max: number): string {
  const escaped = escapeMrkdwn(raw);
  if (escaped.length <= max) return escaped;
  const budget = Math.max(0, max - ELLIPSIS.length);
  let out = '';
  for (const char of raw) {
    const piece = MRKDWN_ESCAPES[char] ?? char;
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return `${out}${ELLIPSIS}`;
}

/** Trusted text (rule titles and guidance) on one line, escaped. */
const text = (raw: string, max: number): string => escapeWithin(plain(raw), max);

/**
 * Record text as inline code, where mrkdwn applies no formatting: one inert line (see
 * untrusted.ts), escaped, backticks replaced so the value cannot end the span early.
 */
const code = (raw: string, max: number): string => `\`${escapeWithin(codeSafe(raw), max - 2)}\``;

/**
 * A last guard for text assembled from already escaped parts: cuts without leaving half an
 * entity or an open code span behind. The parts are capped so that this rarely has anything to do.
 */
const fit = (mrkdwn: string, max: number): string => fitMrkdwn(mrkdwn, max, ELLIPSIS);

/** Cuts plain text (no entities to respect) without splitting a surrogate pair. */
function clipPlain(plain: string, max: number): string {
  if (plain.length <= max) return plain;
  let cut = plain.slice(0, max - ELLIPSIS.length);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}${ELLIPSIS}`;
}

// More would bury the other facts; the CloudTrail event and the JSON message list them all.
const RESOURCES_LISTED = 10;

/**
 * Lists ARNs as code, one per line, the first ten or as many as fit in `max`, then "…and N
 * more". `total` counts resources the alert does not list (a burst summary carries ten).
 */
function resourceList(resources: readonly string[], total: number, max: number): string {
  const lines: string[] = [];
  let used = 0;
  for (const [i, arn] of resources.entries()) {
    const line = code(arn, 400);
    const reserve = `\n…and ${total} more`.length;
    if (i === RESOURCES_LISTED || used + line.length + 1 + reserve > max) break;
    lines.push(line);
    used += line.length + 1;
  }
  const more = total - lines.length;
  if (more > 0) lines.push(`…and ${more} more`);
  return lines.join('\n');
}

/** One fact of the alert: a label and how to show it; a row whose value is absent is left out. */
interface FieldRow {
  readonly label: string;
  readonly value: (alert: Alert, max: number) => string | undefined;
}

function session(alert: Alert): string | undefined {
  const parts: string[] = [];
  if (alert.actor.sessionIssuer) parts.push(code(alert.actor.sessionIssuer, 400));
  if (alert.actor.mfa !== undefined) parts.push(alert.actor.mfa ? 'MFA: yes' : 'MFA: *no*');
  if (alert.actor.invokedBy) parts.push(`invoked by ${code(alert.actor.invokedBy, 200)}`);
  return parts.length ? parts.join('\n') : undefined;
}

function outcome(alert: Alert): string {
  if (alert.outcome === 'succeeded') return ':white_check_mark: succeeded';
  const error = alert.errorCode ? ` ${code(alert.errorCode, 120)}` : '';
  const message = alert.errorMessage ? `\n${code(alert.errorMessage, 1200)}` : '';
  return `:no_entry: failed${error}${message}`;
}

/**
 * The facts beside the summary, in reading order; a summary of a burst of calls adds its span
 * and counts. Adding a fact is one row here; Slack allows 10 fields in a section, so the rows an
 * alert can fill at once must stay within 10 (the tests render the fullest alerts).
 */
const FIELD_ROWS: readonly FieldRow[] = [
  {
    label: 'Who',
    value: (alert) => {
      const id = alert.actor.arn ?? alert.actor.principalId;
      return [actorLabel(alert, (value) => code(value, 150)), id ? code(id, 600) : undefined].filter(Boolean).join('\n');
    },
  },
  { label: 'Session issuer & MFA', value: session },
  { label: 'When', value: (alert) => (alert.eventTime ? code(alert.eventTime, 100) : undefined) },
  { label: 'Burst', value: (alert) => (alert.storm ? stormLine(alert, (value) => code(value, 100)) : undefined) },
  { label: 'Account / region', value: (alert) => `${code(alert.accountId || 'unknown', 100)} / ${code(alert.awsRegion || 'unknown', 100)}` },
  { label: 'From IP', value: (alert) => (alert.sourceIPAddress ? code(alert.sourceIPAddress, 200) : undefined) },
  { label: 'User agent', value: (alert) => (alert.userAgent ? code(alert.userAgent, 600) : undefined) },
  { label: 'Outcome', value: outcome },
  {
    label: 'Resources',
    value: (alert, max) => {
      const total = Math.max(alert.storm?.resourceCount ?? 0, alert.resources.length);
      return total ? resourceList(alert.resources, total, max) : undefined;
    },
  },
];

function fields(alert: Alert): SlackMrkdwn[] {
  const shown = FIELD_ROWS.flatMap(({ label, value }) => {
    const heading = `*${escapeMrkdwn(label)}*\n`;
    const fact = value(alert, SLACK_LIMITS.fieldText - heading.length);
    return fact ? [{ type: 'mrkdwn' as const, text: fit(`${heading}${fact}`, SLACK_LIMITS.fieldText) }] : [];
  });
  return shown.slice(0, SLACK_LIMITS.fields);
}

function guidance(alert: Alert): string | undefined {
  const parts: string[] = [];
  if (alert.why) parts.push(`*Why it matters*\n${text(alert.why, 1000)}`);
  const steps = alert.nextSteps.slice(0, 8).map((step) => `• ${text(step, 300)}`);
  if (steps.length) parts.push(`*What to do next*\n${steps.join('\n')}`);
  return parts.length ? fit(parts.join('\n\n'), SLACK_LIMITS.sectionText) : undefined;
}

function context(alert: Alert): SlackMrkdwn[] {
  const otherEvents = alert.storm ? alert.storm.eventIds.filter((id) => id !== alert.eventId).length : 0;
  const elements = [
    `Rule ${code(alert.ruleId, 300)}`,
    `Call ${code(`${alert.eventSource} ${alert.eventName}`, 300)}`,
    alert.eventId ? `Event ${code(alert.eventId, 300)}${otherEvents ? ` and ${otherEvents} more (the JSON message lists every event ID)` : ''}` : undefined,
    alert.logFile ? `Log file ${code(alert.logFile, 1200)}` : undefined,
    `Seen via ${viaLine(alert)}`,
  ];
  return elements.filter((element): element is string => Boolean(element)).map((element) => ({ type: 'mrkdwn', text: element }));
}

// The links are built from record fields; a forged log file must not turn a button into a link
// to some other site, so only the AWS consoles' hosts are linked.
const CONSOLE_HOST = /(^|\.)console\.(aws\.amazon\.com|amazonaws-us-gov\.com|amazonaws\.cn)$/;

function isConsoleUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && CONSOLE_HOST.test(parsed.hostname) && !parsed.username && !parsed.password;
  } catch {
    return false;
  }
}

/** A link is only a button when Slack will accept it and it leads to an AWS console. */
function button(label: string, url: string | undefined, actionId: string): SlackLinkButton[] {
  if (!url || url.length > SLACK_LIMITS.buttonUrl || !isConsoleUrl(url)) return [];
  return [{ type: 'button', text: { type: 'plain_text', text: clipPlain(label, SLACK_LIMITS.buttonText) }, url, action_id: actionId }];
}

/**
 * The Slack incoming-webhook message for an alert: a header with the severity and title, the
 * one-sentence summary, the facts as fields, why it matters and what to do, the rule, event
 * and log file as context, and link buttons to the CloudTrail event and the console. Every
 * value taken from the record is escaped, and every text is cut to Slack's limits, so an
 * alert of any size renders to a message Slack accepts.
 */
export function renderSlackMessage(alert: Alert): SlackMessage {
  const summary = summarySentence(alert, (value) => code(value, 400));
  const failed = alert.outcome === 'failed' ? ' (attempt failed)' : '';
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', emoji: true, text: clipPlain(plain(`${SEVERITY_ICON[alert.severity] ?? ''} ${alert.severity.toUpperCase()}: ${alert.title}${failed}`), SLACK_LIMITS.headerText) },
    },
    { type: 'section', text: { type: 'mrkdwn', text: fit(summary, SLACK_LIMITS.sectionText) } },
  ];
  const facts = fields(alert);
  if (facts.length) blocks.push({ type: 'section', fields: facts });
  const why = guidance(alert);
  if (why) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: why } });
  blocks.push({ type: 'context', elements: context(alert) });
  const buttons = [...button('CloudTrail event', alert.links?.cloudTrail, 'open-cloudtrail-event'), ...button('Open in console', alert.links?.console, 'open-console')];
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons });
  return {
    text: fit(`${alert.severity.toUpperCase()}: ${summary}`, SLACK_LIMITS.fallbackText),
    blocks,
    // Console links would unfurl into login-page previews that bury the alert.
    unfurl_links: false,
    unfurl_media: false,
  };
}
