// The shared configuration (config/stages.json) and the state machine definition, as the stack
// reads them. Nothing here restates a value of that file: it is parsed, checked and passed on.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The four Rust Lambdas, named as their crates under functions/. */
export const FUNCTIONS = ['trigger', 'parse', 'diagnose', 'aggregate'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export interface LambdaSettings {
  readonly memory_mb: number;
  readonly timeout_seconds: number;
  /** /tmp in MB; Lambda's default (512) when absent. */
  readonly ephemeral_storage_mb?: number;
}

export interface Deployment {
  readonly log_retention_days: number;
  readonly state_machine_log_level: 'ALL' | 'ERROR' | 'FATAL' | 'OFF';
  readonly bucket_access_logging: boolean;
  readonly retain_data: boolean;
  readonly runs_expiration_days: number;
  readonly noncurrent_version_expiration_days: number;
}

/** One stage's history store: the DynamoDB table the diagnose Lambda keeps each asset's DGA
 * history in (the Lambdas find its name in the embedded configuration, by their STAGE). */
export interface StageHistory {
  readonly table_name: string;
  readonly point_in_time_recovery: boolean;
  readonly deletion_protection: boolean;
}

export interface Stage {
  readonly log_level: string;
  readonly map: Record<string, number>;
  readonly lambdas: Record<FunctionName, LambdaSettings>;
  readonly deployment: Deployment;
  readonly history: StageHistory;
}

/** What one asset's stored history may hold: the Rust side's limits, the same on every stage
 * (the stack deploys nothing from them; they are checked here as the Rust config crate does). */
export interface HistoryLimits {
  readonly max_stored_samples_per_asset: number;
  readonly max_item_bytes: number;
  readonly max_write_attempts: number;
}

export interface RunLayoutNames {
  readonly assets: string;
  readonly rejected_rows: string;
  readonly diagnoses: string;
  readonly map_results: string;
}

export interface ResultFileNames {
  readonly summary: string;
  readonly diagnoses: string;
  readonly rejected_rows: string;
  readonly report: string;
  readonly report_html: string;
}

export interface SharedConfig {
  readonly upload_prefix: string;
  readonly runs_prefix: string;
  readonly results_prefix: string;
  readonly run_layout: RunLayoutNames;
  readonly result_files: ResultFileNames;
  readonly workbook_extensions: string[];
  readonly substitutions: string[];
  readonly history: HistoryLimits;
  readonly stages: Record<string, Stage>;
}

/** The repository's root: the folder holding config/stages.json, found from this file upwards
 * (this file runs compiled from cdk/dist/lib, so a fixed `../..` would be wrong). */
export function repoRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'config', 'stages.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`config/stages.json not found above ${from}`);
    dir = parent;
  }
}

export class ConfigError extends Error {}

// CloudWatch Logs' accepted retention periods (PutRetentionPolicy); the Rust config crate checks
// the same list, so a bad value fails `cargo test` and `cdk synth` alike.
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** DynamoDB's largest item (attribute names and values together), in the units the Rust config
 * crate checks `history.max_item_bytes` against. */
export const DYNAMODB_MAX_ITEM_BYTES = 400_000;

/** DynamoDB table names: 3-255 of A-Z, a-z, 0-9, '_', '-', '.'. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** A Standard execution can be redriven for 14 days after it ends (reference 5.4). */
export const REDRIVE_WINDOW_DAYS = 14;

function fail(file: string, what: string): never {
  throw new ConfigError(`${file}: ${what}`);
}

/** Parses and checks the shared configuration; every problem names the file and the key. */
export function parseConfig(text: string, file = 'config/stages.json'): SharedConfig {
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(file, `not valid JSON: ${(e as Error).message}`);
  }
  for (const key of ['upload_prefix', 'runs_prefix', 'results_prefix']) {
    const v = raw[key];
    if (typeof v !== 'string' || !v.endsWith('/') || v.startsWith('/')) {
      fail(file, `${key} must be a prefix ending with '/'`);
    }
  }
  for (const key of ['assets', 'rejected_rows', 'diagnoses', 'map_results']) {
    const v = raw.run_layout?.[key];
    if (typeof v !== 'string' || v === '' || v.includes('*') || v.startsWith('/')) {
      fail(file, `run_layout.${key} must be a relative name without '*'`);
    }
  }
  for (const key of ['summary', 'diagnoses', 'rejected_rows', 'report', 'report_html']) {
    const v = raw.result_files?.[key];
    if (typeof v !== 'string' || v === '' || v.includes('*') || v.startsWith('/')) {
      fail(file, `result_files.${key} must be a relative name without '*'`);
    }
  }
  // IAM patterns are built from these: `diagnoses/*` and `map/*` (the ResultWriter prefix has no
  // trailing slash, reference 1.6).
  if (!raw.run_layout.diagnoses.endsWith('/')) fail(file, "run_layout.diagnoses must end with '/'");
  if (raw.run_layout.map_results.endsWith('/')) fail(file, "run_layout.map_results must not end with '/'");
  if (!Array.isArray(raw.substitutions) || raw.substitutions.some((s: unknown) => typeof s !== 'string')) {
    fail(file, 'substitutions must be a list of names');
  }
  const h = raw.history;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) fail(file, 'history is missing');
  for (const key of ['max_stored_samples_per_asset', 'max_write_attempts']) {
    if (!Number.isInteger(h[key]) || h[key] < 1) fail(file, `history.${key} must be a positive integer`);
  }
  if (!Number.isInteger(h.max_item_bytes) || h.max_item_bytes < 1 || h.max_item_bytes > DYNAMODB_MAX_ITEM_BYTES) {
    fail(file, `history.max_item_bytes must be 1..${DYNAMODB_MAX_ITEM_BYTES} (DynamoDB's item limit)`);
  }
  // Unknown keys are refused, as the Rust config crate refuses them (deny_unknown_fields).
  for (const key of Object.keys(h)) {
    if (!['max_stored_samples_per_asset', 'max_item_bytes', 'max_write_attempts'].includes(key)) {
      fail(file, `history.${key} is not a known key`);
    }
  }
  if (typeof raw.stages !== 'object' || raw.stages === null || Object.keys(raw.stages).length === 0) {
    fail(file, 'stages must name at least one stage');
  }
  for (const [name, stage] of Object.entries<any>(raw.stages)) {
    if (!/^[a-z][a-z0-9-]{0,15}$/.test(name)) fail(file, `stage name '${name}' must be 1-16 of a-z, 0-9, '-'`);
    if (typeof stage.log_level !== 'string') fail(file, `stages.${name}.log_level is missing`);
    for (const fn of FUNCTIONS) {
      const l = stage.lambdas?.[fn];
      if (!Number.isInteger(l?.memory_mb) || l.memory_mb < 128 || l.memory_mb > 10240) {
        fail(file, `stages.${name}.lambdas.${fn}.memory_mb must be 128..10240`);
      }
      if (!Number.isInteger(l?.timeout_seconds) || l.timeout_seconds < 1 || l.timeout_seconds > 900) {
        fail(file, `stages.${name}.lambdas.${fn}.timeout_seconds must be 1..900`);
      }
      const tmp = l?.ephemeral_storage_mb;
      if (tmp !== undefined && (!Number.isInteger(tmp) || tmp < 512 || tmp > 10240)) {
        fail(file, `stages.${name}.lambdas.${fn}.ephemeral_storage_mb must be 512..10240`);
      }
    }
    const d = stage.deployment;
    if (typeof d !== 'object' || d === null) fail(file, `stages.${name}.deployment is missing`);
    if (!LOG_RETENTION_DAYS.includes(d.log_retention_days)) {
      fail(file, `stages.${name}.deployment.log_retention_days must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
    }
    if (!['ALL', 'ERROR', 'FATAL', 'OFF'].includes(d.state_machine_log_level)) {
      fail(file, `stages.${name}.deployment.state_machine_log_level must be ALL, ERROR, FATAL or OFF`);
    }
    for (const key of ['bucket_access_logging', 'retain_data']) {
      if (typeof d[key] !== 'boolean') fail(file, `stages.${name}.deployment.${key} must be true or false`);
    }
    for (const key of ['runs_expiration_days', 'noncurrent_version_expiration_days']) {
      if (!Number.isInteger(d[key]) || d[key] < 1) fail(file, `stages.${name}.deployment.${key} must be a positive integer`);
    }
    if (d.runs_expiration_days <= REDRIVE_WINDOW_DAYS) {
      fail(
        file,
        `stages.${name}.deployment.runs_expiration_days must exceed the ${REDRIVE_WINDOW_DAYS}-day redrive window (a redrive re-reads runs/)`,
      );
    }
    const sh = stage.history;
    if (typeof sh !== 'object' || sh === null || Array.isArray(sh)) fail(file, `stages.${name}.history is missing`);
    if (typeof sh.table_name !== 'string' || !TABLE_NAME.test(sh.table_name)) {
      fail(file, `stages.${name}.history.table_name must be 3-255 characters of A-Z, a-z, 0-9, '_', '-', '.'`);
    }
    for (const key of ['point_in_time_recovery', 'deletion_protection']) {
      if (typeof sh[key] !== 'boolean') fail(file, `stages.${name}.history.${key} must be true or false`);
    }
    for (const key of Object.keys(sh)) {
      if (!['table_name', 'point_in_time_recovery', 'deletion_protection'].includes(key)) {
        fail(file, `stages.${name}.history.${key} is not a known key`);
      }
    }
  }
  return raw as SharedConfig;
}

export function loadConfig(file = path.join(repoRoot(), 'config', 'stages.json')): SharedConfig {
  return parseConfig(readFileSync(file, 'utf8'), file);
}

export function stageOf(config: SharedConfig, name: string | undefined): Stage {
  const known = Object.keys(config.stages).sort().join(', ');
  if (!name) throw new ConfigError(`choose a stage with -c stage=<name> (one of: ${known})`);
  const stage = config.stages[name];
  if (!stage) throw new ConfigError(`unknown stage '${name}' (one of: ${known})`);
  return stage;
}

/** The Amazon States Language definition, with what the stack needs to know about it. */
export interface Definition {
  /** The text, unchanged: `${Name}` placeholders are filled by DefinitionSubstitutions. */
  readonly text: string;
  /** Every `${Name}` the definition uses. */
  readonly placeholders: string[];
  /** The Label of every Distributed Map (its child executions are named after it). */
  readonly distributedMapLabels: string[];
}

export function parseDefinition(text: string, file = 'statemachine/bulk-upload.asl.json'): Definition {
  let asl: any;
  try {
    asl = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const placeholders = [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))].sort();
  const labels: string[] = [];
  const walk = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
        // AWS names the children `<stateMachine>/<Label>`; without a Label, the state's name.
        labels.push(state.Label ?? name);
      }
      if (processor) walk(processor.States);
      for (const branch of state.Branches ?? []) walk(branch.States);
    }
  };
  walk(asl.States);
  return { text, placeholders, distributedMapLabels: labels };
}

export function loadDefinition(
  file = path.join(repoRoot(), 'statemachine', 'bulk-upload.asl.json'),
): Definition {
  return parseDefinition(readFileSync(file, 'utf8'), file);
}
