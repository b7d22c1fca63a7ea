//! The aggregator on ResultWriter files transcribed from AWS's documented format
//! (tests/fixtures/result-writer), including FAILED and PENDING records; the rejected and
//! partial modes; and byte-identical results on a second run.

mod common;

use calamine::Reader;
use common::*;
use flow::ObjectStore;
use flow::aggregate::{
    AggregateRequest, CaughtError, MapRunOutput, Mode, ResultWriterDetails, RunState, RunStatus, Summary, aggregate,
};
use flow::diagnose::{DiagnosisLine, diagnose_item};
use flow::parse::{ParseOutput, parse};

const RUN: &str = "fleet-xlsx-0123456789ab";
const MAP_RUN: &str = "7c0b9f4e-2d41-3b77-a1e5-5f0c2a9d8e13";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../tests/fixtures/result-writer/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Parses a six-asset workbook and writes batches a and b as the diagnose Lambda would.
async fn prepared(b: &Bucket, batches: bool) -> (flow::start::ExecutionInput, ParseOutput) {
    let input = upload(&b.store, "fleet.xlsx", fleet(6, false), Some(RUN)).await;
    let parsed = parse(&b.store, &input, &config()).await.unwrap();
    assert_eq!(parsed.counts.assets, 6);
    if batches {
        let items: Vec<Box<serde_json::value::RawValue>> =
            String::from_utf8(b.store.get(&parsed.assets_key).await.unwrap())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        let t = dga::Thresholds::default();
        for (batch, range) in [("batch-a", 0..3), ("batch-b", 3..4)] {
            let mut body = Vec::new();
            for item in &items[range] {
                serde_json::to_writer(&mut body, &diagnose_item(item, &t)).unwrap();
                body.push(b'\n');
            }
            b.store.put(&format!("runs/{RUN}/diagnoses/{batch}.jsonl"), body).await.unwrap();
        }
    }
    (input, parsed)
}

async fn put_result_writer_files(b: &Bucket) {
    for f in ["manifest.json", "SUCCEEDED_0.json", "FAILED_0.json", "PENDING_0.json"] {
        b.store.put(&format!("runs/{RUN}/map/{MAP_RUN}/{f}"), fixture(f)).await.unwrap();
    }
}

fn complete(input: &flow::start::ExecutionInput, parse: &ParseOutput) -> AggregateRequest {
    AggregateRequest {
        mode: Mode::Complete,
        state: RunState {
            execution: input.clone(),
            parse: Some(parse.clone()),
            map_run: Some(MapRunOutput {
                map_run_arn: format!(
                    "arn:aws:states:eu-west-1:123456789012:mapRun:substation-dev-bulk-upload/DiagnoseAssets:{MAP_RUN}"
                ),
                result_writer_details: ResultWriterDetails {
                    bucket: "substation-dev-data".into(),
                    key: format!("runs/{RUN}/map/{MAP_RUN}/manifest.json"),
                },
            }),
            error: None,
        },
    }
}

async fn summary(b: &Bucket) -> Summary {
    serde_json::from_slice(&b.store.get(&format!("results/{RUN}/summary.json")).await.unwrap()).unwrap()
}

#[tokio::test]
async fn every_asset_ends_diagnosed_failed_or_never_started() {
    let b = bucket();
    let (input, parsed) = prepared(&b, true).await;
    put_result_writer_files(&b).await;
    let out = aggregate(&b.store, &complete(&input, &parsed), &config()).await.unwrap();
    assert_eq!(out.status, RunStatus::Complete);
    let c = &out.counts;
    assert_eq!((c.assets, c.diagnosed, c.failed, c.not_started), (6, 4, 1, 1));

    let s = summary(&b).await;
    assert_eq!(s.schema_version, 1);
    assert_eq!(s.map_run_arn.as_deref().unwrap().rsplit(':').next(), Some(MAP_RUN));
    let failures: Vec<(&str, &str)> =
        s.failures.iter().map(|f| (f.asset_id.as_deref().unwrap(), f.error.as_str())).collect();
    assert_eq!(failures[0].0, "TR-00005");
    assert!(failures[0].1.contains("StorageUnavailable") && failures[0].1.contains("SlowDown"), "{failures:?}");
    assert_eq!(failures[1].0, "TR-00006");
    assert!(failures[1].1.contains("never started"));
    assert_eq!(s.by_status.values().sum::<u64>(), 4);
    assert_eq!(s.provenance, input.provenance);
    assert_eq!(s.source.key, "uploads/fleet.xlsx");

    let lines: Vec<DiagnosisLine> =
        String::from_utf8(b.store.get(&format!("results/{RUN}/diagnoses.jsonl")).await.unwrap())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l.record.asset_id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["TR-00001", "TR-00002", "TR-00003", "TR-00004"]);
    assert!(lines.iter().all(|l| l.sample_rows.len() == 4 && l.sample_rows[0].sheet == "Samples"));

    let report = b.store.get(&format!("results/{RUN}/report.xlsx")).await.unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(report)).unwrap();
    assert_eq!(book.worksheet_range("Diagnoses").unwrap().height(), 5);

    // report.html: a page for every diagnosed asset, each from that asset's own line.
    let page = String::from_utf8(b.store.get(&format!("results/{RUN}/report.html")).await.unwrap()).unwrap();
    assert_eq!(s.files.report_html.as_deref(), Some(format!("results/{RUN}/report.html").as_str()));
    let sections = section_texts(&page);
    let mut section_ids: Vec<&str> = sections.iter().map(|(id, _)| id.as_str()).collect();
    section_ids.sort_unstable();
    assert_eq!(section_ids, ids);
    for line in &lines {
        let id = line.record.asset_id.as_deref().unwrap();
        let (_, text) = sections.iter().find(|(s, _)| s == id).unwrap();
        assert!(text.contains(&line.record.diagnosis.explanation.replace('<', "&lt;").replace('>', "&gt;")), "{id}");
        assert!(text.matches("<tr><td>").count() >= line.record.history.len(), "{id}: every sample");
    }
    let open = "<script id=\"asset-rows\" type=\"application/json\">";
    let data = &page[page.find(open).unwrap() + open.len()..];
    let rows: Vec<serde_json::Value> = serde_json::from_str(&data[..data.find("</script>").unwrap()]).unwrap();
    assert_eq!(rows.len(), 4, "the table holds every diagnosed asset");
    assert!(page.ends_with("</main></body></html>\n"));
}

#[tokio::test]
async fn a_second_run_writes_identical_bytes() {
    let b = bucket();
    let (input, parsed) = prepared(&b, true).await;
    put_result_writer_files(&b).await;
    let keys = ["summary.json", "diagnoses.jsonl", "rejected.jsonl", "report.xlsx", "report.html"]
        .map(|f| format!("results/{RUN}/{f}"));
    aggregate(&b.store, &complete(&input, &parsed), &config()).await.unwrap();
    let mut first = Vec::new();
    for k in &keys {
        first.push(b.store.get(k).await.unwrap());
    }
    aggregate(&b.store, &complete(&input, &parsed), &config()).await.unwrap();
    for (k, before) in keys.iter().zip(first) {
        assert_eq!(b.store.get(k).await.unwrap(), before, "{k} changed on the second run");
    }
}

#[tokio::test]
async fn rejected_mode_says_why() {
    let b = bucket();
    let input = upload(&b.store, "notes.xlsx", b"\x89PNG\r\n\x1a\n\0\0\0".to_vec(), Some(RUN)).await;
    let err = parse(&b.store, &input, &config()).await.unwrap_err();
    assert_eq!(err.error_type(), "WorkbookInvalid");
    let cause = serde_json::json!({ "errorType": err.error_type(), "errorMessage": err.to_string() }).to_string();
    let request = AggregateRequest {
        mode: Mode::Rejected,
        state: RunState {
            execution: input,
            parse: None,
            map_run: None,
            error: Some(CaughtError { error: "WorkbookInvalid".into(), cause: Some(cause) }),
        },
    };
    let out = aggregate(&b.store, &request, &config()).await.unwrap();
    assert_eq!(out.status, RunStatus::Rejected);
    let s = summary(&b).await;
    let reason = s.reason.unwrap();
    assert!(reason.starts_with("notes.xlsx: not a spreadsheet"), "{reason}");
    assert_eq!(s.error.as_deref(), Some("WorkbookInvalid"), "the name is for machines, beside the reason");
    assert_eq!(s.files.report, None);
    // A rejected run has a page too, saying why.
    let page = String::from_utf8(b.store.get(&format!("results/{RUN}/report.html")).await.unwrap()).unwrap();
    assert!(page.contains("run-status rejected"));
    assert!(page.contains("not a spreadsheet"), "the reason is on the page");
    assert!(section_texts(&page).is_empty());
}

#[tokio::test]
async fn partial_mode_without_a_manifest_uses_the_batch_files() {
    let b = bucket();
    let (input, parsed) = prepared(&b, true).await;
    let request = AggregateRequest {
        mode: Mode::Partial,
        state: RunState {
            execution: input,
            parse: Some(parsed),
            map_run: None,
            error: Some(CaughtError {
                error: "States.ExceedToleratedFailureThreshold".into(),
                cause: Some("The specified tolerated failure threshold was exceeded".into()),
            }),
        },
    };
    let out = aggregate(&b.store, &request, &config()).await.unwrap();
    assert_eq!(out.status, RunStatus::Incomplete);
    assert_eq!((out.counts.diagnosed, out.counts.failed, out.counts.not_started), (4, 0, 2));
    let s = summary(&b).await;
    assert!(s.reason.unwrap().contains("tolerated failure threshold"));
}

#[tokio::test]
async fn partial_mode_reads_a_manifest_when_the_map_wrote_one() {
    let b = bucket();
    let (input, parsed) = prepared(&b, true).await;
    put_result_writer_files(&b).await;
    let request = AggregateRequest {
        mode: Mode::Partial,
        state: RunState {
            execution: input,
            parse: Some(parsed),
            map_run: None,
            error: Some(CaughtError { error: "States.ExceedToleratedFailureThreshold".into(), cause: None }),
        },
    };
    let out = aggregate(&b.store, &request, &config()).await.unwrap();
    assert_eq!(
        (out.status, out.counts.diagnosed, out.counts.failed, out.counts.not_started),
        (RunStatus::Incomplete, 4, 1, 1)
    );
}

#[tokio::test]
async fn a_broken_manifest_is_manifest_invalid() {
    let b = bucket();
    let (input, parsed) = prepared(&b, true).await;
    b.store.put(&format!("runs/{RUN}/map/{MAP_RUN}/manifest.json"), b"{\"ResultFiles\": 3}".to_vec()).await.unwrap();
    let err = aggregate(&b.store, &complete(&input, &parsed), &config()).await.unwrap_err();
    assert_eq!(err.error_type(), "ManifestInvalid");
    // A batch line that is not ours is refused too, naming the file.
    put_result_writer_files(&b).await;
    b.store.put(&format!("runs/{RUN}/diagnoses/batch-b.jsonl"), b"{\"nonsense\": true}\n".to_vec()).await.unwrap();
    let err = aggregate(&b.store, &complete(&input, &parsed), &config()).await.unwrap_err();
    assert_eq!(err.error_type(), "ManifestInvalid");
    assert!(err.to_string().contains("batch-b.jsonl"), "{err}");
}
