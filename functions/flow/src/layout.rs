//! Where everything lives in the bucket (and in the local folder laid out like it).

/// The keys of one run. `runs/<run>/` holds intermediates (lifecycle-expired on AWS);
/// `results/<run>/` what users read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLayout {
    pub run_id: String,
    runs: String,
    results: String,
    names: config::RunLayoutNames,
    files: config::ResultFileNames,
}

impl RunLayout {
    pub fn new(run_id: &str, config: &config::SharedConfig) -> Self {
        RunLayout {
            run_id: run_id.to_owned(),
            runs: format!("{}{run_id}/", config.runs_prefix),
            results: format!("{}{run_id}/", config.results_prefix),
            names: config.run_layout.clone(),
            files: config.result_files.clone(),
        }
    }

    /// One asset item per line, read by the Distributed Map's ItemReader (JSONL).
    pub fn assets(&self) -> String {
        format!("{}{}", self.runs, self.names.assets)
    }

    pub fn rejected_rows(&self) -> String {
        format!("{}{}", self.runs, self.names.rejected_rows)
    }

    pub fn diagnoses_prefix(&self) -> String {
        format!("{}{}", self.runs, self.names.diagnoses)
    }

    pub fn batch(&self, batch_id: &str) -> String {
        format!("{}{batch_id}.jsonl", self.diagnoses_prefix())
    }

    /// The ResultWriter prefix (no trailing slash: AWS's handling of one is UNCONFIRMED).
    pub fn map_results_prefix(&self) -> String {
        format!("{}{}", self.runs, self.names.map_results)
    }

    pub fn results_prefix(&self) -> &str {
        &self.results
    }

    pub fn summary(&self) -> String {
        format!("{}{}", self.results, self.files.summary)
    }

    pub fn diagnoses(&self) -> String {
        format!("{}{}", self.results, self.files.diagnoses)
    }

    pub fn rejected(&self) -> String {
        format!("{}{}", self.results, self.files.rejected_rows)
    }

    pub fn report(&self) -> String {
        format!("{}{}", self.results, self.files.report)
    }
}
