//! The aggregate Lambda: the run's state (and mode) in, results persisted (`flow::aggregate`).

use flow::ObjectStore;
use flow::aggregate::{AggregateOutput, AggregateRequest};
use lambda::StepError;
use lambda_runtime::{LambdaEvent, service_fn};

async fn handler<S: ObjectStore>(
    event: LambdaEvent<AggregateRequest>,
    store: &S,
    config: &config::SharedConfig,
) -> Result<AggregateOutput, StepError> {
    Ok(flow::aggregate::aggregate(store, &event.payload, config).await?)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let (config, _) = lambda::load_settings()?;
    let store = lambda::S3Store::from_env().await?;
    let (store, config) = (&store, &config);
    lambda_runtime::run(service_fn(move |event| handler(event, store, config))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow::LocalStore;

    /// The payload the ASL's Catch sends after a rejected workbook.
    #[tokio::test]
    async fn the_rejected_mode_payload_fixture() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let request: AggregateRequest =
            serde_json::from_str(include_str!("../../../tests/fixtures/events/aggregate-rejected.json")).unwrap();
        let out = handler(LambdaEvent::new(request, Default::default()), &store, &config::SharedConfig::embedded())
            .await
            .unwrap();
        assert_eq!(out.status, flow::aggregate::RunStatus::Rejected);
        let summary: serde_json::Value = serde_json::from_slice(&store.get(&out.summary_key).await.unwrap()).unwrap();
        assert_eq!(
            summary["reason"],
            "fleet.xlsx: the workbook is password-protected: remove the password and upload it again"
        );
        assert_eq!(summary["error"], "WorkbookInvalid");
    }
}
