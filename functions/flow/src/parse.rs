//! Step 1: read the upload, write one asset item per line and every rejected row.

use serde::{Deserialize, Serialize};

use crate::error::FlowError;
use crate::layout::RunLayout;
use crate::start::ExecutionInput;
use crate::store::{ObjectStore, ObjectWriter};

/// What the parse step returns (kept small: it travels in the execution's state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParseOutput {
    /// The run id.
    pub run_id: String,
    /// Where the asset items are, one per line.
    pub assets_key: String,
    /// Where the rejected rows are, one per line.
    pub rejected_key: String,
    /// The ResultWriter prefix for the Map.
    pub map_results_prefix: String,
    /// One sheet or two.
    pub layout: workbook::Layout,
    /// The workbook's conservation counts.
    pub counts: workbook::Counts,
    /// The first 20 of the workbook's warnings.
    pub warnings: Vec<String>,
    /// Warnings not listed above (the output must stay far below 256 KiB).
    pub warnings_omitted: usize,
}

const MAX_WARNINGS_IN_OUTPUT: usize = 20;

/// How much of the items file is serialized before it is handed to the store.
const PART_BYTES: usize = 1 << 20;

/// Step 1: reads the upload and writes its asset items and rejected rows under `runs/<run>/`.
pub async fn parse<S: ObjectStore>(
    store: &S,
    input: &ExecutionInput,
    config: &config::SharedConfig,
) -> Result<ParseOutput, FlowError> {
    let layout = RunLayout::new(&input.run_id, config);
    let bytes = store.get(&input.upload.key).await?;
    let file = input.upload.key.rsplit('/').next().unwrap_or(&input.upload.key);
    let mut parsed = workbook::read_workbook(&bytes, file, &config.workbook_limits)?;
    drop(bytes);
    tracing::info!(
        run_id = %input.run_id,
        assets = parsed.assets.len(),
        rows_read = parsed.counts.rows_read,
        rows_rejected = parsed.counts.rows_rejected,
        "workbook parsed"
    );
    // Written part by part, each item freed once written: the items file is never held whole
    // beside the items (240 MB at 100,000 assets).
    let assets_key = layout.assets();
    let mut w = store.writer(&assets_key).await?;
    let mut buf = Vec::with_capacity(PART_BYTES + (64 << 10));
    for item in std::mem::take(&mut parsed.assets) {
        crate::jsonl::push(&mut buf, &item)?;
        if buf.len() >= PART_BYTES {
            w.write(&buf).await?;
            buf.clear();
        }
    }
    w.write(&buf).await?;
    w.finish().await?;
    store.put(&layout.rejected_rows(), crate::jsonl::write(&parsed.rejected)?).await?;
    let warnings_omitted = parsed.warnings.len().saturating_sub(MAX_WARNINGS_IN_OUTPUT);
    Ok(ParseOutput {
        run_id: input.run_id.clone(),
        assets_key: layout.assets(),
        rejected_key: layout.rejected_rows(),
        map_results_prefix: layout.map_results_prefix(),
        layout: parsed.layout,
        counts: parsed.counts,
        warnings: parsed.warnings.into_iter().take(MAX_WARNINGS_IN_OUTPUT).collect(),
        warnings_omitted,
    })
}
