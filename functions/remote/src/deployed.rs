//! A deployed stack, from an engineer's shell: `submit` uploads a workbook under `uploads/` and
//! finds the execution the trigger starts by its deterministic name (the run id, computed by the
//! same `flow::start` code the trigger runs); `status` reads an execution, its Map Run's item
//! counts and the run's `results/<run>/summary.json`; `redrive` redrives a failed execution.
//! The stack's bucket and state machine come from its CloudFormation outputs.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use flow::ObjectStore;
use flow::aggregate::Summary;
use flow::start::{StartDecision, Upload};
use serde::Serialize;

use crate::clients::Clients;

/// The CDK app's stack name of a stage (cdk/bin/substation.ts).
pub fn stack_name(stage: &str) -> String {
    format!("Substation-{stage}")
}

/// What `submit` and `status` need of the stack, from its outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stack {
    pub name: String,
    /// Output `BucketName`.
    pub bucket: String,
    /// Output `StateMachineArn`.
    pub state_machine_arn: String,
    /// Output `HistoryTableName` (absent in a stack deployed before it existed).
    pub history_table: Option<String>,
}

/// Why a command against the stack failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployedError {
    #[error(
        "no stack {stack}: deploy it first (cdk/README: npm run deploy -- -c stage=…), or check the region and credentials ({message})"
    )]
    NoStack { stack: String, message: String },
    #[error("the stack {stack} has no output {output}: is it a Substation stack, and fully deployed?")]
    NoOutput { stack: String, output: &'static str },
    #[error("{action}: {code}: {message}")]
    Aws { action: &'static str, code: String, message: String },
    #[error("{0}")]
    NotARun(String),
    #[error(
        "the trigger has not started {run_id} after {waited_s} s: look at the trigger's logs (/aws/lambda/…-trigger) and the failure queue"
    )]
    NotStarted { run_id: String, waited_s: u64 },
    #[error(transparent)]
    Config(#[from] config::ConfigError),
}

fn aws<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    action: &'static str,
) -> impl Fn(SdkError<E, R>) -> DeployedError {
    move |e| {
        let (code, message) = lambda::describe_sdk_error(&e);
        DeployedError::Aws { action, code, message }
    }
}

/// The stack of `stage`, from CloudFormation.
pub async fn find_stack(cfn: &aws_sdk_cloudformation::Client, stage: &str) -> Result<Stack, DeployedError> {
    let name = stack_name(stage);
    let out = cfn.describe_stacks().stack_name(&name).send().await.map_err(|e| DeployedError::NoStack {
        stack: name.clone(),
        message: e.as_service_error().and_then(|s| s.message()).map(str::to_owned).unwrap_or_else(|| e.to_string()),
    })?;
    let outputs = out.stacks().first().map(|s| s.outputs()).unwrap_or_default();
    let output = |key: &'static str| {
        outputs
            .iter()
            .find(|o| o.output_key() == Some(key))
            .and_then(|o| o.output_value().map(str::to_owned))
            .ok_or_else(|| DeployedError::NoOutput { stack: name.clone(), output: key })
    };
    Ok(Stack {
        bucket: output("BucketName")?,
        state_machine_arn: output("StateMachineArn")?,
        history_table: output("HistoryTableName").ok(),
        name: name.clone(),
    })
}

/// An execution's ARN from its state machine's and its name (the run id).
pub fn execution_arn(state_machine_arn: &str, run_id: &str) -> String {
    format!("{}:{run_id}", state_machine_arn.replacen(":stateMachine:", ":execution:", 1))
}

/// The console page of an execution.
pub fn console_link(execution_arn: &str) -> String {
    let region = execution_arn.split(':').nth(3).unwrap_or("us-east-1");
    format!(
        "https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
    )
}

/// An upload `submit` made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub key: String,
    pub version_id: Option<String>,
    pub run_id: String,
    pub execution_arn: String,
    pub console: String,
}

/// The Map Run's item counts (DescribeMapRun `itemCounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MapRunCounts {
    pub map_run_arn: String,
    pub status: String,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub running: i64,
    pub pending: i64,
    pub timed_out: i64,
    pub aborted: i64,
}

/// An execution as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub run_id: String,
    pub execution_arn: String,
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE.
    pub status: String,
    pub started: Option<String>,
    pub stopped: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub redrive_count: Option<i32>,
    pub map_run: Option<MapRunCounts>,
    /// `results/<run>/summary.json`, once the aggregate wrote it.
    pub summary: Option<Summary>,
    pub console: String,
    pub bucket: String,
}

impl RunView {
    /// Whether the execution is still going.
    pub fn running(&self) -> bool {
        running(&self.status)
    }
}

/// Whether an execution of this status is still going.
fn running(status: &str) -> bool {
    matches!(status, "RUNNING" | "PENDING_REDRIVE")
}

/// The stack's clients. `map_runs` is the client of ListMapRuns, DescribeMapRun and
/// RedriveExecution: the same as `clients.sfn` on AWS; tests answer those calls with recorded
/// responses, since moto's server answers the first two empty and lacks the third.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub clients: Clients,
    pub map_runs: aws_sdk_sfn::Client,
    pub stack: Stack,
    pub stage: String,
    pub config: config::SharedConfig,
}

fn date(d: Option<&aws_sdk_sfn::primitives::DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(aws_sdk_sfn::primitives::DateTimeFormat::DateTime).ok())
}

impl Deployed {
    /// The stack of `stage`, found with `clients`.
    pub async fn connect(clients: Clients, stage: &str) -> Result<Deployed, DeployedError> {
        let stack = find_stack(&clients.cloudformation, stage).await?;
        Ok(Deployed {
            map_runs: clients.sfn.clone(),
            clients,
            stack,
            stage: stage.to_owned(),
            config: config::SharedConfig::embedded(),
        })
    }

    /// A run id or an execution ARN, as an execution ARN of the stack's state machine.
    pub fn execution_arn(&self, run: &str) -> String {
        if run.starts_with("arn:") { run.to_owned() } else { execution_arn(&self.stack.state_machine_arn, run) }
    }

    /// Uploads the workbook under `uploads/`; its run id is the one the trigger will name the
    /// execution with (the bucket, key and version, as in the S3 event).
    pub async fn submit(&self, file_name: &str, bytes: Vec<u8>) -> Result<Submission, DeployedError> {
        let key = format!("{}{file_name}", self.config.upload_prefix);
        let size = bytes.len() as u64;
        // Refused before the upload: a file the trigger would ignore.
        let probe = Upload {
            bucket: self.stack.bucket.clone(),
            key: key.clone(),
            size,
            etag: None,
            version_id: None,
            event_time: String::new(),
        };
        if let StartDecision::Ignore(why) = flow::start::start(&probe, &self.stage, &self.config)? {
            return Err(DeployedError::NotARun(why));
        }
        let put = self
            .clients
            .s3
            .put_object()
            .bucket(&self.stack.bucket)
            .key(&key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(aws("S3 PutObject"))?;
        let upload = Upload {
            version_id: put.version_id().map(str::to_owned),
            etag: put.e_tag().map(str::to_owned),
            event_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ..probe
        };
        let StartDecision::Start(input) = flow::start::start(&upload, &self.stage, &self.config)? else {
            return Err(DeployedError::NotARun(format!("{key} is not a run")));
        };
        let execution_arn = execution_arn(&self.stack.state_machine_arn, &input.run_id);
        Ok(Submission {
            key,
            version_id: upload.version_id,
            run_id: input.run_id,
            console: console_link(&execution_arn),
            execution_arn,
        })
    }

    /// Waits until the trigger has started the execution (S3 notifies within seconds).
    pub async fn wait_started(
        &self,
        execution_arn: &str,
        run_id: &str,
        timeout: Duration,
    ) -> Result<(), DeployedError> {
        let started = std::time::Instant::now();
        loop {
            match self.clients.sfn.describe_execution().execution_arn(execution_arn).send().await {
                Ok(_) => return Ok(()),
                Err(SdkError::ServiceError(e)) if e.err().is_execution_does_not_exist() => {}
                Err(e) => return Err(aws("Step Functions DescribeExecution")(e)),
            }
            if started.elapsed() >= timeout {
                return Err(DeployedError::NotStarted { run_id: run_id.to_owned(), waited_s: timeout.as_secs() });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The execution, its Map Run's counts and the run's summary.
    pub async fn status(&self, run: &str) -> Result<RunView, DeployedError> {
        let arn = self.execution_arn(run);
        let e = self
            .clients
            .sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .map_err(aws("Step Functions DescribeExecution"))?;
        let run_id = e.name().unwrap_or_default().to_owned();
        let map_run = self.map_run(&arn).await?;
        let running = running(e.status().as_str());
        // The aggregate writes the summary as the run ends: a followed run is not read for it
        // every poll.
        let summary = if running { None } else { self.summary(&run_id).await };
        Ok(RunView {
            run_id,
            status: e.status().as_str().to_owned(),
            started: date(Some(e.start_date())),
            stopped: date(e.stop_date()),
            error: e.error().map(str::to_owned),
            cause: e.cause().map(str::to_owned),
            redrive_count: e.redrive_count(),
            map_run,
            summary,
            console: console_link(&arn),
            execution_arn: arn,
            bucket: self.stack.bucket.clone(),
        })
    }

    /// `results/<run>/summary.json`, when written.
    async fn summary(&self, run_id: &str) -> Option<Summary> {
        let layout = flow::layout::RunLayout::new(run_id, &self.config);
        let store = lambda::S3Store::new(self.clients.s3.clone(), &self.stack.bucket);
        serde_json::from_slice(&store.get(&layout.summary()).await.ok()?).ok()
    }

    /// The execution's (latest) Map Run and its item counts, once it has one.
    pub async fn map_run(&self, execution_arn: &str) -> Result<Option<MapRunCounts>, DeployedError> {
        let runs = self
            .map_runs
            .list_map_runs()
            .execution_arn(execution_arn)
            .send()
            .await
            .map_err(aws("Step Functions ListMapRuns"))?;
        // Newest first: a retried Map is a new Map Run.
        let Some(latest) = runs.map_runs().iter().max_by_key(|m| m.start_date().secs()) else { return Ok(None) };
        let d = self
            .map_runs
            .describe_map_run()
            .map_run_arn(latest.map_run_arn())
            .send()
            .await
            .map_err(aws("Step Functions DescribeMapRun"))?;
        let c = d.item_counts();
        Ok(Some(MapRunCounts {
            map_run_arn: d.map_run_arn().to_owned(),
            status: d.status().as_str().to_owned(),
            total: c.map(|c| c.total()).unwrap_or_default(),
            succeeded: c.map(|c| c.succeeded()).unwrap_or_default(),
            failed: c.map(|c| c.failed()).unwrap_or_default(),
            running: c.map(|c| c.running()).unwrap_or_default(),
            pending: c.map(|c| c.pending()).unwrap_or_default(),
            timed_out: c.map(|c| c.timed_out()).unwrap_or_default(),
            aborted: c.map(|c| c.aborted()).unwrap_or_default(),
        }))
    }

    /// The stage's history table (output `HistoryTableName`; the stage's configured name for a
    /// stack deployed before the output existed).
    pub fn history(&self) -> Result<lambda::DynamoHistory, DeployedError> {
        let table = match &self.stack.history_table {
            Some(t) => t.clone(),
            None => self.config.stage(&self.stage)?.history.table_name.clone(),
        };
        Ok(lambda::DynamoHistory::new(self.clients.dynamodb.clone(), table))
    }

    /// RedriveExecution: the failed execution goes on from its failed state (Step Functions
    /// reruns only what did not succeed). Returns when it was redriven.
    pub async fn redrive(&self, run: &str) -> Result<String, DeployedError> {
        let arn = self.execution_arn(run);
        let out = self
            .map_runs
            .redrive_execution()
            .execution_arn(&arn)
            .send()
            .await
            .map_err(aws("Step Functions RedriveExecution"))?;
        Ok(date(Some(out.redrive_date())).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_links() {
        let sm = "arn:aws:states:eu-west-1:123456789012:stateMachine:substation-dev-bulk-upload";
        let e = execution_arn(sm, "fleet-xlsx-0a1b2c3d4e5f");
        assert_eq!(
            e,
            "arn:aws:states:eu-west-1:123456789012:execution:substation-dev-bulk-upload:fleet-xlsx-0a1b2c3d4e5f"
        );
        assert!(console_link(&e).starts_with("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#"));
        assert_eq!(stack_name("prod"), "Substation-prod");
    }
}
