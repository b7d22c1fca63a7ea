//! The pass over the batches and the reconciliation: every asset of `assets.jsonl` ends
//! diagnosed, failed or never started, and `results/<run>/` is written, the summary last.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use workbook::RowError;
use workbook::write::{ResultsWriter, RunInfo};

use report::html::{Overview, ReportLimits};

use super::html_report::{HtmlPass, LineAt, act_first_rows, write_rejected};
use super::result_writer::{self, MapResults, manifest_error};
use super::summary::{Tally, failure};
use super::{AggregateOutput, AggregateRequest, Mode};
use super::{ResultFilesWritten, RunStatus, SUMMARY_SCHEMA_VERSION, Summary, SummaryCounts};
use crate::diagnose::{AssetDigest, AssetFailure, BatchOutput, DiagnosedDigest, DiagnosisLine, LineProvenance};
use crate::error::FlowError;
use crate::layout::{ROWS_SUFFIX, RunLayout};
use crate::start::ExecutionInput;
use crate::store::{ObjectStore, ObjectWriter, StoreError};

/// One line of `results/<run>/rejected.jsonl`: a rejected row with its provenance.
#[derive(Debug, serde::Serialize)]
struct RejectedLine<'a> {
    schema_version: u32,
    #[serde(flatten)]
    row_error: &'a RowError,
    provenance: &'a LineProvenance,
}

/// Only the id of an asset item: the reconciliation reads `assets.jsonl` for nothing else.
#[derive(Deserialize)]
struct ItemId {
    asset_id: String,
}

fn started_at(input: &ExecutionInput) -> Option<chrono::NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(&input.upload.event_time).ok().map(|d| d.naive_utc())
}

/// The results workbook, on a thread of its own: each asset's samples (status 2-3) go to the
/// Asset history sheet as they come; its Diagnoses row spills to a temporary file (about 700
/// bytes) indexed by priority (16 bytes each), and at the end the rows are read back worst first.
/// The fleet's size costs disk, not memory; the samples of the 25 worst (for their pictures)
/// are the only ones kept.
struct ReportThread {
    rows: Option<std::sync::mpsc::SyncSender<(workbook::write::ReportRow, u8)>>,
    spiller: std::thread::JoinHandle<Result<Spill, String>>,
}

struct Spill {
    workbook: ResultsWriter,
    file: std::fs::File,
    /// (priority, fault energy, offset, length), in arrival order.
    index: Vec<(f64, u8, u64, u32)>,
    /// The samples of the worst assets at status 2-3 (arrival order, priority, energy, id,
    /// samples), trimmed to the pictures' worth as they come.
    plotted: Vec<(usize, f64, u8, String, Vec<workbook::write::HistoryRow>)>,
}

/// Assets whose samples are kept for a picture: the act-first list's length.
const PICTURES: usize = 25;

impl ReportThread {
    fn start(run: RunInfo) -> Result<Self, FlowError> {
        let file =
            tempfile::tempfile().map_err(|e| FlowError::Report(format!("a temporary file for the report: {e}")))?;
        let mut workbook = ResultsWriter::new(&run).map_err(|e| FlowError::Report(e.to_string()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<(workbook::write::ReportRow, u8)>(1024);
        let spiller = std::thread::spawn(move || {
            use std::io::Write;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let (mut index, mut offset, mut line, mut plotted) = (Vec::new(), 0u64, Vec::new(), Vec::new());
            for (order, (mut row, energy)) in rx.into_iter().enumerate() {
                if !row.history.is_empty() {
                    workbook.push_history(&row).map_err(|e| e.to_string())?;
                    plotted.push((order, row.priority, energy, row.asset_id.clone(), std::mem::take(&mut row.history)));
                    if plotted.len() >= 8 * PICTURES {
                        trim(&mut plotted);
                    }
                }
                line.clear();
                serde_json::to_writer(&mut line, &row).map_err(|e| e.to_string())?;
                out.write_all(&line).map_err(|e| format!("the report's temporary file: {e}"))?;
                index.push((row.priority, energy, offset, line.len() as u32));
                offset += line.len() as u64;
            }
            trim(&mut plotted);
            let file = out.into_inner().map_err(|e| format!("the report's temporary file: {e}"))?;
            Ok(Spill { workbook, file, index, plotted })
        });
        Ok(ReportThread { rows: Some(tx), spiller })
    }

    fn push(&mut self, row: workbook::write::ReportRow, energy: u8) {
        // A send fails only when the spiller stopped on an error: finish() reports it.
        if let Some(tx) = &self.rows
            && tx.send((row, energy)).is_err()
        {
            self.rows = None;
        }
    }

    /// The workbook, Diagnoses rows worst first.
    fn finish(
        mut self,
        rejected: &[RowError],
        act_first: &[workbook::write::ActFirstLine],
        (samples_accepted, rows_rejected): (u64, u64),
    ) -> Result<Vec<u8>, FlowError> {
        use std::os::unix::fs::FileExt;
        self.rows = None;
        let report = |e: String| FlowError::Report(e);
        let Spill { mut workbook, file, mut index, plotted } =
            self.spiller.join().map_err(|_| report("the report's writer panicked".into()))?.map_err(report)?;
        let mut plotted: HashMap<String, Vec<workbook::write::HistoryRow>> =
            plotted.into_iter().map(|(_, _, _, id, h)| (id, h)).collect();
        // A stable sort: equal keys keep the workbook's order.
        index.sort_by(|a, b| workbook::write::worst_first((a.0, a.1, 0), (b.0, b.1, 0)));
        let mut line = Vec::new();
        for (_, _, offset, len) in index {
            line.resize(len as usize, 0);
            file.read_exact_at(&mut line, offset).map_err(|e| report(format!("the report's temporary file: {e}")))?;
            let mut row: workbook::write::ReportRow =
                serde_json::from_slice(&line).map_err(|e| report(e.to_string()))?;
            if let Some(history) = plotted.remove(&row.asset_id) {
                row.history = history;
            }
            workbook.push(&row).map_err(|e| report(e.to_string()))?;
        }
        workbook.recount(samples_accepted, rows_rejected);
        workbook.finish(rejected, act_first).map_err(|e| report(e.to_string()))
    }
}

/// The worst [`PICTURES`] of the kept samples (workbook::write::worst_first).
fn trim(plotted: &mut Vec<(usize, f64, u8, String, Vec<workbook::write::HistoryRow>)>) {
    plotted.sort_by(|a, b| workbook::write::worst_first((a.1, a.2, a.0), (b.1, b.2, b.0)));
    plotted.truncate(PICTURES);
}

/// Where the pass writes, and what it has seen.
struct Pass<'a, 's, S: ObjectStore> {
    store: &'s S,
    diagnoses: S::Writer,
    report: ReportThread,
    tally: Tally,
    seen: HashSet<String>,
    failed: HashMap<String, String>,
    provenance: &'a LineProvenance,
    html: HtmlPass,
    /// Each batch's lines file, in the order read: the HTML report reads some lines again.
    lines_keys: Vec<String>,
    /// The rows of assets that neither the assets sheet nor the history knows.
    unknown_rows: Vec<RowError>,
    unknown_assets: u64,
}

impl<S: ObjectStore> Pass<'_, '_, S> {
    fn diagnosed(&mut self, d: DiagnosedDigest, line: usize) -> Result<(), FlowError> {
        self.seen.insert(d.report.asset_id.clone());
        self.html.add(&d, LineAt { batch: self.lines_keys.len() - 1, line });
        self.tally.add(&d);
        let energy = d.fault_energy;
        self.report.push(d.report, energy);
        Ok(())
    }

    fn failed(&mut self, f: AssetFailure) {
        self.failed.insert(f.asset_id.unwrap_or_default(), f.error);
    }

    /// A batch whose lines are final: its digests feed the tally and the report, its lines are
    /// copied as they are.
    async fn final_batch(&mut self, lines_key: &str, rows_key: &str) -> Result<(), FlowError> {
        let store = self.store;
        let rows = store.get(rows_key).await?;
        // Only diagnosed assets have a line: the nth diagnosed digest is the nth line.
        let mut lines = 0;
        for line in crate::jsonl::lines(&rows) {
            match serde_json::from_slice::<AssetDigest>(line) {
                Ok(AssetDigest::Diagnosed(d)) => {
                    self.diagnosed(*d, lines)?;
                    lines += 1;
                }
                Ok(AssetDigest::Failed(f)) => self.failed(f),
                Ok(AssetDigest::Unknown(u)) => {
                    self.seen.insert(u.asset_id);
                    self.unknown_assets += 1;
                    self.unknown_rows.extend(u.rows);
                }
                Err(e) => return Err(manifest_error(rows_key, format!("a digest line is not valid: {e}"))),
            }
        }
        Ok(store.copy_into(lines_key, &mut self.diagnoses).await?)
    }

    /// A batch written without its provenance (by an older definition): each line is read,
    /// given its provenance and written again.
    async fn legacy_batch(&mut self, key: &str) -> Result<(), FlowError> {
        let bytes = self.store.get(key).await?;
        let mut out = Vec::new();
        for (i, line) in crate::jsonl::lines(&bytes).enumerate() {
            // A diagnosis line first (nearly every line), a failure otherwise: an untagged enum
            // would buffer every line before trying its variants.
            match serde_json::from_slice::<DiagnosisLine>(line) {
                Ok(mut d) => {
                    self.diagnosed(DiagnosedDigest::of(&d), i)?;
                    d.provenance = Some(self.provenance.clone());
                    crate::jsonl::push(&mut out, &d)?;
                }
                Err(e) => match serde_json::from_slice::<AssetFailure>(line) {
                    Ok(f) => self.failed(f),
                    Err(_) => return Err(manifest_error(key, format!("a batch line is not valid: {e}"))),
                },
            }
        }
        Ok(self.diagnoses.write(&out).await?)
    }

    async fn batch(&mut self, b: &BatchOutput) -> Result<(), FlowError> {
        self.lines_keys.push(b.key.clone());
        match &b.rows_key {
            Some(rows) => self.final_batch(&b.key, rows).await,
            None => self.legacy_batch(&b.key).await,
        }
    }
}

/// Step 3: reconciles every asset of `assets.jsonl` with the Map's results (or, in the rejected
/// and partial modes, with what there is) and persists `results/<run>/`, the summary last.
pub async fn aggregate<S: ObjectStore>(
    store: &S,
    request: &AggregateRequest,
    config: &config::SharedConfig,
) -> Result<AggregateOutput, FlowError> {
    let state = &request.state;
    let input = &state.execution;
    let layout = RunLayout::new(&input.run_id, config);
    let mut summary = Summary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        run_id: input.run_id.clone(),
        status: RunStatus::Complete,
        reason: None,
        error: None,
        source: input.upload.clone(),
        provenance: input.provenance.clone(),
        map_run_arn: None,
        counts: SummaryCounts::default(),
        by_status: Default::default(),
        by_fault: Default::default(),
        act_first: Vec::new(),
        assets_with_warnings: 0,
        warnings: Vec::new(),
        workbook_warnings: Vec::new(),
        failures: Vec::new(),
        history: None,
        files: ResultFilesWritten {
            summary: layout.summary(),
            diagnoses: None,
            rejected: None,
            report: None,
            report_html: None,
        },
    };

    if request.mode == Mode::Rejected {
        summary.status = RunStatus::Rejected;
        summary.reason = Some(match &state.error {
            Some(e) => e.message(),
            None => "the workbook was rejected".to_owned(),
        });
        summary.error = state.error.as_ref().map(|e| e.error.clone());
        write_rejected(store, &layout.report_html(), overview(input, &summary)).await?;
        summary.files.report_html = Some(layout.report_html());
        return persist_summary(store, &summary).await;
    }

    let parse = state
        .parse
        .as_ref()
        .ok_or_else(|| FlowError::InputInvalid("the aggregate step needs the parse step's output".into()))?;
    summary.workbook_warnings = parse.warnings.clone();
    if request.mode == Mode::Failed {
        // Nothing but the state is read: whatever failed the complete mode is not met again.
        summary.status = RunStatus::Incomplete;
        let why = state.error.as_ref().map_or("unknown".to_owned(), |e| format!("{}: {}", e.error, e.message()));
        summary.reason = Some(format!(
            "the results could not be written ({why}); every asset is counted as failed, and rejected rows are in {}",
            parse.rejected_key
        ));
        let c = parse.counts;
        summary.counts = SummaryCounts {
            rows_read: c.rows_read,
            samples_accepted: c.samples_accepted,
            rows_rejected: c.rows_rejected,
            rows_skipped: c.rows_skipped,
            assets: c.assets,
            diagnosed: 0,
            failed: c.assets,
            not_started: 0,
        };
        summary.map_run_arn = state.map_run.as_ref().map(|m| m.map_run_arn.clone());
        return persist_summary(store, &summary).await;
    }
    let results = match (request.mode, &state.map_run) {
        (Mode::Complete, Some(map)) => result_writer::read(store, &map.result_writer_details.key).await?,
        (Mode::Complete, None) => {
            return Err(FlowError::InputInvalid("the complete mode needs the Map's ResultWriterDetails".into()));
        }
        _ => {
            summary.status = RunStatus::Incomplete;
            summary.reason = state.error.as_ref().map(|e| format!("{}: {}", e.error, e.message()));
            let manifests: Vec<String> = store
                .list(&format!("{}/", parse.map_results_prefix))
                .await?
                .into_iter()
                .filter(|k| k.ends_with("/manifest.json"))
                .collect();
            match manifests.last() {
                Some(key) => result_writer::read(store, key).await?,
                None => batch_files(store, &layout).await?,
            }
        }
    };
    summary.map_run_arn = results.map_run_arn.clone().or_else(|| state.map_run.as_ref().map(|m| m.map_run_arn.clone()));

    let mut rejected: Vec<RowError> = match store.get(&parse.rejected_key).await {
        Ok(b) => crate::jsonl::read(&b, &parse.rejected_key)?,
        Err(StoreError::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let provenance = LineProvenance::new(&input.run_id, &input.provenance, &input.upload);
    let c = parse.counts;
    let run = RunInfo {
        source_file: input.upload.key.clone(),
        started_at: input.upload.event_time.clone(),
        rows_read: c.rows_read,
        samples_accepted: c.samples_accepted,
        rows_rejected: c.rows_rejected,
        rows_skipped: c.rows_skipped,
        created_at: started_at(input),
    };
    let diagnoses_key = layout.diagnoses();
    let mut pass = Pass {
        store,
        diagnoses: store.writer(&diagnoses_key).await?,
        report: ReportThread::start(run)?,
        tally: Tally::default(),
        seen: HashSet::new(),
        failed: results.failed.into_iter().collect(),
        provenance: &provenance,
        html: HtmlPass::new(ReportLimits::default()),
        lines_keys: Vec::new(),
        unknown_rows: Vec::new(),
        unknown_assets: 0,
    };
    for b in &results.batches {
        pass.batch(b).await?;
    }

    // Reconcile: every asset of assets.jsonl ends diagnosed, failed or never started. When the
    // batches diagnosed every asset the parse step counted, there is nothing to look for and the
    // items file is not read again.
    let all_diagnosed = pass.failed.is_empty() && pass.seen.len() as u64 == parse.counts.assets;
    let items = if all_diagnosed { Vec::new() } else { store.get(&parse.assets_key).await? };
    let mut assets = if all_diagnosed { parse.counts.assets } else { 0 };
    for line in crate::jsonl::lines(&items) {
        let item: ItemId =
            serde_json::from_slice(line).map_err(|e| FlowError::InputInvalid(format!("{}: {e}", parse.assets_key)))?;
        assets += 1;
        if pass.seen.contains(&item.asset_id) {
            continue;
        }
        match pass.failed.remove(&item.asset_id) {
            Some(error) => {
                summary.counts.failed += 1;
                summary.failures.push(failure(&item.asset_id, error));
            }
            // In a PENDING batch, or in none the results mention: never started either way.
            None => {
                summary.counts.not_started += 1;
                summary
                    .failures
                    .push(failure(&item.asset_id, "never started: the Map stopped before its batch ran".into()));
            }
        }
    }
    drop(items);
    if summary.status == RunStatus::Complete && (summary.counts.failed > 0 || summary.counts.not_started > 0) {
        // Within the tolerated failures: the run succeeded, some assets did not.
        summary.reason = Some(format!(
            "{} assets failed and {} never started (within the tolerated failure percentage)",
            summary.counts.failed, summary.counts.not_started
        ));
    }
    // The rows of unknown assets were accepted by the parse step and rejected by the diagnose
    // step: they move from one count to the other, and their asset is not one of the fleet's.
    let Pass { diagnoses, report, mut tally, html, lines_keys, unknown_rows, unknown_assets, .. } = pass;
    let moved = unknown_rows.len() as u64;
    summary.counts.rows_read = c.rows_read;
    summary.counts.samples_accepted = c.samples_accepted - moved;
    summary.counts.rows_rejected = c.rows_rejected + moved;
    summary.counts.rows_skipped = c.rows_skipped;
    summary.counts.assets = assets - unknown_assets;
    if moved > 0 {
        rejected.extend(unknown_rows);
        RowError::sort(&mut rejected);
    }
    summary.counts.diagnosed = tally.diagnosed;
    summary.act_first = tally.act_first();
    summary.by_status = std::mem::take(&mut tally.by_status);
    summary.by_fault = std::mem::take(&mut tally.by_fault);
    summary.assets_with_warnings = tally.assets_with_warnings;
    summary.warnings = std::mem::take(&mut tally.warnings);
    summary.history = std::mem::take(&mut tally.history).or_else(|| input.history.then(Default::default));
    if let Some(h) = &mut summary.history {
        h.unknown_assets = unknown_assets;
        super::summary::sort_worsened(&mut h.worsened);
    }

    diagnoses.finish().await?;
    let rejected_lines = rejected.iter().map(|r| RejectedLine {
        schema_version: SUMMARY_SCHEMA_VERSION,
        row_error: r,
        provenance: &provenance,
    });
    store.put(&layout.rejected(), crate::jsonl::write(rejected_lines)?).await?;
    let mut overview = overview(input, &summary);
    overview.counts = vec![
        ("rows read".into(), c.rows_read),
        ("samples accepted".into(), summary.counts.samples_accepted),
        ("rows rejected".into(), summary.counts.rows_rejected),
        ("rows skipped".into(), c.rows_skipped),
        ("assets diagnosed".into(), summary.counts.diagnosed),
        ("assets not diagnosed".into(), summary.counts.failed + summary.counts.not_started),
    ];
    // The workbook is finished (its sheets deflated) on a thread of its own while the page is
    // written: both are CPU-bound, and the step has two cores.
    let rejected = std::sync::Arc::new(rejected);
    let workbook = {
        let rejected = rejected.clone();
        let act_first = act_first_rows(&summary.act_first);
        let recount = (summary.counts.samples_accepted, summary.counts.rows_rejected);
        std::thread::spawn(move || report.finish(&rejected, &act_first, recount))
    };
    let page = html.write(store, &layout.report_html(), overview, &lines_keys, &rejected).await;
    let report = workbook.join().map_err(|_| FlowError::Report("the report's writer panicked".into()))??;
    page?;
    store.put(&layout.report(), report).await?;
    summary.files.diagnoses = Some(layout.diagnoses());
    summary.files.rejected = Some(layout.rejected());
    summary.files.report = Some(layout.report());
    summary.files.report_html = Some(layout.report_html());
    persist_summary(store, &summary).await
}

/// The overview's run facts and tallies, from the summary (the caller adds the counts).
fn overview(input: &ExecutionInput, summary: &Summary) -> Overview {
    let by_status = |s: &str| summary.by_status.get(s).copied().unwrap_or(0);
    let mut by_fault: Vec<(String, u64)> = summary.by_fault.iter().map(|(k, v)| (k.clone(), *v)).collect();
    by_fault.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Overview {
        source_file: input.upload.key.rsplit('/').next().unwrap_or(&input.upload.key).to_owned(),
        run_id: input.run_id.clone(),
        started_at: input.upload.event_time.clone(),
        run_status: match summary.status {
            RunStatus::Complete => "complete",
            RunStatus::Incomplete => "incomplete",
            RunStatus::Rejected => "rejected",
        }
        .to_owned(),
        status_note: summary.reason.clone(),
        by_status: [by_status("1"), by_status("2"), by_status("3")],
        by_fault,
        act_first: act_first_rows(&summary.act_first),
        ..Default::default()
    }
}

/// Without a manifest (the Map failed before writing one): whatever batch files exist, with
/// their digests where they have them.
async fn batch_files<S: ObjectStore>(store: &S, layout: &RunLayout) -> Result<MapResults, FlowError> {
    let keys = store.list(&layout.diagnoses_prefix()).await?;
    let with_rows: HashSet<&str> = keys.iter().filter_map(|k| k.strip_suffix(ROWS_SUFFIX)).collect();
    let batches = keys
        .iter()
        .filter(|k| !k.ends_with(ROWS_SUFFIX))
        .map(|k| {
            let stem = k.strip_suffix(".jsonl").unwrap_or(k);
            BatchOutput {
                batch_id: stem.rsplit('/').next().unwrap_or_default().to_owned(),
                key: k.clone(),
                assets: 0,
                diagnosed: 0,
                failed: 0,
                rejected: 0,
                rows_key: with_rows.contains(stem).then(|| format!("{stem}{ROWS_SUFFIX}")),
            }
        })
        .collect();
    Ok(MapResults { batches, ..Default::default() })
}

async fn persist_summary<S: ObjectStore>(store: &S, summary: &Summary) -> Result<AggregateOutput, FlowError> {
    let mut body = serde_json::to_vec_pretty(summary).map_err(|e| FlowError::InputInvalid(e.to_string()))?;
    body.push(b'\n');
    // Written last: a summary means the other result files are complete.
    store.put(&summary.files.summary, body).await?;
    tracing::info!(run_id = %summary.run_id, status = ?summary.status, diagnosed = summary.counts.diagnosed, "results persisted");
    Ok(AggregateOutput {
        run_id: summary.run_id.clone(),
        status: summary.status,
        counts: summary.counts.clone(),
        summary_key: summary.files.summary.clone(),
    })
}
