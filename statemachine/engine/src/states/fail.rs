//! Fail: its `Error` and `Cause`, given or read by `ErrorPath` / `CausePath` (a path or an
//! intrinsic function, as AWS accepts there).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::definition::{State, Text};
use crate::error::StatesError;
use crate::interpreter::Run;

pub(super) fn error(
    run: &Run,
    state: &State,
    error: &Text,
    cause: &Text,
    raw: &Value,
    entered: DateTime<Utc>,
) -> Result<StatesError, StatesError> {
    let ctx = run.context(&state.name, entered, 0, None);
    let read = |t: &Text| -> Result<String, StatesError> {
        let v = match t {
            Text::None => return Ok(String::new()),
            Text::Literal(s) => return Ok(s.clone()),
            Text::Path(p) => p.read(raw, &ctx)?,
            Text::Intrinsic(i) => i.evaluate(raw, &ctx)?,
        };
        Ok(v.as_str().map(str::to_owned).unwrap_or_else(|| crate::compact(&v)))
    };
    Ok(StatesError::new(read(error)?, read(cause)?))
}
