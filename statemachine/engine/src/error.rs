//! The two kinds of failure: a definition the engine refuses, and a runtime error as Step
//! Functions names it (what Retry and Catch match).

use serde::{Deserialize, Serialize};

/// A definition the engine cannot run, refused before the first state runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}field '{field}': {reason}", state.as_ref().map(|s| format!("state '{s}', ")).unwrap_or_default())]
pub struct DefinitionError {
    pub state: Option<String>,
    pub field: String,
    pub reason: String,
}

impl DefinitionError {
    /// A refusal of `field` (of `state`, when the field belongs to one).
    pub fn new(state: Option<&str>, field: impl Into<String>, reason: impl Into<String>) -> Self {
        DefinitionError { state: state.map(str::to_owned), field: field.into(), reason: reason.into() }
    }
}

/// A runtime error: `Error` and `Cause` exactly as Catch's error output carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct StatesError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause")]
    pub cause: String,
}

impl StatesError {
    /// An error with this name and cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError { error: error.into(), cause: cause.into() }
    }

    /// `States.Runtime`: not retried, not caught by `States.ALL`.
    pub fn runtime(cause: impl Into<String>) -> Self {
        StatesError::new("States.Runtime", cause)
    }

    /// `States.IntrinsicFailure`: an intrinsic function refused its arguments.
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        StatesError::new("States.IntrinsicFailure", cause)
    }

    /// A state's output over 256 KiB (`States.DataLimitExceeded`, not caught by `States.ALL`).
    pub fn data_limit(state: &str) -> Self {
        StatesError::new(
            "States.DataLimitExceeded",
            format!(
                "The state/task '{state}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
        )
    }

    /// The execution history reached 25,000 events: AWS fails the execution with
    /// `States.Runtime` and this cause (AWS console output quoted in loads/ardere#86 and
    /// floci-io/floci#2734).
    pub fn history_limit() -> Self {
        StatesError::runtime(format!(
            "The execution reached the maximum number of history events ({}).",
            crate::runtime::MAX_HISTORY_EVENTS
        ))
    }

    /// Errors that `States.ALL` does not catch (and Retry does not retry): the AWS developer
    /// guide's rule for `States.Runtime` and `States.DataLimitExceeded`. (LocalStack snapshots
    /// recorded against AWS in 2024 show a Task's `DataLimitExceeded` caught by `States.ALL`;
    /// the guide and shared/reference disagree with them, and this engine follows the guide.)
    pub fn is_terminal(&self) -> bool {
        matches!(self.error.as_str(), "States.Runtime" | "States.DataLimitExceeded")
    }
}
