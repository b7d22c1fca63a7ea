//! The steps' errors, with the stable names Step Functions' Retry and Catch match.

use crate::store::StoreError;
use workbook::WorkbookError;

/// Why a step failed; [`FlowError::error_type`] is the name Step Functions matches.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The workbook cannot be read (`WorkbookInvalid`, `InputTooLarge`).
    #[error(transparent)]
    Workbook(#[from] WorkbookError),
    /// The store failed (`ObjectNotFound`, `StorageUnavailable`; `InputInvalid` for a bad key).
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// The Map's ResultWriter files cannot be read (`ManifestInvalid`).
    #[error("the Map's result manifest '{key}' is not valid: {reason}")]
    ManifestInvalid {
        /// The key of the file that is not valid.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The step's input, or a file it reads, is not valid (`InputInvalid`).
    #[error("the step's input is not valid: {0}")]
    InputInvalid(String),
    /// The DGA threshold overrides are refused (`ConfigurationInvalid`).
    #[error("the DGA thresholds are not valid: {0}")]
    Thresholds(#[from] dga::ThresholdsError),
    /// The results workbook cannot be written (`ReportFailed`).
    #[error("cannot write the results workbook: {0}")]
    Report(String),
    /// An on-demand request names an asset the history does not know (`UnknownAsset`).
    #[error(
        "unknown asset '{0}': the history has no such asset (new_asset in a request, --new-asset on the command line, diagnoses a new one)"
    )]
    UnknownAsset(String),
    /// The asset could not be diagnosed (`DiagnosisFailed`).
    #[error("the asset could not be diagnosed: {0}")]
    DiagnosisFailed(String),
    /// The history store failed (`HistoryConflict`, `HistoryUnavailable`, `HistoryInvalid`).
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
}

impl FlowError {
    /// The Lambda `errorType` (and Step Functions error name) for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            FlowError::Workbook(e) => e.error_type(),
            FlowError::Storage(StoreError::NotFound { .. }) => "ObjectNotFound",
            FlowError::Storage(StoreError::InvalidKey { .. }) => "InputInvalid",
            FlowError::Storage(StoreError::Unavailable { .. }) => "StorageUnavailable",
            FlowError::ManifestInvalid { .. } => "ManifestInvalid",
            FlowError::InputInvalid(_) => "InputInvalid",
            FlowError::Thresholds(_) => "ConfigurationInvalid",
            FlowError::Report(_) => "ReportFailed",
            FlowError::UnknownAsset(_) => "UnknownAsset",
            FlowError::DiagnosisFailed(_) => "DiagnosisFailed",
            FlowError::History(crate::history::HistoryError::Conflict { .. }) => "HistoryConflict",
            FlowError::History(crate::history::HistoryError::Unavailable(_)) => "HistoryUnavailable",
            FlowError::History(crate::history::HistoryError::Corrupt { .. }) => "HistoryInvalid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_names() {
        let invalid = WorkbookError::Invalid { file: "f".into(), reason: "r".into() };
        assert_eq!(FlowError::from(invalid).error_type(), "WorkbookInvalid");
        let big = WorkbookError::TooLarge { file: "f".into(), reason: "r".into() };
        assert_eq!(FlowError::from(big).error_type(), "InputTooLarge");
        let down = StoreError::Unavailable { key: "k".into(), message: "m".into() };
        assert_eq!(FlowError::from(down).error_type(), "StorageUnavailable");
        let lost = crate::history::HistoryError::Conflict { asset_id: "T-1".into() };
        assert_eq!(FlowError::from(lost).error_type(), "HistoryConflict");
        let down = crate::history::HistoryError::Unavailable("m".into());
        assert_eq!(FlowError::from(down).error_type(), "HistoryUnavailable");
        assert_eq!(FlowError::ManifestInvalid { key: "k".into(), reason: "r".into() }.error_type(), "ManifestInvalid");
    }
}
