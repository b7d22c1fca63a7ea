//! The `substation` command as a user runs it: output, exit codes, errors that name the line and
//! column, and agreement with the library.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn substation() -> Command {
    let mut cmd = Command::cargo_bin("substation").unwrap();
    cmd.env_remove(dga::THRESHOLDS_ENV);
    cmd
}

const EXAMPLE: &str = "examples/fleet-sample.csv";
const BAD_ROWS: &str = "tests/fixtures/bad-rows.csv";

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn one_sample_from_flags_reads_as_a_report() {
    substation()
        .args(["diagnose", "--h2", "120", "--ch4", "80", "--c2h6", "30", "--c2h4", "150", "--c2h2", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("IEEE C57.104-2019 status  3"))
        .stdout(predicate::str::contains("Fault                     T3 — thermal fault above 700 °C"))
        .stdout(predicate::str::contains("Duval Pentagon 2"))
        .stdout(predicate::str::contains("O2/N2 unknown"));
}

#[test]
fn one_sample_as_json_is_the_record() {
    let out = substation()
        .args(["diagnose", "--json", "--h2", "120", "--ch4", "80", "--c2h6", "30", "--c2h4", "150", "--c2h2", "<1"])
        .args(["--co", "300", "--co2", "2500", "--o2", "3000", "--n2", "50000", "--age-years", "12"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let records = json_lines(&out);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!((r["schema_version"].as_u64(), r["row"].is_null(), r["asset_id"].is_null()), (Some(2), true, true));
    // Sealed (O2/N2 0.06), 10-30 years: C2H4 150 ppm is above the Table 2 limit of 95.
    assert_eq!(r["status"], 3);
    assert_eq!(r["ieee_c57_104_2019"]["reasons"][0]["text"].as_str().unwrap().split(" ppm").next(), Some("C2H4 150"));
    assert!(r["methods"].as_object().unwrap().len() == 9);
    assert_eq!(r["ieee_c57_104_2019"]["age_group"], "10-30");
}

#[test]
fn bad_flag_values_are_errors_that_name_the_flag() {
    substation()
        .args(["diagnose", "--h2", "abc", "--ch4", "1", "--c2h6", "1", "--c2h4", "1", "--c2h2", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--h2").and(predicate::str::contains("'abc' is not a number")));
    substation()
        .args(["diagnose", "--h2", "-4", "--ch4", "1", "--c2h6", "1", "--c2h4", "1", "--c2h2", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("negative"));
    substation().args(["diagnose", "--h2", "1"]).assert().code(2).stderr(predicate::str::contains("--ch4"));
}

#[test]
fn the_example_fleet_is_diagnosed_in_full() {
    let out = substation().args(["diagnose", "--csv", EXAMPLE, "--json"]).assert().success().get_output().clone();
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 10);
    let ids: Vec<&str> = records.iter().map(|r| r["asset_id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["TR-101", "TR-102", "TR-103", "TR-104", "TR-105", "TR-106", "TR-107", "TR-108", "TR-109", "TR-110"]
    );
    let samples: u64 = records.iter().map(|r| r["samples"].as_u64().unwrap()).sum();
    assert_eq!(samples, 22); // every data row of the file
    // `row` is the line of the asset's latest sample.
    assert_eq!((records[0]["row"].as_u64(), records[4]["row"].as_u64()), (Some(4), Some(16)));
    for r in &records {
        assert!([1, 2, 3].contains(&r["status"].as_u64().unwrap()));
        assert!(r["ieee_2008_condition"].as_u64().is_some_and(|c| (1..=4).contains(&c)));
    }
}

/// The CLI's records are the library's diagnoses of the same histories.
#[test]
fn records_agree_with_the_library() {
    let out = substation().args(["diagnose", "--csv", EXAMPLE, "--json"]).assert().success().get_output().clone();
    let records = json_lines(&out.stdout);
    let text = std::fs::read_to_string(EXAMPLE).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut by_asset: Vec<(String, Vec<dga::DgaSample>, Option<f64>)> = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let mut s = dga::DgaSample::default();
        let mut age = None;
        for (h, c) in header.iter().zip(&cells) {
            if let Some(g) = dga::Gas::from_label(h) {
                s.set(g, c.parse().unwrap());
            } else if *h == "sampled_on" {
                s.sampled_on = Some(c.parse().unwrap());
            } else if *h == "age_years" {
                age = Some(c.parse().unwrap());
            }
        }
        match by_asset.iter_mut().find(|(id, ..)| id == cells[0]) {
            Some((_, samples, a)) => {
                samples.push(s);
                *a = age;
            }
            None => by_asset.push((cells[0].to_owned(), vec![s], age)),
        }
    }
    assert_eq!(by_asset.len(), records.len());
    for ((id, samples, age), record) in by_asset.iter().zip(&records) {
        let info = dga::AssetInfo { age_years: *age, ..Default::default() };
        let d = dga::diagnose_asset(samples, &info, &dga::Thresholds::default()).unwrap();
        let mut expected =
            serde_json::to_value(dga::DiagnosisRecord::new(record["row"].as_u64(), Some(id.clone()), d, Vec::new()))
                .unwrap();
        // The history carries each sample's CSV line: one entry per sample, oldest first.
        let history = record["history"].as_array().unwrap();
        assert_eq!(history.len(), samples.len(), "{id}");
        assert!(history.iter().all(|h| h["origin"]["row"].as_u64().is_some()), "{id}");
        expected["history"] = record["history"].clone();
        assert_eq!(record, &expected, "{id}");
    }
}

#[test]
fn bad_rows_are_reported_and_the_rest_diagnosed() {
    let out = substation().args(["diagnose", "--csv", BAD_ROWS, "--json"]).assert().code(1).get_output().clone();
    let records = json_lines(&out.stdout);
    let ids: Vec<&str> = records.iter().map(|r| r["asset_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["TR-1", "TR-6"]);
    let rejected = json_lines(&out.stderr);
    let got: Vec<(u64, Option<&str>)> =
        rejected.iter().map(|r| (r["row"].as_u64().unwrap(), r["column"].as_str())).collect();
    assert_eq!(got, [(4, Some("H2 (ppm)")), (5, None), (6, Some("sampled_on")), (7, Some("CH4"))]);
    assert!(rejected[0]["reason"].as_str().unwrap().contains("negative"));
    assert!(rejected[1]["reason"].as_str().unwrap().contains("the line has 13 fields but the header has 12"));
    // The same rejections as a workbook's: the sheet is the file, the row its line.
    assert_eq!(rejected[0]["sheet"], "bad-rows.csv");
    // Conservation: 7 data rows = 3 samples diagnosed + 4 rows rejected.
    let samples: u64 = records.iter().map(|r| r["samples"].as_u64().unwrap()).sum();
    assert_eq!(samples + rejected.len() as u64, 7);

    substation()
        .args(["diagnose", "--csv", BAD_ROWS])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rejected: line 7, column D 'CH4': 'five' is not a number"))
        .stderr(predicate::str::contains("7 rows read, 3 samples diagnosed in 2 assets"))
        .stderr(predicate::str::contains("4 rows rejected"));
}

#[test]
fn a_file_without_the_gas_columns_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gases.csv");
    std::fs::write(&path, "asset_id,H2,CH4\nTR-1,1,2\n").unwrap();
    substation()
        .args(["diagnose", "--csv"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the header has no column for C2H6, C2H4, C2H2"));
    substation()
        .args(["diagnose", "--csv", "no-such-file.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read no-such-file.csv"));
}

#[test]
fn without_asset_id_each_row_is_an_asset_and_stdin_works() {
    let csv = "H2,CH4,C2H6,C2H4,C2H2\n10,5,4,3,0\n300,20,5,10,60\n";
    let out = substation()
        .args(["diagnose", "--csv", "-", "--json"])
        .write_stdin(csv)
        .assert()
        .success()
        .get_output()
        .clone();
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 2);
    assert_eq!((records[0]["row"].as_u64(), records[1]["row"].as_u64()), (Some(2), Some(3)));
    assert!(records.iter().all(|r| r["asset_id"].is_null()));
    assert_eq!(records[1]["fault"], "D1");
}

#[test]
fn threshold_overrides_change_the_verdict_and_typos_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let args = ["diagnose", "--json", "--h2", "50", "--ch4", "5", "--c2h6", "5", "--c2h4", "5", "--c2h2", "0"];
    let status = |cmd: &mut Command| json_lines(&cmd.assert().success().get_output().stdout)[0]["status"].clone();
    // H2 50 > 40 (O2/N2 unknown → > 0.2 column, Table 1): status 2 by default.
    assert_eq!(status(substation().args(args)), 2);
    std::fs::write(
        &path,
        r#"{"ieee_c57_104_2019": {"table_1_90th_percentile_ppm": {"high_oxygen": {"H2": [60, 60, 60, 60]}}}}"#,
    )
    .unwrap();
    assert_eq!(status(substation().args(args).arg("--thresholds").arg(&path)), 1);
    assert_eq!(status(substation().args(args).env(dga::THRESHOLDS_ENV, &path)), 1);

    std::fs::write(&path, r#"{"iec_60599": {"typical_pmm": {}}}"#).unwrap();
    substation()
        .args(args)
        .arg("--thresholds")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("typical_pmm"));
}

#[test]
fn thresholds_prints_the_table_in_force() {
    let out = substation().arg("thresholds").assert().success().get_output().stdout.clone();
    let printed: dga::Thresholds = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed, dga::Thresholds::default());
}

#[test]
fn help_teaches() {
    substation()
        .args(["diagnose", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes"))
        .stdout(predicate::str::contains("below detection").or(predicate::str::contains("Below-detection")));
}

/// The default build has no AWS SDK: the AWS commands say how to get them, and plan (no AWS
/// calls) works.
#[cfg(not(feature = "aws"))]
#[test]
fn the_aws_commands_say_how_to_get_them() {
    for args in [
        vec!["submit", "fleet.xlsx", "--stage", "dev"],
        vec!["status", "fleet-xlsx-0a1b2c3d4e5f"],
        vec!["redrive", "fleet-xlsx-0a1b2c3d4e5f"],
        vec!["history", "show", "TR-001", "--stage", "dev"],
        vec!["rediagnose", "--stage", "prod"],
        vec![
            "run",
            "fleet.xlsx",
            "--lambda-endpoint",
            "http://127.0.0.1:9000",
            "--s3-endpoint",
            "http://127.0.0.1:5000",
            "--bucket",
            "b",
        ],
    ] {
        substation().args(&args).assert().code(2).stderr(
            predicate::str::contains("--features aws").and(predicate::str::contains("cargo install --locked --path .")),
        );
    }
}

#[test]
fn plan_counts_prices_and_estimates_a_deployed_run() {
    let out = substation().args(["plan", "--assets", "10000", "--stage", "dev", "--json"]).output().unwrap();
    assert!(out.status.success());
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["counts"]["child_executions"], 100, "dev: 100 assets a batch");
    assert_eq!(p["counts"]["lambda_invocations"], 103);
    assert!(p["cost_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(p["prices_as_of"], "2026-11-25");
    // The human view names its price table and says the time is an estimate.
    substation()
        .args(["plan", "--assets", "1000000", "--samples-per-asset", "10", "--stage", "prod"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("total per run")
                .and(predicate::str::contains("config/aws-prices.json"))
                .and(predicate::str::contains("Estimated wall time"))
                .and(predicate::str::contains("an estimate, assuming")),
        );
    // Another price table: everything free but Lambda requests at 1 USD.
    let dir = tempfile::tempdir().unwrap();
    let mut prices: Value = serde_json::from_str(include_str!("../config/aws-prices.json")).unwrap();
    for (k, v) in prices.as_object_mut().unwrap() {
        if v.is_f64() {
            *v = serde_json::json!(if k == "lambda_per_request" { 1.0 } else { 0.0 });
        }
    }
    let file = dir.path().join("prices.json");
    std::fs::write(&file, prices.to_string()).unwrap();
    let out = substation()
        .args(["plan", "--assets", "10000", "--stage", "dev", "--json", "--prices"])
        .arg(&file)
        .output()
        .unwrap();
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["cost_usd"], 103.0);
    substation()
        .args(["plan", "--assets", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--assets must be at least 1"));
}
