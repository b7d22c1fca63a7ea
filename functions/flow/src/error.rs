//! The steps' errors, with the stable names Step Functions' Retry and Catch match.

use crate::store::StoreError;
use workbook::WorkbookError;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Workbook(#[from] WorkbookError),
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error("the Map's result manifest '{key}' is not valid: {reason}")]
    ManifestInvalid { key: String, reason: String },
    #[error("the step's input is not valid: {0}")]
    InputInvalid(String),
    #[error("the DGA thresholds are not valid: {0}")]
    Thresholds(#[from] dga::ThresholdsError),
    #[error("cannot write the results workbook: {0}")]
    Report(String),
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
        assert_eq!(FlowError::ManifestInvalid { key: "k".into(), reason: "r".into() }.error_type(), "ManifestInvalid");
    }
}
