//! Choice: the first rule that holds names the next state, else `Default`, else
//! `States.NoChoiceMatched`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Step;
use crate::choice::Rule;
use crate::definition::State;
use crate::error::StatesError;
use crate::interpreter::Run;

pub(super) fn run<'a>(
    run: &Run,
    state: &'a State,
    choices: &'a [(Rule, String)],
    default: Option<&'a str>,
    raw: Value,
    entered: DateTime<Utc>,
) -> Result<Step<'a>, StatesError> {
    let ctx = run.context(&state.name, entered, 0, None);
    let eff = super::effective(state, &raw, &ctx)?;
    let mut chosen = None;
    for (rule, next) in choices {
        if rule.evaluate(&eff, &ctx)? {
            chosen = Some(next.as_str());
            break;
        }
    }
    let chosen = chosen.or(default).ok_or_else(|| {
        StatesError::new(
            "States.NoChoiceMatched",
            format!("No Choice Rule matched and no Default in state '{}'", state.name),
        )
    })?;
    let eff = eff.into_owned();
    Ok((super::output(state, eff, &ctx)?, Some(chosen)))
}
