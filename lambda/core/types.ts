/**
 * Shapes shared by the core: CloudTrail records as they arrive, and the alert object that
 * every output (scan, SNS, chat, email) is rendered from.
 */

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Orders severities so that `severityRank('critical') > severityRank('high')`. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export const ACM_EVENT_SOURCE = 'acm.amazonaws.com';
export const ACM_PCA_EVENT_SOURCE = 'acm-pca.amazonaws.com';
export const WATCHED_EVENT_SOURCES: readonly string[] = [ACM_EVENT_SOURCE, ACM_PCA_EVENT_SOURCE];

/** The fields of a CloudTrail record the core reads; everything else is carried through untouched. */
export interface CloudTrailRecord {
  eventVersion?: string;
  eventSource: string;
  eventName: string;
  eventTime?: string;
  eventID?: string;
  eventType?: string;
  awsRegion?: string;
  recipientAccountId?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  userIdentity?: UserIdentity;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: Array<{ ARN?: string; accountId?: string; type?: string }>;
  [field: string]: unknown;
}

export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: { type?: string; principalId?: string; arn?: string; accountId?: string; userName?: string };
    attributes?: { creationDate?: string; mfaAuthenticated?: string };
  };
}

export interface Actor {
  type: string;
  arn?: string;
  accountId?: string;
  principalId?: string;
  userName?: string;
  sessionIssuer?: string;
  mfa?: boolean;
  invokedBy?: string;
}

export type Outcome = 'succeeded' | 'failed';

/** How an alert's event arrived: `eventbridge` (real time, best effort) or `log` (a CloudTrail log file). */
export type Via = 'eventbridge' | 'log';

/** The alert object: the scan output and the machine-readable SNS payload (see DESIGN.md). */
export interface Alert {
  ruleId: string;
  severity: Severity;
  title: string;
  eventSource: string;
  eventName: string;
  eventId: string;
  eventTime: string;
  awsRegion: string;
  accountId: string;
  actor: Actor;
  sourceIPAddress?: string;
  userAgent?: string;
  outcome: Outcome;
  errorCode?: string;
  errorMessage?: string;
  resources: string[];
  details: Record<string, unknown>;
  why: string;
  nextSteps: string[];
  links: { cloudTrail: string; console?: string };
  logFile?: string;
  /** Which path saw the event first: a real-time EventBridge event or a CloudTrail log file. */
  via: Via;
  /** Present on a summary alert that stands for a burst of alerts of one rule by one actor. */
  storm?: StormSummary;
}

/** What a summary alert folds: every event ID, the time span and how many resources were touched. */
export interface StormSummary {
  count: number;
  firstEventTime: string;
  lastEventTime: string;
  eventIds: string[];
  resourceCount: number;
  /** Set when a very large burst is split over several summaries to fit SNS's size limit. */
  part?: { index: number; of: number };
}

/** Where a log file came from: an S3 object or a local path. */
export interface ObjectRef {
  bucket: string;
  key: string;
  size?: number;
}

/** Counts of one log file's scan, logged as the per-object summary. */
export interface ScanStats {
  records: number;
  acmRecords: number;
  /** Raw line breaks and other control characters inside strings that were escaped to read the file (pasted documentation). */
  repaired?: number;
}
