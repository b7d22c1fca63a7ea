//! The S3 store reads an upload by its version, against a real S3 protocol with versioning:
//! moto's server on loopback (s3s-fs has no versioning). `scripts/test` installs moto
//! (`pip install "moto[server]"`); the test fails, not skips, without it.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use flow::{ObjectStore, StoreError};
use lambda::S3Store;
use lambda::testing::Moto;

const BUCKET: &str = "substation-versions";

async fn put(client: &aws_sdk_s3::Client, key: &str, body: Vec<u8>) -> String {
    let out = client.put_object().bucket(BUCKET).key(key).body(ByteStream::from(body)).send().await.unwrap();
    out.version_id().expect("a versioned bucket gives a version id").to_owned()
}

/// Two uploads of `fleet.xlsx`, the second landing before the first run's parse: the first run
/// still reads its own workbook, by version.
#[tokio::test]
async fn parse_reads_the_version_its_run_was_started_for() {
    let moto = Moto::start();
    let client = moto.s3();
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    client
        .put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .unwrap();
    let store = S3Store::new(client.clone(), BUCKET);
    let config = config::SharedConfig::embedded();
    let fleet = |assets| {
        let opts = workbook::sample::SampleOptions { assets, samples_per_asset: 2, ..Default::default() };
        workbook::sample::write_fleet(&opts).unwrap()
    };
    let (first, second) = (fleet(12), fleet(30));
    let first_size = first.len() as u64;
    let key = "uploads/fleet.xlsx";
    let v1 = put(&client, key, first.clone()).await;
    let v2 = put(&client, key, second.clone()).await;
    assert_ne!(v1, v2);

    assert_eq!(store.get_version(key, &v1).await.unwrap(), first);
    assert_eq!(store.get_version(key, &v2).await.unwrap(), second);
    assert_eq!(store.get(key).await.unwrap(), second, "the key holds the latest");
    match store.get_version(key, "not-a-version").await {
        Err(StoreError::NotFound { .. } | StoreError::Unavailable { .. }) => {}
        other => panic!("{other:?}"),
    }

    let upload = flow::start::Upload {
        bucket: BUCKET.into(),
        key: key.into(),
        size: first_size,
        etag: None,
        version_id: Some(v1.clone()),
        event_time: "2026-12-02T10:00:00.000Z".into(),
    };
    let flow::start::StartDecision::Start(input) = flow::start::start(&upload, "dev", &config).unwrap() else {
        panic!()
    };
    let mut later = upload.clone();
    later.version_id = Some(v2);
    let flow::start::StartDecision::Start(later) = flow::start::start(&later, "dev", &config).unwrap() else {
        panic!()
    };
    assert_ne!(input.run_id, later.run_id, "the run id names the version");
    let out = flow::parse::parse(&store, &input, &config).await.unwrap();
    assert_eq!(out.counts.assets, 12, "the first upload's assets, not the second's");
}
