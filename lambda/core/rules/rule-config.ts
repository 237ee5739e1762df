import { ConfigError } from '../../errors';
import { JsonTextError, parseJsonText } from '../json-text';
import { SEVERITIES, type Severity } from '../types';
import { DEFAULT_RULES } from './rule-pack';

/** Default burst size above which alerts of one rule by one actor fold into one summary (`stormThreshold`). */
export const DEFAULT_STORM_THRESHOLD = 5;

const DEFAULT_RULE_IDS: readonly string[] = DEFAULT_RULES.map((rule) => rule.id);

/**
 * User configuration of the rule pack. One schema serves the Lambda (an environment variable
 * holding JSON), the CLI (`--config FILE`) and the CDK app (context `ruleConfig`).
 */
export interface RuleConfig {
  /** Rule ids to turn off. @default none */
  readonly disabledRules: readonly string[];
  /** New severities by rule id. @default none */
  readonly severityOverrides: Readonly<Record<string, Severity>>;
  /** Extra calls to alert on, beyond the default pack. @default none */
  readonly additionalEvents: readonly AdditionalEvent[];
  /** Alerts below this severity are dropped. @default 'low' */
  readonly minSeverity: Severity;
  /** Principal ARN globs (`*` any run of characters, `?` one) whose calls never alert. @default none */
  readonly ignorePrincipals: readonly string[];
  /** Whether failed calls (AccessDenied and other errors) alert too. @default true */
  readonly alertOnFailedCalls: boolean;
  /** More alerts than this of one rule by one actor in one log file fold into one summary; 0 turns folding off. @default 5 */
  readonly stormThreshold: number;
}

export interface AdditionalEvent {
  readonly eventSource: string;
  readonly eventName: string;
  readonly severity: Severity;
  readonly title?: string;
}

export const DEFAULT_RULE_CONFIG: RuleConfig = Object.freeze({
  disabledRules: [],
  severityOverrides: {},
  additionalEvents: [],
  minSeverity: 'low',
  ignorePrincipals: [],
  alertOnFailedCalls: true,
  stormThreshold: DEFAULT_STORM_THRESHOLD,
});

const KNOWN_KEYS = ['disabledRules', 'severityOverrides', 'additionalEvents', 'minSeverity', 'ignorePrincipals', 'alertOnFailedCalls', 'stormThreshold'];

/**
 * Validates a parsed configuration document and fills in defaults. `source` names where the
 * document came from (a variable, a file, a context key) so the error tells the user what to fix.
 * Unknown rule ids are rejected too: a typo in `disabledRules` would otherwise silently do nothing.
 */
export function parseRuleConfig(input: unknown, source: string, knownRuleIds: readonly string[] = DEFAULT_RULE_IDS): RuleConfig {
  const fail = (what: string): never => {
    throw new ConfigError(`${source}: ${what}. See "Configure rules" in the README for the schema.`);
  };
  if (input === undefined || input === null) return DEFAULT_RULE_CONFIG;
  if (typeof input !== 'object' || Array.isArray(input)) fail('expected a JSON object');
  const doc = input as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!KNOWN_KEYS.includes(key)) fail(`unknown key "${key}" (known keys: ${KNOWN_KEYS.join(', ')})`);
  }

  const isSeverity = (v: unknown): v is Severity => typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
  const severityHint = `one of ${SEVERITIES.join(', ')}`;
  const stringList = (key: string): string[] => {
    const value = doc[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
      return fail(`"${key}" must be a list of non-empty strings`);
    }
    return value as string[];
  };
  const checkRuleId = (key: string, id: string): void => {
    if (!knownRuleIds.includes(id)) fail(`"${key}" names unknown rule "${id}" (known rules: ${knownRuleIds.join(', ')})`);
  };

  const disabledRules = stringList('disabledRules');
  disabledRules.forEach((id) => checkRuleId('disabledRules', id));

  const severityOverrides: Record<string, Severity> = {};
  if (doc.severityOverrides !== undefined) {
    const raw = doc.severityOverrides;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('"severityOverrides" must be an object of rule id to severity');
    for (const [id, severity] of Object.entries(raw as Record<string, unknown>)) {
      checkRuleId('severityOverrides', id);
      if (!isSeverity(severity)) fail(`"severityOverrides.${id}" must be ${severityHint}`);
      severityOverrides[id] = severity as Severity;
    }
  }

  const additionalEvents: AdditionalEvent[] = [];
  if (doc.additionalEvents !== undefined) {
    if (!Array.isArray(doc.additionalEvents)) fail('"additionalEvents" must be a list of {eventSource, eventName, severity}');
    (doc.additionalEvents as unknown[]).forEach((entry, i) => {
      const where = `"additionalEvents[${i}]"`;
      if (typeof entry !== 'object' || entry === null) return fail(`${where} must be an object`);
      const { eventSource, eventName, severity, title } = entry as Record<string, unknown>;
      if (typeof eventSource !== 'string' || !/^[a-z0-9-]+\.amazonaws\.com$/.test(eventSource)) {
        fail(`${where}.eventSource must be a service host such as "acm.amazonaws.com"`);
      }
      if (typeof eventName !== 'string' || !/^[A-Za-z0-9]+$/.test(eventName)) fail(`${where}.eventName must be an API action name such as "AddTagsToCertificate"`);
      if (!isSeverity(severity)) fail(`${where}.severity must be ${severityHint}`);
      if (title !== undefined && typeof title !== 'string') fail(`${where}.title must be a string`);
      additionalEvents.push({ eventSource, eventName, severity, ...(title ? { title } : {}) } as AdditionalEvent);
    });
  }

  let minSeverity: Severity = 'low';
  if (doc.minSeverity !== undefined) {
    if (!isSeverity(doc.minSeverity)) fail(`"minSeverity" must be ${severityHint}`);
    minSeverity = doc.minSeverity as Severity;
  }

  let alertOnFailedCalls = true;
  if (doc.alertOnFailedCalls !== undefined) {
    if (typeof doc.alertOnFailedCalls !== 'boolean') fail('"alertOnFailedCalls" must be true or false');
    alertOnFailedCalls = doc.alertOnFailedCalls as boolean;
  }

  let stormThreshold = DEFAULT_STORM_THRESHOLD;
  if (doc.stormThreshold !== undefined) {
    if (!Number.isSafeInteger(doc.stormThreshold) || (doc.stormThreshold as number) < 0) fail('"stormThreshold" must be a whole number, 0 to turn folding off');
    stormThreshold = doc.stormThreshold as number;
  }

  return Object.freeze({
    disabledRules,
    severityOverrides,
    additionalEvents,
    minSeverity,
    ignorePrincipals: stringList('ignorePrincipals'),
    alertOnFailedCalls,
    stormThreshold,
  });
}

/** Parses configuration JSON text; `source` names the variable or file it came from. */
export function parseRuleConfigText(text: string | undefined, source: string, knownRuleIds: readonly string[] = DEFAULT_RULE_IDS): RuleConfig {
  if (text === undefined || text.trim() === '') return DEFAULT_RULE_CONFIG;
  let parsed: unknown;
  try {
    // Line and column, never the engine's message, which quotes the text (a configuration may sit beside secrets).
    parsed = parseJsonText(text).value;
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new ConfigError(`${source}: ${err.message} Fix the JSON or leave it empty for the defaults.`);
  }
  return parseRuleConfig(parsed, source, knownRuleIds);
}
