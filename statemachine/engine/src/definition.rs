//! A definition, parsed once into Rust types: an enum of state kinds, the Map with its
//! processor mode and Distributed fields, typed Retriers and Catchers, and every path, template,
//! choice rule and intrinsic compiled. Execution never looks a field up by name.
//!
//! Everything the engine cannot run faithfully is refused here, naming the state and field, and
//! numbers are checked against the ranges AWS's definition validation allows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::choice::{self, Rule};
use crate::error::DefinitionError;
use crate::intrinsics::{self, Intrinsic};
use crate::path::{Path, ReferencePath};
use crate::payload::Template;

/// The largest number AWS accepts in the integer fields of Wait, Retry and TimeoutSeconds
/// (ASL JSON schema: `maximum: 99999999`).
pub const MAX_DEFINITION_INTEGER: f64 = 99_999_999.0;

/// `MaxDelaySeconds` of a retrier: 1 to 31,622,400 s (366 days), as AWS validates it.
pub const MAX_RETRY_DELAY_SECONDS: f64 = 31_622_400.0;

/// A loaded, checked, compiled definition.
#[derive(Debug, Clone)]
pub struct StateMachine {
    /// The state machine's name (in ARNs and `$$.StateMachine.Name`).
    pub name: String,
    pub(crate) root: Arc<States>,
}

/// A set of states with its start (the machine, a Parallel branch, a Map's processor).
#[derive(Debug)]
pub(crate) struct States {
    pub start_at: String,
    pub states: HashMap<String, State>,
    /// Whether anything in these states (or nested ones) may read the context object (`$$`):
    /// when nothing does, a Distributed Map child needs no copy of its input for it.
    pub reads_context: bool,
}

/// Whether any string of a definition fragment mentions `$$` (conservative: a literal counts).
fn mentions_context(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("$$"),
        Value::Array(a) => a.iter().any(mentions_context),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains("$$") || mentions_context(v)),
        _ => false,
    }
}

/// `InputPath` / `OutputPath`: absent is `$`, `null` gives `{}`.
#[derive(Debug, Clone)]
pub(crate) enum IoPath {
    Root,
    Empty,
    Path(Path),
}

/// `ResultPath`: absent is `$` (the result replaces the input), `null` discards the result.
#[derive(Debug, Clone)]
pub(crate) enum ResultPath {
    Replace,
    Discard,
    Path(ReferencePath),
}

/// A number given in the definition or read through a `…Path` field at run time.
#[derive(Debug, Clone)]
pub(crate) enum Number {
    Value(f64),
    Path(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub errors: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub errors: Vec<String>,
    pub result_path: ResultPath,
    pub next: String,
}

/// What a Task invokes.
#[derive(Debug, Clone)]
pub(crate) enum Resource {
    /// `arn:aws:states:::lambda:invoke`: `FunctionName` and `Payload` come from Parameters, and
    /// the result is wrapped (`{"ExecutedVersion", "Payload", "StatusCode"}`).
    LambdaInvoke,
    /// A Lambda ARN or `local:<name>`: the function named, called with the effective parameters.
    Function(String),
}

/// A string field of a Fail state: given, or read by `ErrorPath`/`CausePath` (a path or an
/// intrinsic).
#[derive(Debug, Clone)]
pub(crate) enum Text {
    None,
    Literal(String),
    Path(Path),
    Intrinsic(Intrinsic),
}

#[derive(Debug, Clone)]
pub(crate) enum WaitFor {
    Seconds(u64),
    SecondsPath(Path),
    Timestamp(DateTime<Utc>),
    TimestampPath(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputType {
    Json,
    Jsonl,
    Csv,
}

#[derive(Debug, Clone)]
pub(crate) struct ItemReader {
    pub parameters: Template,
    pub input_type: InputType,
    pub max_items: Option<Number>,
}

#[derive(Debug, Clone)]
pub(crate) struct ItemBatcher {
    pub batch_input: Option<Template>,
    pub max_items: Option<Number>,
    pub max_bytes: Option<Number>,
}

/// `WriterConfig.OutputType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputType {
    Json,
    Jsonl,
}

/// `WriterConfig.Transformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transformation {
    /// Child outputs with the execution metadata (DescribeExecution-like records).
    None,
    /// Child outputs only.
    Compact,
    /// Child outputs only, arrays flattened one level.
    Flatten,
}

#[derive(Debug, Clone)]
pub(crate) struct ResultWriter {
    /// `Resource` + `Parameters` (`Bucket`, `Prefix`): the results go to storage. Without them
    /// (`WriterConfig` alone) the formatted results are the state's output.
    pub parameters: Option<Template>,
    pub output_type: OutputType,
    pub transformation: Transformation,
}

#[derive(Debug)]
pub(crate) struct Distributed {
    pub reader: Option<ItemReader>,
    pub batcher: Option<ItemBatcher>,
    pub writer: Option<ResultWriter>,
    pub tolerated_percentage: Option<Number>,
    pub tolerated_count: Option<Number>,
}

#[derive(Debug)]
pub(crate) struct MapState {
    pub items_path: Path,
    /// `ItemSelector`, or the legacy `Parameters`.
    pub item_selector: Option<Template>,
    pub processor: Arc<States>,
    pub max_concurrency: Option<Number>,
    pub label: String,
    pub distributed: Option<Distributed>,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Pass { result: Option<Value> },
    Task { resource: Resource, timeout: Option<Number> },
    Choice { choices: Vec<(Rule, String)>, default: Option<String> },
    Wait(WaitFor),
    Succeed,
    Fail { error: Text, cause: Text },
    Parallel { branches: Vec<Arc<States>> },
    Map(Box<MapState>),
}

/// One state: the phases every state shares, and its kind.
#[derive(Debug)]
pub(crate) struct State {
    pub name: String,
    /// `Pass`, `Task`, …: the prefix of its history events.
    pub type_name: &'static str,
    pub input_path: IoPath,
    pub output_path: IoPath,
    pub result_path: ResultPath,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// `None`: the state ends its set of states (End, Succeed, Fail; a Choice always transitions).
    pub next: Option<String>,
    pub kind: Kind,
}

const COMMON: [&str; 4] = ["Type", "Comment", "Next", "End"];

const DISTRIBUTED_FIELDS: [&str; 8] = [
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "Label",
];

fn allowed(kind: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match kind {
        "Pass" => ("Pass", &["InputPath", "OutputPath", "Parameters", "Result", "ResultPath"]),
        "Task" => (
            "Task",
            &[
                "Resource",
                "InputPath",
                "OutputPath",
                "Parameters",
                "ResultSelector",
                "ResultPath",
                "Retry",
                "Catch",
                "TimeoutSeconds",
                "TimeoutSecondsPath",
            ],
        ),
        "Choice" => ("Choice", &["InputPath", "OutputPath", "Choices", "Default"]),
        "Wait" => ("Wait", &["InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"]),
        "Succeed" => ("Succeed", &["InputPath", "OutputPath"]),
        "Fail" => ("Fail", &["Error", "Cause", "ErrorPath", "CausePath"]),
        "Parallel" => (
            "Parallel",
            &["Branches", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"],
        ),
        "Map" => (
            "Map",
            &[
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
                "MaxConcurrencyPath",
                "Label",
            ],
        ),
        _ => return None,
    })
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

/// Compiles the states of one scope; `scope` prefixes field names (`Map.ItemProcessor.`).
struct Loader<'a> {
    state: &'a str,
}

impl Loader<'_> {
    fn err(&self, field: impl Into<String>, reason: impl Into<String>) -> DefinitionError {
        DefinitionError::new(Some(self.state), field, reason)
    }

    fn io_path(&self, obj: &Map<String, Value>, field: &str) -> Result<IoPath, DefinitionError> {
        match obj.get(field) {
            None => Ok(IoPath::Root),
            Some(Value::Null) => Ok(IoPath::Empty),
            Some(Value::String(p)) => Path::parse(p).map(IoPath::Path).map_err(|e| self.err(field, e)),
            Some(_) => Err(self.err(field, "must be a path or null")),
        }
    }

    fn result_path(&self, obj: &Map<String, Value>) -> Result<ResultPath, DefinitionError> {
        match obj.get("ResultPath") {
            None => Ok(ResultPath::Replace),
            Some(Value::Null) => Ok(ResultPath::Discard),
            Some(Value::String(p)) => {
                let r = ReferencePath::parse(p).map_err(|e| self.err("ResultPath", e))?;
                Ok(if p == "$" { ResultPath::Replace } else { ResultPath::Path(r) })
            }
            Some(_) => Err(self.err("ResultPath", "must be a reference path or null")),
        }
    }

    fn template(&self, obj: &Map<String, Value>, field: &str) -> Result<Option<Template>, DefinitionError> {
        obj.get(field).map(|t| Template::compile(t).map_err(|e| self.err(field, e))).transpose()
    }

    fn path(&self, obj: &Map<String, Value>, field: &str) -> Result<Option<Path>, DefinitionError> {
        match obj.get(field) {
            None => Ok(None),
            Some(Value::String(p)) => Path::parse(p).map(Some).map_err(|e| self.err(field, e)),
            Some(_) => Err(self.err(field, "must be a path")),
        }
    }

    /// An integer field within `min..=max`.
    fn integer(&self, field: &str, v: &Value, min: f64, max: f64) -> Result<f64, DefinitionError> {
        match v.as_f64() {
            Some(n) if n.fract() == 0.0 && (min..=max).contains(&n) => Ok(n),
            _ => Err(self.err(field, format!("must be an integer from {min} to {max}, not {v}"))),
        }
    }

    /// `Field` (checked by `check`) or `FieldPath` (checked when read); not both.
    fn number(
        &self,
        obj: &Map<String, Value>,
        field: &str,
        check: impl Fn(&Value) -> Result<f64, DefinitionError>,
    ) -> Result<Option<Number>, DefinitionError> {
        let path_field = format!("{field}Path");
        match (obj.get(field), obj.get(&path_field)) {
            (Some(_), Some(_)) => Err(self.err(field, format!("cannot be given with {path_field}"))),
            (Some(v), None) => check(v).map(|n| Some(Number::Value(n))),
            (None, Some(_)) => Ok(self.path(obj, &path_field)?.map(Number::Path)),
            (None, None) => Ok(None),
        }
    }

    fn error_names(&self, field: &str, v: Option<&Value>) -> Result<Vec<String>, DefinitionError> {
        let list = v.and_then(Value::as_array).ok_or_else(|| self.err(field, "ErrorEquals is required"))?;
        if list.is_empty() {
            return Err(self.err(field, "ErrorEquals cannot be empty"));
        }
        list.iter()
            .map(|e| e.as_str().map(str::to_owned).ok_or_else(|| self.err(field, "error names are strings")))
            .collect()
    }

    fn retriers(&self, obj: &Map<String, Value>) -> Result<Vec<Retrier>, DefinitionError> {
        let Some(list) = obj.get("Retry") else { return Ok(Vec::new()) };
        let list = list.as_array().ok_or_else(|| self.err("Retry", "must be an array"))?;
        list.iter()
            .map(|r| {
                let r = r.as_object().ok_or_else(|| self.err("Retry", "a retrier must be an object"))?;
                let int = |f: &str, default: f64, min: f64, max: f64| -> Result<f64, DefinitionError> {
                    r.get(f).map_or(Ok(default), |v| self.integer(&format!("Retry.{f}"), v, min, max))
                };
                let backoff_rate = match r.get("BackoffRate") {
                    None => 2.0,
                    Some(v) => match v.as_f64() {
                        Some(b) if (1.0..=MAX_DEFINITION_INTEGER).contains(&b) => b,
                        _ => {
                            return Err(
                                self.err("Retry.BackoffRate", format!("must be a number of at least 1.0, not {v}"))
                            );
                        }
                    },
                };
                let full_jitter = match r.get("JitterStrategy").map(|v| v.as_str()) {
                    None | Some(Some("NONE")) => false,
                    Some(Some("FULL")) => true,
                    Some(_) => return Err(self.err("Retry.JitterStrategy", "must be FULL or NONE")),
                };
                Ok(Retrier {
                    errors: self.error_names("Retry", r.get("ErrorEquals"))?,
                    interval_seconds: int("IntervalSeconds", 1.0, 1.0, MAX_DEFINITION_INTEGER)?,
                    max_attempts: int("MaxAttempts", 3.0, 0.0, MAX_DEFINITION_INTEGER)? as u32,
                    backoff_rate,
                    max_delay_seconds: r
                        .get("MaxDelaySeconds")
                        .map(|v| self.integer("Retry.MaxDelaySeconds", v, 1.0, MAX_RETRY_DELAY_SECONDS))
                        .transpose()?,
                    full_jitter,
                })
            })
            .collect()
    }

    fn catchers(&self, obj: &Map<String, Value>, states: &Map<String, Value>) -> Result<Vec<Catcher>, DefinitionError> {
        let Some(list) = obj.get("Catch") else { return Ok(Vec::new()) };
        let list = list.as_array().ok_or_else(|| self.err("Catch", "must be an array"))?;
        list.iter()
            .map(|c| {
                let c = c.as_object().ok_or_else(|| self.err("Catch", "a catcher must be an object"))?;
                let next =
                    c.get("Next").and_then(Value::as_str).ok_or_else(|| self.err("Catch", "a catcher needs 'Next'"))?;
                if !states.contains_key(next) {
                    return Err(self.err("Catch", format!("names no state: '{next}'")));
                }
                Ok(Catcher {
                    errors: self.error_names("Catch", c.get("ErrorEquals"))?,
                    result_path: self.result_path(c)?,
                    next: next.to_owned(),
                })
            })
            .collect()
    }
}

fn compile_states(states: &Value, start_at: Option<&Value>, scope: &str) -> Result<Arc<States>, DefinitionError> {
    let states =
        states.as_object().ok_or_else(|| DefinitionError::new(None, format!("{scope}States"), "must be an object"))?;
    let start = start_at
        .and_then(Value::as_str)
        .ok_or_else(|| DefinitionError::new(None, format!("{scope}StartAt"), "is required"))?;
    if !states.contains_key(start) {
        return Err(DefinitionError::new(None, format!("{scope}StartAt"), format!("names no state: '{start}'")));
    }
    let mut compiled = HashMap::with_capacity(states.len());
    for (name, state) in states {
        compiled.insert(name.clone(), compile_state(name, state, states)?);
    }
    Ok(Arc::new(States {
        start_at: start.to_owned(),
        states: compiled,
        reads_context: states.values().any(mentions_context),
    }))
}

fn compile_state(name: &str, state: &Value, states: &Map<String, Value>) -> Result<State, DefinitionError> {
    let l = Loader { state: name };
    let obj = state.as_object().ok_or_else(|| l.err("Type", "a state must be an object"))?;
    let kind = obj.get("Type").and_then(Value::as_str).ok_or_else(|| l.err("Type", "is required"))?;
    let (type_name, fields) = allowed(kind).ok_or_else(|| l.err("Type", format!("'{kind}' is not a state type")))?;
    if obj.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
        return Err(l.err("QueryLanguage", "JSONata is not supported by the local engine"));
    }
    let processor = obj.get("ItemProcessor").or_else(|| obj.get("Iterator"));
    let distributed = kind == "Map"
        && processor.and_then(|p| p.pointer("/ProcessorConfig/Mode")).and_then(Value::as_str) == Some("DISTRIBUTED");
    for key in obj.keys() {
        if key == "QueryLanguage" {
            continue;
        }
        let known = COMMON.contains(&key.as_str())
            || fields.contains(&key.as_str())
            || (distributed && DISTRIBUTED_FIELDS.contains(&key.as_str()));
        if !known {
            let reason = match (kind, key.as_str()) {
                ("Map", k) if DISTRIBUTED_FIELDS.contains(&k) => {
                    "is a Distributed Map field, but ItemProcessor.ProcessorConfig.Mode is not DISTRIBUTED".to_owned()
                }
                (_, "Assign" | "Arguments" | "Output") => {
                    "is a JSONata/variables field the local engine does not support".to_owned()
                }
                _ => format!("is not supported on a {kind} state"),
            };
            return Err(l.err(key.clone(), reason));
        }
    }
    let target = |field: &str, n: &str| -> Result<String, DefinitionError> {
        if states.contains_key(n) { Ok(n.to_owned()) } else { Err(l.err(field, format!("names no state: '{n}'"))) }
    };
    let next = match obj.get("Next") {
        Some(Value::String(n)) => Some(target("Next", n)?),
        Some(_) => return Err(l.err("Next", "must be a state name")),
        None => None,
    };
    let terminal = matches!(kind, "Succeed" | "Fail" | "Choice");
    if !terminal && next.is_none() && obj.get("End") != Some(&Value::Bool(true)) {
        return Err(l.err("Next", "a state needs 'Next' or \"End\": true"));
    }

    let compiled_kind = match kind {
        "Pass" => Kind::Pass { result: obj.get("Result").cloned() },
        "Task" => {
            let resource =
                obj.get("Resource").and_then(Value::as_str).ok_or_else(|| l.err("Resource", "is required"))?;
            let resource = if resource == "arn:aws:states:::lambda:invoke" {
                Resource::LambdaInvoke
            } else if let Some(local) = resource.strip_prefix("local:") {
                Resource::Function(local.to_owned())
            } else if resource.starts_with("arn:aws:lambda:") {
                Resource::Function(function_name(resource).to_owned())
            } else {
                return Err(l.err(
                    "Resource",
                    format!("'{resource}' is not supported (Lambda invoke, a Lambda ARN or a built-in handler)"),
                ));
            };
            let timeout =
                l.number(obj, "TimeoutSeconds", |v| l.integer("TimeoutSeconds", v, 1.0, MAX_DEFINITION_INTEGER))?;
            Kind::Task { resource, timeout }
        }
        "Choice" => {
            let rules = obj.get("Choices").and_then(Value::as_array).ok_or_else(|| l.err("Choices", "is required"))?;
            if rules.is_empty() {
                return Err(l.err("Choices", "needs at least one rule"));
            }
            let mut choices = Vec::with_capacity(rules.len());
            for rule in rules {
                choice::check(rule, true).map_err(|e| l.err("Choices", e))?;
                let n = rule.get("Next").and_then(Value::as_str).unwrap_or_default();
                let n = target("Choices", n)?;
                choices.push((Rule::compile(rule).map_err(|e| l.err("Choices", e))?, n));
            }
            let default = obj.get("Default").and_then(Value::as_str).map(|d| target("Default", d)).transpose()?;
            Kind::Choice { choices, default }
        }
        "Wait" => {
            let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                .into_iter()
                .filter(|f| obj.contains_key(*f))
                .collect();
            if given.len() != 1 {
                return Err(l.err(
                    "Seconds",
                    "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
                ));
            }
            Kind::Wait(match given[0] {
                "Seconds" => {
                    WaitFor::Seconds(l.integer("Seconds", &obj["Seconds"], 0.0, MAX_DEFINITION_INTEGER)? as u64)
                }
                "Timestamp" => {
                    let t = obj["Timestamp"].as_str().and_then(parse_timestamp).ok_or_else(|| {
                        l.err("Timestamp", format!("{} is not an ISO-8601 timestamp", obj["Timestamp"]))
                    })?;
                    WaitFor::Timestamp(t)
                }
                "SecondsPath" => WaitFor::SecondsPath(l.path(obj, "SecondsPath")?.unwrap_or_else(root)),
                _ => WaitFor::TimestampPath(l.path(obj, "TimestampPath")?.unwrap_or_else(root)),
            })
        }
        "Succeed" => Kind::Succeed,
        "Fail" => {
            let text = |field: &str, path_field: &str| -> Result<Text, DefinitionError> {
                match (obj.get(field), obj.get(path_field)) {
                    (Some(_), Some(_)) => Err(l.err(field, format!("cannot be given with {path_field}"))),
                    (Some(v), None) => {
                        v.as_str().map(|s| Text::Literal(s.to_owned())).ok_or_else(|| l.err(field, "must be a string"))
                    }
                    (None, Some(Value::String(p))) if intrinsics::is_intrinsic(p) => {
                        Intrinsic::parse(p).map(Text::Intrinsic).map_err(|e| l.err(path_field, e.cause))
                    }
                    (None, Some(Value::String(p))) => Path::parse(p).map(Text::Path).map_err(|e| l.err(path_field, e)),
                    (None, Some(_)) => Err(l.err(path_field, "must be a path or an intrinsic function")),
                    (None, None) => Ok(Text::None),
                }
            };
            Kind::Fail { error: text("Error", "ErrorPath")?, cause: text("Cause", "CausePath")? }
        }
        "Parallel" => {
            let list = obj.get("Branches").and_then(Value::as_array).ok_or_else(|| l.err("Branches", "is required"))?;
            let branches = list
                .iter()
                .enumerate()
                .map(|(i, b)| compile_states(&b["States"], b.get("StartAt"), &format!("{name}.Branches[{i}].")))
                .collect::<Result<_, _>>()?;
            Kind::Parallel { branches }
        }
        _ => Kind::Map(Box::new(compile_map(&l, name, obj, processor, distributed)?)),
    };

    // Map takes its item selector from Parameters (the legacy form); every other kind that
    // allows Parameters applies it to the effective input.
    let parameters = if kind == "Map" { None } else { l.template(obj, "Parameters")? };
    Ok(State {
        name: name.to_owned(),
        type_name,
        input_path: l.io_path(obj, "InputPath")?,
        output_path: l.io_path(obj, "OutputPath")?,
        result_path: l.result_path(obj)?,
        parameters,
        result_selector: l.template(obj, "ResultSelector")?,
        retry: l.retriers(obj)?,
        catch: l.catchers(obj, states)?,
        next: if kind == "Choice" { None } else { next },
        kind: compiled_kind,
    })
}

fn root() -> Path {
    Path::parse("$").unwrap_or_else(|_| unreachable!("'$' is a path"))
}

fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// The function name a Lambda ARN or name resolves to (`...:function:<name>[:alias]`).
pub(crate) fn function_name(s: &str) -> &str {
    match s.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => s,
    }
}

fn compile_map(
    l: &Loader<'_>,
    name: &str,
    obj: &Map<String, Value>,
    processor: Option<&Value>,
    distributed: bool,
) -> Result<MapState, DefinitionError> {
    let proc = processor.ok_or_else(|| l.err("ItemProcessor", "is required"))?;
    if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
        return Err(l.err("Parameters", "cannot be given with ItemSelector"));
    }
    let item_selector = match l.template(obj, "ItemSelector")? {
        Some(t) => Some(t),
        None => l.template(obj, "Parameters")?,
    };
    let max_concurrency =
        l.number(obj, "MaxConcurrency", |v| l.integer("MaxConcurrency", v, 0.0, MAX_DEFINITION_INTEGER))?;
    let label = obj.get("Label").and_then(Value::as_str).unwrap_or(name).to_owned();
    let distributed = if distributed { Some(compile_distributed(l, obj)?) } else { None };
    let processor = compile_states(&proc["States"], proc.get("StartAt"), &format!("{name}.ItemProcessor."))?;
    Ok(MapState {
        items_path: l.path(obj, "ItemsPath")?.unwrap_or_else(root),
        item_selector,
        processor,
        max_concurrency,
        label,
        distributed,
    })
}

fn compile_distributed(l: &Loader<'_>, obj: &Map<String, Value>) -> Result<Distributed, DefinitionError> {
    let object = |field: &str| -> Result<Option<&Map<String, Value>>, DefinitionError> {
        obj.get(field).map(|v| v.as_object().ok_or_else(|| l.err(field, "must be an object"))).transpose()
    };
    let reader = match object("ItemReader")? {
        None => None,
        Some(r) => {
            if r.get("Resource").and_then(Value::as_str) != Some("arn:aws:states:::s3:getObject") {
                return Err(l.err("ItemReader.Resource", "only arn:aws:states:::s3:getObject is supported"));
            }
            let config = r.get("ReaderConfig").and_then(Value::as_object).cloned().unwrap_or_default();
            let input_type = match config.get("InputType").and_then(Value::as_str).unwrap_or("JSON") {
                "JSON" => InputType::Json,
                "JSONL" => InputType::Jsonl,
                "CSV" => InputType::Csv,
                other => {
                    return Err(l.err(
                        "ItemReader.ReaderConfig.InputType",
                        format!("{other} is not supported (JSON, JSONL, CSV)"),
                    ));
                }
            };
            if config.get("CSVHeaderLocation").and_then(Value::as_str) == Some("GIVEN") {
                return Err(l.err("ItemReader.ReaderConfig.CSVHeaderLocation", "GIVEN headers are not supported"));
            }
            // AWS-recorded: MaxItems 0 means no limit; 100,000,001 is accepted (reference §1.2).
            let max_items = l.number(&config, "MaxItems", |v| {
                l.integer("ItemReader.ReaderConfig.MaxItems", v, 0.0, f64::from(u32::MAX))
            })?;
            let parameters = Template::compile(r.get("Parameters").unwrap_or(&Value::Object(Map::new())))
                .map_err(|e| l.err("ItemReader.Parameters", e))?;
            Some(ItemReader { parameters, input_type, max_items })
        }
    };
    let batcher = match object("ItemBatcher")? {
        None => None,
        Some(b) => Some(ItemBatcher {
            batch_input: l.template(b, "BatchInput")?,
            max_items: l.number(b, "MaxItemsPerBatch", |v| {
                l.integer("ItemBatcher.MaxItemsPerBatch", v, 1.0, MAX_DEFINITION_INTEGER)
            })?,
            max_bytes: l.number(b, "MaxInputBytesPerBatch", |v| {
                l.integer("ItemBatcher.MaxInputBytesPerBatch", v, 1.0, crate::runtime::MAX_PAYLOAD_BYTES as f64)
            })?,
        }),
    };
    let writer = match object("ResultWriter")? {
        None => None,
        Some(w) => {
            let has_resource = w.contains_key("Resource");
            if has_resource && w.get("Resource").and_then(Value::as_str) != Some("arn:aws:states:::s3:putObject") {
                return Err(l.err("ResultWriter.Resource", "only arn:aws:states:::s3:putObject is supported"));
            }
            let config = w.get("WriterConfig").and_then(Value::as_object);
            if !has_resource && config.is_none() {
                return Err(l.err("ResultWriter", "needs Resource and Parameters, WriterConfig, or all three"));
            }
            let pick = |field: &str, default: &str| {
                config.and_then(|c| c.get(field)).and_then(Value::as_str).unwrap_or(default).to_owned()
            };
            let output_type = match pick("OutputType", "JSON").as_str() {
                "JSON" => OutputType::Json,
                "JSONL" => OutputType::Jsonl,
                other => {
                    return Err(l.err("ResultWriter.WriterConfig.OutputType", format!("{other} is not JSON or JSONL")));
                }
            };
            // NONE is the default when exporting to S3 without WriterConfig (AWS ResultWriter doc).
            let transformation = match pick("Transformation", "NONE").as_str() {
                "NONE" => Transformation::None,
                "COMPACT" => Transformation::Compact,
                "FLATTEN" => Transformation::Flatten,
                other => {
                    return Err(l.err(
                        "ResultWriter.WriterConfig.Transformation",
                        format!("{other} is not NONE, COMPACT or FLATTEN"),
                    ));
                }
            };
            let parameters = if has_resource {
                Some(
                    Template::compile(w.get("Parameters").unwrap_or(&Value::Object(Map::new())))
                        .map_err(|e| l.err("ResultWriter.Parameters", e))?,
                )
            } else {
                None
            };
            Some(ResultWriter { parameters, output_type, transformation })
        }
    };
    let percentage = |v: &Value| match v.as_f64() {
        Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(l.err("ToleratedFailurePercentage", format!("must be a number from 0 to 100, not {v}"))),
    };
    Ok(Distributed {
        reader,
        batcher,
        writer,
        tolerated_percentage: l.number(obj, "ToleratedFailurePercentage", percentage)?,
        tolerated_count: l.number(obj, "ToleratedFailureCount", |v| {
            l.integer("ToleratedFailureCount", v, 0.0, f64::from(u32::MAX))
        })?,
    })
}

impl StateMachine {
    /// Parses, substitutes, checks and compiles a definition. Anything the engine cannot run
    /// faithfully is refused here, naming the state and field.
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
        let root = compile_states(&definition["States"], definition.get("StartAt"), "")?;
        Ok(StateMachine { name: name.to_owned(), root })
    }
}
