// cdk-nag's AWS Solutions pack on every stage: no finding left unacknowledged, and every
// acknowledgement is on one resource, explained, and still needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { STAGES, synthStage } from './helpers';

interface Ack {
  path: string;
  id: string;
  reason: string;
  construct: IConstruct;
}

function acknowledgements(root: IConstruct): Ack[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason: typeof reason === 'string' ? reason : JSON.stringify(reason),
          construct: c,
        })),
      ),
  );
}

/** The findings as if nothing were acknowledged. */
function rawFindings(root: IConstruct) {
  const pack = new AwsSolutionsChecks();
  (pack as any).isAcknowledged = () => false;
  return pack.validateScope(root).violations;
}

for (const stage of STAGES) {
  describe(`cdk-nag, stage ${stage}`, () => {
    const { app } = synthStage(stage);

    it('the AWS Solutions pack finds nothing unacknowledged', () => {
      const report = new AwsSolutionsChecks().validateScope(app);
      assert.deepEqual(
        report.violations.map((v) => `${v.ruleName} (${v.severity}) at ${v.violatingResources.map((r) => r.constructPath)}`),
        [],
      );
      assert.equal(report.success, true);
    });

    it('each acknowledgement is on a resource (never a stack), explained, and matches a real finding', () => {
      const acks = acknowledgements(app);
      assert.ok(acks.length > 0);
      const findings = rawFindings(app);
      for (const ack of acks) {
        assert.ok(!Stack.isStack(ack.construct) && ack.construct !== app, `${ack.id} is acknowledged on a whole stack`);
        assert.ok(ack.reason.length >= 40, `${ack.path} ${ack.id}: the reason is too short: '${ack.reason}'`);
        const matched = findings.some(
          (f) =>
            f.ruleName === ack.id &&
            f.violatingResources.some((r) => r.constructPath === ack.path || r.constructPath?.startsWith(`${ack.path}/`)),
        );
        assert.ok(matched, `${ack.path}: ${ack.id} acknowledges nothing (stale)`);
      }
    });
  });
}

describe('the cdk-nag gate', () => {
  it('an insecure resource is a finding, and registered on the app it fails the synth', () => {
    const { app, stack } = synthStage('dev');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new s3.Bucket(stack, 'CarelessBucket');
    const rules = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    assert.ok(rules.includes('AwsSolutions-S1') && rules.includes('AwsSolutions-S10'), rules.join(', '));
    assert.throws(() => app.synth());
  });

  it('registered on the app, a clean stage synthesizes', () => {
    const { app } = synthStage('prod');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    assert.doesNotThrow(() => app.synth());
  });
});
