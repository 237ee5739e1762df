import { dedupeKey } from '../core/alerts/alert';
import { plural, summarySentence } from '../core/render/summary';
import { inertJson, plain, terminalSafe } from '../core/render/untrusted';
import type { Alert, Severity } from '../core/types';
import type { OutputFormat } from './args';

export { plural };

/** Where CLI output goes; tests pass their own to read what a user would see. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Rewrites one status line in place; only where a person watches (stderr is a terminal). */
  progress?(line: string): void;
}

/** The terminal: whatever a line holds, no control or escape sequence reaches it (see terminalSafe). */
export const processOutput: Output = {
  out: (line) => process.stdout.write(`${terminalSafe(line)}\n`),
  err: (line) => process.stderr.write(`${terminalSafe(line)}\n`),
  // Carriage return and erase-line are the only control characters written, and only by us.
  ...(process.stderr.isTTY ? { progress: (line: string) => process.stderr.write(line ? `\r\u001b[2K${terminalSafe(line)}` : '\r\u001b[2K') } : {}),
};

/** One alert as two lines of terminal text: severity, rule, time and the sentence; then where it came from. */
export function alertLine(alert: Alert): string {
  const head = `${alert.severity.toUpperCase().padEnd(8)} ${plain(alert.ruleId)}  ${plain(alert.eventTime)}`;
  return `${head}\n         ${summarySentence(alert, plain)}\n         event ${plain(alert.eventId)}${alert.logFile ? `  in ${plain(alert.logFile)}` : ''}`;
}

/** "3 alerts (1 critical, 2 high)". */
export function countAlerts(alerts: readonly Pick<Alert, 'severity'>[]): string {
  const bySeverity = new Map<Severity, number>();
  for (const alert of alerts) bySeverity.set(alert.severity, (bySeverity.get(alert.severity) ?? 0) + 1);
  const parts = (['critical', 'high', 'medium', 'low'] as const).filter((s) => bySeverity.has(s)).map((s) => `${bySeverity.get(s)} ${s}`);
  return `${plural(alerts.length, 'alert')}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/**
 * Prints alerts as `scan` does: text or one JSON object per line, each CloudTrail event once
 * (a file read twice, or one event in two files). `alerts` holds what was printed.
 */
export function alertPrinter(format: OutputFormat, io: Output): { print(alert: Alert): void; readonly alerts: Alert[] } {
  const seen = new Set<string>();
  const alerts: Alert[] = [];
  return {
    alerts,
    print(alert) {
      const key = dedupeKey(alert);
      if (seen.has(key)) return;
      seen.add(key);
      alerts.push(alert);
      io.out(format === 'json' ? inertJson(alert) : alertLine(alert));
    },
  };
}
