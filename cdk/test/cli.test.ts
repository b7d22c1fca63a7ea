// The app as operators run it: `npx cdk synth -c stage=<name>` on a clean clone, no credentials.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';
import { emptyDir } from './helpers';

const CDK_DIR = path.resolve(__dirname, '..', '..');

/** No AWS credentials, no instance metadata lookups, no version check: nothing leaves loopback. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1' };
}

/** The app itself, as the CLI runs it (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR). */
function app(context: Record<string, string>) {
  const out = mkdtempSync(path.join(tmpdir(), 'substation-app-out-'));
  const r = spawnSync(process.execPath, ['dist/bin/substation.js'], {
    cwd: CDK_DIR,
    env: { ...offlineEnv(), CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: out },
    encoding: 'utf8',
  });
  return { ...r, out };
}

it('npx cdk synth -c stage=dev works offline, with marked placeholders when nothing is built', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'substation-cli-out-'));
  const r = spawnSync(
    'npx',
    ['--no-install', 'cdk', 'synth', '-c', 'stage=dev', '-c', `artifactsDir=${emptyDir()}`, '--no-notices', '--quiet', '-o', out],
    { cwd: CDK_DIR, env: offlineEnv(), encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /PLACEHOLDER Lambda code for trigger, parse, diagnose, aggregate/);
  const template = JSON.parse(readFileSync(path.join(out, 'Substation-dev.template.json'), 'utf8'));
  const types = Object.values<any>(template.Resources).map((r) => r.Type);
  assert.ok(types.includes('AWS::StepFunctions::StateMachine'));
  assert.equal(types.filter((t) => t === 'AWS::Lambda::Function').length, 4);
  // A plain `cdk deploy` of this template is refused by CloudFormation itself.
  assert.ok(template.Rules.RefusePlaceholderCode);
});

it('the deploy path (-c artifacts=required) refuses placeholders', () => {
  const r = app({ stage: 'dev', artifacts: 'required', artifactsDir: emptyDir() });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /refusing to deploy placeholder Lambda code/);
  assert.ok(!existsSync(path.join(r.out, 'Substation-dev.template.json')));
});

it('a missing or unknown stage stops with the known ones', () => {
  for (const context of [{}, { stage: "qa" }] as Record<string, string>[]) {
    const r = app(context);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /\(one of: dev, prod, staging\)/);
  }
});
