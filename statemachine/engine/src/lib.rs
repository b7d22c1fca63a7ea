//! The local executor of the Amazon States Language: loads a definition into typed, compiled
//! states, and runs it with AWS's semantics (shared/reference/aws-step-functions.md).
//!
//! - [`definition`]: the types and the load-time checks;
//! - [`runtime`]: clock, handlers, storage, history;
//! - [`interpreter`]: executions and the loop every set of states runs;
//! - `states`: the phases every state shares, and one module per state kind;
//! - [`distributed`]: the Distributed Map;
//! - [`path`], [`payload`], [`choice`], [`intrinsics`]: what the states evaluate, compiled once.

pub mod choice;
pub mod definition;
pub mod distributed;
pub mod error;
pub mod interpreter;
pub mod intrinsics;
pub mod path;
pub mod payload;
pub mod runtime;
mod states;

pub use definition::StateMachine;
pub use error::{DefinitionError, StatesError};
pub use interpreter::{CpuClock, ExecutionResult, ExecutionStats, Executor, StateTiming, check_execution_name};
pub use runtime::{
    BoxFuture, Clock, Event, Handler, HandlerError, HistoryEvent, MemoryStorage, SharedStorage, Storage, StorageError,
    SystemClock, VirtualClock, event_handler, handler,
};

/// Compact JSON, as AWS writes it in causes and intrinsic results.
pub fn compact(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The old module paths, for code written against them.
pub mod exec {
    pub use crate::runtime::{BoxFuture, Handler};
}
