//! Inline Map: ItemsPath → per item ItemSelector (or the legacy Parameters) → the processor.
//! Iterations run one after another, a valid schedule for any MaxConcurrency (which is still
//! read and checked, `MaxConcurrencyPath` included).

use serde_json::{Value, json};

use crate::definition::{MapState, State};
use crate::error::StatesError;
use crate::interpreter::{Run, run_states};
use crate::path::Ctx;
use crate::runtime::Event;

/// The items at `ItemsPath`: they must be an array.
pub(crate) fn items(map: &MapState, eff: &Value, ctx: &Ctx<'_>) -> Result<Vec<Value>, StatesError> {
    match map.items_path.read(eff, ctx)? {
        Value::Array(items) => Ok(items),
        _ => {
            Err(StatesError::runtime(format!("Item list under path '{}' must be a JSON array", map.items_path.text())))
        }
    }
}

pub(super) async fn run(
    run: &Run,
    state: &State,
    map: &MapState,
    eff: &Value,
    ctx: &Ctx<'_>,
) -> Result<Value, StatesError> {
    if let Some(n) = &map.max_concurrency {
        super::max_concurrency(n, eff, ctx)?;
    }
    let items = items(map, eff, ctx)?;
    run.event("MapStateStarted", || json!({"length": items.len()}));
    let entered = run.now();
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let input = match &map.item_selector {
            Some(t) => t.apply(eff, &run.context(&state.name, entered, 0, Some((index, item))))?,
            None => item.clone(),
        };
        run.event("MapIterationStarted", || json!({"index": index, "name": state.name}));
        match run_states(run, &map.processor, Event::Value(input)).await {
            Ok(v) => {
                run.event("MapIterationSucceeded", || json!({"index": index, "name": state.name}));
                out.push(v);
            }
            Err(e) => {
                run.event("MapIterationFailed", || json!({"index": index, "name": state.name}));
                run.event("MapStateFailed", || Value::Null);
                return Err(e);
            }
        }
    }
    run.event("MapStateSucceeded", || Value::Null);
    Ok(Value::Array(out))
}
