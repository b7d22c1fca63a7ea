//! The Distributed Map: ItemReader from storage, ItemSelector, ItemBatcher, child executions
//! running concurrently up to MaxConcurrency, tolerated failures, and the ResultWriter files
//! (shared/reference/aws-step-functions.md §1).

use std::sync::Arc;

use chrono::SecondsFormat;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Map, Value, json};

use crate::error::StatesError;
use crate::exec::{BoxFuture, Executor, Run};
use crate::{compact, path, payload};

/// Object storage behind ItemReader and ResultWriter (one bucket locally; the name is kept).
pub trait Storage: Send + Sync {
    fn get(&self, bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, String>>;
    fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), String>>;
}

pub type SharedStorage = Arc<dyn Storage>;

/// Checks a Distributed Map's fields at load time; `Err((field, reason))`.
pub fn check(obj: &Map<String, Value>) -> Result<(), (String, String)> {
    if let Some(reader) = obj.get("ItemReader") {
        if reader.get("Resource").and_then(Value::as_str) != Some("arn:aws:states:::s3:getObject") {
            return Err(("ItemReader.Resource".into(), "only arn:aws:states:::s3:getObject is supported".into()));
        }
        let input_type = reader.pointer("/ReaderConfig/InputType").and_then(Value::as_str).unwrap_or("JSON");
        if !matches!(input_type, "JSON" | "JSONL" | "CSV") {
            return Err((
                "ItemReader.ReaderConfig.InputType".into(),
                format!("{input_type} is not supported (JSON, JSONL, CSV)"),
            ));
        }
        if reader.pointer("/ReaderConfig/CSVHeaderLocation").and_then(Value::as_str) == Some("GIVEN") {
            return Err(("ItemReader.ReaderConfig.CSVHeaderLocation".into(), "GIVEN headers are not supported".into()));
        }
    }
    if let Some(writer) = obj.get("ResultWriter") {
        if writer.get("Resource").and_then(Value::as_str) != Some("arn:aws:states:::s3:putObject") {
            return Err(("ResultWriter.Resource".into(), "only arn:aws:states:::s3:putObject is supported".into()));
        }
        if writer.get("WriterConfig").is_some() {
            return Err(("ResultWriter.WriterConfig".into(), "is not supported yet (the default NONE/JSON is)".into()));
        }
    }
    Ok(())
}

fn number(obj: &Map<String, Value>, field: &str, eff: &Value, ctx: &Value) -> Result<Option<f64>, StatesError> {
    if let Some(v) = obj.get(field) {
        return Ok(v.as_f64());
    }
    match obj.get(&format!("{field}Path")).and_then(Value::as_str) {
        Some(p) => {
            let v = path::read(p, eff, ctx)?;
            v.as_f64().map(Some).ok_or_else(|| {
                StatesError::runtime(format!(
                    "The {field}Path field refers to value \"{}\" which is not a valid number: {p}",
                    compact(&v)
                ))
            })
        }
        None => Ok(None),
    }
}

async fn read_items(exec: &Executor, reader: &Value, eff: &Value, ctx: &Value) -> Result<Vec<Value>, StatesError> {
    let storage =
        exec.storage().ok_or_else(|| StatesError::new("States.ItemReaderFailed", "no storage is configured"))?;
    let params = payload::apply(reader.get("Parameters").unwrap_or(&json!({})), eff, ctx)?;
    let bucket = params.get("Bucket").and_then(Value::as_str).unwrap_or_default();
    let key = params
        .get("Key")
        .and_then(Value::as_str)
        .ok_or_else(|| StatesError::new("States.ItemReaderFailed", "the ItemReader has no Key"))?;
    let bytes = storage.get(bucket, key).await.map_err(|e| StatesError::new("States.ItemReaderFailed", e))?;
    let input_type = reader.pointer("/ReaderConfig/InputType").and_then(Value::as_str).unwrap_or("JSON");
    let failed = |m: String| StatesError::new("States.ItemReaderFailed", m);
    let mut items: Vec<Value> = match input_type {
        "JSONL" => bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| serde_json::from_slice(l).map_err(|e| failed(format!("a JSONL line is not JSON: {e}"))))
            .collect::<Result<_, _>>()?,
        "CSV" => {
            // Every value a string; fewer fields than headers give "", extra fields are dropped.
            let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
            let headers: Vec<String> =
                r.headers().map_err(|e| failed(e.to_string()))?.iter().map(str::to_owned).collect();
            let mut seen = std::collections::HashSet::new();
            if headers.iter().any(|h| !seen.insert(h)) {
                return Err(failed("CSV headers cannot contain duplicates.".into()));
            }
            let mut out = Vec::new();
            for rec in r.records() {
                let rec = rec.map_err(|e| failed(e.to_string()))?;
                let obj: Map<String, Value> =
                    headers.iter().enumerate().map(|(i, h)| (h.clone(), json!(rec.get(i).unwrap_or("")))).collect();
                out.push(Value::Object(obj));
            }
            out
        }
        _ => match serde_json::from_slice::<Value>(&bytes).map_err(|e| failed(e.to_string()))? {
            Value::Array(a) => a,
            _ => return Err(failed("Attempting to map over non-iterable node.".into())),
        },
    };
    if let Some(max) = number(reader.as_object().unwrap_or(&Map::new()), "MaxItems", &json!({}), ctx)
        .ok()
        .flatten()
        .or_else(|| reader.pointer("/ReaderConfig/MaxItems").and_then(Value::as_f64))
        && max > 0.0
    {
        items.truncate(max as usize);
    }
    Ok(items)
}

/// Packs items into `{"BatchInput", "Items"}` envelopes under both limits (AWS: the item count is
/// reduced to stay under the byte limit). Linear: each item is serialized once and a batch's size
/// is kept as a running byte count — the compact envelope is its empty form plus every item plus
/// one comma between items — instead of re-serializing the candidate batch for every item.
pub fn batches(
    items: Vec<Value>,
    batch_input: Option<Value>,
    max_items: Option<usize>,
    max_bytes: Option<usize>,
) -> Vec<Value> {
    let envelope = |items: Vec<Value>| {
        let mut o = Map::new();
        if let Some(b) = &batch_input {
            o.insert("BatchInput".into(), b.clone());
        }
        o.insert("Items".into(), Value::Array(items));
        Value::Object(o)
    };
    let max_bytes = max_bytes.unwrap_or(crate::exec::MAX_PAYLOAD_BYTES);
    let empty_bytes = compact(&envelope(Vec::new())).len();
    let mut out = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut current_bytes = empty_bytes;
    for item in items {
        let item_bytes = compact(&item).len();
        let full = max_items.is_some_and(|m| current.len() >= m);
        let separator = usize::from(!current.is_empty());
        let too_big = current_bytes + separator + item_bytes > max_bytes;
        if !current.is_empty() && (full || too_big) {
            out.push(envelope(std::mem::take(&mut current)));
            current_bytes = empty_bytes;
        }
        current_bytes += usize::from(!current.is_empty()) + item_bytes;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(envelope(current));
    }
    out
}

struct Child {
    index: usize,
    input: Value,
    name: String,
    start: String,
    stop: String,
    outcome: Option<Result<Value, StatesError>>,
}

pub(crate) async fn run(
    exec: &Executor,
    parent: &Run<'_>,
    name: &str,
    obj: &Map<String, Value>,
    eff: &Value,
    ctx: &Value,
) -> Result<Value, StatesError> {
    let items = match obj.get("ItemReader") {
        Some(reader) => read_items(exec, reader, eff, ctx).await?,
        None => crate::exec::items_at(obj, eff, ctx)?,
    };
    let selected = match obj.get("ItemSelector") {
        Some(t) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut c = ctx.clone();
                c["Map"] = json!({"Item": {"Index": i, "Value": item}});
                payload::apply(t, eff, &c)
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => items,
    };
    let inputs = match obj.get("ItemBatcher").and_then(Value::as_object) {
        Some(b) => {
            let batch_input = b.get("BatchInput").map(|t| payload::apply(t, eff, ctx)).transpose()?;
            let max_items = number(b, "MaxItemsPerBatch", eff, ctx)?.map(|n| n as usize);
            let max_bytes = number(b, "MaxInputBytesPerBatch", eff, ctx)?.map(|n| n as usize);
            batches(selected, batch_input, max_items, max_bytes)
        }
        None => selected,
    };
    let max_concurrency =
        number(obj, "MaxConcurrency", eff, ctx)?.map(|n| n as usize).filter(|n| *n > 0).unwrap_or(1_000);
    let tolerated_pct = number(obj, "ToleratedFailurePercentage", eff, ctx)?.unwrap_or(0.0);
    let tolerated_count = number(obj, "ToleratedFailureCount", eff, ctx)?;
    let label = obj.get("Label").and_then(Value::as_str).unwrap_or(name).to_owned();
    let map_run_id = uuid::Uuid::new_v4().to_string();
    let sm = parent.state_machine_name();
    let map_run_arn = format!("{}:mapRun:{sm}/{label}:{map_run_id}", exec.arn_prefix());
    let child_sm_arn = format!("{}:stateMachine:{sm}/{label}", exec.arn_prefix());
    parent.event("MapStateStarted", json!({"length": 0}));
    parent.event("MapRunStarted", json!({"mapRunArn": map_run_arn}));

    let processor = obj.get("ItemProcessor").cloned().unwrap_or_default();
    let start_at = processor.get("StartAt").and_then(Value::as_str).unwrap_or_default().to_owned();
    let total = inputs.len();
    let exceeded = |failed: usize| {
        let pct = if total == 0 { 0.0 } else { failed as f64 * 100.0 / total as f64 };
        match tolerated_count {
            Some(c) => failed as f64 > c,
            None => pct > tolerated_pct,
        }
    };
    let mut children: Vec<Child> = inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| Child {
            index,
            input,
            name: uuid::Uuid::new_v4().to_string(),
            start: String::new(),
            stop: String::new(),
            outcome: None,
        })
        .collect();
    let mut running = FuturesUnordered::new();
    let mut next = 0;
    let mut failed = 0;
    let mut stop_launching = false;
    let now = || exec.clock().now().to_rfc3339_opts(SecondsFormat::Millis, true);
    loop {
        while !stop_launching && next < children.len() && running.len() < max_concurrency {
            let c = &mut children[next];
            c.start = now();
            let child_run = parent.child(&child_sm_arn, &format!("{sm}/{label}"), &c.name, c.input.clone());
            let states = processor.get("States").cloned().unwrap_or_default();
            let start_at = start_at.clone();
            let index = c.index;
            let input = c.input.clone();
            running.push(async move {
                let r = crate::exec::run_child(exec, child_run, states, start_at, input).await;
                (index, r)
            });
            next += 1;
        }
        let Some((index, result)) = running.next().await else { break };
        if result.is_err() {
            failed += 1;
            if exceeded(failed) {
                stop_launching = true;
            }
        }
        children[index].stop = now();
        children[index].outcome = Some(result);
    }

    let (mut succeeded_records, mut failed_records, mut pending_records) = (Vec::new(), Vec::new(), Vec::new());
    let mut outputs = Vec::with_capacity(children.len());
    for c in &children {
        let arn = format!("{}:execution:{sm}/{label}:{}", exec.arn_prefix(), c.name);
        match &c.outcome {
            Some(Ok(out)) => {
                outputs.push(out.clone());
                succeeded_records.push(json!({
                    "ExecutionArn": arn, "Input": compact(&c.input), "InputDetails": {"Included": true}, "Name": c.name,
                    "Output": compact(out), "OutputDetails": {"Included": true}, "RedriveCount": 0,
                    "RedriveStatus": "NOT_REDRIVABLE", "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
                    "StartDate": c.start, "StateMachineArn": child_sm_arn, "Status": "SUCCEEDED", "StopDate": c.stop
                }));
            }
            Some(Err(e)) => {
                outputs.push(Value::Null);
                failed_records.push(json!({
                    "Cause": e.cause, "Error": e.error, "ExecutionArn": arn, "Input": compact(&c.input), "InputDetails": {"Included": true},
                    "Name": c.name, "RedriveCount": 0, "RedriveStatus": "REDRIVABLE", "StartDate": c.start,
                    "StateMachineArn": child_sm_arn, "Status": "FAILED", "StopDate": c.stop
                }));
            }
            None => {
                outputs.push(Value::Null);
                pending_records
                    .push(json!({"Input": compact(&c.input), "InputDetails": {"Included": true}, "Status": "PENDING"}));
            }
        }
    }
    let threshold_exceeded = exceeded(failed);
    let result = match obj.get("ResultWriter") {
        Some(writer) => {
            let storage = exec
                .storage()
                .ok_or_else(|| StatesError::new("States.ResultWriterFailed", "no storage is configured"))?;
            let params = payload::apply(writer.get("Parameters").unwrap_or(&json!({})), eff, ctx)?;
            let bucket = params.get("Bucket").and_then(Value::as_str).unwrap_or_default().to_owned();
            let prefix =
                params.get("Prefix").and_then(Value::as_str).unwrap_or_default().trim_end_matches('/').to_owned();
            let base = if prefix.is_empty() { map_run_id.clone() } else { format!("{prefix}/{map_run_id}") };
            let mut files = Map::new();
            for (status, records) in
                [("FAILED", &failed_records), ("PENDING", &pending_records), ("SUCCEEDED", &succeeded_records)]
            {
                let mut list = Vec::new();
                if !records.is_empty() {
                    let key = format!("{base}/{status}_0.json");
                    let body = serde_json::to_vec(records).unwrap_or_default();
                    list.push(json!({"Key": key, "Size": body.len()}));
                    storage
                        .put(&bucket, &key, body)
                        .await
                        .map_err(|e| StatesError::new("States.ResultWriterFailed", e))?;
                }
                files.insert(status.to_owned(), Value::Array(list));
            }
            let manifest = json!({"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files});
            let key = format!("{base}/manifest.json");
            storage
                .put(&bucket, &key, serde_json::to_vec(&manifest).unwrap_or_default())
                .await
                .map_err(|e| StatesError::new("States.ResultWriterFailed", e))?;
            json!({"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}})
        }
        None => Value::Array(outputs),
    };
    if threshold_exceeded {
        parent.event("MapRunFailed", json!({"error": "States.ExceedToleratedFailureThreshold"}));
        return Err(StatesError::new(
            "States.ExceedToleratedFailureThreshold",
            "The specified tolerated failure threshold was exceeded",
        ));
    }
    parent.event("MapRunSucceeded", Value::Null);
    parent.event("MapStateSucceeded", Value::Null);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packing as it was (re-serializing every candidate batch): the oracle.
    fn naive(items: Vec<Value>, batch_input: Option<Value>, max_items: Option<usize>, max_bytes: usize) -> Vec<Value> {
        let envelope = |items: Vec<Value>| {
            let mut o = Map::new();
            if let Some(b) = &batch_input {
                o.insert("BatchInput".into(), b.clone());
            }
            o.insert("Items".into(), Value::Array(items));
            Value::Object(o)
        };
        let mut out = Vec::new();
        let mut current: Vec<Value> = Vec::new();
        for item in items {
            let full = max_items.is_some_and(|m| current.len() >= m);
            let mut candidate = current.clone();
            candidate.push(item.clone());
            let too_big = compact(&envelope(candidate)).len() > max_bytes;
            if !current.is_empty() && (full || too_big) {
                out.push(envelope(std::mem::take(&mut current)));
            }
            current.push(item);
        }
        if !current.is_empty() {
            out.push(envelope(current));
        }
        out
    }

    #[test]
    fn linear_packing_packs_exactly_as_re_serializing_did() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for round in 0..200 {
            let items: Vec<Value> = (0..next(60))
                .map(|i| match next(3) {
                    0 => json!({"asset_id": format!("TR-{i}"), "samples": vec![next(1000); next(8) as usize]}),
                    1 => json!("x".repeat(next(50) as usize)),
                    _ => json!(i),
                })
                .collect();
            let batch_input = (round % 2 == 0).then(|| json!({"run_id": "r-1"}));
            let max_items = (next(2) == 0).then(|| 1 + next(10) as usize);
            let max_bytes = 20 + next(400) as usize;
            assert_eq!(
                batches(items.clone(), batch_input.clone(), max_items, Some(max_bytes)),
                naive(items, batch_input, max_items, max_bytes),
                "round {round}"
            );
        }
    }
}
