//! `substation watch DIR`: the drop folder. A workbook runs once it is completely written (two
//! halves with a pause between give one run, of the whole file), a file already there runs once,
//! the same bytes dropped again are not run again, and Ctrl-C stops cleanly after the run in
//! progress.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a file must stay unchanged before it runs, in the tests.
const SETTLE_MS: u64 = 800;

fn fleet(assets: usize, seed: u64) -> Vec<u8> {
    workbook::sample::write_fleet(&workbook::sample::SampleOptions {
        assets,
        samples_per_asset: 3,
        seed,
        ..Default::default()
    })
    .unwrap()
}

/// The workbook's counts as the reader gives them.
fn counts(bytes: &[u8]) -> workbook::Counts {
    workbook::read_workbook(bytes, "fleet.xlsx", &config::SharedConfig::embedded().workbook_limits).unwrap().counts
}

/// A running `substation watch`, its stdout and stderr read line by line as they come.
struct Watch {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Watch {
    fn start(dir: &Path, out: &Path, extra: &[&str]) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_substation"))
            .env_remove(dga::THRESHOLDS_ENV)
            .env("NO_COLOR", "1")
            .arg("watch")
            .arg(dir)
            .arg("--out")
            .arg(out)
            .args(["--settle-ms", &SETTLE_MS.to_string(), "--poll-ms", "100"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Watch { child, stdout, stderr, seen: Vec::new() }
    }

    /// The next line of `stdout` (or stderr), within `timeout`; None if none came.
    fn next_line(&mut self, stdout: bool, timeout: Duration) -> Option<String> {
        let rx = if stdout { &self.stdout } else { &self.stderr };
        match rx.recv_timeout(timeout) {
            Ok(line) => {
                self.seen.push(format!("{}: {line}", if stdout { "stdout" } else { "stderr" }));
                Some(line)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Waits for a line of stdout (or stderr) that `matches`, skipping others; panics after
    /// `timeout`.
    fn expect(&mut self, stdout: bool, timeout: Duration, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(stdout, left) {
                Some(line) if matches(&line) => return line,
                Some(_) => {}
                None => panic!("no {what} within {timeout:?}; lines so far: {:#?}", self.seen),
            }
        }
    }

    /// stdout says nothing for `quiet`.
    fn expect_quiet_stdout(&mut self, quiet: Duration, why: &str) {
        if let Some(line) = self.next_line(true, quiet) {
            panic!("{why}, but stdout said: {line}; lines so far: {:#?}", self.seen);
        }
    }

    fn interrupt(&self) {
        let status = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// The exit status, within `timeout`.
    fn exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running {timeout:?} after Ctrl-C; lines: {:#?}", self.seen);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // A failed test leaves no watcher behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn result_dirs(out: &Path) -> usize {
    std::fs::read_dir(out.join("results")).map_or(0, |d| d.count())
}

const RUN_TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn a_file_already_there_runs_once_and_the_same_bytes_dropped_again_do_not_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("incoming"), tmp.path().join("data"));
    std::fs::create_dir(&dir).unwrap();
    let bytes = fleet(20, 1);
    std::fs::write(dir.join("fleet.xlsx"), &bytes).unwrap();
    // Left alone: an Excel lock file, a download in progress, a hidden file, a subfolder's file.
    std::fs::write(dir.join("~$fleet.xlsx"), b"lock").unwrap();
    std::fs::write(dir.join("other.xlsx.crdownload"), &bytes[..100]).unwrap();
    std::fs::write(dir.join(".hidden.xlsx"), &bytes).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub").join("nested.xlsx"), &bytes).unwrap();

    let mut watch = Watch::start(&dir, &out, &[]);
    let line = watch.expect(true, RUN_TIMEOUT, "the run's line", |l| l.starts_with("fleet.xlsx: "));
    let c = counts(&bytes);
    let expected = format!(
        "fleet.xlsx: complete — {} rows read, {} samples accepted, {} rejected; {} assets diagnosed (status 3: ",
        c.rows_read, c.samples_accepted, c.rows_rejected, c.assets
    );
    assert!(line.starts_with(&expected), "{line}\nexpected it to start: {expected}");
    let run_dir = line.rsplit_once("→ ").unwrap().1.trim_end_matches('/').to_owned();
    let run_id = Path::new(&run_dir).file_name().unwrap().to_str().unwrap().to_owned();
    assert!(Path::new(&run_dir).join("summary.json").is_file(), "{line}");
    assert_eq!(result_dirs(&out), 1);

    // The same bytes again under the same name: the run id is the same, so no second run.
    std::fs::write(dir.join("fleet.xlsx"), &bytes).unwrap();
    let again = watch.expect(true, RUN_TIMEOUT, "the already-run line", |_| true);
    assert!(again.starts_with(&format!("fleet.xlsx: already run as {run_id}")), "{again}");
    assert_eq!(result_dirs(&out), 1, "one run folder");
    // Nothing else runs (the ignored files stay ignored).
    watch.expect_quiet_stdout(Duration::from_millis(SETTLE_MS + 400), "the ignored files do not run");

    // Ctrl-C while idle: stops at once, exit 0.
    watch.interrupt();
    let status = watch.exit(Duration::from_secs(3));
    assert_eq!(status.code(), Some(0), "{:#?}", watch.seen);
    assert!(watch.seen.iter().all(|l| !l.contains("stopping after")), "{:#?}", watch.seen);
    assert_eq!(result_dirs(&out), 1);
}

#[test]
fn a_workbook_written_in_two_halves_runs_once_when_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("incoming"), tmp.path().join("data"));
    std::fs::create_dir(&dir).unwrap();
    let bytes = fleet(20, 2);
    let expected = counts(&bytes);

    let mut watch = Watch::start(&dir, &out, &["--json"]);
    let path = dir.join("fleet.xlsx");
    let mut file = std::fs::File::create(&path).unwrap();
    let half = bytes.len() / 2;
    file.write_all(&bytes[..half]).unwrap();
    file.flush().unwrap();
    // The half file is unchanged for longer than the settle time: the watcher sees it is not a
    // complete zip, and does not run it.
    let pause = Instant::now();
    watch.expect(false, Duration::from_secs(10), "the incomplete note", |l| {
        l.starts_with("fleet.xlsx: not a complete workbook")
    });
    let left = Duration::from_millis(1500).saturating_sub(pause.elapsed());
    watch.expect_quiet_stdout(left, "the first half is not a workbook");
    assert_eq!(result_dirs(&out), 0, "no run of the first half");

    file.write_all(&bytes[half..]).unwrap();
    drop(file);
    let line = watch.expect(true, RUN_TIMEOUT, "the run's summary", |_| true);
    let summary: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(summary["status"], "complete", "{summary}");
    assert_eq!(summary["source"]["size"], bytes.len() as u64);
    // The whole workbook's rows.
    assert_eq!(summary["counts"]["rows_read"], expected.rows_read);
    assert_eq!(summary["counts"]["samples_accepted"], expected.samples_accepted);
    assert_eq!(summary["counts"]["assets"], expected.assets);
    assert!(out.join(summary["files"]["summary"].as_str().unwrap()).is_file());
    // Exactly one run.
    watch.expect_quiet_stdout(Duration::from_millis(SETTLE_MS + 400), "one run");
    assert_eq!(result_dirs(&out), 1);

    watch.interrupt();
    assert_eq!(watch.exit(Duration::from_secs(3)).code(), Some(0), "{:#?}", watch.seen);
}

/// A CSV has no central directory to wait for: its size must stay still for the settle time.
/// Written in two halves with a shorter pause, it runs once, whole.
#[test]
fn a_csv_written_in_two_halves_runs_once_with_every_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("incoming"), tmp.path().join("data"));
    std::fs::create_dir(&dir).unwrap();
    let mut text = String::from("Asset ID;Probenahme;H2;CH4;C2H6;C2H4;C2H2\n");
    for i in 0..40 {
        text.push_str(&format!("TR-{};{:02}.05.2023;{},5;3;1;0,8;0\n", i % 10, 1 + i / 10, 10 + i));
    }
    let mut watch = Watch::start(&dir, &out, &["--json"]);
    let mut file = std::fs::File::create(dir.join("lab.csv")).unwrap();
    let half = text.len() / 2;
    file.write_all(&text.as_bytes()[..half]).unwrap();
    file.flush().unwrap();
    watch.expect_quiet_stdout(Duration::from_millis(SETTLE_MS / 2), "the first half is still being written");
    file.write_all(&text.as_bytes()[half..]).unwrap();
    drop(file);
    let line = watch.expect(true, RUN_TIMEOUT, "the run's summary", |_| true);
    let summary: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(summary["status"], "complete", "{summary}");
    assert_eq!(summary["counts"]["rows_read"], 40, "{summary}");
    assert_eq!(summary["counts"]["samples_accepted"], 40, "{summary}");
    assert_eq!(summary["counts"]["assets"], 10, "{summary}");
    watch.expect_quiet_stdout(Duration::from_millis(SETTLE_MS + 400), "one run");
    assert_eq!(result_dirs(&out), 1);
    watch.interrupt();
    assert_eq!(watch.exit(Duration::from_secs(3)).code(), Some(0), "{:#?}", watch.seen);
}

#[test]
fn a_rejected_workbook_says_why_in_its_line_and_the_watch_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("incoming"), tmp.path().join("data"));
    std::fs::create_dir(&dir).unwrap();
    // Text saved under a workbook's name: the parse step rejects it.
    std::fs::write(dir.join("notes.xlsx"), "asset,h2\nT1,12\n").unwrap();
    let mut watch = Watch::start(&dir, &out, &[]);
    let line = watch.expect(true, RUN_TIMEOUT, "the rejected line", |_| true);
    assert!(line.starts_with("notes.xlsx: REJECTED — notes.xlsx: line 1: the header has no column for CH4"), "{line}");
    assert!(!line.contains("WorkbookInvalid"), "{line}");
    assert!(line.contains("→ ") && line.ends_with('/'), "{line}");
    // The next drop still runs.
    std::fs::write(dir.join("fleet.xlsx"), fleet(10, 4)).unwrap();
    let line = watch.expect(true, RUN_TIMEOUT, "the next run's line", |_| true);
    assert!(line.starts_with("fleet.xlsx: complete — "), "{line}");
    watch.interrupt();
    assert_eq!(watch.exit(Duration::from_secs(3)).code(), Some(0), "{:#?}", watch.seen);
    assert_eq!(result_dirs(&out), 2);
}

/// A fleet that takes the debug binary a second or two: long enough to be interrupted.
fn start_a_long_run(tmp: &Path) -> (Watch, std::path::PathBuf) {
    let (dir, out) = (tmp.join("incoming"), tmp.join("data"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("big.xlsx"), fleet(300, 3)).unwrap();
    let mut watch = Watch::start(&dir, &out, &["--no-history"]);
    watch.expect(false, RUN_TIMEOUT, "the pick-up note", |l| l.starts_with("big.xlsx: picked up"));
    (watch, out)
}

#[test]
fn ctrl_c_during_a_run_stops_after_it_with_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut watch, out) = start_a_long_run(tmp.path());
    watch.interrupt();
    watch.expect(false, Duration::from_secs(5), "the stopping note", |l| {
        l.starts_with("stopping after the run in progress")
    });
    // The run in progress ends, and says so; then the watch stops.
    let line = watch.expect(true, RUN_TIMEOUT, "the run's line", |_| true);
    assert!(line.starts_with("big.xlsx: complete — "), "{line}");
    assert!(line.contains("300 assets diagnosed"), "{line}");
    assert_eq!(watch.exit(Duration::from_secs(5)).code(), Some(0), "{:#?}", watch.seen);
    assert_eq!(result_dirs(&out), 1);
}

#[test]
fn a_second_ctrl_c_stops_at_once_with_exit_130() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut watch, _out) = start_a_long_run(tmp.path());
    watch.interrupt();
    watch.expect(false, Duration::from_secs(5), "the stopping note", |l| {
        l.starts_with("stopping after the run in progress")
    });
    watch.interrupt();
    assert_eq!(watch.exit(Duration::from_secs(3)).code(), Some(130), "{:#?}", watch.seen);
}
