//! Concurrent starts of `substation run` into one `--out` folder, as two people uploading in the
//! same minute (issue 14): each run reads exactly the bytes it was started for, and concurrent
//! starts of one upload give one execution that the others wait for.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn substation() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_substation"));
    c.env_remove(dga::THRESHOLDS_ENV).env("NO_COLOR", "1");
    c
}

fn sample(file: &Path, assets: usize, seed: u64) {
    let status = substation()
        .args(["sample", "--assets", &assets.to_string(), "--samples-per-asset", "4", "--seed", &seed.to_string()])
        .arg("-o")
        .arg(file)
        .status()
        .unwrap();
    assert!(status.success());
}

fn spawn_run(file: &Path, out: &Path, json: bool) -> Child {
    let mut c = substation();
    // These tests are about claims and upload versions: each run stands alone. (Two fleets that
    // share asset ids in one folder merge their histories: tests/history_uploads.rs.)
    c.arg("run").arg(file).arg("--out").arg(out).arg("--no-history");
    if json {
        c.arg("--json");
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

struct Finished {
    code: i32,
    stdout: String,
    stderr: String,
}

fn finish(child: Child) -> Finished {
    let o = child.wait_with_output().unwrap();
    Finished {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The asset ids and statuses a run's diagnoses.jsonl holds, sorted.
fn diagnosed(out: &Path, summary: &Value) -> Vec<(String, u64)> {
    let file = out.join(summary["files"]["diagnoses"].as_str().unwrap());
    let mut ids: Vec<(String, u64)> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["asset_id"].as_str().unwrap().to_owned(), v["status"].as_u64().unwrap()))
        .collect();
    ids.sort();
    ids
}

#[test]
fn two_workbooks_with_one_name_started_at_once_each_get_their_own_data() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    // Different fleets (sizes and seeds) under the same file name.
    sample(&a.join("fleet.xlsx"), 60, 1);
    sample(&b.join("fleet.xlsx"), 90, 2);
    // What each gives alone.
    let solo: Vec<(Value, Vec<(String, u64)>)> = [&a, &b]
        .iter()
        .map(|d| {
            let out = d.join("solo");
            let f = finish(spawn_run(&d.join("fleet.xlsx"), &out, true));
            assert_eq!(f.code, 0, "{}", f.stderr);
            let s: Value = serde_json::from_str(&f.stdout).unwrap();
            let ids = diagnosed(&out, &s);
            (s, ids)
        })
        .collect();
    for trial in 0..3 {
        let out = dir.path().join(format!("shared-{trial}"));
        let children = [spawn_run(&a.join("fleet.xlsx"), &out, true), spawn_run(&b.join("fleet.xlsx"), &out, true)];
        let runs: Vec<Finished> = children.into_iter().map(finish).collect();
        for (run, (solo_summary, solo_ids)) in runs.iter().zip(&solo) {
            assert_eq!(run.code, 0, "trial {trial}: {}", run.stderr);
            let s: Value = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(s["run_id"], solo_summary["run_id"], "trial {trial}: the run id names the content");
            assert_eq!(s["counts"], solo_summary["counts"], "trial {trial}");
            assert_eq!(&diagnosed(&out, &s), solo_ids, "trial {trial}: another workbook's assets");
        }
    }
}

#[test]
fn five_starts_of_one_workbook_give_one_execution_and_four_that_wait_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xlsx");
    sample(&file, 400, 3);
    let out = dir.path().join("data");
    let children: Vec<Child> = (0..5).map(|_| spawn_run(&file, &out, false)).collect();
    let runs: Vec<Finished> = children.into_iter().map(finish).collect();
    let waited =
        |r: &Finished| r.stderr.contains("is being run by another process") || r.stderr.contains("was already run as");
    let executed: Vec<&Finished> = runs.iter().filter(|r| !waited(r)).collect();
    assert_eq!(executed.len(), 1, "{:#?}", runs.iter().map(|r| &r.stderr).collect::<Vec<_>>());
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stderr.contains("error"), "{}", r.stderr);
        // Every answer is the one execution's summary.
        assert_eq!(r.stdout, executed[0].stdout);
    }
    assert!(runs.iter().filter(|r| waited(r)).count() == 4);
    // One run folder, no temp files left.
    let run_dirs = std::fs::read_dir(out.join("results")).unwrap().count();
    assert_eq!(run_dirs, 1);
    let leftovers: Vec<_> = walk(&out).into_iter().filter(|p| p.to_string_lossy().ends_with(".partial")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A claim dies with its process: a run killed with SIGKILL while it holds the claim is started
/// again by the next `substation run`, which gives the clean result.
#[test]
fn a_killed_run_leaves_no_stale_claim() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xlsx");
    sample(&file, 2000, 4);
    let out = dir.path().join("data");
    let mut first = spawn_run(&file, &out, true);
    // Wait until it holds the claim (the lock file exists), then kill it mid-run.
    let locks = out.join(".locks");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_dir(&locks).map(|d| d.count()).unwrap_or(0) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    first.kill().unwrap();
    let _ = first.wait();
    let again = finish(spawn_run(&file, &out, true));
    assert_eq!(again.code, 0, "{}", again.stderr);
    let s: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(s["status"], "complete");
    assert_eq!(s["counts"]["diagnosed"], s["counts"]["assets"]);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
