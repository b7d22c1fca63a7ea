// The shared configuration and the definition as the CDK app reads them: bad values stop the
// synth with the file and key named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { it } from 'node:test';
import { ConfigError, loadDefinition, parseConfig, parseDefinition, repoRoot, stageOf } from '../lib/config';
import { CONFIG } from './helpers';

const TEXT = readFileSync(path.join(repoRoot(), 'config', 'stages.json'), 'utf8');
const edited = (edit: (c: any) => void) => {
  const c = JSON.parse(TEXT);
  edit(c);
  return JSON.stringify(c);
};

it('the repository root is found from the compiled output', () => {
  assert.ok(readFileSync(path.join(repoRoot(__dirname), 'statemachine', 'bulk-upload.asl.json')));
});

it('a bad value names the file and the key', () => {
  const cases: [(c: any) => void, RegExp][] = [
    [(c) => (c.stages.prod.deployment.log_retention_days = 10), /stages\.prod\.deployment\.log_retention_days/],
    [(c) => (c.stages.dev.lambdas.parse.memory_mb = 64), /stages\.dev\.lambdas\.parse\.memory_mb/],
    [(c) => delete c.stages.dev.lambdas.diagnose, /stages\.dev\.lambdas\.diagnose/],
    [(c) => (c.stages.dev.lambdas.aggregate.ephemeral_storage_mb = 100), /stages\.dev\.lambdas\.aggregate\.ephemeral_storage_mb must be 512\.\.10240/],
    [(c) => (c.stages.dev.deployment.state_machine_log_level = 'DEBUG'), /state_machine_log_level/],
    [(c) => (c.upload_prefix = 'uploads'), /upload_prefix/],
    [(c) => (c.run_layout.assets = 'runs/*'), /run_layout\.assets/],
    [(c) => (c.run_layout.map_results = 'map/'), /run_layout\.map_results/],
    [(c) => delete c.result_files.report, /result_files\.report/],
    [(c) => (c.run_layout.diagnoses = 'diagnoses'), /run_layout\.diagnoses/],
    [(c) => (c.stages.staging.deployment.runs_expiration_days = 14), /runs_expiration_days must exceed the 14-day redrive window/],
  ];
  for (const [edit, message] of cases) {
    assert.throws(() => parseConfig(edited(edit), 'stages.json'), (e: Error) => e instanceof ConfigError && message.test(e.message) && e.message.startsWith('stages.json: '));
  }
  assert.throws(() => parseConfig('{', 'stages.json'), /stages\.json: not valid JSON/);
});

it('an unknown stage lists the known ones', () => {
  assert.throws(() => stageOf(CONFIG, 'qa'), /unknown stage 'qa' \(one of: dev, prod, staging\)/);
  assert.throws(() => stageOf(CONFIG, undefined), /-c stage=<name>/);
});

it('the definition: its placeholders and the Label of its Distributed Map', () => {
  const d = loadDefinition();
  assert.deepEqual(d.placeholders, ['AggregateFunctionArn', 'BucketName', 'DiagnoseFunctionArn', 'ParseFunctionArn']);
  assert.deepEqual(d.distributedMapLabels, ['DiagnoseAssets']);
  // Without a Label, AWS names the children after the state.
  const unlabeled = parseDefinition(
    JSON.stringify({
      StartAt: 'M',
      States: { M: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } },
    }),
  );
  assert.deepEqual(unlabeled.distributedMapLabels, ['M']);
});
