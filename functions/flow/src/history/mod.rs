//! Each asset's DGA history across uploads: the stored shape, the port to the store
//! ([`HistoryStore`]: DynamoDB on AWS, SQLite in the `--out` folder locally), and the merge of an
//! upload's samples into what is stored (pure, in [`merge`]).
//!
//! The rules (docs/results.md, "History across uploads"):
//! - a sample's key is its date plus the lab's sample id where the workbook has one;
//! - an identical repeat is kept once; a different value under the same key is a correction:
//!   the newer upload's value replaces the stored one, and the diagnosis warns, naming both;
//! - the stored metadata fills in what an upload leaves out;
//! - an asset keeps its newest `max_stored_samples_per_asset` samples; older ones move to its
//!   archive and are counted;
//! - every write is conditional on the version read: a writer that lost re-reads and merges again.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use chrono::NaiveDate;
use dga::DgaSample;
use serde::{Deserialize, Serialize};
use workbook::item::{ItemSample, age_from_year};
use workbook::{AssetItem, Breathing};

/// Bumped when a stored field is renamed, removed or changes meaning.
pub const HISTORY_SCHEMA_VERSION: u32 = 1;

/// Where a stored sample came from: the upload (run id and file) and its sheet and row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleSource {
    /// The run that read it.
    pub run_id: String,
    /// The upload's file name.
    pub file: String,
    /// The sheet.
    pub sheet: String,
    /// The row number Excel shows.
    pub row: u32,
}

impl SampleSource {
    /// `'fleet-q1.xlsx' sheet 'Samples' row 7 (run fleet-q1-xlsx-…)`.
    pub fn describe(&self) -> String {
        format!("'{}' sheet '{}' row {} (run {})", self.file, self.sheet, self.row, self.run_id)
    }
}

/// One stored sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSample {
    /// The date and gases, as read.
    pub sample: DgaSample,
    /// The lab's sample id, where the workbook has one: part of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab_sample_id: Option<String>,
    /// Where it came from.
    pub source: SampleSource,
}

/// What identifies a sample of one asset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleKey {
    /// When the oil was drawn.
    pub sampled_on: NaiveDate,
    /// The lab's sample id, where known.
    pub lab_sample_id: Option<String>,
}

impl StoredSample {
    /// Its key; `None` for an undated sample (never stored: it cannot be ordered or matched).
    pub fn key(&self) -> Option<SampleKey> {
        Some(SampleKey { sampled_on: self.sample.sampled_on?, lab_sample_id: self.lab_sample_id.clone() })
    }
}

/// An asset's metadata as stored: the assets sheet's fields, the latest upload's where it gave
/// them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StoredMeta {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Substation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substation: Option<String>,
    /// Year of manufacture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacture_year: Option<i32>,
    /// Year commissioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commissioning_year: Option<i32>,
    /// Age as an upload gave it (an age column), at that upload's latest sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_years: Option<f64>,
    /// Rated power, MVA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rated_mva: Option<f64>,
    /// Rated voltage, kV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage_kv: Option<f64>,
    /// Oil type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oil_type: Option<String>,
    /// Sealed or free-breathing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breathing: Option<Breathing>,
    /// Whether the OLTC's oil communicates with the main tank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oltc_communicating: Option<bool>,
    /// Other columns of the assets sheet.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl StoredMeta {
    fn of(item: &AssetItem) -> StoredMeta {
        StoredMeta {
            name: item.name.clone(),
            substation: item.substation.clone(),
            manufacture_year: item.manufacture_year,
            commissioning_year: item.commissioning_year,
            age_years: item.age_years.filter(|_| item.manufacture_year.is_none() && item.commissioning_year.is_none()),
            rated_mva: item.rated_mva,
            voltage_kv: item.voltage_kv,
            oil_type: item.oil_type.clone(),
            breathing: item.breathing,
            oltc_communicating: item.oltc_communicating,
            attributes: item.attributes.clone(),
        }
    }

    /// The upload's fields where it gave them, the stored ones elsewhere.
    fn filled_from(self, stored: &StoredMeta) -> StoredMeta {
        let mut attributes = stored.attributes.clone();
        attributes.extend(self.attributes);
        StoredMeta {
            name: self.name.or_else(|| stored.name.clone()),
            substation: self.substation.or_else(|| stored.substation.clone()),
            manufacture_year: self.manufacture_year.or(stored.manufacture_year),
            commissioning_year: self.commissioning_year.or(stored.commissioning_year),
            age_years: self.age_years.or(stored.age_years),
            rated_mva: self.rated_mva.or(stored.rated_mva),
            voltage_kv: self.voltage_kv.or(stored.voltage_kv),
            oil_type: self.oil_type.or_else(|| stored.oil_type.clone()),
            breathing: self.breathing.or(stored.breathing),
            oltc_communicating: self.oltc_communicating.or(stored.oltc_communicating),
            attributes,
        }
    }
}

/// The asset's latest diagnosis, kept so the next one can say whether its status got worse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastDiagnosis {
    /// The run that made it.
    pub run_id: String,
    /// IEEE C57.104-2019 status, 1-3.
    pub status: u8,
    /// The fault code, e.g. `T2`.
    pub fault: String,
    /// The date of the latest sample it rested on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_sample: Option<NaiveDate>,
}

/// One asset's stored history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetHistory {
    /// [`HISTORY_SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The asset's id.
    pub asset_id: String,
    /// Its metadata.
    pub meta: StoredMeta,
    /// Oldest first, one per key.
    pub samples: Vec<StoredSample>,
    /// Older samples moved to the asset's archive (kept, not diagnosed on).
    #[serde(default)]
    pub archived_samples: u64,
    /// Its latest diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_diagnosis: Option<LastDiagnosis>,
}

/// A stored history and the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The history.
    pub history: AssetHistory,
    /// Its version: every write adds one.
    pub version: u64,
}

/// A conditional write: `history` replaces the stored one if the store is still at
/// `expected_version` (`None`: nothing is stored for the asset).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryWrite {
    /// The history to store.
    pub history: AssetHistory,
    /// The version read, or `None` for a new asset.
    pub expected_version: Option<u64>,
    /// Samples that leave the record for the asset's archive.
    pub archive: Vec<StoredSample>,
}

/// Why the history store failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistoryError {
    /// Another writer changed the asset since it was read.
    #[error("the history of '{asset_id}' changed while it was merged")]
    Conflict {
        /// The asset.
        asset_id: String,
    },
    /// The store could not be read or written.
    #[error("the history store is unavailable: {0}")]
    Unavailable(String),
    /// A stored record cannot be read.
    #[error("the stored history of '{asset_id}' is not valid: {message}")]
    Corrupt {
        /// The asset.
        asset_id: String,
        /// Why.
        message: String,
    },
}

/// The most assets one history read asks for at once (DynamoDB's BatchGetItem takes at most 100
/// keys).
pub const BATCH_GET_KEYS: usize = 100;
/// Conditional history writes in flight at once per batch (the DynamoDB store).
pub const WRITES_IN_FLIGHT: usize = 16;

/// The port: read the histories of some assets, write them back conditionally.
pub trait HistoryStore: Send + Sync {
    /// The stored histories of those assets that have one.
    fn read(&self, asset_ids: &[String]) -> impl Future<Output = Result<HashMap<String, Stored>, HistoryError>> + Send;
    /// One conditional write; the new version, or [`HistoryError::Conflict`].
    fn write(&self, write: &HistoryWrite) -> impl Future<Output = Result<u64, HistoryError>> + Send;
    /// Many writes, each conditional on its own (a store may group them).
    fn write_all(&self, writes: &[HistoryWrite]) -> impl Future<Output = Vec<Result<u64, HistoryError>>> + Send {
        async move {
            let mut out = Vec::with_capacity(writes.len());
            for w in writes {
                out.push(self.write(w).await);
            }
            out
        }
    }
    /// Every stored asset's id, sorted.
    fn asset_ids(&self) -> impl Future<Output = Result<Vec<String>, HistoryError>> + Send;
    /// The samples moved to an asset's archive, oldest first.
    fn archived(&self, asset_id: &str) -> impl Future<Output = Result<Vec<StoredSample>, HistoryError>> + Send;
}

/// The upload being merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRef {
    /// Its run id.
    pub run_id: String,
    /// Its file name.
    pub file: String,
}

/// What a merge found, for the diagnosis line and the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeCounts {
    /// Samples stored before this upload (in the record, not archived).
    pub stored_before: usize,
    /// Samples the diagnosis rests on that came from earlier uploads.
    pub from_earlier_uploads: usize,
    /// This upload's samples already stored with the same values (kept once).
    pub repeats: usize,
    /// This upload's samples that replaced a stored value under the same key.
    pub corrections: usize,
    /// The status of the asset's previous diagnosis, and its run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<u8>,
    /// The run of the previous diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<String>,
}

/// An upload's item merged with its stored history.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// What the diagnosis rests on: the merged samples (newest `max_samples_per_item`), the
    /// metadata filled in from the history.
    pub item: AssetItem,
    /// The history to write back (`None` when the upload's samples are undated: nothing is
    /// stored, the item is diagnosed as uploaded).
    pub history: Option<AssetHistory>,
    /// Samples that leave the record for the archive.
    pub archive: Vec<StoredSample>,
    /// The corrections, as warnings of the diagnosis record.
    pub corrections: Vec<dga::Warning>,
    /// The counts.
    pub counts: MergeCounts,
}

/// An unlisted asset (not on the upload's assets sheet) with no stored history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAsset;

/// Merges an upload's item into the asset's stored history (pure; see the module's rules).
/// `max_samples_per_item` caps what the diagnosis rests on, as the parse step does.
pub fn merge(
    stored: Option<&AssetHistory>,
    item: &AssetItem,
    upload: &UploadRef,
    limits: &config::HistoryLimits,
    max_samples_per_item: usize,
) -> Result<Merged, UnknownAsset> {
    if item.unlisted && stored.is_none() {
        return Err(UnknownAsset);
    }
    let mut counts = MergeCounts {
        stored_before: stored.map_or(0, |s| s.samples.len()),
        previous_status: stored.and_then(|s| s.last_diagnosis.as_ref().map(|d| d.status)),
        previous_run: stored.and_then(|s| s.last_diagnosis.as_ref().map(|d| d.run_id.clone())),
        ..MergeCounts::default()
    };
    let upload_meta = StoredMeta::of(item);
    let meta = match stored {
        Some(s) => upload_meta.filled_from(&s.meta),
        None => upload_meta,
    };
    // Undated samples cannot be matched with a later upload's, nor can the row of a sheet
    // without asset ids ("line 12" is another transformer in the next upload): the item is
    // diagnosed as uploaded (with the stored metadata) and nothing is written.
    if item.anonymous || item.samples.iter().any(|s| s.sample.sampled_on.is_none()) {
        let mut diagnosed = item.clone();
        fill(&mut diagnosed, &meta, None);
        return Ok(Merged { item: diagnosed, history: None, archive: Vec::new(), corrections: Vec::new(), counts });
    }
    let mut by_key: BTreeMap<SampleKey, StoredSample> = BTreeMap::new();
    for s in stored.map_or(&[][..], |s| &s.samples[..]) {
        if let Some(k) = s.key() {
            by_key.insert(k, s.clone());
        }
    }
    let mut corrections = Vec::new();
    for s in &item.samples {
        let new = StoredSample {
            sample: s.sample.clone(),
            lab_sample_id: None,
            source: SampleSource {
                run_id: upload.run_id.clone(),
                file: upload.file.clone(),
                sheet: s.sheet.clone(),
                row: s.row,
            },
        };
        let Some(key) = new.key() else { continue };
        match by_key.get(&key) {
            Some(old) if old.sample == new.sample => counts.repeats += 1,
            Some(old) => {
                if old.source.run_id != new.source.run_id {
                    counts.corrections += 1;
                    corrections.push(correction(&key, old, &new));
                }
                by_key.insert(key, new);
            }
            None => {
                by_key.insert(key, new);
            }
        }
    }
    let mut samples: Vec<StoredSample> = by_key.into_values().collect();
    let cut = samples.len().saturating_sub(limits.max_stored_samples_per_asset);
    let mut archive: Vec<StoredSample> = samples.drain(..cut).collect();
    let mut history = AssetHistory {
        schema_version: HISTORY_SCHEMA_VERSION,
        asset_id: item.asset_id.clone(),
        meta,
        samples,
        archived_samples: stored.map_or(0, |s| s.archived_samples),
        last_diagnosis: stored.and_then(|s| s.last_diagnosis.clone()),
    };
    // A record must stay under the store's item size (DynamoDB: 400 KB): the oldest go first.
    let mut bytes = serde_json::to_vec(&history).map_or(0, |b| b.len());
    while bytes > limits.max_item_bytes && history.samples.len() > 1 {
        let oldest = history.samples.remove(0);
        bytes -= serde_json::to_vec(&oldest).map_or(0, |b| b.len() + 1);
        archive.push(oldest);
    }
    history.archived_samples += archive.len() as u64;

    let mut diagnosed = item.clone();
    let from = history.samples.len().saturating_sub(max_samples_per_item);
    diagnosed.samples = history.samples[from..]
        .iter()
        .map(|s| ItemSample {
            sheet: s.source.sheet.clone(),
            row: s.source.row,
            sample: s.sample.clone(),
            upload: (s.source.run_id != upload.run_id).then(|| s.source.run_id.clone()),
        })
        .collect();
    counts.from_earlier_uploads = diagnosed.samples.iter().filter(|s| s.upload.is_some()).count();
    // What the diagnosis does not rest on: the record's older samples, the archive, and what
    // the parse step left out of the item.
    diagnosed.samples_omitted = from + history.archived_samples as usize + item.samples_omitted;
    let latest = diagnosed.samples.last().and_then(|s| s.sample.sampled_on);
    fill(&mut diagnosed, &history.meta, latest);
    Ok(Merged { item: diagnosed, history: Some(history), archive, corrections, counts })
}

/// The item's metadata from the merged metadata; its age at the latest sample.
fn fill(item: &mut AssetItem, meta: &StoredMeta, latest: Option<NaiveDate>) {
    let age = match (meta.manufacture_year.or(meta.commissioning_year), latest) {
        (Some(year), Some(at)) => age_from_year(year, at),
        _ => item.age_years.or(meta.age_years),
    };
    item.name = meta.name.clone();
    item.substation = meta.substation.clone();
    item.manufacture_year = meta.manufacture_year;
    item.commissioning_year = meta.commissioning_year;
    item.age_years = age;
    item.rated_mva = meta.rated_mva;
    item.voltage_kv = meta.voltage_kv;
    item.oil_type = meta.oil_type.clone();
    item.breathing = meta.breathing;
    item.oltc_communicating = meta.oltc_communicating;
    item.attributes = meta.attributes.clone();
}

fn correction(key: &SampleKey, old: &StoredSample, new: &StoredSample) -> dga::Warning {
    let origin = |s: &StoredSample| dga::SampleOrigin {
        sheet: Some(s.source.sheet.clone()),
        row: Some(u64::from(s.source.row)),
        upload: Some(s.source.run_id.clone()),
    };
    dga::Warning {
        code: "sample_corrected".into(),
        text: format!(
            "the sample of {} was corrected: {} replaces the value stored from {}",
            key.sampled_on,
            new.source.describe(),
            old.source.describe()
        ),
        rows: vec![origin(new), origin(old)],
    }
}

/// The history after a diagnosis: its latest diagnosis recorded.
pub fn with_diagnosis(mut history: AssetHistory, run_id: &str, record: &dga::DiagnosisRecord) -> AssetHistory {
    let d = &record.diagnosis;
    history.last_diagnosis = Some(LastDiagnosis {
        run_id: run_id.to_owned(),
        status: d.ieee_c57_104_2019.status.number(),
        fault: d.fault.code().to_owned(),
        latest_sample: record.history.last().and_then(|h| h.sample.sampled_on),
    });
    history
}

/// The history without one run's samples (`substation history forget RUN`): `None` when
/// nothing of it came from that run. The latest diagnosis goes too when that run made it.
pub fn forget_run(history: &AssetHistory, run_id: &str) -> Option<AssetHistory> {
    let keep: Vec<StoredSample> = history.samples.iter().filter(|s| s.source.run_id != run_id).cloned().collect();
    let diagnosed_by_it = history.last_diagnosis.as_ref().is_some_and(|d| d.run_id == run_id);
    if keep.len() == history.samples.len() && !diagnosed_by_it {
        return None;
    }
    let mut h = history.clone();
    h.samples = keep;
    if diagnosed_by_it {
        h.last_diagnosis = None;
    }
    Some(h)
}

/// The history as an item to diagnose again without an upload (`substation rediagnose`).
pub fn as_item(history: &AssetHistory, max_samples_per_item: usize) -> AssetItem {
    let from = history.samples.len().saturating_sub(max_samples_per_item);
    let mut item = AssetItem {
        schema_version: workbook::item::ITEM_SCHEMA_VERSION,
        asset_id: history.asset_id.clone(),
        samples: history.samples[from..]
            .iter()
            .map(|s| ItemSample {
                sheet: s.source.sheet.clone(),
                row: s.source.row,
                sample: s.sample.clone(),
                upload: Some(s.source.run_id.clone()),
            })
            .collect(),
        samples_omitted: from + history.archived_samples as usize,
        ..AssetItem::default()
    };
    let latest = item.samples.last().and_then(|s| s.sample.sampled_on);
    fill(&mut item, &history.meta, latest);
    item
}

#[cfg(test)]
mod tests;

/// The suite every [`HistoryStore`] adapter passes (the SQLite store in the CLI's tests, the
/// DynamoDB store against moto's server in `functions/lambda`'s): one suite, two adapters.
#[doc(hidden)]
pub mod conformance;
