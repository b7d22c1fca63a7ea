//! The diagnose Lambda. Two events:
//! - a Distributed Map child's batch envelope (`{"BatchInput": …, "Items": […]}`): counts out,
//!   the batch's lines in S3 (`flow::diagnose`), each asset merged with its stored history;
//! - one asset on demand (`{"asset_id": …, "samples": […], "save": …}`), invoked synchronously
//!   by a backend or an inspection app: the diagnosis line out (`flow::on_demand`).
//!
//! Links the S3 and DynamoDB SDKs only.

use flow::ObjectStore;
use flow::diagnose::{BatchEnvelope, BatchOutput, DiagnosisLine};
use flow::history::HistoryStore;
use flow::on_demand::AssetRequest;
use lambda::StepError;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::value::RawValue;

/// What the Lambda answers: the batch's counts, or the one asset's diagnosis line.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
enum Response {
    Batch(BatchOutput),
    Asset(Box<DiagnosisLine>),
}

/// Only whether the event is a batch (its `Items`): the event is then read once as what it is.
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(rename = "Items", default)]
    items: Option<serde::de::IgnoredAny>,
}

async fn handler<S: ObjectStore, H: HistoryStore>(
    event: LambdaEvent<Box<RawValue>>,
    store: &S,
    history: &H,
    thresholds: &dga::Thresholds,
    config: &config::SharedConfig,
) -> Result<Response, StepError> {
    let text = event.payload.get();
    if serde_json::from_str::<Probe>(text)?.items.is_some() {
        let envelope: BatchEnvelope = serde_json::from_str(text)?;
        let out = flow::diagnose::diagnose_batch_with_history(store, history, &envelope, thresholds, config).await?;
        return Ok(Response::Batch(out));
    }
    let request: AssetRequest = serde_json::from_str(text)?;
    Ok(Response::Asset(Box::new(flow::on_demand::diagnose_one(history, &request, thresholds, config).await?)))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let (config, thresholds) = lambda::load_settings()?;
    let store = lambda::S3Store::from_env().await?;
    let history = lambda::DynamoHistory::from_env(&config).await?;
    let (store, history, thresholds, config) = (&store, &history, &thresholds, &config);
    lambda_runtime::run(service_fn(move |event| handler(event, store, history, thresholds, config))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow::LocalStore;
    use lambda::DynamoHistory;
    use lambda::testing::Moto;

    const BATCH: &str = include_str!("../../../tests/fixtures/events/batch-envelope.json");

    /// The handler over a folder store and moto's DynamoDB, as the Lambda runs over S3 and DynamoDB.
    struct Setup {
        _moto: Moto,
        history: DynamoHistory,
        _dir: tempfile::TempDir,
        store: LocalStore,
        config: config::SharedConfig,
        thresholds: dga::Thresholds,
    }

    impl Setup {
        async fn new() -> Setup {
            let moto = Moto::start();
            let history = DynamoHistory::new(moto.history_table("h").await, "h");
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::new(dir.path());
            let (config, thresholds) = (config::SharedConfig::embedded(), dga::Thresholds::default());
            Setup { _moto: moto, history, _dir: dir, store, config, thresholds }
        }

        async fn call(&self, json: &str) -> Result<Response, StepError> {
            let event = LambdaEvent::new(serde_json::from_str(json).unwrap(), Default::default());
            handler(event, &self.store, &self.history, &self.thresholds, &self.config).await
        }
    }

    /// The batch envelope exactly as the ItemBatcher delivers it, with one item that is not an
    /// asset: that asset fails, the batch does not; the others' histories are stored.
    #[tokio::test]
    async fn a_batch_envelope_fixture() {
        let s = Setup::new().await;
        let Response::Batch(out) = s.call(BATCH).await.unwrap() else { panic!("a batch answers counts") };
        assert_eq!((out.assets, out.diagnosed, out.failed), (3, 2, 1));
        let body = String::from_utf8(s.store.get(&out.key).await.unwrap()).unwrap();
        assert_eq!(body.lines().count(), 3);
        assert!(out.key.starts_with("runs/fleet-xlsx-0123456789ab/diagnoses/"));
        assert!(body.contains("\"error\":\"not an asset item"), "{body}");
        assert_eq!(s.history.asset_ids().await.unwrap().len(), 2);
    }

    /// One asset on demand: the fixture's sample merged with the asset's stored samples, the
    /// record back, the sample stored; the same request again is a repeat; an unknown asset is
    /// `UnknownAsset`. Also measures the warm latency of the handler (printed, not asserted).
    #[tokio::test]
    async fn an_asset_request_fixture() {
        let s = Setup::new().await;
        s.call(BATCH).await.unwrap();
        let stored_samples =
            || async { s.history.read(&["TR-001".into()]).await.unwrap()["TR-001"].history.samples.len() };
        let stored_before = stored_samples().await;

        let request = include_str!("../../../tests/fixtures/events/asset-request.json");
        let Response::Asset(line) = s.call(request).await.unwrap() else {
            panic!("a request answers its diagnosis line")
        };
        assert_eq!(line.record.asset_id.as_deref(), Some("TR-001"));
        assert_eq!(line.record.history.len(), stored_before + 1, "the diagnosis rests on the stored samples too");
        let m = line.merged_history.as_ref().unwrap();
        assert_eq!((m.stored_before, m.from_earlier_uploads), (stored_before, stored_before));
        assert_eq!(line.asset.substation.as_deref(), Some("Northgate"), "the stored metadata fills in");
        let json = serde_json::to_value(&*line).unwrap();
        assert!(json["ieee_c57_104_2019"]["status"].is_number(), "{json}");
        assert_eq!(stored_samples().await, stored_before + 1);

        // Warm: the same request (a repeat, stored once).
        let started = std::time::Instant::now();
        let rounds = 20;
        for _ in 0..rounds {
            let Response::Asset(again) = s.call(request).await.unwrap() else { panic!() };
            assert_eq!(again.merged_history.as_ref().unwrap().repeats, 1);
        }
        eprintln!(
            "on-demand request, warm, against moto: {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0 / rounds as f64
        );
        assert_eq!(stored_samples().await, stored_before + 1);

        let e = lambda_runtime::Diagnostic::from(s.call(&request.replace("TR-001", "TR-404")).await.unwrap_err());
        assert_eq!(e.error_type, "UnknownAsset");
        assert!(e.error_message.contains("TR-404"), "{}", e.error_message);
        let bad = r#"{"asset_id": "TR-001", "samples": [], "save": false}"#;
        let e = lambda_runtime::Diagnostic::from(s.call(bad).await.unwrap_err());
        assert_eq!(e.error_type, "InputInvalid");
    }
}
