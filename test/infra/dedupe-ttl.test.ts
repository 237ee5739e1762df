import { Duration } from 'aws-cdk-lib';
import { FAILURE_QUEUE_RETENTION } from '../../infra/sentinel-function';
import { DEDUPE_TTL_SECONDS } from '../../lambda/adapters/dynamodb-dedupe-store';
import { build } from './build';

// An event can sit in the failure queue for its whole retention before someone re-drives it; the
// margin covers the hour of retries before it got there and a redrive that takes its time.
const MARGIN = Duration.days(2);

describe('the dedupe TTL and the failure queue', () => {
  const { template } = build();

  it('keeps failed events as long as the stack says, SQS\'s maximum of 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: FAILURE_QUEUE_RETENTION.toSeconds() });
    expect(FAILURE_QUEUE_RETENTION.toDays()).toBe(14);
  });

  it('remembers a sent event for the queue\'s retention plus two days, so re-driving a late event repeats no alert already sent', () => {
    // The function writes the TTL itself (expiresAt, in lambda/adapters/dynamodb-dedupe-store.ts);
    // the stack passes it nothing, so the two constants must be kept in step.
    expect(DEDUPE_TTL_SECONDS).toBeGreaterThanOrEqual(FAILURE_QUEUE_RETENTION.toSeconds() + MARGIN.toSeconds());
  });
});
