//! The asset item: the one JSON shape that travels through the fan-out, one per asset
//! (docs/asset-item.md).

use std::collections::BTreeMap;

use dga::{AssetInfo, DgaSample};
use serde::{Deserialize, Serialize};

/// Bumped when a field is renamed, removed or changes meaning.
pub const ITEM_SCHEMA_VERSION: u32 = 1;

/// Whether the transformer's oil is sealed from the air or breathes through an open conservator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breathing {
    /// Sealed: e.g. nitrogen blanket, membrane or bladder.
    Sealed,
    /// Free-breathing: conservator open to air.
    FreeBreathing,
}

impl Breathing {
    /// `sealed`, `N2 blanket`, `밀봉` → sealed; `free-breathing`, `open`, `conservator`, `개방` → free.
    pub fn parse(text: &str) -> Option<Breathing> {
        let t = text.trim().to_lowercase();
        if ["seal", "nitrogen", "n2", "blanket", "membrane", "bladder", "밀봉", "밀폐"].iter().any(|k| t.contains(k))
        {
            Some(Breathing::Sealed)
        } else if ["free", "open", "breath", "conservator", "개방"].iter().any(|k| t.contains(k)) {
            Some(Breathing::FreeBreathing)
        } else {
            None
        }
    }
}

/// Where a value came from: the sheet and the row number the engineer sees in Excel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRow {
    /// The sheet's name.
    pub sheet: String,
    /// The row number Excel shows (1-based).
    pub row: u32,
}

/// One sample of an asset, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSample {
    /// The sheet's name.
    pub sheet: String,
    /// The row number Excel shows (1-based).
    pub row: u32,
    /// Gases in ppm: a number (measured, 0 included), `"<1"` / `"ND"` (below detection), `null`
    /// (not measured); `sampled_on` as `YYYY-MM-DD`.
    pub sample: DgaSample,
    /// The run id of the earlier upload the sample came from, when it came from the history
    /// (`sheet` and `row` are then that upload's); absent for this upload's samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
}

/// One transformer and its DGA history: what the parse step writes and the diagnose step reads
/// (docs/asset-item.md).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetItem {
    /// [`ITEM_SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The asset's id, as in the workbook (its name when the id cell is empty).
    pub asset_id: String,
    /// The asset's name, when given and not the same as the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The substation, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substation: Option<String>,
    /// Year of manufacture, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacture_year: Option<i32>,
    /// Year commissioned, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commissioning_year: Option<i32>,
    /// Age at the latest sample's date (reproducible: never "today"), from the age column or
    /// the manufacture (else commissioning) year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_years: Option<f64>,
    /// Rated power, MVA (a kVA column is converted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rated_mva: Option<f64>,
    /// Rated voltage, kV (a V column is converted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage_kv: Option<f64>,
    /// Oil type as written, e.g. `mineral` or `ester`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oil_type: Option<String>,
    /// Sealed or free-breathing, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breathing: Option<Breathing>,
    /// Whether the OLTC's oil communicates with the main tank, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oltc_communicating: Option<bool>,
    /// Other columns of the assets sheet, by header.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// The asset's row on the assets sheet (two-sheet layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRow>,
    /// Oldest first.
    pub samples: Vec<ItemSample>,
    /// Older samples left out so the item stays far below the 256 KiB payload limit.
    #[serde(default)]
    pub samples_omitted: usize,
    /// Rows of this asset that were rejected and may be newer than its latest accepted sample
    /// (dated later, or with no readable date): the verdict rests on an older sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_samples: Vec<RejectedSample>,
    /// The asset is not on the upload's assets sheet (two-sheet layout): its samples are new
    /// samples of an asset the history of earlier uploads must know (else they are rejected).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlisted: bool,
    /// A row of a sheet (or CSV file) without an asset id column: a transformer of its own,
    /// named by its row (`line 12`), diagnosed on that one sample and kept in no history.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
}

/// Age in whole years at `at` of an asset made (or commissioned) in `year`: reproducible, never
/// relative to today.
pub fn age_from_year(year: i32, at: chrono::NaiveDate) -> Option<f64> {
    use chrono::Datelike;
    Some(f64::from((at.year() - year).max(0)))
}

/// A rejected row of an asset, as the item carries it into the diagnosis's warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedSample {
    /// The sheet's name.
    pub sheet: String,
    /// The row number Excel shows (1-based).
    pub row: u32,
    /// The row's sample date, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled_on: Option<chrono::NaiveDate>,
    /// Why the row was rejected (the first reason, as in the rejected rows).
    pub reason: String,
}

impl AssetItem {
    /// The samples alone, oldest first, as the diagnosis takes them.
    pub fn samples(&self) -> Vec<DgaSample> {
        self.samples.iter().map(|s| s.sample.clone()).collect()
    }

    /// What the diagnosis needs besides the gases: age, OLTC and breathing.
    pub fn asset_info(&self) -> AssetInfo {
        AssetInfo {
            age_years: self.age_years,
            oltc_communicating: self.oltc_communicating.unwrap_or(false),
            free_breathing: self.breathing.map(|b| b == Breathing::FreeBreathing),
        }
    }

    /// Every sample with its sheet and row, oldest first: the record's `history`.
    pub fn history(&self) -> Vec<dga::HistorySample> {
        let samples = self.samples();
        dga::chronological_order(&samples)
            .into_iter()
            .map(|i| dga::HistorySample {
                sample: samples[i].clone(),
                origin: dga::SampleOrigin {
                    sheet: Some(self.samples[i].sheet.clone()),
                    row: Some(u64::from(self.samples[i].row)),
                    upload: self.samples[i].upload.clone(),
                },
            })
            .collect()
    }

    /// What the diagnosis record should warn about: the rejected rows that may be newer than the
    /// latest sample the verdict rests on (`newest_sample_rejected`).
    pub fn warnings(&self) -> Vec<dga::Warning> {
        if self.rejected_samples.is_empty() {
            return Vec::new();
        }
        let latest = self.samples.last();
        let rests_on = match latest {
            Some(s) => match s.sample.sampled_on {
                Some(d) => format!("the sample of {d} (sheet '{}', row {})", s.sheet, s.row),
                None => format!("sheet '{}', row {}", s.sheet, s.row),
            },
            None => "no sample".to_owned(),
        };
        let rows: Vec<String> = self
            .rejected_samples
            .iter()
            .map(|r| {
                let when = r.sampled_on.map_or("date unreadable".to_owned(), |d| format!("sampled {d}"));
                format!("sheet '{}', row {} ({when}): {}", r.sheet, r.row, r.reason)
            })
            .collect();
        vec![dga::Warning {
            code: "newest_sample_rejected".into(),
            text: format!(
                "a newer sample of this asset was rejected, so the verdict rests on {rests_on}: {}",
                rows.join("; ")
            ),
            rows: self
                .rejected_samples
                .iter()
                .map(|r| dga::SampleOrigin { sheet: Some(r.sheet.clone()), row: Some(u64::from(r.row)), upload: None })
                .collect(),
        }]
    }

    /// Every sample's row rejected for one reason (an asset no sheet or history knows), the id
    /// as the value.
    pub fn rejected_rows(&self, reason: &str) -> Vec<crate::RowError> {
        let reason = crate::error::quote(reason.to_owned());
        self.samples
            .iter()
            .map(|s| crate::RowError {
                sheet: s.sheet.clone(),
                row: s.row,
                column: None,
                column_letter: None,
                value: Some(crate::error::quote(self.asset_id.clone())),
                reason: reason.clone(),
            })
            .collect()
    }

    /// The row of the latest sample (what the diagnosis record's `row` points at).
    pub fn latest_row(&self) -> Option<&ItemSample> {
        self.samples.last()
    }
}
