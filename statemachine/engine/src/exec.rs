//! Loading a definition and running it: every state type but the Distributed Map, Retry and
//! Catch on an injectable clock, the context object, and an execution history with AWS's event
//! names.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{DefinitionError, StatesError};
use crate::{choice, compact, path, payload};

/// 256 KiB: the limit of any state's input or output (States.DataLimitExceeded).
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Time, injectable: tests run real Retry blocks on a virtual clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn sleep(&self, d: Duration) -> BoxFuture<()>;
}

/// A clock that advances instantly when asked to sleep, recording every sleep.
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<DateTime<Utc>>,
    sleeps: Mutex<Vec<Duration>>,
}

impl VirtualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        VirtualClock { now: Mutex::new(start), sleeps: Mutex::new(Vec::new()) }
    }

    /// Every sleep so far (Retry intervals, Wait states).
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|n| *n).unwrap_or_default()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<()> {
        if let (Ok(mut now), Ok(mut sleeps)) = (self.now.lock(), self.sleeps.lock()) {
            *now += chrono::Duration::from_std(d).unwrap_or_default();
            sleeps.push(d);
        }
        Box::pin(async {})
    }
}

/// The wall clock (for `substation states run`).
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A function a Task state can invoke, as a Lambda handler: an `errorType` and message on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerError {
    #[serde(rename = "errorType")]
    pub error_type: String,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

pub type Handler = Arc<dyn Fn(Value) -> BoxFuture<Result<Value, HandlerError>> + Send + Sync>;

/// Wraps an async function as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
{
    Arc::new(move |v| Box::pin(f(v)))
}

/// One history event, named as AWS names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub id: u64,
    pub timestamp: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionResult {
    pub name: String,
    pub status: &'static str,
    pub output: Option<Value>,
    pub error: Option<StatesError>,
    pub history: Vec<HistoryEvent>,
}

const COMMON: [&str; 4] = ["Type", "Comment", "Next", "End"];

const DISTRIBUTED_FIELDS: [&str; 9] = [
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "MaxConcurrencyPath",
    "Label",
];

fn allowed(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pass" => &["InputPath", "OutputPath", "Parameters", "Result", "ResultPath"],
        "Task" => &[
            "Resource",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "TimeoutSeconds",
        ],
        "Choice" => &["InputPath", "OutputPath", "Choices", "Default"],
        "Wait" => &["InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
        "Succeed" => &["InputPath", "OutputPath"],
        "Fail" => &["Error", "Cause", "ErrorPath", "CausePath"],
        "Parallel" => {
            &["Branches", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"]
        }
        "Map" => &[
            "InputPath",
            "OutputPath",
            "ItemsPath",
            "ItemSelector",
            "Parameters",
            "ItemProcessor",
            "Iterator",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "MaxConcurrency",
            "Label",
        ],
        _ => return None,
    })
}

/// A loaded, checked definition.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub name: String,
    definition: Value,
}

/// Replaces `${Name}` in every string of the definition; any left over is refused.
fn substitute(v: &mut Value, subs: &BTreeMap<String, String>, missing: &mut HashSet<String>) {
    match v {
        Value::String(s) => {
            for (k, val) in subs {
                let token = format!("${{{k}}}");
                if s.contains(&token) {
                    *s = s.replace(&token, val);
                }
            }
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                let name = rest[i + 2..].split('}').next().unwrap_or("");
                missing.insert(name.to_owned());
                rest = &rest[i + 2..];
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, subs, missing)),
        Value::Object(o) => o.values_mut().for_each(|x| substitute(x, subs, missing)),
        _ => {}
    }
}

fn check_states(states: &Value, start_at: Option<&Value>, scope: &str) -> Result<(), DefinitionError> {
    let states =
        states.as_object().ok_or_else(|| DefinitionError::new(None, format!("{scope}States"), "must be an object"))?;
    let start = start_at
        .and_then(Value::as_str)
        .ok_or_else(|| DefinitionError::new(None, format!("{scope}StartAt"), "is required"))?;
    if !states.contains_key(start) {
        return Err(DefinitionError::new(None, format!("{scope}StartAt"), format!("names no state: '{start}'")));
    }
    for (name, state) in states {
        let s = Some(name.as_str());
        let obj = state.as_object().ok_or_else(|| DefinitionError::new(s, "Type", "a state must be an object"))?;
        let kind =
            obj.get("Type").and_then(Value::as_str).ok_or_else(|| DefinitionError::new(s, "Type", "is required"))?;
        let fields =
            allowed(kind).ok_or_else(|| DefinitionError::new(s, "Type", format!("'{kind}' is not a state type")))?;
        if obj.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
            return Err(DefinitionError::new(s, "QueryLanguage", "JSONata is not supported by the local engine"));
        }
        let distributed = kind == "Map"
            && obj.get("ItemProcessor").and_then(|p| p.pointer("/ProcessorConfig/Mode")).and_then(Value::as_str)
                == Some("DISTRIBUTED");
        for key in obj.keys() {
            if key == "QueryLanguage" {
                continue;
            }
            let known = COMMON.contains(&key.as_str())
                || fields.contains(&key.as_str())
                || (distributed && DISTRIBUTED_FIELDS.contains(&key.as_str()));
            if !known {
                let reason = match (kind, key.as_str()) {
                    (
                        "Map",
                        "ItemReader"
                        | "ItemBatcher"
                        | "ResultWriter"
                        | "ToleratedFailurePercentage"
                        | "ToleratedFailurePercentagePath"
                        | "ToleratedFailureCount"
                        | "ToleratedFailureCountPath"
                        | "MaxConcurrencyPath",
                    ) => "is a Distributed Map field, but ItemProcessor.ProcessorConfig.Mode is not DISTRIBUTED"
                        .to_owned(),
                    (_, "Assign" | "Arguments" | "Output") => {
                        "is a JSONata/variables field the local engine does not support".to_owned()
                    }
                    _ => format!("is not supported on a {kind} state"),
                };
                return Err(DefinitionError::new(s, key.clone(), reason));
            }
        }
        for next in ["Next", "Default"] {
            if let Some(n) = obj.get(next).and_then(Value::as_str)
                && !states.contains_key(n)
            {
                return Err(DefinitionError::new(s, next, format!("names no state: '{n}'")));
            }
        }
        if let Some(rp) = obj.get("ResultPath").and_then(Value::as_str) {
            path::check_reference(rp).map_err(|e| DefinitionError::new(s, "ResultPath", e))?;
        }
        if let Some(resource) = obj.get("Resource").and_then(Value::as_str)
            && resource != "arn:aws:states:::lambda:invoke"
            && !resource.starts_with("arn:aws:lambda:")
            && !resource.starts_with("local:")
        {
            return Err(DefinitionError::new(
                s,
                "Resource",
                format!("'{resource}' is not supported (Lambda invoke, a Lambda ARN or a built-in handler)"),
            ));
        }
        for catcher in obj.get("Catch").and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = catcher.get("Next").and_then(Value::as_str)
                && !states.contains_key(n)
            {
                return Err(DefinitionError::new(s, "Catch", format!("names no state: '{n}'")));
            }
        }
        match kind {
            "Choice" => {
                let choices = obj
                    .get("Choices")
                    .and_then(Value::as_array)
                    .ok_or_else(|| DefinitionError::new(s, "Choices", "is required"))?;
                for rule in choices {
                    choice::check(rule, true).map_err(|e| DefinitionError::new(s, "Choices", e))?;
                    if let Some(n) = rule.get("Next").and_then(Value::as_str)
                        && !states.contains_key(n)
                    {
                        return Err(DefinitionError::new(s, "Choices", format!("names no state: '{n}'")));
                    }
                }
            }
            "Parallel" => {
                for (i, b) in obj.get("Branches").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    check_states(&b["States"], b.get("StartAt"), &format!("{name}.Branches[{i}]."))?;
                }
            }
            "Map" => {
                let proc = obj
                    .get("ItemProcessor")
                    .or_else(|| obj.get("Iterator"))
                    .ok_or_else(|| DefinitionError::new(s, "ItemProcessor", "is required"))?;
                if proc.pointer("/ProcessorConfig/Mode").and_then(Value::as_str) == Some("DISTRIBUTED") {
                    crate::distributed::check(obj).map_err(|(field, reason)| DefinitionError::new(s, field, reason))?;
                }
                check_states(&proc["States"], proc.get("StartAt"), &format!("{name}.ItemProcessor."))?;
            }
            _ => {}
        }
        let terminal = matches!(kind, "Succeed" | "Fail" | "Choice");
        if !terminal && obj.get("Next").is_none() && obj.get("End") != Some(&Value::Bool(true)) {
            return Err(DefinitionError::new(s, "Next", "a state needs 'Next' or \"End\": true"));
        }
    }
    Ok(())
}

impl StateMachine {
    /// Parses, substitutes and checks a definition. Anything the engine cannot run faithfully is
    /// refused here, naming the state and field.
    pub fn load(name: &str, text: &str, substitutions: &BTreeMap<String, String>) -> Result<Self, DefinitionError> {
        let mut definition: Value = serde_json::from_str(text)
            .map_err(|e| DefinitionError::new(None, "(definition)", format!("not valid JSON: {e}")))?;
        if definition.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
            return Err(DefinitionError::new(None, "QueryLanguage", "JSONata is not supported by the local engine"));
        }
        let mut missing = HashSet::new();
        substitute(&mut definition, substitutions, &mut missing);
        let mut missing: Vec<String> = missing.into_iter().collect();
        missing.sort();
        if let Some(m) = missing.first() {
            return Err(DefinitionError::new(
                None,
                format!("${{{m}}}"),
                format!("no value was given for the substitutions {}", missing.join(", ")),
            ));
        }
        check_states(&definition["States"], definition.get("StartAt"), "")?;
        Ok(StateMachine { name: name.to_owned(), definition })
    }
}

/// Runs executions of state machines: the handlers, the clock, the storage behind ItemReader
/// and ResultWriter, the names already used.
pub struct Executor {
    handlers: HashMap<String, Handler>,
    clock: Arc<dyn Clock>,
    storage: Option<crate::distributed::SharedStorage>,
    names: Mutex<HashSet<String>>,
    account: String,
    region: String,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor").field("handlers", &self.handlers.keys().collect::<Vec<_>>()).finish()
    }
}

/// AWS execution names: 1-80 characters of `0-9A-Za-z-_`.
pub fn check_execution_name(name: &str) -> Result<(), StatesError> {
    if name.is_empty() || name.len() > 80 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(StatesError::new(
            "InvalidName",
            format!("Invalid Name: '{name}' (1-80 characters of 0-9A-Za-z-_)"),
        ));
    }
    Ok(())
}

pub(crate) struct Run<'a> {
    exec: &'a Executor,
    history: Mutex<Vec<HistoryEvent>>,
    execution: Value,
    state_machine: Value,
}

impl<'a> Run<'a> {
    /// A Distributed Map child: its own execution, history and context.
    pub(crate) fn child(&self, sm_arn: &str, sm_name: &str, name: &str, input: Value) -> Run<'a> {
        Run {
            exec: self.exec,
            history: Mutex::new(Vec::new()),
            execution: json!({
                "Id": format!("{}:execution:{sm_name}:{name}", self.exec.arn_prefix()),
                "Input": input,
                "Name": name,
                "StartTime": self.exec.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
                "RedriveCount": 0,
            }),
            state_machine: json!({"Id": sm_arn, "Name": sm_name}),
        }
    }

    pub(crate) fn state_machine_name(&self) -> String {
        self.state_machine["Name"].as_str().unwrap_or_default().to_owned()
    }

    pub(crate) fn event(&self, event_type: &str, details: Value) {
        if let Ok(mut h) = self.history.lock() {
            let id = h.len() as u64 + 1;
            h.push(HistoryEvent {
                id,
                timestamp: self.exec.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
                event_type: event_type.to_owned(),
                details,
            });
        }
    }

    fn context(&self, state: &str, retry_count: u32, extra: Option<(&str, Value)>) -> Value {
        let mut ctx = json!({
            "Execution": self.execution,
            "StateMachine": self.state_machine,
            "State": {"Name": state, "EnteredTime": self.exec.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true), "RetryCount": retry_count},
        });
        if let Some((k, v)) = extra {
            ctx[k] = v;
        }
        ctx
    }
}

fn opt_path<'a>(obj: &'a Map<String, Value>, field: &str) -> Option<Option<&'a str>> {
    match obj.get(field) {
        None => Some(Some("$")),
        Some(Value::Null) => None,
        Some(v) => Some(v.as_str()),
    }
}

/// InputPath: `null` gives `{}`.
fn input_path(obj: &Map<String, Value>, raw: &Value, ctx: &Value) -> Result<Value, StatesError> {
    match opt_path(obj, "InputPath") {
        None => Ok(json!({})),
        Some(p) => path::read(p.unwrap_or("$"), raw, ctx),
    }
}

/// ResultPath onto the raw input: `null` discards the result.
fn result_path(obj: &Map<String, Value>, raw: Value, result: Value) -> Result<Value, StatesError> {
    match opt_path(obj, "ResultPath") {
        None => Ok(raw),
        Some(p) => path::write(raw, p.unwrap_or("$"), result),
    }
}

/// OutputPath: `null` gives `{}`.
fn output_path(obj: &Map<String, Value>, v: &Value, ctx: &Value) -> Result<Value, StatesError> {
    match opt_path(obj, "OutputPath") {
        None => Ok(json!({})),
        Some(p) => path::read(p.unwrap_or("$"), v, ctx),
    }
}

fn check_size(v: &Value, state: &str) -> Result<(), StatesError> {
    let size = compact(v).len();
    if size > MAX_PAYLOAD_BYTES {
        return Err(StatesError::new(
            "States.DataLimitExceeded",
            format!(
                "The state/task '{state}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
        ));
    }
    Ok(())
}

fn error_matches(names: &[Value], e: &StatesError) -> bool {
    names.iter().filter_map(Value::as_str).any(|n| match n {
        "States.ALL" => !e.is_terminal(),
        "States.TaskFailed" => !e.is_terminal() && e.error != "States.Timeout",
        other => other == e.error,
    })
}

impl Executor {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Executor {
            handlers: HashMap::new(),
            clock,
            storage: None,
            names: Mutex::new(HashSet::new()),
            account: "123456789012".into(),
            region: "local".into(),
        }
    }

    /// Registers a handler under the name a Task's `FunctionName` or Lambda ARN resolves to (the
    /// function name: the last `:`-segment of an ARN) or a `local:<name>` resource.
    pub fn register(&mut self, name: &str, h: Handler) {
        self.handlers.insert(name.to_owned(), h);
    }

    /// The object store the Distributed Map's ItemReader and ResultWriter use.
    pub fn with_storage(mut self, storage: crate::distributed::SharedStorage) -> Self {
        self.storage = Some(storage);
        self
    }

    pub(crate) fn storage(&self) -> Option<&crate::distributed::SharedStorage> {
        self.storage.as_ref()
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub(crate) fn arn_prefix(&self) -> String {
        format!("arn:aws:states:{}:{}", self.region, self.account)
    }

    pub fn handler_names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.handlers.keys().cloned().collect();
        n.sort();
        n
    }

    /// Starts and runs an execution to its end. A name used before is `ExecutionAlreadyExists`.
    pub async fn start(
        &self,
        machine: &StateMachine,
        name: &str,
        input: Value,
    ) -> Result<ExecutionResult, StatesError> {
        check_execution_name(name)?;
        if let Ok(mut names) = self.names.lock()
            && !names.insert(format!("{}/{name}", machine.name))
        {
            return Err(StatesError::new("ExecutionAlreadyExists", format!("Execution Already Exists: '{name}'")));
        }
        let sm_arn = format!("arn:aws:states:{}:{}:stateMachine:{}", self.region, self.account, machine.name);
        let run = Run {
            exec: self,
            history: Mutex::new(Vec::new()),
            execution: json!({
                "Id": format!("arn:aws:states:{}:{}:execution:{}:{name}", self.region, self.account, machine.name),
                "Input": input,
                "Name": name,
                "RoleArn": format!("arn:aws:iam::{}:role/local", self.account),
                "StartTime": self.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
                "RedriveCount": 0,
            }),
            state_machine: json!({"Id": sm_arn, "Name": machine.name}),
        };
        run.event("ExecutionStarted", json!({"input": compact(&input)}));
        let d = &machine.definition;
        let outcome = run_states(self, &run, &d["States"], d["StartAt"].as_str().unwrap_or_default(), input).await;
        let (status, output, error) = match outcome {
            Ok(out) => {
                run.event("ExecutionSucceeded", json!({"output": compact(&out)}));
                ("SUCCEEDED", Some(out), None)
            }
            Err(e) => {
                run.event("ExecutionFailed", json!({"error": e.error, "cause": e.cause}));
                ("FAILED", None, Some(e))
            }
        };
        let history = run.history.into_inner().unwrap_or_default();
        Ok(ExecutionResult { name: name.to_owned(), status, output, error, history })
    }
}

type Step = (Value, Option<String>);

/// Runs a Distributed Map child to its end (its own Run and copy of the processor's states).
pub(crate) async fn run_child(
    exec: &Executor,
    run: Run<'_>,
    states: Value,
    start: String,
    input: Value,
) -> Result<Value, StatesError> {
    run_states(exec, &run, &states, &start, input).await
}

fn run_states<'a>(
    exec: &'a Executor,
    run: &'a Run<'a>,
    states: &'a Value,
    start: &'a str,
    input: Value,
) -> Pin<Box<dyn Future<Output = Result<Value, StatesError>> + Send + 'a>> {
    Box::pin(async move {
        let mut current = start.to_owned();
        let mut raw = input;
        loop {
            let obj = states
                .get(&current)
                .and_then(Value::as_object)
                .ok_or_else(|| StatesError::runtime(format!("no state named '{current}'")))?;
            let kind = obj.get("Type").and_then(Value::as_str).unwrap_or_default();
            run.event(&format!("{kind}StateEntered"), json!({"name": current, "input": compact(&raw)}));
            let (output, next) = step(exec, run, &current, obj, raw).await?;
            check_size(&output, &current)?;
            run.event(&format!("{kind}StateExited"), json!({"name": current, "output": compact(&output)}));
            match next {
                Some(n) => {
                    current = n;
                    raw = output;
                }
                None => return Ok(output),
            }
        }
    })
}

async fn step(
    exec: &Executor,
    run: &Run<'_>,
    name: &str,
    obj: &Map<String, Value>,
    raw: Value,
) -> Result<Step, StatesError> {
    let ctx = run.context(name, 0, None);
    let next = obj.get("Next").and_then(Value::as_str).map(str::to_owned);
    let kind = obj.get("Type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "Pass" => {
            let eff = input_path(obj, &raw, &ctx)?;
            let result = match (obj.get("Result"), obj.get("Parameters")) {
                (Some(r), _) => r.clone(),
                (None, Some(t)) => payload::apply(t, &eff, &ctx)?,
                (None, None) => eff,
            };
            let v = result_path(obj, raw, result)?;
            Ok((output_path(obj, &v, &ctx)?, next))
        }
        "Succeed" => {
            let eff = input_path(obj, &raw, &ctx)?;
            Ok((output_path(obj, &eff, &ctx)?, None))
        }
        "Fail" => {
            let read = |field: &str, path_field: &str| -> Result<String, StatesError> {
                if let Some(p) = obj.get(path_field).and_then(Value::as_str) {
                    let v = path::read(p, &raw, &ctx)?;
                    return Ok(v.as_str().map(str::to_owned).unwrap_or_else(|| compact(&v)));
                }
                Ok(obj.get(field).and_then(Value::as_str).unwrap_or_default().to_owned())
            };
            Err(StatesError::new(read("Error", "ErrorPath")?, read("Cause", "CausePath")?))
        }
        "Choice" => {
            let eff = input_path(obj, &raw, &ctx)?;
            let mut chosen = None;
            for rule in obj.get("Choices").and_then(Value::as_array).into_iter().flatten() {
                if choice::evaluate(rule, &eff, &ctx)? {
                    chosen = rule.get("Next").and_then(Value::as_str).map(str::to_owned);
                    break;
                }
            }
            let chosen =
                chosen.or_else(|| obj.get("Default").and_then(Value::as_str).map(str::to_owned)).ok_or_else(|| {
                    StatesError::new(
                        "States.NoChoiceMatched",
                        format!("No Choice Rule matched and no Default in state '{name}'"),
                    )
                })?;
            Ok((output_path(obj, &eff, &ctx)?, Some(chosen)))
        }
        "Wait" => {
            let eff = input_path(obj, &raw, &ctx)?;
            let seconds = if let Some(s) = obj.get("Seconds").and_then(Value::as_f64) {
                s
            } else if let Some(p) = obj.get("SecondsPath").and_then(Value::as_str) {
                path::read(p, &eff, &ctx)?.as_f64().filter(|s| *s >= 0.0).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The SecondsPath parameter '{p}' does not reference a valid non-negative integer"
                    ))
                })?
            } else {
                let ts = match (obj.get("Timestamp"), obj.get("TimestampPath").and_then(Value::as_str)) {
                    (Some(t), _) => t.clone(),
                    (None, Some(p)) => path::read(p, &eff, &ctx)?,
                    _ => Value::Null,
                };
                let at = ts.as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).ok_or_else(|| {
                    StatesError::runtime(format!("The Timestamp '{}' is not an ISO-8601 timestamp", compact(&ts)))
                })?;
                (at.with_timezone(&Utc) - exec.clock.now()).num_milliseconds().max(0) as f64 / 1000.0
            };
            exec.clock.sleep(Duration::from_secs_f64(seconds)).await;
            Ok((output_path(obj, &eff, &ctx)?, next))
        }
        "Task" | "Parallel" | "Map" => {
            let eff = input_path(obj, &raw, &ctx)?;
            match with_retry(exec, run, name, obj, &eff).await {
                Ok(result) => {
                    let result = match obj.get("ResultSelector") {
                        Some(sel) => payload::apply(sel, &result, &ctx)?,
                        None => result,
                    };
                    let v = result_path(obj, raw, result)?;
                    Ok((output_path(obj, &v, &ctx)?, next))
                }
                Err(e) => {
                    for catcher in obj.get("Catch").and_then(Value::as_array).into_iter().flatten() {
                        let names =
                            catcher.get("ErrorEquals").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                        if error_matches(names, &e) {
                            let catcher_obj = catcher.as_object().cloned().unwrap_or_default();
                            let error_output = json!({"Error": e.error, "Cause": e.cause});
                            let v = result_path(&catcher_obj, raw, error_output)?;
                            let target = catcher.get("Next").and_then(Value::as_str).map(str::to_owned);
                            return Ok((v, target));
                        }
                    }
                    Err(e)
                }
            }
        }
        other => Err(StatesError::runtime(format!("state type '{other}' is not supported"))),
    }
}

/// Runs a Task/Parallel/Map body, retrying per its `Retry` block: per-retrier attempt counters,
/// IntervalSeconds × BackoffRate^n capped by MaxDelaySeconds, optional FULL jitter.
async fn with_retry(
    exec: &Executor,
    run: &Run<'_>,
    name: &str,
    obj: &Map<String, Value>,
    eff: &Value,
) -> Result<Value, StatesError> {
    let retriers: Vec<&Value> =
        obj.get("Retry").and_then(Value::as_array).map(|r| r.iter().collect()).unwrap_or_default();
    let mut attempts = vec![0u32; retriers.len()];
    let mut retry_count = 0;
    loop {
        let ctx = run.context(name, retry_count, None);
        let outcome = body(exec, run, name, obj, eff, &ctx).await;
        let e = match outcome {
            Ok(v) => return Ok(v),
            Err(e) if e.is_terminal() => return Err(e),
            Err(e) => e,
        };
        let Some(i) = retriers.iter().position(|r| {
            error_matches(r.get("ErrorEquals").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default(), &e)
        }) else {
            return Err(e);
        };
        let r = retriers[i];
        let max = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3) as u32;
        if attempts[i] >= max {
            return Err(e);
        }
        let interval = r.get("IntervalSeconds").and_then(Value::as_f64).unwrap_or(1.0);
        let backoff = r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0);
        let mut delay = interval * backoff.powi(attempts[i] as i32);
        if let Some(cap) = r.get("MaxDelaySeconds").and_then(Value::as_f64) {
            delay = delay.min(cap);
        }
        if r.get("JitterStrategy").and_then(Value::as_str) == Some("FULL") {
            let unit = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
            delay *= unit;
        }
        attempts[i] += 1;
        retry_count += 1;
        // AWS records no event of its own for a retry: the next attempt's TaskScheduled shows it.
        exec.clock.sleep(Duration::from_secs_f64(delay)).await;
    }
}

/// A Map's items from `ItemsPath` (default `$`): they must be an array.
pub(crate) fn items_at(obj: &Map<String, Value>, eff: &Value, ctx: &Value) -> Result<Vec<Value>, StatesError> {
    let items_path = obj.get("ItemsPath").and_then(Value::as_str).unwrap_or("$");
    match path::read(items_path, eff, ctx)? {
        Value::Array(items) => Ok(items),
        _ => Err(StatesError::runtime(format!("Item list under path '{items_path}' must be a JSON array"))),
    }
}

/// One attempt of a Task, Parallel or Map state's work (before ResultSelector).
async fn body(
    exec: &Executor,
    run: &Run<'_>,
    name: &str,
    obj: &Map<String, Value>,
    eff: &Value,
    ctx: &Value,
) -> Result<Value, StatesError> {
    match obj.get("Type").and_then(Value::as_str).unwrap_or_default() {
        "Task" => invoke(exec, run, obj, eff, ctx).await,
        "Parallel" => {
            let input = match obj.get("Parameters") {
                Some(t) => payload::apply(t, eff, ctx)?,
                None => eff.clone(),
            };
            run.event("ParallelStateStarted", Value::Null);
            let mut out = Vec::new();
            for branch in obj.get("Branches").and_then(Value::as_array).into_iter().flatten() {
                let start = branch.get("StartAt").and_then(Value::as_str).unwrap_or_default();
                match run_states(exec, run, &branch["States"], start, input.clone()).await {
                    Ok(v) => out.push(v),
                    Err(e) => {
                        run.event("ParallelStateFailed", json!({"error": e.error}));
                        return Err(e);
                    }
                }
            }
            run.event("ParallelStateSucceeded", Value::Null);
            Ok(Value::Array(out))
        }
        _ if obj.get("ItemProcessor").and_then(|p| p.pointer("/ProcessorConfig/Mode")).and_then(Value::as_str)
            == Some("DISTRIBUTED") =>
        {
            crate::distributed::run(exec, run, name, obj, eff, ctx).await
        }
        _ => {
            // Inline Map: ItemsPath → per item ItemSelector (or the legacy Parameters) → the
            // processor. Iterations run one after another, a valid schedule for any MaxConcurrency.
            let items = items_at(obj, eff, ctx)?;
            let processor = obj.get("ItemProcessor").or_else(|| obj.get("Iterator")).cloned().unwrap_or_default();
            let start = processor.get("StartAt").and_then(Value::as_str).unwrap_or_default().to_owned();
            let selector = obj.get("ItemSelector").or_else(|| obj.get("Parameters"));
            run.event("MapStateStarted", json!({"length": items.len()}));
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let item_ctx = run.context(name, 0, Some(("Map", json!({"Item": {"Index": index, "Value": item}}))));
                let input = match selector {
                    Some(t) => payload::apply(t, eff, &item_ctx)?,
                    None => item.clone(),
                };
                run.event("MapIterationStarted", json!({"index": index, "name": name}));
                match run_states(exec, run, &processor["States"], &start, input).await {
                    Ok(v) => {
                        run.event("MapIterationSucceeded", json!({"index": index, "name": name}));
                        out.push(v);
                    }
                    Err(e) => {
                        run.event("MapIterationFailed", json!({"index": index, "name": name}));
                        run.event("MapStateFailed", Value::Null);
                        return Err(e);
                    }
                }
            }
            run.event("MapStateSucceeded", Value::Null);
            Ok(Value::Array(out))
        }
    }
}

/// The function name a Lambda ARN or name resolves to (`...:function:<name>[:alias]`).
fn function_name(s: &str) -> &str {
    match s.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => s,
    }
}

async fn invoke(
    exec: &Executor,
    run: &Run<'_>,
    obj: &Map<String, Value>,
    eff: &Value,
    ctx: &Value,
) -> Result<Value, StatesError> {
    let resource = obj.get("Resource").and_then(Value::as_str).unwrap_or_default();
    let params = match obj.get("Parameters") {
        Some(t) => payload::apply(t, eff, ctx)?,
        None => eff.clone(),
    };
    let (function, event, wrapped) = if resource == "arn:aws:states:::lambda:invoke" {
        let f = params.get("FunctionName").and_then(Value::as_str).ok_or_else(|| {
            StatesError::runtime("The field 'FunctionName' is required by arn:aws:states:::lambda:invoke")
        })?;
        // Without Payload the function receives an empty object (UNCONFIRMED; definitions here
        // always pass one).
        (function_name(f).to_owned(), params.get("Payload").cloned().unwrap_or_else(|| json!({})), true)
    } else if let Some(local) = resource.strip_prefix("local:") {
        (local.to_owned(), params, false)
    } else {
        (function_name(resource).to_owned(), params, false)
    };
    run.event("TaskScheduled", json!({"resource": resource, "function": function, "parameters": compact(&event)}));
    let h = exec.handlers.get(&function).cloned().ok_or_else(|| {
        StatesError::new(
            "Lambda.ResourceNotFoundException",
            format!("Function not found: {function} (registered: {})", exec.handler_names().join(", ")),
        )
    })?;
    run.event("TaskStarted", Value::Null);
    let call = h(event);
    let result = match obj.get("TimeoutSeconds").and_then(Value::as_f64) {
        Some(t) => {
            let timeout = exec.clock.sleep(Duration::from_secs_f64(t));
            tokio::select! {
                biased;
                r = call => r,
                () = timeout => {
                    run.event("TaskTimedOut", Value::Null);
                    return Err(StatesError::new("States.Timeout", ""));
                }
            }
        }
        None => call.await,
    };
    match result {
        Ok(payload) => {
            run.event("TaskSucceeded", json!({"output": compact(&payload)}));
            Ok(if wrapped {
                json!({"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200})
            } else {
                payload
            })
        }
        Err(e) => {
            let cause = compact(&json!({"errorType": e.error_type, "errorMessage": e.error_message}));
            run.event("TaskFailed", json!({"error": e.error_type, "cause": cause}));
            Err(StatesError::new(e.error_type, cause))
        }
    }
}
