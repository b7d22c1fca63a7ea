//! The Distributed Map: ItemReader, ItemBatcher envelopes, concurrency bounded by
//! MaxConcurrency, tolerated failures, and the ResultWriter files in AWS's format.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use engine::{Executor, HandlerError, MemoryStorage, StateMachine, VirtualClock, handler};
use serde_json::{Value, json};

fn map_def(extra: Value) -> Value {
    let mut map = json!({
        "Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                       "Parameters": {"Bucket": "b", "Key.$": "$.key"}},
        "ItemBatcher": {"MaxItemsPerBatchPath": "$.per_batch", "BatchInput": {"run.$": "$.run"}},
        "MaxConcurrencyPath": "$.concurrency",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "Work",
            "States": {"Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "OutputPath": "$.Payload", "End": true}}},
        "Label": "Work",
        "End": true
    });
    for (k, v) in extra.as_object().unwrap() {
        map[k] = v.clone();
    }
    json!({"StartAt": "M", "States": {"M": map}})
}

fn setup(items: usize) -> (Arc<MemoryStorage>, Executor, Arc<AtomicUsize>) {
    let storage = Arc::new(MemoryStorage::default());
    let lines: String = (0..items).map(|i| format!("{{\"id\": {i}}}\n")).collect();
    storage.insert("items.jsonl", lines.into_bytes());
    let clock = Arc::new(VirtualClock::new(chrono::Utc::now()));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let (m, f) = (max_seen.clone(), in_flight.clone());
    let mut exec = Executor::new(clock).with_storage(storage.clone());
    exec.register(
        "work",
        handler(move |v: Value| {
            let (m, f) = (m.clone(), f.clone());
            async move {
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                f.fetch_sub(1, Ordering::SeqCst);
                if v["Items"].as_array().unwrap().iter().any(|i| i["id"] == 13) {
                    return Err(HandlerError { error_type: "Poison".into(), error_message: "item 13".into() });
                }
                Ok(json!({"run": v["BatchInput"]["run"], "ids": v["Items"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<_>>()}))
            }
        }),
    );
    (storage, exec, max_seen)
}

fn machine(def: Value) -> StateMachine {
    StateMachine::load("sm", &def.to_string(), &BTreeMap::new()).unwrap()
}

#[tokio::test]
async fn batches_run_concurrently_up_to_max_concurrency_without_a_result_writer() {
    let (_s, exec, max_seen) = setup(12);
    let r = exec
        .start(
            &machine(map_def(json!({}))),
            "r1",
            json!({"key": "items.jsonl", "per_batch": 5, "run": "x", "concurrency": 2}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, "SUCCEEDED");
    // 12 items, 5 per batch: 3 children, outputs in item order.
    assert_eq!(
        r.output,
        Some(
            json!([{"run": "x", "ids": [0, 1, 2, 3, 4]}, {"run": "x", "ids": [5, 6, 7, 8, 9]}, {"run": "x", "ids": [10, 11]}])
        )
    );
    assert_eq!(max_seen.load(Ordering::SeqCst), 2, "more than one child in flight, never more than MaxConcurrency");
    let names: Vec<&str> = r.history.iter().map(|e| e.event_type.as_str()).collect();
    assert!(names.windows(2).any(|w| w == ["MapStateStarted", "MapRunStarted"]), "{names:?}");
}

#[tokio::test]
async fn result_writer_files_and_tolerated_failures() {
    let (storage, exec, _) = setup(20);
    let def = map_def(json!({
        "ToleratedFailurePercentage": 50,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "runs/r/map"}}
    }));
    let r = exec
        .start(&machine(def), "r2", json!({"key": "items.jsonl", "per_batch": 5, "run": "x", "concurrency": 4}))
        .await
        .unwrap();
    let out = r.output.unwrap();
    let key = out["ResultWriterDetails"]["Key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("runs/r/map/") && key.ends_with("/manifest.json"), "{key}");
    let uuid = out["MapRunArn"].as_str().unwrap().rsplit(':').next().unwrap().to_owned();
    assert!(out["MapRunArn"].as_str().unwrap().contains(":mapRun:sm/Work:"));
    let files = storage.objects();
    let manifest: Value = serde_json::from_slice(&files[&key]).unwrap();
    assert_eq!(manifest["DestinationBucket"], "b");
    assert_eq!(manifest["ResultFiles"]["SUCCEEDED"][0]["Key"], format!("runs/r/map/{uuid}/SUCCEEDED_0.json"));
    assert_eq!(manifest["ResultFiles"]["PENDING"], json!([]));
    let succeeded: Vec<Value> = serde_json::from_slice(&files[&format!("runs/r/map/{uuid}/SUCCEEDED_0.json")]).unwrap();
    let failed: Vec<Value> = serde_json::from_slice(&files[&format!("runs/r/map/{uuid}/FAILED_0.json")]).unwrap();
    assert_eq!((succeeded.len(), failed.len()), (3, 1));
    // Every child started is counted, failed or not (one billed transition each on AWS).
    assert_eq!(r.stats.child_executions, 4);
    let rec = &succeeded[0];
    // Input and Output are JSON strings, as AWS writes them.
    let input: Value = serde_json::from_str(rec["Input"].as_str().unwrap()).unwrap();
    assert_eq!(input["BatchInput"], json!({"run": "x"}));
    assert!(serde_json::from_str::<Value>(rec["Output"].as_str().unwrap()).is_ok());
    assert_eq!((rec["Status"].as_str(), rec["RedriveStatus"].as_str()), (Some("SUCCEEDED"), Some("NOT_REDRIVABLE")));
    assert_eq!((failed[0]["Error"].as_str(), failed[0]["Status"].as_str()), (Some("Poison"), Some("FAILED")));
}

#[tokio::test]
async fn exceeding_the_tolerance_fails_the_map_run() {
    let (storage, exec, _) = setup(40);
    let def = map_def(json!({
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}},
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Partial"}]
    }));
    let mut def = def;
    def["States"]["M"].as_object_mut().unwrap().remove("End");
    def["States"]["M"]["Next"] = json!("Done");
    def["States"]["Partial"] = json!({"Type": "Pass", "End": true});
    def["States"]["Done"] = json!({"Type": "Succeed"});
    // One child at a time: the poison batch (the 3rd) fails and nothing after it starts.
    let r = exec
        .start(&machine(def), "r3", json!({"key": "items.jsonl", "per_batch": 5, "run": "x", "concurrency": 1}))
        .await
        .unwrap();
    let out = r.output.unwrap();
    assert_eq!(
        out["error"],
        json!({"Error": "States.ExceedToleratedFailureThreshold", "Cause": "The specified tolerated failure threshold was exceeded"})
    );
    let files = storage.objects();
    let manifest_key = files.keys().find(|k| k.ends_with("manifest.json")).unwrap().clone();
    let manifest: Value = serde_json::from_slice(&files[&manifest_key]).unwrap();
    let count = |status: &str| -> usize {
        manifest["ResultFiles"][status]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| serde_json::from_slice::<Vec<Value>>(&files[f["Key"].as_str().unwrap()]).unwrap().len())
            .sum()
    };
    assert_eq!((count("SUCCEEDED"), count("FAILED"), count("PENDING")), (2, 1, 5));
}

#[tokio::test]
async fn csv_items_are_strings() {
    let storage = Arc::new(MemoryStorage::default());
    storage.insert("i.csv", b"rating,movieId\n3.5,307\n4\n".to_vec());
    let mut exec = Executor::new(Arc::new(VirtualClock::new(chrono::Utc::now()))).with_storage(storage.clone());
    exec.register("work", handler(|v: Value| async move { Ok(v) }));
    let mut def = map_def(json!({}));
    def["States"]["M"]["ItemReader"]["ReaderConfig"]["InputType"] = json!("CSV");
    def["States"]["M"].as_object_mut().unwrap().remove("ItemBatcher");
    let r = exec.start(&machine(def.clone()), "csv", json!({"key": "i.csv", "concurrency": 1})).await.unwrap();
    assert_eq!(r.output, Some(json!([{"rating": "3.5", "movieId": "307"}, {"rating": "4", "movieId": ""}])));
    storage.insert("d.csv", b"a,a\n1,2\n".to_vec());
    let r = exec.start(&machine(def), "csv2", json!({"key": "d.csv", "concurrency": 1})).await.unwrap();
    assert_eq!(
        r.error.unwrap(),
        engine::StatesError::new("States.ItemReaderFailed", "CSV headers cannot contain duplicates.")
    );
}

/// AWS-recorded ItemReader cases (reference §1.2): a JSON file that is not a list fails with
/// `States.ItemReaderFailed`; `MaxItems` 2 keeps the first two, 0 means no limit; with an
/// ItemReader, ItemsPath has no effect and MapStateStarted's length is 0.
#[tokio::test]
async fn item_reader_recorded_cases() {
    let storage = Arc::new(MemoryStorage::default());
    storage.insert("obj.json", br#"{"not": "a list"}"#.to_vec());
    storage.insert("list.json", br#"[{"id": 0}, {"id": 1}, {"id": 2}]"#.to_vec());
    let mut exec = Executor::new(Arc::new(VirtualClock::new(chrono::Utc::now()))).with_storage(storage.clone());
    exec.register("work", handler(|v: Value| async move { Ok(v) }));
    let mut def = map_def(json!({"ItemsPath": "$.ignored"}));
    def["States"]["M"]["ItemReader"]["ReaderConfig"]["InputType"] = json!("JSON");
    def["States"]["M"].as_object_mut().unwrap().remove("ItemBatcher");
    let r = exec.start(&machine(def.clone()), "obj", json!({"key": "obj.json", "concurrency": 1})).await.unwrap();
    assert_eq!(
        r.error.unwrap(),
        engine::StatesError::new("States.ItemReaderFailed", "Attempting to map over non-iterable node.")
    );
    let r = exec
        .start(&machine(def.clone()), "all", json!({"key": "list.json", "concurrency": 1, "ignored": [9]}))
        .await
        .unwrap();
    assert_eq!(r.output, Some(json!([{"id": 0}, {"id": 1}, {"id": 2}])));
    let started = r.history.iter().find(|e| e.event_type == "MapStateStarted").unwrap();
    assert_eq!(started.details["length"], 0);
    for (max, expected) in [(2, json!([{"id": 0}, {"id": 1}])), (0, json!([{"id": 0}, {"id": 1}, {"id": 2}]))] {
        let mut d = def.clone();
        d["States"]["M"]["ItemReader"]["ReaderConfig"]["MaxItems"] = json!(max);
        let r =
            exec.start(&machine(d), &format!("max{max}"), json!({"key": "list.json", "concurrency": 1})).await.unwrap();
        assert_eq!(r.output, Some(expected), "MaxItems {max}");
    }
}

/// Items are planned from their lines' sizes without parsing them; a line that is not JSON, or
/// not UTF-8 (in a string, which a check of the JSON alone skips), still fails the Map run with
/// `States.ItemReaderFailed`, whether the items reach the child as text or as values (an
/// ItemSelector); a blank line is no item.
#[tokio::test]
async fn a_line_that_is_not_json_fails_the_item_reader() {
    let (storage, exec, _) = setup(0);
    storage.insert("bad.jsonl", b"{\"id\": 1}\n\n{\"id\": 2}\n{not json}\n".to_vec());
    let r = exec
        .start(
            &machine(map_def(json!({}))),
            "bad",
            json!({"key": "bad.jsonl", "per_batch": 1, "run": "x", "concurrency": 1}),
        )
        .await
        .unwrap();
    let e = r.error.unwrap();
    assert_eq!(e.error, "States.ItemReaderFailed");
    assert!(e.cause.contains("a JSONL line is not JSON"), "{e}");
    storage.insert("latin1.jsonl", b"{\"id\": 1}\n{\"id\": 2, \"site\": \"K\xf6ln\"}\n".to_vec());
    let selector = json!({"ItemSelector": {"id.$": "$$.Map.Item.Value.id"}});
    for (name, extra) in [("latin1-text", json!({})), ("latin1-value", selector)] {
        let input = json!({"key": "latin1.jsonl", "per_batch": 1, "run": "x", "concurrency": 1});
        let r = exec.start(&machine(map_def(extra)), name, input).await.unwrap();
        let e = r.error.unwrap();
        assert_eq!(e.error, "States.ItemReaderFailed", "{name}");
        assert!(e.cause.contains("a JSONL line is not UTF-8"), "{name}: {e}");
    }
    storage.insert("ok.jsonl", b"{\"id\": 1}\n\n{\"id\": 2}\n".to_vec());
    let r = exec
        .start(
            &machine(map_def(json!({}))),
            "ok",
            json!({"key": "ok.jsonl", "per_batch": 1, "run": "x", "concurrency": 1}),
        )
        .await
        .unwrap();
    assert_eq!(r.output, Some(json!([{"run": "x", "ids": [1]}, {"run": "x", "ids": [2]}])));
}

/// With COMPACT results, a failed child's record still carries its input (rebuilt from the
/// items' lines, not copied), as AWS records failures in the NONE form.
#[tokio::test]
async fn a_failed_child_keeps_its_input_in_the_compact_form() {
    let (storage, exec, _) = setup(20);
    let def = map_def(json!({
        "ToleratedFailurePercentage": 50,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"},
                         "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSON"}}
    }));
    let r = exec
        .start(&machine(def), "compact", json!({"key": "items.jsonl", "per_batch": 5, "run": "x", "concurrency": 2}))
        .await
        .unwrap();
    assert_eq!(r.status, "SUCCEEDED");
    let files = storage.objects();
    let failed_key = files.keys().find(|k| k.ends_with("FAILED_0.json")).unwrap();
    let failed: Vec<Value> = serde_json::from_slice(&files[failed_key]).unwrap();
    let input: Value = serde_json::from_str(failed[0]["Input"].as_str().unwrap()).unwrap();
    let ids: Vec<i64> = (10..15).collect();
    assert_eq!(
        input,
        json!({"BatchInput": {"run": "x"}, "Items": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>()})
    );
    let succeeded_key = files.keys().find(|k| k.ends_with("SUCCEEDED_0.json")).unwrap();
    let succeeded: Vec<Value> = serde_json::from_slice(&files[succeeded_key]).unwrap();
    assert_eq!(succeeded.len(), 3);
    assert_eq!(succeeded[0], json!({"run": "x", "ids": [0, 1, 2, 3, 4]}));
}

/// Without an ItemBatcher, a failed child's record carries its item (its line) as the input.
#[tokio::test]
async fn a_failed_unbatched_child_records_its_item() {
    let (storage, exec, _) = setup(0);
    storage.insert("one.jsonl", b"{\"Items\": [{\"id\": 13}]}\n{\"Items\": [{\"id\": 1}]}\n".to_vec());
    let mut def = map_def(json!({
        "ToleratedFailurePercentage": 50,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "u"},
                         "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}
    }));
    def["States"]["M"].as_object_mut().unwrap().remove("ItemBatcher");
    let r = exec.start(&machine(def), "unbatched", json!({"key": "one.jsonl", "concurrency": 1})).await.unwrap();
    assert_eq!(r.status, "SUCCEEDED");
    let files = storage.objects();
    let failed_key = files.keys().find(|k| k.starts_with("u/") && k.contains("FAILED_0")).unwrap();
    let record: Value = serde_json::from_slice(files[failed_key].split(|b| *b == b'\n').next().unwrap()).unwrap();
    let input: Value = serde_json::from_str(record["Input"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"Items": [{"id": 13}]}));
    assert_eq!((record["Status"].as_str(), record["Error"].as_str()), (Some("FAILED"), Some("Poison")));
}

/// A child whose Task passes its input on whole gets the batch as the JSON text built from the
/// item lines (no value tree); a child that needs values (here an ItemSelector that rebuilds
/// each item as it is) gets a value. Both give the same outputs and the same history.
#[tokio::test]
async fn a_passthrough_child_gets_its_batch_as_text_with_the_same_outcome() {
    use engine::{Event, event_handler};
    let storage = Arc::new(MemoryStorage::default());
    storage.insert(
        "items.jsonl",
        b"{\"id\": 1, \"tag\": \"a\"}\n{\"id\": 2, \"tag\": \"b\"}\n{\"id\": 3, \"tag\": \"c\"}\n".to_vec(),
    );
    let texts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut exec = Executor::new(Arc::new(VirtualClock::new(chrono::Utc::now())))
        .with_storage(storage.clone())
        .record_history(true);
    let seen = texts.clone();
    exec.register(
        "work",
        event_handler(move |e: Event| {
            let seen = seen.clone();
            async move {
                if let Event::Json(t) = &e {
                    seen.lock().unwrap().push(t.to_string());
                }
                let v = e.into_value().unwrap();
                Ok(json!({"run": v["BatchInput"]["run"], "tags": v["Items"].as_array().unwrap().iter().map(|i| i["tag"].clone()).collect::<Vec<_>>()}))
            }
        }),
    );
    let input = json!({"key": "items.jsonl", "per_batch": 2, "run": "x", "concurrency": 1});
    let text = exec.start(&machine(map_def(json!({}))), "text", input.clone()).await.unwrap();
    assert_eq!(
        *texts.lock().unwrap(),
        vec![
            r#"{"BatchInput":{"run":"x"},"Items":[{"id": 1, "tag": "a"},{"id": 2, "tag": "b"}]}"#.to_owned(),
            r#"{"BatchInput":{"run":"x"},"Items":[{"id": 3, "tag": "c"}]}"#.to_owned(),
        ]
    );
    texts.lock().unwrap().clear();
    let selector = json!({"ItemSelector": {"id.$": "$$.Map.Item.Value.id", "tag.$": "$$.Map.Item.Value.tag"}});
    let value = exec.start(&machine(map_def(selector)), "value", input).await.unwrap();
    assert!(texts.lock().unwrap().is_empty(), "an ItemSelector's items are values");
    assert_eq!(text.status, "SUCCEEDED");
    assert_eq!(text.output, Some(json!([{"run": "x", "tags": ["a", "b"]}, {"run": "x", "tags": ["c"]}])));
    assert_eq!(text.output, value.output);
    let kinds = |r: &engine::ExecutionResult| r.history.iter().map(|e| e.event_type.clone()).collect::<Vec<_>>();
    assert_eq!(kinds(&text), kinds(&value));
}
