//! Step 2, one Distributed Map child: diagnose a batch of asset items exactly as the ItemBatcher
//! delivers them, write the batch's lines, return only counts and the key.

use dga::{DiagnosisRecord, Thresholds, diagnose_asset};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use workbook::AssetItem;
use workbook::item::SourceRow;

use crate::error::FlowError;
use crate::layout::RunLayout;
use crate::start::{Provenance, Upload};
use crate::store::ObjectStore;

/// `BatchInput` as the ASL sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchInput {
    /// The run id: where the batch writes.
    pub run_id: String,
    /// The program version and configuration hash, for the lines' provenance. With it and
    /// `upload`, the batch writes its lines as `diagnoses.jsonl` holds them, and a digest file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// The upload the run reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<Upload>,
}

impl BatchInput {
    /// The lines' provenance, when the ASL passes what it is made of.
    pub fn line_provenance(&self) -> Option<LineProvenance> {
        Some(LineProvenance::new(&self.run_id, self.provenance.as_ref()?, self.upload.as_ref()?))
    }
}

/// The child's input: `{"BatchInput": {...}, "Items": [...]}` (AWS ItemBatcher).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchEnvelope {
    /// What the ASL passes to every batch.
    #[serde(rename = "BatchInput")]
    pub batch_input: BatchInput,
    /// The batch's asset items, as their JSON text (each read on its own: a malformed item
    /// fails alone, and no value tree is built for any).
    #[serde(rename = "Items")]
    pub items: Vec<Box<RawValue>>,
}

/// Asset metadata carried into the results next to the diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetMeta {
    /// The asset's name, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The substation, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substation: Option<String>,
    /// Year of manufacture, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacture_year: Option<i32>,
    /// Age at the latest sample, years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_years: Option<f64>,
    /// Rated power, MVA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rated_mva: Option<f64>,
    /// Rated voltage, kV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage_kv: Option<f64>,
    /// Sealed or free-breathing, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breathing: Option<workbook::Breathing>,
}

/// One line of `results/<run>/diagnoses.jsonl`: the diagnosis record (as `substation diagnose
/// --json` prints it) plus the asset's metadata and the rows its samples came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisLine {
    /// The diagnosis record.
    #[serde(flatten)]
    pub record: DiagnosisRecord,
    /// The asset's metadata, as read.
    pub asset: AssetMeta,
    /// The sheet and row of every sample diagnosed, oldest first.
    pub sample_rows: Vec<SourceRow>,
    /// Older samples left out of the item (docs/asset-item.md).
    pub samples_omitted: usize,
    /// Which run, program, configuration and source object produced the line: written by the
    /// diagnose step when its BatchInput carries them (the bulk-upload definition passes them),
    /// else added by the aggregate step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<LineProvenance>,
}

/// Provenance carried by every persisted line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineProvenance {
    /// The run id.
    pub run_id: String,
    /// The program version that produced the line.
    pub program_version: String,
    /// A short hash of the configuration in force (config/stages.json).
    pub config_hash: String,
    /// The upload's key.
    pub source_key: String,
    /// The upload's version id, or else its ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

impl LineProvenance {
    /// The provenance of every line of a run.
    pub fn new(run_id: &str, provenance: &Provenance, upload: &Upload) -> Self {
        LineProvenance {
            run_id: run_id.to_owned(),
            program_version: provenance.program_version.clone(),
            config_hash: provenance.config_hash.clone(),
            source_key: upload.key.clone(),
            source_version: upload.version_id.clone().or_else(|| upload.etag.clone()),
        }
    }
}

/// What the aggregate needs of one asset, written by the diagnose step (in parallel, from the
/// record in hand) beside the batch's lines, so that the aggregate never parses a line: the
/// report's row and the summary's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AssetDigest {
    /// A diagnosed asset.
    Diagnosed(Box<DiagnosedDigest>),
    /// An asset the batch could not diagnose.
    Failed(AssetFailure),
}

/// A diagnosed asset's digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosedDigest {
    /// The Diagnoses sheet's row (asset id, status, fault, priority, row, …).
    pub report: workbook::write::ReportRow,
    /// The refinements' codes, as the act-first list shows them.
    pub refinement_codes: Vec<String>,
    /// `high`, `medium` or `low`; `None` for `UNDETERMINED`.
    pub confidence: Option<String>,
    /// The worst IEEE C57.104-2019 exceedance as a table shows it (the sentence is the report
    /// row's `first_reason`).
    pub first_reason_short: Option<String>,
    /// The fault's energy rank (dga::priority::fault_energy): equal priorities go by it.
    pub fault_energy: u8,
    /// The record's warnings.
    pub warnings: Vec<dga::Warning>,
}

impl DiagnosedDigest {
    /// The digest of a diagnosis line.
    pub fn of(line: &DiagnosisLine) -> Self {
        let d = &line.record.diagnosis;
        DiagnosedDigest {
            report: workbook::write::ReportRow::new(
                &line.record,
                line.asset.name.as_deref(),
                line.asset.substation.as_deref(),
            ),
            refinement_codes: d.refinement_codes().into_iter().map(|c| c.to_string()).collect(),
            confidence: d.confidence.map(|c| c.word().to_owned()),
            first_reason_short: d.ieee_c57_104_2019.reasons.first().map(|r| r.short()),
            fault_energy: dga::priority::fault_energy(d.fault),
            warnings: line.record.warnings.clone(),
        }
    }
}

/// An asset the batch could not diagnose; the rest of the batch goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetFailure {
    /// The asset's id, when the item has one.
    pub asset_id: Option<String>,
    /// Why it could not be diagnosed.
    pub error: String,
}

/// A line of a batch file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchLine {
    /// An asset that could not be diagnosed.
    Failed(AssetFailure),
    /// A diagnosed asset's line.
    Diagnosed(Box<DiagnosisLine>),
}

/// What the child returns: small, whatever the batch held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchOutput {
    /// The batch's id, from its items.
    pub batch_id: String,
    /// The batch file's key.
    pub key: String,
    /// Asset items in the batch.
    pub assets: usize,
    /// Assets diagnosed.
    pub diagnosed: usize,
    /// Assets not diagnosed.
    pub failed: usize,
    /// The batch's digest file, when its lines are final (written with their provenance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_key: Option<String>,
}

/// Deterministic from the batch's items, so a retried batch overwrites its file: the hash of
/// their asset ids (unique within a run), or of the whole item's text where it has none.
pub fn batch_id<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for key in keys {
        h.update(key.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// An item read from its JSON text: the asset item, or why it is not one (with the item's
/// asset id when it has one).
pub fn read_item(item: &RawValue) -> Result<AssetItem, AssetFailure> {
    serde_json::from_str::<AssetItem>(item.get())
        .map_err(|e| AssetFailure { asset_id: item_asset_id(item), error: format!("not an asset item: {e}") })
}

/// Only an item's asset id, whatever else it holds (`None` when it has no string id).
pub fn item_asset_id(item: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        #[serde(default)]
        asset_id: Option<serde_json::Value>,
    }
    serde_json::from_str::<Id>(item.get()).ok()?.asset_id?.as_str().map(str::to_owned)
}

/// Diagnoses one asset item from its JSON text; a malformed item or a failed diagnosis is a
/// `Failed` line, never an error.
pub fn diagnose_item(item: &RawValue, t: &Thresholds) -> BatchLine {
    match read_item(item) {
        Ok(asset) => diagnose_asset_item(&asset, t),
        Err(f) => BatchLine::Failed(f),
    }
}

/// Diagnoses one asset item; a failed diagnosis is a `Failed` line, never an error.
pub fn diagnose_asset_item(asset: &AssetItem, t: &Thresholds) -> BatchLine {
    let asset_id = Some(asset.asset_id.clone());
    match diagnose_asset(&asset.samples(), &asset.asset_info(), t) {
        Ok(d) => {
            let row = asset.latest_row().map(|s| u64::from(s.row));
            BatchLine::Diagnosed(Box::new(DiagnosisLine {
                record: DiagnosisRecord::new(row, Some(asset.asset_id.clone()), d, asset.history())
                    .with_warnings(asset.warnings()),
                asset: AssetMeta {
                    name: asset.name.clone(),
                    substation: asset.substation.clone(),
                    manufacture_year: asset.manufacture_year,
                    age_years: asset.age_years,
                    rated_mva: asset.rated_mva,
                    voltage_kv: asset.voltage_kv,
                    breathing: asset.breathing,
                },
                sample_rows: asset.samples.iter().map(|s| SourceRow { sheet: s.sheet.clone(), row: s.row }).collect(),
                samples_omitted: asset.samples_omitted,
                provenance: None,
            }))
        }
        Err(e) => BatchLine::Failed(AssetFailure { asset_id, error: e.to_string() }),
    }
}

/// Step 2: diagnoses one batch and writes its lines to the batch's file under
/// `runs/<run>/diagnoses/`.
pub async fn diagnose_batch<S: ObjectStore>(
    store: &S,
    envelope: &BatchEnvelope,
    thresholds: &Thresholds,
    config: &config::SharedConfig,
) -> Result<BatchOutput, FlowError> {
    let layout = RunLayout::new(&envelope.batch_input.run_id, config);
    // Each item is read once, straight from its text; a malformed one fails alone.
    let items: Vec<Result<AssetItem, AssetFailure>> = envelope.items.iter().map(|i| read_item(i)).collect();
    let id = batch_id(items.iter().zip(&envelope.items).map(|(item, raw)| match item {
        Ok(a) => a.asset_id.as_str(),
        Err(AssetFailure { asset_id: Some(id), .. }) => id.as_str(),
        Err(_) => raw.get(),
    }));
    // With the provenance, the lines are final (the aggregate copies them as they are) and
    // the digests go beside them; without (an older definition), the lines carry failures too
    // and the aggregate reads them as before.
    let provenance = envelope.batch_input.line_provenance();
    // About 10 KB of lines and 1.5 KB of digest per asset: sized once, not grown by doubling.
    let n = envelope.items.len();
    let (mut body, mut rows) = (Vec::with_capacity((n * 10) << 10), Vec::with_capacity(n * 1536));
    let (mut diagnosed, mut failed) = (0, 0);
    for item in items {
        let line = match item {
            Ok(asset) => diagnose_asset_item(&asset, thresholds),
            Err(f) => BatchLine::Failed(f),
        };
        match line {
            BatchLine::Diagnosed(mut d) => {
                diagnosed += 1;
                if let Some(p) = &provenance {
                    d.provenance = Some(p.clone());
                    crate::jsonl::push(&mut rows, &AssetDigest::Diagnosed(Box::new(DiagnosedDigest::of(&d))))?;
                }
                crate::jsonl::push(&mut body, &d)?;
            }
            BatchLine::Failed(f) => {
                failed += 1;
                tracing::warn!(run_id = %envelope.batch_input.run_id, batch_id = %id, asset_id = ?f.asset_id, error = %f.error, "asset not diagnosed");
                if provenance.is_some() {
                    crate::jsonl::push(&mut rows, &AssetDigest::Failed(f))?;
                } else {
                    crate::jsonl::push(&mut body, &f)?;
                }
            }
        }
    }
    let key = layout.batch(&id);
    store.put(&key, body).await?;
    let rows_key = match provenance {
        Some(_) => {
            let k = layout.batch_rows(&id);
            store.put(&k, rows).await?;
            Some(k)
        }
        None => None,
    };
    tracing::info!(run_id = %envelope.batch_input.run_id, batch_id = %id, diagnosed, failed, "batch diagnosed");
    Ok(BatchOutput { batch_id: id, key, assets: envelope.items.len(), diagnosed, failed, rows_key })
}
