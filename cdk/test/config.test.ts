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
    // The history store: the stage's table, and the Rust side's limits (checked as the Rust
    // config crate checks them, unknown keys refused as serde's deny_unknown_fields does).
    [(c) => delete c.stages.dev.history, /stages\.dev\.history is missing/],
    [(c) => (c.stages.dev.history.table_name = 'my table'), /stages\.dev\.history\.table_name must be 3-255 characters/],
    [(c) => (c.stages.prod.history.table_name = 'ab'), /stages\.prod\.history\.table_name/],
    [(c) => (c.stages.prod.history.table_name = 'x'.repeat(256)), /stages\.prod\.history\.table_name/],
    [(c) => delete c.stages.staging.history.table_name, /stages\.staging\.history\.table_name/],
    [(c) => (c.stages.prod.history.point_in_time_recovery = 'yes'), /stages\.prod\.history\.point_in_time_recovery must be true or false/],
    [(c) => delete c.stages.prod.history.deletion_protection, /stages\.prod\.history\.deletion_protection must be true or false/],
    [(c) => (c.stages.dev.history.ttl_days = 30), /stages\.dev\.history\.ttl_days is not a known key/],
    [(c) => delete c.history, /history is missing/],
    [(c) => (c.history.max_item_bytes = 500_000), /history\.max_item_bytes must be 1\.\.400000 \(DynamoDB's item limit\)/],
    [(c) => (c.history.max_item_bytes = 1.5), /history\.max_item_bytes/],
    [(c) => (c.history.max_stored_samples_per_asset = 0), /history\.max_stored_samples_per_asset must be a positive integer/],
    [(c) => (c.history.max_write_attempts = -1), /history\.max_write_attempts must be a positive integer/],
    [(c) => (c.history.max_samples = 10), /history\.max_samples is not a known key/],
  ];
  for (const [edit, message] of cases) {
    assert.throws(() => parseConfig(edited(edit), 'stages.json'), (e: Error) => e instanceof ConfigError && message.test(e.message) && e.message.startsWith('stages.json: '));
  }
  assert.throws(() => parseConfig('{', 'stages.json'), /stages\.json: not valid JSON/);
});

it('the history settings are read as the file has them', () => {
  assert.deepEqual(CONFIG.history, JSON.parse(TEXT).history);
  for (const [name, stage] of Object.entries(CONFIG.stages)) {
    assert.deepEqual(Object.keys(stage.history).sort(), ['deletion_protection', 'point_in_time_recovery', 'table_name'], name);
  }
  // DynamoDB's own limit is accepted.
  assert.doesNotThrow(() => parseConfig(edited((c) => (c.history.max_item_bytes = 400_000))));
  assert.doesNotThrow(() => parseConfig(edited((c) => (c.stages.dev.history.table_name = 'a.b_c-1'))));
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
