//! The rehearsal of the deployed shape on loopback: the workbook is uploaded to a real S3
//! protocol server (moto's), the real `trigger` binary gets the S3 event through the Lambda
//! Invoke API (`cargo lambda watch`) and starts the execution on moto's Step Functions, and the
//! engine then runs that execution — its name and input as moto recorded them — with every Task
//! invoking the real `parse`, `diagnose` and `aggregate` binaries, and the Distributed Map's
//! ItemReader and ResultWriter on the same S3.
//!
//! What the binaries need is in their environment, as on AWS: `scripts/rehearse` starts
//! `cargo lambda watch` with `BUCKET_NAME`, `STAGE`, `STATE_MACHINE_ARN` and the endpoints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use engine::{Executor, StateMachine, SystemClock};
use flow::ObjectStore;
use flow::start::ExecutionInput;
use serde::Serialize;
use serde_json::{Value, json};

use crate::clients::{Clients, REHEARSAL_REGION};
use crate::invoke::{FunctionCalls, LambdaFunctions};
use crate::storage::S3Storage;

/// The state machine's name on moto when none is given; `scripts/rehearse` gives the trigger
/// its ARN (`arn:aws:states:us-east-1:123456789012:stateMachine:substation-rehearsal`).
pub const DEFAULT_STATE_MACHINE: &str = "substation-rehearsal";
/// The trigger's function name (its binary's).
pub const TRIGGER_FUNCTION: &str = "trigger";

/// What a rehearsal runs against.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    /// The CLI's own clients (set-up, upload, download).
    pub clients: Clients,
    /// The S3 client of the Distributed Map's ItemReader and ResultWriter (Step Functions' own
    /// requests on AWS).
    pub states_s3: aws_sdk_s3::Client,
    /// The bucket the binaries were started with (`BUCKET_NAME`).
    pub bucket: String,
    pub stage: String,
    /// The name of the state machine the trigger starts (its `STATE_MACHINE_ARN`).
    pub state_machine: String,
    /// The definition, as built into the program (or another one to try).
    pub definition: String,
    pub config: Arc<config::SharedConfig>,
}

/// Why a rehearsal could not run.
#[derive(Debug, thiserror::Error)]
pub enum RehearsalError {
    #[error("{service} at the rehearsal's endpoint: {message}")]
    Service { service: &'static str, message: String },
    #[error("the trigger did not start a run for {key}: {detail}")]
    NotStarted { key: String, detail: String },
    #[error("the state machine cannot run: {0}")]
    Definition(String),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn service<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    service: &'static str,
) -> impl Fn(aws_sdk_s3::error::SdkError<E, R>) -> RehearsalError {
    move |e| {
        let (code, message) = lambda::describe_sdk_error(&e);
        RehearsalError::Service { service, message: format!("{code}: {message}") }
    }
}

fn store_error(service: &'static str) -> impl Fn(flow::StoreError) -> RehearsalError {
    move |e| RehearsalError::Service { service, message: e.to_string() }
}

/// The trigger's answer for one S3 record (functions/trigger: `RecordOutcome`).
#[derive(Debug, Clone, serde::Deserialize)]
struct TriggerOutcome {
    run_id: Option<String>,
    outcome: String,
    detail: String,
}

/// A rehearsed run.
#[derive(Debug)]
pub struct RehearsedRun {
    /// The execution moto's Step Functions recorded (the trigger's StartExecution).
    pub execution_arn: String,
    pub input: ExecutionInput,
    /// The engine's run of it.
    pub result: engine::ExecutionResult,
    /// The Lambda functions' calls, by function (the trigger's included).
    pub calls: BTreeMap<String, FunctionCalls>,
}

/// Figures of a rehearsed run, as a deployed run would be billed for them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RehearsalCounts {
    pub child_executions: u64,
    /// The parent's states entered plus one per child started (shared/reference
    /// aws-step-functions.md §7).
    pub state_transitions: u64,
    pub lambda_invocations: u64,
    pub functions: BTreeMap<String, FunctionCalls>,
}

impl RehearsedRun {
    pub fn counts(&self) -> RehearsalCounts {
        let children = self.result.stats.child_executions;
        RehearsalCounts {
            child_executions: children,
            state_transitions: self.result.stats.states.len() as u64 + children,
            lambda_invocations: self.calls.values().map(|c| c.invocations).sum(),
            functions: self.calls.clone(),
        }
    }
}

/// S3 event keys are form-URL-encoded (a space is `+`); `flow::start::decode_s3_key` reads them.
pub fn encode_s3_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The notification S3 sends for a new object (event version 2.1, as documented in
/// shared/reference/aws-step-functions.md §4.2).
pub fn s3_event(bucket: &str, key: &str, size: u64, etag: Option<&str>, version_id: Option<&str>) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REHEARSAL_REGION,
        "eventTime": now,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:REHEARSAL"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "REHEARSAL", "x-amz-id-2": "REHEARSAL"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "substation-uploads",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "REHEARSAL"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encode_s3_key(key), "size": size, "eTag": etag.map(|e| e.trim_matches('"')),
                "versionId": version_id, "sequencer": "0000000000000000"}
        }
    }]})
}

impl Rehearsal {
    /// A rehearsal on the servers at `endpoints`.
    pub fn new(
        endpoints: &crate::Endpoints,
        bucket: &str,
        stage: &str,
        state_machine: &str,
        definition: String,
        config: Arc<config::SharedConfig>,
    ) -> Self {
        Rehearsal {
            clients: Clients::loopback(endpoints, crate::clients::CLI_APP),
            states_s3: Clients::loopback(endpoints, crate::clients::STATES_APP).s3,
            bucket: bucket.to_owned(),
            stage: stage.to_owned(),
            state_machine: state_machine.to_owned(),
            definition,
            config,
        }
    }

    /// The bucket (versioned, as the stack's), the stage's history table and the state machine,
    /// created on the servers where missing. Returns the state machine's ARN.
    pub async fn prepare(&self) -> Result<String, RehearsalError> {
        let c = &self.clients;
        if c.s3.head_bucket().bucket(&self.bucket).send().await.is_err() {
            c.s3.create_bucket().bucket(&self.bucket).send().await.map_err(service("S3 CreateBucket"))?;
        }
        let versioning = aws_sdk_s3::types::VersioningConfiguration::builder()
            .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
            .build();
        c.s3.put_bucket_versioning()
            .bucket(&self.bucket)
            .versioning_configuration(versioning)
            .send()
            .await
            .map_err(service("S3 PutBucketVersioning"))?;
        let table = &self.config.stage(&self.stage)?.history.table_name;
        if c.dynamodb.describe_table().table_name(table).send().await.is_err() {
            lambda::DynamoHistory::create_table(&c.dynamodb, table)
                .await
                .map_err(|message| RehearsalError::Service { service: "DynamoDB CreateTable", message })?;
        }
        let machines = c.sfn.list_state_machines().send().await.map_err(service("Step Functions ListStateMachines"))?;
        if let Some(m) = machines.state_machines().iter().find(|m| m.name() == self.state_machine) {
            return Ok(m.state_machine_arn().to_owned());
        }
        // moto keeps the definition without running it: the names substituted as CloudFormation would.
        let mut definition = self.definition.clone();
        for (name, value) in self.config.substitution_values(&self.bucket) {
            definition = definition.replace(&format!("${{{name}}}"), &value);
        }
        let created = c
            .sfn
            .create_state_machine()
            .name(&self.state_machine)
            .definition(definition)
            .role_arn("arn:aws:iam::123456789012:role/substation-rehearsal")
            .r#type(aws_sdk_sfn::types::StateMachineType::Standard)
            .send()
            .await
            .map_err(service("Step Functions CreateStateMachine"))?;
        Ok(created.state_machine_arn().to_owned())
    }

    /// Uploads the workbook under `uploads/`, lets the real trigger start the execution on the
    /// server, and runs that execution in the engine with the real binaries. `adjust` may change
    /// the recorded input before it runs (the CLI's `--max-concurrency`, `--batch-size`).
    pub async fn run(
        &self,
        file_name: &str,
        bytes: Vec<u8>,
        adjust: impl FnOnce(&mut ExecutionInput),
    ) -> Result<RehearsedRun, RehearsalError> {
        let c = &self.clients;
        let key = format!("{}{file_name}", self.config.upload_prefix);
        let size = bytes.len() as u64;
        let put =
            c.s3.put_object()
                .bucket(&self.bucket)
                .key(&key)
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map_err(service("S3 PutObject"))?;
        let functions = LambdaFunctions::new(c.lambda.clone());

        // The trigger, as S3 invokes it.
        let event = s3_event(&self.bucket, &key, size, put.e_tag(), put.version_id());
        let answer = functions.invoke(TRIGGER_FUNCTION, engine::Event::Value(event)).await.map_err(|e| {
            RehearsalError::NotStarted { key: key.clone(), detail: format!("{}: {}", e.error_type, e.error_message) }
        })?;
        let outcomes: Vec<TriggerOutcome> = serde_json::from_value(answer.clone()).map_err(|_| {
            RehearsalError::NotStarted { key: key.clone(), detail: format!("the trigger answered {answer}") }
        })?;
        let outcome = outcomes
            .into_iter()
            .next()
            .ok_or_else(|| RehearsalError::NotStarted { key: key.clone(), detail: "no record".into() })?;
        if outcome.outcome != "started" {
            return Err(RehearsalError::NotStarted {
                key,
                detail: format!("{} ({}): {}", outcome.outcome, outcome.run_id.unwrap_or_default(), outcome.detail),
            });
        }
        // The trigger answers the execution's ARN: what Step Functions recorded is what runs.
        let execution_arn = outcome.detail;
        let described = c
            .sfn
            .describe_execution()
            .execution_arn(&execution_arn)
            .send()
            .await
            .map_err(service("Step Functions DescribeExecution"))?;
        let name = described.name().unwrap_or_default().to_owned();
        let mut input: ExecutionInput = serde_json::from_str(described.input().unwrap_or("{}"))
            .map_err(|e| RehearsalError::Definition(format!("the recorded input is not an execution input: {e}")))?;
        adjust(&mut input);

        let machine =
            StateMachine::load(&self.state_machine, &self.definition, &self.config.substitution_values(&self.bucket))
                .map_err(|e| RehearsalError::Definition(e.to_string()))?;
        let mut executor =
            Executor::new(Arc::new(SystemClock)).with_storage(Arc::new(S3Storage(self.states_s3.clone())));
        for step in ["parse", "diagnose", "aggregate"] {
            executor.register(step, functions.handler(step));
        }
        let executor = executor.record_history(false);
        let input_value = serde_json::to_value(&input).map_err(|e| RehearsalError::Definition(e.to_string()))?;
        let result = executor
            .start(&machine, &name, input_value)
            .await
            .map_err(|e| RehearsalError::Definition(format!("{}: {}", e.error, e.cause)))?;
        Ok(RehearsedRun { execution_arn, input, result, calls: functions.calls() })
    }

    /// Copies `results/<run>/` from the bucket into `out/results/<run>/`, so that the local
    /// summary's paths open. Returns the files copied.
    pub async fn download_results(&self, run_id: &str, out: &Path) -> Result<Vec<PathBuf>, RehearsalError> {
        let store = lambda::S3Store::new(self.clients.s3.clone(), &self.bucket);
        let prefix = flow::layout::RunLayout::new(run_id, &self.config).results_prefix().to_owned();
        let keys = store.list(&prefix).await.map_err(store_error("S3 ListObjectsV2"))?;
        let mut written = Vec::new();
        for key in keys {
            let body = store.get(&key).await.map_err(store_error("S3 GetObject"))?;
            let path = out.join(&key);
            let io = |source| RehearsalError::Io { path: path.clone(), source };
            std::fs::create_dir_all(path.parent().unwrap_or(out)).map_err(io)?;
            std::fs::write(&path, body).map_err(io)?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_are_form_encoded_as_s3_sends_them() {
        for key in ["uploads/Fleet 2026 Q3.xlsx", "uploads/Störung+1 (ä).xlsx", "uploads/a/b.xlsx"] {
            let encoded = encode_s3_key(key);
            assert!(!encoded.contains(' '), "{encoded}");
            assert_eq!(flow::start::decode_s3_key(&encoded), key);
        }
        assert_eq!(encode_s3_key("uploads/a b.xlsx"), "uploads/a+b.xlsx");
    }

    #[test]
    fn the_event_reads_as_the_trigger_reads_it() {
        let e = s3_event("b", "uploads/x y.xlsx", 10, Some("\"abc\""), Some("v1"));
        let event: aws_lambda_events::s3::S3Event = serde_json::from_value(e).unwrap();
        let object = &event.records[0].s3.object;
        assert_eq!(object.key.as_deref(), Some("uploads/x+y.xlsx"));
        assert_eq!(
            (object.version_id.as_deref(), object.e_tag.as_deref(), object.size),
            (Some("v1"), Some("abc"), Some(10))
        );
        assert_eq!(event.records[0].s3.bucket.name.as_deref(), Some("b"));
    }
}
