//! The aggregate step alone at fleet sizes the whole run cannot reach on a laptop (100k and 1M
//! assets): wall time and peak RSS, the figure that must fit the aggregate Lambda's 3 GB.
//!
//! A real fleet of 100 assets is parsed and diagnosed once; its batches are then replicated
//! under fresh asset ids until the fleet has N assets, with every digest (what the tally and the
//! report read) a real one and each diagnosis line shortened to its asset id (the lines are
//! copied as bytes, never parsed: their length costs disk, not memory). Each measurement runs in
//! a child process, so its VmHWM is its own.
//!
//! Run: `cargo bench -p flow --bench aggregate` (sizes: `AGGREGATE_ASSETS=100000,1000000`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use flow::aggregate::aggregate;
use flow::diagnose::{BatchEnvelope, BatchInput, BatchOutput, diagnose_batch};
use flow::parse::parse;
use flow::{LocalStore, ObjectStore};
use serde_json::json;

#[path = "../tests/common/mod.rs"]
mod common;

const TEMPLATE_ASSETS: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(args[i + 1].parse().expect("a size"), Path::new(&args[i + 2]));
        return;
    }
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("AGGREGATE_ASSETS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let exe = std::env::current_exe().expect("the bench binary");
    println!("{:>9} | {:>9} {:>10} {:>12}", "assets", "aggregate s", "peak MiB", "bytes/asset");
    for n in sizes {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let out =
            Command::new(&exe).arg("--child").arg(n.to_string()).arg(dir.path()).output().expect("the child runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut f = text.split_whitespace();
        match (f.next().and_then(|s| s.parse::<f64>().ok()), f.next().and_then(|s| s.parse::<f64>().ok())) {
            (Some(secs), Some(kib)) => {
                println!("{n:>9} | {secs:>11.2} {:>10.0} {:>12.0}", kib / 1024.0, kib * 1024.0 / n as f64)
            }
            _ => println!("{n:>9} | failed: {}", String::from_utf8_lossy(&out.stderr)),
        }
    }
}

fn child(n: usize, root: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let (secs, kib) = rt.block_on(prepare_and_aggregate(n, root));
    println!("{secs} {kib}");
}

async fn prepare_and_aggregate(n: usize, root: &Path) -> (f64, u64) {
    let store = LocalStore::new(root);
    let cfg = common::config();
    let opts = workbook::sample::SampleOptions {
        assets: TEMPLATE_ASSETS,
        samples_per_asset: 10,
        seed: 3,
        ..Default::default()
    };
    let bytes = workbook::sample::write_fleet(&opts).expect("the generator writes");
    let input = common::upload(&store, "fleet.xlsx", bytes, None).await;
    let mut parsed = parse(&store, &input, &cfg).await.expect("parsed");

    // The template batch: every asset of the small fleet, diagnosed for real.
    let items = String::from_utf8(store.get(&parsed.assets_key).await.expect("items")).expect("UTF-8");
    let items: Vec<_> = items.lines().map(|l| serde_json::from_str(l).expect("an item")).collect();
    let template_assets = items.len();
    let batch_input = BatchInput {
        run_id: input.run_id.clone(),
        provenance: Some(input.provenance.clone()),
        upload: Some(input.upload.clone()),
    };
    let envelope = BatchEnvelope { batch_input, items };
    let t = dga::Thresholds::default();
    let template: BatchOutput = diagnose_batch(&store, &envelope, &t, &cfg).await.expect("diagnosed");
    let digests = String::from_utf8(store.get(template.rows_key.as_deref().expect("digests")).await.expect("read"))
        .expect("UTF-8");
    let ids: Vec<String> = envelope
        .items
        .iter()
        .map(|i| serde_json::from_str::<workbook::AssetItem>(i.get()).expect("an item").asset_id)
        .collect();

    // Replicated under fresh ids up to n assets.
    let copies = n.div_ceil(template_assets);
    let mut outputs = Vec::with_capacity(copies);
    // A digest line per asset, in the items' order: each copy renames its own asset.
    let digest_lines: Vec<&str> = digests.lines().collect();
    assert_eq!(digest_lines.len(), ids.len());
    for k in 0..copies {
        let (mut rows, mut lines) = (String::with_capacity(digests.len() + 1024), String::new());
        for (id, digest) in ids.iter().zip(&digest_lines) {
            let fresh = format!("{id}-{k:07}");
            rows.push_str(&digest.replace(&format!("\"{id}\""), &format!("\"{fresh}\"")));
            rows.push('\n');
            lines.push_str(&json!({"asset_id": fresh}).to_string());
            lines.push('\n');
        }
        let key = format!("runs/{}/diagnoses/copy-{k:07}.jsonl", input.run_id);
        let rows_key = format!("runs/{}/diagnoses/copy-{k:07}.rows.jsonl", input.run_id);
        store.put(&key, lines.into_bytes()).await.expect("lines written");
        store.put(&rows_key, rows.into_bytes()).await.expect("digests written");
        outputs.push(BatchOutput {
            batch_id: format!("copy-{k:07}"),
            key,
            assets: template_assets,
            diagnosed: template.diagnosed,
            failed: template.failed,
            rejected: template.rejected,
            rows_key: Some(rows_key),
        });
    }
    let total = copies * template_assets;
    parsed.counts.assets = total as u64;
    let prefix = format!("{}/run-uuid", parsed.map_results_prefix);
    let manifest_key = common::put_succeeded(&store, &prefix, &outputs).await;
    let request = common::complete_request(&input, &parsed, manifest_key);
    // The preparation's memory is not the aggregate's: the high-water mark is reset first.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let out = aggregate(&store, &request, &cfg).await.expect("aggregated");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(out.counts.diagnosed as usize, total - copies * template.failed);
    (secs, peak_rss_kib())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
