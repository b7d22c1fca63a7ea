//! Task: a handler called as a Lambda function, with AWS's wrapper for
//! `arn:aws:states:::lambda:invoke`, its error mapping and `TimeoutSeconds`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::definition::{IoPath, Kind, Number, Resource, State, function_name};
use crate::error::StatesError;
use crate::interpreter::Run;
use crate::path::Ctx;
use crate::runtime::{BusyGuard, Event};

/// Whether the Task passes its whole input on to its function unchanged, so that an input held
/// as JSON text can be handed over as that text: InputPath `$`, no `TimeoutSecondsPath`, and
/// either `arn:aws:states:::lambda:invoke` with `Parameters` of literals and `"Payload.$": "$"`
/// or a function ARN without `Parameters`.
pub(crate) fn takes_text(state: &State) -> bool {
    let Kind::Task { resource, timeout } = &state.kind else { return false };
    let plain = matches!(state.input_path, IoPath::Root) && !matches!(timeout, Some(Number::Path(_)));
    plain
        && match (resource, &state.parameters) {
            (Resource::LambdaInvoke, Some(t)) => {
                t.passes_input_as("Payload") && t.literal_field("FunctionName").is_some_and(Value::is_string)
            }
            (Resource::Function(_), None) => true,
            _ => false,
        }
}

/// A Task for which [`takes_text`] holds, on an input held as JSON text: the text is the event.
pub(super) async fn run_text(run: &Run, state: &State, text: &Arc<str>) -> Result<Value, StatesError> {
    let Kind::Task { resource, timeout } = &state.kind else {
        return Err(StatesError::runtime(format!("state '{}' is not a Task", state.name)));
    };
    let function = match resource {
        Resource::LambdaInvoke => state
            .parameters
            .as_ref()
            .and_then(|t| t.literal_field("FunctionName"))
            .and_then(Value::as_str)
            .map(|f| function_name(f).to_owned())
            .ok_or_else(|| {
                StatesError::runtime("The field 'FunctionName' is required by arn:aws:states:::lambda:invoke")
            })?,
        Resource::Function(f) => f.clone(),
    };
    let timeout = match timeout {
        Some(Number::Value(t)) => Some(*t),
        _ => None,
    };
    let wrapped = matches!(resource, Resource::LambdaInvoke);
    call(run, resource, function, Event::Json(text.clone()), wrapped, timeout).await
}

pub(super) async fn run(
    run: &Run,
    state: &State,
    resource: &Resource,
    timeout: Option<&Number>,
    eff: &Value,
    ctx: &Ctx<'_>,
) -> Result<Value, StatesError> {
    let params = super::parameters(state, eff, ctx)?;
    let (function, event, wrapped) = match resource {
        Resource::LambdaInvoke => {
            let mut params = match params {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            let f = params.get("FunctionName").and_then(Value::as_str).ok_or_else(|| {
                StatesError::runtime("The field 'FunctionName' is required by arn:aws:states:::lambda:invoke")
            })?;
            let f = function_name(f).to_owned();
            // Without Payload the function receives an empty object (UNCONFIRMED; definitions here
            // always pass one).
            (f, params.remove("Payload").unwrap_or_else(|| json!({})), true)
        }
        Resource::Function(f) => (f.clone(), params, false),
    };
    let timeout = timeout
        .map(|t| {
            super::number(
                t,
                "TimeoutSeconds",
                eff,
                ctx,
                |x| x >= 1.0 && super::non_negative_integer(x),
                "a positive integer",
            )
        })
        .transpose()?;
    call(run, resource, function, Event::Value(event), wrapped, timeout).await
}

/// Calls the function with its event, under the Task's timeout, and maps its answer.
async fn call(
    run: &Run,
    resource: &Resource,
    function: String,
    event: Event,
    wrapped: bool,
    timeout: Option<f64>,
) -> Result<Value, StatesError> {
    run.event(
        "TaskScheduled",
        || json!({"resource": resource_text(resource), "function": function, "parameters": event.text()}),
    );
    let h = run.shared.handlers.get(&function).cloned().ok_or_else(|| {
        StatesError::new(
            "Lambda.ResourceNotFoundException",
            format!("Function not found: {function} (registered: {})", run.shared.handler_names().join(", ")),
        )
    })?;
    run.event("TaskStarted", || Value::Null);
    let result = {
        run.shared.busy.enter();
        let _busy = BusyGuard(&run.shared.busy);
        let call = h(event);
        match timeout {
            Some(t) => {
                let timeout = run.clock().sleep(Duration::from_secs(t as u64));
                tokio::select! {
                    biased;
                    r = call => r,
                    () = timeout => {
                        run.event("TaskTimedOut", || Value::Null);
                        return Err(StatesError::new("States.Timeout", ""));
                    }
                }
            }
            None => call.await,
        }
    };
    match result {
        Ok(payload) => {
            run.event("TaskSucceeded", || json!({"output": crate::compact(&payload)}));
            Ok(if wrapped {
                json!({"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200})
            } else {
                payload
            })
        }
        Err(e) => {
            let cause = crate::compact(&json!({"errorType": e.error_type, "errorMessage": e.error_message}));
            run.event("TaskFailed", || json!({"error": e.error_type, "cause": cause}));
            Err(StatesError::new(e.error_type, cause))
        }
    }
}

fn resource_text(r: &Resource) -> String {
    match r {
        Resource::LambdaInvoke => "arn:aws:states:::lambda:invoke".into(),
        Resource::Function(f) => f.clone(),
    }
}
