/**
 * Room `alerts/`: a record and the rule it tripped in, the alert object out. This file builds
 * the alert, redact.ts removes secrets before anything leaves, storm.ts folds bursts into one
 * summary alert.
 */
import type { EffectiveRule } from '../rules/evaluate';
import type { Actor, Alert, CloudTrailRecord } from '../types';
import { redact, redactText } from './redact';

const ARN_FIELDS = ['certificateArn', 'certificateAuthorityArn', 'resourceArn'] as const;

/** Certificate and CA ARNs the call touched, from the request, the response and `resources`. */
function resourcesOf(record: CloudTrailRecord): string[] {
  const found = new Set<string>();
  for (const source of [record.requestParameters, record.responseElements]) {
    if (!source || typeof source !== 'object') continue;
    for (const field of ARN_FIELDS) {
      const value = (source as Record<string, unknown>)[field];
      if (typeof value === 'string' && value.startsWith('arn:')) found.add(value);
    }
  }
  for (const resource of Array.isArray(record.resources) ? record.resources : []) {
    if (typeof resource?.ARN === 'string') found.add(resource.ARN);
  }
  return [...found];
}

/** Who made the call, from `userIdentity`; an assumed role carries its issuing role and MFA flag. */
function actorOf(record: CloudTrailRecord): Actor {
  const identity = record.userIdentity ?? {};
  const issuer = identity.sessionContext?.sessionIssuer;
  const mfa = identity.sessionContext?.attributes?.mfaAuthenticated;
  const actor: Actor = { type: identity.type ?? 'Unknown' };
  if (identity.arn) actor.arn = identity.arn;
  if (identity.accountId) actor.accountId = identity.accountId;
  if (identity.principalId) actor.principalId = identity.principalId;
  if (identity.userName) actor.userName = identity.userName;
  if (issuer?.arn) actor.sessionIssuer = issuer.arn;
  if (mfa !== undefined) actor.mfa = mfa === 'true';
  if (identity.invokedBy) actor.invokedBy = identity.invokedBy;
  return actor;
}

/** A short name for the actor: the user or session name, else the last part of the ARN, else the type. */
export function actorName(actor: Actor): string {
  if (actor.userName) return actor.userName;
  if (actor.arn) return actor.arn.split('/').pop() || actor.arn;
  return actor.invokedBy ?? actor.principalId ?? actor.type;
}

// Links are built from record fields; only a well-formed region name may become part of a host name.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const safeRegion = (region: string | undefined): string | undefined => (region && REGION.test(region) ? region : undefined);

function regionOf(arn: string): string | undefined {
  return safeRegion(arn.split(':')[3]);
}

const consoleUrl = (region: string, path: string): string => `https://${region}.console.aws.amazon.com/${path}`;

/** Console links: the CloudTrail event, and the first certificate or CA the call touched, in its own region. */
function linksFor(eventId: string, recordRegion: string, resources: readonly string[]): Alert['links'] {
  const region = safeRegion(recordRegion) ?? 'us-east-1';
  const links: Alert['links'] = {
    cloudTrail: consoleUrl(region, `cloudtrailv2/home?region=${region}#/events/${encodeURIComponent(eventId)}`),
  };
  const certificate = resources.find((arn) => /^arn:aws[a-z-]*:acm:/.test(arn));
  const authority = resources.find((arn) => /^arn:aws[a-z-]*:acm-pca:[^:]*:[^:]*:certificate-authority\//.test(arn));
  if (certificate) {
    const certRegion = regionOf(certificate) ?? region;
    const id = certificate.split('/').pop() ?? '';
    links.console = consoleUrl(certRegion, `acm/home?region=${certRegion}#/certificates/${encodeURIComponent(id)}`);
  } else if (authority) {
    const caRegion = regionOf(authority) ?? region;
    const caArn = authority.split('/certificate/')[0] ?? authority;
    links.console = consoleUrl(caRegion, `acm-pca/home?region=${caRegion}#/details?arn=${encodeURIComponent(caArn)}`);
  }
  return links;
}

/** The alert for one record that a rule matched. Everything user-supplied is redacted here, once. */
export function buildAlert(record: CloudTrailRecord, rule: EffectiveRule, logFile?: string): Alert {
  const resources = resourcesOf(record);
  const eventId = record.eventID ?? 'unknown';
  const region = record.awsRegion ?? 'us-east-1';
  const alert: Alert = {
    ruleId: rule.id,
    severity: rule.severity,
    title: rule.title,
    eventSource: record.eventSource,
    eventName: record.eventName,
    eventId,
    eventTime: record.eventTime ?? 'unknown',
    awsRegion: region,
    accountId: record.recipientAccountId ?? record.userIdentity?.accountId ?? 'unknown',
    actor: actorOf(record),
    outcome: record.errorCode ? 'failed' : 'succeeded',
    resources,
    details: (redact(record.requestParameters ?? {}) as Record<string, unknown>) ?? {},
    why: rule.why,
    nextSteps: [...rule.nextSteps],
    links: linksFor(eventId, region, resources),
  };
  if (record.sourceIPAddress) alert.sourceIPAddress = record.sourceIPAddress;
  if (record.userAgent) alert.userAgent = redactText(record.userAgent);
  if (record.errorCode) alert.errorCode = redactText(record.errorCode, 128);
  if (record.errorMessage) alert.errorMessage = redactText(record.errorMessage);
  if (logFile) alert.logFile = logFile;
  return alert;
}

/**
 * The key alerts are deduplicated by: the CloudTrail event ID, which is unique per event. The
 * event name is part of it only because AWS's published sample records reuse IDs across actions.
 */
export function dedupeKey(alert: Pick<Alert, 'eventId' | 'eventName'>): string {
  return `${alert.eventId}/${alert.eventName}`;
}
