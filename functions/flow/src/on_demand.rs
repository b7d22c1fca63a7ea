//! One asset on demand: an asset id and its new sample(s) in, the diagnosis line out, merged with
//! the asset's stored history, synchronously and without a workflow (an inspection app or a
//! backend invokes the diagnose Lambda with it; `substation diagnose --asset` locally). Its shapes
//! and error names are in docs/results.md, "One asset on demand".

use dga::{DgaSample, Thresholds};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use workbook::AssetItem;
use workbook::item::ItemSample;

use crate::diagnose::{DiagnosisLine, NotDiagnosed, diagnose_with_history, merge_and_diagnose};
use crate::error::FlowError;
use crate::history::{HistoryStore, UploadRef};

/// The request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRequest {
    /// The asset, as its history knows it.
    pub asset_id: String,
    /// The new sample(s): date and gases in ppm, as in the asset item (docs/asset-item.md).
    pub samples: Vec<DgaSample>,
    /// Store the samples in the history (else the answer is a what-if: nothing is written).
    #[serde(default)]
    pub save: bool,
    /// Accept an asset the history does not know (else `UnknownAsset`): a new transformer.
    #[serde(default)]
    pub new_asset: bool,
    /// Who or what sent the samples (e.g. `inspection app, log 4711`): stored as the samples'
    /// file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Most samples in one request.
pub const MAX_REQUEST_SAMPLES: usize = 120;

/// The request's run id: `on-demand-<hash>`, the same for the same request (a retried request
/// is a repeat, kept once).
pub fn request_run_id(request: &AssetRequest) -> String {
    let canonical = serde_json::to_vec(&(&request.asset_id, &request.samples)).unwrap_or_default();
    let digest = Sha256::digest(&canonical);
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("on-demand-{hash}")
}

/// Diagnoses one asset on its stored history plus the request's samples; with `save`, the merged
/// history is written back (conditionally, retried as a batch's is).
pub async fn diagnose_one<H: HistoryStore>(
    history: &H,
    request: &AssetRequest,
    thresholds: &Thresholds,
    config: &config::SharedConfig,
) -> Result<DiagnosisLine, FlowError> {
    if request.asset_id.trim().is_empty() {
        return Err(FlowError::InputInvalid("the request's asset_id is empty".into()));
    }
    if request.samples.is_empty() || request.samples.len() > MAX_REQUEST_SAMPLES {
        return Err(FlowError::InputInvalid(format!(
            "a request carries 1 to {MAX_REQUEST_SAMPLES} samples, not {}",
            request.samples.len()
        )));
    }
    if request.save && request.samples.iter().any(|s| s.sampled_on.is_none()) {
        return Err(FlowError::InputInvalid("a sample to save needs its sampled_on date".into()));
    }
    let upload =
        UploadRef { run_id: request_run_id(request), file: request.source.clone().unwrap_or_else(|| "request".into()) };
    let item = AssetItem {
        schema_version: workbook::item::ITEM_SCHEMA_VERSION,
        asset_id: request.asset_id.clone(),
        samples: request
            .samples
            .iter()
            .enumerate()
            .map(|(i, s)| ItemSample { sheet: "request".into(), row: i as u32 + 1, sample: s.clone(), upload: None })
            .collect(),
        unlisted: !request.new_asset,
        ..AssetItem::default()
    };
    let outcome = if request.save {
        diagnose_with_history(history, vec![item], &upload, thresholds, config).await?.pop()
    } else {
        // A what-if: merged and diagnosed as a batch would, nothing written.
        let stored = history.read(std::slice::from_ref(&request.asset_id)).await?.remove(&request.asset_id);
        Some(merge_and_diagnose(stored.as_ref(), &item, &upload, thresholds, config).map(|(line, _)| line))
    };
    match outcome {
        Some(Ok(line)) => Ok(line),
        Some(Err(NotDiagnosed::Unknown(_))) => Err(FlowError::UnknownAsset(request.asset_id.clone())),
        Some(Err(NotDiagnosed::Failed(f))) => Err(FlowError::DiagnosisFailed(f.error)),
        None => Err(FlowError::DiagnosisFailed("no answer".into())),
    }
}
