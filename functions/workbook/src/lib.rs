#![deny(missing_docs)]
//! Excel in and out for Substation.
//!
//! Pure: workbook bytes (xlsx, xlsm, xlsb, xls, ods, or CSV text) in, asset items and row errors out ([`read_workbook`]); results,
//! template and sample workbooks out as bytes ([`write`]). No file system, no AWS, no async.

pub mod cells;
mod csv_text;
pub mod error;
pub mod headers;
pub mod item;
pub mod numbers;
pub mod read;
pub mod sample;
mod source;
pub mod write;

pub use error::{RowError, WorkbookError};
pub use item::{AssetItem, Breathing, ITEM_SCHEMA_VERSION, ItemSample, RejectedSample};
pub use read::{Counts, IgnoredColumn, Layout, Limits, ParsedWorkbook, read_workbook};
pub use source::read_whole;
