//! Pass: `Result`, or `Parameters` over the effective input, placed by ResultPath.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::definition::State;
use crate::error::StatesError;
use crate::interpreter::Run;

pub(super) fn run(
    run: &Run,
    state: &State,
    result: Option<&Value>,
    raw: Value,
    entered: DateTime<Utc>,
) -> Result<Value, StatesError> {
    let ctx = run.context(&state.name, entered, 0, None);
    let value = {
        let eff = super::effective(state, &raw, &ctx)?;
        match result {
            Some(r) => r.clone(),
            None => super::parameters(state, &eff, &ctx)?,
        }
    };
    super::output(state, super::place(&state.result_path, raw, value)?, &ctx)
}
