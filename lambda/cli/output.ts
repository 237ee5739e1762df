import { styleText } from 'node:util';
import { dedupeKey } from '../core/alerts/alert';
import { plural, summarySentence } from '../core/render/summary';
import { inertJson, plain, terminalSafe } from '../core/render/untrusted';
import type { Alert, Severity } from '../core/types';
import type { OutputFormat } from './args';

export { plural };

/** How a part of a line is shown where colour is on. */
export type Style = 'critical' | 'high' | 'medium' | 'low' | 'strong' | 'faint';

/** Part of a line: text, or text with a style. */
export type Segment = string | { readonly text: string; readonly style: Style };

type Format = Extract<Parameters<typeof styleText>[0], string>;

const FORMATS: Readonly<Record<Style, readonly Format[]>> = {
  critical: ['bold', 'red'],
  high: ['red'],
  medium: ['yellow'],
  low: ['cyan'],
  strong: ['bold'],
  faint: ['dim'],
};

const segmentText = (segment: Segment): string => (typeof segment === 'string' ? segment : segment.text);

/** Where CLI output goes; tests pass their own to read what a user would see. */
export interface Output {
  out(line: string): void;
  /** A line in parts, coloured where the output takes colour; without it, `out` gets the parts' text. */
  outStyled?(segments: readonly Segment[]): void;
  err(line: string): void;
  /** Rewrites one status line in place; only where a person watches (stderr is a terminal). */
  progress?(line: string): void;
}

/**
 * Colour, by Node's own rules (util.styleText checks the stream): on a terminal, unless NO_COLOR
 * or NODE_DISABLE_COLORS is set or TERM is dumb; anywhere with FORCE_COLOR. Each part is made
 * inert first, so the only escape sequences written are these.
 */
// One format per call: Node 20 checks the stream only for a single format, not for a list.
const paint = (stream: NodeJS.WriteStream, text: string, style: Style): string =>
  FORMATS[style].reduce((styled, format) => styleText(format, styled, { stream }), terminalSafe(text));

/** Our own prefixes of stderr lines, coloured like the severities they go with. */
const ERR_PREFIX = /^(error|note|skipped)(?=[: ])/;

/** The terminal: whatever a line holds, no control or escape sequence reaches it (see terminalSafe). */
export const processOutput: Output = {
  out: (line) => process.stdout.write(`${terminalSafe(line)}\n`),
  outStyled: (segments) =>
    process.stdout.write(`${segments.map((segment) => (typeof segment === 'string' ? terminalSafe(segment) : paint(process.stdout, segment.text, segment.style))).join('')}\n`),
  err: (line) => {
    const prefix = ERR_PREFIX.exec(line)?.[0];
    const rest = terminalSafe(prefix ? line.slice(prefix.length) : line);
    process.stderr.write(`${prefix ? paint(process.stderr, prefix, prefix === 'error' ? 'high' : 'medium') : ''}${rest}\n`);
  },
  // Carriage return and erase-line are the only control characters written, and only by us.
  ...(process.stderr.isTTY ? { progress: (line: string) => process.stderr.write(line ? `\r\u001b[2K${terminalSafe(line)}` : '\r\u001b[2K') } : {}),
};

/** One alert as lines of terminal text, in parts to colour: severity, rule, time and the sentence; then where it came from. */
export function alertSegments(alert: Alert): Segment[] {
  return [
    { text: alert.severity.toUpperCase().padEnd(8), style: alert.severity },
    ' ',
    { text: plain(alert.ruleId), style: 'strong' },
    `  ${plain(alert.eventTime)}\n         ${summarySentence(alert, plain)}\n`,
    { text: `         event ${plain(alert.eventId)}${alert.logFile ? `  in ${plain(alert.logFile)}` : ''}`, style: 'faint' },
  ];
}

/** One alert as lines of plain text (alertSegments without colour). */
export const alertLine = (alert: Alert): string => alertSegments(alert).map(segmentText).join('');

/** "3 alerts (1 critical, 2 high)". */
export function countAlerts(alerts: readonly Pick<Alert, 'severity'>[]): string {
  const bySeverity = new Map<Severity, number>();
  for (const alert of alerts) bySeverity.set(alert.severity, (bySeverity.get(alert.severity) ?? 0) + 1);
  const parts = (['critical', 'high', 'medium', 'low'] as const).filter((s) => bySeverity.has(s)).map((s) => `${bySeverity.get(s)} ${s}`);
  return `${plural(alerts.length, 'alert')}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/**
 * Prints alerts as `scan` does: text or one JSON object per line, each CloudTrail event once
 * (a file read twice, or one event in two files). `alerts` holds the severity of each printed,
 * for counts and --fail-on; an event's key is all that is kept of it beside.
 */
export function alertPrinter(format: OutputFormat, io: Output): { print(alert: Alert): void; readonly alerts: Pick<Alert, 'severity'>[] } {
  const seen = new Set<string>();
  const alerts: Pick<Alert, 'severity'>[] = [];
  return {
    alerts,
    print(alert) {
      const key = dedupeKey(alert);
      if (seen.has(key)) return;
      seen.add(key);
      alerts.push({ severity: alert.severity });
      if (format === 'json') io.out(inertJson(alert));
      else if (io.outStyled) io.outStyled(alertSegments(alert));
      else io.out(alertLine(alert));
    },
  };
}
