//! Reading the Distributed Map's ResultWriter files (shared/reference/aws-step-functions.md
//! 1.6): the manifest, then each result file — SUCCEEDED in the `COMPACT` form the bulk-upload
//! definition writes (the children's outputs) or the `NONE` form (records whose `Output` is JSON
//! text), FAILED and PENDING always in the `NONE` form; JSON arrays or JSON Lines.

use serde::Deserialize;

use super::CaughtError;
use crate::diagnose::{BatchEnvelope, BatchOutput};
use crate::error::FlowError;
use crate::store::ObjectStore;

/// The ResultWriter's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Manifest {
    /// The bucket the result files are in.
    #[serde(rename = "DestinationBucket")]
    pub destination_bucket: String,
    /// The Distributed Map run's ARN.
    #[serde(rename = "MapRunArn")]
    pub map_run_arn: String,
    /// The result files, by the status of the child executions they record.
    #[serde(rename = "ResultFiles")]
    pub result_files: ResultFiles,
}

/// The result files of a manifest, by the status of the child executions they record.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ResultFiles {
    /// Files of child executions that succeeded.
    #[serde(rename = "SUCCEEDED", default)]
    pub succeeded: Vec<ResultFile>,
    /// Files of child executions that failed.
    #[serde(rename = "FAILED", default)]
    pub failed: Vec<ResultFile>,
    /// Files of child executions that had not run when the Map ended.
    #[serde(rename = "PENDING", default)]
    pub pending: Vec<ResultFile>,
}

/// One result file of the manifest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultFile {
    /// Its key.
    #[serde(rename = "Key")]
    pub key: String,
    /// Its size, bytes.
    #[serde(rename = "Size", default)]
    pub size: u64,
}

/// One child execution's record. `Input` and `Output` are JSON *strings*.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChildRecord {
    /// The child execution's ARN.
    #[serde(rename = "ExecutionArn", default)]
    pub execution_arn: Option<String>,
    /// The child's input (a batch envelope), as a JSON string.
    #[serde(rename = "Input", default)]
    pub input: Option<String>,
    /// The child's output (a batch output), as a JSON string.
    #[serde(rename = "Output", default)]
    pub output: Option<String>,
    /// The child's status, e.g. `SUCCEEDED` or `FAILED`.
    #[serde(rename = "Status")]
    pub status: String,
    /// The child's error name, if it failed.
    #[serde(rename = "Error", default)]
    pub error: Option<String>,
    /// The child's error cause, if it failed.
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// One entry of a SUCCEEDED result file: a child's record in the `NONE` form, or the child's
/// output itself in the `COMPACT` form.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SucceededEntry {
    Record(ChildRecord),
    Output(BatchOutput),
}

pub(crate) fn manifest_error(key: &str, reason: impl Into<String>) -> FlowError {
    FlowError::ManifestInvalid { key: key.to_owned(), reason: reason.into() }
}

/// A result file's entries: a JSON array (`OutputType: JSON`) or JSON Lines (`JSONL`).
fn entries<T: serde::de::DeserializeOwned>(bytes: &[u8], key: &str) -> Result<Vec<T>, FlowError> {
    let text = bytes.trim_ascii_start();
    if text.first() == Some(&b'[') {
        return serde_json::from_slice(text).map_err(|e| manifest_error(key, e.to_string()));
    }
    crate::jsonl::lines(text)
        .map(|l| serde_json::from_slice(l).map_err(|e| manifest_error(key, e.to_string())))
        .collect()
}

fn envelope_asset_ids(input: Option<&str>, key: &str) -> Result<Vec<String>, FlowError> {
    let input = input.ok_or_else(|| manifest_error(key, "a child record has no Input"))?;
    let envelope: BatchEnvelope =
        serde_json::from_str(input).map_err(|e| manifest_error(key, format!("a child's Input is not a batch: {e}")))?;
    Ok(envelope.items.iter().map(|i| crate::diagnose::item_asset_id(i).unwrap_or_default()).collect())
}

/// What a Map run's result files say.
#[derive(Debug, Default)]
pub(crate) struct MapResults {
    /// The Map run's ARN.
    pub map_run_arn: Option<String>,
    /// The batches that succeeded, in the files' order.
    pub batches: Vec<BatchOutput>,
    /// Assets of failed batches, with why. (Assets of PENDING batches are those no file
    /// mentions: the reconciliation finds them never started without reading their inputs.)
    pub failed: Vec<(String, String)>,
}

/// Reads a manifest and its result files.
pub(crate) async fn read<S: ObjectStore>(store: &S, manifest_key: &str) -> Result<MapResults, FlowError> {
    let bytes = store.get(manifest_key).await?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| manifest_error(manifest_key, e.to_string()))?;
    let mut out = MapResults { map_run_arn: Some(manifest.map_run_arn.clone()), ..Default::default() };
    for file in &manifest.result_files.succeeded {
        let bytes = store.get(&file.key).await?;
        for entry in entries::<SucceededEntry>(&bytes, &file.key)? {
            out.batches.push(match entry {
                SucceededEntry::Output(b) => b,
                SucceededEntry::Record(r) => {
                    let output = r
                        .output
                        .as_deref()
                        .ok_or_else(|| manifest_error(&file.key, "a SUCCEEDED record has no Output"))?;
                    serde_json::from_str(output).map_err(|e| {
                        manifest_error(&file.key, format!("a child's Output is not a batch result: {e}"))
                    })?
                }
            });
        }
    }
    for file in &manifest.result_files.failed {
        for r in entries::<ChildRecord>(&store.get(&file.key).await?, &file.key)? {
            let why = format!(
                "batch {} {}: {}{}",
                r.execution_arn.as_deref().and_then(|a| a.rsplit(':').next()).unwrap_or("?"),
                r.status.to_lowercase(),
                r.error.as_deref().unwrap_or("unknown error"),
                r.cause
                    .as_deref()
                    .map(|c| format!(
                        " ({})",
                        CaughtError { error: String::new(), cause: Some(c.to_owned()) }.message()
                    ))
                    .unwrap_or_default()
            );
            for id in envelope_asset_ids(r.input.as_deref(), &file.key)? {
                out.failed.push((id, why.clone()));
            }
        }
    }
    Ok(out)
}
