//! Wait: `Seconds` (checked at load), `SecondsPath` (a non-negative integer no larger than AWS
//! allows, checked when read), `Timestamp` or `TimestampPath` (ISO 8601; a time in the past
//! does not wait).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::definition::{MAX_DEFINITION_INTEGER, State, WaitFor};
use crate::error::StatesError;
use crate::interpreter::Run;

pub(super) async fn run(
    run: &Run,
    state: &State,
    wait: &WaitFor,
    raw: Value,
    entered: DateTime<Utc>,
) -> Result<Value, StatesError> {
    let ctx = run.context(&state.name, entered, 0, None);
    let eff = super::effective(state, &raw, &ctx)?.into_owned();
    let until = |at: DateTime<Utc>| (at - run.now()).num_milliseconds().max(0) as u64;
    let millis = match wait {
        WaitFor::Seconds(s) => s * 1000,
        WaitFor::SecondsPath(p) => {
            // Causes as LocalStack words them to match AWS (its AWS recording of these cases is
            // not stored anywhere we can read: UNCONFIRMED).
            let v = p.select(&eff, &ctx).map_err(|_| {
                StatesError::runtime(format!(
                    "The SecondsPath parameter does not reference an input value: {}",
                    p.text()
                ))
            })?;
            let shown = || format!("{} == {}", p.text(), crate::compact(&v));
            match v.as_f64() {
                Some(s) if s < 0.0 => {
                    return Err(StatesError::runtime(format!(
                        "The SecondsPath parameter references a negative value: {}",
                        shown()
                    )));
                }
                Some(s) if s.fract() == 0.0 && s <= MAX_DEFINITION_INTEGER => s as u64 * 1000,
                _ => {
                    return Err(StatesError::runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {}",
                        shown()
                    )));
                }
            }
        }
        WaitFor::Timestamp(at) => until(*at),
        WaitFor::TimestampPath(p) => {
            // AWS-recorded cause (LocalStack test_wait_timestamp_path, 2024-12-27).
            let v = p.select(&eff, &ctx)?;
            let at = v.as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).ok_or_else(|| {
                StatesError::runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                    p.text(),
                    v.as_str().map(str::to_owned).unwrap_or_else(|| crate::compact(&v))
                ))
            })?;
            until(at.with_timezone(&Utc))
        }
    };
    run.clock().sleep(Duration::from_millis(millis)).await;
    super::output(state, eff, &ctx)
}
