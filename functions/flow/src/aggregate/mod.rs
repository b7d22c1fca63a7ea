//! Step 3: read the ResultWriter manifest and result files, reconcile every asset of
//! `assets.jsonl`, persist `results/<run>/`. Also the `rejected` and `partial` modes reached
//! from the state machine's Catch.

//!
//! The step reads each batch once, in one pass: the digests (written by the diagnose step) feed
//! the summary's tally and the report's rows, and the lines are copied into `diagnoses.jsonl`
//! as they are, written part by part. Its memory is a fixed amount plus the ids of the assets
//! seen (for the reconciliation), whatever the fleet's size.

use serde::{Deserialize, Serialize};

use crate::parse::ParseOutput;
use crate::start::ExecutionInput;

mod html_report;
mod reconcile;
mod result_writer;
mod summary;

pub use reconcile::aggregate;
pub use result_writer::{ChildRecord, Manifest, ResultFile, ResultFiles};
pub use summary::{
    ActFirst, AssetWarning, HistorySummary, ResultFilesWritten, RunStatus, SUMMARY_SCHEMA_VERSION, StatusChange,
    Summary, SummaryCounts,
};

/// The Map state's output with a ResultWriter (AWS: only a pointer to the manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRunOutput {
    /// The Distributed Map run's ARN.
    #[serde(rename = "MapRunArn")]
    pub map_run_arn: String,
    /// Where the ResultWriter put its manifest.
    #[serde(rename = "ResultWriterDetails")]
    pub result_writer_details: ResultWriterDetails,
}

/// Where the ResultWriter's manifest is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultWriterDetails {
    /// The bucket.
    #[serde(rename = "Bucket")]
    pub bucket: String,
    /// The manifest's key.
    #[serde(rename = "Key")]
    pub key: String,
}

/// A caught error as Step Functions puts it at `ResultPath`: `Cause` is a JSON string for
/// Lambda errors (`{"errorType": ..., "errorMessage": ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaughtError {
    /// The error name (a Lambda's `errorType`, or a `States.*` name).
    #[serde(rename = "Error")]
    pub error: String,
    /// The cause, when Step Functions gives one.
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

impl CaughtError {
    /// The Lambda's own message when the cause carries one, else the cause as given.
    pub fn message(&self) -> String {
        let cause = self.cause.clone().unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&cause)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or(cause)
    }
}

/// Which path of the state machine reached the aggregate step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The Map succeeded.
    Complete,
    /// The workbook was invalid as a whole (Catch on the parse step).
    Rejected,
    /// The Map failed (e.g. tolerated failures exceeded): persist what there is, marked incomplete.
    Partial,
    /// The aggregate step itself failed (Catch on it): persist only a summary that says so, with
    /// the parse step's counts and every asset reported as failed. Reads nothing but the state.
    Failed,
}

/// The state machine's state when the aggregate step runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The execution input, flattened at the top of the state.
    #[serde(flatten)]
    pub execution: ExecutionInput,
    /// The parse step's output; absent when the workbook was rejected.
    #[serde(default)]
    pub parse: Option<ParseOutput>,
    /// The Map's output, when it returned one.
    #[serde(default)]
    pub map_run: Option<MapRunOutput>,
    /// The caught error (rejected and partial modes).
    #[serde(default)]
    pub error: Option<CaughtError>,
}

/// The aggregate Lambda's payload: `{"mode": "complete", "state": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateRequest {
    /// Which path reached the step.
    pub mode: Mode,
    /// The state machine's state.
    pub state: RunState,
}

/// What the aggregate Lambda returns (small).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateOutput {
    /// The run id.
    pub run_id: String,
    /// How the run ended.
    pub status: RunStatus,
    /// The summary's counts.
    pub counts: SummaryCounts,
    /// Where `summary.json` was written.
    pub summary_key: String,
}
