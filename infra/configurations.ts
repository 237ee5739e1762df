/**
 * Every configuration the README and docs/deploy.md show, as the context `-c key=value` gives.
 * The cdk-nag test and `npm run lint:templates` (cfn-lint) run on each, so a documented setup
 * that does not synthesize cleanly fails CI.
 */
export const EXAMPLE_TRAIL = {
  trailBucketName: 'org-trail-logs',
  trailKeyPrefix: 'org',
  trailKmsKeyArn: 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab',
} as const;

/** A topic in the deploy Region (eu-west-1) that carries the trail bucket's events. */
export const EXAMPLE_TRAIL_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:cloudtrail-log-files';

export const DOCUMENTED_CONFIGURATIONS: ReadonlyArray<readonly [name: string, context: Readonly<Record<string, unknown>>]> = [
  ['the default app (new trail)', {}],
  ['an existing trail bucket', { trailBucketName: EXAMPLE_TRAIL.trailBucketName }],
  [
    'every option at once',
    {
      ...EXAMPLE_TRAIL,
      alertEmails: ['secops@example.com', 'oncall@example.com'],
      emailMinSeverity: 'high',
      slackWorkspaceId: 'T07EXAMPLE',
      slackChannelId: 'C07EXAMPLE1',
      slackWebhookSecretName: 'acm-sentinel/slack-webhook',
      slackMinSeverity: 'medium',
      ruleConfig: { minSeverity: 'medium' },
      maxDecompressedBytes: 1073741824,
      heartbeatHours: 24,
      queue: 'true',
    },
  ],
  ['a new trail with emails and Slack', { alertEmails: 'secops@example.com', slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1' }],
  ['deduplication off', { dedupe: 'false' }],
  ['the heartbeat alarm off', { heartbeatHours: '0' }],
  ['the longest heartbeat', { heartbeatHours: '168' }],
  ['emails filtered by severity, which adds the alarm topic', { alertEmails: 'secops@example.com', emailMinSeverity: 'critical' }],
  ['the Slack webhook alone, named by its complete ARN', { slackWebhookSecretName: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:acm-sentinel/slack-webhook-AbC123' }],
  ['a new trail with a queue', { queue: 'true' }],
  ['a new trail through EventBridge', { trigger: 'eventbridge' }],
  ['an existing bucket through EventBridge, with a queue', { ...EXAMPLE_TRAIL, trigger: 'eventbridge', queue: 'true' }],
  ['an existing bucket through an SNS topic', { ...EXAMPLE_TRAIL, trigger: 'sns', trailTopicArn: EXAMPLE_TRAIL_TOPIC }],
  ['an existing bucket through an SNS topic, with a queue', { ...EXAMPLE_TRAIL, trigger: 'sns', trailTopicArn: EXAMPLE_TRAIL_TOPIC, queue: 'true' }],
  ['an existing bucket with a queue', { ...EXAMPLE_TRAIL, queue: 'true' }],
  [
    'a bucket in another account (AWS Control Tower log archive) through EventBridge, with a queue',
    { ...EXAMPLE_TRAIL, trailBucketAccount: '444455556666', trigger: 'eventbridge', queue: 'true', alertEmails: 'secops@example.com' },
  ],
  ['a bucket in another account and Region, through EventBridge', { trailBucketName: 'aws-controltower-logs-444455556666-us-east-1', trailBucketAccount: '444455556666', trailBucketRegion: 'us-east-1', trigger: 'eventbridge' }],
  ['a bucket in another account, through a topic there', { ...EXAMPLE_TRAIL, trailBucketAccount: '444455556666', trigger: 'sns', trailTopicArn: 'arn:aws:sns:eu-west-1:444455556666:cloudtrail-log-files' }],
  ['real time in two more Regions', { realtimeRegions: 'us-east-1,ap-southeast-2', alertEmails: 'secops@example.com' }],
  ['real time for an organization, with a queue', { ...EXAMPLE_TRAIL, organizationId: 'o-a1b2c3d4e5', queue: 'true', realtimeRegions: 'us-east-1' }],
  ['log files only (real time off)', { realtime: 'false' }],
  ['the Step Functions backfill', { backfill: 'true', alertEmails: 'secops@example.com' }],
  ['the Step Functions backfill on an existing bucket in another account', { ...EXAMPLE_TRAIL, trailBucketAccount: '444455556666', trigger: 'eventbridge', backfill: 'true' }],
  ['a new organization trail', { organizationTrail: 'true', organizationId: 'o-a1b2c3d4e5', alertEmails: 'secops@example.com' }],
  ['a new organization trail from a delegated administrator', { organizationTrail: 'true', organizationId: 'o-a1b2c3d4e5', organizationManagementAccount: '999988887777' }],
  [
    'a Microsoft Teams channel beside Slack',
    {
      alertEmails: 'secops@example.com',
      slackWorkspaceId: 'T07EXAMPLE',
      slackChannelId: 'C07EXAMPLE1',
      teamsTenantId: 'a1b2c3d4-0000-4000-8000-0123456789ab',
      teamsTeamId: 'f0e1d2c3-1111-4111-8111-0123456789ab',
      teamsChannelId: '19%3a0123456789abcdef0123456789abcdef%40thread.tacv2',
    },
  ],
];
