//! The state machine definition and the steps agree: every `${...}` is a configured
//! substitution (and every configured name is used), every path the ASL reads exists in what
//! the steps write, and the error names it matches are the ones the steps raise.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

fn asl_text() -> String {
    std::fs::read_to_string(format!("{}/../../statemachine/bulk-upload.asl.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn asl() -> Value {
    serde_json::from_str(&asl_text()).unwrap()
}

/// Follows `$.a.b` in a JSON value.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.strip_prefix("$.")?.split('.').try_fold(v, |v, k| v.get(k))
}

fn sample_input() -> (flow::start::ExecutionInput, flow::parse::ParseOutput) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let b = common::bucket();
        let input = common::upload(&b.store, "f.xlsx", common::fleet(3, false), None).await;
        let parsed = flow::parse::parse(&b.store, &input, &common::config()).await.unwrap();
        (input, parsed)
    })
}

#[test]
fn substitutions_are_exactly_the_configured_names() {
    let text = asl_text();
    let used: BTreeSet<String> =
        text.match_indices("${").map(|(i, _)| text[i + 2..].split('}').next().unwrap().to_owned()).collect();
    let listed: BTreeSet<String> = common::config().substitutions.into_iter().collect();
    assert_eq!(used, listed);
}

#[test]
fn every_path_the_asl_reads_exists_in_the_state() {
    let (input, parsed) = sample_input();
    let mut state = serde_json::to_value(&input).unwrap();
    state["parse"] = serde_json::to_value(&parsed).unwrap();
    let asl = asl();
    let map = &asl["States"]["DiagnoseAssets"];
    for path in [
        map["ItemReader"]["Parameters"]["Key.$"].as_str().unwrap(),
        map["ItemBatcher"]["MaxItemsPerBatchPath"].as_str().unwrap(),
        map["ItemBatcher"]["MaxInputBytesPerBatchPath"].as_str().unwrap(),
        map["ItemBatcher"]["BatchInput"]["run_id.$"].as_str().unwrap(),
        map["MaxConcurrencyPath"].as_str().unwrap(),
        map["ToleratedFailurePercentagePath"].as_str().unwrap(),
        map["ResultWriter"]["Parameters"]["Prefix.$"].as_str().unwrap(),
    ] {
        let v = at(&state, path).unwrap_or_else(|| panic!("{path} is not in the state"));
        assert!(!v.is_null(), "{path}");
    }
    // Numbers where AWS needs numbers.
    for path in [
        "$.map.MaxItemsPerBatch",
        "$.map.MaxInputBytesPerBatch",
        "$.map.MaxConcurrency",
        "$.map.ToleratedFailurePercentage",
    ] {
        assert!(at(&state, path).unwrap().is_number(), "{path}");
    }
    // The parse step's ResultSelector keeps every field of its output.
    let selector = asl["States"]["ParseWorkbook"]["ResultSelector"].as_object().unwrap();
    let selected: BTreeSet<&str> = selector.keys().map(|k| k.trim_end_matches(".$")).collect();
    let produced: BTreeSet<&str> = state["parse"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(selected, produced);
    // The batch the children receive carries what the diagnose step reads.
    let batch_input: serde_json::Map<String, Value> = map["ItemBatcher"]["BatchInput"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.trim_end_matches(".$").to_owned(), at(&state, v.as_str().unwrap()).unwrap().clone()))
        .collect();
    let _: flow::diagnose::BatchInput = serde_json::from_value(Value::Object(batch_input)).unwrap();
}

#[test]
fn the_error_names_matched_are_the_ones_raised() {
    let asl = asl();
    let catch: Vec<&str> = asl["States"]["ParseWorkbook"]["Catch"][0]["ErrorEquals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let invalid = workbook::WorkbookError::Invalid { file: String::new(), reason: String::new() };
    let big = workbook::WorkbookError::TooLarge { file: String::new(), reason: String::new() };
    assert_eq!(catch, [flow::FlowError::from(invalid).error_type(), flow::FlowError::from(big).error_type()]);
    let unavailable = flow::StoreError::Unavailable { key: String::new(), message: String::new() };
    let retried = asl_text().matches("\"StorageUnavailable\"").count();
    assert!(retried >= 4 && flow::FlowError::from(unavailable).error_type() == "StorageUnavailable");
    // The aggregate payloads name modes the aggregate step knows, with the whole state.
    for (state, mode) in [
        ("Aggregate", "complete"),
        ("PersistRejection", "rejected"),
        ("PersistPartialResults", "partial"),
        ("PersistFailure", "failed"),
    ] {
        let payload = &asl["States"][state]["Parameters"]["Payload"];
        assert_eq!(payload["mode"], mode);
        assert_eq!(payload["state.$"], "$");
        let _: flow::aggregate::Mode = serde_json::from_value(payload["mode"].clone()).unwrap();
    }
}
