import { ACM_EVENT_SOURCE, ACM_PCA_EVENT_SOURCE } from '../types';

/**
 * Every ACM and ACM Private CA operation that no default rule alerts on, with the reason, by
 * event source. Together with the rule pack it classifies the whole of each service's API: a
 * test enumerates the SDK clients' commands and fails on any operation in neither list, so an
 * operation AWS adds is a decision someone makes, not a silent gap. Users who want one of these
 * add it with `additionalEvents`.
 */
export const NOT_ALERTING: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [ACM_EVENT_SOURCE]: {
    DescribeAcmeAccount: 'read-only: an ACME account\'s status, key thumbprint and binding',
    DescribeAcmeDomainValidation: 'read-only: a domain validation\'s settings',
    DescribeAcmeEndpoint: 'read-only: an endpoint\'s settings',
    DescribeAcmeExternalAccountBinding: 'read-only: a binding\'s role and dates, no credentials',
    DescribeCertificate: 'read-only: certificate metadata',
    GetAccountConfiguration: 'read-only: the expiry-event setting',
    GetCertificate: 'read-only: the certificate and chain, which are public; never the private key',
    ListAcmeAccounts: 'read-only listing',
    ListAcmeDomainValidations: 'read-only listing',
    ListAcmeEndpoints: 'read-only listing',
    ListAcmeExternalAccountBindings: 'read-only listing',
    ListCertificateDomainValidations: 'read-only listing',
    ListCertificates: 'read-only listing',
    ListTagsForCertificate: 'read-only listing',
    ListTagsForResource: 'read-only listing',
    SearchCertificates: 'read-only search',
  },
  [ACM_PCA_EVENT_SOURCE]: {
    CreateCertificateAuthorityAuditReport: 'writes a report of issued and revoked certificates to the CA\'s bucket; changes nothing',
    DescribeCertificateAuthority: 'read-only: CA metadata',
    DescribeCertificateAuthorityAuditReport: 'read-only: a report\'s status',
    GetCertificate: 'read-only: an issued certificate, which is public',
    GetCertificateAuthorityCertificate: 'read-only: the CA certificate and chain, which are public',
    GetCertificateAuthorityCsr: 'read-only: the CA\'s signing request, which holds no secret',
    GetPolicy: 'read-only: the CA\'s resource policy',
    ListCertificateAuthorities: 'read-only listing',
    ListPermissions: 'read-only listing',
    ListTags: 'read-only listing',
  },
};
