//! Parallel: every branch on the same input; the output is the array of their outputs, and the
//! first branch to fail fails the state with its error. Branches run one after another, a valid
//! schedule of AWS's concurrent branches.

use std::sync::Arc;

use serde_json::Value;

use crate::definition::{State, States};
use crate::error::StatesError;
use crate::interpreter::{Run, run_states};
use crate::path::Ctx;
use crate::runtime::Event;

pub(super) async fn run(
    run: &Run,
    state: &State,
    branches: &[Arc<States>],
    eff: &Value,
    ctx: &Ctx<'_>,
) -> Result<Value, StatesError> {
    let input = super::parameters(state, eff, ctx)?;
    run.event("ParallelStateStarted", || Value::Null);
    let mut out = Vec::with_capacity(branches.len());
    for branch in branches {
        match run_states(run, branch, Event::Value(input.clone())).await {
            Ok(v) => out.push(v),
            Err(e) => {
                run.event("ParallelStateFailed", || serde_json::json!({"error": e.error}));
                return Err(e);
            }
        }
    }
    run.event("ParallelStateSucceeded", || Value::Null);
    Ok(Value::Array(out))
}
