#![deny(missing_docs)]
//! Dissolved-gas analysis (DGA) of oil-filled power transformers.
//!
//! Pure: plain data in, plain data out; no I/O, no async, no AWS. Implements the methods of
//! docs/sources.md: IEEE C57.104-2019 (status 1-3 from Tables 1-4),
//! IEEE C57.104-2008 (TDCG condition, Rogers, Doernenburg, key gas), IEC 60599 (ratio codes,
//! typical values, auxiliary ratios), Duval Triangles 1, 4, 5 and Pentagons 1, 2, and an asset
//! diagnosis that combines them over the sample history, with probabilities from measurement
//! uncertainty and a fleet priority.
//!
//! ```
//! use dga::{AssetInfo, DgaSample, FaultCode, Gas, Thresholds, diagnose_asset};
//! let sample = DgaSample::default()
//!     .with(Gas::H2, 120.0).with(Gas::CH4, 80.0).with(Gas::C2H6, 30.0)
//!     .with(Gas::C2H4, 150.0).with(Gas::C2H2, 2.0);
//! let d = diagnose_asset(&[sample], &AssetInfo::default(), &Thresholds::default()).unwrap();
//! assert_eq!(d.status.number(), 3);
//! assert_eq!(d.fault, FaultCode::T3);
//! ```

pub mod diagnosis;
pub mod doernenburg;
pub mod duval_pentagon;
pub mod duval_triangle;
pub mod fault;
pub mod gas;
pub mod geometry;
pub mod iec_60599;
pub mod ieee_c57_104_2008;
pub mod ieee_c57_104_2019;
pub mod key_gas;
pub mod legend;
pub mod priority;
pub mod ratios;
pub mod record;
pub mod rogers;
pub mod thresholds;
pub mod uncertainty;

pub use diagnosis::{
    AssetDiagnosis, AssetInfo, Confidence, DiagnosisError, MethodCodes, Refinement, chronological_order, diagnose_asset,
};
pub use fault::{FaultCode, FaultFamily, MethodName, Outcome};
pub use gas::{DgaSample, Gas, GasReading, ReadingError};
pub use ieee_c57_104_2019::Ieee2019Status;
pub use priority::Priority;
pub use record::{DiagnosisRecord, HistorySample, SCHEMA_VERSION, SampleOrigin, Warning};
pub use thresholds::{THRESHOLDS_ENV, Thresholds, ThresholdsError};
pub use uncertainty::{FaultProbabilities, StatusProbabilities};
