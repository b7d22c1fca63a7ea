//! Generated definitions and inputs, as an attacker or a careless author writes them: odd and
//! out-of-range numbers, paths that miss, loops, Maps of anything. Whatever is loaded runs to an
//! end — SUCCEEDED or FAILED — and nothing panics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use engine::{Executor, HandlerError, StateMachine, VirtualClock, handler};
use proptest::prelude::*;
use serde_json::{Value, json};

const NAMES: [&str; 4] = ["A", "B", "C", "D"];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(99_999_999)),
        Just(json!(i64::MAX)),
        Just(json!(u64::MAX)),
        Just(json!("3")),
        Just(Value::Null),
        (0u32..5).prop_map(|n| json!(n)),
    ]
}

fn path() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("$")),
        Just(json!("$.n")),
        Just(json!("$.list")),
        Just(json!("$.missing")),
        Just(json!("$.list[-1]")),
        Just(json!("$.list[*]")),
        Just(json!("$..n")),
        Just(json!("$$.Execution.Input")),
        Just(json!("$[")),
        Just(json!("nope")),
        Just(json!(3)),
    ]
}

fn target() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES.to_vec()).prop_map(str::to_owned)
}

fn state() -> impl Strategy<Value = Value> {
    let next = prop_oneof![target().prop_map(|t| json!({"Next": t})), Just(json!({"End": true}))];
    let kind = prop_oneof![
        Just(json!({"Type": "Pass"})),
        path().prop_map(|p| json!({"Type": "Pass", "Parameters": {"x.$": p}})),
        (path(), number()).prop_map(|(p, n)| json!({"Type": "Pass", "Parameters": {"s.$": format!("States.MathAdd({}, {})", p.as_str().unwrap_or("$.n"), n)}})),
        number().prop_map(|n| json!({"Type": "Wait", "Seconds": n})),
        path().prop_map(|p| json!({"Type": "Wait", "SecondsPath": p})),
        path().prop_map(|p| json!({"Type": "Wait", "TimestampPath": p})),
        (number(), number(), number()).prop_map(|(i, m, b)| json!({"Type": "Task", "Resource": "local:work",
            "TimeoutSeconds": 5, "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": i, "MaxAttempts": m, "BackoffRate": b}]})),
        number().prop_map(|t| json!({"Type": "Task", "Resource": "local:work", "TimeoutSeconds": t})),
        path().prop_map(|p| json!({"Type": "Task", "Resource": "local:work", "TimeoutSecondsPath": p})),
        (path(), target()).prop_map(|(p, t)| json!({"Type": "Choice", "Choices": [{"Variable": p, "NumericGreaterThan": 1, "Next": t}], "Default": t})),
        (path(), number()).prop_map(|(p, c)| json!({"Type": "Map", "ItemsPath": p, "MaxConcurrency": c,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Task", "Resource": "local:work", "End": true}}}})),
        path().prop_map(|p| json!({"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "InputPath": p, "End": true}}}]})),
        Just(json!({"Type": "Fail", "Error": "E", "CausePath": "$.n"})),
        Just(json!({"Type": "Succeed"})),
    ];
    (kind, next).prop_map(|(mut k, n)| {
        if !matches!(k["Type"].as_str(), Some("Choice" | "Succeed" | "Fail")) {
            for (key, v) in n.as_object().unwrap() {
                k[key] = v.clone();
            }
        }
        k
    })
}

fn definition() -> impl Strategy<Value = Value> {
    prop::collection::vec(state(), NAMES.len()).prop_map(|states| {
        let states: serde_json::Map<String, Value> = NAMES.iter().map(|n| n.to_string()).zip(states).collect();
        json!({"StartAt": "A", "States": states})
    })
}

fn input() -> impl Strategy<Value = Value> {
    (number(), prop::collection::vec(number(), 0..4)).prop_map(|(n, list)| json!({"n": n, "list": list}))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn every_loaded_definition_runs_to_an_end(def in definition(), input in input()) {
        let Ok(machine) = StateMachine::load("fuzz", &def.to_string(), &BTreeMap::new()) else { return Ok(()) };
        // A stack as large as a main thread's: a looping state may nest its output up to the
        // engine's 1,000-level limit, and a debug build walks such a value in deep frames.
        let result = std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
                runtime.block_on(async {
                    let mut exec = Executor::new(Arc::new(VirtualClock::new(chrono::Utc::now()))).record_history(false);
                    exec.register("work", handler(|v: Value| async move {
                        if v.get("n") == Some(&json!(0)) {
                            Err(HandlerError { error_type: "Zero".into(), error_message: "n is 0".into() })
                        } else {
                            Ok(v)
                        }
                    }));
                    tokio::time::timeout(Duration::from_secs(20), exec.start(&machine, "fuzz", input)).await
                })
            })
            .unwrap()
            .join()
            .expect("no panic");
        let result = result.expect("the execution ends (a loop ends at the history limit)");
        if let Ok(r) = result {
            prop_assert!(r.status == "SUCCEEDED" || r.status == "FAILED");
            prop_assert_eq!(r.output.is_some(), r.status == "SUCCEEDED");
        }
    }
}
