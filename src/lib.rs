//! The `substation` package's library: what the CLI and its integration tests share.

pub mod history_sqlite;
pub mod local_workflow;
