//! The local executor of the Amazon States Language: loads a definition, applies the
//! substitutions, and runs it with AWS's semantics (shared/reference/aws-step-functions.md).

pub mod choice;
pub mod distributed;
pub mod error;
pub mod exec;
pub mod intrinsics;
pub mod path;
pub mod payload;

pub use error::{DefinitionError, StatesError};
pub use exec::{
    Clock, ExecutionResult, Executor, HandlerError, HistoryEvent, StateMachine, SystemClock, VirtualClock, handler,
};

/// Compact JSON, as AWS writes it in causes and intrinsic results.
pub fn compact(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
