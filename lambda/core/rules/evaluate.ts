/**
 * Room `rules/`: records in, verdicts out. rule-pack.ts holds the default rules as data,
 * rule-config.ts the user's configuration of them, glob.ts the principal globs; this file
 * builds the engine that decides, for one record, which rule (if any) it trips.
 */
import { severityRank, type CloudTrailRecord, type Severity } from '../types';
import { compileGlob } from './glob';
import type { RuleConfig } from './rule-config';
import { DEFAULT_RULES, type AlertRule, type RuleCondition } from './rule-pack';

/** A rule as it applies after configuration: severity overrides folded in. */
export interface EffectiveRule extends AlertRule {
  readonly severity: Severity;
}

/** Why a watched record produced no alert; `undefined` from `evaluate` means "not a rule's call at all". */
export type Verdict =
  | { readonly alert: true; readonly rule: EffectiveRule }
  | { readonly alert: false; readonly reason: 'failed-call' | 'ignored-principal' | 'below-min-severity' | 'condition-not-met' };

/** The rule pack with a configuration applied, ready to evaluate records. */
export interface RuleEngine {
  evaluate(record: CloudTrailRecord): Verdict | undefined;
  readonly rules: readonly EffectiveRule[];
}

const key = (eventSource: string, eventName: string): string => `${eventSource} ${eventName}`;

function valueAt(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

type RecordTest = (record: CloudTrailRecord) => boolean;

/** One test for all of a rule's conditions; globs are compiled once, here. */
function compileConditions(conditions: readonly RuleCondition[] | undefined): RecordTest {
  const tests = (conditions ?? []).map((condition): RecordTest => {
    if ('equals' in condition) return (record) => valueAt(record, condition.path) === condition.equals;
    const globs = condition.matches.map(compileGlob);
    return (record) => {
      const value = valueAt(record, condition.path);
      return typeof value === 'string' && globs.some((matches) => matches(value));
    };
  });
  return (record) => tests.every((test) => test(record));
}

function additionalRule(event: RuleConfig['additionalEvents'][number]): EffectiveRule {
  const service = event.eventSource.split('.')[0];
  return {
    id: `custom-${service}-${event.eventName}`.toLowerCase(),
    eventSource: event.eventSource,
    eventNames: [event.eventName],
    severity: event.severity,
    title: event.title ?? `${event.eventName} called`,
    action: `called ${event.eventName} on`,
    why: 'This call is on the list of additional events configured for acm-sentinel.',
    nextSteps: ['Confirm with the actor that the call was expected and authorized.'],
  };
}

/**
 * Builds the rule engine: the default pack minus disabled rules, with severity overrides and
 * additional events, then the filters (failed calls, ignored principals, minimum severity).
 * Rules are indexed by event source and name together, so a lookup is one map access.
 */
export function createRuleEngine(config: RuleConfig, baseRules: readonly AlertRule[] = DEFAULT_RULES): RuleEngine {
  const rules: EffectiveRule[] = [
    ...baseRules
      .filter((rule) => !config.disabledRules.includes(rule.id))
      .map((rule) => ({ ...rule, severity: config.severityOverrides[rule.id] ?? rule.severity })),
    ...config.additionalEvents.map(additionalRule),
  ];
  const index = new Map<string, Array<{ rule: EffectiveRule; holds: RecordTest }>>();
  for (const rule of rules) {
    const holds = compileConditions(rule.when);
    for (const eventName of rule.eventNames) {
      const list = index.get(key(rule.eventSource, eventName)) ?? [];
      list.push({ rule, holds });
      index.set(key(rule.eventSource, eventName), list);
    }
  }
  const ignored = config.ignorePrincipals.map(compileGlob);
  const minRank = severityRank(config.minSeverity);

  return {
    rules,
    evaluate(record) {
      const candidates = index.get(key(record.eventSource, record.eventName));
      if (!candidates) return undefined;
      const rule = candidates.find((candidate) => candidate.holds(record))?.rule;
      if (!rule) return { alert: false, reason: 'condition-not-met' };
      if (record.errorCode && !config.alertOnFailedCalls) return { alert: false, reason: 'failed-call' };
      const identity = record.userIdentity;
      const principals = [identity?.arn, identity?.sessionContext?.sessionIssuer?.arn].filter((arn): arn is string => !!arn);
      if (principals.some((arn) => ignored.some((matches) => matches(arn)))) return { alert: false, reason: 'ignored-principal' };
      if (severityRank(rule.severity) < minRank) return { alert: false, reason: 'below-min-severity' };
      return { alert: true, rule };
    },
  };
}
