//! Task: a handler called as a Lambda function, with AWS's wrapper for
//! `arn:aws:states:::lambda:invoke`, its error mapping and `TimeoutSeconds`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::definition::{Number, Resource, State, function_name};
use crate::error::StatesError;
use crate::interpreter::Run;
use crate::path::Ctx;
use crate::runtime::BusyGuard;

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
    run.event(
        "TaskScheduled",
        || json!({"resource": resource_text(resource), "function": function, "parameters": crate::compact(&event)}),
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
