import { editDistance } from '../lambda/core/nearest';
import { parseRuleConfig, type RuleConfig } from '../lambda/core/rules/rule-config';
import { SEVERITIES, type Severity } from '../lambda/core/types';
import { ConfigError } from '../lambda/errors';
import { DEFAULT_HEARTBEAT_HOURS, MAX_HEARTBEAT_HOURS } from './heartbeat-alarm';

/** The context keys the app reads (`cdk.json` "context" or `-c key=value`); nothing else configures it. */
export const CONTEXT_KEYS = [
  'trailBucketName',
  'trailKeyPrefix',
  'trailKmsKeyArn',
  'alertEmails',
  'slackWorkspaceId',
  'slackChannelId',
  'slackWebhookSecretName',
  'ruleConfig',
  'emailMinSeverity',
  'slackMinSeverity',
  'dedupe',
  'maxDecompressedBytes',
  'heartbeatHours',
  'trigger',
  'trailTopicArn',
  'queue',
  'teamsTenantId',
  'teamsTeamId',
  'teamsChannelId',
  'trailBucketAccount',
  'trailBucketRegion',
  'organizationTrail',
  'organizationId',
  'organizationManagementAccount',
  'realtime',
  'realtimeRegions',
  'backfill',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** Where the CloudTrail log files come from. */
export type TrailSettings =
  | {
      readonly kind: 'new';
      /** An organization trail, with the organization's ID and the account that owns the trail. */
      readonly organization?: { readonly id: string; readonly managementAccount?: string };
    }
  | {
      readonly kind: 'existing';
      /** Name of the bucket the trail delivers to, in this account and Region. */
      readonly bucketName: string;
      /** The trail's S3 key prefix with a trailing slash, or '' when the trail has none. */
      readonly keyPrefix: string;
      /** ARN of the KMS key the trail encrypts its log files with, when it uses SSE-KMS. */
      readonly kmsKeyArn?: string;
      /** The bucket's account, when it is not the stack's: a second stack, AcmSentinelLogSource, deploys there. */
      readonly account?: string;
      /** The bucket's Region, when it is not the stack's. */
      readonly region?: string;
    };

/** How the function learns of new log files. */
export type Trigger = 's3' | 'eventbridge' | 'sns';
export const TRIGGERS: readonly Trigger[] = ['s3', 'eventbridge', 'sns'];

/** The real-time path: CloudTrail's EventBridge events, in the home Region and forwarded from others. */
export interface RealtimeSettings {
  readonly enabled: boolean;
  /** Regions other than the stack's whose events are forwarded to it; each gets a forwarder stack. */
  readonly regions: readonly string[];
  /** With an organization: member accounts may forward (bus policy on aws:PrincipalOrgID), and a StackSet template is synthesized. */
  readonly organizationId?: string;
}

export interface DeliverySettings {
  /** `s3`: a bucket notification; `eventbridge`: the bucket's EventBridge events; `sns`: an existing topic. */
  readonly trigger: Trigger;
  /** The topic that carries the bucket's events or the trail's delivery notifications (trigger `sns`). */
  readonly trailTopicArn?: string;
  /** An SQS queue between the trigger and the function. */
  readonly queue: boolean;
}

/** The Slack channel that receives alerts through Amazon Q Developer in chat applications. */
export interface SlackSettings {
  readonly workspaceId: string;
  readonly channelId: string;
}

/** The Microsoft Teams channel that receives alerts through Amazon Q Developer in chat applications. */
export interface TeamsSettings {
  readonly tenantId: string;
  readonly teamId: string;
  /** URL-encoded, as the service expects it (`19%3a…%40thread.tacv2`). */
  readonly channelId: string;
}

/** The Slack channel that receives alerts through an incoming webhook and the Slack notifier function. */
export interface SlackWebhookSettings {
  /** Name, or complete ARN, of the Secrets Manager secret holding the webhook URL; never the URL itself. */
  readonly secretName: string;
  /** The lowest severity posted to the webhook. */
  readonly minSeverity: Severity;
}

/** Everything the stack is configured with, validated. */
export interface SentinelSettings {
  readonly trail: TrailSettings;
  readonly delivery: DeliverySettings;
  readonly realtime: RealtimeSettings;
  /** Whether the Step Functions backfill (and its report bucket) is deployed. */
  readonly backfill: boolean;
  readonly alertEmails: readonly string[];
  /** The lowest severity sent to the email subscriptions; `low` sends every alert. */
  readonly emailMinSeverity: Severity;
  readonly slack?: SlackSettings;
  readonly teams?: TeamsSettings;
  readonly slackWebhook?: SlackWebhookSettings;
  readonly ruleConfig: RuleConfig;
  /** Whether alerts are deduplicated across invocations through a DynamoDB table. */
  readonly dedupe: boolean;
  /** Upper bound on one decompressed log file, in bytes; unset keeps the function's default. */
  readonly maxDecompressedBytes?: number;
  /** Hours without any invocation of the function before the heartbeat alarm fires; 0 means no heartbeat alarm. */
  readonly heartbeatHours: number;
}

type Lookup = (key: string) => unknown;

const fail = (key: ContextKey, what: string, fix: string): never => {
  throw new ConfigError(`context "${key}": ${what}. ${fix}`);
};

// Values from `-c key=value` are always strings; an empty one means "not set", so a user can
// blank a value kept in cdk.json for one command.
function optionalString(lookup: Lookup, key: ContextKey): string | undefined {
  const value = lookup(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    return fail(key, `expected a string, got ${JSON.stringify(value)}`, `Set it as text, e.g. -c ${key}=VALUE.`);
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

// The S3 naming rules for general purpose buckets: 3-63 characters of lowercase letters, digits,
// dots and hyphens, starting and ending with a letter or digit, never shaped like an IP address.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;

function readBucketName(lookup: Lookup): string | undefined {
  const name = optionalString(lookup, 'trailBucketName');
  if (name === undefined) return undefined;
  const example = 'e.g. -c trailBucketName=my-org-cloudtrail-logs';
  if (/^s3:\/\//i.test(name) || name.startsWith('arn:')) {
    const bare = name.replace(/^s3:\/\//i, '').replace(/^arn:[^:]*:s3:::/, '').split('/')[0];
    fail('trailBucketName', `"${name}" is a URL or ARN, not a bucket name`, `Pass the bare name: -c trailBucketName=${bare} (and the part after the name as trailKeyPrefix, if any).`);
  }
  if (!BUCKET_NAME.test(name) || name.includes('..') || IP_ADDRESS.test(name)) {
    fail('trailBucketName', `"${name}" is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)`, `Use the name of the bucket your trail delivers to, as shown by "aws cloudtrail describe-trails" (S3BucketName), ${example}.`);
  }
  return name;
}

function readKeyPrefix(lookup: Lookup, hasBucket: boolean): string {
  const raw = optionalString(lookup, 'trailKeyPrefix');
  if (raw === undefined) return '';
  if (!hasBucket) {
    fail('trailKeyPrefix', 'only applies to an existing trail bucket', 'Also set trailBucketName, or remove trailKeyPrefix to create a new trail.');
  }
  const prefix = raw.replace(/\/+$/, '');
  if (raw.startsWith('/') || prefix.includes('//') || prefix === '') {
    fail('trailKeyPrefix', `"${raw}" is not an S3 key prefix`, 'Give the trail\'s "S3 key prefix" without leading slash, e.g. -c trailKeyPrefix=org-trail.');
  }
  const segments = prefix.split('/');
  if (segments.includes('AWSLogs')) {
    const before = segments.slice(0, segments.indexOf('AWSLogs')).join('/');
    fail('trailKeyPrefix', `"${raw}" includes the AWSLogs/ part that CloudTrail adds itself`, before ? `Give only what comes before it: -c trailKeyPrefix=${before}.` : 'Leave trailKeyPrefix unset: the trail writes to AWSLogs/ at the bucket root.');
  }
  // Control characters would be rejected by S3; they are a copy-and-paste accident.
  if (/[\u0000-\u001f\u007f]/.test(prefix) || prefix.length > 200) {
    fail('trailKeyPrefix', 'contains control characters or is longer than 200 characters', 'Copy the prefix from the trail\'s settings ("S3KeyPrefix" in "aws cloudtrail describe-trails").');
  }
  return `${prefix}/`;
}

// Key ARNs only: IAM grants kms:Decrypt on a key ARN, and an alias ARN there matches nothing.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

function readKmsKeyArn(lookup: Lookup, hasBucket: boolean): string | undefined {
  const arn = optionalString(lookup, 'trailKmsKeyArn');
  if (arn === undefined) return undefined;
  if (!hasBucket) {
    fail('trailKmsKeyArn', 'only applies to an existing trail bucket (a new trail gets its own key)', 'Also set trailBucketName, or remove trailKmsKeyArn.');
  }
  if (!KMS_KEY_ARN.test(arn)) {
    const what = arn.includes(':alias/') ? `"${arn}" is an alias ARN` : `"${arn}" is not a KMS key ARN`;
    fail('trailKmsKeyArn', what, 'Give the full key ARN the trail uses ("KmsKeyId" in "aws cloudtrail describe-trails"), e.g. arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab.');
  }
  return arn;
}

// Deliberately loose: SNS is the judge of deliverability; this catches lists pasted with the
// wrong separator, names without a domain, and stray quotes.
const EMAIL = /^[^\s@,;"'<>]+@[^\s@,;"'<>]+\.[^\s@,;"'<>]+$/;

function readEmails(lookup: Lookup): string[] {
  const value = lookup('alertEmails');
  if (value === undefined || value === null || value === '') return [];
  const fix = 'Give a list, e.g. in cdk.json "alertEmails": ["secops@example.com"], or -c alertEmails=secops@example.com,oncall@example.com.';
  let items: unknown[];
  if (Array.isArray(value)) {
    items = value;
  } else if (typeof value === 'string' && value.trim().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      items = Array.isArray(parsed) ? parsed : fail('alertEmails', 'is JSON but not a list', fix);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      return fail('alertEmails', `is not valid JSON (${(err as Error).message})`, fix);
    }
  } else if (typeof value === 'string') {
    items = value.split(',');
  } else {
    return fail('alertEmails', `expected a list of email addresses, got ${JSON.stringify(value)}`, fix);
  }
  const seen = new Set<string>();
  const emails: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') fail('alertEmails', `${JSON.stringify(item)} is not an email address`, fix);
    const email = (item as string).trim();
    if (email === '') continue;
    if (!EMAIL.test(email) || email.length > 254) fail('alertEmails', `"${email}" is not an email address`, fix);
    // SNS treats addresses case-insensitively; a second subscription would only collide.
    if (seen.has(email.toLowerCase())) continue;
    seen.add(email.toLowerCase());
    emails.push(email);
  }
  return emails;
}

// The patterns the chat configuration resource accepts; what they reject is usually a channel
// name or a link pasted instead of an ID.
const SLACK_WORKSPACE_ID = /^[0-9A-Z]{1,255}$/;
const SLACK_CHANNEL_ID = /^[A-Za-z0-9]{1,255}$/;

function readSlack(lookup: Lookup): SlackSettings | undefined {
  const workspaceId = optionalString(lookup, 'slackWorkspaceId');
  const channelId = optionalString(lookup, 'slackChannelId');
  if (workspaceId === undefined && channelId === undefined) return undefined;
  if (workspaceId === undefined) {
    return fail('slackWorkspaceId', 'is missing while slackChannelId is set', 'Set both: the workspace ID is shown in the Amazon Q Developer in chat applications console after you authorize the workspace (e.g. T07EXAMPLE).');
  }
  if (channelId === undefined) {
    return fail('slackChannelId', 'is missing while slackWorkspaceId is set', 'Set both: the channel ID is at the bottom of the channel details in Slack (e.g. C07EXAMPLE1).');
  }
  if (!SLACK_WORKSPACE_ID.test(workspaceId)) {
    fail('slackWorkspaceId', `"${workspaceId}" is not a Slack workspace ID (uppercase letters and digits)`, 'Copy the workspace ID from the Amazon Q Developer in chat applications console, e.g. T07EXAMPLE, not the workspace name or URL.');
  }
  if (!SLACK_CHANNEL_ID.test(channelId)) {
    fail('slackChannelId', `"${channelId}" is not a Slack channel ID (letters and digits)`, 'Copy the ID from the bottom of the channel details in Slack, e.g. C07EXAMPLE1, not the #channel-name or a link.');
  }
  return { workspaceId, channelId };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The service's own pattern: the channel id URL-encoded, `19%3a…%40thread.tacv2`.
const TEAMS_CHANNEL_ID = /^[A-Za-z0-9\-_=+/.,]*%3[aA][A-Za-z0-9\-_=+/.,]*%40[A-Za-z0-9\-_=+/.,]*$/;

function readTeams(lookup: Lookup): TeamsSettings | undefined {
  const tenantId = optionalString(lookup, 'teamsTenantId');
  const teamId = optionalString(lookup, 'teamsTeamId');
  const rawChannel = optionalString(lookup, 'teamsChannelId');
  if (tenantId === undefined && teamId === undefined && rawChannel === undefined) return undefined;
  const where = 'Copy the IDs from the Amazon Q Developer in chat applications console after you authorize the team, or from the channel\'s "Get link to channel" in Teams.';
  const missing = (['teamsTenantId', 'teamsTeamId', 'teamsChannelId'] as const).filter((key, i) => [tenantId, teamId, rawChannel][i] === undefined);
  if (missing.length) fail(missing[0]!, 'is missing: the three Teams keys go together', `Set teamsTenantId, teamsTeamId and teamsChannelId. ${where}`);
  if (!GUID.test(tenantId!)) fail('teamsTenantId', `"${tenantId}" is not a tenant ID (a GUID)`, where);
  if (!GUID.test(teamId!)) fail('teamsTeamId', `"${teamId}" is not a team ID (a GUID, the groupId in the channel link)`, where);
  // The link shows the channel id encoded; people also paste it decoded (19:…@thread.tacv2).
  const channelId = rawChannel!.replace(/:/g, '%3a').replace(/@/g, '%40');
  if (!TEAMS_CHANNEL_ID.test(channelId) || channelId.length > 255) {
    fail('teamsChannelId', `"${rawChannel}" is not a Teams channel ID`, `Give the id between /channel/ and the channel name in the channel link, e.g. 19%3a0123456789abcdef0123456789abcdef%40thread.tacv2. ${where}`);
  }
  return { tenantId: tenantId!, teamId: teamId!, channelId };
}

// Accepts any letter case: "High" pasted from a table means the same thing.
function readSeverity(lookup: Lookup, key: ContextKey): Severity {
  const raw = optionalString(lookup, key);
  if (raw === undefined) return 'low';
  const severity = raw.toLowerCase();
  if (!(SEVERITIES as readonly string[]).includes(severity)) {
    fail(key, `"${raw}" is not a severity`, `Use one of ${SEVERITIES.join(', ')} (that severity and above are delivered), e.g. -c ${key}=high.`);
  }
  return severity as Severity;
}

// Secrets Manager's own rules: names of 1-512 letters, digits and /_+=.@-; a complete ARN ends in
// the hyphen and six characters the service appends, which IAM must match exactly.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

function readWebhookSecretName(lookup: Lookup): string | undefined {
  const value = optionalString(lookup, 'slackWebhookSecretName');
  if (value === undefined) return undefined;
  const example = 'e.g. -c slackWebhookSecretName=acm-sentinel/slack-webhook';
  // The webhook URL is a credential: it is never repeated back, and never belongs in context.
  if (/^https?:/i.test(value) || /hooks\.slack\.com/i.test(value)) {
    fail('slackWebhookSecretName', 'holds a webhook URL, which is a credential and must not be in cdk.json or on the command line', `Store the URL in a Secrets Manager secret (docs/slack-webhook.md) and give the secret's name, ${example}.`);
  }
  if (value.startsWith('arn:')) {
    if (!SECRET_ARN.test(value)) {
      fail('slackWebhookSecretName', `"${value}" is not the complete ARN of a Secrets Manager secret`, `Give the secret's name, ${example}, or its complete ARN ("ARN" in "aws secretsmanager describe-secret", ending in a hyphen and six characters).`);
    }
    return value;
  }
  if (!SECRET_NAME.test(value)) {
    fail('slackWebhookSecretName', `"${value}" is not a Secrets Manager secret name (letters, digits and /_+=.@- only)`, `Give the name the secret was created with, ${example}.`);
  }
  return value;
}

// Amazon Q Developer subscribes itself to the topic, out of CDK's reach: a minimum severity meant
// for its channel could only be silently ignored, so it is refused instead.
function readSlackWebhook(lookup: Lookup, hasChatChannel: boolean): SlackWebhookSettings | undefined {
  const secretName = readWebhookSecretName(lookup);
  const minSeverity = readSeverity(lookup, 'slackMinSeverity');
  if (secretName === undefined && minSeverity !== 'low') {
    if (hasChatChannel) {
      fail(
        'slackMinSeverity',
        'cannot apply to the Amazon Q Developer in chat applications channel (slackWorkspaceId, slackChannelId): the service subscribes itself to the topic, so no filter policy can be attached to its subscription',
        'Post through an incoming webhook instead (slackWebhookSecretName, see docs/slack-webhook.md), which slackMinSeverity does filter, or raise ruleConfig.minSeverity, which filters every channel, email included.',
      );
    }
    fail('slackMinSeverity', 'only applies to the Slack incoming webhook, which is not configured', 'Also set slackWebhookSecretName (see docs/slack-webhook.md), or remove slackMinSeverity.');
  }
  return secretName === undefined ? undefined : { secretName, minSeverity };
}

function readBoolean(lookup: Lookup, key: ContextKey, unset: boolean, fix: string): boolean {
  const value = lookup(key);
  if (value === undefined || value === null || value === '') return unset;
  if (typeof value === 'boolean') return value;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text === 'true') return true;
  if (text === 'false') return false;
  return fail(key, `expected true or false, got ${JSON.stringify(value)}`, fix);
}

const readDedupe = (lookup: Lookup): boolean =>
  readBoolean(lookup, 'dedupe', true, 'Leave it unset to deduplicate alerts across retries, or turn that off with -c dedupe=false.');

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function readBucketLocation(lookup: Lookup, hasBucket: boolean): { account?: string; region?: string } {
  const account = optionalString(lookup, 'trailBucketAccount');
  const region = optionalString(lookup, 'trailBucketRegion');
  for (const [key, value] of [['trailBucketAccount', account], ['trailBucketRegion', region]] as const) {
    if (value !== undefined && !hasBucket) fail(key, 'only applies to an existing trail bucket', 'Also set trailBucketName (the bucket in that account), or remove it.');
  }
  if (account !== undefined && !/^\d{12}$/.test(account)) fail('trailBucketAccount', `"${account}" is not an account ID`, 'Give the 12-digit ID of the account that owns the bucket, e.g. the log archive account of AWS Control Tower.');
  if (region !== undefined && !REGION.test(region)) fail('trailBucketRegion', `"${region}" is not a Region`, 'Give the bucket\'s Region, e.g. -c trailBucketRegion=us-east-1.');
  if (region !== undefined && account === undefined) fail('trailBucketRegion', 'only applies with trailBucketAccount', 'Set trailBucketAccount too; a bucket in this account is read from the stack\'s Region.');
  return { ...(account !== undefined ? { account } : {}), ...(region !== undefined ? { region } : {}) };
}

function readOrganization(lookup: Lookup, hasBucket: boolean): { id: string; managementAccount?: string } | undefined {
  const enabled = readBoolean(lookup, 'organizationTrail', false, 'Give -c organizationTrail=true (with organizationId) for a new organization trail, or leave it unset.');
  const id = optionalString(lookup, 'organizationId');
  const managementAccount = optionalString(lookup, 'organizationManagementAccount');
  if (!enabled) {
    // organizationId alone serves the real-time path's organization forwarding (readRealtime).
    if (managementAccount !== undefined) fail('organizationManagementAccount', 'only applies with organizationTrail=true', 'Add -c organizationTrail=true, or remove organizationManagementAccount.');
    return undefined;
  }
  if (hasBucket) {
    fail('organizationTrail', 'creates a new organization trail, and trailBucketName points at an existing one', 'For an organization trail that exists, set only trailBucketName (and trailKeyPrefix, trailKmsKeyArn); remove organizationTrail.');
  }
  if (id === undefined || !ORGANIZATION_ID.test(id)) {
    fail('organizationId', id === undefined ? 'is missing while organizationTrail=true' : `"${id}" is not an organization ID`, 'Give the ID "aws organizations describe-organization" shows (Organization.Id), e.g. -c organizationId=o-a1b2c3d4e5: the bucket policy admits the trail\'s writes under AWSLogs/<organization ID>/.');
  }
  if (managementAccount !== undefined && !/^\d{12}$/.test(managementAccount)) {
    fail('organizationManagementAccount', `"${managementAccount}" is not an account ID`, 'Give the management account\'s 12-digit ID; set it only when deploying from a delegated administrator account.');
  }
  return { id: id!, ...(managementAccount !== undefined ? { managementAccount } : {}) };
}

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function readRealtime(lookup: Lookup, dedupe: boolean): RealtimeSettings {
  const enabled = readBoolean(lookup, 'realtime', dedupe, 'Give -c realtime=false to alert from log files only, or leave it unset (on when dedupe is on).');
  if (enabled && !dedupe) {
    fail('realtime', 'needs deduplication, and dedupe=false', 'Every event reaches the function twice, in real time and in its log file: keep dedupe on (unset it), or set -c realtime=false.');
  }
  const raw = optionalString(lookup, 'realtimeRegions');
  const regions = raw === undefined ? [] : [...new Set(raw.split(',').map((region) => region.trim()).filter(Boolean))];
  for (const region of regions) if (!REGION.test(region)) fail('realtimeRegions', `"${region}" is not a Region`, 'Give Regions comma-separated, e.g. -c realtimeRegions=us-east-1,eu-central-1.');
  if (regions.length && !enabled) fail('realtimeRegions', 'only applies with the real-time path on, and realtime=false', 'Remove realtime=false, or remove realtimeRegions.');
  const organizationId = optionalString(lookup, 'organizationId');
  if (organizationId !== undefined && !ORGANIZATION_ID.test(organizationId)) {
    fail('organizationId', `"${organizationId}" is not an organization ID`, 'Give the ID "aws organizations describe-organization" shows (Organization.Id), e.g. -c organizationId=o-a1b2c3d4e5.');
  }
  const organizationTrail = readBoolean(lookup, 'organizationTrail', false, 'Give -c organizationTrail=true, or leave it unset.');
  if (organizationId !== undefined && !organizationTrail && !enabled) {
    fail('organizationId', 'only applies with organizationTrail=true or the real-time path', 'Add -c organizationTrail=true, or remove organizationId.');
  }
  return { enabled, regions, ...(organizationId !== undefined && enabled ? { organizationId } : {}) };
}

function readDelivery(lookup: Lookup, trail: TrailSettings): DeliverySettings {
  const raw = optionalString(lookup, 'trigger');
  const trigger = (raw ?? 's3').toLowerCase() as Trigger;
  if (!TRIGGERS.includes(trigger)) {
    fail('trigger', `"${raw}" is not a trigger`, `Use one of ${TRIGGERS.join(', ')}: s3 (a bucket notification, the default), eventbridge (the bucket's EventBridge events) or sns (with trailTopicArn). docs/deploy.md has a table of which fits which setup.`);
  }
  const topicArn = optionalString(lookup, 'trailTopicArn');
  if (trigger === 'sns') {
    if (trail.kind === 'new') {
      fail('trigger', 'sns needs an existing trail bucket and the topic its events go to', 'Set trailBucketName and trailTopicArn, or leave trigger unset: the new trail notifies the function directly.');
    }
    if (topicArn === undefined) {
      fail('trailTopicArn', 'is missing while trigger=sns', 'Give the ARN of the topic that carries the bucket\'s S3 events or the trail\'s delivery notifications ("SnsTopicARN" in "aws cloudtrail describe-trails"), e.g. -c trailTopicArn=arn:aws:sns:eu-west-1:111122223333:cloudtrail-logs.');
    }
    if (!SNS_TOPIC_ARN.test(topicArn!)) {
      const fifo = topicArn!.endsWith('.fifo');
      fail('trailTopicArn', fifo ? `"${topicArn}" is a FIFO topic, which cannot deliver to Lambda` : `"${topicArn}" is not an SNS topic ARN`, 'Give a standard topic\'s ARN, e.g. arn:aws:sns:eu-west-1:111122223333:cloudtrail-logs.');
    }
  } else if (topicArn !== undefined) {
    fail('trailTopicArn', `only applies to trigger=sns, and trigger is ${trigger}`, 'Add -c trigger=sns, or remove trailTopicArn.');
  }
  if (trail.kind === 'existing' && trail.account !== undefined && trigger === 's3') {
    fail('trigger', 'is s3 (the default), and S3 cannot notify a function in another account (trailBucketAccount)', 'Use -c trigger=eventbridge (the AcmSentinelLogSource stack forwards the bucket\'s events to this account) or -c trigger=sns with a topic in the bucket\'s account.');
  }
  const queue = readBoolean(lookup, 'queue', false, 'Give -c queue=true to put an SQS queue between the trigger and the function, or leave it unset.');
  return { trigger, ...(topicArn !== undefined ? { trailTopicArn: topicArn } : {}), queue };
}

function readMaxDecompressedBytes(lookup: Lookup): number | undefined {
  const value = lookup('maxDecompressedBytes');
  if (value === undefined || value === null || value === '') return undefined;
  // Digits only as text: "1e9", "1GB" or "1,000" would each be read some other way by someone.
  const bytes = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    fail('maxDecompressedBytes', `${JSON.stringify(value)} is not a positive whole number of bytes`, 'Give the limit in bytes as digits, e.g. -c maxDecompressedBytes=1073741824 for 1 GiB, or leave it unset for the function\'s default (2 GiB).');
  }
  return bytes;
}

function readHeartbeatHours(lookup: Lookup): number {
  const value = lookup('heartbeatHours');
  if (value === undefined || value === null || value === '') return DEFAULT_HEARTBEAT_HOURS;
  const fix = `Give the hours without any invocation after which the heartbeat alarm fires, a whole number from 1 to ${MAX_HEARTBEAT_HOURS}, e.g. -c heartbeatHours=24 for a quiet account, or 0 to turn the alarm off; unset, it is ${DEFAULT_HEARTBEAT_HOURS}.`;
  // Digits only as text, as for maxDecompressedBytes: "1.5", "3h" or "-1" are refused, not rounded.
  const hours = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(hours) || hours < 0) {
    fail('heartbeatHours', `${JSON.stringify(value)} is not a whole number of hours`, fix);
  }
  if (hours > MAX_HEARTBEAT_HOURS) {
    fail('heartbeatHours', `${hours} hours is longer than a CloudWatch alarm can look back (${MAX_HEARTBEAT_HOURS} hours, 7 days)`, fix);
  }
  return hours;
}

function readRuleConfig(lookup: Lookup): RuleConfig {
  const source = 'context "ruleConfig"';
  let value = lookup('ruleConfig');
  if (typeof value === 'string') {
    if (value.trim() === '') return parseRuleConfig(undefined, source);
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw new ConfigError(`${source}: not valid JSON (${(err as Error).message}). Put the object in cdk.json, or quote it for your shell: -c 'ruleConfig={"minSeverity":"high"}'.`, { cause: err });
    }
  }
  return parseRuleConfig(value, source);
}

// Only plain names are checked for typos: CDK's own keys contain ':', '@' or '/'. A key that
// starts like one of ours, or is a letter or two away from one, is taken for a misspelling.
const OUR_WORDS = /^(trail|alert|slack|teams|rule|email|dedup|maxDecompress|heartbeat|trigger|queue|organization|realtime|backfill)/i;

function rejectMisspelledKeys(allKeys: readonly string[]): void {
  const known = CONTEXT_KEYS as readonly string[];
  for (const key of allKeys) {
    if (known.includes(key) || /[:@/]/.test(key)) continue;
    const distances = known.map((k) => ({ k, d: editDistance(k.toLowerCase(), key.toLowerCase()) })).sort((a, b) => a.d - b.d);
    const nearest = distances[0];
    if (!nearest || (nearest.d > 2 && !OUR_WORDS.test(key))) continue;
    throw new ConfigError(`context "${key}": not a setting of acm-sentinel. Did you mean "${nearest.k}"? (settings: ${known.join(', ')})`);
  }
}


/**
 * Reads and validates the app's settings from CDK context. `context` is every context value the
 * app sees (`node.getAllContext()`); throws ConfigError naming the key and the fix, so a wrong
 * value stops `cdk synth` before anything is deployed.
 */
export function readSettings(context: Readonly<Record<string, unknown>>): SentinelSettings {
  rejectMisspelledKeys(Object.keys(context));
  const lookup: Lookup = (key) => context[key];
  const bucketName = readBucketName(lookup);
  const keyPrefix = readKeyPrefix(lookup, bucketName !== undefined);
  const kmsKeyArn = readKmsKeyArn(lookup, bucketName !== undefined);
  const organization = readOrganization(lookup, bucketName !== undefined);
  const location = readBucketLocation(lookup, bucketName !== undefined);
  const trail: TrailSettings =
    bucketName === undefined
      ? { kind: 'new', ...(organization ? { organization } : {}) }
      : { kind: 'existing', bucketName, keyPrefix, ...(kmsKeyArn ? { kmsKeyArn } : {}), ...location };
  const slack = readSlack(lookup);
  const teams = readTeams(lookup);
  const slackWebhook = readSlackWebhook(lookup, slack !== undefined);
  const alertEmails = readEmails(lookup);
  const emailMinSeverity = readSeverity(lookup, 'emailMinSeverity');
  if (emailMinSeverity !== 'low' && alertEmails.length === 0) {
    fail('emailMinSeverity', 'only applies to the email subscriptions, and alertEmails is not set', 'Also set alertEmails, or remove emailMinSeverity (ruleConfig.minSeverity filters every channel).');
  }
  const maxDecompressedBytes = readMaxDecompressedBytes(lookup);
  return {
    trail,
    delivery: readDelivery(lookup, trail),
    realtime: readRealtime(lookup, readDedupe(lookup)),
    backfill: readBoolean(lookup, 'backfill', false, 'Give -c backfill=true to deploy the Step Functions backfill, or leave it unset.'),
    alertEmails,
    emailMinSeverity,
    ...(slack ? { slack } : {}),
    ...(teams ? { teams } : {}),
    ...(slackWebhook ? { slackWebhook } : {}),
    ruleConfig: readRuleConfig(lookup),
    dedupe: readDedupe(lookup),
    ...(maxDecompressedBytes !== undefined ? { maxDecompressedBytes } : {}),
    heartbeatHours: readHeartbeatHours(lookup),
  };
}
