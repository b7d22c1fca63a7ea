//! `substation states run` on hand-written definitions: Pass, Choice, Parallel, Map, Fail,
//! exit codes.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};

fn substation() -> Command {
    Command::cargo_bin("substation").unwrap()
}

#[test]
fn parallel_map_choice_and_pass() {
    let input = json!({"fleet": "north", "samples": [
        {"h2_ppm": 120, "ch4_ppm": 80, "c2h6_ppm": 30, "c2h4_ppm": 150, "c2h2_ppm": 2},
        {"h2_ppm": 10, "ch4_ppm": 5, "c2h6_ppm": 5, "c2h4_ppm": 5, "c2h2_ppm": "ND", "o2_ppm": 2000, "n2_ppm": 40000}
    ]});
    let out = substation()
        .args(["states", "run", "tests/fixtures/states/triage.asl.json", "--input"])
        .arg(input.to_string())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["diagnoses"], json!([{"status": 3, "fault": "T3"}, {"status": 1, "fault": "NORMAL"}]));
    assert_eq!(v["summary"], json!({"samples": 2, "label": "fleet north"}));
    assert_eq!(v["decision"], "act now");
}

#[test]
fn a_failed_execution_exits_1_with_error_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.json");
    std::fs::write(&input, r#"{"why": "not a spreadsheet"}"#).unwrap();
    let out = substation()
        .args(["states", "run", "tests/fixtures/states/fail.asl.json", "--history", "--input"])
        .arg(format!("@{}", input.display()))
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("execution failed: WorkbookInvalid"))
        .stderr(predicate::str::contains(r#""type":"TaskFailed""#))
        .stderr(predicate::str::contains(r#""type":"ExecutionFailed""#))
        .get_output()
        .stderr
        .clone();
    // The last line is {"Error", "Cause"}; the Cause is the Lambda error payload as a JSON string.
    let stderr = String::from_utf8(out).unwrap();
    let last: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["Error"], "WorkbookInvalid");
    let cause: Value = serde_json::from_str(last["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause, json!({"errorType": "WorkbookInvalid", "errorMessage": "not a spreadsheet"}));
}

#[test]
fn refused_definitions_and_bad_input_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jsonata.asl.json");
    std::fs::write(&path, r#"{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#)
        .unwrap();
    substation()
        .args(["states", "run"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("QueryLanguage").and(predicate::str::contains("JSONata")));
    substation()
        .args(["states", "run", "statemachine/bulk-upload.asl.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ParseFunctionArn"));
    substation()
        .args(["states", "run", "tests/fixtures/states/fail.asl.json", "--input", "{nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--input is not valid JSON"));
}

#[test]
fn help_lists_the_builtin_handlers() {
    substation()
        .args(["states", "run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("dga-diagnose").and(predicate::str::contains("Exit codes")));
}
