//! The trigger Lambda: each S3 `ObjectCreated` record under `uploads/` starts one execution of
//! the state machine, named by the deterministic run id. A duplicate delivery of the same object
//! meets `ExecutionAlreadyExists`: already started, not an error.
//!
//! An event S3 could not deliver (the trigger failed three times) waits in the stack's failure
//! queue as Lambda's on-failure destination record; invoking the trigger with that record, as it
//! is, replays the S3 event inside it (`cdk/scripts/replay-dropped-uploads.sh`).

use aws_lambda_events::s3::S3Event;
use flow::start::{SubmitError, Submitted, Upload, decode_s3_key, submit};
use lambda::StepFunctions;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::{Deserialize, Serialize};

/// The state machine to start (set by the CDK stack).
const STATE_MACHINE_ENV: &str = "STATE_MACHINE_ARN";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Started,
    /// The same object was delivered again: its execution already exists.
    AlreadyStarted,
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct RecordOutcome {
    key: String,
    run_id: Option<String>,
    outcome: Outcome,
    detail: String,
}

#[derive(Debug, thiserror::Error)]
enum TriggerError {
    #[error("the S3 record has no {0}")]
    RecordInvalid(&'static str),
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("StartExecution for '{name}' failed: {code}: {message}")]
    StartFailed { name: String, code: String, message: String },
}

impl From<TriggerError> for Diagnostic {
    fn from(e: TriggerError) -> Diagnostic {
        let error_type = match &e {
            TriggerError::RecordInvalid(_) => "EventInvalid",
            TriggerError::Config(_) => "ConfigurationInvalid",
            // Throttling and service errors: S3 retries the asynchronous invocation, then the
            // event goes to the on-failure destination (see the CDK stack).
            TriggerError::StartFailed { .. } => "StartExecutionFailed",
        };
        Diagnostic { error_type: error_type.into(), error_message: e.to_string() }
    }
}

/// What invokes the trigger: S3's notification, or an operator replaying the on-failure
/// destination record of one (its `requestPayload` is the original S3 event).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TriggerEvent {
    // First: an S3Event would also accept a destination record, with no records.
    Replayed {
        #[serde(rename = "requestPayload")]
        request_payload: S3Event,
    },
    S3(S3Event),
}

impl TriggerEvent {
    fn into_s3(self) -> S3Event {
        match self {
            TriggerEvent::Replayed { request_payload } => request_payload,
            TriggerEvent::S3(event) => event,
        }
    }
}

fn upload_of(record: &aws_lambda_events::s3::S3EventRecord) -> Result<Upload, TriggerError> {
    let s3 = &record.s3;
    Ok(Upload {
        bucket: s3.bucket.name.clone().ok_or(TriggerError::RecordInvalid("bucket name"))?,
        key: decode_s3_key(s3.object.key.as_deref().ok_or(TriggerError::RecordInvalid("object key"))?),
        size: s3.object.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        etag: s3.object.e_tag.clone(),
        version_id: s3.object.version_id.clone(),
        event_time: record.event_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

async fn handler(
    event: LambdaEvent<TriggerEvent>,
    sfn: &StepFunctions,
    stage: &str,
    config: &config::SharedConfig,
) -> Result<Vec<RecordOutcome>, TriggerError> {
    let mut outcomes = Vec::new();
    for record in &event.payload.into_s3().records {
        let upload = upload_of(record)?;
        let (run_id, outcome, detail) = match submit(sfn, &upload, stage, config, |_| {}).await {
            Ok(Submitted::Ignored(why)) => {
                tracing::info!(key = %upload.key, reason = %why, "upload ignored");
                (None, Outcome::Ignored, why)
            }
            Ok(Submitted::Started { input, execution }) => (Some(input.run_id), Outcome::Started, execution),
            Ok(Submitted::AlreadyExists { input }) => (
                Some(input.run_id),
                Outcome::AlreadyStarted,
                "ExecutionAlreadyExists: this upload was already processed".to_owned(),
            ),
            Err(SubmitError::Config(e)) => return Err(e.into()),
            Err(SubmitError::Start { name, source }) => {
                return Err(TriggerError::StartFailed { name, code: source.code, message: source.message });
            }
        };
        tracing::info!(run_id = ?run_id, key = %upload.key, outcome = ?outcome, "trigger");
        outcomes.push(RecordOutcome { key: upload.key, run_id, outcome, detail });
    }
    Ok(outcomes)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let arn = std::env::var(STATE_MACHINE_ENV).map_err(|_| format!("{STATE_MACHINE_ENV} is not set"))?;
    let stage = std::env::var(lambda::STAGE_ENV).unwrap_or_else(|_| "dev".into());
    let config = config::SharedConfig::embedded();
    config.stage(&stage)?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sfn = StepFunctions::new(aws_sdk_sfn::Client::new(&aws), arn);
    let (sfn, stage, config) = (&sfn, stage.as_str(), &config);
    lambda_runtime::run(service_fn(move |event| handler(event, sfn, stage, config))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
    use aws_sdk_sfn::types::error::ExecutionAlreadyExists;
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};

    const ARN: &str = "arn:aws:states:eu-west-1:123456789012:stateMachine:substation-dev-bulk-upload";

    /// The real SFN client, its HTTP layer answered by the recorded responses of `rules`. (Built
    /// by hand rather than with `mock_client!`, which needs the SDK's `test-util` feature.)
    fn sfn_with(rules: &[&Rule]) -> StepFunctions {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let conf = aws_sdk_sfn::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sfn::config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_sfn::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .build();
        StepFunctions::new(aws_sdk_sfn::Client::from_conf(conf), ARN)
    }

    fn event(fixture: &str) -> LambdaEvent<TriggerEvent> {
        LambdaEvent::new(serde_json::from_str(fixture).unwrap(), Default::default())
    }

    /// StartExecution's answer for a new execution.
    fn started() -> StartExecutionOutput {
        StartExecutionOutput::builder()
            .execution_arn(format!("{ARN}:exec"))
            .start_date(aws_sdk_sfn::primitives::DateTime::from_secs(0))
            .build()
            .unwrap()
    }

    const PUT: &str = include_str!("../../../tests/fixtures/events/s3-put-space-plus-korean.json");

    #[tokio::test]
    async fn a_new_upload_starts_one_named_execution() {
        let rule = mock!(aws_sdk_sfn::Client::start_execution)
            .match_requests(|r| {
                r.state_machine_arn() == Some(ARN)
                    && r.name().is_some_and(|n| n.starts_with("Fleet-2026-Q3-spare-"))
                    && r.input().is_some_and(|i| i.contains("\"uploads/Fleet 2026 Q3 + spare 변전소.XLSX\""))
            })
            .then_output(started);
        let sfn = sfn_with(&[&rule]);
        let out = handler(event(PUT), &sfn, "dev", &config::SharedConfig::embedded()).await.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].outcome, Outcome::Started);
        assert_eq!(out[0].key, "uploads/Fleet 2026 Q3 + spare 변전소.XLSX");
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_duplicate_delivery_is_already_started_not_an_error() {
        let rule = mock!(aws_sdk_sfn::Client::start_execution).then_error(|| {
            StartExecutionError::ExecutionAlreadyExists(
                ExecutionAlreadyExists::builder().message("Execution Already Exists: 'arn:...'").build(),
            )
        });
        let sfn = sfn_with(&[&rule]);
        let out = handler(event(PUT), &sfn, "dev", &config::SharedConfig::embedded()).await.unwrap();
        assert_eq!(out[0].outcome, Outcome::AlreadyStarted);
    }

    #[tokio::test]
    async fn throttling_fails_the_invocation_so_s3_retries() {
        let rule = mock!(aws_sdk_sfn::Client::start_execution).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
            )
        });
        let sfn = sfn_with(&[&rule]);
        let err = handler(event(PUT), &sfn, "dev", &config::SharedConfig::embedded()).await.unwrap_err();
        let d = Diagnostic::from(err);
        assert_eq!(d.error_type, "StartExecutionFailed");
        assert!(d.error_message.contains("ThrottlingException"), "{}", d.error_message);
    }

    #[tokio::test]
    async fn a_non_workbook_is_ignored_without_calling_step_functions() {
        let rule = mock!(aws_sdk_sfn::Client::start_execution)
            .then_output(|| StartExecutionOutput::builder().build().unwrap());
        let sfn = sfn_with(&[&rule]);
        let fixture = include_str!("../../../tests/fixtures/events/s3-put-not-a-workbook.json");
        let out = handler(event(fixture), &sfn, "dev", &config::SharedConfig::embedded()).await.unwrap();
        assert_eq!(out[0].outcome, Outcome::Ignored);
        assert_eq!(rule.num_calls(), 0);
    }

    /// A replay: the failure queue's message body, sent as it is, starts the same execution the
    /// original event would have (so a replay of an upload that did start is a duplicate).
    #[tokio::test]
    async fn a_failure_queue_record_replays_the_s3_event_inside_it() {
        let replayed = include_str!("../../../tests/fixtures/events/trigger-failure-record.json");
        let config = config::SharedConfig::embedded();
        let mut names = Vec::new();
        for fixture in [replayed, PUT] {
            let rule = mock!(aws_sdk_sfn::Client::start_execution)
                .match_requests(|r| r.state_machine_arn() == Some(ARN))
                .then_output(started);
            let out = handler(event(fixture), &sfn_with(&[&rule]), "dev", &config).await.unwrap();
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].outcome, Outcome::Started);
            assert_eq!(rule.num_calls(), 1);
            names.push(out[0].run_id.clone().unwrap());
        }
        assert!(names[0].starts_with("Fleet-2026-Q3-spare-"), "{}", names[0]);
        assert_eq!(names[0], names[1]);
    }
}
