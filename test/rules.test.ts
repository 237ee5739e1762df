import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG, parseRuleConfig } from '../lambda/core/rules/rule-config';
import { DEFAULT_RULES } from '../lambda/core/rules/rule-pack';
import { alertsFor, readFixture, record, recordFixtureNames } from './support';

/** Every sample record in events/records and the alert it must raise (null: none). */
const EXPECTED: Record<string, [ruleId: string, severity: string, outcome: string] | null> = {
  'acm-add-tags-to-certificate.json': null,
  'acm-delete-certificate.json': ['acm-delete-certificate', 'high', 'succeeded'],
  'acm-describe-certificate.json': null,
  'acm-export-certificate.denied.json': ['acm-export-certificate', 'critical', 'failed'],
  'acm-export-certificate.eventbridge-example.json': ['acm-export-certificate', 'critical', 'succeeded'],
  'acm-export-certificate.eventbridge.json': ['acm-export-certificate', 'critical', 'succeeded'],
  'acm-export-certificate.hidden.json': ['acm-export-certificate', 'critical', 'succeeded'],
  'acm-get-certificate.json': null,
  'acm-import-certificate.bare.json': ['acm-import-certificate', 'high', 'succeeded'],
  'acm-list-certificates.json': null,
  'acm-list-tags-for-certificate.json': null,
  'acm-pca-create-permission.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-delete-certificate-authority.json': ['acm-pca-delete-certificate-authority', 'critical', 'succeeded'],
  'acm-pca-delete-permission.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-delete-policy.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-import-certificate-authority-certificate.json': ['acm-pca-import-ca-certificate', 'high', 'succeeded'],
  'acm-pca-put-policy.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-restore-certificate-authority.json': ['acm-pca-restore-certificate-authority', 'medium', 'succeeded'],
  'acm-pca-revoke-certificate.json': ['acm-pca-revoke-certificate', 'high', 'succeeded'],
  'acm-pca-update-certificate-authority.json': ['acm-pca-update-certificate-authority', 'high', 'succeeded'],
  'acm-put-account-configuration.json': ['acm-put-account-configuration', 'low', 'succeeded'],
  'acm-remove-tags-from-certificate.json': ['acm-remove-tags', 'low', 'succeeded'],
  'acm-renew-certificate.json': ['acm-renew-certificate', 'low', 'succeeded'],
  'acm-request-certificate.exportable.json': ['acm-request-exportable-certificate', 'medium', 'succeeded'],
  'acm-request-certificate.json': null,
  'acm-resend-validation-email.json': ['acm-resend-validation-email', 'low', 'succeeded'],
  'acm-revoke-certificate.json': ['acm-revoke-certificate', 'high', 'succeeded'],
  'acm-untag-resource.json': ['acm-remove-tags', 'low', 'succeeded'],
  'acm-update-certificate-options.json': ['acm-update-certificate-options', 'medium', 'succeeded'],
};

describe('default rule pack', () => {
  it('has an expectation for every sample record, and a sample record for every rule', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(recordFixtureNames());
    const covered = new Set(Object.values(EXPECTED).flatMap((expected) => (expected ? [expected[0]] : [])));
    expect(DEFAULT_RULES.map((rule) => rule.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it.each(Object.entries(EXPECTED))('%s raises %j', async (name, expected) => {
    const alerts = await alertsFor(readFixture(name));
    expect(alerts.map((alert) => [alert.ruleId, alert.severity, alert.outcome])).toEqual(expected ? [expected] : []);
  });

  it.each(['DescribeCertificate', 'GetCertificate', 'ListCertificates', 'ListTagsForCertificate', 'GetAccountConfiguration', 'SearchCertificates'])(
    'never alerts on the read-only call %s',
    async (eventName) => {
      expect(await alertsFor({ Records: [record({ eventName })] })).toEqual([]);
    },
  );

  it('matches on event source and name together: IoT DeleteCertificate does not alert', async () => {
    expect(await alertsFor({ Records: [record({ eventSource: 'iot.amazonaws.com', eventName: 'DeleteCertificate' })] })).toEqual([]);
  });

  it('keeps ACM RevokeCertificate and ACM PCA RevokeCertificate apart', async () => {
    const alerts = await alertsFor({
      Records: [record({ eventName: 'RevokeCertificate' }), record({ eventSource: 'acm-pca.amazonaws.com', eventName: 'RevokeCertificate', eventID: 'other' })],
    });
    expect(alerts.map((alert) => alert.ruleId)).toEqual(['acm-revoke-certificate', 'acm-pca-revoke-certificate']);
  });

  it('alerts on RequestCertificate only when it asks for an exportable certificate', async () => {
    const request = (options: unknown) => record({ eventName: 'RequestCertificate', requestParameters: { domainName: 'example.com', options } });
    expect(await alertsFor({ Records: [request({ export: 'DISABLED' })] })).toEqual([]);
    expect(await alertsFor({ Records: [request(undefined)] })).toEqual([]);
    expect((await alertsFor({ Records: [request({ export: 'ENABLED' })] })).map((a) => a.ruleId)).toEqual(['acm-request-exportable-certificate']);
  });

  it('alerts on a denied ExportCertificate with the rule severity and outcome "failed"', async () => {
    const [alert] = await alertsFor(readFixture('acm-export-certificate.denied.json'));
    expect(alert).toMatchObject({ severity: 'critical', outcome: 'failed', errorCode: 'AccessDenied' });
    expect(alert!.actor).toMatchObject({ type: 'AssumedRole', sessionIssuer: expect.stringContaining(':role/') });
  });

  it('treats a record with requestParameters null as an ordinary record', async () => {
    const alerts = await alertsFor({ Records: [record({ eventName: 'PutAccountConfiguration', requestParameters: null })] });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toEqual({});
  });
});

describe('rule configuration', () => {
  const exportRecord = record({ eventName: 'ExportCertificate', requestParameters: { certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/x', passphrase: 'HIDDEN_DUE_TO_SECURITY_REASONS' } });

  it('disables rules by id', async () => {
    const config = parseRuleConfig({ disabledRules: ['acm-export-certificate'] }, 'test');
    expect(await alertsFor({ Records: [exportRecord] }, config)).toEqual([]);
  });

  it('overrides severities', async () => {
    const config = parseRuleConfig({ severityOverrides: { 'acm-delete-certificate': 'critical' } }, 'test');
    expect((await alertsFor({ Records: [record()] }, config))[0]!.severity).toBe('critical');
  });

  it('adds event names as extra rules', async () => {
    const config = parseRuleConfig({ additionalEvents: [{ eventSource: 'acm.amazonaws.com', eventName: 'AddTagsToCertificate', severity: 'low' }] }, 'test');
    const alerts = await alertsFor(readFixture('acm-add-tags-to-certificate.json'), config);
    expect(alerts.map((alert) => [alert.ruleId, alert.severity, alert.title])).toEqual([['custom-acm-addtagstocertificate', 'low', 'AddTagsToCertificate called']]);
  });

  it('drops alerts below the minimum severity', async () => {
    const config = parseRuleConfig({ minSeverity: 'critical' }, 'test');
    expect(await alertsFor({ Records: [record(), exportRecord] }, config)).toEqual([expect.objectContaining({ ruleId: 'acm-export-certificate' })]);
  });

  it('ignores principals by ARN glob, matching the assumed role or its issuing role', async () => {
    const bySession = parseRuleConfig({ ignorePrincipals: ['arn:aws:sts::*:assumed-role/Admin/*'] }, 'test');
    const byIssuer = parseRuleConfig({ ignorePrincipals: ['arn:aws:iam::111122223333:role/Adm?n'] }, 'test');
    const other = parseRuleConfig({ ignorePrincipals: ['arn:aws:iam::111122223333:role/Deploy'] }, 'test');
    expect(await alertsFor({ Records: [record()] }, bySession)).toEqual([]);
    expect(await alertsFor({ Records: [record()] }, byIssuer)).toEqual([]);
    expect(await alertsFor({ Records: [record()] }, other)).toHaveLength(1);
  });

  it('can stop alerting on failed calls', async () => {
    const config = parseRuleConfig({ alertOnFailedCalls: false }, 'test');
    expect(await alertsFor(readFixture('acm-export-certificate.denied.json'), config)).toEqual([]);
    expect(createRuleEngine(config).evaluate(record({ errorCode: 'AccessDenied' }))).toEqual({ alert: false, reason: 'failed-call' });
  });

  it('uses the defaults when nothing is configured', () => {
    expect(parseRuleConfig(undefined, 'test')).toBe(DEFAULT_RULE_CONFIG);
  });

  it.each([
    [[], 'expected a JSON object'],
    [{ disabledRules: ['acm-export-certificat'] }, 'names unknown rule "acm-export-certificat"'],
    [{ severityOverrides: { 'acm-delete-certificate': 'severe' } }, '"severityOverrides.acm-delete-certificate" must be one of low, medium, high, critical'],
    [{ minSeverity: 'urgent' }, '"minSeverity" must be one of'],
    [{ ignorePrincipals: 'arn:aws:iam::1:role/x' }, '"ignorePrincipals" must be a list of non-empty strings'],
    [{ alertOnFailedCalls: 'no' }, '"alertOnFailedCalls" must be true or false'],
    [{ additionalEvents: [{ eventSource: 'acm', eventName: 'X', severity: 'low' }] }, 'additionalEvents[0]".eventSource must be a service host'],
    [{ colour: 'red' }, 'unknown key "colour"'],
  ])('rejects %j with an error that names the problem', (input, message) => {
    expect(() => parseRuleConfig(input, 'ACM_SENTINEL_CONFIG')).toThrow(message);
    expect(() => parseRuleConfig(input, 'ACM_SENTINEL_CONFIG')).toThrow(/^ACM_SENTINEL_CONFIG: .*README/);
  });
});
