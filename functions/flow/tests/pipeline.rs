//! parse → diagnose (every batch, built as the ItemBatcher would) → aggregate over the local
//! store, on a generated workbook with the mistakes real files have: every row accounted for,
//! every persisted file parses, and the diagnoses equal the library's.

mod common;

use common::*;
use flow::ObjectStore;
use flow::aggregate::{RunStatus, Summary, aggregate};
use flow::diagnose::{BatchEnvelope, BatchInput, BatchOutput, DiagnosisLine, diagnose_batch};
use flow::parse::parse;
use serde_json::{Value, json};

/// Packs items like the ItemBatcher: at most `max_items` per batch, and the batch's JSON input
/// at most `max_bytes` (AWS: the item count is reduced to stay under the byte limit).
fn batches(
    input: &flow::start::ExecutionInput,
    items: Vec<Value>,
    max_items: usize,
    max_bytes: usize,
) -> Vec<BatchEnvelope> {
    let mut out: Vec<BatchEnvelope> = Vec::new();
    // BatchInput as the ASL sets it: the run id, the provenance and the upload.
    let batch_input = BatchInput {
        run_id: input.run_id.clone(),
        provenance: Some(input.provenance.clone()),
        upload: Some(input.upload.clone()),
    };
    let new = || BatchEnvelope { batch_input: batch_input.clone(), items: Vec::new() };
    let mut current = new();
    for item in items {
        let item = serde_json::value::to_raw_value(&item).unwrap();
        let mut candidate = current.items.clone();
        candidate.push(item.clone());
        let size = serde_json::to_vec(&BatchEnvelope { batch_input: current.batch_input.clone(), items: candidate })
            .unwrap()
            .len();
        if !current.items.is_empty() && (current.items.len() >= max_items || size > max_bytes) {
            out.push(std::mem::replace(&mut current, new()));
        }
        current.items.push(item);
    }
    if !current.items.is_empty() {
        out.push(current);
    }
    out
}

#[tokio::test]
async fn a_generated_fleet_goes_through_every_step() {
    let b = bucket();
    let cfg = config();
    let workbook_bytes = fleet(150, true);
    let input = upload(&b.store, "Fleet 2026 Q3.XLSX", workbook_bytes.clone(), None).await;
    assert!(input.run_id.starts_with("Fleet-2026-Q3-XLSX-"), "{}", input.run_id);

    let parsed = parse(&b.store, &input, &cfg).await.unwrap();
    let c = parsed.counts;
    assert!(c.rows_rejected > 0);
    assert_eq!(c.rows_read, c.samples_accepted + c.rows_rejected + c.rows_skipped);

    // The Distributed Map: ItemReader (JSONL), ItemBatcher, one diagnose call per batch.
    let items: Vec<Value> = String::from_utf8(b.store.get(&parsed.assets_key).await.unwrap())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let assets = items.len();
    let envelopes = batches(&input, items, input.map.max_items_per_batch as usize, 20_000);
    assert!(envelopes.len() > 1, "the byte limit should split the batches");
    let t = dga::Thresholds::default();
    let mut records = Vec::new();
    for (i, envelope) in envelopes.iter().enumerate() {
        let size = serde_json::to_vec(envelope).unwrap().len();
        assert!(size <= 262_144, "a child's input must stay under 256 KiB ({size})");
        let out: BatchOutput = diagnose_batch(&b.store, envelope, &t, &cfg).await.unwrap();
        assert_eq!(out.diagnosed + out.failed, envelope.items.len());
        assert!(serde_json::to_vec(&out).unwrap().len() < 1024, "child outputs stay tiny");
        // A retried batch writes the same key.
        assert_eq!(diagnose_batch(&b.store, envelope, &t, &cfg).await.unwrap().key, out.key);
        records.push(json!({
            "ExecutionArn": format!("arn:aws:states:eu-west-1:123456789012:execution:sm/DiagnoseAssets:child-{i}"),
            "Input": serde_json::to_string(envelope).unwrap(),
            "InputDetails": {"Included": true},
            "Name": format!("child-{i}"),
            "Output": serde_json::to_string(&out).unwrap(),
            "OutputDetails": {"Included": true},
            "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
            "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
            "StartDate": "2026-11-25T10:00:01.099Z",
            "StateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:sm/DiagnoseAssets",
            "Status": "SUCCEEDED",
            "StopDate": "2026-11-25T10:00:01.163Z"
        }));
    }
    // The ResultWriter's files, as AWS writes them.
    let prefix = format!("{}/run-uuid", parsed.map_results_prefix);
    let manifest_key = put_succeeded(&b.store, &prefix, &records).await;
    let request = complete_request(&input, &parsed, manifest_key);
    let out = aggregate(&b.store, &request, &cfg).await.unwrap();
    assert_eq!(out.status, RunStatus::Complete);
    assert_eq!((out.counts.assets as usize, out.counts.diagnosed as usize, out.counts.failed), (assets, assets, 0));

    // Every row accounted for, in the persisted files.
    let summary: Summary = serde_json::from_slice(&b.store.get(&out.summary_key).await.unwrap()).unwrap();
    let sc = &summary.counts;
    assert_eq!(sc.rows_read, sc.samples_accepted + sc.rows_rejected + sc.rows_skipped);
    let lines: Vec<DiagnosisLine> =
        String::from_utf8(b.store.get(summary.files.diagnoses.as_deref().unwrap()).await.unwrap())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    // Every persisted line says where it came from.
    assert!(lines.iter().all(|l| l.provenance.as_ref().is_some_and(|p| p.run_id == input.run_id
        && p.source_key == "uploads/Fleet 2026 Q3.XLSX"
        && p.config_hash == input.provenance.config_hash)));
    let rows_in_diagnoses: usize = lines.iter().map(|l| l.sample_rows.len() + l.samples_omitted).sum();
    assert_eq!(rows_in_diagnoses as u64, sc.samples_accepted);
    let rejected = String::from_utf8(b.store.get(summary.files.rejected.as_deref().unwrap()).await.unwrap()).unwrap();
    let rejected_rows: std::collections::BTreeSet<(String, u64)> = rejected
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .inspect(|v| assert!(v["schema_version"] == 1 && v["provenance"]["run_id"] == input.run_id.as_str(), "{v}"))
        .map(|v| (v["sheet"].as_str().unwrap().to_owned(), v["row"].as_u64().unwrap()))
        .collect();
    assert_eq!(rejected_rows.len() as u64, sc.rows_rejected);

    // The persisted diagnoses are the library's diagnoses of the same workbook.
    let direct = workbook::read_workbook(&workbook_bytes, "Fleet 2026 Q3.XLSX", &cfg.workbook_limits).unwrap();
    assert_eq!(direct.assets.len(), lines.len());
    for (item, line) in direct.assets.iter().zip(&lines) {
        let d = dga::diagnose_asset(&item.samples(), &item.asset_info(), &t).unwrap();
        assert_eq!(line.record.asset_id.as_deref(), Some(item.asset_id.as_str()));
        assert_eq!(line.record.diagnosis, d, "{}", item.asset_id);
        assert_eq!(line.sample_rows.len(), item.samples.len());
        // A rejected newer row of the asset reaches its record as a warning.
        assert_eq!(line.record.warnings, item.warnings(), "{}", item.asset_id);
        assert_eq!(line.record.history.len(), item.samples.len());
    }
    let warned = direct.assets.iter().filter(|a| !a.rejected_samples.is_empty()).count();
    assert!(warned > 0, "the generated fleet's typos include newest samples");
    assert_eq!(summary.assets_with_warnings as usize, warned);
    assert!(summary.warnings.iter().all(|w| w.warning.code == "newest_sample_rejected"));
    assert!(summary.act_first.iter().all(|a| a.status >= 2));
    // The act-first list is in priority order.
    assert!(summary.act_first.windows(2).all(|w| w[0].priority >= w[1].priority), "{:?}", summary.act_first);
    assert_eq!(summary.by_status.values().sum::<u64>(), assets as u64);

    // report.xlsx: the Diagnoses sheet worst first (read back from the aggregate's spill), every
    // sample of the assets at status 2-3 on Asset history.
    use calamine::{DataType, Reader};
    let xlsx = b.store.get(summary.files.report.as_deref().unwrap()).await.unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    let diagnoses = book.worksheet_range("Diagnoses").unwrap();
    assert_eq!(diagnoses.get((0, 6)).map(|h| h.to_string()), Some("Priority".into()));
    let priorities: Vec<f64> = diagnoses.rows().skip(1).map(|r| r[6].as_f64().unwrap()).collect();
    assert_eq!(priorities.len(), assets);
    assert!(priorities.windows(2).all(|w| w[0] >= w[1]), "worst first: {priorities:?}");
    let history = book.worksheet_range("Asset history").unwrap();
    let expected: usize =
        lines.iter().filter(|l| l.record.diagnosis.status.number() >= 2).map(|l| l.record.history.len()).sum();
    assert!(expected > 0);
    assert_eq!(history.height() - 1, expected);

    // report.html's pages come from the digests' positions: each is its own asset's line.
    let page = String::from_utf8(b.store.get(summary.files.report_html.as_deref().unwrap()).await.unwrap()).unwrap();
    let sections = section_texts(&page);
    assert_eq!(sections.len(), assets, "a page per asset in a small fleet");
    for line in &lines {
        let id = line.record.asset_id.as_deref().unwrap();
        let (_, text) = sections.iter().find(|(s, _)| s == id).unwrap();
        let action = line.record.diagnosis.action.replace('<', "&lt;").replace('>', "&gt;");
        assert!(
            text.contains(&format!("{:.1}", line.record.diagnosis.priority.score)) && text.contains(&action),
            "{id}"
        );
        for r in &line.sample_rows {
            assert!(text.contains(&format!("{} row {}", r.sheet, r.row)), "{id}: {r:?}");
        }
    }
}

/// The items file is written in chunks of 1,024 items serialized on two threads: across several
/// chunks it still holds every asset once, in the workbook's order, exactly as read.
#[tokio::test]
async fn the_items_file_keeps_the_workbook_order_across_chunks() {
    let b = bucket();
    let opts = workbook::sample::SampleOptions { assets: 2_600, samples_per_asset: 1, seed: 5, ..Default::default() };
    let bytes = workbook::sample::write_fleet(&opts).unwrap();
    let expected = workbook::read_workbook(&bytes, "fleet.xlsx", &config().workbook_limits).unwrap().assets;
    let input = upload(&b.store, "fleet.xlsx", bytes, None).await;
    let parsed = parse(&b.store, &input, &config()).await.unwrap();
    let text = String::from_utf8(b.store.get(&parsed.assets_key).await.unwrap()).unwrap();
    let items: Vec<workbook::AssetItem> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(items.len() > 2 * 1024, "three chunks: {}", items.len());
    assert_eq!(items, expected);
}
