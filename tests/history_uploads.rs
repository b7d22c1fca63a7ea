//! End to end: `substation run` twice into one folder. The second upload (new samples only, an
//! assets sheet listing half the fleet) is diagnosed on each transformer's merged history; a
//! repeat is kept once, a correction replaces with a warning, an unknown asset is rejected with
//! its reason, and rows are conserved. Then two processes at once, losing no sample.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use rust_xlsxwriter::Workbook;
use serde_json::Value;

/// A two-sheet workbook: `assets` rows (id, substation, year) and `samples` rows (id, date, H2).
fn workbook(path: &Path, assets: &[(String, Option<&str>, Option<u16>)], samples: &[(String, String, f64)]) {
    let mut wb = Workbook::new();
    let a = wb.add_worksheet().set_name("Assets").unwrap();
    for (c, h) in ["Asset ID", "Substation", "Year of manufacture"].iter().enumerate() {
        a.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (id, sub, year)) in assets.iter().enumerate() {
        let r = r as u32 + 1;
        a.write_string(r, 0, id).unwrap();
        if let Some(s) = sub {
            a.write_string(r, 1, *s).unwrap();
        }
        if let Some(y) = year {
            a.write_number(r, 2, f64::from(*y)).unwrap();
        }
    }
    let s = wb.add_worksheet().set_name("Samples").unwrap();
    let headers =
        ["Asset ID", "Sample date", "H2 (ppm)", "CH4 (ppm)", "C2H6 (ppm)", "C2H4 (ppm)", "C2H2 (ppm)", "CO (ppm)"];
    for (c, h) in headers.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (id, date, h2)) in samples.iter().enumerate() {
        let r = r as u32 + 1;
        s.write_string(r, 0, id).unwrap();
        s.write_string(r, 1, date).unwrap();
        for (c, v) in [*h2, 20.0 + h2 / 4.0, 10.0, 15.0 + h2 / 10.0, 0.0, 300.0].iter().enumerate() {
            s.write_number(r, c as u16 + 2, *v).unwrap();
        }
    }
    wb.save(path).unwrap();
}

fn id(i: usize) -> String {
    format!("T-{i:03}")
}

fn run(file: &Path, out: &Path, extra: &[&str]) -> Value {
    let o = Command::cargo_bin("substation")
        .unwrap()
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

const Q1: [&str; 4] = ["2024-01-15", "2024-04-15", "2024-07-15", "2024-10-15"];

fn upload_a(dir: &Path) -> PathBuf {
    let assets: Vec<_> = (1..=200).map(|i| (id(i), Some("North"), Some(1995))).collect();
    let samples: Vec<_> = (1..=200)
        .flat_map(|i| {
            Q1.iter().enumerate().map(move |(k, d)| (id(i), d.to_string(), (i % 40) as f64 + 10.0 * k as f64))
        })
        .collect();
    let path = dir.join("fleet-q1.xlsx");
    workbook(&path, &assets, &samples);
    path
}

fn upload_b(dir: &Path) -> PathBuf {
    let assets: Vec<_> = (1..=100).map(|i| (id(i), None, None)).collect();
    let mut samples: Vec<_> = (1..=200)
        .flat_map(|i| [(id(i), "2025-01-15".into(), 80.0 + i as f64), (id(i), "2025-04-15".into(), 95.0 + i as f64)])
        .collect();
    samples.push((id(3), Q1[0].into(), 3.0)); // T-003's first sample, as uploaded before: a repeat
    samples.push((id(4), Q1[1].into(), 999.0)); // T-004's second sample, another value: a correction
    samples.push(("T-999".into(), "2025-01-15".into(), 1.0)); // on neither sheet nor in the history
    samples.push(("T-999".into(), "2025-04-15".into(), 2.0));
    let path = dir.join("fleet-q2.xlsx");
    workbook(&path, &assets, &samples);
    path
}

#[test]
fn the_second_upload_is_diagnosed_on_the_merged_history() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a = run(&upload_a(dir.path()), &out, &[]);
    let b = run(&upload_b(dir.path()), &out, &[]);
    let run_a = a["run_id"].as_str().unwrap();
    let c = &b["counts"];
    let n = |v: &Value| v.as_u64().unwrap();
    assert_eq!(n(&c["rows_read"]), n(&c["samples_accepted"]) + n(&c["rows_rejected"]) + n(&c["rows_skipped"]), "{c}");
    assert_eq!(n(&c["assets"]), 200);
    assert_eq!(n(&c["diagnosed"]), 200);
    assert_eq!(n(&c["rows_rejected"]), 2, "T-999's two rows");
    let h = &b["history"];
    assert_eq!((n(&h["repeats"]), n(&h["corrections"]), n(&h["unknown_assets"])), (1, 1, 1), "{h}");
    assert_eq!(n(&h["assets_known_before"]), 200);

    let results = out.join("results").join(b["run_id"].as_str().unwrap());
    let diagnoses = lines(&results.join("diagnoses.jsonl"));
    assert_eq!(diagnoses.len(), 200);
    let t = dga::Thresholds::default();
    for d in &diagnoses {
        let history = d["history"].as_array().unwrap();
        assert_eq!(history.len(), 6, "{}: 4 earlier samples and 2 new", d["asset_id"]);
        let earlier = history.iter().filter(|s| s["origin"]["upload"].as_str() == Some(run_a)).count();
        // T-004's corrected sample is this upload's now.
        assert_eq!(earlier, if d["asset_id"] == "T-004" { 3 } else { 4 }, "{}", d["asset_id"]);
        // The metadata of T-101..T-200 (not on this assets sheet) comes from the history.
        assert_eq!(d["asset"]["substation"], "North");
        // The library, on the union, says the same.
        let samples: Vec<dga::DgaSample> =
            history.iter().map(|s| serde_json::from_value(s["sample"].clone()).unwrap()).collect();
        let info = dga::AssetInfo { age_years: Some(f64::from(2025 - 1995)), ..dga::AssetInfo::default() };
        let expected = serde_json::to_value(dga::diagnose_asset(&samples, &info, &t).unwrap()).unwrap();
        for field in ["ieee_c57_104_2019", "fault", "methods"] {
            assert_eq!(d[field], expected[field], "{} {field}", d["asset_id"]);
        }
    }
    let by_id = |i: &str| diagnoses.iter().find(|d| d["asset_id"] == i).unwrap();
    assert_eq!(by_id("T-003")["merged_history"]["repeats"], 1);
    let t4 = by_id("T-004");
    assert_eq!(t4["history"][1]["sample"]["h2_ppm"], 999.0);
    let w = t4["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "sample_corrected")
        .expect("a correction warning");
    let text = w["text"].as_str().unwrap();
    assert!(text.contains("fleet-q2.xlsx") && text.contains("fleet-q1.xlsx"), "{text}");

    let rejected = lines(&results.join("rejected.jsonl"));
    assert_eq!(rejected.len(), 2);
    assert!(
        rejected.iter().all(|r| r["reason"].as_str().unwrap().starts_with("unknown asset: 'T-999'")),
        "{rejected:?}"
    );
}

#[test]
fn without_the_history_the_second_upload_stands_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(&upload_a(dir.path()), &out, &["--no-history"]);
    assert!(!out.join("history.sqlite3").exists());
    let b = run(&upload_b(dir.path()), &out, &["--no-history"]);
    assert!(b.get("history").is_none());
    assert_eq!(b["counts"]["diagnosed"], 100);
    let rejected = lines(&out.join("results").join(b["run_id"].as_str().unwrap()).join("rejected.jsonl"));
    assert!(rejected.iter().all(|r| r["reason"].as_str().unwrap().starts_with("sample without asset")));
    assert_eq!(rejected.len(), 100 * 2 + 2);
}

#[test]
fn the_shipped_example_stays_out_of_the_history_unless_asked() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet-sample.xlsx");
    let dir = tempfile::tempdir().unwrap();
    run(&example, dir.path(), &[]);
    assert!(!dir.path().join("history.sqlite3").exists());
    run(&example, dir.path(), &["--history"]);
    assert!(dir.path().join("history.sqlite3").exists());
}

/// Two processes, two uploads that share 50 transformers, run at once into one folder (batches of
/// 5, so their writes interleave): every sample of both is in the stored history afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_runs_lose_no_sample() {
    use flow::history::HistoryStore;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let make = |name: &str, own: &str, year: &str| {
        let ids: Vec<String> =
            (1..=50).map(|i| format!("S-{i:03}")).chain((1..=50).map(|i| format!("{own}-{i:03}"))).collect();
        let assets: Vec<_> = ids.iter().map(|i| (i.clone(), Some("East"), Some(2001))).collect();
        let samples: Vec<_> = ids
            .iter()
            .flat_map(|i| [(i.clone(), format!("{year}-02-01"), 12.0), (i.clone(), format!("{year}-08-01"), 14.0)])
            .collect();
        let path = dir.path().join(name);
        workbook(&path, &assets, &samples);
        path
    };
    let (one, two) = (make("east-2024.xlsx", "X", "2024"), make("east-2025.xlsx", "Y", "2025"));
    let bin = assert_cmd::cargo::cargo_bin("substation");
    let spawn = |f: &Path| {
        std::process::Command::new(&bin)
            .arg("run")
            .arg(f)
            .arg("--out")
            .arg(&out)
            .args(["--json", "--batch-size", "5"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut p1, mut p2) = (spawn(&one), spawn(&two));
    assert!(p1.wait().unwrap().success() && p2.wait().unwrap().success());
    let store = substation::history_sqlite::SqliteHistory::open_in(&out).unwrap();
    let ids = store.asset_ids().await.unwrap();
    assert_eq!(ids.len(), 150);
    for (id, s) in store.read(&ids).await.unwrap() {
        let years: Vec<String> =
            s.history.samples.iter().map(|x| x.sample.sampled_on.unwrap().format("%Y").to_string()).collect();
        let expected = match &id[..1] {
            "S" => vec!["2024", "2024", "2025", "2025"],
            "X" => vec!["2024", "2024"],
            _ => vec!["2025", "2025"],
        };
        assert_eq!(years, expected, "{id}");
    }
}
