//! `status` and `redrive` against a deployed stack's APIs: DescribeExecution, the stack's
//! outputs and the summary on moto's server (loopback); ListMapRuns, DescribeMapRun and
//! RedriveExecution answered with recorded responses, because moto answers the first two with
//! empty results and does not implement the third. The recorded bodies follow the Step
//! Functions API reference's response syntax (docs.aws.amazon.com/step-functions/latest/apireference:
//! ListMapRuns, DescribeMapRun, RedriveExecution), field for field.

use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use aws_smithy_types::body::SdkBody;
use remote::deployed::Deployed;
use remote::testing::{BUCKET, HISTORY_TABLE, MotoStack, STATE_MACHINE_ARN as SM};

fn http(status: u16, body: &'static str) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::try_from(
        http::Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .body(SdkBody::from(body))
            .unwrap(),
    )
    .unwrap()
}

/// The Step Functions client whose answers are `rules`, in order.
fn recorded(rules: &[&Rule]) -> aws_sdk_sfn::Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_sfn::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sfn::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    aws_sdk_sfn::Client::from_conf(conf)
}

/// The stack on moto, with one execution started as the trigger does; `map_runs` answers the
/// Map Run calls.
async fn deployed(stack: &MotoStack, map_runs: &[&Rule]) -> (Deployed, String) {
    stack.deploy().await;
    let started = stack
        .clients
        .sfn
        .start_execution()
        .state_machine_arn(SM)
        .name("fleet-xlsx-0a1b2c3d4e5f")
        .input("{}")
        .send()
        .await
        .unwrap();
    let mut d = Deployed::connect(stack.clients.clone(), "dev").await.unwrap();
    d.map_runs = recorded(map_runs);
    (d, started.execution_arn().to_owned())
}

const LIST_MAP_RUNS: &str = r#"{"mapRuns":[{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:substation-dev-bulk-upload:fleet-xlsx-0a1b2c3d4e5f","mapRunArn":"arn:aws:states:us-east-1:123456789012:mapRun:substation-dev-bulk-upload/DiagnoseAssets:6a2f3b0e-1c4d-4e5f-8a9b-0c1d2e3f4a5b","startDate":1764806400.123,"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:substation-dev-bulk-upload/DiagnoseAssets"}]}"#;

const DESCRIBE_MAP_RUN: &str = r#"{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:substation-dev-bulk-upload:fleet-xlsx-0a1b2c3d4e5f","executionCounts":{"aborted":0,"failed":1,"failuresNotRedrivable":0,"pending":40,"pendingRedrive":0,"resultsWritten":59,"running":10,"succeeded":49,"timedOut":0,"total":100},"itemCounts":{"aborted":0,"failed":1,"failuresNotRedrivable":0,"pending":40,"pendingRedrive":0,"resultsWritten":59,"running":10,"succeeded":49,"timedOut":0,"total":100},"mapRunArn":"arn:aws:states:us-east-1:123456789012:mapRun:substation-dev-bulk-upload/DiagnoseAssets:6a2f3b0e-1c4d-4e5f-8a9b-0c1d2e3f4a5b","maxConcurrency":10,"redriveCount":0,"startDate":1764806400.123,"status":"RUNNING","toleratedFailureCount":0,"toleratedFailurePercentage":0.0}"#;

#[tokio::test]
async fn status_reads_the_execution_its_map_run_and_the_summary() {
    let stack = MotoStack::start();
    let list = mock!(aws_sdk_sfn::Client::list_map_runs).then_http_response(|| http(200, LIST_MAP_RUNS));
    let describe = mock!(aws_sdk_sfn::Client::describe_map_run).then_http_response(|| http(200, DESCRIBE_MAP_RUN));
    let (d, arn) = deployed(&stack, &[&list, &describe]).await;

    // By run id as by ARN.
    let v = d.status("fleet-xlsx-0a1b2c3d4e5f").await.unwrap();
    assert_eq!((v.execution_arn.as_str(), v.status.as_str(), v.running()), (arn.as_str(), "RUNNING", true));
    let m = v.map_run.expect("the recorded Map Run");
    assert_eq!((m.total, m.succeeded, m.failed, m.running, m.pending), (100, 49, 1, 10, 40));
    assert_eq!(m.status, "RUNNING");
    assert!(v.summary.is_none(), "no summary before the aggregate");
    assert!(v.console.contains("us-east-1.console.aws.amazon.com") && v.console.ends_with(&arn));
}

#[tokio::test]
async fn a_run_without_a_map_run_yet_has_none() {
    let stack = MotoStack::start();
    // What moto itself answers, and AWS before the Map starts.
    let list = mock!(aws_sdk_sfn::Client::list_map_runs).then_http_response(|| http(200, r#"{"mapRuns":[]}"#));
    let (d, arn) = deployed(&stack, &[&list]).await;
    let v = d.status(&arn).await.unwrap();
    assert_eq!(v.map_run, None);
}

#[tokio::test]
async fn redrive_answers_its_date_or_why_not() {
    let stack = MotoStack::start();
    let ok = mock!(aws_sdk_sfn::Client::redrive_execution)
        .then_http_response(|| http(200, r#"{"redriveDate":1764810000.5}"#));
    let refused = mock!(aws_sdk_sfn::Client::redrive_execution).then_http_response(|| {
        http(400, r#"{"__type":"com.amazonaws.swf.service.v2.model#ExecutionNotRedrivable","message":"Execution is RUNNING and cannot be redriven"}"#)
    });
    let (d, _) = deployed(&stack, &[&ok, &refused]).await;
    assert!(d.redrive("fleet-xlsx-0a1b2c3d4e5f").await.unwrap().starts_with("2025-12-04T"));
    let e = d.redrive("fleet-xlsx-0a1b2c3d4e5f").await.unwrap_err().to_string();
    assert!(e.contains("ExecutionNotRedrivable") && e.contains("cannot be redriven"), "{e}");
}

#[tokio::test]
async fn the_stack_is_found_by_its_outputs() {
    let stack = MotoStack::start();
    let cfn = &stack.clients.cloudformation;
    let missing = remote::deployed::find_stack(cfn, "dev").await.unwrap_err().to_string();
    assert!(missing.contains("no stack Substation-dev"), "{missing}");
    stack.deploy().await;
    let s = remote::deployed::find_stack(cfn, "dev").await.unwrap();
    assert_eq!((s.bucket.as_str(), s.state_machine_arn.as_str()), (BUCKET, SM));
    assert_eq!(s.history_table.as_deref(), Some(HISTORY_TABLE));
}
