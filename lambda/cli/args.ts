import { readFile } from 'node:fs/promises';
import { parseRuleConfigText, type RuleConfig } from '../core/rules/rule-config';
import { SEVERITIES, severityRank, type Alert, type Severity } from '../core/types';

/** A mistake in how the command was called: exit code 2 and the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OutputFormat = 'text' | 'json';

export function parseFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'text' || value === 'json') return value ?? 'text';
  throw new UsageError(`--format must be "text" or "json" (got "${value}")`);
}

/** Loads `--config FILE`, validated against the same schema the Lambda uses. */
export async function loadRuleConfigFile(file: string | undefined): Promise<RuleConfig> {
  if (file === undefined) return parseRuleConfigText(undefined, 'defaults');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseRuleConfigText(text, file);
}

/** `--fail-on SEVERITY`: the lowest severity that makes the scan exit 3. */
export function parseFailOn(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  const severity = value.toLowerCase();
  if (!(SEVERITIES as readonly string[]).includes(severity)) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(', ')} (got "${value}")`);
  return severity as Severity;
}

/** Exit code 3 when any alert is at or above `failOn`, else `code`; an unreadable input (1) wins. */
export function withFailOn(code: number, alerts: readonly Pick<Alert, 'severity'>[], failOn: Severity | undefined): number {
  if (code !== 0 || !failOn) return code;
  return alerts.some((alert) => severityRank(alert.severity) >= severityRank(failOn)) ? 3 : 0;
}
