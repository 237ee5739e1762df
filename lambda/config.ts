import { parseRuleConfigText, type RuleConfig } from './core/rules/rule-config';
import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, inflateModeFor, type InflateMode } from './core/scan/decode';
import { ConfigError } from './errors';

/**
 * How long a claim in the dedupe table holds before another invocation may take it over: shorter
 * than Lambda's first retry of an asynchronous invocation (about a minute), so the retry of an
 * invocation that died holding claims finds them free; longer than publishing takes (the SNS
 * client gives up on a call after 5 s).
 */
export const CLAIM_LEASE_MS = 45_000;

/** Environment variables the Lambda reads; the CDK stack sets them and nothing else does. */
export const ENV = {
  topicArn: 'ALERT_TOPIC_ARN',
  ruleConfig: 'ACM_SENTINEL_CONFIG',
  maxDecompressedBytes: 'MAX_DECOMPRESSED_BYTES',
  dedupeTable: 'DEDUPE_TABLE_NAME',
  claimLeaseMs: 'DEDUPE_CLAIM_LEASE_MS',
  logReaderRoleArn: 'LOG_READER_ROLE_ARN',
  logBucketRegion: 'LOG_BUCKET_REGION',
  reportBucket: 'BACKFILL_REPORT_BUCKET',
} as const;

export interface Config {
  readonly topicArn: string;
  readonly rules: RuleConfig;
  readonly maxDecompressedBytes: number;
  /** The DynamoDB table for cross-invocation deduplication; unset turns it off. */
  readonly dedupeTableName?: string;
  /** How long a claim in the dedupe table holds before another invocation may take it over. */
  readonly claimLeaseMs: number;
  /** A role in the log bucket's account that the function assumes to read log files (a bucket in another account). */
  readonly logReaderRoleArn?: string;
  /** The log bucket's Region, when it is not the function's. */
  readonly logBucketRegion?: string;
  /** Where gzip is inflated, from the function's memory size (its share of CPU). */
  readonly inflate: InflateMode;
}

/** Reads and validates the handler's configuration; throws ConfigError naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  const topicArn = env[ENV.topicArn];
  if (!topicArn || !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(topicArn)) {
    throw new ConfigError(`${ENV.topicArn} must be the ARN of the alert SNS topic (got ${topicArn ? `"${topicArn}"` : 'nothing'}); the CDK stack sets it`);
  }
  const rules = parseRuleConfigText(env[ENV.ruleConfig], ENV.ruleConfig);
  let maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES;
  const rawMax = env[ENV.maxDecompressedBytes];
  if (rawMax !== undefined && rawMax !== '') {
    maxDecompressedBytes = Number(rawMax);
    if (!Number.isSafeInteger(maxDecompressedBytes) || maxDecompressedBytes <= 0) {
      throw new ConfigError(`${ENV.maxDecompressedBytes} must be a positive whole number of bytes (got "${rawMax}")`);
    }
  }
  const dedupeTableName = env[ENV.dedupeTable] || undefined;
  if (dedupeTableName !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(dedupeTableName)) {
    throw new ConfigError(`${ENV.dedupeTable} must be a DynamoDB table name (got "${dedupeTableName}"); the CDK stack sets it`);
  }
  const claimLeaseMs = wholeNumber(env, ENV.claimLeaseMs, CLAIM_LEASE_MS, 1_000, 600_000, 'milliseconds');
  const logReaderRoleArn = env[ENV.logReaderRoleArn] || undefined;
  if (logReaderRoleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(logReaderRoleArn)) {
    throw new ConfigError(`${ENV.logReaderRoleArn} must be the ARN of an IAM role (got "${logReaderRoleArn}"); the CDK stack sets it`);
  }
  const logBucketRegion = env[ENV.logBucketRegion] || undefined;
  if (logBucketRegion !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(logBucketRegion)) {
    throw new ConfigError(`${ENV.logBucketRegion} must be an AWS Region such as eu-west-1 (got "${logBucketRegion}"); the CDK stack sets it`);
  }
  // Set by Lambda itself: the function's memory, which fixes its share of CPU.
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const inflate = inflateModeFor(availableParallelism(), Number.isFinite(memoryMb) && memoryMb > 0 ? memoryMb : undefined);
  return Object.freeze({
    topicArn, rules, maxDecompressedBytes, claimLeaseMs, inflate,
    ...(dedupeTableName ? { dedupeTableName } : {}),
    ...(logReaderRoleArn ? { logReaderRoleArn } : {}),
    ...(logBucketRegion ? { logBucketRegion } : {}),
  });
}

/** An optional whole-number setting within bounds, or its default. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, unit: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number of ${unit} from ${min} to ${max} (got "${raw}")`);
  return value;
}
