//! AWS fidelity, one test per point, each naming what AWS recorded or documented. "LS snap" is a
//! LocalStack snapshot test recorded against real AWS (`@markers.aws.validated`), repository
//! localstack/localstack, `tests/aws/services/stepfunctions/`.

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::{Executor, MemoryStorage, StateMachine, VirtualClock, handler};
use serde_json::{Value, json};

fn exec() -> Executor {
    let mut e = Executor::new(Arc::new(VirtualClock::new(chrono::Utc::now())));
    e.register("echo", handler(|v: Value| async move { Ok(v) }));
    e
}

fn load(def: Value) -> Result<StateMachine, engine::DefinitionError> {
    StateMachine::load("sm", &def.to_string(), &BTreeMap::new())
}

async fn run(def: Value, input: Value) -> engine::ExecutionResult {
    exec().start(&load(def).unwrap(), "run", input).await.unwrap()
}

fn pass_with(params: Value) -> Value {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": params, "End": true}}})
}

/// Jayway reads `$.delivery-partner` as the member `delivery-partner` (LS snap
/// `test_map_state_item_selector`, 2023-07-19; RFC 9535 would refuse the path).
#[tokio::test]
async fn hyphenated_member_names_in_dot_notation() {
    let r = run(pass_with(json!({"p.$": "$.delivery-partner"})), json!({"delivery-partner": "UQS"})).await;
    assert_eq!(r.output, Some(json!({"p": "UQS"})));
}

/// `States.MathAdd` rounds each argument as Java's Math.round (LS snap
/// `test_math_operations.snapshot.json::test_math_add`, 2023-09-13) and, as the AWS guide says,
/// takes int32 values: outside that range it fails instead of wrapping.
#[tokio::test]
async fn math_add_rounds_as_java_and_never_wraps() {
    let cases = [
        ((-9.0, 3.0), -6),
        ((1.49, 1.5), 3),
        ((1.5, 1.51), 4),
        ((-1.49, -1.5), -2),
        ((-1.5, -1.51), -3),
        ((0.5, 0.0), 1),
        ((2.5, 0.0), 3),
        ((-0.5, 0.5), 1),
        ((-0.5, 0.0), 0),
        ((-2.5, 0.0), -2),
        ((-1.51, 0.0), -2),
    ];
    for ((a, b), sum) in cases {
        let r = run(pass_with(json!({"s.$": "States.MathAdd($.a, $.b)"})), json!({"a": a, "b": b})).await;
        assert_eq!(r.output, Some(json!({"s": sum})), "{a} + {b}");
    }
    let r = run(pass_with(json!({"s.$": "States.MathAdd($.a, 1)"})), json!({"a": 2_147_483_647})).await;
    assert_eq!(r.error.unwrap().error, "States.IntrinsicFailure");
}

/// `States.Format` inserts an object as Java's Map.toString writes it (LS snap
/// `test_generic.snapshot.json`, 2023-09-02); `States.StringToJson` of a blank string is null
/// (LS snap `test_json_manipulation.snapshot.json`).
#[tokio::test]
async fn format_of_an_object_and_blank_string_to_json() {
    let r = run(
        pass_with(
            json!({"f.$": "States.Format('fst={} and snd={}.', $.o, $.o)", "j.$": "States.StringToJson($.blank)"}),
        ),
        json!({"o": {"Arg1": 1, "Arg2": []}, "blank": " "}),
    )
    .await;
    assert_eq!(r.output, Some(json!({"f": "fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}.", "j": null})));
}

/// A Fail state's ErrorPath and CausePath may be intrinsics (AWS guide, state-fail.html; LS snap
/// `test_base.snapshot.json::test_state_fail_intrinsic`, 2024-02-07).
#[tokio::test]
async fn fail_error_and_cause_from_intrinsics() {
    let def = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "States.Format('{}', $.Error)",
        "CausePath": "States.Format('This is a custom error message for {}, caused by {}.', $.Error, $.Cause)"}}});
    let r = run(def, json!({"Error": "error string", "Cause": "cause string"})).await;
    assert_eq!(
        r.error,
        Some(engine::StatesError::new(
            "error string",
            "This is a custom error message for error string, caused by cause string."
        ))
    );
}

fn inline_map(extra: Value) -> Value {
    let mut m = json!({"Type": "Map", "ItemsPath": "$.Values",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
        "End": true});
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    json!({"StartAt": "M", "States": {"M": m}})
}

/// An inline Map takes MaxConcurrencyPath; a value that is not an integer fails with AWS's
/// cause (LS snap `test_base_scenarios.snapshot.json::test_max_concurrency_path`, 2024-06-19).
#[tokio::test]
async fn max_concurrency_path_on_an_inline_map() {
    let def = inline_map(json!({"MaxConcurrencyPath": "$.MaxConcurrencyValue"}));
    let r = run(def.clone(), json!({"Values": [1, 2], "MaxConcurrencyValue": 1})).await;
    assert_eq!(r.output, Some(json!([1, 2])));
    let r = run(def, json!({"Values": [1], "MaxConcurrencyValue": "NoNumber"})).await;
    let e = r.error.unwrap();
    assert_eq!(e.error, "States.Runtime");
    assert!(
        e.cause.ends_with(
            "The MaxConcurrencyPath field refers to value \"NoNumber\" which is not a valid integer: $.MaxConcurrencyValue"
        ),
        "{e}"
    );
}

/// The legacy `Parameters` of a Map is its item selector, beside an ItemProcessor (LS snap
/// `test_map_state_config_inline_parameters`, 2024-02-08).
#[tokio::test]
async fn map_parameters_with_an_item_processor() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
        "Parameters": {"constantValue": "constant", "mapValue.$": "$$.Map.Item.Value", "fromInput.$": "$"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "IteratorInner",
            "States": {"IteratorInner": {"Type": "Pass", "End": true}}}, "End": true}}});
    let r = run(def, json!(["Hello", "World"])).await;
    assert_eq!(
        r.output,
        Some(json!([
            {"constantValue": "constant", "mapValue": "Hello", "fromInput": ["Hello", "World"]},
            {"constantValue": "constant", "mapValue": "World", "fromInput": ["Hello", "World"]}
        ]))
    );
}

/// Waits AWS refuses: `Seconds` above 99,999,999 and a literal Timestamp that is not RFC 3339
/// are refused at load (cfn-lint#4075 quotes AWS's SCHEMA_VALIDATION_FAILED; LS snap
/// `test_wait_timestamp_invalid`, 2024-12-27); a bad TimestampPath value fails at run time with
/// AWS's cause (LS snap `test_wait_timestamp_path`, 2024-12-27).
#[tokio::test]
async fn waits_aws_refuses() {
    let wait = |w: Value| {
        let mut s = json!({"Type": "Wait", "End": true});
        for (k, v) in w.as_object().unwrap() {
            s[k] = v.clone();
        }
        json!({"StartAt": "W", "States": {"W": s}})
    };
    for bad in [
        json!({"Seconds": 100_000_000}),
        json!({"Seconds": -1}),
        json!({"Seconds": 1.5}),
        json!({"Timestamp": "2016-12-05T21:29:29"}),
    ] {
        assert!(load(wait(bad.clone())).is_err(), "{bad}");
    }
    let r =
        run(wait(json!({"TimestampPath": "$.TimestampValue"})), json!({"TimestampValue": "2016-12-05T21:29:29"})).await;
    let e = r.error.unwrap();
    assert_eq!(e.error, "States.Runtime");
    assert!(e.cause.ends_with("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.TimestampValue == 2016-12-05T21:29:29"), "{e}");
    // Huge, negative or fractional SecondsPath values are refused, never a panic.
    for v in [json!(-1), json!(1.5), json!(1e300)] {
        let r = run(wait(json!({"SecondsPath": "$.s"})), json!({"s": v})).await;
        assert_eq!(r.error.unwrap().error, "States.Runtime", "{v}");
    }
}

/// Retry values outside the ranges AWS validates are refused at load (AWS's ASL schema,
/// aws/amazon-states-language-service `common.json`: IntervalSeconds 0-99,999,999, MaxAttempts
/// 0-99,999,999, BackoffRate ≥ 1.0; MaxDelaySeconds below 31,622,401 per the AWS guide).
#[test]
fn retry_ranges() {
    let task = |retry: Value| json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "local:echo", "Retry": [retry], "End": true}}});
    for bad in [
        json!({"ErrorEquals": ["E"], "IntervalSeconds": -1}),
        json!({"ErrorEquals": ["E"], "MaxAttempts": 100_000_000}),
        json!({"ErrorEquals": ["E"], "BackoffRate": 0.5}),
        json!({"ErrorEquals": ["E"], "MaxDelaySeconds": 31_622_401}),
        json!({"ErrorEquals": ["E"], "MaxAttempts": 1.5}),
        json!({"ErrorEquals": []}),
    ] {
        let err = load(task(bad.clone())).unwrap_err();
        assert!(err.field.starts_with("Retry"), "{bad}: {err}");
    }
    assert!(
        load(task(json!({"ErrorEquals": ["E"], "IntervalSeconds": 5, "MaxAttempts": 99_999_999, "BackoffRate": 1.5})))
            .is_ok()
    );
}

/// A self-looping state stops where AWS stops it: at 25,000 history events, with AWS's error
/// (console output quoted in loads/ardere#86 and floci-io/floci#2734).
#[tokio::test]
async fn a_self_loop_stops_at_the_history_limit() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}});
    for record in [true, false] {
        let e = exec().record_history(record);
        let r = e.start(&load(def.clone()).unwrap(), "loop", json!({})).await.unwrap();
        assert_eq!(
            r.error,
            Some(engine::StatesError::new(
                "States.Runtime",
                "The execution reached the maximum number of history events (25000)."
            ))
        );
        assert!((25_000..25_010).contains(&r.stats.events), "{}", r.stats.events);
        assert_eq!(r.history.len() as u64, if record { r.stats.events } else { 0 });
    }
}

/// StartExecution refuses an input over 256 KiB (API reference: "Maximum length of 262144").
#[tokio::test]
async fn execution_input_over_256_kib_is_refused() {
    let m = load(pass_with(json!({}))).unwrap();
    let e = exec().start(&m, "big", json!({"x": "y".repeat(262_144)})).await.unwrap_err();
    assert_eq!(e.error, "States.DataLimitExceeded");
}

/// WriterConfig as the AWS ResultWriter guide's examples show it: each child returns an array;
/// COMPACT keeps the children's outputs with their array structure, FLATTEN flattens them one
/// level, and WriterConfig without Resource makes the formatted results the state's output. In
/// S3, COMPACT with OutputType JSONL writes one output per line.
#[tokio::test]
async fn writer_config_forms() {
    let storage = Arc::new(MemoryStorage::default());
    let items = json!([[{"customer_id": "145538", "order_id": "100000"}, {"customer_id": "898037", "order_id": "100001"}],
                       [{"customer_id": "169881", "order_id": "100002"}]]);
    storage.insert("items.json", items.to_string().into_bytes());
    let mut e = Executor::new(Arc::new(VirtualClock::new(chrono::Utc::now()))).with_storage(storage.clone());
    e.register("echo", handler(|v: Value| async move { Ok(v) }));
    let def = |writer: Value| {
        json!({"StartAt": "M", "States": {"M": {"Type": "Map",
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "items.json"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "T",
                "States": {"T": {"Type": "Task", "Resource": "local:echo", "End": true}}},
            "ResultWriter": writer, "End": true}}})
    };
    let m = load(def(json!({"WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSON"}}))).unwrap();
    assert_eq!(e.start(&m, "compact", json!({})).await.unwrap().output, Some(items.clone()));
    let m = load(def(json!({"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}))).unwrap();
    let flat: Vec<Value> = items.as_array().unwrap().iter().flat_map(|a| a.as_array().unwrap().clone()).collect();
    assert_eq!(e.start(&m, "flatten", json!({})).await.unwrap().output, Some(Value::Array(flat)));

    let m =
        load(def(json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "out"},
        "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}})))
        .unwrap();
    let out = e.start(&m, "jsonl", json!({})).await.unwrap().output.unwrap();
    let files = storage.objects();
    let manifest: Value = serde_json::from_slice(&files[out["ResultWriterDetails"]["Key"].as_str().unwrap()]).unwrap();
    let key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"].as_str().unwrap();
    let lines: Vec<Value> =
        std::str::from_utf8(&files[key]).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(Value::Array(lines), items);
}

/// A state looping through a Parallel nests its output one level per turn: the execution ends
/// at 1,000 levels (Jackson's default depth; that AWS keeps it is UNCONFIRMED) instead of
/// overflowing the stack, as a generated definition did.
#[tokio::test]
async fn nesting_without_end_stops() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Parallel", "Next": "A",
        "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}]}}});
    let r = exec().record_history(false).start(&load(def).unwrap(), "deep", json!({})).await.unwrap();
    let e = r.error.unwrap();
    assert_eq!(e.error, "States.Runtime");
    assert!(e.cause.contains("nested deeper than 1000 levels"), "{e}");
}

/// `MaxItemsPath` read at run time as AWS recorded it (LS snap
/// `test_map_item_reader_csv_max_items_paths`, 2024-03-25; shared/reference §1.2): `-1` is
/// `States.ItemReaderFailed` "field MaxItems must be positive"; `1.5` is `States.Runtime`, "The
/// MaxItemsPath field refers to value "1.5" which is not a valid integer: $.MaxItems".
#[tokio::test]
async fn max_items_path_values() {
    let storage = Arc::new(MemoryStorage::default());
    storage.insert("items.csv", b"a\n1\n2\n3\n".to_vec());
    let mut e = Executor::new(Arc::new(VirtualClock::new(chrono::Utc::now()))).with_storage(storage);
    e.register("echo", handler(|v: Value| async move { Ok(v) }));
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItemsPath": "$.MaxItems"},
            "Parameters": {"Bucket": "b", "Key": "items.csv"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": "local:echo", "End": true}}},
        "End": true}}});
    let m = load(def).unwrap();
    let r = e.start(&m, "two", json!({"MaxItems": 2})).await.unwrap();
    assert_eq!(r.output, Some(json!([{"a": "1"}, {"a": "2"}])));
    let r = e.start(&m, "negative", json!({"MaxItems": -1})).await.unwrap();
    assert_eq!(r.error, Some(engine::StatesError::new("States.ItemReaderFailed", "field MaxItems must be positive")));
    let r = e.start(&m, "fraction", json!({"MaxItems": 1.5})).await.unwrap();
    let err = r.error.unwrap();
    assert_eq!(err.error, "States.Runtime");
    assert!(
        err.cause.ends_with("The MaxItemsPath field refers to value \"1.5\" which is not a valid integer: $.MaxItems"),
        "{err}"
    );
}
