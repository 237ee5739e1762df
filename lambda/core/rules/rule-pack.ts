import { ACM_EVENT_SOURCE, ACM_PCA_EVENT_SOURCE, type Severity } from '../types';

/**
 * A condition on a record field, as data: the rule only matches when the value at `path`
 * (dot-separated, from the record's root) equals `equals`, or is a string that one of the
 * `matches` globs matches (`*` any run of characters, `?` one; the whole value must match).
 */
export type RuleCondition =
  | { readonly path: string; readonly equals: string | number | boolean }
  | { readonly path: string; readonly matches: readonly string[] };

/**
 * One alerting rule. Rules match on `eventSource` and `eventName` together, so ACM's
 * DeleteCertificate never matches IoT's. `action` completes the sentence "alice ... <resource>".
 */
export interface AlertRule {
  readonly id: string;
  readonly eventSource: string;
  readonly eventNames: readonly string[];
  readonly severity: Severity;
  readonly title: string;
  readonly action: string;
  readonly why: string;
  readonly nextSteps: readonly string[];
  readonly when?: readonly RuleCondition[];
  /** What narrows or qualifies the calls, in words, for the README's rule table. */
  readonly scope?: string;
}

const VERIFY_ACTOR = 'Confirm with the actor that the call was expected and authorized.';
const REVIEW_TRAIL = 'Review the actor\'s other CloudTrail activity around the same time.';

/** The default rule pack. Adding a rule is one row here, one fixture in events/, one test case. */
export const DEFAULT_RULES = [
  {
    id: 'acm-export-certificate',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['ExportCertificate'],
    severity: 'critical',
    title: 'Private key exported from ACM',
    action: 'exported the private key of',
    why: 'ExportCertificate returns the private key; whoever holds it can impersonate every name on the certificate.',
    nextSteps: [
      VERIFY_ACTOR,
      'If it was not expected, revoke and replace the certificate and rotate whatever trusted it.',
      'Restrict acm:ExportCertificate with an SCP or IAM policy to the roles that need it.',
    ],
  },
  {
    id: 'acm-get-acme-eab-credentials',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['GetAcmeExternalAccountBindingCredentials'],
    severity: 'critical',
    title: 'ACME external account binding credentials fetched',
    action: 'fetched the key ID and MAC key of',
    why: 'The key ID and MAC key let any ACME client register with the endpoint and obtain publicly trusted certificates under the binding\'s role, until the binding is revoked. This is a read-only call: only a trail that records read events logs it.',
    nextSteps: [
      VERIFY_ACTOR,
      'If it was not expected, revoke the binding (RevokeAcmeExternalAccountBinding), then revoke every ACME account registered with it (ListAcmeAccounts, RevokeAcmeAccount).',
      'Check which role the binding is bound to (DescribeAcmeExternalAccountBinding) and which certificates that role may obtain.',
      'Restrict acm:GetAcmeExternalAccountBindingCredentials to the roles that provision ACME clients.',
    ],
  },
  {
    id: 'acm-delete-certificate',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['DeleteCertificate'],
    severity: 'high',
    title: 'ACM certificate deleted',
    action: 'deleted',
    why: 'A deleted certificate cannot be restored; load balancers, CloudFront and API Gateway that used it need a replacement.',
    nextSteps: [VERIFY_ACTOR, 'Check that no endpoint still depends on the certificate, and request or import a replacement if one does.'],
  },
  {
    id: 'acm-revoke-certificate',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['RevokeCertificate'],
    severity: 'high',
    title: 'ACM certificate revoked',
    action: 'revoked',
    why: 'Clients that check revocation will refuse the certificate; revocation cannot be undone.',
    nextSteps: [VERIFY_ACTOR, 'Replace the certificate wherever it is still served.'],
  },
  {
    id: 'acm-import-certificate',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['ImportCertificate'],
    severity: 'high',
    title: 'Certificate imported into ACM',
    action: 'imported',
    why: 'An import brings a key made outside ACM, and a re-import over an existing ARN silently swaps what every attached endpoint serves.',
    scope: '(a re-import over an existing ARN too)',
    nextSteps: [VERIFY_ACTOR, 'Check the certificate\'s issuer, names and expiry in the ACM console.'],
  },
  {
    id: 'acm-create-acme-eab',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['CreateAcmeExternalAccountBinding'],
    severity: 'high',
    title: 'ACME external account binding created',
    action: 'created an external account binding on',
    why: 'A new binding is a new way in: its credentials let an ACME client register and obtain publicly trusted certificates under the bound role.',
    nextSteps: [
      VERIFY_ACTOR,
      'Check the role it is bound to (roleArn in the details) and when it expires.',
      'If it was not expected, revoke it with RevokeAcmeExternalAccountBinding.',
    ],
  },
  {
    id: 'acm-acme-domain-validation-change',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['CreateAcmeDomainValidation', 'UpdateAcmeDomainValidation'],
    severity: 'high',
    title: 'ACME domain validation granted or changed',
    action: 'granted or changed a domain validation on',
    why: 'A domain validation lets the ACME endpoint issue certificates for the domain, and with its scope for subdomains and wildcards, without further proof of control.',
    nextSteps: [
      VERIFY_ACTOR,
      'Check the domain name and scope (exact domain, subdomains, wildcards) in the details.',
      'If it was not expected, delete it with DeleteAcmeDomainValidation and review the certificates the endpoint issued since.',
    ],
  },
  {
    id: 'acm-delete-acme-endpoint',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['DeleteAcmeEndpoint'],
    severity: 'high',
    title: 'ACME endpoint deleted',
    action: 'deleted',
    why: 'Deleting an endpoint deletes its bindings and domain validations: every ACME client that used it stops renewing, and its certificates expire.',
    nextSteps: [VERIFY_ACTOR, 'Find the ACME clients that used the endpoint and move them to a replacement before their certificates expire.'],
  },
  {
    id: 'acm-update-certificate-options',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['UpdateCertificateOptions'],
    severity: 'medium',
    title: 'ACM certificate options changed',
    action: 'changed the options of',
    why: 'Options decide whether the certificate can be exported (turned on, its private key can then be taken out with ExportCertificate), how its domains are validated (email, DNS or HTTP) and whether it is logged for Certificate Transparency.',
    nextSteps: [VERIFY_ACTOR, 'Check the new options in the details; if export was turned on, make sure only the intended roles may call acm:ExportCertificate.'],
  },
  {
    id: 'acm-request-exportable-certificate',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['RequestCertificate'],
    severity: 'medium',
    title: 'Exportable public certificate requested',
    action: 'requested exportable',
    why: 'An exportable certificate\'s private key can later be taken out of ACM with ExportCertificate.',
    nextSteps: [VERIFY_ACTOR, 'Make sure only the intended roles may call acm:ExportCertificate on it.'],
    when: [{ path: 'requestParameters.options.export', equals: 'ENABLED' }],
    scope: 'with `options.export` = `ENABLED` (other requests: no alert)',
  },
  {
    id: 'acm-acme-endpoint-change',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['CreateAcmeEndpoint', 'UpdateAcmeEndpoint'],
    severity: 'medium',
    title: 'ACME endpoint created or changed',
    action: 'created or changed',
    why: 'An endpoint\'s authorization behaviour, contact requirement and allowed key algorithms decide how ACME clients obtain publicly trusted certificates through it.',
    nextSteps: [VERIFY_ACTOR, 'Check the endpoint\'s authorization behaviour and certificate authority settings in the details.'],
  },
  {
    id: 'acm-acme-access-revoked',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['DeleteAcmeExternalAccountBinding', 'RevokeAcmeExternalAccountBinding', 'DeleteAcmeDomainValidation', 'RevokeAcmeAccount'],
    severity: 'medium',
    title: 'ACME binding, account or domain validation removed',
    action: 'revoked or deleted',
    why: 'The right answer to a leaked credential, and otherwise a way to stop certificates from renewing: ACME clients that relied on it can no longer register, issue or renew. A revoked ACME account cannot be restored.',
    nextSteps: [VERIFY_ACTOR, 'If it was not expected, find the ACME clients that relied on it and give them access again before their certificates expire.'],
  },
  {
    id: 'acm-add-tags',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['AddTagsToCertificate', 'TagResource'],
    severity: 'low',
    title: 'Tags added to an ACM resource',
    action: 'tagged',
    why: 'Tags can drive tag-based access control (aws:ResourceTag conditions): a new or changed tag can widen who may export, delete or use the resource.',
    nextSteps: [VERIFY_ACTOR, 'Check the tags in the details against the policies that have tag conditions.'],
  },
  {
    id: 'acm-put-account-configuration',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['PutAccountConfiguration'],
    severity: 'low',
    title: 'ACM account configuration changed',
    action: 'changed the ACM account configuration',
    why: 'The account configuration sets how early ACM warns about expiring certificates.',
    nextSteps: [VERIFY_ACTOR],
  },
  {
    id: 'acm-remove-tags',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['RemoveTagsFromCertificate', 'UntagResource'],
    severity: 'low',
    title: 'Tags removed from an ACM resource',
    action: 'removed tags from',
    why: 'Tags often drive tag-based access control and ownership; removing them can widen access or hide ownership.',
    nextSteps: [VERIFY_ACTOR],
  },
  {
    id: 'acm-renew-certificate',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['RenewCertificate'],
    severity: 'low',
    title: 'ACM certificate renewal requested',
    action: 'renewed',
    why: 'A manual renewal of a private certificate issues new key material to its users.',
    nextSteps: [VERIFY_ACTOR],
  },
  {
    id: 'acm-resend-validation-email',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['ResendValidationEmail'],
    severity: 'low',
    title: 'ACM validation email resent',
    action: 'resent the validation email for',
    why: 'Validation email lets whoever reads the domain\'s admin mailbox approve the certificate.',
    nextSteps: [VERIFY_ACTOR],
  },
  {
    id: 'acm-pca-delete-certificate-authority',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['DeleteCertificateAuthority'],
    severity: 'critical',
    title: 'Private certificate authority deleted',
    action: 'deleted the private certificate authority',
    why: 'When the restoration period ends the CA is gone, and nothing it issued can be renewed or revoked.',
    nextSteps: [VERIFY_ACTOR, 'If it was not expected, restore the CA with RestoreCertificateAuthority before the restoration period ends.'],
  },
  {
    id: 'acm-pca-update-certificate-authority',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['UpdateCertificateAuthority'],
    severity: 'high',
    title: 'Private certificate authority updated',
    action: 'updated the private certificate authority',
    why: 'An update can disable the CA or change its revocation (CRL/OCSP) configuration.',
    nextSteps: [VERIFY_ACTOR, 'Check the CA status and revocation configuration.'],
  },
  {
    id: 'acm-pca-revoke-certificate',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['RevokeCertificate'],
    severity: 'high',
    title: 'Private CA certificate revoked',
    action: 'revoked a certificate issued by',
    why: 'Clients that check revocation will refuse the certificate.',
    nextSteps: [VERIFY_ACTOR, REVIEW_TRAIL],
  },
  {
    id: 'acm-pca-import-ca-certificate',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['ImportCertificateAuthorityCertificate'],
    severity: 'high',
    title: 'Certificate authority certificate imported',
    action: 'installed a new CA certificate on',
    why: 'The CA certificate decides which chain every certificate the CA issues will anchor to.',
    nextSteps: [VERIFY_ACTOR, 'Check the CA certificate and its parent chain.'],
  },
  {
    id: 'acm-pca-issue-ca-certificate',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['IssueCertificate'],
    severity: 'high',
    title: 'CA or passthrough certificate issued by a private CA',
    action: 'issued a CA or passthrough certificate from the private certificate authority',
    why: 'A CA template makes the new certificate a certificate authority that can sign certificates trusted wherever this CA is; a passthrough template takes extensions from the request, which can do the same.',
    nextSteps: [
      VERIFY_ACTOR,
      'Check the template (templateArn in the details) and the issued certificate (GetCertificate).',
      'If it was not expected, revoke the issued certificate and limit acm-pca:IssueCertificate with an acm-pca:TemplateArn condition.',
    ],
    when: [{ path: 'requestParameters.templateArn', matches: ['arn:*:acm-pca:::template/*CACertificate*', 'arn:*:acm-pca:::template/*Passthrough*'] }],
    scope: 'with a CA template (`RootCACertificate`, `SubordinateCACertificate_PathLen…`) or an API/CSR passthrough template (end-entity templates: no alert)',
  },
  {
    id: 'acm-pca-create-certificate-authority',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['CreateCertificateAuthority'],
    severity: 'medium',
    title: 'Private certificate authority created',
    action: 'created the private certificate authority',
    why: 'A new CA can issue certificates that whatever comes to trust it will accept, and it is billed every month until it is deleted.',
    nextSteps: [VERIFY_ACTOR, 'Check the CA type (root or subordinate), subject and revocation configuration in the details.'],
  },
  {
    id: 'acm-pca-permission-or-policy-change',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['CreatePermission', 'DeletePermission', 'PutPolicy', 'DeletePolicy'],
    severity: 'medium',
    title: 'Private CA access changed',
    action: 'changed who may use the private certificate authority',
    why: 'Permissions and resource policies decide which principals and accounts can issue certificates from the CA.',
    nextSteps: [VERIFY_ACTOR, 'Review the CA\'s resource policy and permissions.'],
  },
  {
    id: 'acm-pca-restore-certificate-authority',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['RestoreCertificateAuthority'],
    severity: 'medium',
    title: 'Private certificate authority restored',
    action: 'restored the private certificate authority',
    why: 'A restored CA can issue certificates again once it is re-enabled.',
    nextSteps: [VERIFY_ACTOR],
  },
  {
    id: 'acm-pca-tags-change',
    eventSource: ACM_PCA_EVENT_SOURCE,
    eventNames: ['TagCertificateAuthority', 'UntagCertificateAuthority'],
    severity: 'low',
    title: 'Private CA tags changed',
    action: 'changed the tags of the private certificate authority',
    why: 'Tags can drive tag-based access control: adding or removing one can widen who may issue from or manage the CA.',
    nextSteps: [VERIFY_ACTOR, 'Check the tags in the details against the policies that have tag conditions.'],
  },
] as const satisfies readonly AlertRule[];
