//! `substation run FILE.xlsx`: the main job. The real state machine file, run in process by the
//! engine, with the same parse / diagnose / aggregate steps as the Lambdas, over a local folder
//! laid out like the bucket.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use comfy_table::{Table, presets};
use engine::{StateMachine, SystemClock};
use flow::aggregate::{RunStatus, Summary};
use flow::start::{Submitted, Upload, submit};
use flow::{LocalStore, ObjectStore};
use indicatif::ProgressBar;
use serde_json::Value;
use substation::local_workflow::{self, DEFINITION, LOCAL_BUCKET, LocalExecution, LocalExecutions, Steps};

use crate::exit;

/// The shipped example workbook (README), recognised by its bytes.
const EXAMPLE_WORKBOOK: &[u8] = include_bytes!("../examples/fleet-sample.xlsx");

/// Diagnose a fleet workbook end to end, as on AWS, on this machine.
#[derive(Debug, Args)]
#[command(
    long_about = "Diagnose a fleet workbook end to end, as on AWS, on this machine: the workbook is put under \
        uploads/ in a local folder laid out like the bucket, and the real state machine \
        (statemachine/bulk-upload.asl.json) runs in process with the same parse, diagnose and aggregate steps \
        as the Lambdas. Results land in <out>/results/<run>/: summary.json, diagnoses.jsonl, rejected.jsonl, \
        report.xlsx.\n\nEach asset's samples are kept in <out>/history.sqlite3 and merged with every later \
        upload into the same folder: a workbook of new samples only is diagnosed on each transformer's whole \
        history, and its Samples sheet may name transformers that an earlier upload listed. --no-history runs \
        on this file alone and keeps nothing; the shipped example (examples/fleet-sample.xlsx) is not kept \
        unless --history is given.\n\nThe run id is deterministic (file name + content hash + program \
        version): running the same file again shows the existing results; --force runs it again.",
    after_help = "Exit codes: 0 the run completed (rows may have been rejected: see the summary); 1 the \
        execution failed (Error and Cause shown; a rejected workbook's reason is in its summary); 2 error."
)]
pub struct RunArgs {
    /// The fleet workbook (.xlsx, .xlsm, .xlsb, .xls, .ods) or CSV file (.csv, .tsv).
    file: PathBuf,
    #[command(flatten)]
    pub folder: LocalFolder,
    /// Print the summary JSON instead of the human summary.
    #[arg(long)]
    json: bool,
    /// Run again even if this file's results exist.
    #[arg(long)]
    force: bool,
    /// Another state machine definition to run instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    definition: Option<PathBuf>,
    /// Override the stage's Map concurrency.
    #[arg(long)]
    max_concurrency: Option<u32>,
    /// Override the stage's assets per batch.
    #[arg(long)]
    batch_size: Option<u32>,
    /// Print where the time went on stderr: each step's wall time, its time inside the steps'
    /// code, the engine's own time and the cores kept busy (JSON with --json).
    #[arg(long)]
    timings: bool,
    #[command(flatten)]
    pub rehearsal: RehearsalArgs,
}

/// The folder a local run (`run`, `watch`) works in, the stage it takes its tunables from, and
/// whether it keeps the history there.
#[derive(Debug, Args)]
pub struct LocalFolder {
    /// The local folder laid out like the bucket, where the results land.
    #[arg(long, default_value = "substation-data")]
    pub out: PathBuf,
    /// Whose tunables to use (config/stages.json).
    #[arg(long, default_value = "dev")]
    pub stage: String,
    /// Merge with the history of earlier uploads in --out and keep each upload's samples there
    /// (the default, except for the shipped example).
    #[arg(long, overrides_with = "no_history")]
    pub history: bool,
    /// Diagnose each file alone: read no history, keep nothing.
    #[arg(long, overrides_with = "history")]
    pub no_history: bool,
}

impl LocalFolder {
    /// The runner's options: these, and what the command decides.
    pub fn options(
        &self,
        quiet: bool,
        force: bool,
        max_concurrency: Option<u32>,
        batch_size: Option<u32>,
    ) -> RunOptions {
        RunOptions {
            stage: self.stage.clone(),
            quiet,
            force,
            history: self.history,
            no_history: self.no_history,
            max_concurrency,
            batch_size,
        }
    }
}

/// The rehearsal of the deployed shape (the `aws` feature; scripts/rehearse starts the servers).
#[derive(Debug, Args)]
#[command(next_help_heading = "Rehearsal of the deployed shape (build with --features aws; see scripts/rehearse)")]
pub struct RehearsalArgs {
    /// Run every Task on the real Lambda binaries through this Lambda Invoke API (`cargo lambda
    /// watch`), instead of in process.
    #[arg(long, value_name = "URL", requires_all = ["s3_endpoint", "bucket"])]
    pub lambda_endpoint: Option<String>,
    /// The S3 server the binaries, the ItemReader and the ResultWriter use (moto's server).
    #[arg(long, value_name = "URL", requires = "lambda_endpoint")]
    pub s3_endpoint: Option<String>,
    /// The bucket the binaries were started with (their BUCKET_NAME).
    #[arg(long, value_name = "NAME", requires = "lambda_endpoint")]
    pub bucket: Option<String>,
    /// Step Functions, where the trigger starts the execution (default: the S3 endpoint).
    #[arg(long, value_name = "URL", requires = "lambda_endpoint")]
    pub sfn_endpoint: Option<String>,
    /// DynamoDB, where the diagnose binary keeps the history (default: the S3 endpoint).
    #[arg(long, value_name = "URL", requires = "lambda_endpoint")]
    pub dynamodb_endpoint: Option<String>,
    /// The state machine the trigger starts (the name in its STATE_MACHINE_ARN).
    #[arg(long, value_name = "NAME", default_value = "substation-rehearsal", requires = "lambda_endpoint")]
    pub state_machine: String,
}

impl RunArgs {
    /// The workbook's bytes and its file name (the upload's key under `uploads/`).
    fn upload(&self) -> anyhow::Result<(Vec<u8>, String)> {
        let bytes = std::fs::read(&self.file).with_context(|| format!("cannot read {}", self.file.display()))?;
        let name =
            self.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "upload.xlsx".into());
        Ok((bytes, name))
    }

    /// The state machine to run: --definition, or the built-in one.
    fn definition(&self) -> anyhow::Result<String> {
        match &self.definition {
            Some(p) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display())),
            None => Ok(DEFINITION.to_owned()),
        }
    }
}

/// The process's CPU time, user + system, from /proc/self/stat (Linux; None elsewhere).
fn process_cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) close with ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    // USER_HZ is 100 on every Linux architecture Rust targets.
    Some(std::time::Duration::from_millis((utime + stime) * 10))
}

/// The process's peak resident set, KiB (VmHWM of /proc/self/status; Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn print_timings(stats: &engine::ExecutionStats, json: bool) -> anyhow::Result<()> {
    let secs = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    let engine_s = stats.wall.saturating_sub(stats.in_handlers);
    if json {
        let states: Vec<Value> = stats
            .states
            .iter()
            .map(|t| {
                serde_json::json!({
                    "state": t.name,
                    "wall_s": secs(t.wall),
                    "in_steps_s": secs(t.in_handlers),
                    "engine_s": secs(t.wall.saturating_sub(t.in_handlers)),
                    "cpu_s": t.cpu.map(secs),
                })
            })
            .collect();
        let all = serde_json::json!({"wall_s": secs(stats.wall), "in_steps_s": secs(stats.in_handlers),
            "engine_s": secs(engine_s), "history_events": stats.events, "peak_rss_kib": peak_rss_kib(),
            "states": states});
        eprintln!("{all}");
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header(["state", "wall s", "in steps s", "engine s", "cores busy"]);
    for t in &stats.states {
        let cores =
            t.cpu.filter(|_| !t.wall.is_zero()).map(|c| format!("{:.2}", c.as_secs_f64() / t.wall.as_secs_f64()));
        table.add_row([
            t.name.clone(),
            format!("{:.3}", t.wall.as_secs_f64()),
            format!("{:.3}", t.in_handlers.as_secs_f64()),
            format!("{:.3}", t.wall.saturating_sub(t.in_handlers).as_secs_f64()),
            cores.unwrap_or_default(),
        ]);
    }
    table.add_row([
        "(execution)".to_owned(),
        format!("{:.3}", stats.wall.as_secs_f64()),
        format!("{:.3}", stats.in_handlers.as_secs_f64()),
        format!(
            "{:.3} ({:.1} %)",
            engine_s.as_secs_f64(),
            100.0 * engine_s.as_secs_f64() / stats.wall.as_secs_f64().max(1e-9)
        ),
        String::new(),
    ]);
    eprintln!("{table}");
    if let Some(kib) = peak_rss_kib() {
        eprintln!("peak memory: {:.0} MiB", kib as f64 / 1024.0);
    }
    Ok(())
}

/// What `run` and `watch` run a file with.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Whose tunables to use (config/stages.json).
    pub stage: String,
    /// No notes on stderr and no progress bar (the `--json` output).
    pub quiet: bool,
    /// Run again even if the file's results exist.
    pub force: bool,
    /// Keep the history even for the shipped example.
    pub history: bool,
    /// Read no history, keep nothing.
    pub no_history: bool,
    /// Override the stage's Map concurrency.
    pub max_concurrency: Option<u32>,
    /// Override the stage's assets per batch.
    pub batch_size: Option<u32>,
}

/// How one file's run ended.
// One per run of a file, moved once: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum RunOutcome {
    /// This process ran it to its end (successfully or not). The execution holds the run's
    /// claim until dropped.
    Ran { run_id: String, execution: LocalExecution, summary: Option<Summary> },
    /// Its run exists (the same bytes under the same name, already run): its results.
    /// `waited`: another process was running it, and this one waited for it to end.
    AlreadyRun { run_id: String, summary: Summary, waited: bool },
}

/// Runs files through the trigger's start and idempotency code (`flow::start::submit`) on the
/// in-process engine, into one --out folder: `substation run` runs one, `substation watch` one
/// after another.
pub struct LocalRunner {
    runtime: tokio::runtime::Runtime,
    config: Arc<config::SharedConfig>,
    store: Arc<LocalStore>,
    out: PathBuf,
    machine: StateMachine,
    thresholds: Arc<dga::Thresholds>,
    /// The folder's history store, opened by the first run that keeps one.
    history: Option<substation::history_sqlite::SqliteHistory>,
    options: RunOptions,
}

impl std::fmt::Debug for LocalRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRunner").field("out", &self.out).field("options", &self.options).finish_non_exhaustive()
    }
}

impl LocalRunner {
    /// A runner into `out`, running `definition` (the built-in state machine, or --definition).
    pub fn new(
        out: &Path,
        definition: &str,
        thresholds: dga::Thresholds,
        options: RunOptions,
    ) -> anyhow::Result<LocalRunner> {
        let config = Arc::new(config::SharedConfig::embedded());
        // One worker per core (the Map's children run on all of them), with stacks as large as a
        // main thread's: a state's output may nest up to the engine's 1,000 levels.
        let runtime = tokio::runtime::Builder::new_multi_thread().thread_stack_size(8 << 20).enable_all().build()?;
        let subs = local_workflow::substitutions(&config);
        let machine =
            StateMachine::load("bulk-upload", definition, &subs).context("the state machine cannot run locally")?;
        Ok(LocalRunner {
            runtime,
            store: Arc::new(LocalStore::new(out)),
            config,
            out: out.to_owned(),
            machine,
            thresholds: Arc::new(thresholds),
            history: None,
            options,
        })
    }

    fn summary_of(&self, run_id: &str) -> Option<serde_json::Result<Summary>> {
        let layout = flow::layout::RunLayout::new(run_id, &self.config);
        self.runtime.block_on(self.store.get(&layout.summary())).ok().map(|b| serde_json::from_slice::<Summary>(&b))
    }

    /// Uploads `bytes` as `uploads/<file_name>` and submits the upload as the trigger does: a new
    /// run is run here to its end; an existing one (the same name and bytes) is not run again.
    /// `label` names the file in notes on stderr.
    pub fn run_upload(&mut self, label: &Path, file_name: &str, bytes: Vec<u8>) -> anyhow::Result<RunOutcome> {
        let opts = self.options.clone();
        let (config, store) = (self.config.clone(), self.store.clone());
        let key = format!("{}{file_name}", config.upload_prefix);
        // Stored as a version, as in the versioned bucket: the run id names the version (the
        // content's hash), and parse reads that version, whatever is uploaded under the name later.
        let version = store.put_upload(&key, &bytes)?;
        let upload = Upload {
            bucket: LOCAL_BUCKET.into(),
            key: key.clone(),
            size: bytes.len() as u64,
            etag: Some(version.clone()),
            version_id: Some(version.clone()),
            event_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        // The shipped example is for trying the program: its made-up transformers stay out of the
        // folder's history unless asked for.
        let is_example = bytes == EXAMPLE_WORKBOOK;
        let keep_history = if opts.no_history { false } else { opts.history || !is_example };
        if is_example && !keep_history && !opts.no_history && !opts.quiet {
            eprintln!("note: the shipped example is not kept in the history (--history keeps it)");
        }
        drop(bytes);
        let history = if keep_history {
            if self.history.is_none() {
                self.history =
                    Some(substation::history_sqlite::SqliteHistory::open_in(&self.out).context("the history store")?);
            }
            self.history.clone()
        } else {
            None
        };
        let force_salt = opts.force.then(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default());

        // Reading, then diagnosing (a bar over the assets), then writing the results: the steps
        // switch the style as they start (local_workflow).
        let progress = if std::io::stderr().is_terminal() && !opts.quiet {
            let p = ProgressBar::new(0);
            p.set_style(local_workflow::phase_style("reading"));
            p.set_message(file_name.to_owned());
            p
        } else {
            ProgressBar::hidden()
        };
        let steps =
            Steps { store: store.clone(), config: config.clone(), thresholds: self.thresholds.clone(), history };
        // No history is kept (only counted, for AWS's limit): nothing reads it here.
        let executor = steps
            .executor(Arc::new(SystemClock), progress.clone())
            .record_history(false)
            .with_cpu_clock(process_cpu_time);
        let executions = LocalExecutions { steps, machine: self.machine.clone(), executor };
        let mut waited = false;
        loop {
            let adjust = |input: &mut flow::start::ExecutionInput| {
                if let Some(salt) = force_salt {
                    input.run_id = flow::start::run_id(LOCAL_BUCKET, &key, Some(&format!("{version}-{salt}")));
                }
                if let Some(n) = opts.max_concurrency {
                    input.map.max_concurrency = n;
                }
                if let Some(n) = opts.batch_size {
                    input.map.max_items_per_batch = n;
                }
                input.history = keep_history;
                if !keep_history {
                    // A run without the history is a different run of the same file.
                    input.run_id =
                        flow::start::run_id(LOCAL_BUCKET, &key, Some(&format!("{}-no-history", input.run_id)));
                }
            };
            progress.enable_steady_tick(std::time::Duration::from_millis(120));
            let submitted = self.runtime.block_on(submit(&executions, &upload, &opts.stage, &config, adjust));
            progress.finish_and_clear();
            match submitted? {
                Submitted::Ignored(why) => anyhow::bail!("{why}"),
                Submitted::Started { input, execution } => {
                    let summary = self.summary_of(&input.run_id).and_then(Result::ok);
                    return Ok(RunOutcome::Ran { run_id: input.run_id, execution, summary });
                }
                Submitted::AlreadyExists { input } => {
                    if let Some(summary) = self.summary_of(&input.run_id) {
                        let summary = summary.context("the existing summary is not valid")?;
                        return Ok(RunOutcome::AlreadyRun { run_id: input.run_id, summary, waited });
                    }
                    if waited {
                        // The other process ended without a summary (killed): run it here.
                        waited = false;
                        continue;
                    }
                    if !opts.quiet {
                        eprintln!(
                            "{} is being run by another process as {}: waiting for it",
                            label.display(),
                            input.run_id
                        );
                    }
                    executions.wait(&input.run_id)?;
                    waited = true;
                }
            }
        }
    }
}

/// A failed execution's cause: the Lambda-style `errorMessage` when the cause is one.
pub fn failure_cause(e: &engine::StatesError) -> String {
    serde_json::from_str::<Value>(&e.cause)
        .ok()
        .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| e.cause.clone())
}

pub fn run(args: &RunArgs, thresholds: dga::Thresholds) -> anyhow::Result<u8> {
    if args.rehearsal.lambda_endpoint.is_some() {
        return rehearse(args);
    }
    let (bytes, file_name) = args.upload()?;
    let options = args.folder.options(args.json, args.force, args.max_concurrency, args.batch_size);
    let mut runner = LocalRunner::new(&args.folder.out, &args.definition()?, thresholds, options)?;
    match runner.run_upload(&args.file, &file_name, bytes)? {
        RunOutcome::AlreadyRun { run_id, summary, waited } => {
            if !args.json && !waited {
                eprintln!("{} was already run as {} (use --force to run it again)", args.file.display(), run_id);
            }
            show(&summary, &args.folder.out, args.json)
        }
        RunOutcome::Ran { execution, summary, .. } => {
            let result = &execution.result;
            if args.timings {
                print_timings(&result.stats, args.json)?;
            }
            match (&result.error, summary) {
                (None, Some(summary)) => show(&summary, &args.folder.out, args.json),
                (Some(e), summary) => {
                    if let Some(s) = &summary {
                        if args.json {
                            crate::print_out(&(serde_json::to_string_pretty(s)? + "\n"))?;
                        } else {
                            show(s, &args.folder.out, false)?;
                        }
                    }
                    // A summary that ended the run says why (once); the stable error name is in
                    // its `error` field and the execution's history, not in a message for people.
                    if summary.as_ref().is_none_or(|s| s.status == RunStatus::Complete) {
                        eprintln!("error: the run failed: {}", failure_cause(e));
                    }
                    Ok(exit::EXECUTION_FAILED)
                }
                (None, None) => anyhow::bail!("the run succeeded but wrote no summary"),
            }
        }
    }
}

#[cfg(not(feature = "aws"))]
fn rehearse(_: &RunArgs) -> anyhow::Result<u8> {
    anyhow::bail!(
        "this build has no AWS client: the rehearsal needs `--features aws` \
         (cargo install --locked --path . --features aws; scripts/rehearse builds it)"
    )
}

/// `run FILE --lambda-endpoint …`: the upload, the trigger, every step and the Map's files on
/// the servers of a rehearsal (functions/remote/src/rehearsal.rs); the results are then copied
/// into --out and shown as a local run's.
#[cfg(feature = "aws")]
fn rehearse(args: &RunArgs) -> anyhow::Result<u8> {
    let r = &args.rehearsal;
    let (Some(lambda), Some(s3), Some(bucket)) = (&r.lambda_endpoint, &r.s3_endpoint, &r.bucket) else {
        anyhow::bail!("--lambda-endpoint needs --s3-endpoint and --bucket");
    };
    let endpoints = remote::Endpoints {
        lambda: lambda.clone(),
        s3: s3.clone(),
        sfn: r.sfn_endpoint.clone().unwrap_or_else(|| s3.clone()),
        dynamodb: r.dynamodb_endpoint.clone().unwrap_or_else(|| s3.clone()),
    };
    let (bytes, file_name) = args.upload()?;
    let definition = args.definition()?;
    let config = Arc::new(config::SharedConfig::embedded());
    let rehearsal =
        remote::rehearsal::Rehearsal::new(&endpoints, bucket, &args.folder.stage, &r.state_machine, definition, config);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let progress = if std::io::stderr().is_terminal() && !args.json {
        let p = ProgressBar::new_spinner();
        p.set_message(format!("rehearsing {file_name}: the real binaries at {lambda}"));
        p.enable_steady_tick(std::time::Duration::from_millis(120));
        p
    } else {
        ProgressBar::hidden()
    };
    let run = runtime.block_on(async {
        rehearsal.prepare().await?;
        rehearsal
            .run(&file_name, bytes, |input| {
                if let Some(n) = args.max_concurrency {
                    input.map.max_concurrency = n;
                }
                if let Some(n) = args.batch_size {
                    input.map.max_items_per_batch = n;
                }
            })
            .await
    });
    progress.finish_and_clear();
    let run = run?;
    let run_id = run.input.run_id.clone();
    runtime.block_on(rehearsal.download_results(&run_id, &args.folder.out))?;
    if args.timings {
        print_timings(&run.result.stats, args.json)?;
        let counts = run.counts();
        if args.json {
            eprintln!("{}", serde_json::json!({"rehearsal": counts, "execution_arn": run.execution_arn}));
        } else {
            eprintln!(
                "rehearsal: {} child executions, {} state transitions, {} Lambda invocations",
                counts.child_executions, counts.state_transitions, counts.lambda_invocations
            );
            for (function, c) in &counts.functions {
                eprintln!("  {function}: {} calls, {} ms", c.invocations, c.duration_ms);
            }
        }
    }
    if !args.json {
        eprintln!(
            "rehearsed {} as {} (recorded by Step Functions at {})",
            args.file.display(),
            run_id,
            r.sfn_endpoint.as_deref().unwrap_or(s3)
        );
    }
    let layout = flow::layout::RunLayout::new(&run_id, &config::SharedConfig::embedded());
    let summary: Option<Summary> =
        std::fs::read(args.folder.out.join(layout.summary())).ok().and_then(|b| serde_json::from_slice(&b).ok());
    match (&run.result.error, summary) {
        (None, Some(summary)) => show(&summary, &args.folder.out, args.json),
        (error, summary) => {
            if let Some(s) = &summary {
                show(s, &args.folder.out, args.json)?;
            }
            match error {
                Some(e) => eprintln!("error: the run failed: {}\n  cause: {}", e.error, e.cause),
                None => eprintln!("error: the run succeeded but wrote no summary"),
            }
            Ok(exit::EXECUTION_FAILED)
        }
    }
}

fn show(summary: &Summary, out: &Path, json: bool) -> anyhow::Result<u8> {
    use std::fmt::Write as _;
    let mut o = String::new();
    let code = if summary.status == RunStatus::Complete { exit::OK } else { exit::EXECUTION_FAILED };
    if json {
        crate::print_out(&(serde_json::to_string_pretty(summary)? + "\n"))?;
        return Ok(code);
    }
    let c = &summary.counts;
    let status = match summary.status {
        RunStatus::Complete => "complete",
        RunStatus::Incomplete => "INCOMPLETE",
        RunStatus::Rejected => "REJECTED",
    };
    let status = crate::term::status_text(if summary.status == RunStatus::Complete { 1 } else { 3 }, status);
    let _ = writeln!(o, "Run {}: {status}", summary.run_id);
    if let Some(reason) = &summary.reason {
        let _ = writeln!(o, "  {reason}");
    }
    if summary.status != RunStatus::Rejected {
        let _ = writeln!(
            o,
            "  {} rows read: {} samples accepted, {} rows rejected, {} skipped; {} assets: {} diagnosed, {} failed, {} not started",
            c.rows_read,
            c.samples_accepted,
            c.rows_rejected,
            c.rows_skipped,
            c.assets,
            c.diagnosed,
            c.failed,
            c.not_started
        );
        let st = |k: &str| summary.by_status.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "  {}: {}   {}: {}   {}: {}",
            crate::term::status_text(3, "status 3 (act now)"),
            st("3"),
            crate::term::status_text(2, "status 2 (investigate)"),
            st("2"),
            crate::term::status_text(1, "status 1 (normal)"),
            st("1")
        );
        // How the file's own pattern decided a value of two readings, and other notes of the read.
        for w in summary.workbook_warnings.iter().take(5) {
            let _ = writeln!(o, "  note: {w}");
        }
        if summary.workbook_warnings.len() > 5 {
            let _ = writeln!(o, "  note: {} more in summary.json", summary.workbook_warnings.len() - 5);
        }
        let faults: Vec<String> =
            summary.by_fault.iter().filter(|(f, _)| f.as_str() != "NORMAL").map(|(f, n)| format!("{f} ×{n}")).collect();
        if !faults.is_empty() {
            let _ = writeln!(o, "  faults: {}", faults.join(", "));
        }
        // The listed warnings (the first 100), by kind: rejected newer rows, then corrections.
        let warnings = &summary.warnings;
        let of_kind = |code: &'static str| warnings.iter().filter(move |w| w.warning.code == code);
        let older: std::collections::BTreeSet<&str> =
            of_kind("newest_sample_rejected").map(|w| w.asset_id.as_str()).collect();
        if !older.is_empty() {
            // Without a history every warning is of this kind, and the count is exact; with one,
            // only the listed warnings (the first 100) can be told apart.
            let n = match &summary.history {
                None => summary.assets_with_warnings.to_string(),
                Some(_) if summary.warnings.len() < 100 => older.len().to_string(),
                Some(_) => format!("at least {}", older.len()),
            };
            let _ = writeln!(o, "  {n} asset(s) rest on an older sample: a newer row was rejected");
            for w in of_kind("newest_sample_rejected").take(5) {
                let _ = writeln!(o, "    {}: {}", w.asset_id, w.warning.text);
            }
        }
        if let Some(h) = &summary.history {
            let _ = writeln!(
                o,
                "  history: {} assets known from earlier uploads, {} of their samples merged; {} repeated samples kept once, {} corrected",
                h.assets_known_before, h.samples_from_earlier_uploads, h.repeats, h.corrections
            );
            for w in of_kind("sample_corrected").take(5) {
                let _ = writeln!(o, "    {}: {}", w.asset_id, w.warning.text);
            }
            if h.unknown_assets > 0 {
                let _ = writeln!(
                    o,
                    "  {} asset(s) rejected: neither on the assets sheet nor in the history (see rejected rows)",
                    h.unknown_assets
                );
            }
            if h.assets_worsened > 0 {
                let _ = writeln!(o, "  {} asset(s) worse than at their previous diagnosis:", h.assets_worsened);
                for w in h.worsened.iter().take(10) {
                    let _ =
                        writeln!(o, "    {}: status {} → {} ({})", w.asset_id, w.previous_status, w.status, w.fault);
                }
            }
        }
        if !summary.act_first.is_empty() {
            // The table fits the terminal (100 columns when piped): the reason wraps.
            let mut table = crate::term::table();
            // Short headers: the reason gets the width (docs/legend.md explains the columns).
            table.set_header(["Act first", "Status", "Score", "Fault", "Conf.", "Why"]);
            for a in summary.act_first.iter().take(10) {
                let fault = if a.refinements.is_empty() {
                    a.fault.clone()
                } else {
                    format!("{} ({})", a.fault, a.refinements.join(", "))
                };
                table.add_row([
                    comfy_table::Cell::new(&a.asset_id),
                    crate::term::status_cell(a.status, a.status),
                    comfy_table::Cell::new(format!("{:.1}", a.priority)),
                    comfy_table::Cell::new(fault),
                    comfy_table::Cell::new(a.confidence.clone().unwrap_or_default()),
                    comfy_table::Cell::new(
                        a.first_reason_short.clone().or_else(|| a.first_reason.clone()).unwrap_or_default(),
                    ),
                ]);
            }
            let _ = writeln!(o, "{table}");
        }
    }
    let dir = out.join(summary.files.summary.rsplit_once('/').map_or("", |(d, _)| d));
    let _ = writeln!(o, "Results: {}", dir.display());
    let file = |f: &Option<String>| f.as_ref().map(|f| out.join(f));
    if let Some(html) = file(&summary.files.report_html) {
        let html = std::path::absolute(&html).unwrap_or(html);
        let _ = writeln!(o, "  report.html: open it in a browser (plots, a page per asset)");
        let _ = writeln!(o, "    file://{}", html.display());
    }
    if let Some(xlsx) = file(&summary.files.report) {
        let _ = writeln!(o, "  report.xlsx: for Excel or LibreOffice (each sheet prints one page wide)");
        let _ = writeln!(o, "    {}", xlsx.display());
    }
    for (what, f) in [("every record", &summary.files.diagnoses), ("rejected rows", &summary.files.rejected)] {
        if let Some(p) = file(f) {
            let _ = writeln!(o, "  {what}: {}", p.display());
        }
    }
    crate::term::print(&o)?;
    Ok(code)
}
