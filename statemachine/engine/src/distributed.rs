//! The Distributed Map: ItemReader from storage, ItemSelector, ItemBatcher, child executions on
//! every core up to MaxConcurrency, tolerated failures, and the ResultWriter's files in AWS's
//! format (shared/reference/aws-step-functions.md §1).
//!
//! Memory is bounded by the batches in flight, not by the fleet: a JSONL item file is read
//! twice, line by line — once to plan the batches (sizes only), once to build each child's
//! input as the child starts — and a child's input is dropped when it succeeds unless the
//! ResultWriter's `NONE` form needs it.

use std::io::BufRead;
use std::sync::Arc;

use chrono::SecondsFormat;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Map, Value, json};

use crate::definition::{Distributed, InputType, MapState, OutputType, State, Transformation};
use crate::error::StatesError;
use crate::interpreter::{Run, run_states};
use crate::path::Ctx;
use crate::runtime::{Event, MAX_PAYLOAD_BYTES, ObjectReader, json_len};
use crate::states::{non_negative_integer, number};

pub use crate::runtime::{SharedStorage, Storage, StorageError};

/// The names of the ResultWriter's result files. AWS documents `SUCCEEDED_0.json` and its
/// siblings for `OutputType: JSON`; the names in JSONL form are not documented (UNCONFIRMED), so
/// the extension is configurable, `json` unless told otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultFileNames {
    /// The extension of JSONL result files, without the dot.
    pub jsonl_extension: String,
}

impl Default for ResultFileNames {
    fn default() -> Self {
        ResultFileNames { jsonl_extension: "json".into() }
    }
}

/// Packs items into batches under both limits in one pass: a batch's size is a running byte
/// count — its compact envelope is the empty envelope plus every item plus one comma between
/// items — so packing is linear in the items (AWS: the item count is reduced to stay under the
/// byte limit).
struct Packer {
    max_items: Option<usize>,
    max_bytes: usize,
    empty_bytes: usize,
    len: usize,
    bytes: usize,
}

impl Packer {
    fn new(empty_bytes: usize, max_items: Option<usize>, max_bytes: Option<usize>) -> Self {
        Packer { max_items, max_bytes: max_bytes.unwrap_or(MAX_PAYLOAD_BYTES), empty_bytes, len: 0, bytes: empty_bytes }
    }

    /// Adds an item of `item_bytes`; true when it starts a new batch.
    fn push(&mut self, item_bytes: usize) -> bool {
        let full = self.max_items.is_some_and(|m| self.len >= m);
        let too_big = self.bytes + usize::from(self.len > 0) + item_bytes > self.max_bytes;
        let new_batch = self.len > 0 && (full || too_big);
        if new_batch {
            self.len = 0;
            self.bytes = self.empty_bytes;
        }
        self.bytes += usize::from(self.len > 0) + item_bytes;
        self.len += 1;
        new_batch
    }
}

fn envelope(batch_input: Option<&Value>, items: Vec<Value>) -> Value {
    let mut o = Map::new();
    if let Some(b) = batch_input {
        o.insert("BatchInput".into(), b.clone());
    }
    o.insert("Items".into(), Value::Array(items));
    Value::Object(o)
}

/// Packs items into `{"BatchInput", "Items"}` envelopes under both limits, in linear time.
pub fn batches(
    items: Vec<Value>,
    batch_input: Option<Value>,
    max_items: Option<usize>,
    max_bytes: Option<usize>,
) -> Vec<Value> {
    let mut packer = Packer::new(json_len(&envelope(batch_input.as_ref(), Vec::new())), max_items, max_bytes);
    let mut out = Vec::new();
    let mut current = Vec::new();
    for item in items {
        if packer.push(json_len(&item)) {
            out.push(envelope(batch_input.as_ref(), std::mem::take(&mut current)));
        }
        current.push(item);
    }
    if !current.is_empty() {
        out.push(envelope(batch_input.as_ref(), current));
    }
    out
}

fn reader_failed(m: impl Into<String>) -> StatesError {
    StatesError::new("States.ItemReaderFailed", m)
}

/// The items, one after another: from memory, or from a JSONL object line by line (with the
/// line's text, kept for a failed child's record instead of a copy of the item).
type Items<'a> = Box<dyn Iterator<Item = Result<(Value, Option<String>), StatesError>> + Send + 'a>;

/// The lines of a JSONL object, each checked to be JSON without being read into a value: for
/// children that get their input as text.
fn jsonl_lines(reader: ObjectReader) -> Items<'static> {
    Box::new(reader.split(b'\n').filter_map(|line| match line {
        Err(e) => Some(Err(reader_failed(e.to_string()))),
        Ok(l) if l.iter().all(u8::is_ascii_whitespace) => None,
        // Checked as UTF-8 once (an ignored string is not checked), then as JSON; the item is its
        // line, and no value is built for it.
        Ok(l) => Some(match String::from_utf8(l) {
            Err(_) => Err(reader_failed("a JSONL line is not UTF-8")),
            Ok(l) => match serde_json::from_str::<serde::de::IgnoredAny>(&l) {
                Ok(_) => Ok((Value::Null, Some(l))),
                Err(e) => Err(reader_failed(format!("a JSONL line is not JSON: {e}"))),
            },
        }),
    }))
}

fn jsonl_items(reader: ObjectReader) -> Items<'static> {
    Box::new(reader.split(b'\n').filter_map(|line| match line {
        Err(e) => Some(Err(reader_failed(e.to_string()))),
        Ok(l) if l.iter().all(u8::is_ascii_whitespace) => None,
        Ok(l) => Some(String::from_utf8(l).map_err(|_| reader_failed("a JSONL line is not UTF-8")).and_then(|l| {
            match serde_json::from_str(&l) {
                Ok(v) => Ok((v, Some(l))),
                Err(e) => Err(reader_failed(format!("a JSONL line is not JSON: {e}"))),
            }
        })),
    }))
}

/// What is kept of a running child's input for its record in the result files.
enum KeptInput {
    /// The input itself (the NONE form records every child's input).
    Value(Arc<Value>),
    /// The items' lines and the batch input: enough to write the input's text if it fails.
    Lines { batch_input: Option<Arc<Value>>, batched: bool, lines: Vec<String> },
    /// The input's text, shared with the child that runs on it.
    Text(Arc<str>),
}

impl KeptInput {
    /// The input as JSON text (compact; the items as their lines hold them).
    fn text(&self) -> String {
        match self {
            KeptInput::Value(v) => crate::compact(v),
            KeptInput::Lines { batch_input, batched, lines } => input_text(batch_input.as_deref(), *batched, lines),
            KeptInput::Text(t) => t.to_string(),
        }
    }
}

/// A child's input as JSON text, from its items' lines: the line itself, or the batch
/// `{"BatchInput": …, "Items": [lines]}`.
fn input_text(batch_input: Option<&Value>, batched: bool, lines: &[String]) -> String {
    if !batched {
        return lines.first().map(|l| l.trim_ascii().to_owned()).unwrap_or_default();
    }
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum::<usize>() + 64);
    out.push('{');
    if let Some(b) = batch_input {
        out.push_str("\"BatchInput\":");
        out.push_str(&crate::compact(b));
        out.push(',');
    }
    out.push_str("\"Items\":[");
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(l.trim_ascii());
    }
    out.push_str("]}");
    out
}

fn csv_items(bytes: &[u8]) -> Result<Vec<Value>, StatesError> {
    // Every value a string; fewer fields than headers give "", extra fields are dropped.
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> =
        r.headers().map_err(|e| reader_failed(e.to_string()))?.iter().map(str::to_owned).collect();
    let mut seen = std::collections::HashSet::new();
    if headers.iter().any(|h| !seen.insert(h)) {
        return Err(reader_failed("CSV headers cannot contain duplicates."));
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| reader_failed(e.to_string()))?;
        let obj: Map<String, Value> =
            headers.iter().enumerate().map(|(i, h)| (h.clone(), json!(rec.get(i).unwrap_or("")))).collect();
        out.push(Value::Object(obj));
    }
    Ok(out)
}

/// Where the items come from, and how many to take.
enum Source {
    Memory(Vec<Value>),
    Jsonl { bucket: String, key: String },
}

async fn source(
    run: &Run,
    map: &MapState,
    d: &Distributed,
    eff: &Value,
    ctx: &Ctx<'_>,
) -> Result<(Source, Option<usize>), StatesError> {
    let Some(reader) = &d.reader else { return Ok((Source::Memory(crate::states::map_items(map, eff, ctx)?), None)) };
    let storage = run.shared.storage.as_ref().ok_or_else(|| reader_failed("no storage is configured"))?;
    let params = reader.parameters.apply(eff, ctx)?;
    let bucket = params.get("Bucket").and_then(Value::as_str).unwrap_or_default().to_owned();
    let key =
        params.get("Key").and_then(Value::as_str).ok_or_else(|| reader_failed("the ItemReader has no Key"))?.to_owned();
    // AWS-recorded (reference §1.2): 0 means no limit; a negative count is ItemReaderFailed.
    let max_items = match &reader.max_items {
        None => None,
        Some(n) => {
            let m = number(n, "MaxItems", eff, ctx, |x| x.fract() == 0.0, "a valid integer")?;
            if m < 0.0 {
                return Err(reader_failed("field MaxItems must be positive"));
            }
            (m > 0.0).then_some(m as usize)
        }
    };
    let source = match reader.input_type {
        InputType::Jsonl => Source::Jsonl { bucket, key },
        InputType::Csv => {
            Source::Memory(csv_items(&storage.get(&bucket, &key).await.map_err(|e| reader_failed(e.to_string()))?)?)
        }
        InputType::Json => {
            let bytes = storage.get(&bucket, &key).await.map_err(|e| reader_failed(e.to_string()))?;
            match serde_json::from_slice::<Value>(&bytes).map_err(|e| reader_failed(e.to_string()))? {
                Value::Array(a) => Source::Memory(a),
                _ => return Err(reader_failed("Attempting to map over non-iterable node.")),
            }
        }
    };
    Ok((source, max_items))
}

struct Child {
    name: String,
    start: String,
    stop: String,
    input: Option<KeptInput>,
    outcome: Option<Result<Value, StatesError>>,
}

pub(crate) async fn run(
    run: &Run,
    state: &State,
    map: &MapState,
    d: &Distributed,
    eff: &Value,
    ctx: &Ctx<'_>,
) -> Result<Value, StatesError> {
    let (source, max_items) = source(run, map, d, eff, ctx).await?;
    let entered = run.now();
    let select = move |index: usize, item: Value| -> Result<Value, StatesError> {
        match &map.item_selector {
            Some(t) => t.apply(eff, &run.context(&state.name, entered, 0, Some((index, &item)))),
            None => Ok(item),
        }
    };

    let (batch_input, max_per_batch, max_bytes) = match &d.batcher {
        Some(b) => (
            b.batch_input.as_ref().map(|t| t.apply(eff, ctx)).transpose()?,
            b.max_items
                .as_ref()
                .map(|n| {
                    number(n, "MaxItemsPerBatch", eff, ctx, |x| x >= 1.0 && non_negative_integer(x), "a valid integer")
                })
                .transpose()?
                .map(|n| n as usize),
            b.max_bytes
                .as_ref()
                .map(|n| {
                    number(
                        n,
                        "MaxInputBytesPerBatch",
                        eff,
                        ctx,
                        |x| x >= 1.0 && non_negative_integer(x) && x <= MAX_PAYLOAD_BYTES as f64,
                        "a valid integer",
                    )
                })
                .transpose()?
                .map(|n| n as usize),
        ),
        None => (None, None, None),
    };
    let batched = d.batcher.is_some();
    let take = max_items.unwrap_or(usize::MAX);

    // Pass 1, the plan: how many items each child gets, from the items' sizes.
    let mut plan: Vec<usize> = Vec::new();
    let mut packer = Packer::new(json_len(&envelope(batch_input.as_ref(), Vec::new())), max_per_batch, max_bytes);
    let mut add = |item_bytes: usize| {
        let new_batch = packer.push(item_bytes);
        if !batched || new_batch || plan.is_empty() {
            plan.push(0);
        }
        if let Some(last) = plan.last_mut() {
            *last += 1;
        }
    };
    // Children whose first state passes its input on whole get it as text, built from the JSONL
    // lines, with no value tree: unless something reads items as values (an ItemSelector), the
    // context object holds the input, or the NONE form records every input.
    let keep_inputs = matches!(d.writer.as_ref().map(|w| w.transformation), Some(Transformation::None));
    let as_text = matches!(source, Source::Jsonl { .. })
        && map.item_selector.is_none()
        && !map.processor.reads_context
        && !keep_inputs
        && map.processor.states.get(&map.processor.start_at).is_some_and(crate::states::takes_text);
    let mut items: Items<'_> = match source {
        Source::Memory(items) => {
            let selected = items
                .into_iter()
                .take(take)
                .enumerate()
                .map(|(i, item)| select(i, item))
                .collect::<Result<Vec<_>, _>>()?;
            selected.iter().for_each(|item| add(json_len(item)));
            Box::new(selected.into_iter().map(|v| Ok((v, None))))
        }
        Source::Jsonl { bucket, key } => {
            let storage = run.shared.storage.as_ref().ok_or_else(|| reader_failed("no storage is configured"))?;
            let open = || async { storage.open(&bucket, &key).await.map_err(|e| reader_failed(e.to_string())) };
            if map.item_selector.is_none() {
                // An item's size is its line's: nothing is parsed to plan (a line that is not
                // JSON fails the Map when its batch is built, with States.ItemReaderFailed).
                let mut count = 0usize;
                for line in open().await?.split(b'\n') {
                    let line = line.map_err(|e| reader_failed(e.to_string()))?;
                    let item = line.trim_ascii();
                    if !item.is_empty() {
                        if count >= take {
                            break;
                        }
                        count += 1;
                        add(item.len());
                    }
                }
            } else {
                for (i, item) in jsonl_items(open().await?).take(take).enumerate() {
                    add(json_len(&select(i, item?.0)?));
                }
            }
            let selected = map.item_selector.is_some();
            let mut index = 0usize;
            if as_text {
                Box::new(jsonl_lines(open().await?).take(take))
            } else if selected {
                let parsed = jsonl_items(open().await?).take(take);
                // A selected item is not its line: no line is kept for it.
                Box::new(parsed.map(move |item| {
                    let i = index;
                    index += 1;
                    item.and_then(|(v, _)| select(i, v).map(|v| (v, None)))
                }))
            } else {
                Box::new(jsonl_items(open().await?).take(take))
            }
        }
    };
    // Pass 2: each child's input, as it starts.
    let shared_batch_input = batch_input.clone().map(Arc::new);
    let mut next_input = |count: usize| -> Result<(Event, Option<KeptInput>), StatesError> {
        let mut batch = Vec::with_capacity(count);
        let mut lines = Vec::with_capacity(count);
        for _ in 0..count {
            let (item, line) =
                items.next().ok_or_else(|| reader_failed("the item file changed while it was read"))??;
            if !as_text {
                batch.push(item);
            }
            lines.extend(line);
        }
        if as_text {
            let text: Arc<str> = input_text(batch_input.as_ref(), batched, &lines).into();
            return Ok((Event::Json(text.clone()), Some(KeptInput::Text(text))));
        }
        let kept = (lines.len() == count).then(|| KeptInput::Lines {
            batch_input: shared_batch_input.clone(),
            batched,
            lines,
        });
        let input = if batched { envelope(batch_input.as_ref(), batch) } else { batch.pop().unwrap_or(Value::Null) };
        Ok((Event::Value(input), kept))
    };

    let max_concurrency = match &map.max_concurrency {
        Some(n) => crate::states::max_concurrency(n, eff, ctx)?,
        None => 0,
    };
    // AWS: omitted or 0 means no limit, 10,000 children at once.
    let max_concurrency = if max_concurrency == 0 { 10_000 } else { max_concurrency };
    // AWS-recorded causes (LocalStack test_base_scenarios, 2024-06-19): a value that is not a
    // number is "not a valid float" / "not a valid integer"; one out of range says so.
    let tolerated_pct = match &d.tolerated_percentage {
        None => 0.0,
        Some(n) => {
            let p = number(n, "ToleratedFailurePercentage", eff, ctx, f64::is_finite, "a valid float")?;
            if !(0.0..=100.0).contains(&p) {
                return Err(StatesError::runtime("ToleratedFailurePercentage must be between 0 and 100."));
            }
            p
        }
    };
    let tolerated_count = match &d.tolerated_count {
        None => None,
        Some(n) => {
            let c = number(n, "ToleratedFailureCount", eff, ctx, |x| x.fract() == 0.0, "a valid integer")?;
            if c < 0.0 {
                return Err(StatesError::runtime("ToleratedFailureCount cannot be negative."));
            }
            Some(c)
        }
    };
    let map_run_id = uuid::Uuid::new_v4().to_string();
    let sm = run.state_machine_name.clone();
    let prefix = run.shared.arn_prefix.clone();
    let map_run_arn = format!("{prefix}:mapRun:{sm}/{}:{map_run_id}", map.label);
    let child_sm_arn = format!("{prefix}:stateMachine:{sm}/{}", map.label);
    let child_sm_name = format!("{sm}/{}", map.label);
    run.event("MapStateStarted", || json!({"length": 0}));
    run.event("MapRunStarted", || json!({"mapRunArn": map_run_arn}));

    let total = plan.len();
    let exceeded = |failed: usize| {
        let pct = if total == 0 { 0.0 } else { failed as f64 * 100.0 / total as f64 };
        match tolerated_count {
            Some(c) => failed as f64 > c,
            None => pct > tolerated_pct,
        }
    };
    let now = || run.now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut children: Vec<Child> = Vec::with_capacity(total);
    let mut running = FuturesUnordered::new();
    let mut failed = 0;
    let mut stop_launching = false;
    let mut reader_error = None;
    loop {
        while !stop_launching && children.len() < total && running.len() < max_concurrency {
            let index = children.len();
            let (input, lines) = match next_input(plan[index]) {
                Ok(v) => v,
                Err(e) => {
                    // Let the running children end before the Map fails: none is left behind.
                    reader_error = Some(e);
                    stop_launching = true;
                    break;
                }
            };
            let name = uuid::Uuid::new_v4().to_string();
            let processor = map.processor.clone();
            // The input moves into the child. A copy is made only for the context object
            // (`$$.Execution.Input`) when the processor reads it, and for the result files when
            // they hold every input (NONE) or the input has no lines to rebuild it from.
            let needs_value = keep_inputs || lines.is_none();
            // A text input is never one of these: it is built only when neither applies.
            let (child, input, kept) = match input {
                Event::Value(input) if processor.reads_context || needs_value => {
                    let shared = Arc::new(input);
                    let owned = (*shared).clone();
                    let kept = if needs_value { Some(KeptInput::Value(shared.clone())) } else { lines };
                    let ctx_input = if processor.reads_context { shared } else { Arc::new(Value::Null) };
                    (run.child(&child_sm_arn, &child_sm_name, &name, ctx_input), Event::Value(owned), kept)
                }
                input => (run.child(&child_sm_arn, &child_sm_name, &name, Arc::new(Value::Null)), input, lines),
            };
            run.shared.children_started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let task = async move { run_states(&child, &processor, input).await };
            // Children run as tasks of their own: CPU-bound handler work spreads over every core.
            let handle = tokio::spawn(task);
            running.push(async move {
                let r = handle
                    .await
                    .unwrap_or_else(|e| Err(StatesError::runtime(format!("the child execution panicked: {e}"))));
                (index, r)
            });
            children.push(Child { name, start: now(), stop: String::new(), input: kept, outcome: None });
        }
        let Some((index, result)) = running.next().await else { break };
        if result.is_err() {
            failed += 1;
            if exceeded(failed) {
                stop_launching = true;
            }
        } else if !keep_inputs {
            // A child that succeeded is recorded without its input (COMPACT, FLATTEN).
            children[index].input = None;
        }
        children[index].stop = now();
        children[index].outcome = Some(result);
    }
    if let Some(e) = reader_error {
        return Err(e);
    }
    // Children never started: their inputs, for the PENDING records.
    let mut pending_inputs = Vec::new();
    while children.len() + pending_inputs.len() < total {
        pending_inputs.push(next_input(plan[children.len() + pending_inputs.len()])?.0.text());
    }

    let threshold_exceeded = exceeded(failed);
    let result = write_results(
        run,
        d,
        &map_run_arn,
        &map_run_id,
        &child_sm_arn,
        &child_sm_name,
        &children,
        &pending_inputs,
        eff,
        ctx,
    )
    .await?;
    if threshold_exceeded {
        run.event("MapRunFailed", || json!({"error": "States.ExceedToleratedFailureThreshold"}));
        return Err(StatesError::new(
            "States.ExceedToleratedFailureThreshold",
            "The specified tolerated failure threshold was exceeded",
        ));
    }
    run.event("MapRunSucceeded", || Value::Null);
    run.event("MapStateSucceeded", || Value::Null);
    Ok(result)
}

/// A child's record in the `NONE` form (DescribeExecution-like; `Input`/`Output` are JSON text).
fn record(c: &Child, arn: &str, sm_arn: &str) -> Value {
    let input = c.input.as_ref().map(KeptInput::text).unwrap_or_default();
    match &c.outcome {
        Some(Ok(out)) => json!({
            "ExecutionArn": arn, "Input": input, "InputDetails": {"Included": true}, "Name": c.name,
            "Output": crate::compact(out), "OutputDetails": {"Included": true}, "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE", "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
            "StartDate": c.start, "StateMachineArn": sm_arn, "Status": "SUCCEEDED", "StopDate": c.stop
        }),
        Some(Err(e)) => json!({
            "Cause": e.cause, "Error": e.error, "ExecutionArn": arn, "Input": input, "InputDetails": {"Included": true},
            "Name": c.name, "RedriveCount": 0, "RedriveStatus": "REDRIVABLE", "StartDate": c.start,
            "StateMachineArn": sm_arn, "Status": "FAILED", "StopDate": c.stop
        }),
        None => json!({"Input": input, "InputDetails": {"Included": true}, "Status": "PENDING"}),
    }
}

/// The successful children's outputs in the `COMPACT` or `FLATTEN` form (AWS ResultWriter doc:
/// FLATTEN flattens arrays returned by children one level).
fn outputs(children: &[Child], flatten: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for c in children {
        if let Some(Ok(v)) = &c.outcome {
            match v {
                Value::Array(a) if flatten => out.extend(a.iter().cloned()),
                v => out.push(v.clone()),
            }
        }
    }
    out
}

fn body(values: &[Value], output_type: OutputType) -> Vec<u8> {
    match output_type {
        OutputType::Json => serde_json::to_vec(values).unwrap_or_default(),
        OutputType::Jsonl => {
            let mut b = Vec::new();
            for v in values {
                if serde_json::to_writer(&mut b, v).is_ok() {
                    b.push(b'\n');
                }
            }
            b
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn write_results(
    run: &Run,
    d: &Distributed,
    map_run_arn: &str,
    map_run_id: &str,
    child_sm_arn: &str,
    child_sm_name: &str,
    children: &[Child],
    pending_inputs: &[String],
    eff: &Value,
    ctx: &Ctx<'_>,
) -> Result<Value, StatesError> {
    let arn = |c: &Child| format!("{}:execution:{child_sm_name}:{}", run.shared.arn_prefix, c.name);
    let Some(writer) = &d.writer else {
        // No ResultWriter: the outputs in order, `null` for a child that did not succeed.
        return Ok(Value::Array(
            children
                .iter()
                .map(|c| match &c.outcome {
                    Some(Ok(v)) => v.clone(),
                    _ => Value::Null,
                })
                .chain(pending_inputs.iter().map(|_| Value::Null))
                .collect(),
        ));
    };
    let succeeded: Vec<Value> = match writer.transformation {
        Transformation::None => children
            .iter()
            .filter(|c| matches!(c.outcome, Some(Ok(_))))
            .map(|c| record(c, &arn(c), child_sm_arn))
            .collect(),
        t => outputs(children, t == Transformation::Flatten),
    };
    // Failed children are always reported as if NONE (AWS ResultWriter doc).
    let failed: Vec<Value> = children
        .iter()
        .filter(|c| matches!(c.outcome, Some(Err(_))))
        .map(|c| record(c, &arn(c), child_sm_arn))
        .collect();
    let pending: Vec<Value> = pending_inputs
        .iter()
        .map(|i| json!({"Input": i, "InputDetails": {"Included": true}, "Status": "PENDING"}))
        .collect();
    let Some(parameters) = &writer.parameters else {
        // WriterConfig alone: the formatted results are the state's output, nothing is stored.
        return Ok(Value::Array(succeeded));
    };
    let storage = run
        .shared
        .storage
        .as_ref()
        .ok_or_else(|| StatesError::new("States.ResultWriterFailed", "no storage is configured"))?;
    let params = parameters.apply(eff, ctx)?;
    let bucket = params.get("Bucket").and_then(Value::as_str).unwrap_or_default().to_owned();
    let prefix = params.get("Prefix").and_then(Value::as_str).unwrap_or_default().trim_end_matches('/').to_owned();
    let base = if prefix.is_empty() { map_run_id.to_owned() } else { format!("{prefix}/{map_run_id}") };
    let extension = match writer.output_type {
        OutputType::Json => "json",
        OutputType::Jsonl => run.shared.result_files.jsonl_extension.as_str(),
    };
    let failed_put = |e: StorageError| StatesError::new("States.ResultWriterFailed", e.to_string());
    let mut files = Map::new();
    for (status, records) in [("FAILED", &failed), ("PENDING", &pending), ("SUCCEEDED", &succeeded)] {
        let mut list = Vec::new();
        if !records.is_empty() {
            let key = format!("{base}/{status}_0.{extension}");
            let body = body(records, writer.output_type);
            list.push(json!({"Key": key, "Size": body.len()}));
            storage.put(&bucket, &key, body).await.map_err(failed_put)?;
        }
        files.insert(status.to_owned(), Value::Array(list));
    }
    let manifest = json!({"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files});
    let key = format!("{base}/manifest.json");
    storage.put(&bucket, &key, serde_json::to_vec(&manifest).unwrap_or_default()).await.map_err(failed_put)?;
    Ok(json!({"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compact;

    /// The packing as it was (re-serializing every candidate batch): the oracle.
    fn naive(items: Vec<Value>, batch_input: Option<Value>, max_items: Option<usize>, max_bytes: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut current: Vec<Value> = Vec::new();
        for item in items {
            let full = max_items.is_some_and(|m| current.len() >= m);
            let mut candidate = current.clone();
            candidate.push(item.clone());
            let too_big = compact(&envelope(batch_input.as_ref(), candidate)).len() > max_bytes;
            if !current.is_empty() && (full || too_big) {
                out.push(envelope(batch_input.as_ref(), std::mem::take(&mut current)));
            }
            current.push(item);
        }
        if !current.is_empty() {
            out.push(envelope(batch_input.as_ref(), current));
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
