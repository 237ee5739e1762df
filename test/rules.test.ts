import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG, parseRuleConfig } from '../lambda/core/rules/rule-config';
import { DEFAULT_RULES } from '../lambda/core/rules/rule-pack';
import { alertsFor, readFixture, record, recordFixtureNames } from './support';

/** Every sample record in events/records and the alert it must raise (null: none). */
const EXPECTED: Record<string, [ruleId: string, severity: string, outcome: string] | null> = {
  'acm-add-tags-to-certificate.json': ['acm-add-tags', 'low', 'succeeded'],
  'acm-create-acme-domain-validation.json': ['acm-acme-domain-validation-change', 'high', 'succeeded'],
  'acm-create-acme-endpoint.json': ['acm-acme-endpoint-change', 'medium', 'succeeded'],
  'acm-create-acme-external-account-binding.json': ['acm-create-acme-eab', 'high', 'succeeded'],
  'acm-delete-acme-domain-validation.json': ['acm-acme-access-revoked', 'medium', 'succeeded'],
  'acm-delete-acme-endpoint.json': ['acm-delete-acme-endpoint', 'high', 'succeeded'],
  'acm-delete-acme-external-account-binding.json': ['acm-acme-access-revoked', 'medium', 'succeeded'],
  'acm-delete-certificate.json': ['acm-delete-certificate', 'high', 'succeeded'],
  'acm-describe-acme-external-account-binding.json': null,
  'acm-describe-certificate.json': null,
  'acm-export-certificate.denied.json': ['acm-export-certificate', 'critical', 'failed'],
  'acm-export-certificate.eventbridge-example.json': ['acm-export-certificate', 'critical', 'succeeded'],
  'acm-export-certificate.eventbridge.json': ['acm-export-certificate', 'critical', 'succeeded'],
  'acm-export-certificate.hidden.json': ['acm-export-certificate', 'critical', 'succeeded'],
  'acm-get-acme-external-account-binding-credentials.cleartext.json': ['acm-get-acme-eab-credentials', 'critical', 'succeeded'],
  'acm-get-acme-external-account-binding-credentials.denied.json': ['acm-get-acme-eab-credentials', 'critical', 'failed'],
  'acm-get-acme-external-account-binding-credentials.json': ['acm-get-acme-eab-credentials', 'critical', 'succeeded'],
  'acm-get-certificate.json': null,
  'acm-import-certificate.bare.json': ['acm-import-certificate', 'high', 'succeeded'],
  'acm-list-certificates.json': null,
  'acm-list-tags-for-certificate.json': null,
  'acm-pca-create-certificate-authority.json': ['acm-pca-create-certificate-authority', 'medium', 'succeeded'],
  'acm-pca-create-permission.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-delete-certificate-authority.json': ['acm-pca-delete-certificate-authority', 'critical', 'succeeded'],
  'acm-pca-delete-permission.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-delete-policy.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-import-certificate-authority-certificate.json': ['acm-pca-import-ca-certificate', 'high', 'succeeded'],
  'acm-pca-issue-certificate.default-template.json': null,
  'acm-pca-issue-certificate.json': null,
  'acm-pca-issue-certificate.passthrough.json': ['acm-pca-issue-ca-certificate', 'high', 'succeeded'],
  'acm-pca-issue-certificate.subordinate-ca.json': ['acm-pca-issue-ca-certificate', 'high', 'succeeded'],
  'acm-pca-put-policy.json': ['acm-pca-permission-or-policy-change', 'medium', 'succeeded'],
  'acm-pca-restore-certificate-authority.json': ['acm-pca-restore-certificate-authority', 'medium', 'succeeded'],
  'acm-pca-revoke-certificate.json': ['acm-pca-revoke-certificate', 'high', 'succeeded'],
  'acm-pca-tag-certificate-authority.json': ['acm-pca-tags-change', 'low', 'succeeded'],
  'acm-pca-untag-certificate-authority.json': ['acm-pca-tags-change', 'low', 'succeeded'],
  'acm-pca-update-certificate-authority.json': ['acm-pca-update-certificate-authority', 'high', 'succeeded'],
  'acm-put-account-configuration.json': ['acm-put-account-configuration', 'low', 'succeeded'],
  'acm-remove-tags-from-certificate.json': ['acm-remove-tags', 'low', 'succeeded'],
  'acm-renew-certificate.json': ['acm-renew-certificate', 'low', 'succeeded'],
  'acm-request-certificate.exportable.json': ['acm-request-exportable-certificate', 'medium', 'succeeded'],
  'acm-request-certificate.json': null,
  'acm-revoke-acme-account.json': ['acm-acme-access-revoked', 'medium', 'succeeded'],
  'acm-revoke-acme-external-account-binding.json': ['acm-acme-access-revoked', 'medium', 'succeeded'],
  'acm-resend-validation-email.json': ['acm-resend-validation-email', 'low', 'succeeded'],
  'acm-revoke-certificate.json': ['acm-revoke-certificate', 'high', 'succeeded'],
  'acm-tag-resource.json': ['acm-add-tags', 'low', 'succeeded'],
  'acm-tag-resource.leaked-mac-key.json': ['acm-add-tags', 'low', 'succeeded'],
  'acm-untag-resource.json': ['acm-remove-tags', 'low', 'succeeded'],
  'acm-update-acme-domain-validation.json': ['acm-acme-domain-validation-change', 'high', 'succeeded'],
  'acm-update-acme-endpoint.json': ['acm-acme-endpoint-change', 'medium', 'succeeded'],
  'acm-update-certificate-options.json': ['acm-update-certificate-options', 'medium', 'succeeded'],
};

const issueWithTemplate = (templateArn: string | undefined) =>
  record({
    eventSource: 'acm-pca.amazonaws.com',
    eventName: 'IssueCertificate',
    requestParameters: { certificateAuthorityArn: 'arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11223344-1234-1122-2233-112233445566', templateArn },
  });

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

  it.each([
    'DescribeCertificate', 'GetCertificate', 'ListCertificates', 'ListTagsForCertificate', 'GetAccountConfiguration', 'SearchCertificates',
    'DescribeAcmeEndpoint', 'DescribeAcmeExternalAccountBinding', 'ListAcmeAccounts', 'ListAcmeExternalAccountBindings', 'ListTagsForResource',
  ])('never alerts on the read-only call %s', async (eventName) => {
    expect(await alertsFor({ Records: [record({ eventName })] })).toEqual([]);
  });

  it('alerts on the one read-only call that hands out a credential, GetAcmeExternalAccountBindingCredentials, as critical', async () => {
    const alerts = await alertsFor({ Records: [record({ eventName: 'GetAcmeExternalAccountBindingCredentials', readOnly: true })] });
    expect(alerts.map((alert) => [alert.ruleId, alert.severity])).toEqual([['acm-get-acme-eab-credentials', 'critical']]);
  });

  it.each([
    ['arn:aws:acm-pca:::template/RootCACertificate/V1', true],
    ['arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1', true],
    ['arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen3/V1', true],
    ['arn:aws-us-gov:acm-pca:::template/BlankRootCACertificate_PathLen0_APIPassthrough/V1', true],
    ['arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1', true],
    ['arn:aws:acm-pca:::template/BlankEndEntityCertificate_APICSRPassthrough/V1', true],
    ['arn:aws-cn:acm-pca:::template/EndEntityCertificate_CSRPassthrough/V1', true],
    ['arn:aws:acm-pca:::template/EndEntityCertificate/V1', false],
    ['arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1', false],
    ['arn:aws:acm-pca:::template/CodeSigningCertificate/V1', false],
    ['arn:aws:acm-pca:::template/OCSPSigningCertificate/V1', false],
    [undefined, false],
  ])('alerts on ACM PCA IssueCertificate with template %s: %s', async (templateArn, alerts) => {
    expect((await alertsFor({ Records: [issueWithTemplate(templateArn)] })).map((alert) => alert.ruleId)).toEqual(alerts ? ['acm-pca-issue-ca-certificate'] : []);
  });

  it('never matches a forged template ARN longer than any real one, so a glob cannot take quadratic time', async () => {
    const forged = `arn:aws:acm-pca:::template/${':acm-pca:::template/'.repeat(20_000)}RootCACertificate/V1`;
    expect(await alertsFor({ Records: [issueWithTemplate(forged)] })).toEqual([]);
  });

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
    const config = parseRuleConfig({ additionalEvents: [{ eventSource: 'acm.amazonaws.com', eventName: 'DescribeCertificate', severity: 'low' }] }, 'test');
    const alerts = await alertsFor(readFixture('acm-describe-certificate.json'), config);
    expect(alerts.map((alert) => [alert.ruleId, alert.severity, alert.title])).toEqual([['custom-acm-describecertificate', 'low', 'DescribeCertificate called']]);
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
