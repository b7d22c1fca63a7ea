use dga::GasReading;
use proptest::prelude::*;

use super::conformance::{history, sample};
use super::*;

fn limits() -> config::HistoryLimits {
    config::SharedConfig::embedded().history
}

fn upload(run: &str) -> UploadRef {
    UploadRef { run_id: run.into(), file: format!("{run}.xlsx") }
}

/// An upload's item of these samples (day offsets and H2), unlisted or not.
fn item(asset_id: &str, samples: &[(i64, f64)], run: &str) -> AssetItem {
    AssetItem {
        schema_version: 1,
        asset_id: asset_id.into(),
        samples: samples
            .iter()
            .map(|&(day, h2)| {
                let s = sample(day, h2, run);
                ItemSample { sheet: s.source.sheet, row: s.source.row, sample: s.sample, upload: None }
            })
            .collect(),
        ..AssetItem::default()
    }
}

fn merged(stored: Option<&AssetHistory>, item: &AssetItem, run: &str) -> Merged {
    merge(stored, item, &upload(run), &limits(), 120).unwrap()
}

#[test]
fn new_samples_join_the_stored_ones_oldest_first() {
    let stored = history("T-1", 4);
    let m = merged(Some(&stored), &item("T-1", &[(400, 30.0), (500, 40.0)], "run-b"), "run-b");
    let h = m.history.unwrap();
    assert_eq!(h.samples.len(), 6);
    assert!(h.samples.windows(2).all(|w| w[0].sample.sampled_on < w[1].sample.sampled_on));
    assert_eq!(m.item.samples.len(), 6, "the diagnosis rests on the union");
    assert_eq!(m.counts.from_earlier_uploads, 4);
    assert_eq!(m.item.samples.iter().filter(|s| s.upload.as_deref() == Some("run-a")).count(), 4);
    assert_eq!(m.counts.stored_before, 4);
    assert_eq!(m.counts.previous_status, Some(1));
    // The stored metadata fills in what the upload left out; the age is at the latest sample.
    assert_eq!(m.item.substation.as_deref(), Some("North"));
    assert_eq!(m.item.age_years, Some(f64::from(2021 - 1998)));
}

#[test]
fn a_repeat_is_kept_once_and_a_correction_replaces_with_a_warning() {
    let stored = history("T-1", 2);
    // Day 0 repeated with its value, day 90 with another.
    let m = merged(Some(&stored), &item("T-1", &[(0, 10.0), (90, 99.0)], "run-b"), "run-b");
    let h = m.history.unwrap();
    assert_eq!(h.samples.len(), 2);
    assert_eq!((m.counts.repeats, m.counts.corrections), (1, 1));
    assert_eq!(h.samples[1].sample.h2_ppm, GasReading::Measured(99.0));
    assert_eq!(h.samples[1].source.run_id, "run-b");
    assert_eq!(h.samples[0].source.run_id, "run-a", "a repeat keeps where it was first read");
    let w = &m.corrections[0];
    assert_eq!(w.code, "sample_corrected");
    assert!(
        w.text.contains("run-b.xlsx") && w.text.contains("'fleet.xlsx'") && w.text.contains("2020-03-31"),
        "{}",
        w.text
    );
    assert_eq!(w.rows.len(), 2);
}

#[test]
fn an_unlisted_asset_needs_a_history() {
    let mut it = item("T-9", &[(0, 10.0)], "run-b");
    it.unlisted = true;
    assert_eq!(merge(None, &it, &upload("run-b"), &limits(), 120), Err(UnknownAsset));
    let stored = history("T-9", 1);
    let m = merge(Some(&stored), &it, &upload("run-b"), &limits(), 120).unwrap();
    assert_eq!(m.item.manufacture_year, Some(1998));
    assert_eq!(m.counts.repeats, 1);
}

#[test]
fn the_oldest_samples_move_to_the_archive_and_are_counted() {
    let mut l = limits();
    l.max_stored_samples_per_asset = 5;
    let stored = history("T-1", 4);
    let it = item("T-1", &[(1000, 1.0), (1100, 1.0), (1200, 1.0)], "run-b");
    let m = merge(Some(&stored), &it, &upload("run-b"), &l, 3).unwrap();
    let h = m.history.unwrap();
    assert_eq!(h.samples.len(), 5);
    assert_eq!(m.archive.len(), 2);
    assert_eq!(h.archived_samples, 2);
    assert_eq!(m.archive[0].sample.sampled_on, stored.samples[0].sample.sampled_on, "oldest first");
    // The item caps at 3: 2 of the record and 2 of the archive are not diagnosed on.
    assert_eq!(m.item.samples.len(), 3);
    assert_eq!(m.item.samples_omitted, 4);
    // And by size: a record over the item limit loses its oldest samples too.
    l.max_stored_samples_per_asset = 200;
    l.max_item_bytes = 1500;
    let m = merge(Some(&stored), &it, &upload("run-b"), &l, 120).unwrap();
    let h = m.history.unwrap();
    assert!(serde_json::to_vec(&h).unwrap().len() <= 1500, "{}", serde_json::to_vec(&h).unwrap().len());
    assert_eq!(h.samples.len() + m.archive.len(), 7);
}

#[test]
fn undated_samples_are_diagnosed_but_not_stored() {
    let mut it = item("T-1", &[(0, 1.0)], "run-b");
    it.samples[0].sample.sampled_on = None;
    let m = merged(Some(&history("T-1", 2)), &it, "run-b");
    assert!(m.history.is_none());
    assert_eq!(m.item.samples.len(), 1);
    assert_eq!(m.item.substation.as_deref(), Some("North"));
}

#[test]
fn forgetting_a_run_removes_its_samples_only() {
    let mut h = merged(Some(&history("T-1", 3)), &item("T-1", &[(400, 1.0)], "run-b"), "run-b").history.unwrap();
    h.last_diagnosis.as_mut().unwrap().run_id = "run-b".into();
    let f = forget_run(&h, "run-b").unwrap();
    assert_eq!(f.samples.len(), 3);
    assert!(f.samples.iter().all(|s| s.source.run_id == "run-a"));
    assert!(f.last_diagnosis.is_none());
    assert!(forget_run(&f, "run-z").is_none());
}

/// Distinct sample days of one asset, each with an H2 value.
fn uploads() -> impl Strategy<Value = (Vec<(i64, f64)>, Vec<(i64, f64)>)> {
    prop::collection::btree_map(0i64..3000, 0.0f64..500.0, 1..30).prop_flat_map(|all| {
        let all: Vec<(i64, f64)> = all.into_iter().collect();
        let n = all.len();
        (Just(all), 0..=n).prop_map(|(all, k)| (all[..k].to_vec(), all[k..].to_vec()))
    })
}

proptest! {
    /// The same upload twice leaves the history as once.
    #[test]
    fn merging_is_idempotent((a, _) in uploads()) {
        let it = item("T-1", &a, "run-a");
        let once = merged(None, &it, "run-a").history.unwrap();
        let twice = merged(Some(&once), &it, "run-a");
        prop_assert_eq!(twice.history.as_ref(), Some(&once));
        prop_assert_eq!(twice.counts.repeats, a.len());
        prop_assert!(twice.corrections.is_empty());
    }

    /// Two uploads of distinct samples give the same samples in either order.
    #[test]
    fn merging_distinct_samples_is_order_independent((a, b) in uploads()) {
        let (ia, ib) = (item("T-1", &a, "run-a"), item("T-1", &b, "run-b"));
        let ab = merged(Some(&merged(None, &ia, "run-a").history.unwrap()), &ib, "run-b").history.unwrap();
        let ba = merged(Some(&merged(None, &ib, "run-b").history.unwrap()), &ia, "run-a").history.unwrap();
        prop_assert_eq!(&ab.samples, &ba.samples);
        prop_assert_eq!(ab.samples.len(), a.len() + b.len());
    }
}
