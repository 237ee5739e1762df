import { ConfigError } from '../../lambda/errors';
import { readSettings } from '../../infra/settings';

// CDK's own context keys ride along with the user's; they must never trip validation.
const CDK_CONTEXT = { 'aws:cdk:bundling-stacks': [], '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true, 'acknowledged-issue-numbers': [1234] };

const read = (context: Record<string, unknown>) => readSettings({ ...CDK_CONTEXT, ...context });
const rejects = (context: Record<string, unknown>, message: RegExp) => {
  expect(() => read(context)).toThrow(ConfigError);
  expect(() => read(context)).toThrow(message);
};

describe('settings from context', () => {
  it('default to a new trail, no subscribers and the default rule configuration', () => {
    const settings = read({});
    expect(settings.trail).toEqual({ kind: 'new' });
    expect(settings.alertEmails).toEqual([]);
    expect(settings.slack).toBeUndefined();
    expect(settings.slackWebhook).toBeUndefined();
    expect(settings.ruleConfig.minSeverity).toBe('low');
  });

  it('default to deduplication on, every severity to every channel, the function\'s own decompression limit, and a 3-hour heartbeat', () => {
    const settings = read({});
    expect(settings.dedupe).toBe(true);
    expect(settings.emailMinSeverity).toBe('low');
    expect(settings.maxDecompressedBytes).toBeUndefined();
    expect(settings.heartbeatHours).toBe(3);
  });

  it('read every option as `-c key=value` strings give them', () => {
    const settings = read({
      trailBucketName: 'org-trail-logs',
      trailKeyPrefix: 'org/',
      trailKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234567890abcdef1234567890abcdef',
      alertEmails: 'a@example.com,b@example.com',
      slackWorkspaceId: 'T07EXAMPLE',
      slackChannelId: 'C07EXAMPLE1',
      slackWebhookSecretName: 'acm-sentinel/slack-webhook',
      ruleConfig: '{"minSeverity":"high"}',
      emailMinSeverity: 'high',
      slackMinSeverity: 'critical',
      dedupe: 'false',
      maxDecompressedBytes: '1073741824',
      heartbeatHours: '24',
      trigger: 'SNS',
      trailTopicArn: 'arn:aws:sns:eu-west-1:111122223333:cloudtrail-log-files',
      queue: 'true',
    });
    expect(settings).toEqual({
      trail: { kind: 'existing', bucketName: 'org-trail-logs', keyPrefix: 'org/', kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234567890abcdef1234567890abcdef' },
      delivery: { trigger: 'sns', trailTopicArn: 'arn:aws:sns:eu-west-1:111122223333:cloudtrail-log-files', queue: true },
      realtime: { enabled: false, regions: [] },
      backfill: false,
      alertEmails: ['a@example.com', 'b@example.com'],
      emailMinSeverity: 'high',
      slack: { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE1' },
      slackWebhook: { secretName: 'acm-sentinel/slack-webhook', minSeverity: 'critical' },
      ruleConfig: expect.objectContaining({ minSeverity: 'high' }),
      dedupe: false,
      maxDecompressedBytes: 1073741824,
      heartbeatHours: 24,
    });
  });

  it('read the values cdk.json gives as JSON: booleans and numbers', () => {
    expect(read({ dedupe: false, maxDecompressedBytes: 536870912, heartbeatHours: 12, queue: true })).toMatchObject({ dedupe: false, maxDecompressedBytes: 536870912, heartbeatHours: 12, delivery: { trigger: 's3', queue: true } });
    expect(read({ dedupe: true }).dedupe).toBe(true);
  });

  it('treat an empty value as unset, so one command can blank a value kept in cdk.json', () => {
    const blanks = ['trailBucketName', 'alertEmails', 'slackWorkspaceId', 'slackChannelId', 'slackWebhookSecretName', 'ruleConfig', 'emailMinSeverity', 'slackMinSeverity', 'dedupe', 'maxDecompressedBytes', 'heartbeatHours'];
    expect(read(Object.fromEntries(blanks.map((key) => [key, ''])))).toEqual(read({}));
  });
});

describe('trailBucketName', () => {
  it.each([['org-trail-logs'], ['aws-cloudtrail-logs-111122223333-abcdef12'], ['my.trail.bucket']])('accepts %s', (name) => {
    expect(read({ trailBucketName: name }).trail).toMatchObject({ kind: 'existing', bucketName: name, keyPrefix: '' });
  });

  it('turns a pasted S3 URL into the fix: the bare name', () => {
    rejects({ trailBucketName: 's3://org-trail-logs/org/AWSLogs/' }, /context "trailBucketName".*-c trailBucketName=org-trail-logs/);
  });

  it.each([['Org_Trail'], ['ab'], ['192.168.1.1'], ['a..b'], ['-leading']])('rejects %s, naming the key and the rule', (name) => {
    rejects({ trailBucketName: name }, /context "trailBucketName": ".*" is not a valid S3 bucket name/);
  });

  it('rejects a value that is not text', () => {
    rejects({ trailBucketName: 42 }, /context "trailBucketName": expected a string/);
  });
});

describe('trailKeyPrefix', () => {
  it('is normalized to end with one slash', () => {
    expect(read({ trailBucketName: 'b-u-c', trailKeyPrefix: 'org/trails' }).trail).toMatchObject({ keyPrefix: 'org/trails/' });
    expect(read({ trailBucketName: 'b-u-c', trailKeyPrefix: 'org//' }).trail).toMatchObject({ keyPrefix: 'org/' });
  });

  it('needs trailBucketName', () => {
    rejects({ trailKeyPrefix: 'org' }, /context "trailKeyPrefix": only applies to an existing trail bucket. Also set trailBucketName/);
  });

  it("rejects the AWSLogs/ part that CloudTrail adds itself, and says what to give", () => {
    rejects({ trailBucketName: 'b-u-c', trailKeyPrefix: 'org/AWSLogs/111122223333' }, /includes the AWSLogs\/ part.*-c trailKeyPrefix=org\./);
    rejects({ trailBucketName: 'b-u-c', trailKeyPrefix: 'AWSLogs/' }, /Leave trailKeyPrefix unset/);
  });

  it('rejects a leading slash', () => {
    rejects({ trailBucketName: 'b-u-c', trailKeyPrefix: '/org' }, /context "trailKeyPrefix": "\/org" is not an S3 key prefix/);
  });
});

describe('trailKmsKeyArn', () => {
  it('needs trailBucketName', () => {
    rejects({ trailKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' }, /context "trailKmsKeyArn": only applies to an existing trail bucket/);
  });

  it('rejects an alias ARN, since IAM grants on key ARNs', () => {
    rejects({ trailBucketName: 'b-u-c', trailKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/cloudtrail' }, /is an alias ARN. Give the full key ARN/);
  });

  it('rejects a bare key id', () => {
    rejects({ trailBucketName: 'b-u-c', trailKmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' }, /is not a KMS key ARN/);
  });
});

describe('alertEmails', () => {
  it('accepts a cdk.json list, a JSON list as text, or comma-separated text, and drops duplicates and blanks', () => {
    expect(read({ alertEmails: ['a@example.com', 'A@example.com'] }).alertEmails).toEqual(['a@example.com']);
    expect(read({ alertEmails: '["a@example.com","b@example.com"]' }).alertEmails).toEqual(['a@example.com', 'b@example.com']);
    expect(read({ alertEmails: ' a@example.com ,, b@example.com ' }).alertEmails).toEqual(['a@example.com', 'b@example.com']);
  });

  it.each([['secops'], ['a@example.com;b@example.com'], ['"Sec Ops" <secops@example.com>']])('rejects %s with an example of the expected form', (value) => {
    rejects({ alertEmails: value }, /context "alertEmails": .* is not an email address\. Give a list, e\.g\./);
  });

  it('rejects a JSON value that is not a list', () => {
    rejects({ alertEmails: { to: 'a@example.com' } }, /context "alertEmails": expected a list of email addresses/);
    rejects({ alertEmails: '[not json' }, /context "alertEmails": is not valid JSON/);
  });
});

describe('Slack', () => {
  it('needs both IDs', () => {
    rejects({ slackWorkspaceId: 'T07EXAMPLE' }, /context "slackChannelId": is missing while slackWorkspaceId is set/);
    rejects({ slackChannelId: 'C07EXAMPLE1' }, /context "slackWorkspaceId": is missing while slackChannelId is set/);
  });

  it('rejects a channel name or a link pasted instead of an ID', () => {
    rejects({ slackWorkspaceId: 'T07EXAMPLE', slackChannelId: '#security-alerts' }, /context "slackChannelId": "#security-alerts" is not a Slack channel ID.*not the #channel-name/);
    rejects({ slackWorkspaceId: 'https://acme.slack.com', slackChannelId: 'C07EXAMPLE1' }, /context "slackWorkspaceId": .* is not a Slack workspace ID/);
  });
});

describe('ruleConfig', () => {
  it('is validated with the same schema as the function, naming the context key', () => {
    rejects({ ruleConfig: { disabledRules: ['no-such-rule'] } }, /context "ruleConfig": "disabledRules" names unknown rule "no-such-rule"/);
    rejects({ ruleConfig: { minSeverity: 'urgent' } }, /context "ruleConfig": "minSeverity" must be one of/);
  });

  it('reports text that is not JSON, with the shell quoting that fixes it', () => {
    rejects({ ruleConfig: '{minSeverity: high}' }, /context "ruleConfig": not valid JSON .*-c 'ruleConfig=\{"minSeverity":"high"\}'/);
  });
});

describe('dedupe', () => {
  it.each([['TRUE', true], [' false ', false]])('reads %j as text, whatever its case', (value, expected) => {
    expect(read({ dedupe: value }).dedupe).toBe(expected);
  });

  it.each([['no'], ['0'], [0], [{ enabled: false }]])('rejects %j, naming the key and both ways to set it', (value) => {
    rejects({ dedupe: value }, /context "dedupe": expected true or false, got .*-c dedupe=false/);
  });
});

describe('maxDecompressedBytes', () => {
  it.each([['0'], ['-1'], ['1.5'], ['1e9'], ['1GB'], ['1,000'], [0], [2.5], [Number.MAX_SAFE_INTEGER + 1], [true]])('rejects %j as not a positive whole number of bytes', (value) => {
    rejects({ maxDecompressedBytes: value }, /context "maxDecompressedBytes": .* is not a positive whole number of bytes\. Give the limit in bytes as digits, e\.g\. -c maxDecompressedBytes=1073741824/);
  });
});

describe('heartbeatHours', () => {
  it.each([['0', 0], ['1', 1], [' 24 ', 24], ['168', 168], [0, 0], [168, 168]])('accepts %j: whole hours from 1 to 168, or 0 for no heartbeat alarm', (value, hours) => {
    expect(read({ heartbeatHours: value }).heartbeatHours).toBe(hours);
  });

  it.each([['-1'], ['1.5'], ['abc'], ['3h'], ['1e2'], [-1], [1.5], [Number.NaN], [true]])('rejects %j as not a whole number of hours, saying how to set it and how to turn it off', (value) => {
    rejects({ heartbeatHours: value }, /context "heartbeatHours": .* is not a whole number of hours\. Give the hours without any invocation .* a whole number from 1 to 168, e\.g\. -c heartbeatHours=24 .*or 0 to turn the alarm off/);
  });

  it.each([['169'], [169], ['1000']])('rejects %j as longer than a CloudWatch alarm can look back, naming the range', (value) => {
    rejects({ heartbeatHours: value }, /context "heartbeatHours": \d+ hours is longer than a CloudWatch alarm can look back \(168 hours, 7 days\)\. .*from 1 to 168/);
  });
});

describe('emailMinSeverity', () => {
  it.each([['low'], ['medium'], ['high'], ['critical'], ['High']])('accepts %s', (value) => {
    expect(read({ alertEmails: 'a@example.com', emailMinSeverity: value }).emailMinSeverity).toBe(value.toLowerCase());
  });

  it('rejects what is not a severity, listing the ones that are', () => {
    rejects({ alertEmails: 'a@example.com', emailMinSeverity: 'urgent' }, /context "emailMinSeverity": "urgent" is not a severity\. Use one of low, medium, high, critical/);
  });

  it('needs alertEmails, since it filters nothing else', () => {
    rejects({ emailMinSeverity: 'high' }, /context "emailMinSeverity": only applies to the email subscriptions.*Also set alertEmails/);
    expect(read({ emailMinSeverity: 'low' }).emailMinSeverity).toBe('low');
  });
});

describe('slackWebhookSecretName and slackMinSeverity', () => {
  it('accept a secret name or its complete ARN', () => {
    expect(read({ slackWebhookSecretName: 'acm-sentinel/slack-webhook' }).slackWebhook).toEqual({ secretName: 'acm-sentinel/slack-webhook', minSeverity: 'low' });
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:acm-sentinel/slack-webhook-AbC123';
    expect(read({ slackWebhookSecretName: arn, slackMinSeverity: 'high' }).slackWebhook).toEqual({ secretName: arn, minSeverity: 'high' });
  });

  it('refuse the webhook URL itself without repeating it, and say where it belongs', () => {
    const url = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
    for (const value of [url, url.replace('https://', '')]) {
      rejects({ slackWebhookSecretName: value }, /context "slackWebhookSecretName": holds a webhook URL, which is a credential.*Store the URL in a Secrets Manager secret/);
      expect(() => read({ slackWebhookSecretName: value })).not.toThrow(/XXXXXXXX/);
    }
  });

  it('refuse a partial ARN, which IAM could not match, and a name Secrets Manager would refuse', () => {
    rejects({ slackWebhookSecretName: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:acm-sentinel/slack-webhook' }, /context "slackWebhookSecretName": ".*" is not the complete ARN/);
    rejects({ slackWebhookSecretName: 'acm sentinel webhook' }, /context "slackWebhookSecretName": "acm sentinel webhook" is not a Secrets Manager secret name/);
  });

  it('refuse slackMinSeverity for an Amazon Q Developer channel alone, which no filter policy can reach, and say what to do', () => {
    rejects(
      { slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1', slackMinSeverity: 'high' },
      /context "slackMinSeverity": cannot apply to the Amazon Q Developer in chat applications channel.*no filter policy can be attached.*slackWebhookSecretName.*ruleConfig\.minSeverity, which filters every channel/,
    );
  });

  it('refuse slackMinSeverity with no Slack at all, and accept it alongside a webhook', () => {
    rejects({ slackMinSeverity: 'medium' }, /context "slackMinSeverity": only applies to the Slack incoming webhook.*Also set slackWebhookSecretName/);
    rejects({ slackWebhookSecretName: 'acm-sentinel/slack-webhook', slackMinSeverity: 'severe' }, /context "slackMinSeverity": "severe" is not a severity/);
    expect(read({ slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1', slackWebhookSecretName: 'acm-sentinel/slack-webhook', slackMinSeverity: 'high' }).slackWebhook?.minSeverity).toBe('high');
    expect(read({ slackWorkspaceId: 'T07EXAMPLE', slackChannelId: 'C07EXAMPLE1', slackMinSeverity: 'low' }).slackWebhook).toBeUndefined();
  });
});

describe('misspelled keys', () => {
  it.each([['trailBucket'], ['TrailBucketName'], ['alertEmail'], ['slackChanelId'], ['dedup'], ['emailMinSeverty'], ['slackWebhookSecret'], ['maxDecompressedByte'], ['heartbeatHour'], ['heartBeatHours'], ['heartbeat']])('stops %s from being silently ignored', (key) => {
    rejects({ [key]: 'x' }, new RegExp(`context "${key}": not a setting of acm-sentinel\\. Did you mean`));
  });
});
