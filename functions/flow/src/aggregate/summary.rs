//! `summary.json`: its types, and the running tally the aggregate keeps as it reads each
//! asset's digest (counts, act-first list, warnings) in fixed memory.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diagnose::{AssetFailure, DiagnosedDigest};

/// The `schema_version` of `summary.json` and of the lines of `rejected.jsonl`.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

/// How many assets the act-first list holds.
const ACT_FIRST: usize = 25;
/// How many warnings the summary lists.
const WARNINGS: usize = 100;

/// How the run ended, as `summary.json` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The Map succeeded; assets that failed within the tolerated percentage are listed.
    Complete,
    /// The Map failed: what the batches wrote, reconciled.
    Incomplete,
    /// The workbook was invalid as a whole.
    Rejected,
}

/// The counts of `summary.json`: `rows_read = samples_accepted + rows_rejected + rows_skipped`,
/// `assets = diagnosed + failed + not_started`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SummaryCounts {
    /// Rows read on the sample sheets.
    pub rows_read: u64,
    /// Rows accepted as samples.
    pub samples_accepted: u64,
    /// Sample rows rejected.
    pub rows_rejected: u64,
    /// Blank rows and trailing Total/Average rows.
    pub rows_skipped: u64,
    /// Asset items parsed.
    pub assets: u64,
    /// Assets diagnosed.
    pub diagnosed: u64,
    /// Assets whose diagnosis or batch failed.
    pub failed: u64,
    /// Assets whose batch never ran.
    pub not_started: u64,
}

/// One asset of the act-first list: status 2 or 3, by fleet priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActFirst {
    /// The asset's id, as in the workbook.
    pub asset_id: String,
    /// IEEE C57.104-2019 status, 2 or 3.
    pub status: u8,
    /// The fleet priority score (dga::priority): the order of this list.
    pub priority: f64,
    /// The combined fault code, e.g. `T3`.
    pub fault: String,
    /// The refining methods' sub-zones, shown beside the fault (e.g. `["C"]`).
    pub refinements: Vec<String>,
    /// `high`, `medium` or `low`; `None` for `UNDETERMINED`.
    pub confidence: Option<String>,
    /// The row of the asset's latest sample.
    pub row: Option<u64>,
    /// The worst IEEE C57.104-2019 exceedance, in a sentence.
    pub first_reason: Option<String>,
    /// The same reason as a table shows it: `C2H2 60 > 2 ppm (Table 2)`.
    #[serde(default)]
    pub first_reason_short: Option<String>,
}

/// One asset's warning in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetWarning {
    /// The asset's id, as in the workbook.
    pub asset_id: String,
    /// The warning: its code, text and rows.
    #[serde(flatten)]
    pub warning: dga::Warning,
}

/// The keys of the result files (`files` in `summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultFilesWritten {
    /// The summary's key.
    pub summary: String,
    /// The diagnoses' key; `None` when the run was rejected.
    pub diagnoses: Option<String>,
    /// The rejected rows' key; `None` when the run was rejected.
    pub rejected: Option<String>,
    /// The results workbook's key; `None` when the run was rejected.
    pub report: Option<String>,
    /// The HTML report's key (a rejected run has one too, saying why); absent in summaries
    /// written before it existed.
    #[serde(default)]
    pub report_html: Option<String>,
}

/// `results/<run>/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SUMMARY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The run id (the execution name).
    pub run_id: String,
    /// How the run ended.
    pub status: RunStatus,
    /// Why the run is rejected or incomplete, in the engineer's words.
    pub reason: Option<String>,
    /// The stable name of the error that rejected the run (`WorkbookInvalid`, `InputTooLarge`),
    /// for machines: the `reason` is for people and does not carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The upload that started the run.
    pub source: crate::start::Upload,
    /// The program version and configuration hash.
    pub provenance: crate::start::Provenance,
    /// The Distributed Map run, when there was one.
    pub map_run_arn: Option<String>,
    /// Rows and assets, reconciled.
    pub counts: SummaryCounts,
    /// Diagnosed assets by IEEE C57.104-2019 status (`"1"` to `"3"`).
    pub by_status: BTreeMap<String, u64>,
    /// Diagnosed assets by combined fault code.
    pub by_fault: BTreeMap<String, u64>,
    /// Status 3 and 2 by fleet priority (how bad and how fast), at most 25: the assets that need
    /// action first.
    pub act_first: Vec<ActFirst>,
    /// How many assets' records carry a warning (e.g. the newest sample was rejected, so the
    /// verdict rests on an older one); the first 100 are listed in `warnings`.
    #[serde(default)]
    pub assets_with_warnings: u64,
    /// The first 100 warnings, with their asset.
    #[serde(default)]
    pub warnings: Vec<AssetWarning>,
    /// What the workbook's reading said without rejecting a row (the first 20): ignored sheets,
    /// unreadable asset attributes, and how a value of two readings (`1.250`, `05/06/2023`) was
    /// decided by the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workbook_warnings: Vec<String>,
    /// Assets that could not be diagnosed, with the error (never-started ones say so).
    pub failures: Vec<AssetFailure>,
    /// What the merge with the stored history of earlier uploads found (absent when the run
    /// kept no history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistorySummary>,
    /// The keys of the other result files.
    pub files: ResultFilesWritten,
}

/// The run's merge with the history (docs/results.md, "History across uploads").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistorySummary {
    /// Diagnosed assets that had a stored history before this upload.
    pub assets_known_before: u64,
    /// Samples the diagnoses rest on that came from earlier uploads.
    pub samples_from_earlier_uploads: u64,
    /// This upload's samples already stored with the same values (kept once).
    pub repeats: u64,
    /// This upload's samples that replaced a stored value (each a `sample_corrected` warning).
    pub corrections: u64,
    /// Assets neither on the assets sheet nor in the history: their rows are rejected.
    pub unknown_assets: u64,
    /// How many assets' IEEE status is worse than at their previous diagnosis.
    pub assets_worsened: u64,
    /// The first 1,000 of them, worst first.
    pub worsened: Vec<StatusChange>,
}

/// An asset whose status got worse since its previous diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The asset.
    pub asset_id: String,
    /// Its status at the previous diagnosis.
    pub previous_status: u8,
    /// Its status now.
    pub status: u8,
    /// The fault now.
    pub fault: String,
    /// The run of the previous diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<String>,
}

/// Listed status changes.
const WORSENED: usize = 1000;

/// The summary's running tally over the digests.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub diagnosed: u64,
    pub by_status: BTreeMap<String, u64>,
    pub by_fault: BTreeMap<String, u64>,
    /// Act-first candidates with their arrival order, trimmed to the best 25 as they come.
    candidates: Vec<(usize, f64, u8, ActFirst)>,
    pub assets_with_warnings: u64,
    pub warnings: Vec<AssetWarning>,
    pub history: Option<HistorySummary>,
}

impl Tally {
    /// Counts one diagnosed asset.
    pub fn add(&mut self, d: &DiagnosedDigest) {
        let r = &d.report;
        let order = self.diagnosed as usize;
        self.diagnosed += 1;
        *self.by_status.entry(r.status.to_string()).or_default() += 1;
        *self.by_fault.entry(r.fault.clone()).or_default() += 1;
        if r.status >= 2 {
            self.candidates.push((
                order,
                r.priority,
                d.fault_energy,
                ActFirst {
                    asset_id: r.asset_id.clone(),
                    status: r.status,
                    priority: (r.priority * 10.0).round() / 10.0,
                    fault: r.fault.clone(),
                    refinements: d.refinement_codes.clone(),
                    confidence: d.confidence.clone(),
                    row: r.row,
                    first_reason: Some(r.first_reason.clone()).filter(|t| !t.is_empty()),
                    first_reason_short: d.first_reason_short.clone(),
                },
            ));
            if self.candidates.len() >= 40 * ACT_FIRST {
                self.trim();
            }
        }
        if let Some(m) = &d.merged_history {
            let h = self.history.get_or_insert_with(HistorySummary::default);
            h.assets_known_before += u64::from(m.previous_status.is_some() || m.stored_before > 0);
            h.samples_from_earlier_uploads += m.from_earlier_uploads as u64;
            h.repeats += m.repeats as u64;
            h.corrections += m.corrections as u64;
            if let Some(before) = m.previous_status.filter(|&p| p < r.status) {
                h.assets_worsened += 1;
                h.worsened.push(StatusChange {
                    asset_id: r.asset_id.clone(),
                    previous_status: before,
                    status: r.status,
                    fault: r.fault.clone(),
                    previous_run: m.previous_run.clone(),
                });
                if h.worsened.len() >= 2 * WORSENED {
                    sort_worsened(&mut h.worsened);
                }
            }
        }
        if !d.warnings.is_empty() {
            self.assets_with_warnings += 1;
            for w in &d.warnings {
                if self.warnings.len() < WARNINGS {
                    self.warnings.push(AssetWarning { asset_id: r.asset_id.clone(), warning: w.clone() });
                }
            }
        }
    }

    /// Status 3 and 2 by priority score (dga::priority), highest first; equal scores by the
    /// fault's energy (D2 before T1), then input order.
    fn trim(&mut self) {
        self.candidates
            .sort_by(|(i, a, ea, _), (j, b, eb, _)| workbook::write::worst_first((*a, *ea, *i), (*b, *eb, *j)));
        self.candidates.truncate(ACT_FIRST);
    }

    /// The act-first list.
    pub fn act_first(&mut self) -> Vec<ActFirst> {
        self.trim();
        self.candidates.iter().map(|(_, _, _, a)| a.clone()).collect()
    }
}

/// Worst first: the status now, then the size of the step, then the id; the first 1,000 kept.
pub(crate) fn sort_worsened(list: &mut Vec<StatusChange>) {
    list.sort_by(|a, b| {
        (b.status, b.status - b.previous_status)
            .cmp(&(a.status, a.status - a.previous_status))
            .then(a.asset_id.cmp(&b.asset_id))
    });
    list.truncate(WORSENED);
}

/// Why an asset is in `failures`.
pub(crate) fn failure(asset_id: &str, error: String) -> AssetFailure {
    AssetFailure { asset_id: Some(asset_id.to_owned()), error }
}
