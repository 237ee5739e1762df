import { cut } from '../alerts/fields';
import { REDACTED } from '../alerts/redact';
import type { Alert } from '../types';
import { stormLine, summarySentence, viaLine } from './summary';
import { plain } from './untrusted';

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
  if (alert.actor.sessionIssuer) parts.push(`issued by ${plain(alert.actor.sessionIssuer)}`);
  if (alert.actor.mfa !== undefined) parts.push(`MFA ${alert.actor.mfa ? 'yes' : 'no'}`);
  if (alert.actor.invokedBy) parts.push(`invoked by ${plain(alert.actor.invokedBy)}`);
  return parts.length ? parts.join(', ') : undefined;
}

function describeDetails(details: Record<string, unknown>): string[] {
  return Object.entries(details)
    .filter(([field]) => !/Arn$/.test(field))
    .map(([field, value]) => `  ${plain(field)}: ${value === REDACTED ? REDACTED : plain(JSON.stringify(value) ?? 'null')}`)
    .map((line) => cut(line, 200));
}

/**
 * The plain-text email body: one sentence, the facts aligned for a fixed-width reader, what to
 * do next, then links. Every value from the record is redacted (when the alert was built) and
 * passes through `plain` here: one line, no controls, no live links, so no value can add a line
 * that reads as a field.
 */
export function renderEmail(alert: Alert): string {
  const lines = [
    summarySentence(alert, plain),
    '',
    ...fact('Severity', `${alert.severity.toUpperCase()}  (${plain(alert.ruleId)})`),
    ...fact('Alert', alert.outcome === 'failed' ? `${plain(alert.title)} (attempt failed)` : plain(alert.title)),
    ...fact('When', plain(alert.eventTime)),
    ...fact('Burst', stormLine(alert, plain)),
    ...fact('Who', plain(alert.actor.arn ?? alert.actor.principalId ?? alert.actor.type)),
    ...fact('Session', describeSession(alert)),
    ...fact('From', [alert.sourceIPAddress, alert.userAgent].filter((part): part is string => Boolean(part)).map(plain).join('  ') || undefined),
    ...fact('Call', `${plain(alert.eventSource)} ${plain(alert.eventName)} — ${alert.outcome}`),
    ...fact('Error', alert.errorCode ? [alert.errorCode, alert.errorMessage].filter((part): part is string => Boolean(part)).map(plain).join(': ') : undefined),
    ...alert.resources.flatMap((arn, i) => fact(i === 0 ? 'Resource' : '', plain(arn))),
    ...fact('Account', `${plain(alert.accountId)} / ${plain(alert.awsRegion)}`),
    ...fact('Seen via', viaLine(alert)),
  ];
  if (alert.storm) {
    const shown = alert.storm.eventIds.slice(0, 10);
    const rest = alert.storm.count - shown.length;
    lines.push('', `Event IDs${rest > 0 ? ` (first ${shown.length} of ${alert.storm.count}; the JSON message carries all)` : ''}:`, ...shown.map((id) => `  ${plain(id)}`));
  }
  const details = describeDetails(alert.details);
  if (details.length) lines.push('', 'Request parameters (secrets redacted):', ...details);
  lines.push('', 'Why this matters:', ...indented(alert.why));
  if (alert.nextSteps.length) lines.push('', 'What to do next:', ...alert.nextSteps.flatMap((step) => indented(step, '  - ', '    ')));
  lines.push('', 'Links:', `  CloudTrail event: ${alert.links.cloudTrail}`);
  if (alert.links.console) lines.push(`  Console:          ${alert.links.console}`);
  lines.push('', ...fact('Event ID', plain(alert.eventId)), ...fact('Log file', alert.logFile === undefined ? undefined : plain(alert.logFile)));
  return `${lines.join('\n')}\n`;
}
