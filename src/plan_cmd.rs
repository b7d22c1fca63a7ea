//! `substation plan`: a deployed run's requests, cost and wall time, before it happens
//! (functions/flow/src/plan.rs).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use flow::plan::{EMBEDDED_PRICES, EMBEDDED_TIMINGS, Latencies, PlanRequest, Prices, Timings};

use crate::exit;

/// Estimate what a deployed run of N assets asks of AWS, what it costs and how long it takes.
#[derive(Debug, Args)]
#[command(
    long_about = "Estimate what a deployed run of N assets asks of AWS — child executions, state transitions, \
        Lambda invocations and GB-seconds, S3 requests and bytes, DynamoDB requests — what it costs per run in USD, \
        and how long it takes at the stage's concurrency. Counts follow the state machine and the steps; the steps' \
        compute time and the bytes per asset are measured (config/diagnose-timings.json, written by `cargo bench -p \
        flow --bench diagnose_batch`); prices come from a dated table (config/aws-prices.json). The wall time is an \
        estimate: its assumptions are printed with it.",
    after_help = "Exit codes: 0 planned; 2 error (a file not valid, an unknown stage)."
)]
pub struct PlanArgs {
    /// Assets (transformers) in the upload.
    #[arg(long)]
    assets: u64,
    /// Samples per asset in the upload.
    #[arg(long, default_value_t = 4)]
    samples_per_asset: u32,
    /// Whose tunables to plan with (config/stages.json).
    #[arg(long, default_value = "prod")]
    stage: String,
    /// Plan without the history store (no DynamoDB).
    #[arg(long)]
    no_history: bool,
    /// Another price table (the format of config/aws-prices.json).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// Other measured timings (the format of config/diagnose-timings.json).
    #[arg(long, value_name = "FILE")]
    timings: Option<PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

fn read_or(path: &Option<PathBuf>, embedded: &str) -> anyhow::Result<String> {
    match path {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display())),
        None => Ok(embedded.to_owned()),
    }
}

pub fn run(args: &PlanArgs) -> anyhow::Result<u8> {
    let timings = Timings::parse(&read_or(&args.timings, EMBEDDED_TIMINGS)?)?;
    let prices = Prices::parse(&read_or(&args.prices, EMBEDDED_PRICES)?)?;
    let request = PlanRequest {
        assets: args.assets,
        samples_per_asset: args.samples_per_asset,
        stage: args.stage.clone(),
        history: !args.no_history,
    };
    let p = flow::plan::plan(&request, &config::SharedConfig::embedded(), &timings, &prices, &Latencies::default())?;
    if args.json {
        crate::print_out(&(serde_json::to_string_pretty(&p)? + "\n"))?;
        return Ok(exit::OK);
    }
    use std::fmt::Write as _;
    let c = &p.counts;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Plan: {} assets × {} samples on {} ({} assets a batch{})",
        p.assets,
        p.samples_per_asset,
        p.stage,
        c.assets_per_batch,
        if p.history { ", with the history table" } else { ", without the history" }
    );
    let mut t = crate::term::table();
    t.set_header(["", "per run"]);
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
    for (k, v) in [
        ("child executions (EXPRESS)", c.child_executions.to_string()),
        ("state transitions (STANDARD)", c.state_transitions.to_string()),
        ("Lambda invocations", c.lambda_invocations.to_string()),
        ("Lambda GB-seconds", format!("{:.1}", c.lambda_gb_seconds)),
        ("S3 requests (PUT + GET)", format!("{} ({} + {})", c.s3_requests, c.s3_put_requests, c.s3_get_requests)),
        ("S3 written / read", format!("{} / {}", mib(c.s3_bytes_written), mib(c.s3_bytes_read))),
        ("DynamoDB requests", c.dynamodb_requests.to_string()),
    ] {
        t.add_row([k.to_owned(), v]);
    }
    let _ = writeln!(o, "{t}");
    let mut t = crate::term::table();
    t.set_header(["cost", "quantity", "USD"]);
    for l in p.cost.iter().filter(|l| l.quantity > 0.0) {
        t.add_row([l.item.clone(), format!("{:.1}", l.quantity), format!("{:.4}", l.usd)]);
    }
    t.add_row(["total per run".to_owned(), String::new(), format!("{:.4}", p.cost_usd)]);
    let _ = writeln!(o, "{t}");
    let _ = writeln!(
        o,
        "Prices: {} as of {} (config/aws-prices.json; --prices FILE for yours){}",
        p.prices_region,
        p.prices_as_of,
        if p.prices_unconfirmed.is_empty() { "" } else { "; some are unconfirmed (--json lists them)" }
    );
    let w = &p.wall;
    let _ = writeln!(
        o,
        "Estimated wall time: {:.0} s (parse {:.1} s, diagnose {:.1} s at {} children at once, {:.2} s a batch, aggregate {:.1} s)",
        w.seconds, w.parse_s, w.diagnose_s, w.concurrency, w.per_batch_s, w.aggregate_s
    );
    for w in &p.warnings {
        let _ = writeln!(o, "{}", crate::term::status_text(3, &format!("warning: {w}")));
    }
    let _ = writeln!(o, "  an estimate, assuming:");
    for a in &w.assumptions {
        let _ = writeln!(o, "  - {a}");
    }
    crate::term::print(&o)?;
    Ok(exit::OK)
}
