//! `substation run`: the real state machine, the real steps, a local folder laid out like the
//! bucket. Every row accounted for, results equal the library's, reruns and failures.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod common;

fn substation() -> Command {
    let mut c = Command::cargo_bin("substation").unwrap();
    c.env_remove(dga::THRESHOLDS_ENV);
    c
}

fn run_json(out: &std::path::Path, file: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let o = substation().arg("run").arg(file).arg("--out").arg(out).arg("--json").args(extra).output().unwrap();
    let code = o.status.code().unwrap();
    (code, serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr))))
}

/// `substation sample`: 120 transformers × 4 samples, with the mistakes of this seed.
fn sample_fleet(file: &std::path::Path, seed: u64) {
    substation()
        .args(["sample", "--assets", "120", "--samples-per-asset", "4", "--seed", &seed.to_string(), "-o"])
        .arg(file)
        .assert()
        .success();
}

#[test]
fn a_generated_fleet_runs_through_the_state_machine() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xlsx");
    sample_fleet(&file, 5);
    let out = dir.path().join("data");
    // Small batches and bounded concurrency: many children.
    let (code, s) = run_json(&out, &file, &["--batch-size", "7", "--max-concurrency", "3"]);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["status"], "complete");
    let c = &s["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(n("rows_read"), n("samples_accepted") + n("rows_rejected") + n("rows_skipped"));
    assert!(n("rows_rejected") > 0, "the sample has mistakes");
    assert_eq!((n("assets"), n("diagnosed"), n("failed"), n("not_started")), (n("assets"), n("assets"), 0, 0));
    assert!(s["map_run_arn"].as_str().unwrap().contains(":mapRun:bulk-upload/DiagnoseAssets:"));

    // The persisted diagnoses are the library's diagnoses of the same workbook.
    let run_dir = out.join("results").join(s["run_id"].as_str().unwrap());
    common::assert_the_librarys_diagnoses(&file, &run_dir.join("diagnoses.jsonl"));
    let bytes = std::fs::read(&file).unwrap();
    let parsed =
        workbook::read_workbook(&bytes, "fleet.xlsx", &config::SharedConfig::embedded().workbook_limits).unwrap();
    let rejected = std::fs::read_to_string(run_dir.join("rejected.jsonl")).unwrap();
    assert_eq!(rejected.lines().count(), parsed.rejected.len());
    assert!(run_dir.join("report.xlsx").exists());

    // The same file again: the deterministic run id finds the results; --force runs anew.
    substation()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("was already run as"))
        .stdout(predicate::str::contains("complete"));
    let (code, again) = run_json(&out, &file, &["--force"]);
    assert_eq!(code, 0);
    assert_ne!(again["run_id"], s["run_id"]);
    assert_eq!(again["counts"], s["counts"]);
}

/// A typo in an asset's newest sample: the run still diagnoses the asset, on its older samples,
/// and says so — in the record's warnings, the summary's count and the human output.
#[test]
fn a_rejected_newest_sample_is_said_in_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xlsx");
    // Seed 7's mistakes include one asset's newest sample (seed 5's do not).
    sample_fleet(&file, 7);
    let out = dir.path().join("data");
    let (code, s) = run_json(&out, &file, &[]);
    assert_eq!(code, 0, "{s}");
    let run_dir = out.join("results").join(s["run_id"].as_str().unwrap());
    let lines: Vec<Value> = std::fs::read_to_string(run_dir.join("diagnoses.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let warned: Vec<&Value> = lines.iter().filter(|l| !l["warnings"].as_array().unwrap().is_empty()).collect();
    assert_eq!(warned.len(), 1);
    let w = &warned[0]["warnings"][0];
    assert_eq!(w["code"], "newest_sample_rejected");
    assert!(w["text"].as_str().unwrap().contains("the verdict rests on the sample of"), "{w}");
    assert!(w["rows"][0]["row"].as_u64().is_some());
    assert_eq!(s["assets_with_warnings"].as_u64(), Some(1));
    assert_eq!(s["warnings"][0]["asset_id"], warned[0]["asset_id"]);
    substation()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .assert()
        .success()
        .stdout(predicate::str::contains("1 asset(s) rest on an older sample"))
        .stdout(predicate::str::contains("Score"));
}

#[test]
fn an_invalid_workbook_fails_the_run_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.xlsx");
    std::fs::write(&file, "asset,H2\nTR-1,5\n").unwrap();
    let o = substation().arg("run").arg(&file).arg("--out").arg(dir.path().join("data")).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stdout.contains("REJECTED") && stdout.contains("notes.xlsx: line 1: the header has no column for CH4"),
        "{stdout}"
    );
    // The reason once, in the summary; no internal path, no error type name.
    let both = format!("{stdout}{stderr}");
    assert_eq!(both.matches("the header has no column").count(), 1, "{both}");
    assert!(!both.contains("WorkbookInvalid") && !both.contains("uploads/"), "{both}");
    // A file that is neither a workbook nor a CSV by its name is not run, and says what is.
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, "%PDF-1.4").unwrap();
    let o = substation().arg("run").arg(&pdf).arg("--out").arg(dir.path().join("data")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "error: 'report.pdf' is neither a workbook nor a CSV file (expected .xlsx, .xlsm, .xlsb, .xls, .ods, .csv, .tsv)"
    );
}

#[test]
fn the_readme_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    substation()
        .args(["run", "examples/fleet-sample.xlsx", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("12 assets: 12 diagnosed"))
        .stdout(predicate::str::contains("report.xlsx"));
}
