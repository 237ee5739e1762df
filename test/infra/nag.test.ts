import { Stack, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DOCUMENTED_CONFIGURATIONS } from '../../infra/configurations';
import { build } from './build';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(app: App): Acknowledgement[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason })),
      ),
  );
}

describe.each(DOCUMENTED_CONFIGURATIONS.map(([name, context]) => [name, { ...context }] as const))('cdk-nag AWS Solutions checks on %s', (_name, context) => {
  const { app } = build(context);
  const stacks = app.node.children.filter((child) => Stack.isStack(child));

  it('report no unacknowledged finding', () => {
    const { violations } = new AwsSolutionsChecks(app).validateScope(app);
    expect(violations).toEqual([]);
  });

  it('acknowledge only single findings, on single resources below the stack, each with a reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(stacks.some((each) => ack.path.startsWith(`${each.node.path}/`))).toBe(true);
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
      // A wildcard finding is acknowledged for the one resource it names, never as a whole rule.
      if (/IAM[45]/.test(ack.id)) expect(ack.id).toContain('[');
      expect(ack.reason.length).toBeGreaterThan(40);
    }
  });

  it('acknowledge nothing that is not actually found', () => {
    // Re-run the checks with every acknowledgement ignored: what they report is what was acknowledged.
    const pack = new AwsSolutionsChecks(app);
    (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
    const found = pack.validateScope(app).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`));
    for (const ack of acknowledgements(app)) {
      expect({ ack: `${ack.id} ${ack.path}`, found: found.some((f) => f.startsWith(`${ack.id} ${ack.path}`)) }).toEqual({ ack: `${ack.id} ${ack.path}`, found: true });
    }
  });
});
