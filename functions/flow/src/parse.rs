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

/// Items serialized at a time: about 2.4 MB of lines at 10 samples per asset.
const ITEMS_PER_CHUNK: usize = 1024;

/// Step 1: reads the upload and writes its asset items and rejected rows under `runs/<run>/`.
pub async fn parse<S: ObjectStore>(
    store: &S,
    input: &ExecutionInput,
    config: &config::SharedConfig,
) -> Result<ParseOutput, FlowError> {
    let layout = RunLayout::new(&input.run_id, config);
    // Exactly the bytes the run was started for: the event's version (S3: versioned bucket;
    // locally: the store's content-addressed versions), never whatever is at the key now.
    let upload = &input.upload;
    let bytes = match &upload.version_id {
        Some(version) => store.get_version(&upload.key, version).await?,
        None => store.get(&upload.key).await?,
    };
    if upload.size != 0 && bytes.len() as u64 != upload.size {
        return Err(FlowError::InputInvalid(format!(
            "'{}' is {} bytes, but the upload that started this run was {} bytes (the object changed)",
            upload.key.rsplit('/').next().unwrap_or(&upload.key),
            bytes.len(),
            upload.size
        )));
    }
    let file = input.upload.key.rsplit('/').next().unwrap_or(&input.upload.key);
    let mut parsed = crate::isolate::read_workbook(&bytes, file, &config.workbook_limits)?;
    drop(bytes);
    // Without a history, an asset the assets sheet does not list is unknown: its rows are
    // rejected here. With one, the diagnose step looks it up (and rejects it if unknown there).
    if !input.history {
        parsed.reject_unlisted(|_| false);
    }
    tracing::info!(
        run_id = %input.run_id,
        assets = parsed.assets.len(),
        rows_read = parsed.counts.rows_read,
        rows_rejected = parsed.counts.rows_rejected,
        "workbook parsed"
    );
    // Written chunk by chunk, each chunk's items freed once serialized: the items file is never
    // held whole beside the items (240 MB at 100,000 assets). The reading used one core; the
    // items are serialized on two, every other chunk on a helper thread that runs at most two
    // chunks ahead, and written in order.
    let assets_key = layout.assets();
    let mut w = store.writer(&assets_key).await?;
    let mut items = std::mem::take(&mut parsed.assets).into_iter();
    let (mut mine, mut helpers) = (Vec::new(), Vec::new());
    loop {
        let chunk: Vec<workbook::AssetItem> = items.by_ref().take(ITEMS_PER_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        if mine.len() == helpers.len() { mine.push(chunk) } else { helpers.push(chunk) }
    }
    let helper_chunks = helpers.len();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let helper = std::thread::spawn(move || {
        for chunk in helpers {
            if tx.send(lines(chunk)).is_err() {
                break;
            }
        }
    });
    for (i, chunk) in mine.into_iter().enumerate() {
        w.write(&lines(chunk)?).await?;
        if i < helper_chunks {
            let lines = rx.recv().map_err(|_| FlowError::InputInvalid("the items' writer thread stopped".into()))?;
            w.write(&lines?).await?;
        }
    }
    drop(rx);
    let _ = helper.join();
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

/// A chunk of items as JSON lines, in a buffer sized once (about 230 bytes a sample, 300 an item).
fn lines(chunk: Vec<workbook::AssetItem>) -> Result<Vec<u8>, FlowError> {
    let estimate: usize = chunk.iter().map(|i| 300 + 230 * i.samples.len()).sum();
    let mut out = Vec::with_capacity(estimate);
    for item in chunk {
        crate::jsonl::push(&mut out, &item)?;
    }
    Ok(out)
}
