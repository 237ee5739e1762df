/**
 * Room `alerts/`: a record and the rule it tripped in, the alert object out. This file builds
 * the alert, redact.ts removes secrets before anything leaves, storm.ts folds bursts into one
 * summary alert.
 */
import type { EffectiveRule } from '../rules/evaluate';
import type { Actor, Alert, CloudTrailRecord, Via } from '../types';
import { detailsOf, eventIdOf, field, FIELD_BUDGETS, MAX_RESOURCES, objectAt, setField, textOf } from './fields';

const ARN_FIELDS = [
  'certificateArn', 'certificateAuthorityArn', 'resourceArn',
  'acmeEndpointArn', 'acmeExternalAccountBindingArn', 'acmeDomainValidationArn',
] as const;

/**
 * Certificate, CA and ACME resource ARNs the call touched, from the request, the response (and
 * an object one level into it, such as CreateAcmeExternalAccountBinding's `externalAccountBinding`)
 * and `resources`; redacted and cut.
 */
function resourcesOf(record: CloudTrailRecord): string[] {
  const found = new Set<string>();
  const response = objectAt(record.responseElements);
  const nested = Object.values(response).filter((value) => typeof value === 'object' && value !== null && !Array.isArray(value));
  for (const source of [record.requestParameters, response, ...nested.slice(0, 4)]) {
    const fields = objectAt(source);
    for (const name of ARN_FIELDS) {
      const value = fields[name];
      if (typeof value === 'string' && value.startsWith('arn:')) found.add(value);
    }
  }
  for (const resource of Array.isArray(record.resources) ? record.resources : []) {
    const arn = objectAt(resource).ARN;
    if (typeof arn === 'string' && arn) found.add(arn);
  }
  return [...found].slice(0, MAX_RESOURCES).map((arn) => field(arn, FIELD_BUDGETS.arn)!);
}

/** True or false for CloudTrail's `mfaAuthenticated` (a string, or a boolean in a hand-made record); absent otherwise. */
function mfaOf(value: unknown): boolean | undefined {
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  return undefined;
}

/** Who made the call, from `userIdentity`; an assumed role carries its issuing role and MFA flag. */
function actorOf(record: CloudTrailRecord): Actor {
  const identity = objectAt(record.userIdentity);
  const session = objectAt(identity.sessionContext);
  const actor: Actor = { type: field(identity.type, FIELD_BUDGETS.name) ?? 'Unknown' };
  const set = (key: Exclude<keyof Actor, 'type' | 'mfa'>, value: unknown, max: number) => setField(actor, key, value, max);
  set('arn', identity.arn, FIELD_BUDGETS.arn);
  set('accountId', identity.accountId, FIELD_BUDGETS.short);
  set('principalId', identity.principalId, FIELD_BUDGETS.name);
  set('userName', identity.userName, FIELD_BUDGETS.name);
  set('sessionIssuer', objectAt(session.sessionIssuer).arn, FIELD_BUDGETS.arn);
  const mfa = mfaOf(objectAt(session.attributes).mfaAuthenticated);
  if (mfa !== undefined) actor.mfa = mfa;
  set('invokedBy', identity.invokedBy, FIELD_BUDGETS.name);
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
// encodeURIComponent throws on a lone surrogate, which a forged ARN can hold. It also leaves
// ! ' ( ) * as they are, where a mail client or chat may end a link and link what follows
// (`…f035'www.evil.example`): those are escaped too (RFC 3986's reserved set).
const uriPart = (text: string): string =>
  encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'))
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/** Console links: the CloudTrail event, and the first certificate or CA the call touched, in its own region. */
function linksFor(eventId: string, recordRegion: string, resources: readonly string[]): Alert['links'] {
  const region = safeRegion(recordRegion) ?? 'us-east-1';
  const links: Alert['links'] = {
    cloudTrail: consoleUrl(region, `cloudtrailv2/home?region=${region}#/events/${uriPart(eventId)}`),
  };
  const certificate = resources.find((arn) => /^arn:aws[a-z-]*:acm:[^:]*:[^:]*:certificate\//.test(arn));
  const authority = resources.find((arn) => /^arn:aws[a-z-]*:acm-pca:[^:]*:[^:]*:certificate-authority\//.test(arn));
  if (certificate) {
    const certRegion = regionOf(certificate) ?? region;
    const id = certificate.split('/').pop() ?? '';
    links.console = consoleUrl(certRegion, `acm/home?region=${certRegion}#/certificates/${uriPart(id)}`);
  } else if (authority) {
    const caRegion = regionOf(authority) ?? region;
    const caArn = authority.split('/certificate/')[0] ?? authority;
    links.console = consoleUrl(caRegion, `acm-pca/home?region=${caRegion}#/details?arn=${uriPart(caArn)}`);
  }
  return links;
}

/**
 * The alert for one record that a rule matched. Every field is read as an attacker may have
 * written it (any type, any size): each becomes a string within its budget, redacted by content,
 * or a visible placeholder (see fields.ts); the request parameters are redacted by name and
 * content. Links are built last, from the finished values. Nothing here throws on any record.
 */
export function buildAlert(record: CloudTrailRecord, rule: EffectiveRule, logFile?: string, via: Via = 'log'): Alert {
  const resources = resourcesOf(record);
  const eventId = eventIdOf(record.eventID, record);
  const identity = objectAt(record.userIdentity);
  const region = field(record.awsRegion, FIELD_BUDGETS.short) ?? 'us-east-1';
  const alert: Alert = {
    ruleId: rule.id,
    severity: rule.severity,
    title: rule.title,
    eventSource: field(record.eventSource, FIELD_BUDGETS.name) ?? 'unknown',
    eventName: field(record.eventName, FIELD_BUDGETS.name) ?? 'unknown',
    eventId,
    eventTime: field(record.eventTime, FIELD_BUDGETS.short) ?? 'unknown',
    awsRegion: region,
    accountId: field(record.recipientAccountId, FIELD_BUDGETS.short) ?? field(identity.accountId, FIELD_BUDGETS.short) ?? 'unknown',
    actor: actorOf(record),
    outcome: textOf(record.errorCode) === undefined ? 'succeeded' : 'failed',
    resources,
    details: detailsOf(record.requestParameters),
    why: rule.why,
    nextSteps: [...rule.nextSteps],
    links: linksFor(eventId, region, resources),
    via,
  };
  const optional = (key: 'sourceIPAddress' | 'userAgent' | 'errorCode' | 'errorMessage', value: unknown, max: number) => setField(alert, key, value, max);
  optional('sourceIPAddress', record.sourceIPAddress, FIELD_BUDGETS.address);
  optional('userAgent', record.userAgent, FIELD_BUDGETS.userAgent);
  optional('errorCode', record.errorCode, FIELD_BUDGETS.short);
  optional('errorMessage', record.errorMessage, FIELD_BUDGETS.errorMessage);
  if (logFile) alert.logFile = field(logFile, FIELD_BUDGETS.arn);
  return alert;
}

/**
 * The key alerts are deduplicated by: the CloudTrail event ID, which is unique per event. The
 * event name is part of it only because AWS's published sample records reuse IDs across actions.
 */
export function dedupeKey(alert: Pick<Alert, 'eventId' | 'eventName'>): string {
  return `${alert.eventId}/${alert.eventName}`;
}
