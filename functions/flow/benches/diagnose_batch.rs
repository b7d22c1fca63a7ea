//! The diagnose handler's time per batch, and what each step reads and writes per asset: the
//! figures `substation plan` estimates a deployed run from. Writes them to
//! config/diagnose-timings.json (committed; `plan` reads it, `--timings FILE` overrides it).
//!
//! For each number of samples per asset, a generated fleet of 1,000 assets is parsed, then
//! diagnosed in batches of 100 (the dev stage's; the Lambda's handler, `diagnose_batch`, over a
//! local folder: its CPU time, without the network), each batch repeated; the median batch is
//! kept. Parse and aggregate are timed once on the whole fleet.
//!
//! Run: `cargo bench -p flow --bench diagnose_batch` (each batch DIAGNOSE_REPS=3 times).

use std::time::{Duration, Instant};

use flow::aggregate::aggregate;
use flow::diagnose::{BatchEnvelope, BatchInput, BatchOutput, diagnose_batch};
use flow::parse::parse;
use flow::{LocalStore, ObjectStore};
use serde_json::{Value, json};

#[path = "../tests/common/mod.rs"]
mod common;

const ASSETS: usize = 1_000;
const BATCH: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let reps: usize = std::env::var("DIAGNOSE_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let mut measured = Vec::new();
    println!(
        "{:>7} {:>7} | {:>9} {:>10} {:>10} {:>11}",
        "assets", "samples", "batch ms", "parse ms", "agg. ms", "item B/asset"
    );
    for samples in [1, 4, 10, 30] {
        let m = rt.block_on(measure(samples, reps));
        println!(
            "{ASSETS:>7} {samples:>7} | {:>9.1} {:>10.1} {:>10.1} {:>11.0}",
            m["diagnose_batch_ms"].as_f64().unwrap_or_default(),
            m["parse_ms"].as_f64().unwrap_or_default(),
            m["aggregate_ms"].as_f64().unwrap_or_default(),
            m["bytes_per_asset"]["item"].as_f64().unwrap_or_default()
        );
        measured.push(m);
    }
    let doc = json!({
        "about": "What `substation plan` estimates a deployed run from: the diagnose handler's time per batch (its CPU time over a local folder, on one core of the machine below; the network is estimated separately), parse and aggregate time, and the bytes each step reads and writes per asset. Written by `cargo bench -p flow --bench diagnose_batch`.",
        "measured_on": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "machine": machine(),
        "program_version": env!("CARGO_PKG_VERSION"),
        "batches": measured,
    });
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/diagnose-timings.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("JSON") + "\n")
        .expect("the timings file is written");
    println!("written: {}", path.display());
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

async fn measure(samples_per_asset: usize, reps: usize) -> Value {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = LocalStore::new(dir.path());
    let cfg = common::config();
    let opts = workbook::sample::SampleOptions {
        assets: ASSETS,
        samples_per_asset,
        seed: 3,
        with_mistakes: false,
        ..Default::default()
    };
    let bytes = workbook::sample::write_fleet(&opts).expect("the generator writes");
    let workbook_bytes = bytes.len();
    let input = common::upload(&store, "fleet.xlsx", bytes, None).await;
    let started = Instant::now();
    let parsed = parse(&store, &input, &cfg).await.expect("parsed");
    let parse_ms = started.elapsed().as_secs_f64() * 1000.0;
    let items_text = store.get(&parsed.assets_key).await.expect("items");
    let items_bytes = items_text.len();
    let items_text = String::from_utf8(items_text).expect("UTF-8");
    let items: Vec<_> = items_text.lines().map(|l| serde_json::from_str(l).expect("an item")).collect();
    let batch_input = BatchInput {
        run_id: input.run_id.clone(),
        provenance: Some(input.provenance.clone()),
        upload: Some(input.upload.clone()),
    };
    let t = dga::Thresholds::default();
    let mut times = Vec::new();
    let mut outputs: Vec<BatchOutput> = Vec::new();
    let (mut lines_bytes, mut rows_bytes) = (0, 0);
    for batch in items.chunks(BATCH) {
        let envelope = BatchEnvelope { batch_input: batch_input.clone(), items: batch.to_vec() };
        let mut out = None;
        for _ in 0..reps.max(1) {
            let started = Instant::now();
            out = Some(diagnose_batch(&store, &envelope, &t, &cfg).await.expect("diagnosed"));
            times.push(started.elapsed());
        }
        let out = out.expect("one batch");
        lines_bytes += store.get(&out.key).await.expect("lines").len();
        rows_bytes += match &out.rows_key {
            Some(k) => store.get(k).await.expect("digests").len(),
            None => 0,
        };
        outputs.push(out);
    }

    let prefix = format!("{}/run-uuid", parsed.map_results_prefix);
    let manifest_key = common::put_succeeded(&store, &prefix, &outputs).await;
    let request = common::complete_request(&input, &parsed, manifest_key);
    let started = Instant::now();
    let summary = aggregate(&store, &request, &cfg).await.expect("aggregated");
    let aggregate_ms = started.elapsed().as_secs_f64() * 1000.0;
    let layout = flow::layout::RunLayout::new(&input.run_id, &cfg);
    let store = &store;
    let size = |key: String| async move { store.get(&key).await.map(|b| b.len()).unwrap_or(0) };
    let per = |b: usize| b as f64 / ASSETS as f64;
    json!({
        "assets": ASSETS,
        "batch_assets": BATCH,
        "samples_per_asset": samples_per_asset,
        "diagnose_batch_ms": median(times),
        "parse_ms": parse_ms,
        "aggregate_ms": aggregate_ms,
        "rows": summary.counts.rows_read,
        "bytes_per_asset": {
            "workbook": per(workbook_bytes),
            "item": per(items_bytes),
            "diagnosis_lines": per(lines_bytes),
            "digests": per(rows_bytes),
            "diagnoses_jsonl": per(size(layout.diagnoses()).await),
            "report_xlsx": per(size(layout.report()).await),
            "report_html": per(size(layout.report_html()).await),
        },
    })
}
