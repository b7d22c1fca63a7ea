//! Where everything lives in the bucket (and in the local folder laid out like it).

/// The keys of one run. `runs/<run>/` holds intermediates (lifecycle-expired on AWS);
/// `results/<run>/` what users read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLayout {
    /// The run id (the execution name).
    pub run_id: String,
    runs: String,
    results: String,
    names: config::RunLayoutNames,
    files: config::ResultFileNames,
}

/// The suffix of a batch's digest file.
pub const ROWS_SUFFIX: &str = ".rows.jsonl";

impl RunLayout {
    /// The keys of one run, under the configured `runs/` and `results/` prefixes.
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

    /// Every rejected row, one per line.
    pub fn rejected_rows(&self) -> String {
        format!("{}{}", self.runs, self.names.rejected_rows)
    }

    /// The folder the diagnose step writes one file per batch into.
    pub fn diagnoses_prefix(&self) -> String {
        format!("{}{}", self.runs, self.names.diagnoses)
    }

    /// One batch's lines: `<batch_id>.jsonl` under [`RunLayout::diagnoses_prefix`].
    pub fn batch(&self, batch_id: &str) -> String {
        format!("{}{batch_id}.jsonl", self.diagnoses_prefix())
    }

    /// One batch's digests (what the aggregate needs of each asset): `<batch_id>.rows.jsonl`
    /// beside its lines.
    pub fn batch_rows(&self, batch_id: &str) -> String {
        format!("{}{batch_id}{ROWS_SUFFIX}", self.diagnoses_prefix())
    }

    /// The ResultWriter prefix (no trailing slash: AWS's handling of one is UNCONFIRMED).
    pub fn map_results_prefix(&self) -> String {
        format!("{}{}", self.runs, self.names.map_results)
    }

    /// `results/<run>/`: what users read.
    pub fn results_prefix(&self) -> &str {
        &self.results
    }

    /// The run summary, written last: its presence means the results are complete.
    pub fn summary(&self) -> String {
        format!("{}{}", self.results, self.files.summary)
    }

    /// One line per diagnosed asset.
    pub fn diagnoses(&self) -> String {
        format!("{}{}", self.results, self.files.diagnoses)
    }

    /// One line per rejected row, with provenance.
    pub fn rejected(&self) -> String {
        format!("{}{}", self.results, self.files.rejected_rows)
    }

    /// The results workbook.
    pub fn report(&self) -> String {
        format!("{}{}", self.results, self.files.report)
    }

    /// The HTML report.
    pub fn report_html(&self) -> String {
        format!("{}{}", self.results, self.files.report_html)
    }
}
