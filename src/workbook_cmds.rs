//! `substation template`, `validate` and `sample`: workbooks in and out.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use flow::isolate::read_workbook;
use serde::Serialize;
use workbook::sample::{SampleOptions, write_fleet};
use workbook::{Layout, Limits, ParsedWorkbook, RowError, WorkbookError};

use crate::exit;

/// Write the canonical blank workbook (Instructions, Assets and Samples sheets, an example row).
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Where to write it.
    #[arg(short, long, value_name = "FILE", default_value = "dga-template.xlsx")]
    output: PathBuf,
}

/// Check a workbook: what would be accepted and rejected, without diagnosing.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 every data row accepted; 1 some rows rejected (listed); 2 the workbook as a whole is invalid."
)]
pub struct ValidateArgs {
    /// The workbook (.xlsx, .xlsm, .xls, .xlsb, .ods) or CSV file ('-' reads standard input; the
    /// kind is read from the content).
    file: PathBuf,
    /// Print one JSON object: counts, ignored columns, warnings and every error.
    #[arg(long)]
    json: bool,
    /// The folder `substation run` keeps its history in: samples of transformers the assets
    /// sheet does not list are accepted when that history knows them, as the run would.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    OneSheet,
    TwoSheet,
}

/// Write a realistic synthetic fleet workbook, the same for the same seed.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Transformers in the fleet.
    #[arg(long, default_value_t = 50)]
    assets: usize,
    /// Oil samples per transformer.
    #[arg(long, default_value_t = 6)]
    samples_per_asset: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value = "two-sheet")]
    layout: LayoutArg,
    /// Leave out the mistakes real files have (bad cells, a title block, an average row).
    #[arg(long)]
    clean: bool,
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

/// A workbook this program writes must be named `.xlsx`: Excel refuses to open one named `.csv`
/// (or anything else) as what it is.
pub fn xlsx_name(path: &Path, what: &str) -> anyhow::Result<()> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if ext == "xlsx" {
        return Ok(());
    }
    let suggestion = path.with_extension("xlsx");
    let kind = if ext == "csv" { " (CSV files are read, not written: diagnose --json writes JSON lines)" } else { "" };
    anyhow::bail!(
        "{what} {} would be an Excel workbook named .{ext}: name it {}{kind}",
        path.display(),
        suggestion.display()
    )
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn template(args: &TemplateArgs) -> anyhow::Result<u8> {
    xlsx_name(&args.output, "--output")?;
    let bytes = workbook::write::template().context("cannot build the template")?;
    write_file(&args.output, &bytes)?;
    eprintln!("wrote {}", args.output.display());
    Ok(exit::OK)
}

pub fn sample(args: &SampleArgs) -> anyhow::Result<u8> {
    xlsx_name(&args.output, "--output")?;
    let opts = SampleOptions {
        assets: args.assets,
        samples_per_asset: args.samples_per_asset,
        seed: args.seed,
        layout: match args.layout {
            LayoutArg::OneSheet => Layout::OneSheet,
            LayoutArg::TwoSheet => Layout::TwoSheet,
        },
        with_mistakes: !args.clean,
    };
    let bytes = write_fleet(&opts).context("cannot build the sample workbook")?;
    write_file(&args.output, &bytes)?;
    eprintln!(
        "wrote {}: {} transformers × {} samples",
        args.output.display(),
        args.assets,
        args.samples_per_asset.max(1)
    );
    Ok(exit::OK)
}

/// The `validate --json` object.
#[derive(Debug, Serialize)]
struct ValidateReport<'a> {
    file: String,
    layout: Layout,
    rows_read: u64,
    samples_accepted: u64,
    rows_rejected: u64,
    rows_skipped: u64,
    assets: u64,
    asset_rows_read: u64,
    ignored_columns: &'a [workbook::IgnoredColumn],
    warnings: &'a [String],
    errors: &'a [RowError],
}

/// Reads a workbook as the parse step does; samples of an asset the assets sheet does not list
/// are rejected unless `known` knows the asset (the history of a `--out` folder).
pub fn read_with(
    path: &Path,
    known: &dyn Fn(&str) -> bool,
) -> anyhow::Result<(String, Result<ParsedWorkbook, WorkbookError>)> {
    let (bytes, name) = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).context("cannot read standard input")?;
        (bytes, "<stdin>".to_owned())
    } else {
        (std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?, path.display().to_string())
    };
    // The same limits as the parse Lambda: config/stages.json.
    let limits: Limits = config::SharedConfig::embedded().workbook_limits;
    let parsed = read_workbook(&bytes, &name, &limits).map(|mut p| {
        p.reject_unlisted(known);
        p
    });
    Ok((name, parsed))
}

/// Reads a workbook on its own (no history).
pub fn read(path: &Path) -> anyhow::Result<(String, Result<ParsedWorkbook, WorkbookError>)> {
    read_with(path, &|_| false)
}

pub fn validate(args: &ValidateArgs) -> anyhow::Result<u8> {
    let known: std::collections::HashSet<String> = match &args.out {
        Some(out) if substation::history_sqlite::exists_in(out) => {
            let store = substation::history_sqlite::SqliteHistory::open_in(out)?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(flow::history::HistoryStore::asset_ids(&store))?.into_iter().collect()
        }
        _ => Default::default(),
    };
    let (name, parsed) = read_with(&args.file, &|id| known.contains(id))?;
    let mut out = std::io::stdout().lock();
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            if args.json {
                let json =
                    serde_json::json!({ "file": name, "error": { "type": e.error_type(), "reason": e.reason() } });
                writeln!(out, "{json}")?;
            }
            eprintln!("error: {e}");
            return Ok(exit::ERROR);
        }
    };
    let c = parsed.counts;
    if args.json {
        let report = ValidateReport {
            file: name,
            layout: parsed.layout,
            rows_read: c.rows_read,
            samples_accepted: c.samples_accepted,
            rows_rejected: c.rows_rejected,
            rows_skipped: c.rows_skipped,
            assets: c.assets,
            asset_rows_read: c.asset_rows_read,
            ignored_columns: &parsed.ignored_columns,
            warnings: &parsed.warnings,
            errors: &parsed.rejected,
        };
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        let layout = match parsed.layout {
            Layout::OneSheet => "one sheet (asset columns on every sample row)",
            Layout::TwoSheet => "two sheets (assets and samples joined by asset id)",
        };
        use std::fmt::Write as _;
        // Laid out for the terminal: a long rejection wraps under its own indent.
        let mut o = String::new();
        let _ = writeln!(o, "{name}: {layout}");
        let _ = writeln!(
            o,
            "  {} sample rows read: {} accepted, {} rejected, {} skipped (blank or totals); {} assets",
            c.rows_read, c.samples_accepted, c.rows_rejected, c.rows_skipped, c.assets
        );
        if c.asset_rows_read > 0 {
            let _ = writeln!(o, "  {} asset rows read, {} rejected", c.asset_rows_read, c.asset_rows_rejected);
        }
        if !parsed.ignored_columns.is_empty() {
            let list: Vec<String> =
                parsed.ignored_columns.iter().map(|i| format!("'{}'!{} '{}'", i.sheet, i.column, i.header)).collect();
            let _ = writeln!(o, "  ignored columns: {}", list.join(", "));
        }
        for w in &parsed.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        for e in &parsed.rejected {
            let _ = writeln!(o, "  rejected: {e}");
        }
        drop(out);
        crate::term::print(&o)?;
    }
    Ok(if parsed.rejected.is_empty() { exit::OK } else { exit::ROWS_REJECTED })
}
