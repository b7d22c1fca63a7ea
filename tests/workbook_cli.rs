//! `substation template`, `sample` and `validate` as a user runs them.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn substation() -> Command {
    Command::cargo_bin("substation").unwrap()
}

fn validate_json(path: &std::path::Path, code: i32) -> Value {
    let out = substation().arg("validate").arg(path).arg("--json").assert().code(code).get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn template_then_validate_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.xlsx");
    substation().args(["template", "-o"]).arg(&path).assert().success();
    let v = validate_json(&path, 0);
    assert_eq!(
        (v["rows_read"].as_u64(), v["samples_accepted"].as_u64(), v["assets"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(v["errors"], serde_json::json!([]));
}

#[test]
fn a_sample_fleet_with_mistakes_validates_with_exit_1_and_every_row_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.xlsx");
    substation()
        .args(["sample", "--assets", "200", "--samples-per-asset", "5", "--seed", "11", "-o"])
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains("200 transformers × 5 samples"));
    let v = validate_json(&path, 1);
    let n = |k: &str| v[k].as_u64().unwrap();
    assert_eq!(n("rows_read"), 1001);
    assert_eq!(n("rows_read"), n("samples_accepted") + n("rows_rejected") + n("rows_skipped"));
    let errors = v["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for e in errors {
        assert_eq!(e["sheet"], "Samples");
        assert!(e["row"].as_u64().unwrap() >= 5, "{e}"); // below the title block and header
        assert!(e["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    // The same seed writes the same fleet.
    let again = dir.path().join("again.xlsx");
    substation()
        .args(["sample", "--assets", "200", "--samples-per-asset", "5", "--seed", "11", "-o"])
        .arg(&again)
        .assert()
        .success();
    let w = validate_json(&again, 1);
    assert_eq!(v["errors"], w["errors"]);

    substation()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("1001 sample rows read"))
        .stdout(predicate::str::contains("rejected: sheet 'Samples', row"));
}

#[test]
fn an_invalid_workbook_exits_2_with_the_error_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-workbook.xlsx");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let v = validate_json(&path, 2);
    assert_eq!(v["error"]["type"], "WorkbookInvalid", "the stable name is for machines (--json)");
    assert!(v["error"]["reason"].as_str().unwrap().contains("not a spreadsheet"));
    // For people: the reason with how to save the file, once, and no error type name.
    let out = substation().arg("validate").arg(&path).assert().code(2).get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("not a spreadsheet") && stderr.contains("'Excel Workbook (*.xlsx)'"), "{stderr}");
    assert!(!stderr.contains("WorkbookInvalid"), "{stderr}");
    assert_eq!(stderr.matches("not a spreadsheet").count(), 1, "{stderr}");
}

#[test]
fn one_sheet_layout_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.xlsx");
    substation()
        .args(["sample", "--assets", "5", "--layout", "one-sheet", "--clean", "-o"])
        .arg(&path)
        .assert()
        .success();
    let v = validate_json(&path, 0);
    assert_eq!(v["layout"], "one-sheet");
    assert_eq!(v["assets"], 5);
}

#[test]
fn diagnose_a_workbook_and_write_the_results_workbook() {
    use calamine::{Data, Reader};
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("results.xlsx");
    let out = substation()
        .args(["diagnose", "--workbook", "examples/fleet-sample.xlsx", "--json", "--report"])
        .arg(&report)
        .assert()
        .success()
        .get_output()
        .clone();
    let records: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 12);
    let samples: u64 = records.iter().map(|r| r["samples"].as_u64().unwrap()).sum();
    assert_eq!(samples, 60);
    // `row` is the Excel row of the asset's latest sample on the Samples sheet.
    assert!(records.iter().all(|r| r["row"].as_u64().is_some_and(|row| row > 4)));

    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&report).unwrap();
    let diagnoses = book.worksheet_range("Diagnoses").unwrap();
    assert_eq!(diagnoses.height(), 13);
    // Every record once, worst first (by priority score).
    let mut last = f64::INFINITY;
    let mut seen = std::collections::HashSet::new();
    for row in diagnoses.rows().skip(1) {
        let id = row[0].to_string();
        let r = records.iter().find(|r| r["asset_id"] == id.as_str()).unwrap();
        assert!(seen.insert(id));
        assert_eq!(row[3], Data::Float(r["status"].as_f64().unwrap()));
        let score = r["priority"]["score"].as_f64().unwrap();
        assert!(score <= last, "worst first");
        last = score;
    }
    // A CSV file is read by the same reader, so it gets a results workbook too.
    let from_csv = dir.path().join("from-csv.xlsx");
    substation().args(["diagnose", "--csv", "examples/fleet-sample.csv", "--report"]).arg(&from_csv).assert().success();
    assert!(calamine::open_workbook::<calamine::Xlsx<_>, _>(&from_csv).is_ok());
    substation()
        .args(["diagnose", "--h2", "1", "--ch4", "1", "--c2h6", "1", "--c2h4", "1", "--c2h2", "1", "--report"])
        .arg(&report)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--report needs --workbook or --csv"));
    substation()
        .args(["diagnose", "--csv", "examples/fleet-sample.csv", "--report", "results.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--report results.csv would be an Excel workbook named .csv: name it results.xlsx",
        ));
}
