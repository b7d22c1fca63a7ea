// Shared by the tests: synthesize one stage in process, offline, and read IAM out of the template.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Aws } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Artifacts, resolveArtifacts } from '../lib/artifacts';
import { FUNCTIONS, SharedConfig, loadConfig, loadDefinition } from '../lib/config';
import { SubstationStack } from '../lib/substation-stack';

export const CONFIG = loadConfig();
export const STAGES = Object.keys(CONFIG.stages).sort();

/** A folder laid out like target/lambda/ with a (fake) zip per function. */
export function fakeArtifactDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'substation-artifacts-'));
  for (const fn of FUNCTIONS) {
    mkdirSync(path.join(dir, fn));
    writeFileSync(path.join(dir, fn, 'bootstrap.zip'), `not a real zip: ${fn}`);
  }
  return dir;
}

export function emptyDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'substation-empty-'));
}

export interface Synth {
  app: App;
  stack: SubstationStack;
  template: Template;
}

export function synthStage(
  stage: string,
  opts: { config?: SharedConfig; artifacts?: Artifacts; alarmEmail?: string; notifyEmail?: string } = {},
): Synth {
  const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'substation-cdk-out-')) });
  const stack = new SubstationStack(app, `Substation-${stage}`, {
    stage,
    config: opts.config ?? CONFIG,
    definition: loadDefinition(),
    artifacts: opts.artifacts ?? resolveArtifacts('optional', fakeArtifactDir()),
    alarmEmail: opts.alarmEmail,
    notifyEmail: opts.notifyEmail,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: SubstationStack, construct: { node: any }): string {
  const child = construct.node.defaultChild ?? construct;
  return stack.getLogicalId(child);
}

export interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown[];
  Condition?: unknown;
}

/** Every statement granted to a role (inline and attached policies), Sids dropped, actions and
 * resources sorted: comparable with a list written by hand. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const docs: any[] = [];
  const role = template.toJSON().Resources[roleLogicalId];
  if (!role) throw new Error(`no role ${roleLogicalId}`);
  for (const p of role.Properties.Policies ?? []) docs.push(p.PolicyDocument);
  for (const r of Object.values<any>(template.findResources('AWS::IAM::Policy'))) {
    if ((r.Properties.Roles ?? []).some((x: any) => x.Ref === roleLogicalId)) docs.push(r.Properties.PolicyDocument);
  }
  if ((role.Properties.ManagedPolicyArns ?? []).length > 0) throw new Error(`${roleLogicalId} has managed policies`);
  return sortStatements(docs.flatMap((d) => d.Statement));
}

function normalize(s: any): Statement {
  const arr = (x: unknown) => (Array.isArray(x) ? x : [x]);
  const out: Statement = {
    Effect: s.Effect,
    Action: [...arr(s.Action)].sort(),
    Resource: [...arr(s.Resource)].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  };
  if (s.Condition) out.Condition = s.Condition;
  return out;
}

export function sortStatements(statements: Statement[]): Statement[] {
  return statements
    .map((s) => normalize(s))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

export function allow(actions: string[], resources: unknown[], condition?: unknown): Statement {
  return { Effect: 'Allow', Action: actions, Resource: resources, ...(condition ? { Condition: condition } : {}) };
}

/** `arn:aws:s3:::substation-<stage>-<account>-<region>[/key]`, resolved as the template has it. */
export function bucketArn(stack: SubstationStack, stage: string, key?: string): unknown {
  const arn = `arn:${Aws.PARTITION}:s3:::substation-${stage}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
  return stack.resolve(key === undefined ? arn : `${arn}/${key}`);
}
