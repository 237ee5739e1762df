import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeLogStream } from '../lambda/core/pipeline/analyze';
import { createRuleEngine } from '../lambda/core/rules/evaluate';
import { DEFAULT_RULE_CONFIG, type RuleConfig } from '../lambda/core/rules/rule-config';
import type { Alert, CloudTrailRecord } from '../lambda/core/types';
import type { HandlerSummary } from '../lambda/handler';

export const ROOT = path.join(__dirname, '..');
export const RECORDS_DIR = path.join(ROOT, 'events', 'records');

/** Every sample record file in events/records, by file name. */
export function recordFixtureNames(): string[] {
  return readdirSync(RECORDS_DIR).filter((name) => name.endsWith('.json')).sort();
}

export function readFixture(name: string): unknown {
  return JSON.parse(readFileSync(path.join(RECORDS_DIR, name), 'utf8'));
}

/** Bytes as a stream of chunks, the way S3 and the file system deliver them. */
export async function* chunked(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export const gz = (document: unknown): Buffer => gzipSync(JSON.stringify(document));

/** Alerts the core raises for a document, gzipped first as CloudTrail delivers it. */
export async function alertsFor(document: unknown, config: RuleConfig = DEFAULT_RULE_CONFIG): Promise<Alert[]> {
  const { alerts } = await analyzeLogStream(chunked(gz(document)), { engine: createRuleEngine(config), name: 'test.json.gz' });
  return alerts;
}

/** A realistic CloudTrail record by an assumed role; override any field. */
export function record(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEID:alice',
      arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
      accountId: '111122223333',
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEID', arn: 'arn:aws:iam::111122223333:role/Admin', accountId: '111122223333', userName: 'Admin' },
        attributes: { creationDate: '2025-03-14T08:00:00Z', mfaAuthenticated: 'true' },
      },
    },
    eventTime: '2025-03-14T08:45:51Z',
    eventSource: 'acm.amazonaws.com',
    eventName: 'DeleteCertificate',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/2e6d0b9f-4a13-47c8-8f5e-c1a0d7b3e962' },
    responseElements: null,
    eventID: 'c63c5279-47d4-48eb-b118-82afd4e050e0',
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
    ...overrides,
  };
}

/** Strings that must never leave acm-sentinel: the secret material of every sample record. */
/**
 * The made-up ACME MAC key in events/records (the `.cleartext` GetAcmeExternalAccountBindingCredentials
 * response and the `.leaked-mac-key` tags): 64 bytes of SHA-512 in base64url, as EAB MAC keys are written.
 */
export const FAKE_MAC_KEY = createHash('sha512').update('acm-sentinel fake EAB MAC key').digest('base64url');

export const SECRET_MARKERS = [
  'HIDDEN_DUE_TO_SECURITY_REASONS',
  FAKE_MAC_KEY.slice(0, 16),
  '-----BEGIN',
  'base64 certificate',
  '"hb"',
  '**********',
  'Base64-encoded certificate',
];

/** A key as S3 writes it into event notifications: URL-encoded, with `+` for spaces. */
export const encodeS3Key = (key: string): string => encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');

/** Builds S3 ObjectCreated event records for one bucket; keys are given decoded and encoded as S3 does. */
export const s3RecordIn =
  (bucket: string) =>
  (key: string, size = 100) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeS3Key(key), size } } });

/** The Lambda handler on an event that is not an SQS batch, for which it returns the summary. */
export type S3Handler = (event: unknown) => Promise<HandlerSummary>;
/** Requires the handler now, after the test has set the environment its module-scope clients read. */
export const s3Handler = (): S3Handler => (require('../lambda/handler') as typeof import('../lambda/handler')).handler as S3Handler;
