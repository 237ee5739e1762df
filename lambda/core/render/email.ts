import { REDACTED } from '../alerts/redact';
import type { Alert } from '../types';
import { stormLine, summarySentence } from './summary';

const LABEL_WIDTH = 12;
const LINE_WIDTH = 100;

/** Wraps text at spaces to `width` columns; a single word longer than that (an ARN, a URL) stays whole. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** "Label       value", continued lines indented under the value, for fixed-width reading. */
function fact(label: string, value: string | undefined): string[] {
  if (!value) return [];
  return wrap(value, LINE_WIDTH - LABEL_WIDTH).map((line, i) => `${(i === 0 ? label : '').padEnd(LABEL_WIDTH)}${line}`);
}

const indented = (text: string, prefix = '  ', rest = '  '): string[] => wrap(text, LINE_WIDTH - prefix.length).map((line, i) => `${i === 0 ? prefix : rest}${line}`);

function describeSession(alert: Alert): string | undefined {
  const parts: string[] = [];
  if (alert.actor.sessionIssuer) parts.push(`issued by ${alert.actor.sessionIssuer}`);
  if (alert.actor.mfa !== undefined) parts.push(`MFA ${alert.actor.mfa ? 'yes' : 'no'}`);
  if (alert.actor.invokedBy) parts.push(`invoked by ${alert.actor.invokedBy}`);
  return parts.length ? parts.join(', ') : undefined;
}

function describeDetails(details: Record<string, unknown>): string[] {
  return Object.entries(details)
    .filter(([field]) => !/Arn$/.test(field))
    .map(([field, value]) => `  ${field}: ${value === REDACTED ? REDACTED : JSON.stringify(value)}`)
    .map((line) => (line.length > 200 ? `${line.slice(0, 197)}...` : line));
}

/**
 * The plain-text email body: one sentence, the facts aligned for a fixed-width reader, what to
 * do next, then links. Nothing here comes from the record unredacted.
 */
export function renderEmail(alert: Alert): string {
  const lines = [
    summarySentence(alert),
    '',
    ...fact('Severity', `${alert.severity.toUpperCase()}  (${alert.ruleId})`),
    ...fact('Alert', alert.outcome === 'failed' ? `${alert.title} (attempt failed)` : alert.title),
    ...fact('When', alert.eventTime),
    ...fact('Burst', stormLine(alert)),
    ...fact('Who', alert.actor.arn ?? alert.actor.principalId ?? alert.actor.type),
    ...fact('Session', describeSession(alert)),
    ...fact('From', [alert.sourceIPAddress, alert.userAgent].filter(Boolean).join('  ') || undefined),
    ...fact('Call', `${alert.eventSource} ${alert.eventName} — ${alert.outcome}`),
    ...fact('Error', alert.errorCode ? [alert.errorCode, alert.errorMessage].filter(Boolean).join(': ') : undefined),
    ...alert.resources.flatMap((arn, i) => fact(i === 0 ? 'Resource' : '', arn)),
    ...fact('Account', `${alert.accountId} / ${alert.awsRegion}`),
  ];
  if (alert.storm) {
    const shown = alert.storm.eventIds.slice(0, 10);
    const rest = alert.storm.count - shown.length;
    lines.push('', `Event IDs${rest > 0 ? ` (first ${shown.length} of ${alert.storm.count}; the JSON message carries all)` : ''}:`, ...shown.map((id) => `  ${id}`));
  }
  const details = describeDetails(alert.details);
  if (details.length) lines.push('', 'Request parameters (secrets redacted):', ...details);
  lines.push('', 'Why this matters:', ...indented(alert.why));
  if (alert.nextSteps.length) lines.push('', 'What to do next:', ...alert.nextSteps.flatMap((step) => indented(step, '  - ', '    ')));
  lines.push('', 'Links:', `  CloudTrail event: ${alert.links.cloudTrail}`);
  if (alert.links.console) lines.push(`  Console:          ${alert.links.console}`);
  lines.push('', ...fact('Event ID', alert.eventId), ...fact('Log file', alert.logFile));
  return `${lines.join('\n')}\n`;
}
