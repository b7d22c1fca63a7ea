//! What the four Lambda binaries share: the S3 implementation of the object store, stable
//! `errorType` names for Step Functions' Retry and Catch, and JSON logs. Each binary's `main`
//! only wires these to its `flow` step.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use flow::{FlowError, ObjectStore, ObjectWriter, StoreError};
use lambda_runtime::Diagnostic;

pub mod history_dynamodb;
#[doc(hidden)]
pub mod testing;
pub use history_dynamodb::DynamoHistory;

/// The bucket behind the store: Lambdas get it from `BUCKET_NAME` (set by the CDK stack).
pub const BUCKET_ENV: &str = "BUCKET_NAME";
/// The stage whose tunables apply (`dev`, `staging`, `prod`).
pub const STAGE_ENV: &str = "STAGE";

/// The object store on S3: one bucket, keys as the local layout.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Store { client, bucket: bucket.into() }
    }

    /// From the Lambda environment: region and credentials from the runtime, bucket from
    /// `BUCKET_NAME`.
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let bucket = std::env::var(BUCKET_ENV).map_err(|_| format!("{BUCKET_ENV} is not set"))?;
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(S3Store::new(aws_sdk_s3::Client::new(&config), bucket))
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `GetObject`, of one version when given (a deleted or unknown version is `NotFound`).
    async fn get_object(&self, key: &str, version_id: Option<&str>) -> Result<Vec<u8>, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| {
                if let SdkError::ServiceError(s) = &e
                    && (s.err().is_no_such_key() || s.err().code() == Some("NoSuchVersion"))
                {
                    return StoreError::NotFound { key: key.to_owned() };
                }
                unavailable(key, &e)
            })?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable { key: key.to_owned(), message: e.to_string() })?;
        Ok(bytes.into_bytes().to_vec())
    }
}

/// The Content-Type an object is stored with, from its key's extension, so that a browser opens
/// a result in place (report.html from the S3 console or a presigned link, not a download):
/// JSON Lines as `application/x-ndjson`, anything unknown as `application/octet-stream`.
pub fn content_type(key: &str) -> &'static str {
    if key.ends_with(".jsonl") {
        return "application/x-ndjson";
    }
    mime_guess::from_path(key).first_raw().unwrap_or("application/octet-stream")
}

/// An SDK error as a person reads it: the service's code and message, or, when no answer came
/// (a dispatch or timeout error), `Unreachable` and the first 300 characters of what happened.
pub fn describe_sdk_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: &SdkError<E, R>,
) -> (String, String) {
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            (err.code().unwrap_or("ServiceError").to_owned(), err.message().unwrap_or("").to_owned())
        }
        other => ("Unreachable".to_owned(), format!("{other:?}").chars().take(300).collect()),
    }
}

fn unavailable<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    key: &str,
    e: &SdkError<E, R>,
) -> StoreError {
    let message = match describe_sdk_error(e) {
        (code, message) if matches!(e, SdkError::ServiceError(_)) => format!("{code}: {message}"),
        (_, message) => message,
    };
    StoreError::Unavailable { key: key.to_owned(), message }
}

pub use flow::store::PART_BYTES;

/// An S3 object written part by part: a single PUT when it stays under one part, else a
/// multipart upload (aborted if a part fails; the bucket's lifecycle rule removes any left).
#[derive(Debug)]
pub struct S3Writer {
    store: S3Store,
    key: String,
    buffer: Vec<u8>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
}

impl S3Writer {
    async fn upload_part(&mut self) -> Result<(), StoreError> {
        let (client, bucket, key) = (&self.store.client, &self.store.bucket, self.key.as_str());
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let out = client
                    .create_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .content_type(content_type(key))
                    .send()
                    .await
                    .map_err(|e| unavailable(key, &e))?;
                let id = out.upload_id().unwrap_or_default().to_owned();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = self.parts.len() as i32 + 1;
        let body = std::mem::take(&mut self.buffer);
        let sent = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await;
        match sent {
            Ok(out) => {
                self.parts.push(
                    CompletedPart::builder().set_e_tag(out.e_tag().map(str::to_owned)).part_number(number).build(),
                );
                Ok(())
            }
            Err(e) => {
                let _ = client.abort_multipart_upload().bucket(bucket).key(key).upload_id(&upload_id).send().await;
                Err(unavailable(key, &e))
            }
        }
    }
}

impl ObjectWriter for S3Writer {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.buffer.extend_from_slice(chunk);
        if self.buffer.len() >= PART_BYTES {
            self.upload_part().await?;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<(), StoreError> {
        if self.upload_id.is_none() {
            return self.store.put(&self.key, std::mem::take(&mut self.buffer)).await;
        }
        if !self.buffer.is_empty() {
            self.upload_part().await?;
        }
        let (client, bucket, key) = (&self.store.client, &self.store.bucket, self.key.as_str());
        let upload_id = self.upload_id.clone().unwrap_or_default();
        client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder().set_parts(Some(std::mem::take(&mut self.parts))).build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(key, &e))
    }
}

impl ObjectStore for S3Store {
    type Writer = S3Writer;

    async fn writer(&self, key: &str) -> Result<S3Writer, StoreError> {
        // The client is a handle (cloning it shares its connections).
        Ok(S3Writer {
            store: self.clone(),
            key: key.to_owned(),
            buffer: Vec::new(),
            upload_id: None,
            parts: Vec::new(),
        })
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.get_object(key, None).await
    }

    async fn get_version(&self, key: &str, version_id: &str) -> Result<Vec<u8>, StoreError> {
        self.get_object(key, Some(version_id)).await
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type(key))
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(key, &e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable(prefix, &e))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        keys.sort();
        Ok(keys)
    }
}

/// The executions port on Step Functions: `StartExecution` on one state machine, with
/// `ExecutionAlreadyExists` (the same name and input started before) as the port's answer, not an
/// error.
#[derive(Debug, Clone)]
pub struct StepFunctions {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

impl StepFunctions {
    pub fn new(client: aws_sdk_sfn::Client, state_machine_arn: impl Into<String>) -> Self {
        StepFunctions { client, state_machine_arn: state_machine_arn.into() }
    }
}

/// `StartExecution` failed (throttled, denied, the service down): the code and message AWS gave.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StartExecutionError {
    /// AWS's error code, e.g. `ThrottlingException`.
    pub code: String,
    /// AWS's message.
    pub message: String,
}

impl flow::start::Executions for StepFunctions {
    /// The execution's ARN.
    type Execution = String;
    type Error = StartExecutionError;

    async fn start(
        &self,
        name: &str,
        input: &flow::start::ExecutionInput,
    ) -> Result<flow::start::StartOutcome<String>, StartExecutionError> {
        use flow::start::StartOutcome;
        let body = serde_json::to_string(input)
            .map_err(|e| StartExecutionError { code: "InputInvalid".into(), message: e.to_string() })?;
        let sent = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(body)
            .send()
            .await;
        match sent {
            Ok(out) => Ok(StartOutcome::Started(out.execution_arn().to_owned())),
            Err(SdkError::ServiceError(e)) if e.err().is_execution_already_exists() => Ok(StartOutcome::AlreadyExists),
            Err(e) => Err(StartExecutionError {
                code: e.code().unwrap_or("Unknown").to_owned(),
                message: e.message().unwrap_or("").to_owned(),
            }),
        }
    }
}

/// A step's error as the Lambda runtime reports it: `errorType` is the stable name the ASL's
/// Retry and Catch match (`WorkbookInvalid`, `InputTooLarge`, `StorageUnavailable`, …).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StepError(#[from] pub FlowError);

impl From<StepError> for Diagnostic {
    fn from(e: StepError) -> Diagnostic {
        Diagnostic { error_type: e.0.error_type().to_owned(), error_message: e.0.to_string() }
    }
}

impl From<serde_json::Error> for StepError {
    fn from(e: serde_json::Error) -> Self {
        StepError(FlowError::InputInvalid(e.to_string()))
    }
}

/// Set by Lambda from the function's application log level when its log format is JSON (the
/// CDK stack sets that level from the stage's `log_level`; an operator may change it in the
/// console without a deploy).
pub const LAMBDA_LOG_LEVEL_ENV: &str = "AWS_LAMBDA_LOG_LEVEL";

/// JSON logs (CloudWatch), level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else the stage's
/// `log_level`.
pub fn init_logging() {
    let stage = std::env::var(STAGE_ENV).unwrap_or_else(|_| "dev".into());
    let level = log_level(std::env::var(LAMBDA_LOG_LEVEL_ENV).ok().as_deref(), &stage);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).without_time().try_init();
}

/// The tracing filter for Lambda's level name (`TRACE`…`FATAL`) or, without one, the stage's.
fn log_level(lambda_level: Option<&str>, stage: &str) -> String {
    match lambda_level.map(str::to_ascii_lowercase).as_deref() {
        Some(l @ ("trace" | "debug" | "info" | "warn" | "error")) => l.to_owned(),
        Some("fatal") => "error".to_owned(),
        _ => {
            config::SharedConfig::embedded().stage(stage).map(|s| s.log_level.clone()).unwrap_or_else(|_| "info".into())
        }
    }
}

/// The stage's shared configuration and DGA thresholds (the override file, if configured, is
/// read the same way as the CLI reads it).
pub fn load_settings() -> Result<(config::SharedConfig, dga::Thresholds), lambda_runtime::Error> {
    let config = config::SharedConfig::embedded();
    let thresholds = match std::env::var(dga::THRESHOLDS_ENV).ok().or_else(|| config.dga_thresholds_file.clone()) {
        Some(path) => dga::Thresholds::with_overrides(&std::fs::read_to_string(&path)?)?,
        None => dga::Thresholds::default(),
    };
    Ok((config, thresholds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lambda_log_level_wins_over_the_stage_and_fatal_maps_to_error() {
        assert_eq!(log_level(Some("WARN"), "dev"), "warn");
        assert_eq!(log_level(Some("FATAL"), "dev"), "error");
        // Unset or unknown: the stage's level from config/stages.json.
        let dev = config::SharedConfig::embedded().stage("dev").unwrap().log_level.clone();
        assert_eq!(log_level(None, "dev"), dev);
        assert_eq!(log_level(Some("loud"), "dev"), dev);
        assert_eq!(log_level(None, "nowhere"), "info");
    }
}
