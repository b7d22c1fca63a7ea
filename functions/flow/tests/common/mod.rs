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

/// The Map run the result files below belong to.
pub const MAP_RUN_ARN: &str = "arn:aws:states:eu-west-1:123456789012:mapRun:sm/DiagnoseAssets:run-uuid";

/// Writes `SUCCEEDED_0.json` holding `records` and its manifest under `prefix`, as the
/// ResultWriter does; returns the manifest's key.
pub async fn put_succeeded(store: &LocalStore, prefix: &str, records: &impl serde::Serialize) -> String {
    let succeeded = format!("{prefix}/SUCCEEDED_0.json");
    store.put(&succeeded, serde_json::to_vec(records).unwrap()).await.unwrap();
    let manifest = serde_json::json!({
        "DestinationBucket": "substation-dev-data",
        "MapRunArn": MAP_RUN_ARN,
        "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": succeeded, "Size": 1}]}
    });
    let key = format!("{prefix}/manifest.json");
    store.put(&key, serde_json::to_vec(&manifest).unwrap()).await.unwrap();
    key
}

/// The aggregate's request after a Map run that ended, its results under `manifest_key`.
pub fn complete_request(
    input: &ExecutionInput,
    parsed: &flow::parse::ParseOutput,
    manifest_key: String,
) -> flow::aggregate::AggregateRequest {
    use flow::aggregate::{AggregateRequest, MapRunOutput, Mode, ResultWriterDetails, RunState};
    AggregateRequest {
        mode: Mode::Complete,
        state: RunState {
            execution: input.clone(),
            parse: Some(parsed.clone()),
            map_run: Some(MapRunOutput {
                map_run_arn: MAP_RUN_ARN.into(),
                result_writer_details: ResultWriterDetails { bucket: "substation-dev-data".into(), key: manifest_key },
            }),
            error: None,
        },
    }
}

/// Each asset page of a report.html, as (asset id, text).
pub fn section_texts(page: &str) -> Vec<(String, String)> {
    page.split("<script type=\"text/x-asset-section\" data-asset=\"")
        .skip(1)
        .map(|s| {
            let (id, rest) = s.split_once("\">").unwrap();
            (id.to_owned(), rest[..rest.find("</script>").unwrap()].to_owned())
        })
        .collect()
}
