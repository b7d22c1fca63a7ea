//! `substation watch DIR`: the local counterpart of the S3 upload bucket. Every workbook or CSV that
//! appears in the folder is run, once it is completely written, through the same start and
//! idempotency code as the bucket's trigger (`flow::start::submit`, by `run`'s [`LocalRunner`]).
//!
//! The folder is polled, not watched through inotify (the `notify` crate): shared network folders
//! (SMB, NFS), where drop folders usually live, deliver no inotify events for files written by
//! other machines, so listing the folder is what works there; and the readiness check — size and
//! modification time unchanged for a while, and the file readable whole — is ours either way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::Args;
use flow::aggregate::{RunStatus, Summary};
use substation::local_workflow::DEFINITION;

use crate::exit;
use crate::run::{LocalFolder, LocalRunner, RunOutcome, failure_cause};

/// Watch a folder and run every workbook or CSV file dropped into it, as the upload bucket does on AWS.
#[derive(Debug, Args)]
#[command(
    long_about = "Watch a folder and run every workbook or CSV file dropped into it, as the upload bucket does on AWS: \
        the local counterpart of uploading into the bucket. Results land in <out>/results/<run>/, as with \
        `substation run --out`, and each run's one-line summary is printed on stdout as it ends (--json: its \
        summary, one JSON object a line).\n\n\
        Which files: those in DIR itself (not in its subfolders) with a workbook's or CSV file's extension (the \
        workbook_extensions of config/stages.json: .xlsx, .xlsm, .xlsb, .xls, .ods, .csv, .tsv), in any case. Hidden \
        files, Excel's lock files (~$…) and temporary names (*.tmp, *.part, *.crdownload) are left alone.\n\n\
        When: a file runs once it is completely written: its size and modification time unchanged for \
        --settle (the folder is looked at every --poll-ms), and it reads whole; a zip-based workbook (.xlsx, \
        .xlsm, .ods) must also have its central directory, which a writer puts last. A file moved in whole \
        runs after one --settle. A file that stays unreadable (a damaged or cut-off zip) is reported once on \
        stderr and waits until it changes. The folder is polled, not watched for change events: shared \
        folders (SMB, NFS) deliver none.\n\n\
        Idempotency: each file is started through the same code as the bucket's trigger, with a run id \
        made of its name and its content, so the same bytes dropped again under the same name are not run \
        again (\"already run as <run id>\"), while changed bytes are a new run. The files already in DIR when \
        watch starts are run once (or found already run). Runs go one at a time, and each asset's samples \
        are kept in <out>/history.sqlite3 as with `substation run` (--no-history: none).\n\n\
        Stopping: Ctrl-C (SIGINT) stops after the run in progress; a second Ctrl-C stops at once.",
    after_help = "Exit codes: 0 stopped by Ctrl-C (each run's outcome is in its line: a failed or rejected run \
        does not stop the watch); 2 error before watching (DIR unreadable, bad options); 130 a second Ctrl-C \
        stopped a run midway (it runs again from the start when its file is dropped again)."
)]
pub struct WatchArgs {
    /// The folder to watch (not its subfolders).
    dir: PathBuf,
    #[command(flatten)]
    folder: LocalFolder,
    /// Print each run's summary as one line of JSON instead of the human line.
    #[arg(long)]
    json: bool,
    /// How long a file must stay unchanged (size and modification time) before it runs: 2s,
    /// 500ms, or seconds.
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    settle: Duration,
    /// --settle in milliseconds (for tests).
    #[arg(long, hide = true, value_name = "MS")]
    settle_ms: Option<u64>,
    /// How often the folder is listed, in milliseconds.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    poll_ms: u64,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, scale) = if let Some(ms) = s.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(secs) = s.strip_suffix('s') {
        (secs, 1.0)
    } else {
        (s, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("'{s}' is not a duration (e.g. 2s, 500ms)"))?;
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("'{s}': {e}"))
}

/// What one look at a file sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    size: u64,
    modified: Option<SystemTime>,
}

impl Look {
    fn of(meta: &std::fs::Metadata) -> Look {
        Look { size: meta.len(), modified: meta.modified().ok() }
    }
}

/// Where a file of the folder is.
#[derive(Debug)]
enum State {
    /// Seen as `look` since `since`: it runs when that has lasted the settle time.
    Settling { look: Look, since: Instant },
    /// Unchanged, but not a complete workbook (a zip without its central directory): it waits
    /// for the next change.
    Unreadable { look: Look },
    /// Run (or found already run, or failed) as `look`: it runs again only when it changes.
    Done { look: Look },
}

impl State {
    fn look(&self) -> Look {
        match self {
            State::Settling { look, .. } | State::Unreadable { look } | State::Done { look } => *look,
        }
    }
}

/// Whether a name in the folder is a workbook to run: a configured extension (in any case), and
/// not hidden, an Excel lock file or a temporary name.
fn is_candidate(name: &str, extensions: &[String]) -> bool {
    let lower = name.to_ascii_lowercase();
    if name.starts_with('.') || name.starts_with("~$") {
        return false;
    }
    if [".tmp", ".part", ".crdownload"].iter().any(|t| lower.ends_with(t)) {
        return false;
    }
    lower.rsplit_once('.').is_some_and(|(stem, ext)| !stem.is_empty() && extensions.iter().any(|e| e == ext))
}

/// Why a settled file cannot run yet.
#[derive(Debug)]
enum NotReady {
    /// It could not be opened or read (locked by its writer, gone): look again later.
    Unopened,
    /// It changed while it was read.
    Changed(Look),
    /// It reads, but is not complete (a zip without its central directory).
    Incomplete(String),
}

/// The file's bytes, if it is completely written: it reads whole, still as `look`, and a zip
/// container's central directory reads.
fn read_complete(path: &Path, look: Look) -> Result<Vec<u8>, NotReady> {
    let bytes = std::fs::read(path).map_err(|_| NotReady::Unopened)?;
    let after = std::fs::metadata(path).map(|m| Look::of(&m)).map_err(|_| NotReady::Unopened)?;
    if after != look || bytes.len() as u64 != look.size {
        return Err(NotReady::Changed(after));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        zip::ZipArchive::new(std::io::Cursor::new(&bytes[..]))
            .map_err(|e| NotReady::Incomplete(format!("its zip container does not read ({e})")))?;
    }
    Ok(bytes)
}

/// The workbooks in the folder now, by name (not its subfolders).
fn list(dir: &Path, extensions: &[String]) -> std::io::Result<BTreeMap<String, (PathBuf, Look)>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        if !is_candidate(&name, extensions) {
            continue;
        }
        let path = entry.path();
        // Followed, so a link to a workbook counts; a file gone since the listing is skipped.
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_file() {
            files.insert(name, (path, Look::of(&meta)));
        }
    }
    Ok(files)
}

/// The folder a run's results are in, as `run` shows it.
fn results_dir(summary: &Summary, out: &Path) -> PathBuf {
    out.join(summary.files.summary.rsplit_once('/').map_or("", |(d, _)| d))
}

/// A run's one line: `fleet.xlsx: complete — 300 rows read, …; 50 assets diagnosed (status 3: 2,
/// status 2: 5) → substation-data/results/<run>/`.
fn summary_line(name: &str, s: &Summary, out: &Path) -> String {
    let c = &s.counts;
    let status = match s.status {
        RunStatus::Complete => "complete",
        RunStatus::Incomplete => "INCOMPLETE",
        RunStatus::Rejected => "REJECTED",
    };
    let status = crate::term::status_text(if s.status == RunStatus::Complete { 1 } else { 3 }, status);
    let dir = results_dir(s, out);
    if s.status == RunStatus::Rejected {
        let reason = s.reason.as_deref().unwrap_or("no reason given");
        return format!("{name}: {status} — {reason} → {}/", dir.display());
    }
    let st = |k: &str| s.by_status.get(k).copied().unwrap_or(0);
    let mut line = format!(
        "{name}: {status} — {} rows read, {} samples accepted, {} rejected; {} assets diagnosed (status 3: {}, status 2: {})",
        c.rows_read,
        c.samples_accepted,
        c.rows_rejected,
        c.diagnosed,
        st("3"),
        st("2")
    );
    if c.failed > 0 {
        line += &format!(", {} failed", c.failed);
    }
    if c.not_started > 0 {
        line += &format!(", {} not started", c.not_started);
    }
    if let Some(reason) = &s.reason {
        line += &format!("; {reason}");
    }
    line + &format!(" → {}/", dir.display())
}

/// Prints how one file's run ended: a line (or the summary's JSON) on stdout.
fn report(name: &str, outcome: &RunOutcome, out: &Path, json: bool) -> anyhow::Result<()> {
    match outcome {
        RunOutcome::AlreadyRun { run_id, summary, waited } => {
            let by = if *waited { " by another process" } else { "" };
            let line = format!("{name}: already run{by} as {run_id} → {}/", results_dir(summary, out).display());
            // --json prints runs; a file found already run is not one.
            if json { eprintln!("{line}") } else { crate::print_out(&(line + "\n"))? }
        }
        RunOutcome::Ran { run_id, execution, summary } => {
            let error = execution.result.error.as_ref();
            match summary {
                // A rejected workbook's execution fails, and its summary says why.
                Some(s) => {
                    let text = if json { serde_json::to_string(s)? } else { summary_line(name, s, out) };
                    crate::print_out(&(text + "\n"))?;
                    if let Some(e) = error.filter(|_| s.status != RunStatus::Rejected) {
                        eprintln!("{name}: the run {run_id} failed: {}", failure_cause(e));
                    }
                }
                None => {
                    let (what, cause) = match error {
                        Some(e) => (e.error.clone(), failure_cause(e)),
                        None => ("NoSummary".to_owned(), "the run succeeded but wrote no summary".to_owned()),
                    };
                    let text = if json {
                        serde_json::json!({"file": name, "run_id": run_id, "error": what, "cause": cause}).to_string()
                    } else {
                        format!("{name}: FAILED as {run_id} — {cause}")
                    };
                    crate::print_out(&(text + "\n"))?;
                }
            }
        }
    }
    Ok(())
}

/// Ctrl-C: the first asks the loop to stop after the run in progress (and wakes it from its
/// sleep), a second exits at once with 130.
fn on_ctrl_c(stop: Arc<AtomicBool>, running: Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut signals =
        signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]).context("cannot handle Ctrl-C")?;
    let main = std::thread::current();
    std::thread::Builder::new().name("ctrl-c".into()).spawn(move || {
        for (n, _) in signals.forever().enumerate() {
            if n > 0 {
                std::process::exit(130);
            }
            stop.store(true, Ordering::SeqCst);
            if running.load(Ordering::SeqCst) {
                eprintln!("stopping after the run in progress (Ctrl-C again stops at once)");
            }
            main.unpark();
        }
    })?;
    Ok(())
}

pub fn run(args: &WatchArgs, thresholds: dga::Thresholds) -> anyhow::Result<u8> {
    let settle = args.settle_ms.map_or(args.settle, Duration::from_millis);
    let poll = Duration::from_millis(args.poll_ms.max(1));
    let extensions: Vec<String> =
        config::SharedConfig::embedded().workbook_extensions.iter().map(|e| e.to_ascii_lowercase()).collect();
    list(&args.dir, &extensions).with_context(|| format!("cannot read the folder {}", args.dir.display()))?;
    let options = args.folder.options(args.json, false, None, None);
    let mut runner = LocalRunner::new(&args.folder.out, DEFINITION, thresholds, options)?;
    let (stop, running) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    on_ctrl_c(stop.clone(), running.clone())?;
    if !args.json {
        eprintln!(
            "watching {} for .{} files (results in {}); Ctrl-C stops",
            args.dir.display(),
            extensions.join(", ."),
            args.folder.out.display()
        );
    }
    let mut states: BTreeMap<String, State> = BTreeMap::new();
    // The folder's listing failed last time: said once, until it reads again.
    let mut unlisted = false;
    while !stop.load(Ordering::SeqCst) {
        let files = match list(&args.dir, &extensions) {
            Ok(files) => {
                unlisted = false;
                files
            }
            Err(e) => {
                // A shared folder may be away for a while: keep looking.
                if !unlisted {
                    eprintln!("warning: cannot read the folder {}: {e}; looking again", args.dir.display());
                }
                unlisted = true;
                std::thread::park_timeout(poll);
                continue;
            }
        };
        states.retain(|name, _| files.contains_key(name));
        for (name, (path, look)) in &files {
            let now = Instant::now();
            let state = states.entry(name.clone()).or_insert(State::Settling { look: *look, since: now });
            if state.look() != *look {
                *state = State::Settling { look: *look, since: now };
                continue;
            }
            let State::Settling { since, .. } = state else { continue };
            if since.elapsed() < settle {
                continue;
            }
            let bytes = match read_complete(path, *look) {
                Ok(bytes) => bytes,
                Err(NotReady::Unopened) => continue,
                Err(NotReady::Changed(after)) => {
                    *state = State::Settling { look: after, since: Instant::now() };
                    continue;
                }
                Err(NotReady::Incomplete(why)) => {
                    eprintln!("{name}: not a complete workbook: {why}; waiting for it to change");
                    *state = State::Unreadable { look: *look };
                    continue;
                }
            };
            // Claimed before the stop is checked: a Ctrl-C from here on says it waits for this run.
            running.store(true, Ordering::SeqCst);
            if stop.load(Ordering::SeqCst) {
                running.store(false, Ordering::SeqCst);
                break;
            }
            if !args.json {
                eprintln!("{name}: picked up ({} bytes)", look.size);
            }
            let outcome = runner.run_upload(path, name, bytes);
            running.store(false, Ordering::SeqCst);
            *state = State::Done { look: *look };
            match outcome {
                Ok(outcome) => report(name, &outcome, &args.folder.out, args.json)?,
                Err(e) => {
                    eprintln!("error: {name}: {e}");
                    for cause in e.chain().skip(1) {
                        eprintln!("  caused by: {cause}");
                    }
                }
            }
        }
        if !stop.load(Ordering::SeqCst) {
            std::thread::park_timeout(poll);
        }
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_the_configured_workbooks_and_not_lock_or_temporary_files() {
        let ext: Vec<String> = ["xlsx", "ods"].iter().map(|s| s.to_string()).collect();
        for yes in ["fleet.xlsx", "Fleet Q3.XLSX", "a.b.ods"] {
            assert!(is_candidate(yes, &ext), "{yes}");
        }
        for no in [".fleet.xlsx", "~$fleet.xlsx", "fleet.xlsx.tmp", "fleet.xlsx.part", "fleet.xlsx.crdownload", ".xlsx"]
        {
            assert!(!is_candidate(no, &ext), "{no}");
        }
        assert!(!is_candidate("fleet.csv", &ext));
        assert!(!is_candidate("fleet", &ext));
    }

    #[test]
    fn durations_read_as_seconds_or_milliseconds() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
