//! `substation`: diagnoses every power transformer of a fleet from its dissolved-gas analyses.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod aws_cmds;
mod diagnose;
mod history_cmds;
mod plan_cmd;
mod report;
mod run;
mod states;
mod term;
mod watch;
mod workbook_cmds;

/// Exit codes, documented in `--help`.
pub mod exit {
    /// Everything was diagnosed.
    pub const OK: u8 = 0;
    /// Some input rows were rejected; the others were diagnosed.
    pub const ROWS_REJECTED: u8 = 1;
    /// `states run`: the execution failed (its Error and Cause are on stderr).
    pub const EXECUTION_FAILED: u8 = 1;
    /// Bad invocation or unreadable input: nothing was diagnosed.
    pub const ERROR: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "substation",
    version,
    about = "Diagnoses power transformers from dissolved-gas analyses (DGA)",
    long_about = "Diagnoses power transformers from dissolved-gas analyses (DGA) by IEEE C57.104-2019 \
                  and -2008, IEC 60599, Duval Triangles 1/4/5 and Pentagons 1/2.",
    after_help = "Exit codes: 0 all diagnosed; 1 some rows rejected (the rest diagnosed); 2 error, nothing diagnosed."
)]
struct Cli {
    /// JSON file of DGA threshold overrides, merged over the defaults (see `substation thresholds`).
    #[arg(long, global = true, value_name = "FILE", env = dga::THRESHOLDS_ENV)]
    thresholds: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    Run(run::RunArgs),
    Watch(watch::WatchArgs),
    Diagnose(diagnose::DiagnoseArgs),
    Validate(workbook_cmds::ValidateArgs),
    /// The history of earlier uploads that `substation run` keeps in its --out folder (--stage: a
    /// deployed stage's table).
    #[command(subcommand)]
    History(history_cmds::HistoryCommand),
    Rediagnose(history_cmds::RediagnoseArgs),
    Plan(plan_cmd::PlanArgs),
    Submit(aws_cmds::SubmitArgs),
    Status(aws_cmds::StatusArgs),
    Redrive(aws_cmds::RedriveArgs),
    Template(workbook_cmds::TemplateArgs),
    Sample(workbook_cmds::SampleArgs),
    /// Run state machine definitions locally (`substation states run --help`).
    #[command(subcommand)]
    States(states::StatesCommand),
    /// Print the DGA thresholds in force as JSON: the defaults with their sources documented in
    /// docs/thresholds.md, merged with --thresholds. Save, edit and pass back with --thresholds.
    Thresholds,
}

fn load_thresholds(path: Option<&PathBuf>) -> anyhow::Result<dga::Thresholds> {
    // Without --thresholds: the file config/stages.json names, as the Lambdas do.
    let configured = config::SharedConfig::embedded().dga_thresholds_file.map(PathBuf::from);
    let Some(path) = path.or(configured.as_ref()) else { return Ok(dga::Thresholds::default()) };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read thresholds file {}", path.display()))?;
    dga::Thresholds::with_overrides(&text).with_context(|| format!("thresholds file {}", path.display()))
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let thresholds = load_thresholds(cli.thresholds.as_ref())?;
    match cli.command {
        Command::Run(args) => run::run(&args, thresholds),
        Command::Watch(args) => watch::run(&args, thresholds),
        Command::Diagnose(args) => diagnose::run(&args, &thresholds),
        Command::Validate(args) => workbook_cmds::validate(&args),
        Command::History(cmd) => history_cmds::run(&cmd),
        Command::Rediagnose(args) => history_cmds::rediagnose(&args, &thresholds),
        Command::Plan(args) => plan_cmd::run(&args),
        Command::Submit(args) => aws_cmds::submit(&args),
        Command::Status(args) => aws_cmds::status(&args),
        Command::Redrive(args) => aws_cmds::redrive(&args),
        Command::Template(args) => workbook_cmds::template(&args),
        Command::Sample(args) => workbook_cmds::sample(&args),
        Command::States(cmd) => states::run(&cmd),
        Command::Thresholds => {
            println!("{}", serde_json::to_string_pretty(&thresholds)?);
            Ok(exit::OK)
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub fn print_out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (v3's `mi_option_purge_delay`; the Rust bindings name no
/// constant for it). Its default gives freed memory back to the OS after a second, so each step
/// of a run faulted in, and the kernel zeroed, pages the step before had freed: 10–20 % of a
/// 10k-asset run's CPU time (perf stat, task-clock). A run is short-lived: it keeps them.
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The one unsafe call of the workspace: a C function taking two integers, with no pointer.
#[cfg(feature = "mimalloc")]
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores the value; mimalloc documents it as callable at any
    // time, and the option is a valid index of v3's `mi_option_t`.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

fn main() -> ExitCode {
    // When started as the workbook reader's child (xls, ods, xlsb), read and exit here.
    flow::isolate::serve_if_child();
    #[cfg(feature = "mimalloc")]
    keep_freed_memory();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit::ERROR)
        }
    }
}
