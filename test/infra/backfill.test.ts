import { Match } from 'aws-cdk-lib/assertions';
import { BACKFILL_PREFIXES_PER_BATCH } from '../../infra/backfill';
import { build } from './build';

type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> };

/** The state machine's definition, with CloudFormation references written as `<LogicalId>`. */
function definitionOf(template: ReturnType<typeof build>['template']): Definition {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Array<{ Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }>;
  const name = (part: { Ref?: string; 'Fn::GetAtt'?: string[] }) => part.Ref ?? part['Fn::GetAtt']?.[0] ?? '?';
  const parts = machine!.Properties.DefinitionString['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `<${name(part as { Ref?: string })}>`));
  return JSON.parse(parts.join('')) as Definition;
}

describe('the backfill (-c backfill=true)', () => {
  const { template } = build({ backfill: 'true' });
  const definition = definitionOf(template);
  const map = definition.States[definition.StartAt]!;

  it('is a Distributed Map over the run\'s manifest of day folders, in batches, with concurrency and tolerated failures from the input', () => {
    expect(map).toMatchObject({
      Type: 'Map',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ItemReader: { Resource: expect.stringMatching(/:states:::s3:getObject$/), ReaderConfig: { InputType: 'JSONL' }, Parameters: { 'Key.$': '$.manifestKey' } },
      ItemBatcher: { MaxItemsPerBatch: BACKFILL_PREFIXES_PER_BATCH, BatchInput: { 'bucket.$': '$.bucket', 'since.$': '$.since', 'until.$': '$.until', 'publish.$': '$.publish', 'execution.$': '$$.Execution.Name' } },
      MaxConcurrencyPath: '$.maxConcurrency',
      ToleratedFailurePercentagePath: '$.toleratedFailurePercentage',
      ResultWriter: { Resource: expect.stringMatching(/:states:::s3:putObject$/), Parameters: { Prefix: 'runs' } },
    });
  });

  it('hands each batch to the backfill entry point of the sentinel code, retrying with backoff', () => {
    const processor = map.ItemProcessor as Definition;
    expect(processor.States[processor.StartAt]).toMatchObject({
      Type: 'Task',
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }],
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.backfill', Timeout: 900, Environment: { Variables: Match.objectLike({ BACKFILL_REPORT_BUCKET: { Ref: Match.stringLikeRegexp('^BackfillReports') } }) } });
  });

  it('lets the backfill function list only the log prefix and write only findings', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['AWSLogs/*'] } } }),
          Match.objectLike({ Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^BackfillReports'), 'Arn'] }, '/findings/*']] } }),
        ]),
      },
    });
  });

  it('is absent by default', () => {
    build({}).template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });
});
