//! The S3 store against a real S3 protocol implementation, in process: s3s-fs served through
//! s3s-aws as the SDK's HTTP client (no port, no process, no credentials).

use aws_sdk_s3::config::{Credentials, Region};
use flow::{ObjectStore, ObjectWriter, StoreError};
use lambda::S3Store;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

const BUCKET: &str = "substation-test-data";

struct Fixture {
    _dir: tempfile::TempDir,
    client: aws_sdk_s3::Client,
    /// The same server, reached with the wrong secret.
    intruder: aws_sdk_s3::Client,
}

fn sdk_client(service: s3s::service::S3Service, secret: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .http_client(s3s_aws::Client::from(service))
        .credentials_provider(Credentials::new("AKIDSUBSTATIONTEST", secret, None, None, "test"))
        .region(Region::new("eu-west-1"))
        .endpoint_url("http://localhost:8014")
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn s3() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let service = || {
        let fs = s3s_fs::FileSystem::new(dir.path()).unwrap();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single("AKIDSUBSTATIONTEST", "substation-test-secret"));
        builder.build()
    };
    let client = sdk_client(service(), "substation-test-secret");
    let intruder = sdk_client(service(), "wrong-secret");
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    Fixture { _dir: dir, client, intruder }
}

#[tokio::test]
async fn put_get_list_and_a_missing_key() {
    let f = s3().await;
    let store = S3Store::new(f.client.clone(), BUCKET);
    store.put("runs/r/assets.jsonl", b"{\"a\":1}\n".to_vec()).await.unwrap();
    store.put("runs/r/diagnoses/b1.jsonl", b"x".to_vec()).await.unwrap();
    store.put("results/r/summary.json", b"{}".to_vec()).await.unwrap();
    assert_eq!(store.get("runs/r/assets.jsonl").await.unwrap(), b"{\"a\":1}\n");
    assert_eq!(store.list("runs/r/").await.unwrap(), ["runs/r/assets.jsonl", "runs/r/diagnoses/b1.jsonl"]);
    assert_eq!(store.get("runs/r/nope.jsonl").await, Err(StoreError::NotFound { key: "runs/r/nope.jsonl".into() }));
    // Refused access is not a missing key: the store is unavailable, and says why.
    let refused = S3Store::new(f.intruder.clone(), BUCKET);
    match refused.get("runs/r/assets.jsonl").await {
        Err(StoreError::Unavailable { message, .. }) => assert!(message.contains("SignatureDoesNotMatch"), "{message}"),
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn large_objects_and_listings_past_one_page() {
    let f = s3().await;
    let store = S3Store::new(f.client.clone(), BUCKET);
    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    store.put("uploads/big.xlsx", big.clone()).await.unwrap();
    assert_eq!(store.get("uploads/big.xlsx").await.unwrap(), big);
    // ListObjectsV2 returns at most 1,000 keys per page: the store follows the pages.
    for i in 0..1_050 {
        store.put(&format!("runs/r/diagnoses/{i:05}.jsonl"), vec![b'x']).await.unwrap();
    }
    let keys = store.list("runs/r/diagnoses/").await.unwrap();
    assert_eq!(keys.len(), 1_050);
    assert_eq!(keys.first().map(String::as_str), Some("runs/r/diagnoses/00000.jsonl"));
}

#[tokio::test]
async fn the_parse_step_runs_on_s3() {
    let f = s3().await;
    let store = S3Store::new(f.client.clone(), BUCKET);
    let config = config::SharedConfig::embedded();
    let opts = workbook::sample::SampleOptions { assets: 20, samples_per_asset: 3, ..Default::default() };
    let bytes = workbook::sample::write_fleet(&opts).unwrap();
    let upload = flow::start::Upload {
        bucket: BUCKET.into(),
        key: "uploads/fleet.xlsx".into(),
        size: bytes.len() as u64,
        etag: None,
        version_id: None,
        event_time: "2026-11-25T10:00:00.000Z".into(),
    };
    store.put(&upload.key, bytes).await.unwrap();
    let flow::start::StartDecision::Start(input) = flow::start::start(&upload, "dev", &config).unwrap() else {
        panic!()
    };
    let out = flow::parse::parse(&store, &input, &config).await.unwrap();
    assert_eq!(out.counts.assets, 20);
    let assets = String::from_utf8(store.get(&out.assets_key).await.unwrap()).unwrap();
    assert_eq!(assets.lines().count(), 20);
}

/// A large object goes up as a multipart upload of 8 MiB parts (S3's 5 MiB minimum for all
/// but the last), a small one as a single PUT; nothing is visible before `finish`.
#[tokio::test]
async fn objects_written_part_by_part() {
    let f = s3().await;
    let store = S3Store::new(f.client.clone(), BUCKET);
    let chunk: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut w = store.writer("results/r/diagnoses.jsonl").await.unwrap();
    for _ in 0..19 {
        w.write(&chunk).await.unwrap();
    }
    assert!(matches!(store.get("results/r/diagnoses.jsonl").await, Err(StoreError::NotFound { .. })));
    w.finish().await.unwrap();
    let got = store.get("results/r/diagnoses.jsonl").await.unwrap();
    assert_eq!(got.len(), 19 * chunk.len());
    assert!(got.chunks(chunk.len()).all(|c| c == chunk.as_slice()));

    let mut w = store.writer("results/r/small.json").await.unwrap();
    w.write(b"{}").await.unwrap();
    w.finish().await.unwrap();
    assert_eq!(store.get("results/r/small.json").await.unwrap(), b"{}");
}

/// Results open in a browser from S3: each object is stored with its Content-Type, whether put
/// whole or written part by part.
#[tokio::test]
async fn results_are_stored_with_their_content_type() {
    let f = s3().await;
    let store = S3Store::new(f.client.clone(), BUCKET);
    store.put("results/r/report.html", b"<!doctype html>".to_vec()).await.unwrap();
    let mut w = store.writer("results/r/big.html").await.unwrap();
    w.write(&vec![b' '; lambda::PART_BYTES + 1]).await.unwrap();
    w.finish().await.unwrap();
    store.put("results/r/diagnoses.jsonl", b"{}\n".to_vec()).await.unwrap();
    store.put("results/r/report.xlsx", b"PK".to_vec()).await.unwrap();
    for (key, expected) in [
        ("results/r/report.html", "text/html"),
        ("results/r/big.html", "text/html"),
        ("results/r/diagnoses.jsonl", "application/x-ndjson"),
        ("results/r/report.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ] {
        let head = f.client.head_object().bucket(BUCKET).key(key).send().await.unwrap();
        assert_eq!(head.content_type(), Some(expected), "{key}");
    }
}
