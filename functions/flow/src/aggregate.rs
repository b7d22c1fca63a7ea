//! Step 3: read the ResultWriter manifest and result files, reconcile every asset of
//! `assets.jsonl`, persist `results/<run>/`. Also the `rejected` and `partial` modes reached
//! from the state machine's Catch.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use workbook::{AssetItem, RowError};

use crate::diagnose::{AssetFailure, BatchEnvelope, BatchOutput, DiagnosisLine, LineProvenance};
use crate::error::FlowError;
use crate::layout::RunLayout;
use crate::parse::ParseOutput;
use crate::start::{ExecutionInput, Provenance};
use crate::store::{ObjectStore, StoreError};

/// The `schema_version` of `summary.json` and of the lines of `rejected.jsonl`.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

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
    /// Why the run is rejected or incomplete.
    pub reason: Option<String>,
    /// The upload that started the run.
    pub source: crate::start::Upload,
    /// The program version and configuration hash.
    pub provenance: Provenance,
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
    /// Assets that could not be diagnosed, with the error (never-started ones say so).
    pub failures: Vec<AssetFailure>,
    /// The keys of the other result files.
    pub files: ResultFilesWritten,
}

/// One line of `results/<run>/rejected.jsonl`: a rejected row with its provenance.
#[derive(Debug, Serialize)]
struct RejectedLine<'a> {
    schema_version: u32,
    #[serde(flatten)]
    row_error: &'a RowError,
    provenance: &'a LineProvenance,
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

// ---- The ResultWriter files (shared/reference/aws-step-functions.md 1.6) ----

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

fn manifest_error(key: &str, reason: impl Into<String>) -> FlowError {
    FlowError::ManifestInvalid { key: key.to_owned(), reason: reason.into() }
}

/// One entry of a SUCCEEDED result file: a child's record in the `NONE` form, or the child's
/// output itself in the `COMPACT` form the bulk-upload definition uses.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SucceededEntry {
    Record(ChildRecord),
    Output(BatchOutput),
}

/// A result file's entries: a JSON array (`OutputType: JSON`) or JSON Lines (`JSONL`).
fn result_entries<T: serde::de::DeserializeOwned>(bytes: &[u8], key: &str) -> Result<Vec<T>, FlowError> {
    let text = bytes.trim_ascii_start();
    if text.first() == Some(&b'[') {
        return serde_json::from_slice(text).map_err(|e| manifest_error(key, e.to_string()));
    }
    jsonl_lines(text).map(|l| serde_json::from_slice(l).map_err(|e| manifest_error(key, e.to_string()))).collect()
}

fn jsonl_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace))
}

/// Per asset: what happened to it.
enum Outcome {
    Diagnosed(Box<DiagnosisLine>),
    Failed(String),
    NotStarted,
}

#[derive(Default)]
struct Collected {
    diagnosed: HashMap<String, Box<DiagnosisLine>>,
    failed: HashMap<String, String>,
    pending: HashMap<String, ()>,
    map_run_arn: Option<String>,
}

impl Collected {
    fn batch_lines(&mut self, bytes: &[u8], key: &str) -> Result<(), FlowError> {
        for line in jsonl_lines(bytes) {
            // A diagnosis line first (nearly every line), a failure otherwise: decoding the
            // untagged BatchLine would buffer every line before trying its variants.
            match serde_json::from_slice::<DiagnosisLine>(line) {
                Ok(d) => {
                    let id = d.record.asset_id.clone().unwrap_or_default();
                    self.diagnosed.insert(id, Box::new(d));
                }
                Err(e) => match serde_json::from_slice::<AssetFailure>(line) {
                    Ok(f) => {
                        self.failed.insert(f.asset_id.unwrap_or_default(), f.error);
                    }
                    Err(_) => return Err(manifest_error(key, format!("a batch line is not valid: {e}"))),
                },
            }
        }
        Ok(())
    }
}

fn envelope_asset_ids(input: Option<&str>, key: &str) -> Result<Vec<String>, FlowError> {
    let input = input.ok_or_else(|| manifest_error(key, "a child record has no Input"))?;
    let envelope: BatchEnvelope =
        serde_json::from_str(input).map_err(|e| manifest_error(key, format!("a child's Input is not a batch: {e}")))?;
    Ok(envelope
        .items
        .iter()
        .map(|i| i.get("asset_id").and_then(|v| v.as_str()).unwrap_or_default().to_owned())
        .collect())
}

async fn collect_from_manifest<S: ObjectStore>(
    store: &S,
    manifest_key: &str,
    c: &mut Collected,
) -> Result<(), FlowError> {
    let bytes = store.get(manifest_key).await?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| manifest_error(manifest_key, e.to_string()))?;
    c.map_run_arn = Some(manifest.map_run_arn.clone());
    let groups = [
        ("SUCCEEDED", &manifest.result_files.succeeded),
        ("FAILED", &manifest.result_files.failed),
        ("PENDING", &manifest.result_files.pending),
    ];
    for (group, files) in groups {
        for file in files {
            let bytes = store.get(&file.key).await?;
            if group == "SUCCEEDED" {
                for entry in result_entries::<SucceededEntry>(&bytes, &file.key)? {
                    let batch: BatchOutput = match entry {
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
                    };
                    let lines = store.get(&batch.key).await?;
                    c.batch_lines(&lines, &batch.key)?;
                }
                continue;
            }
            let records: Vec<ChildRecord> = result_entries(&bytes, &file.key)?;
            for r in records {
                match (group, r.status.as_str()) {
                    ("PENDING", _) => {
                        for id in envelope_asset_ids(r.input.as_deref(), &file.key)? {
                            c.pending.insert(id, ());
                        }
                    }
                    _ => {
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
                            c.failed.insert(id, why.clone());
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Without a manifest (the Map failed before writing one): whatever batch files exist.
async fn collect_from_batch_files<S: ObjectStore>(
    store: &S,
    layout: &RunLayout,
    c: &mut Collected,
) -> Result<(), FlowError> {
    for key in store.list(&layout.diagnoses_prefix()).await? {
        let bytes = store.get(&key).await?;
        c.batch_lines(&bytes, &key)?;
    }
    Ok(())
}

fn read_jsonl<T: serde::de::DeserializeOwned>(bytes: &[u8], key: &str) -> Result<Vec<T>, FlowError> {
    jsonl_lines(bytes)
        .map(|l| serde_json::from_slice(l).map_err(|e| FlowError::InputInvalid(format!("{key}: {e}"))))
        .collect()
}

fn to_jsonl<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        if serde_json::to_writer(&mut out, &r).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

fn started_at(input: &ExecutionInput) -> Option<chrono::NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(&input.upload.event_time).ok().map(|d| d.naive_utc())
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
        source: input.upload.clone(),
        provenance: input.provenance.clone(),
        map_run_arn: None,
        counts: SummaryCounts::default(),
        by_status: BTreeMap::new(),
        by_fault: BTreeMap::new(),
        act_first: Vec::new(),
        assets_with_warnings: 0,
        warnings: Vec::new(),
        failures: Vec::new(),
        files: ResultFilesWritten { summary: layout.summary(), diagnoses: None, rejected: None, report: None },
    };

    if request.mode == Mode::Rejected {
        summary.status = RunStatus::Rejected;
        summary.reason = Some(match &state.error {
            Some(e) => format!("{}: {}", e.error, e.message()),
            None => "the workbook was rejected".to_owned(),
        });
        return persist_summary(store, &summary).await;
    }

    let parse = state
        .parse
        .as_ref()
        .ok_or_else(|| FlowError::InputInvalid("the aggregate step needs the parse step's output".into()))?;
    let mut collected = Collected::default();
    match (request.mode, &state.map_run) {
        (Mode::Complete, Some(map)) => {
            collect_from_manifest(store, &map.result_writer_details.key, &mut collected).await?;
        }
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
                Some(key) => collect_from_manifest(store, key, &mut collected).await?,
                None => collect_from_batch_files(store, &layout, &mut collected).await?,
            }
        }
    }
    summary.map_run_arn =
        collected.map_run_arn.clone().or_else(|| state.map_run.as_ref().map(|m| m.map_run_arn.clone()));

    let items: Vec<AssetItem> = read_jsonl(&store.get(&parse.assets_key).await?, &parse.assets_key)?;
    let rejected: Vec<RowError> = match store.get(&parse.rejected_key).await {
        Ok(b) => read_jsonl(&b, &parse.rejected_key)?,
        Err(StoreError::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };

    // Reconcile: every asset of assets.jsonl ends diagnosed, failed or never started.
    let mut lines = Vec::new();
    for item in &items {
        let outcome = if let Some(d) = collected.diagnosed.remove(&item.asset_id) {
            Outcome::Diagnosed(d)
        } else if let Some(e) = collected.failed.remove(&item.asset_id) {
            Outcome::Failed(e)
        } else {
            collected.pending.remove(&item.asset_id);
            Outcome::NotStarted
        };
        match outcome {
            Outcome::Diagnosed(d) => lines.push(d),
            Outcome::Failed(error) => {
                summary.counts.failed += 1;
                summary.failures.push(AssetFailure { asset_id: Some(item.asset_id.clone()), error });
            }
            Outcome::NotStarted => {
                summary.counts.not_started += 1;
                summary.failures.push(AssetFailure {
                    asset_id: Some(item.asset_id.clone()),
                    error: "never started: the Map stopped before its batch ran".into(),
                });
            }
        }
    }
    if summary.status == RunStatus::Complete && (summary.counts.failed > 0 || summary.counts.not_started > 0) {
        // Within the tolerated failures: the run succeeded, some assets did not.
        summary.reason = Some(format!(
            "{} assets failed and {} never started (within the tolerated failure percentage)",
            summary.counts.failed, summary.counts.not_started
        ));
    }
    let c = parse.counts;
    summary.counts.rows_read = c.rows_read;
    summary.counts.samples_accepted = c.samples_accepted;
    summary.counts.rows_rejected = c.rows_rejected;
    summary.counts.rows_skipped = c.rows_skipped;
    summary.counts.assets = items.len() as u64;
    summary.counts.diagnosed = lines.len() as u64;
    for l in &lines {
        let d = &l.record.diagnosis;
        *summary.by_status.entry(d.status.number().to_string()).or_default() += 1;
        *summary.by_fault.entry(d.fault.to_string()).or_default() += 1;
    }
    summary.act_first = act_first(&lines);
    for l in lines.iter().filter(|l| !l.record.warnings.is_empty()) {
        summary.assets_with_warnings += 1;
        for w in &l.record.warnings {
            if summary.warnings.len() < 100 {
                let asset_id = l.record.asset_id.clone().unwrap_or_default();
                summary.warnings.push(AssetWarning { asset_id, warning: w.clone() });
            }
        }
    }

    let provenance = LineProvenance {
        run_id: input.run_id.clone(),
        program_version: input.provenance.program_version.clone(),
        config_hash: input.provenance.config_hash.clone(),
        source_key: input.upload.key.clone(),
        source_version: input.upload.version_id.clone().or_else(|| input.upload.etag.clone()),
    };
    for line in &mut lines {
        line.provenance = Some(provenance.clone());
    }
    store.put(&layout.diagnoses(), to_jsonl(lines.iter())).await?;
    let rejected_lines = rejected.iter().map(|r| RejectedLine {
        schema_version: SUMMARY_SCHEMA_VERSION,
        row_error: r,
        provenance: &provenance,
    });
    store.put(&layout.rejected(), to_jsonl(rejected_lines)).await?;
    let records: Vec<dga::DiagnosisRecord> = lines.iter().map(|l| l.record.clone()).collect();
    let run = workbook::write::RunInfo {
        source_file: input.upload.key.clone(),
        started_at: input.upload.event_time.clone(),
        rows_read: c.rows_read,
        samples_accepted: c.samples_accepted,
        rows_rejected: c.rows_rejected,
        rows_skipped: c.rows_skipped,
        created_at: started_at(input),
    };
    let report =
        workbook::write::results(&run, &records, &items, &rejected).map_err(|e| FlowError::Report(e.to_string()))?;
    store.put(&layout.report(), report).await?;
    summary.files.diagnoses = Some(layout.diagnoses());
    summary.files.rejected = Some(layout.rejected());
    summary.files.report = Some(layout.report());
    persist_summary(store, &summary).await
}

/// Status 3 and 2 by priority score (dga::priority), highest first; equal scores by the fault's
/// energy (D2 before T1), then input order.
fn act_first(lines: &[Box<DiagnosisLine>]) -> Vec<ActFirst> {
    let mut picked: Vec<(usize, &DiagnosisLine)> =
        lines.iter().map(|l| &**l).enumerate().filter(|(_, l)| l.record.diagnosis.status.number() >= 2).collect();
    picked.sort_by(|(i, a), (j, b)| {
        let (a, b) = (&a.record.diagnosis, &b.record.diagnosis);
        b.priority
            .score
            .total_cmp(&a.priority.score)
            .then(dga::priority::fault_energy(b.fault).cmp(&dga::priority::fault_energy(a.fault)))
            .then(i.cmp(j))
    });
    picked
        .into_iter()
        .take(25)
        .map(|(_, l)| {
            let d = &l.record.diagnosis;
            ActFirst {
                asset_id: l.record.asset_id.clone().unwrap_or_default(),
                status: d.status.number(),
                priority: (d.priority.score * 10.0).round() / 10.0,
                fault: d.fault.to_string(),
                refinements: d.refinement_codes().into_iter().map(|c| c.to_string()).collect(),
                confidence: d.confidence.map(|c| c.word().to_owned()),
                row: l.record.row,
                first_reason: d.ieee_c57_104_2019.reasons.first().map(|r| r.text.clone()),
                first_reason_short: d.ieee_c57_104_2019.reasons.first().map(|r| r.short()),
            }
        })
        .collect()
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
