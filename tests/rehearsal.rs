//! The rehearsal of the deployed shape: the whole bulk upload with the four real Lambda binaries
//! (served by `cargo lambda watch`) over moto's S3, Step Functions and DynamoDB on loopback,
//! against the in-process run of the same workbook — row conservation, diagnoses equal to the
//! library's, every result file — and `substation plan`'s counts against what the servers saw.
//!
//! scripts/rehearse starts the servers and runs this test (`scripts/rehearse --test`, its own
//! step of .ci/run after the test command: inside `cargo test`, watch would wait for the build
//! lock). Built only with the `aws` feature (`required-features`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod common;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run this test through `scripts/rehearse --test`"))
}

fn substation() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_substation"));
    c.env_remove(dga::THRESHOLDS_ENV);
    c
}

fn json_out(c: &mut Command) -> (i32, Value, String) {
    let o = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("not JSON: {stderr}"));
    (o.status.code().unwrap(), v, stderr)
}

/// Every JSON line of a result file, with the run's own names (run id, upload, execution ARNs)
/// taken out: they name the run, not the diagnosis.
fn lines(path: &Path) -> Vec<Value> {
    let mut lines: Vec<Value> = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| strip_run_names(serde_json::from_str(l).unwrap()))
        .collect();
    lines.sort_by_key(|l| l.to_string());
    lines
}

fn strip_run_names(mut v: Value) -> Value {
    match &mut v {
        Value::Object(o) => {
            for k in [
                "run_id",
                "upload",
                "map_run_arn",
                "execution_arn",
                "generated_at",
                "files",
                "source",
                "source_version",
                "uploaded_at",
                "processed_at",
            ] {
                o.remove(k);
            }
            for x in o.values_mut() {
                *x = strip_run_names(x.take());
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| *x = strip_run_names(x.take())),
        _ => {}
    }
    v
}

/// Where two values first differ, as a path.
fn first_difference(a: &Value, b: &Value, at: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                if x.get(k) != y.get(k) {
                    return first_difference(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        &format!("{at}.{k}"),
                    );
                }
            }
            at.to_owned()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if p != q {
                    return first_difference(p, q, &format!("{at}[{i}]"));
                }
            }
            at.to_owned()
        }
        _ => format!("{at}: {a} vs {b}"),
    }
}

/// The requests moto's recorder saw, by service and action, leaving out the CLI's own (its
/// user agent says `app/substation-cli`: the upload, the set-up and the download of results).
fn recorded_requests(recording: &Path) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    // One JSON object per request; moto's threads append without a lock, so two may share a
    // line (`}{`): read them as a stream of values, not as lines.
    let text = std::fs::read_to_string(recording).unwrap();
    for entry in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
        let entry = entry.unwrap();
        let headers = &entry["headers"];
        let header = |name: &str| {
            headers.as_object().and_then(|h| {
                h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str().map(str::to_owned))
            })
        };
        let agent = header("x-amz-user-agent").or_else(|| header("user-agent")).unwrap_or_default();
        if agent.contains("app/substation-cli") {
            continue;
        }
        let service = header("authorization")
            .and_then(|a| a.split('/').nth(3).map(str::to_owned))
            .unwrap_or_else(|| "unsigned".into());
        let action = match header("x-amz-target") {
            Some(t) => t.rsplit('.').next().unwrap_or_default().to_owned(),
            None => entry["method"].as_str().unwrap_or_default().to_owned(),
        };
        *counts.entry(format!("{service} {action}")).or_insert(0) += 1;
        *counts.entry(service).or_insert(0) += 1;
    }
    counts
}

fn within(counted: f64, planned: f64, what: &str) {
    let off = (planned - counted).abs() / counted.max(1.0);
    assert!(off <= 0.10, "{what}: planned {planned}, counted {counted} ({:.1} % off)", off * 100.0);
}

#[test]
fn the_deployed_shape_gives_the_in_process_results() {
    let (lambda, s3, bucket, recording) = (
        env("SUBSTATION_REHEARSAL_LAMBDA"),
        env("SUBSTATION_REHEARSAL_S3"),
        env("SUBSTATION_REHEARSAL_BUCKET"),
        env("SUBSTATION_REHEARSAL_RECORDING"),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rehearsal fleet.xlsx");
    // SUBSTATION_REHEARSAL_ASSETS=10000 for the plan's figure at 10k (minutes, not for CI).
    let assets: u64 = std::env::var("SUBSTATION_REHEARSAL_ASSETS").ok().and_then(|s| s.parse().ok()).unwrap_or(150);
    let status = substation()
        .args(["sample", "--assets", &assets.to_string(), "--samples-per-asset", "4", "--seed", "16", "-o"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());

    // In process, on a fresh folder (its history empty, as moto's table is).
    let local = dir.path().join("local");
    let (code, in_process, stderr) =
        json_out(substation().arg("run").arg(&file).arg("--out").arg(&local).arg("--json"));
    assert_eq!(code, 0, "{stderr}");

    // The deployed shape; the recorder starts empty (the set-up of earlier runs is not counted).
    std::fs::write(&recording, "").unwrap();
    let deployed = dir.path().join("deployed");
    let (code, rehearsed, stderr) = json_out(substation().arg("run").arg(&file).arg("--out").arg(&deployed).args([
        "--json",
        "--timings",
        "--lambda-endpoint",
        &lambda,
        "--s3-endpoint",
        &s3,
        "--bucket",
        &bucket,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let requests = recorded_requests(Path::new(&recording));

    // Every row accounted for, and the same counts as in process.
    let c = &rehearsed["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(rehearsed["status"], "complete");
    assert_eq!(n("rows_read"), n("samples_accepted") + n("rows_rejected") + n("rows_skipped"));
    assert!(n("rows_rejected") > 0, "the sample has mistakes");
    assert_eq!((n("assets"), n("diagnosed"), n("failed")), (assets, assets, 0));
    assert_eq!(rehearsed["counts"], in_process["counts"]);
    assert_eq!(rehearsed["by_status"], in_process["by_status"]);
    assert_eq!(rehearsed["by_fault"], in_process["by_fault"]);
    // The execution Step Functions recorded is the one that ran, under the trigger's name.
    let run_id = rehearsed["run_id"].as_str().unwrap();
    assert!(run_id.starts_with("rehearsal-fleet-xlsx-"), "{run_id}");
    assert!(stderr.contains(&format!(":execution:substation-rehearsal:{run_id}")), "{stderr}");

    // Every result file, with the same diagnoses and rejections.
    let results = |root: &Path, v: &Value| root.join("results").join(v["run_id"].as_str().unwrap());
    let (here, there) = (results(&local, &in_process), results(&deployed, &rehearsed));
    let names = |d: &Path| {
        let mut n: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&there), names(&here));
    for f in ["diagnoses.jsonl", "rejected.jsonl"] {
        let (a, b) = (lines(&there.join(f)), lines(&here.join(f)));
        assert_eq!(a.len(), b.len(), "{f}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{f}: {}", first_difference(x, y, ""));
        }
    }
    // The diagnoses are the library's (as tests/run_cli.rs checks the in-process run's).
    common::assert_the_librarys_diagnoses(&file, &there.join("diagnoses.jsonl"));
    let xlsx = there.join("report.xlsx");
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"), "report.xlsx is a zip");

    // What the binaries and Step Functions asked of the servers, against the plan.
    let timings: Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("rehearsal").is_some())
        .unwrap_or_else(|| panic!("no rehearsal counts: {stderr}"));
    let counted = &timings["rehearsal"];
    let (code, plan, stderr) = json_out(substation().args([
        "plan",
        "--assets",
        &assets.to_string(),
        "--samples-per-asset",
        "4",
        "--stage",
        "dev",
        "--json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let num = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    eprintln!("{assets} assets, counted vs planned:");
    for k in ["child_executions", "state_transitions", "lambda_invocations"] {
        eprintln!("  {k}: {} vs {}", counted[k], plan["counts"][k]);
    }
    for (k, service) in [("s3_requests", "s3"), ("dynamodb_requests", "dynamodb")] {
        eprintln!("  {k}: {} vs {}", requests.get(service).copied().unwrap_or(0), plan["counts"][k]);
    }
    eprintln!("  all requests the servers saw: {requests:?}");
    within(num(&counted["child_executions"]), num(&plan["counts"]["child_executions"]), "child executions");
    within(num(&counted["state_transitions"]), num(&plan["counts"]["state_transitions"]), "state transitions");
    within(num(&counted["lambda_invocations"]), num(&plan["counts"]["lambda_invocations"]), "Lambda invocations");
    let s3_counted = requests.get("s3").copied().unwrap_or(0) as f64;
    within(s3_counted, num(&plan["counts"]["s3_requests"]), &format!("S3 requests {requests:?}"));
    let ddb_counted = requests.get("dynamodb").copied().unwrap_or(0) as f64;
    within(ddb_counted, num(&plan["counts"]["dynamodb_requests"]), &format!("DynamoDB requests {requests:?}"));
}
