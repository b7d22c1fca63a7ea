//! The one shared configuration: `config/stages.json`, embedded at build time so a binary works
//! from any folder. The CDK app reads the same file; nothing restates its values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The committed file, as built into this binary.
pub const STAGES_JSON: &str = include_str!("../stages.json");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedConfig {
    pub schema_version: u32,
    pub upload_prefix: String,
    pub runs_prefix: String,
    pub results_prefix: String,
    /// The names inside `runs/<run>/`; the CDK app scopes IAM to them.
    pub run_layout: RunLayoutNames,
    /// The files of `results/<run>/`, what users read (docs/results.md).
    pub result_files: ResultFileNames,
    /// Extensions (lower case) that start a run; S3 notification filters are case-sensitive, so
    /// the bucket filters on the prefix only and the trigger checks the extension.
    pub workbook_extensions: Vec<String>,
    /// Every `${Name}` the ASL uses, and nothing else.
    pub substitutions: Vec<String>,
    /// A JSON file of DGA threshold overrides (`dga::Thresholds::with_overrides`), if any.
    pub dga_thresholds_file: Option<String>,
    pub workbook_limits: workbook::Limits,
    /// The history store's limits, the same on every stage (docs/results.md, "History").
    pub history: HistoryLimits,
    pub stages: BTreeMap<String, Stage>,
}

/// What one asset's stored history may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryLimits {
    /// Samples kept in an asset's record, newest; older ones move to its archive (counted).
    /// 200 samples of at most about 1.2 KB each keep a DynamoDB item under its 400 KB limit.
    pub max_stored_samples_per_asset: usize,
    /// An asset's record is also cut (oldest samples archived) to stay under this many bytes of
    /// JSON: DynamoDB refuses an item over 400 KB (attribute names and values together).
    pub max_item_bytes: usize,
    /// Conditional writes of one asset that lost to another writer before its batch fails with
    /// `HistoryConflict` (and Step Functions retries the batch).
    pub max_write_attempts: u32,
}

/// One stage's history store (the DynamoDB table on AWS; the CDK app creates it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageHistory {
    /// The table's name: the CDK app names the table so, and the Lambdas read it from here.
    pub table_name: String,
    /// Point-in-time recovery (35 days of continuous backups).
    pub point_in_time_recovery: bool,
    /// The table cannot be deleted until this is turned off.
    pub deletion_protection: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub log_level: String,
    pub map: MapTunables,
    pub lambdas: BTreeMap<String, LambdaSettings>,
    /// What the CDK app deploys for this stage (the Rust code only validates it).
    pub deployment: Deployment,
    /// Each asset's stored history across uploads.
    pub history: StageHistory,
}

/// The files of one run under `runs/<run>/` (see `flow::layout::RunLayout`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunLayoutNames {
    /// The asset items, one per line: the Distributed Map's ItemReader reads this file.
    pub assets: String,
    pub rejected_rows: String,
    /// A folder (ends with `/`) the diagnose Lambda writes one file per batch into.
    pub diagnoses: String,
    /// The ResultWriter prefix, without a trailing slash (AWS's handling of one is UNCONFIRMED).
    pub map_results: String,
}

/// The files of one run under `results/<run>/`; the run notification links to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultFileNames {
    pub summary: String,
    pub diagnoses: String,
    pub rejected_rows: String,
    pub report: String,
    /// The self-contained HTML report.
    pub report_html: String,
}

/// The stack's per-stage settings, read by `cdk/` (never restated in TypeScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// CloudWatch Logs retention of every log group; one of the values CloudWatch accepts.
    pub log_retention_days: u32,
    /// The state machine's logging level: `ALL`, `ERROR`, `FATAL` or `OFF`.
    pub state_machine_log_level: String,
    /// S3 server access logs of the data bucket, into a separate log bucket.
    pub bucket_access_logging: bool,
    /// Keep the bucket and log groups when the stack is deleted.
    pub retain_data: bool,
    /// `runs/` intermediates expire after this many days: at least 15, so a failed run can still
    /// be redriven (Step Functions allows a redrive for 14 days after it ends).
    pub runs_expiration_days: u32,
    pub noncurrent_version_expiration_days: u32,
}

/// The retention periods CloudWatch Logs accepts (`PutRetentionPolicy`).
pub const LOG_RETENTION_DAYS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
/// The redrive window of a Standard execution, in days.
pub const REDRIVE_WINDOW_DAYS: u32 = 14;

/// The Distributed Map's numbers; they reach the ASL through the execution input (`*Path`
/// fields), so the definition itself only holds names.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapTunables {
    pub max_concurrency: u32,
    pub max_items_per_batch: u32,
    /// At most 256 KiB (AWS limit of a child's input).
    pub max_input_bytes_per_batch: u32,
    pub tolerated_failure_percentage: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSettings {
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// `/tmp`, MB (512 when absent). The aggregate spills the report's rows there (about 1.4 KB
    /// an asset with the samples of those at status 2-3) beside rust_xlsxwriter's sheet files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage_mb: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("unknown stage '{stage}' (known: {known})")]
    UnknownStage { stage: String, known: String },
}

/// 256 KiB: the payload limit of a Step Functions state or child input.
pub const MAX_PAYLOAD_BYTES: u32 = 262_144;

impl SharedConfig {
    /// The embedded configuration.
    pub fn embedded() -> SharedConfig {
        // The file is checked by the tests of this crate; a broken commit cannot build a release.
        SharedConfig::parse(STAGES_JSON).unwrap_or_else(|e| panic!("config/stages.json: {e}"))
    }

    pub fn parse(json: &str) -> Result<SharedConfig, ConfigError> {
        let config: SharedConfig = serde_json::from_str(json)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (name, stage) in &self.stages {
            let m = stage.map;
            if m.max_input_bytes_per_batch == 0 || m.max_input_bytes_per_batch > MAX_PAYLOAD_BYTES {
                return Err(ConfigError::Invalid(format!(
                    "stages.{name}.map.max_input_bytes_per_batch must be 1..={MAX_PAYLOAD_BYTES}"
                )));
            }
            if m.max_items_per_batch == 0 || m.max_concurrency == 0 {
                return Err(ConfigError::Invalid(format!(
                    "stages.{name}.map: batch size and concurrency must be positive"
                )));
            }
            if !(0.0..=100.0).contains(&m.tolerated_failure_percentage) {
                return Err(ConfigError::Invalid(format!(
                    "stages.{name}.map.tolerated_failure_percentage must be 0..=100"
                )));
            }
            let table = &stage.history.table_name;
            // DynamoDB table names: 3-255 of [A-Za-z0-9_.-].
            if !(3..=255).contains(&table.len())
                || !table.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            {
                return Err(ConfigError::Invalid(format!(
                    "stages.{name}.history.table_name must be 3-255 characters of A-Z, a-z, 0-9, '_', '-', '.'"
                )));
            }
            let d = &stage.deployment;
            if !LOG_RETENTION_DAYS.contains(&d.log_retention_days) {
                return Err(ConfigError::Invalid(format!(
                    "stages.{name}.deployment.log_retention_days must be one of {LOG_RETENTION_DAYS:?}"
                )));
            }
            if !["ALL", "ERROR", "FATAL", "OFF"].contains(&d.state_machine_log_level.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "stages.{name}.deployment.state_machine_log_level must be ALL, ERROR, FATAL or OFF"
                )));
            }
            if d.runs_expiration_days <= REDRIVE_WINDOW_DAYS || d.noncurrent_version_expiration_days == 0 {
                return Err(ConfigError::Invalid(format!(
                    "stages.{name}.deployment: runs_expiration_days must exceed the {REDRIVE_WINDOW_DAYS}-day \
                     redrive window and noncurrent_version_expiration_days must be positive"
                )));
            }
        }
        let h = &self.history;
        if h.max_stored_samples_per_asset == 0 || h.max_item_bytes > 400_000 || h.max_write_attempts == 0 {
            return Err(ConfigError::Invalid(
                "history: max_stored_samples_per_asset and max_write_attempts must be positive, max_item_bytes at most 400,000 (DynamoDB's item limit)".into(),
            ));
        }
        for prefix in [&self.upload_prefix, &self.runs_prefix, &self.results_prefix] {
            if !prefix.ends_with('/') || prefix.starts_with('/') {
                return Err(ConfigError::Invalid(format!(
                    "prefix '{prefix}' must end with '/' and not start with one"
                )));
            }
        }
        let l = &self.run_layout;
        let r = &self.result_files;
        let names = [
            &l.assets,
            &l.rejected_rows,
            &l.diagnoses,
            &l.map_results,
            &r.summary,
            &r.diagnoses,
            &r.rejected_rows,
            &r.report,
            &r.report_html,
        ];
        if names.iter().any(|n| n.is_empty() || n.starts_with('/') || n.contains('*'))
            || !l.diagnoses.ends_with('/')
            || l.map_results.ends_with('/')
        {
            return Err(ConfigError::Invalid(
                "run_layout, result_files: names must be relative, without '*'; run_layout.diagnoses ends with '/', map_results does not".into(),
            ));
        }
        Ok(())
    }

    pub fn stage(&self, name: &str) -> Result<&Stage, ConfigError> {
        self.stages.get(name).ok_or_else(|| ConfigError::UnknownStage {
            stage: name.to_owned(),
            known: self.stages.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// A short hash of the configuration in force, recorded as provenance in every result.
    /// The definition's substitutions for a run outside a stack: each `<Step>FunctionArn` names
    /// the function by its binary's name (`parse`, `diagnose`, `aggregate`: the in-process
    /// handlers of `substation run`, and the functions `cargo lambda watch` serves), anything
    /// else is the bucket.
    pub fn substitution_values(&self, bucket: &str) -> BTreeMap<String, String> {
        self.substitutions
            .iter()
            .map(|name| {
                let value = match name.strip_suffix("FunctionArn") {
                    Some(step) => step.to_ascii_lowercase(),
                    None => bucket.to_owned(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    pub fn hash(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&canonical);
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_file_is_valid_and_has_the_three_stages() {
        let c = SharedConfig::embedded();
        assert_eq!(c.stages.keys().collect::<Vec<_>>(), ["dev", "prod", "staging"]);
        for stage in c.stages.values() {
            assert_eq!(stage.lambdas.keys().collect::<Vec<_>>(), ["aggregate", "diagnose", "parse", "trigger"]);
        }
        assert_eq!(c.workbook_limits, workbook::Limits::default());
        assert_eq!(c.hash().len(), 12);
    }

    #[test]
    fn bad_values_are_refused() {
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["stages"]["dev"]["map"]["max_input_bytes_per_batch"] = 300_000.into();
        assert!(SharedConfig::parse(&v.to_string()).unwrap_err().to_string().contains("max_input_bytes_per_batch"));
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["stages"]["dev"]["map"]["typo"] = 1.into();
        assert!(SharedConfig::parse(&v.to_string()).is_err());
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["stages"]["prod"]["deployment"]["log_retention_days"] = 10.into();
        assert!(SharedConfig::parse(&v.to_string()).unwrap_err().to_string().contains("log_retention_days"));
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["stages"]["dev"]["deployment"]["runs_expiration_days"] = 7.into();
        assert!(SharedConfig::parse(&v.to_string()).unwrap_err().to_string().contains("redrive"));
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["stages"]["dev"]["deployment"]["state_machine_log_level"] = "DEBUG".into();
        assert!(SharedConfig::parse(&v.to_string()).is_err());
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["run_layout"]["map_results"] = "map/".into();
        assert!(SharedConfig::parse(&v.to_string()).unwrap_err().to_string().contains("run_layout"));
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["result_files"]["report"] = "/report.xlsx".into();
        assert!(SharedConfig::parse(&v.to_string()).unwrap_err().to_string().contains("result_files"));
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["stages"]["dev"]["history"]["table_name"] = "my table".into();
        assert!(SharedConfig::parse(&v.to_string()).unwrap_err().to_string().contains("table_name"));
        let mut v: serde_json::Value = serde_json::from_str(STAGES_JSON).unwrap();
        v["history"]["max_item_bytes"] = 500_000.into();
        assert!(SharedConfig::parse(&v.to_string()).unwrap_err().to_string().contains("400,000"));
        assert!(SharedConfig::embedded().stage("qa").unwrap_err().to_string().contains("dev, prod, staging"));
    }
}
