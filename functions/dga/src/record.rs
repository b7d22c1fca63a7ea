//! The diagnosis record: what `substation diagnose --json` prints and what the pipeline persists
//! (one JSON object per asset). Documented field by field in docs/diagnosis-record.md.

use serde::{Deserialize, Serialize};

use crate::diagnosis::AssetDiagnosis;
use crate::gas::DgaSample;

/// Bumped whenever a field is renamed, removed or changes meaning; adding a field does not.
/// Version 2: `fault` is an IEC 60599 / Triangle 1 code (sub-zones moved to `refinements`),
/// "not determined" reads `UNDETERMINED`, agreement is exact or by family, and the record carries
/// probabilities, a priority, the history and warnings.
pub const SCHEMA_VERSION: u32 = 2;

/// Where a sample came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleOrigin {
    /// The sheet of the workbook (or `None` for a CSV or a command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The Excel row or CSV line (the header is line 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// The upload (source object) it came from, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
}

/// One sample the diagnosis rests on: its date, gases and origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistorySample {
    /// The sample as read (date and gases).
    pub sample: DgaSample,
    /// Where it came from.
    pub origin: SampleOrigin,
}

/// A row the engineer should know about: `{code, text, rows: [{sheet, row}]}`, one shape for
/// every kind of warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// A stable code, e.g. `newest_sample_rejected`.
    pub code: String,
    /// What happened and what it means for the verdict.
    pub text: String,
    /// The rows concerned.
    pub rows: Vec<SampleOrigin>,
}

/// The persisted record of one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisRecord {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where the asset's latest sample came from: the source line or row number (CSV: the header
    /// is line 1).
    pub row: Option<u64>,
    /// The asset's id, where the input has one.
    pub asset_id: Option<String>,
    /// The diagnosis.
    #[serde(flatten)]
    pub diagnosis: AssetDiagnosis,
    /// Every sample the diagnosis rests on, oldest first.
    #[serde(default)]
    pub history: Vec<HistorySample>,
    /// What happened to the data that the engineer should know.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

impl DiagnosisRecord {
    /// A record with its history (oldest first) and no warnings.
    pub fn new(
        row: Option<u64>,
        asset_id: Option<String>,
        diagnosis: AssetDiagnosis,
        history: Vec<HistorySample>,
    ) -> Self {
        DiagnosisRecord { schema_version: SCHEMA_VERSION, row, asset_id, diagnosis, history, warnings: Vec::new() }
    }

    /// The record with these warnings.
    pub fn with_warnings(mut self, warnings: Vec<Warning>) -> Self {
        self.warnings = warnings;
        self
    }
}
