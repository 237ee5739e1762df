import type { Alert, Severity } from '../types';
import { actorLabel, clip, stormLine, summarySentence } from './summary';

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

function markdownLine(label: string, value: string | undefined): string[] {
  return value ? [`*${label}:* ${value}`] : [];
}

/**
 * The chat card: severity in the title, the facts as markdown lines, next steps, and a thread
 * id per certificate so repeated alerts about one certificate thread together.
 */
export function renderChatNotification(alert: Alert): ChatNotification {
  const description = [
    summarySentence(alert),
    '',
    ...markdownLine('Who', `${actorLabel(alert)} \`${alert.actor.arn ?? alert.actor.principalId ?? 'unknown'}\``),
    ...markdownLine('Session issuer', alert.actor.sessionIssuer ? `\`${alert.actor.sessionIssuer}\`${alert.actor.mfa === undefined ? '' : `, MFA ${alert.actor.mfa ? 'yes' : 'no'}`}` : undefined),
    ...markdownLine('When', alert.eventTime),
    ...markdownLine('Burst', stormLine(alert)),
    ...markdownLine('From', [alert.sourceIPAddress, alert.userAgent ? `\`${clip(alert.userAgent, 120)}\`` : undefined].filter(Boolean).join(' ') || undefined),
    ...markdownLine('Error', alert.errorCode ? `${alert.errorCode}${alert.errorMessage ? ` — ${clip(alert.errorMessage, 300)}` : ''}` : undefined),
    ...alert.resources.slice(0, 5).flatMap((arn) => markdownLine('Resource', `\`${arn}\``)),
    ...markdownLine('Why it matters', alert.why),
    '',
    `<${alert.links.cloudTrail}|CloudTrail event>${alert.links.console ? ` · <${alert.links.console}|Open in console>` : ''}`,
  ].join('\n');
  return {
    version: '1.0',
    source: 'custom',
    id: alert.eventId,
    content: {
      textType: 'client-markdown',
      title: clip(`${SEVERITY_ICON[alert.severity]} ${alert.severity.toUpperCase()}: ${alert.title}${alert.outcome === 'failed' ? ' (attempt failed)' : ''}`, 250),
      description: clip(description, 8000),
      nextSteps: alert.nextSteps.map((step) => clip(step, 300)),
      keywords: [alert.severity, alert.eventName, alert.accountId, alert.awsRegion, alert.outcome],
    },
    metadata: {
      threadId: alert.resources[0] ?? alert.eventId,
      summary: clip(summarySentence(alert), 250),
      eventType: alert.ruleId,
      relatedResources: alert.resources.slice(0, 10),
      additionalContext: { eventId: alert.eventId, accountId: alert.accountId, region: alert.awsRegion },
    },
  };
}
