//! Shared helpers: a local bucket with an uploaded generated workbook, and the execution input.

#![allow(dead_code)]

use flow::start::{ExecutionInput, StartDecision, Upload, start};
use flow::{LocalStore, ObjectStore};

pub fn config() -> config::SharedConfig {
    config::SharedConfig::embedded()
}

pub struct Bucket {
    pub dir: tempfile::TempDir,
    pub store: LocalStore,
}

pub fn bucket() -> Bucket {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    Bucket { dir, store }
}

pub fn fleet(assets: usize, with_mistakes: bool) -> Vec<u8> {
    let opts =
        workbook::sample::SampleOptions { assets, samples_per_asset: 4, seed: 1, with_mistakes, ..Default::default() };
    workbook::sample::write_fleet(&opts).unwrap()
}

/// Uploads `bytes` under `uploads/` and returns the execution input `start` derives, with the
/// run id forced when given (fixtures name their run).
pub async fn upload(store: &LocalStore, name: &str, bytes: Vec<u8>, run_id: Option<&str>) -> ExecutionInput {
    let key = format!("uploads/{name}");
    let size = bytes.len() as u64;
    store.put(&key, bytes).await.unwrap();
    let upload = Upload {
        bucket: "substation-dev-data".into(),
        key,
        size,
        etag: Some("\"9b2cf535f27731c974343645a3985328\"".into()),
        version_id: None,
        event_time: "2026-11-25T10:00:00.000Z".into(),
    };
    let StartDecision::Start(mut input) = start(&upload, "dev", &config()).unwrap() else { panic!("not started") };
    if let Some(id) = run_id {
        input.run_id = id.to_owned();
    }
    *input
}
