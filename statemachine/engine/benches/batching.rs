//! Packing Distributed Map items into ItemBatcher batches: linear in the items.
//! Run: `cargo bench -p engine --bench batching` (10k and 100k asset-sized items; divan reports
//! time per item, which stays flat when the packing is linear).

use divan::{Bencher, black_box};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

/// Items the size of an asset item (about 2 KB each: ten samples of nine gases).
fn items(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let samples: Vec<Value> = (0..10)
                .map(|s| {
                    json!({"sheet": "Samples", "row": i * 10 + s, "sample": {"sampled_on": "2024-05-17",
                    "h2_ppm": 12.0, "ch4_ppm": 8.0, "c2h6_ppm": 6.0, "c2h4_ppm": 3.0, "c2h2_ppm": "<0.5",
                    "co_ppm": 310.0, "co2_ppm": 2400.0, "o2_ppm": 21000.0, "n2_ppm": 56000.0}})
                })
                .collect();
            json!({"schema_version": 1, "asset_id": format!("TR-{i:06}"), "samples": samples, "samples_omitted": 0})
        })
        .collect()
}

#[divan::bench(args = [10_000, 100_000], sample_count = 5)]
fn pack(b: Bencher, n: usize) {
    let all = items(n);
    b.counter(divan::counter::ItemsCount::new(n)).with_inputs(|| all.clone()).bench_values(|items| {
        black_box(engine::distributed::batches(items, Some(json!({"run_id": "r"})), Some(100), Some(262_144)))
    });
}
