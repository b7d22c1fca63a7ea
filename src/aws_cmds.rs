//! `substation submit / status / redrive --stage …`: a deployed stack from the engineer's shell
//! (functions/remote/src/deployed.rs). Credentials and region come from the standard AWS chain
//! (environment, profile, SSO cache, instance role); AWS_ENDPOINT_URL points them elsewhere.
//! Built with the `aws` feature; without it each command says how to get it.

use std::path::PathBuf;

use clap::Args;

/// Upload a workbook to a deployed stack and follow its run.
#[derive(Debug, Args)]
#[command(
    long_about = "Upload a workbook to a deployed stack's bucket, under uploads/: the stack's trigger starts the run. \
        The bucket and the state machine come from the stack's CloudFormation outputs (stack Substation-<stage>); \
        the run is found by its deterministic name (the run id). With --follow: the Map Run's item counts as a \
        progress bar, then the run's summary (results/<run>/summary.json). Ctrl-C stops following, not the run.",
    after_help = "Exit codes: 0 the run succeeded; 1 it failed, was aborted or timed out, or rejected the \
        workbook; 2 error (no stack, no credentials, not a workbook); 3 started and still running (without \
        --follow); 130 stopped following with Ctrl-C (the run goes on)."
)]
pub struct SubmitArgs {
    /// The workbook (.xlsx, .xlsm, .xlsb, .xls, .ods).
    file: PathBuf,
    /// The stage whose stack to upload to (Substation-<stage>).
    #[arg(long, default_value = "dev")]
    stage: String,
    /// Follow the run to its end.
    #[arg(long)]
    follow: bool,
    /// Seconds to wait for the trigger to start the run.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    wait: u64,
    /// Print the run as JSON (no progress bar).
    #[arg(long)]
    json: bool,
}

/// Show a run of a deployed stack: its status, its Map Run's counts and its summary.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 the run succeeded; 1 it failed, was aborted or timed out, or rejected the \
        workbook; 2 error; 3 still running (without --follow); 130 stopped following with Ctrl-C.")]
pub struct StatusArgs {
    /// The run id (the execution's name) or the execution's ARN.
    run: String,
    #[arg(long, default_value = "dev")]
    stage: String,
    /// Follow a running run to its end.
    #[arg(long)]
    follow: bool,
    /// Print the run as JSON.
    #[arg(long)]
    json: bool,
}

/// Redrive a failed run of a deployed stack (within 14 days of its end): steps that succeeded
/// are not run again.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 redriven; 2 error (not redrivable, not found, no credentials).")]
pub struct RedriveArgs {
    /// The run id (the execution's name) or the execution's ARN.
    run: String,
    #[arg(long, default_value = "dev")]
    stage: String,
}

/// Exit codes of these commands, beyond the shared ones.
#[cfg(feature = "aws")]
pub mod exit {
    /// The run is still going (not followed).
    pub const RUNNING: u8 = 3;
    /// Following stopped with Ctrl-C; the run goes on.
    pub const INTERRUPTED: u8 = 130;
}

#[cfg(not(feature = "aws"))]
fn no_aws() -> anyhow::Result<u8> {
    anyhow::bail!(
        "this build has no AWS client: `submit`, `status` and `redrive` need `--features aws` \
         (cargo install --locked --path . --features aws)"
    )
}

#[cfg(not(feature = "aws"))]
pub fn submit(_: &SubmitArgs) -> anyhow::Result<u8> {
    no_aws()
}

#[cfg(not(feature = "aws"))]
pub fn status(_: &StatusArgs) -> anyhow::Result<u8> {
    no_aws()
}

#[cfg(not(feature = "aws"))]
pub fn redrive(_: &RedriveArgs) -> anyhow::Result<u8> {
    no_aws()
}

#[cfg(feature = "aws")]
pub use with_aws::{redrive, status, submit};

#[cfg(feature = "aws")]
mod with_aws {
    use std::io::IsTerminal;
    use std::time::Duration;

    use anyhow::Context;
    use flow::aggregate::RunStatus;
    use indicatif::{ProgressBar, ProgressStyle};
    use remote::deployed::{Deployed, RunView};

    use super::{RedriveArgs, StatusArgs, SubmitArgs, exit};

    fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
    }

    async fn connect(stage: &str) -> anyhow::Result<Deployed> {
        Ok(Deployed::connect(remote::Clients::from_env().await, stage).await?)
    }

    /// How often a followed run is read.
    const POLL: Duration = Duration::from_secs(2);

    enum Followed {
        Ended(Box<RunView>),
        Interrupted(Box<RunView>),
    }

    /// Reads the run until it ends, with the Map Run's items as a progress bar; Ctrl-C stops
    /// following (the run goes on).
    async fn follow(d: &Deployed, run: &str, json: bool) -> anyhow::Result<Followed> {
        let bar = if std::io::stderr().is_terminal() && !json { ProgressBar::new(0) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} batches {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let view = d.status(run).await?;
            match &view.map_run {
                Some(m) => {
                    bar.set_length(m.total.max(0) as u64);
                    bar.set_position((m.succeeded + m.failed + m.timed_out + m.aborted).max(0) as u64);
                    bar.set_message(format!("{} diagnosing ({} failed)", view.run_id, m.failed));
                }
                None => bar.set_message(format!("{} {}", view.run_id, view.status.to_lowercase())),
            }
            if !view.running() {
                bar.finish_and_clear();
                return Ok(Followed::Ended(Box::new(view)));
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = &mut ctrl_c => {
                    bar.finish_and_clear();
                    return Ok(Followed::Interrupted(Box::new(view)));
                }
            }
        }
    }

    fn exit_code(v: &RunView) -> u8 {
        if v.running() {
            return exit::RUNNING;
        }
        let complete = v.summary.as_ref().is_none_or(|s| s.status == RunStatus::Complete);
        if v.status == "SUCCEEDED" && complete { crate::exit::OK } else { crate::exit::EXECUTION_FAILED }
    }

    fn show(v: &RunView, json: bool) -> anyhow::Result<u8> {
        if json {
            crate::print_out(&(serde_json::to_string_pretty(v)? + "\n"))?;
            return Ok(exit_code(v));
        }
        use std::fmt::Write as _;
        let mut o = String::new();
        let _ = writeln!(o, "Run {}: {}", v.run_id, v.status);
        if let (Some(e), cause) = (&v.error, &v.cause) {
            let cause = cause
                .as_deref()
                .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
                .and_then(|c| c.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned))
                .or_else(|| v.cause.clone())
                .unwrap_or_default();
            let _ = writeln!(o, "  error: {e}: {cause}");
        }
        let _ = writeln!(
            o,
            "  started {}{}",
            v.started.as_deref().unwrap_or("?"),
            v.stopped.as_deref().map(|s| format!(", ended {s}")).unwrap_or_default()
        );
        if let Some(m) = &v.map_run {
            let _ = writeln!(
                o,
                "  Map Run {}: {} of {} batches succeeded, {} failed, {} running, {} pending",
                m.status.to_lowercase(),
                m.succeeded,
                m.total,
                m.failed + m.timed_out + m.aborted,
                m.running,
                m.pending
            );
        }
        match &v.summary {
            Some(s) => {
                let c = &s.counts;
                let _ = writeln!(
                    o,
                    "  {} rows read: {} samples accepted, {} rows rejected; {} assets: {} diagnosed, {} failed",
                    c.rows_read, c.samples_accepted, c.rows_rejected, c.assets, c.diagnosed, c.failed
                );
                let st = |k: &str| s.by_status.get(k).copied().unwrap_or(0);
                let _ =
                    writeln!(o, "  status 3 (act now): {}   status 2: {}   status 1: {}", st("3"), st("2"), st("1"));
                if let Some(reason) = &s.reason {
                    let _ = writeln!(o, "  {reason}");
                }
                let dir = s.files.summary.rsplit_once('/').map_or("", |(d, _)| d);
                let _ = writeln!(o, "  results: s3://{}/{dir}/", v.bucket);
            }
            None if !v.running() => {
                let _ = writeln!(o, "  no summary was written");
            }
            None => {}
        }
        let _ = writeln!(o, "  console: {}", v.console);
        crate::term::print(&o)?;
        Ok(exit_code(v))
    }

    fn followed(f: Followed, json: bool, stage: &str) -> anyhow::Result<u8> {
        match f {
            Followed::Ended(v) => show(&v, json),
            Followed::Interrupted(v) => {
                eprintln!(
                    "stopped following: the run goes on (substation status {} --stage {stage} --follow)",
                    v.run_id
                );
                Ok(exit::INTERRUPTED)
            }
        }
    }

    pub fn submit(args: &SubmitArgs) -> anyhow::Result<u8> {
        let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
        let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        runtime()?.block_on(async {
            let d = connect(&args.stage).await?;
            let s = d.submit(&name, bytes).await?;
            if !args.json {
                eprintln!("uploaded s3://{}/{} as run {}", d.stack.bucket, s.key, s.run_id);
            }
            d.wait_started(&s.execution_arn, &s.run_id, Duration::from_secs(args.wait)).await?;
            if args.follow {
                return followed(follow(&d, &s.execution_arn, args.json).await?, args.json, &args.stage);
            }
            show(&d.status(&s.execution_arn).await?, args.json)
        })
    }

    pub fn status(args: &StatusArgs) -> anyhow::Result<u8> {
        runtime()?.block_on(async {
            let d = connect(&args.stage).await?;
            if args.follow {
                return followed(follow(&d, &args.run, args.json).await?, args.json, &args.stage);
            }
            show(&d.status(&args.run).await?, args.json)
        })
    }

    pub fn redrive(args: &RedriveArgs) -> anyhow::Result<u8> {
        runtime()?.block_on(async {
            let d = connect(&args.stage).await?;
            let at = d.redrive(&args.run).await?;
            println!("redriven at {at}: substation status {} --stage {} --follow", args.run, args.stage);
            Ok(crate::exit::OK)
        })
    }
}
