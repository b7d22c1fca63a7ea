//! The diagnose Lambda, one Distributed Map child: a batch envelope in, counts out
//! (`flow::diagnose`). Links the S3 SDK only.

use flow::ObjectStore;
use flow::diagnose::{BatchEnvelope, BatchOutput};
use lambda::StepError;
use lambda_runtime::{LambdaEvent, service_fn};

async fn handler<S: ObjectStore>(
    event: LambdaEvent<BatchEnvelope>,
    store: &S,
    thresholds: &dga::Thresholds,
    config: &config::SharedConfig,
) -> Result<BatchOutput, StepError> {
    Ok(flow::diagnose::diagnose_batch(store, &event.payload, thresholds, config).await?)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let (config, thresholds) = lambda::load_settings()?;
    let store = lambda::S3Store::from_env().await?;
    let (store, thresholds, config) = (&store, &thresholds, &config);
    lambda_runtime::run(service_fn(move |event| handler(event, store, thresholds, config))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow::LocalStore;

    /// The batch envelope exactly as the ItemBatcher delivers it, with one item that is not an
    /// asset: that asset fails, the batch does not.
    #[tokio::test]
    async fn a_batch_envelope_fixture() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let envelope: BatchEnvelope =
            serde_json::from_str(include_str!("../../../tests/fixtures/events/batch-envelope.json")).unwrap();
        let out = handler(
            LambdaEvent::new(envelope, Default::default()),
            &store,
            &dga::Thresholds::default(),
            &config::SharedConfig::embedded(),
        )
        .await
        .unwrap();
        assert_eq!((out.assets, out.diagnosed, out.failed), (3, 2, 1));
        let body = String::from_utf8(store.get(&out.key).await.unwrap()).unwrap();
        assert_eq!(body.lines().count(), 3);
        assert!(out.key.starts_with("runs/fleet-xlsx-0123456789ab/diagnoses/"));
        assert!(body.contains("\"error\":\"not an asset item"), "{body}");
    }
}
