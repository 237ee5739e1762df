import { ACM_EVENT_SOURCE, ACM_PCA_EVENT_SOURCE, type Severity } from '../types';

/**
 * A condition on a record field, as data: the rule only matches when the value at `path`
 * (dot-separated, from the record's root) equals `equals`.
 */
export interface RuleCondition {
  readonly path: string;
  readonly equals: string | number | boolean;
}

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
    nextSteps: [VERIFY_ACTOR, 'Check the certificate\'s issuer, names and expiry in the ACM console.'],
  },
  {
    id: 'acm-update-certificate-options',
    eventSource: ACM_EVENT_SOURCE,
    eventNames: ['UpdateCertificateOptions'],
    severity: 'medium',
    title: 'ACM certificate options changed',
    action: 'changed the options of',
    why: 'Options control Certificate Transparency logging and whether the certificate can be exported.',
    nextSteps: [VERIFY_ACTOR, 'Check the new options in the ACM console.'],
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
    title: 'Tags removed from an ACM certificate',
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
] as const satisfies readonly AlertRule[];
