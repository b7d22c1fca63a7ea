//! The diagnosis record: what `substation diagnose --json` prints and what the pipeline persists
//! (one JSON object per asset). Documented field by field in docs/diagnosis-record.md.

use serde::{Deserialize, Serialize};

use crate::diagnosis::AssetDiagnosis;

/// Bumped whenever a field is renamed, removed or changes meaning; adding a field does not.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisRecord {
    pub schema_version: u32,
    /// Where the asset's latest sample came from: the source line or row number (CSV: the header
    /// is line 1).
    pub row: Option<u64>,
    pub asset_id: Option<String>,
    #[serde(flatten)]
    pub diagnosis: AssetDiagnosis,
}

impl DiagnosisRecord {
    pub fn new(row: Option<u64>, asset_id: Option<String>, diagnosis: AssetDiagnosis) -> Self {
        DiagnosisRecord { schema_version: SCHEMA_VERSION, row, asset_id, diagnosis }
    }
}
