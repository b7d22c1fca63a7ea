#![deny(missing_docs)]
//! The pipeline's steps as plain async functions over an [`ObjectStore`]: `start` (run id and
//! execution input), `parse` (workbook → asset items), `diagnose` (one Distributed Map batch),
//! `aggregate` (ResultWriter manifest → results). The Lambdas and the local run call the same
//! functions; only the store differs.

pub mod aggregate;
pub mod diagnose;
pub mod error;
pub mod history;
pub mod isolate;
pub mod jsonl;
pub mod layout;
pub mod on_demand;
pub mod parse;
pub mod plan;
pub mod start;
pub mod store;

pub use error::FlowError;
pub use store::{LocalStore, ObjectStore, ObjectWriter, StoreError};
