//! The states: the phases they share (InputPath → Parameters → work → ResultSelector →
//! ResultPath → OutputPath, then Retry and Catch), written once, and one module per kind.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Value, json};

use crate::definition::{IoPath, Kind, ResultPath, State};
use crate::error::StatesError;
use crate::interpreter::Run;
use crate::path::Ctx;
use crate::runtime::Event;

mod choice;
mod fail;
mod map;
mod parallel;
mod pass;
mod task;
mod wait;

/// A state's output and the state to go to (`None`: the end of its set of states).
pub(crate) type Step<'a> = (Value, Option<&'a str>);

/// InputPath: the effective input, borrowed from the raw input where the path allows.
pub(crate) fn effective<'v>(state: &State, raw: &'v Value, ctx: &'v Ctx<'_>) -> Result<Cow<'v, Value>, StatesError> {
    match &state.input_path {
        IoPath::Root => Ok(Cow::Borrowed(raw)),
        IoPath::Empty => Ok(Cow::Owned(json!({}))),
        IoPath::Path(p) => p.select(raw, ctx),
    }
}

/// `Parameters` applied to the effective input (or the effective input itself).
pub(crate) fn parameters(state: &State, eff: &Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
    match &state.parameters {
        Some(t) => t.apply(eff, ctx),
        None => Ok(eff.clone()),
    }
}

/// ResultPath onto the raw input: `$` replaces it, `null` discards the result.
pub(crate) fn place(result_path: &ResultPath, raw: Value, result: Value) -> Result<Value, StatesError> {
    match result_path {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(raw),
        ResultPath::Path(p) => p.write(raw, result),
    }
}

/// OutputPath: moves the selected node out (no copy); `null` gives `{}`.
pub(crate) fn output(state: &State, v: Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
    match &state.output_path {
        IoPath::Root => Ok(v),
        IoPath::Empty => Ok(json!({})),
        IoPath::Path(p) => p.take(v, ctx),
    }
}

/// ResultSelector, ResultPath and OutputPath, in that order.
pub(crate) fn finish(state: &State, raw: Value, result: Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
    let result = match &state.result_selector {
        Some(sel) => sel.apply(&result, ctx)?,
        None => result,
    };
    output(state, place(&state.result_path, raw, result)?, ctx)
}

/// Whether an error name list matches: `States.ALL` everything but the terminal errors,
/// `States.TaskFailed` everything but those and `States.Timeout`.
pub(crate) fn matches(names: &[String], e: &StatesError) -> bool {
    names.iter().any(|n| match n.as_str() {
        "States.ALL" => !e.is_terminal(),
        "States.TaskFailed" => !e.is_terminal() && e.error != "States.Timeout",
        other => other == e.error,
    })
}

/// Runs one state. Its input may be JSON text (a Distributed Map child's batch): a Task that
/// passes its input on whole ([`task::takes_text`]) hands the text to its function; every other
/// state reads it into a value first.
pub(crate) async fn run<'a>(run: &'a Run, state: &'a State, raw: Event) -> Result<Step<'a>, StatesError> {
    let entered = run.now();
    let raw = match raw {
        Event::Json(text) if task::takes_text(state) => {
            return with_recovery(run, state, Raw::Json(text), entered).await;
        }
        raw => raw.into_value().map_err(|e| StatesError::runtime(format!("the state input is not JSON: {e}")))?,
    };
    let next = state.next.as_deref();
    match &state.kind {
        Kind::Pass { result } => pass::run(run, state, result.as_ref(), raw, entered).map(|v| (v, next)),
        Kind::Succeed => {
            let ctx = run.context(&state.name, entered, 0, None);
            let eff = effective(state, &raw, &ctx)?.into_owned();
            Ok((output(state, eff, &ctx)?, None))
        }
        Kind::Fail { error, cause } => Err(fail::error(run, state, error, cause, &raw, entered)?),
        Kind::Choice { choices, default } => choice::run(run, state, choices, default.as_deref(), raw, entered),
        Kind::Wait(w) => wait::run(run, state, w, raw, entered).await.map(|v| (v, next)),
        Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map(_) => {
            with_recovery(run, state, Raw::Value(raw), entered).await
        }
    }
}

/// A Task, Parallel or Map state: its work under its `Retry` (per-retrier attempt counters,
/// IntervalSeconds × BackoffRate^n capped by MaxDelaySeconds, optional FULL jitter), then its
/// `Catch`.
async fn with_recovery<'a>(
    run: &'a Run,
    state: &'a State,
    raw: Raw,
    entered: chrono::DateTime<chrono::Utc>,
) -> Result<Step<'a>, StatesError> {
    let outcome = {
        let ctx0 = run.context(&state.name, entered, 0, None);
        let eff = match &raw {
            Raw::Value(v) => Eff::Value(effective(state, v, &ctx0)?),
            Raw::Json(text) => Eff::Json(text),
        };
        let mut attempts = vec![0u32; state.retry.len()];
        let mut retry_count = 0;
        loop {
            let ctx = run.context(&state.name, entered, retry_count, None);
            let attempt = match &eff {
                Eff::Value(eff) => work(run, state, eff, &ctx).await,
                Eff::Json(text) => task::run_text(run, state, text).await,
            };
            let e = match attempt {
                Ok(result) => break Ok(result),
                Err(e) if e.is_terminal() => break Err(e),
                Err(e) => e,
            };
            let Some(i) = state.retry.iter().position(|r| matches(&r.errors, &e)) else { break Err(e) };
            let r = &state.retry[i];
            if attempts[i] >= r.max_attempts {
                break Err(e);
            }
            // Load-time ranges keep this finite: interval ≤ 99,999,999 s, rate ≥ 1.
            let mut delay = r.interval_seconds * r.backoff_rate.powi(attempts[i].min(1_000) as i32);
            if let Some(cap) = r.max_delay_seconds {
                delay = delay.min(cap);
            }
            if r.full_jitter {
                delay *= (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
            }
            attempts[i] += 1;
            retry_count += 1;
            // AWS records no event of its own for a retry: the next attempt's TaskScheduled shows it.
            run.clock().sleep(Duration::try_from_secs_f64(delay).unwrap_or(Duration::MAX)).await;
        }
    };
    let ctx = run.context(&state.name, entered, 0, None);
    match outcome {
        Ok(result) => Ok((finish(state, raw.into_value(&state.result_path)?, result, &ctx)?, state.next.as_deref())),
        Err(e) => {
            for catcher in &state.catch {
                if matches(&catcher.errors, &e) {
                    let error_output = json!({"Error": e.error, "Cause": e.cause});
                    let raw = raw.into_value(&catcher.result_path)?;
                    return Ok((place(&catcher.result_path, raw, error_output)?, Some(catcher.next.as_str())));
                }
            }
            Err(e)
        }
    }
}

/// A Task, Parallel or Map state's raw input: a value, or JSON text a Task passes on as it is.
enum Raw {
    Value(Value),
    Json(std::sync::Arc<str>),
}

/// The effective input: after InputPath, or the text itself (InputPath `$`).
enum Eff<'a> {
    Value(Cow<'a, Value>),
    Json(&'a std::sync::Arc<str>),
}

impl Raw {
    /// The raw input as a value, for a ResultPath that keeps it; the text is read only then.
    fn into_value(self, result_path: &ResultPath) -> Result<Value, StatesError> {
        match (self, result_path) {
            (Raw::Value(v), _) => Ok(v),
            (Raw::Json(_), ResultPath::Replace) => Ok(Value::Null),
            (Raw::Json(text), _) => serde_json::from_str(&text)
                .map_err(|e| StatesError::runtime(format!("the state input is not JSON: {e}"))),
        }
    }
}

/// One attempt of a Task, Parallel or Map state's work (before ResultSelector).
async fn work(run: &Run, state: &State, eff: &Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
    match &state.kind {
        Kind::Task { resource, timeout } => task::run(run, state, resource, timeout.as_ref(), eff, ctx).await,
        Kind::Parallel { branches } => parallel::run(run, state, branches, eff, ctx).await,
        Kind::Map(m) => match &m.distributed {
            Some(d) => crate::distributed::run(run, state, m, d, eff, ctx).await,
            None => map::run(run, state, m, eff, ctx).await,
        },
        _ => Err(StatesError::runtime(format!("state '{}' has no work", state.name))),
    }
}

/// A number field's value: given, or read through its `…Path` and checked as AWS checks it
/// (`States.Runtime`, naming the path and the value).
pub(crate) fn number(
    n: &crate::definition::Number,
    field: &str,
    eff: &Value,
    ctx: &Ctx<'_>,
    valid: impl Fn(f64) -> bool,
    what: &str,
) -> Result<f64, StatesError> {
    match n {
        crate::definition::Number::Value(v) => Ok(*v),
        crate::definition::Number::Path(p) => {
            let v = p.select(eff, ctx)?;
            match v.as_f64() {
                Some(x) if valid(x) => Ok(x),
                _ => Err(StatesError::runtime(format!(
                    "The {field}Path field refers to value \"{}\" which is not {what}: {}",
                    v.as_str().map(str::to_owned).unwrap_or_else(|| crate::compact(&v)),
                    p.text()
                ))),
            }
        }
    }
}

/// A non-negative integer (counts, seconds).
pub(crate) fn non_negative_integer(x: f64) -> bool {
    x >= 0.0 && x.fract() == 0.0 && x <= 9.0e15
}

/// `MaxConcurrency` / `MaxConcurrencyPath`: a non-negative integer, 0 meaning no limit. AWS-recorded
/// cause for a value that is not one (LocalStack `test_max_concurrency_path`, 2024-06-19). AWS
/// stalls on a negative value (`test_max_concurrency_path_negative` records no failure); the
/// engine refuses it instead of hanging.
pub(crate) fn max_concurrency(n: &crate::definition::Number, eff: &Value, ctx: &Ctx<'_>) -> Result<usize, StatesError> {
    let m = number(n, "MaxConcurrency", eff, ctx, |x| x.fract() == 0.0, "a valid integer")?;
    if m < 0.0 {
        return Err(StatesError::runtime(format!(
            "Expected non-negative integer for MaxConcurrency, got '{m}' instead."
        )));
    }
    Ok(m.min(1.0e9) as usize)
}

pub(crate) use task::takes_text;

/// The items of a Map without an ItemReader.
pub(crate) use map::items as map_items;
