//! `substation history show|forget` and `substation rediagnose`: looking after the history that
//! `substation run` keeps in its `--out` folder (`history.sqlite3`), or, with `--stage` (the
//! `aws` feature), the one a deployed stage's diagnose Lambda keeps in its DynamoDB table.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use flow::history::{self, HistoryStore, HistoryWrite};
use substation::history_sqlite::{self, SqliteHistory};

use crate::exit;

/// The history of earlier uploads kept in a `--out` folder.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Print an asset's stored samples (with the upload, sheet and row each came from) and its
    /// latest diagnosis.
    Show(ShowArgs),
    /// Remove one upload's samples from every asset (a wrong file uploaded): give its run id, as
    /// `substation run` printed it. Assets left without samples are kept with none.
    Forget(ForgetArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The asset's id.
    asset: String,
    /// The folder `substation run` wrote.
    #[arg(long, default_value = "substation-data")]
    out: PathBuf,
    #[command(flatten)]
    stage: StageArg,
    /// Print the stored record as JSON.
    #[arg(long)]
    json: bool,
}

/// A deployed stage's history instead of a folder's.
#[derive(Debug, Args)]
pub struct StageArg {
    /// The history table of a deployed stage (stack Substation-<STAGE>) instead of --out (built
    /// with --features aws; credentials from the standard AWS chain).
    #[arg(long = "stage", value_name = "STAGE", conflicts_with = "out")]
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The run id of the upload to forget.
    run: String,
    /// The folder `substation run` wrote.
    #[arg(long, default_value = "substation-data")]
    out: PathBuf,
    #[command(flatten)]
    stage: StageArg,
}

/// Diagnose every stored asset again on its stored history, without an upload (after a
/// threshold change, or a program upgrade).
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 every stored asset diagnosed; 1 some could not be; 2 error.")]
pub struct RediagnoseArgs {
    /// The folder `substation run` wrote.
    #[arg(long, default_value = "substation-data")]
    out: PathBuf,
    #[command(flatten)]
    stage: StageArg,
    /// Print one diagnosis line per asset (JSON) instead of the tally.
    #[arg(long)]
    json: bool,
}

/// Opens an existing history (never creates one where there is none).
pub fn open(out: &Path) -> anyhow::Result<SqliteHistory> {
    if !history_sqlite::exists_in(out) {
        anyhow::bail!(
            "{} has no history ({} is written by `substation run FILE --out {}`)",
            out.display(),
            history_sqlite::HISTORY_FILE,
            out.display()
        );
    }
    Ok(SqliteHistory::open_in(out)?)
}

/// A history, wherever it is kept.
#[derive(Debug)]
pub enum Store {
    /// A `--out` folder's `history.sqlite3`.
    Local(SqliteHistory),
    /// A deployed stage's table.
    #[cfg(feature = "aws")]
    Stage(remote::DynamoHistory),
}

/// Where a history is, for messages.
fn place(out: &Path, stage: &StageArg) -> String {
    match &stage.name {
        Some(s) => format!("the history of stage {s}"),
        None => out.display().to_string(),
    }
}

/// The history `--out` or `--stage` names.
async fn open_store(out: &Path, stage: &StageArg) -> anyhow::Result<Store> {
    match &stage.name {
        None => Ok(Store::Local(open(out)?)),
        #[cfg(feature = "aws")]
        Some(name) => {
            let d = remote::deployed::Deployed::connect(remote::Clients::from_env().await, name).await?;
            Ok(Store::Stage(d.history()?))
        }
        #[cfg(not(feature = "aws"))]
        Some(_) => anyhow::bail!(
            "this build has no AWS client: --stage needs `--features aws` (cargo install --locked --path . --features aws)"
        ),
    }
}

impl HistoryStore for Store {
    async fn read(
        &self,
        asset_ids: &[String],
    ) -> Result<std::collections::HashMap<String, history::Stored>, history::HistoryError> {
        match self {
            Store::Local(s) => s.read(asset_ids).await,
            #[cfg(feature = "aws")]
            Store::Stage(s) => s.read(asset_ids).await,
        }
    }

    async fn write(&self, write: &HistoryWrite) -> Result<u64, history::HistoryError> {
        match self {
            Store::Local(s) => s.write(write).await,
            #[cfg(feature = "aws")]
            Store::Stage(s) => s.write(write).await,
        }
    }

    async fn write_all(&self, writes: &[HistoryWrite]) -> Vec<Result<u64, history::HistoryError>> {
        match self {
            Store::Local(s) => s.write_all(writes).await,
            #[cfg(feature = "aws")]
            Store::Stage(s) => s.write_all(writes).await,
        }
    }

    async fn asset_ids(&self) -> Result<Vec<String>, history::HistoryError> {
        match self {
            Store::Local(s) => s.asset_ids().await,
            #[cfg(feature = "aws")]
            Store::Stage(s) => s.asset_ids().await,
        }
    }

    async fn archived(&self, asset_id: &str) -> Result<Vec<history::StoredSample>, history::HistoryError> {
        match self {
            Store::Local(s) => s.archived(asset_id).await,
            #[cfg(feature = "aws")]
            Store::Stage(s) => s.archived(asset_id).await,
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

pub fn run(cmd: &HistoryCommand) -> anyhow::Result<u8> {
    match cmd {
        HistoryCommand::Show(a) => show(a),
        HistoryCommand::Forget(a) => forget(a),
    }
}

fn show(args: &ShowArgs) -> anyhow::Result<u8> {
    let rt = runtime()?;
    let store = rt.block_on(open_store(&args.out, &args.stage))?;
    let Some(stored) = rt.block_on(store.read(std::slice::from_ref(&args.asset)))?.remove(&args.asset) else {
        eprintln!("error: '{}' is not in the history of {}", args.asset, place(&args.out, &args.stage));
        return Ok(exit::ERROR);
    };
    let h = &stored.history;
    if args.json {
        crate::print_out(&(serde_json::to_string_pretty(h)? + "\n"))?;
        return Ok(exit::OK);
    }
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "Asset {} (version {})", h.asset_id, stored.version);
    let m = &h.meta;
    let facts: Vec<String> = [
        m.name.as_ref().map(|v| format!("name {v}")),
        m.substation.as_ref().map(|v| format!("substation {v}")),
        m.manufacture_year.map(|v| format!("made {v}")),
        m.rated_mva.map(|v| format!("{v} MVA")),
        m.voltage_kv.map(|v| format!("{v} kV")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !facts.is_empty() {
        let _ = writeln!(o, "  {}", facts.join(", "));
    }
    if let Some(d) = &h.last_diagnosis {
        let _ = writeln!(o, "  latest diagnosis: status {} ({}) by run {}", d.status, d.fault, d.run_id);
    }
    let _ = writeln!(o, "  {} samples stored, {} archived", h.samples.len(), h.archived_samples);
    let mut table = crate::term::table();
    table.set_header(["Sampled", "H2", "CH4", "C2H6", "C2H4", "C2H2", "CO", "CO2", "From"]);
    for s in &h.samples {
        let g = |r: dga::GasReading| r.to_string();
        let x = &s.sample;
        table.add_row([
            x.sampled_on.map(|d| d.to_string()).unwrap_or_default(),
            g(x.h2_ppm),
            g(x.ch4_ppm),
            g(x.c2h6_ppm),
            g(x.c2h4_ppm),
            g(x.c2h2_ppm),
            g(x.co_ppm),
            g(x.co2_ppm),
            format!("{} '{}' row {} ({})", s.source.file, s.source.sheet, s.source.row, s.source.run_id),
        ]);
    }
    let _ = writeln!(o, "{table}");
    crate::term::print(&o)?;
    Ok(exit::OK)
}

fn forget(args: &ForgetArgs) -> anyhow::Result<u8> {
    let rt = runtime()?;
    let store = rt.block_on(open_store(&args.out, &args.stage))?;
    let (assets, samples) = rt.block_on(async {
        let ids = store.asset_ids().await?;
        let (mut assets, mut samples) = (0u64, 0usize);
        for chunk in ids.chunks(500) {
            // Each asset is rewritten on the version read; one changed meanwhile is read again.
            let mut pending: Vec<String> = chunk.to_vec();
            for _ in 0..8 {
                let stored = store.read(&pending).await?;
                let (mut writes, mut removed) = (Vec::new(), Vec::new());
                for s in stored.values() {
                    if let Some(h) = history::forget_run(&s.history, &args.run) {
                        removed.push(s.history.samples.len() - h.samples.len());
                        writes.push(HistoryWrite { history: h, expected_version: Some(s.version), archive: vec![] });
                    }
                }
                let results = store.write_all(&writes).await;
                pending.clear();
                for ((w, n), r) in writes.iter().zip(removed).zip(results) {
                    match r {
                        Ok(_) => (assets, samples) = (assets + 1, samples + n),
                        // Changed meanwhile: read and forget again.
                        Err(history::HistoryError::Conflict { .. }) => pending.push(w.history.asset_id.clone()),
                        Err(e) => return Err(anyhow::Error::from(e)),
                    }
                }
                if pending.is_empty() {
                    break;
                }
            }
        }
        anyhow::Ok((assets, samples))
    })?;
    if assets == 0 {
        eprintln!("error: no stored sample came from run '{}' (run ids are in results/)", args.run);
        return Ok(exit::ERROR);
    }
    eprintln!("forgot {samples} samples of run {} from {assets} assets in {}", args.run, place(&args.out, &args.stage));
    Ok(exit::OK)
}

pub fn rediagnose(args: &RediagnoseArgs, thresholds: &dga::Thresholds) -> anyhow::Result<u8> {
    let config = config::SharedConfig::embedded();
    let rt = runtime()?;
    let store = rt.block_on(open_store(&args.out, &args.stage))?;
    let run_id = format!("rediagnose-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
    let (lines, failed) = rt.block_on(async {
        let ids = store.asset_ids().await?;
        let (mut lines, mut failed) = (Vec::new(), 0u64);
        for chunk in ids.chunks(500) {
            let stored = store.read(chunk).await?;
            let mut writes = Vec::new();
            for id in chunk {
                let Some(s) = stored.get(id) else { continue };
                let item = history::as_item(&s.history, config.workbook_limits.max_samples_per_item);
                match flow::diagnose::diagnose_asset_item(&item, thresholds) {
                    flow::diagnose::BatchLine::Diagnosed(mut line) => {
                        line.merged_history = Some(history::MergeCounts {
                            stored_before: s.history.samples.len(),
                            from_earlier_uploads: item.samples.len(),
                            previous_status: s.history.last_diagnosis.as_ref().map(|d| d.status),
                            previous_run: s.history.last_diagnosis.as_ref().map(|d| d.run_id.clone()),
                            ..Default::default()
                        });
                        writes.push(HistoryWrite {
                            history: history::with_diagnosis(s.history.clone(), &run_id, &line.record),
                            expected_version: Some(s.version),
                            archive: vec![],
                        });
                        lines.push(*line);
                    }
                    flow::diagnose::BatchLine::Failed(f) => {
                        failed += 1;
                        eprintln!("{}: {}", id, f.error);
                    }
                }
            }
            // A lost write means another run merged new samples meanwhile: its diagnosis is newer.
            for r in store.write_all(&writes).await {
                match r {
                    Ok(_) | Err(history::HistoryError::Conflict { .. }) => {}
                    Err(e) => return Err(anyhow::Error::from(e)),
                }
            }
        }
        anyhow::Ok((lines, failed))
    })?;
    if args.json {
        let mut out = String::new();
        for l in &lines {
            out.push_str(&serde_json::to_string(l)?);
            out.push('\n');
        }
        crate::print_out(&out)?;
    } else {
        let by = |n: u8| lines.iter().filter(|l| l.record.diagnosis.ieee_c57_104_2019.status.number() == n).count();
        let worse: Vec<&flow::diagnose::DiagnosisLine> = lines
            .iter()
            .filter(|l| {
                l.merged_history
                    .as_ref()
                    .and_then(|m| m.previous_status)
                    .is_some_and(|p| p < l.record.diagnosis.ieee_c57_104_2019.status.number())
            })
            .collect();
        let mut o = format!(
            "Rediagnosed {} stored assets as {run_id}: status 3: {}, status 2: {}, status 1: {}; {} worse than before{}\n",
            lines.len(),
            by(3),
            by(2),
            by(1),
            worse.len(),
            if failed > 0 { format!("; {failed} could not be diagnosed") } else { String::new() }
        );
        for l in worse.iter().take(20) {
            o.push_str(&format!(
                "  {}: status {} → {}\n",
                l.record.asset_id.as_deref().unwrap_or(""),
                l.merged_history.as_ref().and_then(|m| m.previous_status).unwrap_or(0),
                l.record.diagnosis.ieee_c57_104_2019.status.number()
            ));
        }
        crate::term::print(&o)?;
    }
    Ok(if failed > 0 { exit::ROWS_REJECTED } else { exit::OK })
}

/// `substation diagnose --asset ID <gases> --out DIR [--save]`: one asset on its stored history,
/// as the diagnose Lambda answers a request.
pub fn diagnose_asset(
    request: &flow::on_demand::AssetRequest,
    out: &Path,
    thresholds: &dga::Thresholds,
) -> anyhow::Result<flow::diagnose::DiagnosisLine> {
    let store = if request.save { SqliteHistory::open_in(out)? } else { open(out)? };
    let config = config::SharedConfig::embedded();
    let rt = runtime()?;
    rt.block_on(flow::on_demand::diagnose_one(&store, request, thresholds, &config))
        .with_context(|| format!("asset '{}'", request.asset_id))
}
