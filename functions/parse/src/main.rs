//! The parse Lambda: the execution input in, the parse summary out (`flow::parse`).

use flow::ObjectStore;
use flow::parse::ParseOutput;
use flow::start::ExecutionInput;
use lambda::StepError;
use lambda_runtime::{LambdaEvent, service_fn};

async fn handler<S: ObjectStore>(
    event: LambdaEvent<ExecutionInput>,
    store: &S,
    config: &config::SharedConfig,
) -> Result<ParseOutput, StepError> {
    Ok(flow::parse::parse(store, &event.payload, config).await?)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // When started as the workbook reader's child (xls, ods, xlsb), read and exit here.
    flow::isolate::serve_if_child();
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

    #[tokio::test]
    async fn an_invalid_workbook_is_reported_as_workbook_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let version = store.put_upload("uploads/x.xlsx", b"\x89PNG\r\n\x1a\n\0\0\0").unwrap();
        let event: ExecutionInput =
            serde_json::from_str(include_str!("../../../tests/fixtures/events/execution-input.json")).unwrap();
        let mut event = event;
        event.upload.key = "uploads/x.xlsx".into();
        (event.upload.version_id, event.upload.size) = (Some(version), 11);
        let err = handler(LambdaEvent::new(event, Default::default()), &store, &config::SharedConfig::embedded())
            .await
            .unwrap_err();
        let d = lambda_runtime::Diagnostic::from(err);
        assert_eq!(d.error_type, "WorkbookInvalid");
        assert!(d.error_message.contains("not a spreadsheet"), "{}", d.error_message);
    }
}
