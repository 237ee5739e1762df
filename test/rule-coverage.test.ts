/**
 * Every operation of the ACM and ACM Private CA APIs, as the AWS SDK clients list them, is either
 * watched by a default rule or named in NOT_ALERTING with its reason. When a new SDK version
 * brings an operation, this test fails until someone decides which list it belongs to.
 */
import * as acm from '@aws-sdk/client-acm';
import * as acmPca from '@aws-sdk/client-acm-pca';
import { readFileSync } from 'node:fs';
import { NOT_ALERTING } from '../lambda/core/rules/not-alerting';
import { DEFAULT_RULES, type AlertRule } from '../lambda/core/rules/rule-pack';
import { ACM_EVENT_SOURCE, ACM_PCA_EVENT_SOURCE } from '../lambda/core/types';
import { README, ruleTables, withRuleTables } from '../scripts/rule-docs';

/** The operations a generated SDK client exports, one `<Operation>Command` class each. */
const operationsOf = (client: object): string[] =>
  Object.keys(client).filter((name) => /^[A-Z][A-Za-z0-9]*Command$/.test(name)).map((name) => name.slice(0, -'Command'.length)).sort();

const API: ReadonlyArray<[eventSource: string, operations: string[]]> = [
  [ACM_EVENT_SOURCE, operationsOf(acm)],
  [ACM_PCA_EVENT_SOURCE, operationsOf(acmPca)],
];

/** Operations in neither list, as `source Operation`. */
function unclassified(rules: readonly AlertRule[], quiet: typeof NOT_ALERTING): string[] {
  return API.flatMap(([source, operations]) =>
    operations.filter((op) => !rules.some((rule) => rule.eventSource === source && rule.eventNames.includes(op)) && !Object.hasOwn(quiet[source] ?? {}, op)).map((op) => `${source} ${op}`));
}

describe('rule coverage of the ACM and ACM Private CA APIs', () => {
  it('reads the operation lists from the SDK clients (40 ACM and 23 ACM PCA commands or more)', () => {
    const [[, acmOps], [, pcaOps]] = API as [[string, string[]], [string, string[]]];
    expect(acmOps.length).toBeGreaterThanOrEqual(40);
    expect(pcaOps.length).toBeGreaterThanOrEqual(23);
    expect(acmOps).toEqual(expect.arrayContaining(['GetAcmeExternalAccountBindingCredentials', 'ExportCertificate', 'RevokeAcmeAccount']));
  });

  it('classifies every operation: a default rule or NOT_ALERTING with a reason', () => {
    expect(unclassified(DEFAULT_RULES, NOT_ALERTING)).toEqual([]);
  });

  it('fails for an operation that is removed from both lists', () => {
    const rules = DEFAULT_RULES.map((rule) => (rule.id === 'acm-get-acme-eab-credentials' ? { ...rule, eventNames: [] } : rule));
    const { DescribeAcmeEndpoint: _removed, ...quietAcm } = NOT_ALERTING[ACM_EVENT_SOURCE]!;
    expect(unclassified(rules, { ...NOT_ALERTING, [ACM_EVENT_SOURCE]: quietAcm })).toEqual([
      `${ACM_EVENT_SOURCE} DescribeAcmeEndpoint`,
      `${ACM_EVENT_SOURCE} GetAcmeExternalAccountBindingCredentials`,
    ]);
  });

  it('puts no operation in both lists, names only operations the API has, and gives every exception a reason', () => {
    for (const [source, operations] of API) {
      const quiet = Object.entries(NOT_ALERTING[source] ?? {});
      expect(quiet.filter(([op]) => !operations.includes(op))).toEqual([]);
      expect(quiet.filter(([op]) => DEFAULT_RULES.some((rule) => rule.eventSource === source && (rule.eventNames as readonly string[]).includes(op)))).toEqual([]);
      expect(quiet.filter(([, reason]) => reason.trim().length < 10)).toEqual([]);
      const ruled = DEFAULT_RULES.filter((rule) => rule.eventSource === source).flatMap((rule) => rule.eventNames);
      expect(ruled.filter((op) => !operations.includes(op))).toEqual([]);
    }
  });

  it('keeps the README rule tables as the pack generates them (run `npm run docs:rules` after changing the pack)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(withRuleTables(readme)).toBe(readme);
    for (const rule of DEFAULT_RULES) expect(ruleTables()).toContain(`| \`${rule.id}\` |`);
  });
});
