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
    /// Extensions (lower case) that start a run; S3 notification filters are case-sensitive, so
    /// the bucket filters on the prefix only and the trigger checks the extension.
    pub workbook_extensions: Vec<String>,
    /// Every `${Name}` the ASL uses, and nothing else.
    pub substitutions: Vec<String>,
    /// A JSON file of DGA threshold overrides (`dga::Thresholds::with_overrides`), if any.
    pub dga_thresholds_file: Option<String>,
    pub workbook_limits: workbook::Limits,
    pub stages: BTreeMap<String, Stage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub log_level: String,
    pub map: MapTunables,
    pub lambdas: BTreeMap<String, LambdaSettings>,
}

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
        }
        for prefix in [&self.upload_prefix, &self.runs_prefix, &self.results_prefix] {
            if !prefix.ends_with('/') || prefix.starts_with('/') {
                return Err(ConfigError::Invalid(format!(
                    "prefix '{prefix}' must end with '/' and not start with one"
                )));
            }
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
        assert!(SharedConfig::embedded().stage("qa").unwrap_err().to_string().contains("dev, prod, staging"));
    }
}
