//! The `substation` package's library: what the CLI and its integration tests share.

pub mod local_workflow;
