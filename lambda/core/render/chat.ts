import type { Alert, Severity } from '../types';
import { actorLabel, clip, stormLine, summarySentence, viaLine } from './summary';
import { escapeMrkdwn, fitMrkdwn, joinWithin, mrkdwnCode as code, plain } from './untrusted';

/** An Amazon Q Developer in chat applications (AWS Chatbot) custom notification. */
export interface ChatNotification {
  version: '1.0';
  source: 'custom';
  id: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    relatedResources: string[];
    additionalContext: Record<string, string>;
  };
}

const SEVERITY_ICON: Record<Severity, string> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_blue_circle:',
};

// The card's description limit, with room to spare under Amazon Q Developer's.
const DESCRIPTION_MAX = 8000;
// No one line may crowd out the others (a forged value of thousands of invisible characters).
const LINE_MAX = 1500;

function markdownLine(label: string, value: string | undefined): string[] {
  return value ? [`*${label}:* ${value}`] : [];
}

/** Plain text for the card's non-markdown fields (metadata): inert, escaped, short. */
const field = (value: string, max: number): string => fitMrkdwn(escapeMrkdwn(plain(value)), max);

/**
 * The chat card: severity in the title, the facts as markdown lines, next steps, and a thread
 * id per certificate so repeated alerts about one certificate thread together. The card is
 * Slack mrkdwn: every value from the record sits in an inline code span (`code`), where it can
 * add no mention, link, formatting or line, and cannot close the span.
 */
export function renderChatNotification(alert: Alert): ChatNotification {
  const session = alert.actor.sessionIssuer ? `${code(alert.actor.sessionIssuer)}${alert.actor.mfa === undefined ? '' : `, MFA ${alert.actor.mfa ? 'yes' : 'no'}`}` : undefined;
  const from = [alert.sourceIPAddress ? code(alert.sourceIPAddress) : undefined, alert.userAgent ? code(clip(alert.userAgent, 120)) : undefined].filter(Boolean).join(' ');
  const error = alert.errorCode ? `${code(alert.errorCode)}${alert.errorMessage ? ` — ${code(clip(alert.errorMessage, 300))}` : ''}` : undefined;
  const description = joinWithin([
    fitMrkdwn(summarySentence(alert, code), 1000),
    '',
    ...markdownLine('Who', `${actorLabel(alert, code)} ${code(alert.actor.arn ?? alert.actor.principalId ?? 'unknown')}`),
    ...markdownLine('Session issuer', session),
    ...markdownLine('When', code(alert.eventTime)),
    ...markdownLine('Burst', stormLine(alert, code)),
    ...markdownLine('From', from || undefined),
    ...markdownLine('Error', error),
    ...alert.resources.slice(0, 5).flatMap((arn) => markdownLine('Resource', code(clip(arn, 600)))),
    ...markdownLine('Seen via', escapeMrkdwn(viaLine(alert))),
    ...markdownLine('Why it matters', escapeMrkdwn(alert.why)),
    '',
    `<${alert.links.cloudTrail}|CloudTrail event>${alert.links.console ? ` · <${alert.links.console}|Open in console>` : ''}`,
  ].map((line) => fitMrkdwn(line, LINE_MAX)), DESCRIPTION_MAX);
  return {
    version: '1.0',
    source: 'custom',
    id: alert.eventId,
    content: {
      textType: 'client-markdown',
      title: fitMrkdwn(`${SEVERITY_ICON[alert.severity]} ${alert.severity.toUpperCase()}: ${escapeMrkdwn(plain(alert.title))}${alert.outcome === 'failed' ? ' (attempt failed)' : ''}`, 250),
      description,
      nextSteps: alert.nextSteps.map((step) => fitMrkdwn(escapeMrkdwn(plain(step)), 300)),
      keywords: [alert.severity, alert.eventName, alert.accountId, alert.awsRegion, alert.outcome].map((keyword) => field(keyword, 64)),
    },
    metadata: {
      threadId: field(alert.resources[0] ?? alert.eventId, 256),
      summary: fitMrkdwn(summarySentence(alert, code), 250),
      eventType: field(alert.ruleId, 128),
      relatedResources: alert.resources.slice(0, 10).map((arn) => field(arn, 256)),
      additionalContext: { eventId: field(alert.eventId, 128), accountId: field(alert.accountId, 64), region: field(alert.awsRegion, 64) },
    },
  };
}
