//! Step 2, one Distributed Map child: diagnose a batch of asset items exactly as the ItemBatcher
//! delivers them, write the batch's lines, return only counts and the key.

use dga::{DiagnosisRecord, Thresholds, diagnose_asset};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use workbook::AssetItem;
use workbook::item::SourceRow;

use crate::error::FlowError;
use crate::history::{self, HistoryError, HistoryStore, HistoryWrite, MergeCounts, UploadRef};
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
    /// What the merge with the asset's stored history found (absent without a history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_history: Option<MergeCounts>,
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
    /// An asset neither on the upload's assets sheet nor in the history: its rows are rejected.
    Unknown(UnknownAssetRows),
}

/// The rows of an asset that neither the upload's assets sheet nor the history knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownAssetRows {
    /// The asset's id.
    pub asset_id: String,
    /// One rejected row per sample, with the reason.
    pub rows: Vec<workbook::RowError>,
}

impl UnknownAssetRows {
    fn of(item: &AssetItem) -> Self {
        let reason = format!(
            "unknown asset: '{}' is neither on this upload's assets sheet nor in the history of earlier uploads \
             (list it on the assets sheet, or check the id)",
            item.asset_id
        );
        UnknownAssetRows { asset_id: item.asset_id.clone(), rows: item.rejected_rows(&reason) }
    }
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
    /// What the merge with the stored history found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_history: Option<MergeCounts>,
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
            merged_history: line.merged_history.clone(),
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
    /// Assets whose rows were rejected: unknown to the upload's assets sheet and the history.
    #[serde(default)]
    pub rejected: usize,
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
                merged_history: None,
                provenance: None,
            }))
        }
        Err(e) => BatchLine::Failed(AssetFailure { asset_id, error: e.to_string() }),
    }
}

/// Step 2: diagnoses one batch and writes its lines to the batch's file under
/// `runs/<run>/diagnoses/`. Without a history store: each asset on its upload's samples.
pub async fn diagnose_batch<S: ObjectStore>(
    store: &S,
    envelope: &BatchEnvelope,
    thresholds: &Thresholds,
    config: &config::SharedConfig,
) -> Result<BatchOutput, FlowError> {
    run_batch(store, None::<&NoHistory>, envelope, thresholds, config).await
}

/// Step 2 with the history store: the batch reads its assets' stored histories, merges the new
/// samples, diagnoses each asset on the merged history and writes it back, conditionally; an
/// asset another writer changed meanwhile is read, merged and diagnosed again
/// (`history.max_write_attempts`, then `HistoryConflict`).
pub async fn diagnose_batch_with_history<S: ObjectStore, H: HistoryStore>(
    store: &S,
    history: &H,
    envelope: &BatchEnvelope,
    thresholds: &Thresholds,
    config: &config::SharedConfig,
) -> Result<BatchOutput, FlowError> {
    run_batch(store, Some(history), envelope, thresholds, config).await
}

/// No store: never called (the type of `None`).
enum NoHistory {}

impl HistoryStore for NoHistory {
    async fn read(&self, _: &[String]) -> Result<std::collections::HashMap<String, history::Stored>, HistoryError> {
        match *self {}
    }
    async fn write(&self, _: &HistoryWrite) -> Result<u64, HistoryError> {
        match *self {}
    }
    async fn asset_ids(&self) -> Result<Vec<String>, HistoryError> {
        match *self {}
    }
    async fn archived(&self, _: &str) -> Result<Vec<history::StoredSample>, HistoryError> {
        match *self {}
    }
}

/// A batch line before it is written, with what the aggregate needs of an unknown asset.
enum Outcome {
    Line(BatchLine),
    Unknown(UnknownAssetRows),
}

/// Why an asset of a batch has no diagnosis line.
#[derive(Debug, Clone, PartialEq)]
pub enum NotDiagnosed {
    /// Neither the upload's assets sheet nor the history knows it.
    Unknown(UnknownAssetRows),
    /// The diagnosis failed.
    Failed(AssetFailure),
}

/// One asset merged with its stored history (as read) and diagnosed: its line, and the write that
/// stores the merged history with this diagnosis (none for undated samples). A failed diagnosis
/// writes nothing: the batch's retry, or the next upload, merges it again.
pub fn merge_and_diagnose(
    stored: Option<&history::Stored>,
    item: &AssetItem,
    upload: &UploadRef,
    thresholds: &Thresholds,
    config: &config::SharedConfig,
) -> Result<(DiagnosisLine, Option<HistoryWrite>), NotDiagnosed> {
    let merged = history::merge(
        stored.map(|s| &s.history),
        item,
        upload,
        &config.history,
        config.workbook_limits.max_samples_per_item,
    )
    .map_err(|history::UnknownAsset| NotDiagnosed::Unknown(UnknownAssetRows::of(item)))?;
    let mut line = match diagnose_asset_item(&merged.item, thresholds) {
        BatchLine::Diagnosed(line) => line,
        BatchLine::Failed(f) => return Err(NotDiagnosed::Failed(f)),
    };
    line.record.warnings.extend(merged.corrections);
    line.merged_history = Some(merged.counts);
    let write = merged.history.map(|h| HistoryWrite {
        history: history::with_diagnosis(h, &upload.run_id, &line.record),
        expected_version: stored.map(|s| s.version),
        archive: merged.archive,
    });
    Ok((*line, write))
}

/// Each asset of the batch merged with its stored history and diagnosed, in the items' order.
/// Lost writes are merged again from a fresh read, up to the configured attempts.
pub async fn diagnose_with_history<H: HistoryStore>(
    history: &H,
    items: Vec<AssetItem>,
    upload: &UploadRef,
    thresholds: &Thresholds,
    config: &config::SharedConfig,
) -> Result<Vec<Result<DiagnosisLine, NotDiagnosed>>, FlowError> {
    let mut out: Vec<Option<Result<DiagnosisLine, NotDiagnosed>>> = (0..items.len()).map(|_| None).collect();
    let mut pending: Vec<usize> = (0..items.len()).collect();
    for attempt in 1..=config.history.max_write_attempts {
        let ids: Vec<String> = pending.iter().map(|&i| items[i].asset_id.clone()).collect();
        let stored = history.read(&ids).await?;
        let mut writes = Vec::new();
        let mut written = Vec::new();
        for &i in &pending {
            let item = &items[i];
            out[i] = Some(match merge_and_diagnose(stored.get(&item.asset_id), item, upload, thresholds, config) {
                Ok((line, write)) => {
                    if let Some(w) = write {
                        writes.push(w);
                        written.push(i);
                    }
                    Ok(line)
                }
                Err(e) => Err(e),
            });
        }
        let results = history.write_all(&writes).await;
        pending.clear();
        for (i, r) in written.into_iter().zip(results) {
            match r {
                Ok(_) => {}
                Err(HistoryError::Conflict { .. }) => pending.push(i),
                Err(e) => return Err(e.into()),
            }
        }
        if pending.is_empty() {
            break;
        }
        tracing::info!(conflicts = pending.len(), attempt, "history changed while merging: merging again");
    }
    if let Some(&i) = pending.first() {
        return Err(HistoryError::Conflict { asset_id: items[i].asset_id.clone() }.into());
    }
    // Every item got its outcome in the first pass; later passes only replace lost writes'.
    Ok(out
        .into_iter()
        .zip(&items)
        .map(|(o, item)| {
            o.unwrap_or_else(|| {
                Err(NotDiagnosed::Failed(AssetFailure {
                    asset_id: Some(item.asset_id.clone()),
                    error: "not diagnosed".into(),
                }))
            })
        })
        .collect())
}

async fn run_batch<S: ObjectStore, H: HistoryStore>(
    store: &S,
    history: Option<&H>,
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
    let outcomes: Vec<Outcome> = match history {
        None => items
            .into_iter()
            .map(|item| match item {
                Ok(asset) => Outcome::Line(diagnose_asset_item(&asset, thresholds)),
                Err(f) => Outcome::Line(BatchLine::Failed(f)),
            })
            .collect(),
        Some(h) => {
            let upload = UploadRef {
                run_id: envelope.batch_input.run_id.clone(),
                file: envelope
                    .batch_input
                    .upload
                    .as_ref()
                    .map_or(String::new(), |u| u.key.rsplit('/').next().unwrap_or(&u.key).to_owned()),
            };
            let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(items.len());
            let mut good = Vec::new();
            for item in items {
                match item {
                    Ok(a) => {
                        good.push((outcomes.len(), a));
                        outcomes.push(None);
                    }
                    Err(f) => outcomes.push(Some(Outcome::Line(BatchLine::Failed(f)))),
                }
            }
            let (at, assets): (Vec<usize>, Vec<AssetItem>) = good.into_iter().unzip();
            let done = diagnose_with_history(h, assets, &upload, thresholds, config).await?;
            for (i, result) in at.into_iter().zip(done) {
                outcomes[i] = Some(match result {
                    Ok(line) => Outcome::Line(BatchLine::Diagnosed(Box::new(line))),
                    Err(NotDiagnosed::Unknown(unknown)) => Outcome::Unknown(unknown),
                    Err(NotDiagnosed::Failed(f)) => Outcome::Line(BatchLine::Failed(f)),
                });
            }
            outcomes.into_iter().flatten().collect()
        }
    };
    // About 10 KB of lines and 1.5 KB of digest per asset: sized once, not grown by doubling.
    let n = envelope.items.len();
    let (mut body, mut rows) = (Vec::with_capacity((n * 10) << 10), Vec::with_capacity(n * 1536));
    let (mut diagnosed, mut failed, mut rejected) = (0, 0, 0);
    for outcome in outcomes {
        match outcome {
            Outcome::Line(BatchLine::Diagnosed(mut d)) => {
                diagnosed += 1;
                if let Some(p) = &provenance {
                    d.provenance = Some(p.clone());
                    crate::jsonl::push(&mut rows, &AssetDigest::Diagnosed(Box::new(DiagnosedDigest::of(&d))))?;
                }
                crate::jsonl::push(&mut body, &d)?;
            }
            Outcome::Line(BatchLine::Failed(f)) => {
                failed += 1;
                tracing::warn!(run_id = %envelope.batch_input.run_id, batch_id = %id, asset_id = ?f.asset_id, error = %f.error, "asset not diagnosed");
                if provenance.is_some() {
                    crate::jsonl::push(&mut rows, &AssetDigest::Failed(f))?;
                } else {
                    crate::jsonl::push(&mut body, &f)?;
                }
            }
            Outcome::Unknown(u) => {
                rejected += 1;
                if provenance.is_some() {
                    crate::jsonl::push(&mut rows, &AssetDigest::Unknown(u))?;
                } else {
                    let error = u.rows.first().map_or(String::new(), |r| r.reason.clone());
                    crate::jsonl::push(&mut body, &AssetFailure { asset_id: Some(u.asset_id), error })?;
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
    tracing::info!(run_id = %envelope.batch_input.run_id, batch_id = %id, diagnosed, failed, rejected, "batch diagnosed");
    Ok(BatchOutput { batch_id: id, key, assets: envelope.items.len(), diagnosed, failed, rejected, rows_key })
}
