//! `substation plan`: what a deployed run of N assets will ask of AWS, cost and take, before it
//! happens. Counts follow the code paths of the state machine and the steps (each count's
//! comment says which); per-asset sizes and the steps' compute time come from measured figures
//! (`cargo bench -p flow --bench diagnose_batch` writes config/diagnose-timings.json); prices
//! from a dated table (config/aws-prices.json). Both files can be replaced.
//!
//! Checked against the rehearsal (tests/rehearsal.rs): child executions, state transitions,
//! Lambda invocations, S3 and DynamoDB requests within 10 % of what the servers counted.

use serde::{Deserialize, Serialize};

use crate::history::{BATCH_GET_KEYS, WRITES_IN_FLIGHT};
use crate::store::PART_BYTES;

/// The measured figures the plan is built on, as the benchmark writes them.
pub const EMBEDDED_TIMINGS: &str = include_str!("../../../config/diagnose-timings.json");
/// The price table.
pub const EMBEDDED_PRICES: &str = include_str!("../../../config/aws-prices.json");

/// The states a successful execution enters (bulk-upload.asl.json: ParseWorkbook,
/// DiagnoseAssets, Aggregate, Done), each one billed transition.
pub const PARENT_STATES: u64 = 4;
/// One vCPU per 1,769 MB of Lambda memory (AWS Lambda's documented allocation): a function
/// with less runs its CPU work proportionally slower than one core of the benchmark.
pub const MB_PER_VCPU: f64 = 1769.0;
/// The HTML report's asset pages (report::html::ReportLimits::sections): the aggregate reads at
/// most this many batches once more for them.
pub const REPORT_SECTIONS: u64 = 500;

/// Prices, USD (config/aws-prices.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// When the prices were read.
    pub as_of: String,
    /// The region they are for.
    pub region: String,
    /// A STANDARD state transition.
    pub step_functions_standard_per_transition: f64,
    /// An EXPRESS execution started.
    pub step_functions_express_per_request: f64,
    /// An EXPRESS GB-second (64 MB chunks, 100 ms increments).
    pub step_functions_express_per_gb_second: f64,
    /// A Lambda request.
    pub lambda_per_request: f64,
    /// A Lambda GB-second, x86_64.
    pub lambda_x86_per_gb_second: f64,
    /// An S3 PUT, COPY, POST or LIST.
    pub s3_put_per_request: f64,
    /// An S3 GET.
    pub s3_get_per_request: f64,
    /// A DynamoDB on-demand write request unit (1 KB).
    pub dynamodb_per_write_request_unit: f64,
    /// A DynamoDB on-demand read request unit (4 KB strongly consistent).
    pub dynamodb_per_read_request_unit: f64,
    /// Which prices are not confirmed, and why.
    #[serde(default)]
    pub unconfirmed: Vec<String>,
}

/// One measured batch (config/diagnose-timings.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredBatch {
    /// Assets of the measured fleet.
    pub assets: u64,
    /// Assets of each diagnosed batch.
    pub batch_assets: u64,
    /// Samples per asset.
    pub samples_per_asset: u32,
    /// The diagnose handler on one batch, median, ms.
    pub diagnose_batch_ms: f64,
    /// Parse of the fleet, ms.
    pub parse_ms: f64,
    /// Aggregate of the fleet, ms.
    pub aggregate_ms: f64,
    /// What each step reads and writes, per asset.
    pub bytes_per_asset: BytesPerAsset,
}

/// Bytes per asset of what the steps read and write.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BytesPerAsset {
    /// The upload.
    pub workbook: f64,
    /// Its line of assets.jsonl (the ItemReader reads it; the batcher packs it).
    pub item: f64,
    /// Its diagnosis line (runs/…/diagnoses/).
    pub diagnosis_lines: f64,
    /// Its digest line (what the aggregate tallies).
    pub digests: f64,
    /// Its line of results/…/diagnoses.jsonl.
    pub diagnoses_jsonl: f64,
    /// Its share of report.xlsx.
    pub report_xlsx: f64,
    /// Its share of report.html (its page, up to 500 pages).
    pub report_html: f64,
}

/// The measured figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// The day of the measurement.
    pub measured_on: String,
    /// The CPU and cores it ran on.
    pub machine: String,
    /// One entry per number of samples per asset.
    pub batches: Vec<MeasuredBatch>,
}

/// The network's share, which the benchmark does not measure: assumed round trips from a
/// Lambda function in the bucket's and table's region. Labelled as assumptions in the output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latencies {
    /// An S3 PUT.
    pub s3_put_ms: f64,
    /// An S3 GET.
    pub s3_get_ms: f64,
    /// A DynamoDB request.
    pub dynamodb_ms: f64,
    /// Step Functions' own time per child execution (start, ItemBatcher, result).
    pub child_overhead_ms: f64,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies { s3_put_ms: 40.0, s3_get_ms: 20.0, dynamodb_ms: 10.0, child_overhead_ms: 100.0 }
    }
}

/// Why there is no plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The timings file does not read.
    #[error("the timings file is not valid: {0}")]
    Timings(serde_json::Error),
    /// It has no measurement.
    #[error("the timings file has no measured batch")]
    NoTimings,
    /// The price table does not read.
    #[error("the price table is not valid: {0}")]
    Prices(serde_json::Error),
    /// The stage is unknown.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Nothing to plan.
    #[error("--assets must be at least 1")]
    NoAssets,
}

impl Timings {
    /// Reads the timings file (config/diagnose-timings.json's format).
    pub fn parse(text: &str) -> Result<Timings, PlanError> {
        let t: Timings = serde_json::from_str(text).map_err(PlanError::Timings)?;
        if t.batches.is_empty() {
            return Err(PlanError::NoTimings);
        }
        Ok(t)
    }

    /// The figures at `samples` samples per asset, per asset: interpolated linearly between
    /// the measured counts (extrapolated from the nearest two beyond them).
    pub fn per_asset(&self, samples: u32) -> (f64, f64, f64, BytesPerAsset) {
        let mut b: Vec<&MeasuredBatch> = self.batches.iter().collect();
        b.sort_by_key(|m| m.samples_per_asset);
        let at = |m: &MeasuredBatch| {
            let n = m.assets.max(1) as f64;
            (m.diagnose_batch_ms / m.batch_assets.max(1) as f64, m.parse_ms / n, m.aggregate_ms / n, m.bytes_per_asset)
        };
        if b.len() == 1 {
            return at(b[0]);
        }
        let i = b.iter().position(|m| m.samples_per_asset >= samples).unwrap_or(b.len() - 1).clamp(1, b.len() - 1);
        let (lo, hi) = (b[i - 1], b[i]);
        let f = (f64::from(samples) - f64::from(lo.samples_per_asset))
            / f64::from((hi.samples_per_asset - lo.samples_per_asset).max(1));
        let mix = |a: f64, b: f64| (a + (b - a) * f).max(0.0);
        let (l, h) = (at(lo), at(hi));
        let bytes = BytesPerAsset {
            workbook: mix(l.3.workbook, h.3.workbook),
            item: mix(l.3.item, h.3.item),
            diagnosis_lines: mix(l.3.diagnosis_lines, h.3.diagnosis_lines),
            digests: mix(l.3.digests, h.3.digests),
            diagnoses_jsonl: mix(l.3.diagnoses_jsonl, h.3.diagnoses_jsonl),
            report_xlsx: mix(l.3.report_xlsx, h.3.report_xlsx),
            report_html: mix(l.3.report_html, h.3.report_html),
        };
        (mix(l.0, h.0), mix(l.1, h.1), mix(l.2, h.2), bytes)
    }
}

impl Prices {
    /// Reads a price table (config/aws-prices.json's format).
    pub fn parse(text: &str) -> Result<Prices, PlanError> {
        serde_json::from_str(text).map_err(PlanError::Prices)
    }
}

/// What to plan for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    /// Assets measured (a batch) or planned.
    pub assets: u64,
    /// Samples per asset.
    pub samples_per_asset: u32,
    /// The stage whose tunables apply.
    pub stage: String,
    /// The stage's history table is read and written (every stage has one; `--no-history`
    /// plans without it).
    pub history: bool,
}

/// Requests and quantities a run asks for.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PlanCounts {
    /// Assets a batch (the ItemBatcher: items and bytes).
    pub assets_per_batch: u64,
    /// EXPRESS children, one per batch.
    pub child_executions: u64,
    /// The parent's states entered plus one per child.
    pub state_transitions: u64,
    /// trigger + parse + one diagnose per batch + aggregate.
    pub lambda_invocations: u64,
    /// Lambda duration × memory.
    pub lambda_gb_seconds: f64,
    /// The children's billed duration × 64 MB.
    pub express_gb_seconds: f64,
    /// PUT and GET requests.
    pub s3_requests: u64,
    /// PUTs (multipart parts included).
    pub s3_put_requests: u64,
    /// GETs.
    pub s3_get_requests: u64,
    /// Bytes written.
    pub s3_bytes_written: u64,
    /// Bytes read.
    pub s3_bytes_read: u64,
    /// BatchGetItem and UpdateItem requests.
    pub dynamodb_requests: u64,
    /// Read request units.
    pub dynamodb_read_units: u64,
    /// Write request units.
    pub dynamodb_write_units: u64,
}

/// One line of the cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    /// Its line of assets.jsonl (the ItemReader reads it; the batcher packs it).
    pub item: String,
    /// How many units.
    pub quantity: f64,
    /// The price of one.
    pub unit_usd: f64,
    /// quantity × unit_usd.
    pub usd: f64,
}

/// The wall time, estimated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WallTime {
    /// Trigger to summary.
    pub seconds: f64,
    /// The parse step.
    pub parse_s: f64,
    /// The Map, every wave of children.
    pub diagnose_s: f64,
    /// The aggregate step.
    pub aggregate_s: f64,
    /// Children at once: the stage's Map concurrency, at most the batches.
    pub concurrency: u64,
    /// One child.
    pub per_batch_s: f64,
    /// What the estimate assumes.
    pub assumptions: Vec<String>,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Assets measured (a batch) or planned.
    pub assets: u64,
    /// Samples per asset.
    pub samples_per_asset: u32,
    /// The stage whose tunables apply.
    pub stage: String,
    /// Whether the history table is read and written.
    pub history: bool,
    /// Requests and quantities.
    pub counts: PlanCounts,
    /// The cost, line by line.
    pub cost: Vec<CostLine>,
    /// The total per run.
    pub cost_usd: f64,
    /// The price table's date.
    pub prices_as_of: String,
    /// The price table's region.
    pub prices_region: String,
    /// Prices the table marks unconfirmed.
    pub prices_unconfirmed: Vec<String>,
    /// The timings' date.
    pub timings_measured_on: String,
    /// Where they were measured.
    pub timings_machine: String,
    /// The wall time, estimated.
    pub wall: WallTime,
    /// What would not fit: a step estimated longer than its function's timeout.
    pub warnings: Vec<String>,
}

/// PUT requests for an object of `bytes` written by the S3 store's writer: one PUT under a
/// part, else CreateMultipartUpload + the parts + CompleteMultipartUpload.
pub fn puts_for(bytes: f64) -> u64 {
    let part = PART_BYTES as f64;
    if bytes < part { 1 } else { 2 + (bytes / part).ceil() as u64 }
}

/// Builds the plan.
pub fn plan(
    request: &PlanRequest,
    config: &config::SharedConfig,
    timings: &Timings,
    prices: &Prices,
    latencies: &Latencies,
) -> Result<Plan, PlanError> {
    if request.assets == 0 {
        return Err(PlanError::NoAssets);
    }
    let stage = config.stage(&request.stage)?;
    let n = request.assets;
    let nf = n as f64;
    let (batch_ms_per_asset, parse_ms_per_asset, aggregate_ms_per_asset, bytes) =
        timings.per_asset(request.samples_per_asset);

    // The ItemBatcher: at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes a batch.
    let m = stage.map;
    let by_bytes = (f64::from(m.max_input_bytes_per_batch) / bytes.item.max(1.0)).floor().max(1.0) as u64;
    let per_batch = u64::from(m.max_items_per_batch).min(by_bytes).max(1);
    let batches = n.div_ceil(per_batch);
    let report_batches = batches.min(REPORT_SECTIONS);

    // S3, request by request (what a deployed run's functions and Step Functions ask; the
    // engineer's upload and downloads are not counted).
    let items_bytes = bytes.item * nf;
    let lines_bytes = bytes.diagnosis_lines * nf;
    let digests_bytes = bytes.digests * nf;
    let html_bytes = bytes.report_html * nf.min(REPORT_SECTIONS as f64) + 300.0 * nf;
    // parse: the upload (GET of its version), assets.jsonl, rejected.jsonl.
    let parse_gets = 1;
    let parse_puts = puts_for(items_bytes) + 1;
    // The Map: the ItemReader's GET of assets.jsonl; the ResultWriter's SUCCEEDED_0.json and
    // manifest.json.
    let map_gets = 1;
    let map_puts = 2;
    // diagnose, per batch: its diagnosis lines and its digests.
    let diagnose_puts = 2 * batches;
    // aggregate: the manifest, the result file, runs/…/rejected.jsonl; each batch's digests and
    // lines; the batches holding report pages once more; then summary.json, diagnoses.jsonl,
    // rejected.jsonl, report.xlsx and report.html.
    let aggregate_gets = 3 + 2 * batches + report_batches;
    let aggregate_puts = 1 + puts_for(lines_bytes) + 1 + puts_for(bytes.report_xlsx * nf) + puts_for(html_bytes);
    let gets = parse_gets + map_gets + aggregate_gets;
    let puts = parse_puts + map_puts + diagnose_puts + aggregate_puts;
    let written =
        items_bytes + lines_bytes + digests_bytes + bytes.diagnoses_jsonl * nf + bytes.report_xlsx * nf + html_bytes;
    let read = bytes.workbook * nf + items_bytes + 2.0 * (lines_bytes + digests_bytes);

    // DynamoDB: per batch, its assets' histories read (BatchGetItem, 100 keys a request) and
    // each asset's history written once (UpdateItem), when the stage keeps the history.
    let (ddb_requests, read_units, write_units) = if request.history {
        let reads = batches * per_batch.min(n).div_ceil(BATCH_GET_KEYS as u64);
        // Strongly consistent reads: 1 unit per 4 KB; writes 1 unit per 1 KB of the item.
        let item_kb = (bytes.item / 1024.0).ceil().max(1.0) as u64;
        (reads + n, n * (bytes.item / 4096.0).ceil().max(1.0) as u64, n * item_kb)
    } else {
        (0, 0, 0)
    };

    // Lambda: the trigger, parse, one diagnose per batch, aggregate.
    let lambdas = &stage.lambdas;
    let memory_gb = |f: &str| f64::from(lambdas.get(f).map_or(128, |l| l.memory_mb)) / 1024.0;
    let slowdown = |f: &str| (MB_PER_VCPU / f64::from(lambdas.get(f).map_or(128, |l| l.memory_mb))).max(1.0);
    let l = latencies;
    let per_batch_f = per_batch as f64;
    let ddb_round_trips = if request.history {
        per_batch.div_ceil(BATCH_GET_KEYS as u64) as f64 + (per_batch_f / WRITES_IN_FLIGHT as f64).ceil()
    } else {
        0.0
    };
    let diagnose_s =
        (batch_ms_per_asset * per_batch_f * slowdown("diagnose") + 2.0 * l.s3_put_ms + ddb_round_trips * l.dynamodb_ms)
            / 1000.0;
    let parse_s =
        (parse_ms_per_asset * nf * slowdown("parse") + l.s3_get_ms + parse_puts as f64 * l.s3_put_ms) / 1000.0;
    let aggregate_s = (aggregate_ms_per_asset * nf * slowdown("aggregate")
        + aggregate_gets as f64 * l.s3_get_ms
        + aggregate_puts as f64 * l.s3_put_ms)
        / 1000.0;
    let trigger_s = 0.1;
    let gb_s = trigger_s * memory_gb("trigger")
        + parse_s * memory_gb("parse")
        + batches as f64 * diagnose_s * memory_gb("diagnose")
        + aggregate_s * memory_gb("aggregate");
    // Express children: billed per 100 ms in 64 MB chunks (shared/reference §7).
    let child_s = ((diagnose_s * 1000.0 + l.child_overhead_ms) / 100.0).ceil() * 0.1;
    let express_gb_s = batches as f64 * child_s * (64.0 / 1024.0);

    let counts = PlanCounts {
        assets_per_batch: per_batch,
        child_executions: batches,
        state_transitions: PARENT_STATES + batches,
        lambda_invocations: 3 + batches,
        lambda_gb_seconds: round(gb_s, 3),
        express_gb_seconds: round(express_gb_s, 3),
        s3_requests: gets + puts,
        s3_put_requests: puts,
        s3_get_requests: gets,
        s3_bytes_written: written as u64,
        s3_bytes_read: read as u64,
        dynamodb_requests: ddb_requests,
        dynamodb_read_units: read_units,
        dynamodb_write_units: write_units,
    };
    let p = prices;
    let line = |item: &str, quantity: f64, unit_usd: f64| CostLine {
        item: item.to_owned(),
        quantity,
        unit_usd,
        usd: quantity * unit_usd,
    };
    let cost = vec![
        line(
            "Step Functions state transitions",
            counts.state_transitions as f64,
            p.step_functions_standard_per_transition,
        ),
        line("Step Functions Express requests", batches as f64, p.step_functions_express_per_request),
        line("Step Functions Express GB-seconds", counts.express_gb_seconds, p.step_functions_express_per_gb_second),
        line("Lambda requests", counts.lambda_invocations as f64, p.lambda_per_request),
        line("Lambda GB-seconds (x86_64)", counts.lambda_gb_seconds, p.lambda_x86_per_gb_second),
        line("S3 PUT requests", puts as f64, p.s3_put_per_request),
        line("S3 GET requests", gets as f64, p.s3_get_per_request),
        line("DynamoDB write request units", write_units as f64, p.dynamodb_per_write_request_unit),
        line("DynamoDB read request units", read_units as f64, p.dynamodb_per_read_request_unit),
    ];
    let cost_usd = cost.iter().map(|c| c.usd).sum();
    let concurrency = u64::from(m.max_concurrency).clamp(1, batches.max(1));
    let waves = batches.div_ceil(concurrency) as f64;
    let diagnose_wall = waves * (diagnose_s + l.child_overhead_ms / 1000.0);
    let wall = WallTime {
        seconds: round(trigger_s + parse_s + diagnose_wall + aggregate_s, 1),
        parse_s: round(parse_s, 2),
        diagnose_s: round(diagnose_wall, 2),
        aggregate_s: round(aggregate_s, 2),
        concurrency,
        per_batch_s: round(diagnose_s, 3),
        assumptions: vec![
            format!(
                "compute: the benchmark's single-core time ({}, {}), slowed by {MB_PER_VCPU} MB per vCPU for functions with less memory",
                timings.measured_on, timings.machine
            ),
            format!(
                "network: S3 PUT {} ms, GET {} ms, DynamoDB {} ms per round trip, {} ms of Step Functions per child",
                l.s3_put_ms, l.s3_get_ms, l.dynamodb_ms, l.child_overhead_ms
            ),
            format!(
                "{concurrency} children at once (the stage's MaxConcurrency), warm functions, no throttling or retries"
            ),
            "not counted: cold starts, CloudWatch Logs and X-Ray, the upload itself, free tiers".into(),
        ],
    };
    let mut warnings = Vec::new();
    for (function, estimated_s) in [("parse", parse_s), ("diagnose", diagnose_s), ("aggregate", aggregate_s)] {
        let Some(timeout) = lambdas.get(function).map(|l| f64::from(l.timeout_seconds)) else { continue };
        if estimated_s > timeout {
            warnings.push(format!(
                "{function}: about {estimated_s:.0} s, above its {timeout:.0} s timeout (config/stages.json, stages.{}.lambdas.{function}.timeout_seconds)",
                request.stage
            ));
        }
    }
    Ok(Plan {
        warnings,
        assets: n,
        samples_per_asset: request.samples_per_asset,
        stage: request.stage.clone(),
        history: request.history,
        counts,
        cost,
        cost_usd,
        prices_as_of: prices.as_of.clone(),
        prices_region: prices.region.clone(),
        prices_unconfirmed: prices.unconfirmed.clone(),
        timings_measured_on: timings.measured_on.clone(),
        timings_machine: timings.machine.clone(),
        wall,
    })
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(assets: u64, stage: &str) -> PlanRequest {
        PlanRequest { assets, samples_per_asset: 4, stage: stage.into(), history: true }
    }

    fn plan_of(r: &PlanRequest) -> Plan {
        let timings = Timings::parse(EMBEDDED_TIMINGS).unwrap();
        let prices = Prices::parse(EMBEDDED_PRICES).unwrap();
        plan(r, &config::SharedConfig::embedded(), &timings, &prices, &Latencies::default()).unwrap()
    }

    #[test]
    fn the_embedded_files_read() {
        let t = Timings::parse(EMBEDDED_TIMINGS).unwrap();
        assert!(t.batches.iter().all(|b| b.diagnose_batch_ms > 0.0 && b.bytes_per_asset.item > 0.0));
        let p = Prices::parse(EMBEDDED_PRICES).unwrap();
        assert!(!p.as_of.is_empty() && p.lambda_per_request > 0.0);
    }

    #[test]
    fn counts_follow_the_batches() {
        let dev = config::SharedConfig::embedded().stage("dev").unwrap().map;
        let p = plan_of(&request(10_000, "dev"));
        let c = &p.counts;
        assert_eq!(c.assets_per_batch, u64::from(dev.max_items_per_batch), "4 samples fit 100 a batch");
        assert_eq!(c.child_executions, 100);
        assert_eq!(c.state_transitions, 104);
        assert_eq!(c.lambda_invocations, 103);
        // One UpdateItem per asset and a BatchGetItem per batch of 100.
        assert_eq!(c.dynamodb_requests, 10_000 + 100);
        assert_eq!(c.s3_requests, c.s3_put_requests + c.s3_get_requests);
        // Every batch writes 2 files and is read 2-3 times by the aggregate.
        assert!(c.s3_put_requests >= 200 && c.s3_get_requests >= 300, "{c:?}");
        let sum: f64 = p.cost.iter().map(|l| l.usd).sum();
        assert!((p.cost_usd - sum).abs() < 1e-12 && p.cost_usd > 0.0);
        // At 10 children at once, 10 waves of batches.
        assert_eq!(p.wall.concurrency, 10);
        assert!(p.wall.diagnose_s >= 10.0 * p.wall.per_batch_s, "{:?}", p.wall);
    }

    #[test]
    fn big_samples_fill_a_batch_by_bytes_not_items() {
        let mut r = request(10_000, "dev");
        r.samples_per_asset = 120;
        let p = plan_of(&r);
        let dev = config::SharedConfig::embedded().stage("dev").unwrap().map;
        assert!(p.counts.assets_per_batch < u64::from(dev.max_items_per_batch), "{:?}", p.counts);
        assert_eq!(p.counts.child_executions, 10_000u64.div_ceil(p.counts.assets_per_batch));
    }

    #[test]
    fn without_the_history_there_is_no_dynamodb() {
        let mut r = request(500, "prod");
        r.history = false;
        let p = plan_of(&r);
        assert_eq!((p.counts.dynamodb_requests, p.counts.dynamodb_write_units), (0, 0));
        let with = plan_of(&request(500, "prod"));
        assert!(with.cost_usd > p.cost_usd);
    }

    #[test]
    fn large_files_are_multipart_uploads() {
        assert_eq!(puts_for(100.0), 1);
        assert_eq!(puts_for(PART_BYTES as f64 * 2.5), 2 + 3);
    }

    #[test]
    fn a_price_table_of_ones_prices_the_quantities() {
        let timings = Timings::parse(EMBEDDED_TIMINGS).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(EMBEDDED_PRICES).unwrap();
        for (k, x) in v.as_object_mut().unwrap() {
            if x.is_f64() {
                *x = serde_json::json!(if k == "lambda_per_request" { 1.0 } else { 0.0 });
            }
        }
        let prices = Prices::parse(&v.to_string()).unwrap();
        let p =
            plan(&request(1_000, "dev"), &config::SharedConfig::embedded(), &timings, &prices, &Latencies::default())
                .unwrap();
        assert_eq!(p.cost_usd, p.counts.lambda_invocations as f64);
    }

    #[test]
    fn a_step_longer_than_its_timeout_is_a_warning() {
        let mut timings = Timings::parse(EMBEDDED_TIMINGS).unwrap();
        // An aggregate of 1 s per asset: 1,000 assets take 1,000 s, above dev's 900 s.
        for b in &mut timings.batches {
            b.aggregate_ms = 1000.0 * b.assets as f64;
        }
        let prices = Prices::parse(EMBEDDED_PRICES).unwrap();
        let cfg = config::SharedConfig::embedded();
        let p = plan(&request(1_000, "dev"), &cfg, &timings, &prices, &Latencies::default()).unwrap();
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].starts_with("aggregate: about 10") && p.warnings[0].contains("900 s timeout"),
            "{:?}",
            p.warnings
        );
        assert!(plan_of(&request(1_000, "dev")).warnings.is_empty());
    }

    #[test]
    fn figures_between_measured_samples_are_interpolated() {
        let t = Timings::parse(EMBEDDED_TIMINGS).unwrap();
        let (lo, hi) = (t.per_asset(4), t.per_asset(10));
        let mid = t.per_asset(7);
        assert!(mid.3.item > lo.3.item && mid.3.item < hi.3.item);
        assert!(Timings::parse(r#"{"measured_on":"x","machine":"y","batches":[]}"#).is_err());
    }
}
