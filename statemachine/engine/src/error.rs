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
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError { error: error.into(), cause: cause.into() }
    }

    /// `States.Runtime`: not retried, not caught by `States.ALL`.
    pub fn runtime(cause: impl Into<String>) -> Self {
        StatesError::new("States.Runtime", cause)
    }

    pub fn intrinsic(cause: impl Into<String>) -> Self {
        StatesError::new("States.IntrinsicFailure", cause)
    }

    /// Errors that `States.ALL` does not catch (and Retry does not retry).
    pub fn is_terminal(&self) -> bool {
        matches!(self.error.as_str(), "States.Runtime" | "States.DataLimitExceeded")
    }
}
