//! Conformance with AWS's documented behaviour (shared/reference/aws-step-functions.md and the
//! AWS examples it cites): processing order, the Lambda wrapper and error mapping, Retry on a
//! virtual clock, Catch, Choice, Parallel, inline Map, limits, names, refusals, history.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use engine::{Executor, HandlerError, StateMachine, VirtualClock, handler};
use serde_json::{Value, json};

fn clock() -> Arc<VirtualClock> {
    Arc::new(VirtualClock::new(chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z").unwrap().into()))
}

fn machine(def: Value) -> StateMachine {
    StateMachine::load("sm", &def.to_string(), &BTreeMap::new()).unwrap()
}

fn hello() -> engine::exec::Handler {
    handler(|input: Value| async move { Ok(json!(format!("Hello, {}!", input["who"].as_str().unwrap_or("?")))) })
}

async fn run(exec: &Executor, def: Value, input: Value) -> engine::ExecutionResult {
    exec.start(&machine(def), "run-1", input).await.unwrap()
}

/// AWS doc "InputPath, ResultPath and OutputPath example": the function sees the InputPath
/// selection, the result lands in the raw input at ResultPath, OutputPath filters.
#[tokio::test]
async fn processing_order_aws_example() {
    let mut exec = Executor::new(clock());
    exec.register("HelloFunction", hello());
    let def = json!({"StartAt": "Lambda", "States": {"Lambda": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction",
        "InputPath": "$.lambda", "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data", "End": true}}});
    let input = json!({"comment": "An input comment.", "data": {"val1": 23, "val2": 17}, "extra": "foo", "lambda": {"who": "AWS Step Functions"}});
    let r = run(&exec, def, input).await;
    assert_eq!(r.output, Some(json!({"val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"})));
}

/// AWS doc ResultPath examples: `$.taskresult` adds, `null` discards, `$` replaces.
#[tokio::test]
async fn result_path_forms() {
    let mut exec = Executor::new(clock());
    exec.register("HelloFunction", hello());
    let input = json!({"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"});
    for (rp, expected) in [
        (json!("$.taskresult"), {
            let mut v = input.clone();
            v["taskresult"] = json!("Hello, AWS Step Functions!");
            v
        }),
        (Value::Null, input.clone()),
        (json!("$"), json!("Hello, AWS Step Functions!")),
    ] {
        let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction", "ResultPath": rp, "End": true}}});
        let exec_name = format!("r{}", rp.as_str().map_or(0, |s| s.len()));
        let r = exec.start(&machine(def), &exec_name, input.clone()).await.unwrap();
        assert_eq!(r.output, Some(expected), "ResultPath {rp}");
    }
}

/// The optimized integration wraps the payload; ResultSelector reads from the wrapper.
#[tokio::test]
async fn lambda_invoke_wrapper_and_result_selector() {
    let mut exec = Executor::new(clock());
    exec.register("fn", handler(|v: Value| async move { Ok(json!({"echo": v})) }));
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:fn:live", "Payload.$": "$"},
        "ResultPath": "$.raw", "End": true},
    }});
    let r = run(&exec, def, json!({"a": 1})).await;
    assert_eq!(
        r.output,
        Some(json!({"a": 1, "raw": {"ExecutedVersion": "$LATEST", "Payload": {"echo": {"a": 1}}, "StatusCode": 200}}))
    );
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "fn", "Payload": {"x.$": "$.a"}}, "ResultSelector": {"got.$": "$.Payload.echo.x"}, "End": true}}});
    let exec2 = {
        let mut e = Executor::new(clock());
        e.register("fn", handler(|v: Value| async move { Ok(json!({"echo": v})) }));
        e
    };
    assert_eq!(run(&exec2, def, json!({"a": 7})).await.output, Some(json!({"got": 7})));
}

fn flaky(failures: u32, error: &'static str) -> (engine::exec::Handler, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let h = handler(move |_v: Value| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < failures {
                Err(HandlerError { error_type: error.into(), error_message: format!("failure {n}") })
            } else {
                Ok(json!({"ok": n}))
            }
        }
    });
    (h, calls)
}

/// Retry on the virtual clock: 2 s, ×2 backoff, capped by MaxDelaySeconds; the error that
/// outlives its retries is caught with Error and Cause (a JSON string) merged at ResultPath.
#[tokio::test]
async fn retry_backoff_then_catch() {
    let c = clock();
    let mut exec = Executor::new(c.clone());
    let (h, calls) = flaky(100, "StorageUnavailable");
    exec.register("f", h);
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f", "Payload": {}},
              "Retry": [{"ErrorEquals": ["StorageUnavailable"], "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 2, "MaxDelaySeconds": 10}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Pass", "End": true}}});
    let r = run(&exec, def, json!({"keep": true})).await;
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    assert_eq!(c.sleeps(), [2, 4, 8, 10].map(Duration::from_secs));
    let out = r.output.unwrap();
    assert_eq!(out["keep"], true);
    assert_eq!(out["error"]["Error"], "StorageUnavailable");
    let cause: Value = serde_json::from_str(out["error"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause, json!({"errorType": "StorageUnavailable", "errorMessage": "failure 4"}));
}

/// Transient errors are retried and succeed; each retrier counts its own attempts.
#[tokio::test]
async fn per_retrier_counters_and_success_after_retries() {
    let c = clock();
    let mut exec = Executor::new(c.clone());
    let (h, calls) = flaky(2, "Lambda.ServiceException");
    exec.register("f", h);
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "local:f",
        "Retry": [
            {"ErrorEquals": ["Other"], "IntervalSeconds": 100, "MaxAttempts": 1},
            {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 3}
        ], "End": true}}});
    let r = run(&exec, def, json!({})).await;
    assert_eq!((r.status, calls.load(Ordering::SeqCst)), ("SUCCEEDED", 3));
    assert_eq!(c.sleeps(), [1, 3].map(Duration::from_secs));
    // MaxAttempts 0 never retries.
    let (h, calls) = flaky(1, "E");
    let mut exec = Executor::new(clock());
    exec.register("f", h);
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "local:f", "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 0}], "End": true}}});
    let r = run(&exec, def, json!({})).await;
    assert_eq!((r.status, calls.load(Ordering::SeqCst)), ("FAILED", 1));
    assert_eq!(r.error.unwrap().error, "E");
}

/// States.ALL does not catch States.Runtime nor States.DataLimitExceeded; Retry does not retry
/// them.
#[tokio::test]
async fn terminal_errors_are_not_caught() {
    let mut exec = Executor::new(clock());
    exec.register("big", handler(|_v: Value| async move { Ok(json!("x".repeat(300_000))) }));
    let catch_all = json!([{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]);
    let retry_all = json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]);
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "local:big", "Retry": retry_all, "Catch": catch_all, "End": true},
        "Caught": {"Type": "Succeed"}}});
    let r = run(&exec, def, json!({})).await;
    assert_eq!(r.error.unwrap().error, "States.DataLimitExceeded");
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Pass", "InputPath": "$.missing", "Next": "Caught"}, "Caught": {"Type": "Succeed"}}});
    let r = exec.start(&machine(def), "r2", json!({})).await.unwrap();
    assert_eq!(r.error.unwrap().error, "States.Runtime");
}

#[tokio::test]
async fn choice_wait_fail_and_pass() {
    let c = clock();
    let exec = Executor::new(c.clone());
    let def = json!({"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"And": [{"Variable": "$.s", "IsPresent": true}, {"Variable": "$.s", "StringMatches": "a*"}], "Next": "Wait"}
        ], "Default": "Fail"},
        "Big": {"Type": "Pass", "Result": {"size": "big"}, "ResultPath": "$.result", "End": true},
        "Wait": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Fail": {"Type": "Fail", "ErrorPath": "$.why", "Cause": "nothing matched"}}});
    let r = exec.start(&machine(def.clone()), "a", json!({"n": 11})).await.unwrap();
    assert_eq!(r.output, Some(json!({"n": 11, "result": {"size": "big"}})));
    let r = exec.start(&machine(def.clone()), "b", json!({"n": 1, "s": "abc", "wait": 30})).await.unwrap();
    assert_eq!(r.status, "SUCCEEDED");
    assert_eq!(c.sleeps(), [Duration::from_secs(30)]);
    let r = exec.start(&machine(def.clone()), "c", json!({"n": 1, "why": "Custom.Error"})).await.unwrap();
    assert_eq!(r.error, Some(engine::StatesError::new("Custom.Error", "nothing matched")));
    let def = json!({"StartAt": "Pick", "States": {"Pick": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "X"}]}, "X": {"Type": "Succeed"}}});
    let r = exec.start(&machine(def), "d", json!({"n": 2})).await.unwrap();
    assert_eq!(r.error.unwrap().error, "States.NoChoiceMatched");
}

#[tokio::test]
async fn parallel_and_inline_map() {
    let mut exec = Executor::new(clock());
    exec.register("double", handler(|v: Value| async move { Ok(json!(v.as_i64().unwrap_or(0) * 2)) }));
    let def = json!({"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
            {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.nums",
                "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "base.$": "$.base"},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "D", "States": {
                    "D": {"Type": "Task", "Resource": "local:double", "InputPath": "$.value", "End": true}}},
                "End": true}}}
        ], "ResultSelector": {"letter.$": "$[0]", "doubled.$": "$[1]"}, "End": true}}});
    let r = run(&exec, def, json!({"nums": [1, 2, 3], "base": 10})).await;
    assert_eq!(r.output, Some(json!({"letter": "a", "doubled": [2, 4, 6]})));
    // The legacy Iterator/Parameters form.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "Parameters": {"i.$": "$$.Map.Item.Index"},
        "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let r = exec.start(&machine(def), "legacy", json!(["x", "y"])).await.unwrap();
    assert_eq!(r.output, Some(json!([{"i": 0}, {"i": 1}])));
}

#[tokio::test]
async fn names_timeouts_and_history() {
    let mut exec = Executor::new(clock());
    exec.register("never", handler(|_v: Value| std::future::pending::<Result<Value, HandlerError>>()));
    exec.register("HelloFunction", hello());
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "local:never", "TimeoutSeconds": 5, "End": true}}});
    let m = machine(def);
    let r = exec.start(&m, "timeout", json!({})).await.unwrap();
    assert_eq!(r.error, Some(engine::StatesError::new("States.Timeout", "")));
    assert_eq!(exec.start(&m, "timeout", json!({})).await.unwrap_err().error, "ExecutionAlreadyExists");
    assert_eq!(exec.start(&m, "bad name!", json!({})).await.unwrap_err().error, "InvalidName");
    assert_eq!(exec.start(&m, &"x".repeat(81), json!({})).await.unwrap_err().error, "InvalidName");

    let def =
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "local:HelloFunction", "End": true}}});
    let r = exec.start(&machine(def), "hist", json!({"who": "x"})).await.unwrap();
    let names: Vec<&str> = r.history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        names,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn unsupported_definitions_are_refused_naming_state_and_field() {
    let subs = BTreeMap::new();
    let cases = [
        (json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}), "QueryLanguage"),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}),
            "Resource",
        ),
        (json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x": 1}, "End": true}}}), "Assign"),
        (json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Bogus": 1, "End": true}}}), "Bogus"),
        (json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}), "Next"),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Map", "ItemReader": {}, "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}, "End": true}}}),
            "ItemReader",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2"}, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}, "End": true}}}),
            "ItemReader.Resource",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "${Missing}"}, "End": true}}}),
            "${Missing}",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericFoo": 1, "Next": "A"}]}}}),
            "Choices",
        ),
    ];
    for (def, field) in cases {
        let err = StateMachine::load("sm", &def.to_string(), &subs).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
    // The real definition loads, with its substitutions.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../bulk-upload.asl.json")).unwrap();
    let subs: BTreeMap<String, String> =
        ["ParseFunctionArn", "DiagnoseFunctionArn", "AggregateFunctionArn", "BucketName"]
            .iter()
            .map(|n| (n.to_string(), format!("local-{n}")))
            .collect();
    StateMachine::load("bulk-upload", &text, &subs).unwrap();
}

/// `$$.State.*` inside the state (RetryCount counts the retries so far), `$$.Execution.*`,
/// InputPath/OutputPath null giving `{}`.
#[tokio::test]
async fn context_object_and_null_paths() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let mut exec = Executor::new(clock());
    exec.register(
        "f",
        handler(move |v: Value| {
            s.lock().unwrap().push(v);
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(HandlerError { error_type: "E".into(), error_message: String::new() })
                } else {
                    Ok(json!("done"))
                }
            }
        }),
    );
    let def = json!({"StartAt": "First", "States": {
        "First": {"Type": "Pass", "Parameters": {"state.$": "$$.State.Name", "execution.$": "$$.Execution.Name", "input.$": "$$.Execution.Input.x"}, "ResultPath": "$.ctx", "Next": "T"},
        "T": {"Type": "Task", "Resource": "local:f", "Parameters": {"retry.$": "$$.State.RetryCount", "state.$": "$$.State.Name"},
              "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 5, "IntervalSeconds": 1}], "ResultPath": null, "Next": "Nulls"},
        "Nulls": {"Type": "Pass", "InputPath": null, "Next": "Out"},
        "Out": {"Type": "Pass", "OutputPath": null, "End": true}}});
    let r = exec.start(&machine(def), "ctx-run", json!({"x": 42})).await.unwrap();
    assert_eq!(r.output, Some(json!({})));
    let payloads = seen.lock().unwrap().clone();
    assert_eq!(
        payloads,
        [json!({"retry": 0, "state": "T"}), json!({"retry": 1, "state": "T"}), json!({"retry": 2, "state": "T"})]
    );
    // The Pass state's context values, seen through a second run that stops after it.
    let def = json!({"StartAt": "First", "States": {"First": {"Type": "Pass", "Parameters": {"state.$": "$$.State.Name", "execution.$": "$$.Execution.Name", "input.$": "$$.Execution.Input.x"}, "End": true}}});
    let r = exec.start(&machine(def), "ctx-run-2", json!({"x": 42})).await.unwrap();
    assert_eq!(r.output, Some(json!({"state": "First", "execution": "ctx-run-2", "input": 42})));
}

/// `States.TaskFailed` matches everything but `States.Timeout`; a missing function is
/// `Lambda.ResourceNotFoundException`; FULL jitter waits somewhere in [0, interval].
#[tokio::test]
async fn error_name_rules_and_jitter() {
    let c = clock();
    let mut exec = Executor::new(c.clone());
    exec.register("never", handler(|_v: Value| std::future::pending::<Result<Value, HandlerError>>()));
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "local:never", "TimeoutSeconds": 1,
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"}, {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.e", "Next": "Right"}], "End": true},
        "Wrong": {"Type": "Fail", "Error": "Wrong"},
        "Right": {"Type": "Succeed"}}});
    let r = exec.start(&machine(def), "timeout-rules", json!({})).await.unwrap();
    assert_eq!(r.output, Some(json!({"e": {"Error": "States.Timeout", "Cause": ""}})));

    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "ghost", "Payload": {}},
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 10, "MaxAttempts": 3, "JitterStrategy": "FULL"}], "End": true}}});
    let r = exec.start(&machine(def), "ghost", json!({})).await.unwrap();
    assert_eq!(r.error.unwrap().error, "Lambda.ResourceNotFoundException");
    let sleeps: Vec<f64> = c.sleeps().iter().skip(1).map(Duration::as_secs_f64).collect();
    assert_eq!(sleeps.len(), 3);
    for (i, s) in sleeps.iter().enumerate() {
        assert!(*s >= 0.0 && *s <= 10.0 * 2f64.powi(i as i32), "{sleeps:?}");
    }
}

/// A failing Parallel branch fails the Parallel state with the branch's error, which its Catch
/// sees; an inline Map over a non-array is States.Runtime.
#[tokio::test]
async fn branch_errors_and_map_items() {
    let exec = Executor::new(clock());
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "Ok", "States": {"Ok": {"Type": "Succeed"}}},
            {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Branch.Boom", "Cause": "second branch"}}}
        ], "Catch": [{"ErrorEquals": ["Branch.Boom"], "ResultPath": "$.caught", "Next": "Done"}], "End": true},
        "Done": {"Type": "Succeed"}}});
    let r = exec.start(&machine(def), "branches", json!({"k": 1})).await.unwrap();
    assert_eq!(r.output, Some(json!({"k": 1, "caught": {"Error": "Branch.Boom", "Cause": "second branch"}})));
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.k",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let r = exec.start(&machine(def), "not-array", json!({"k": 1})).await.unwrap();
    assert_eq!(r.error.unwrap().error, "States.Runtime");
}
