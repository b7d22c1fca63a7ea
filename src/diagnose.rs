//! `substation diagnose`: one sample from flags, or every asset of a workbook or CSV file.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use dga::{AssetInfo, DgaSample, DiagnosisRecord, Gas, GasReading, Thresholds, diagnose_asset};

use crate::{exit, report};

/// Diagnose one sample given as flags, or every asset in a workbook or CSV file.
#[derive(Debug, Args)]
#[command(
    long_about = "Diagnose one oil sample given as flags, or every asset in a workbook or CSV file.\n\n\
        Gas values are ppm (µL/L). Below-detection results may be written as <1, ND, n.d., - or left \
        blank: they count as not detected (0 ppm) for levels, and as the detection limit in ratios.\n\n\
        Files (--workbook or --csv, the same reader: the kind is read from the content): .xlsx, \
        .xlsm, .xlsb, .xls, .ods, or CSV text separated by ',', ';' or tabs, in UTF-8, UTF-16 or \
        Windows-1252. The header names the gases (H2, CH4, C2H6, C2H4, C2H2 required; CO, CO2, O2, \
        N2 optional; symbols, English, German or Korean names, units such as 'H2 (ppm)' allowed). \
        Optional columns: an asset id (rows with the same id form one asset's history; without \
        one, each row is an asset of its own), a sample date (orders the history and enables \
        rates), the age and the other asset columns of `substation template`. Decimal commas are \
        read; a value like 1.250, which is 1.25 or 1250 depending on the locale, is read only \
        when the file shows its decimal mark. Rows that cannot be read are reported on stderr \
        with their row (a CSV's line), column and reason; the other rows are diagnosed.",
    after_help = "Examples:\n  \
        substation diagnose --h2 120 --ch4 80 --c2h6 30 --c2h4 150 --c2h2 2\n  \
        substation diagnose --csv examples/fleet-sample.csv\n  \
        substation diagnose --csv fleet.csv --json > diagnoses.jsonl\n  \
        substation diagnose --workbook fleet.xlsx --report results.xlsx\n\n\
        Legend (docs/legend.md):\n  \
        Status (IEEE C57.104-2019): 1 normal; 2 investigate (elevated or possibly gassing); 3 act now \
        (high or actively generating).\n  \
        Fault (IEC 60599 / Duval Triangle 1): PD partial discharges; D1 low-energy discharges; D2 \
        high-energy discharges (arcing); T1 thermal < 300 °C; T2 300-700 °C; T3 > 700 °C; DT mixed \
        electrical and thermal; NORMAL no fault (status 1); UNDETERMINED no zone or ratio row \
        matches (not the input marker ND, 'not detected').\n  \
        Refinements, shown beside the fault, e.g. 'T2 (C)': S stray gassing of oil possible, confirm \
        before acting; O overheating < 250 °C without carbonisation of paper; C possible \
        carbonisation of paper; T3-H T3 in oil only (Triangles 4/5, Pentagon 2).\n  \
        Confidence: high = holds within the lab's ±15 % uncertainty (p >= 0.9) and a cross-check gives \
        the same code, none another; medium = p >= 0.6 and not contradicted; low = near a zone \
        boundary or contradicted.\n  \
        Priority 0-300: 100 per status above 1, plus up to 50 for how far the worst gas is above its \
        Table 1 level and up to 50 for how fast it rises against its Table 4 rate.\n\n\
        Exit codes: 0 all diagnosed; 1 some rows rejected (the rest diagnosed); 2 error, nothing diagnosed."
)]
pub struct DiagnoseArgs {
    /// CSV file of samples ('-' reads standard input); the same as --workbook: either reads
    /// either kind of file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["h2", "ch4", "c2h6", "c2h4", "c2h2", "co", "co2", "o2", "n2", "age_years", "workbook"])]
    csv: Option<PathBuf>,

    /// Workbook of the fleet (.xlsx, .xlsm, .xls, .xlsb, .ods; see `substation template`) or a
    /// CSV file; '-' reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["h2", "ch4", "c2h6", "c2h4", "c2h2", "co", "co2", "o2", "n2", "age_years"])]
    workbook: Option<PathBuf>,

    /// With --workbook or --csv: also write the results workbook (Summary, Diagnoses, Rejected
    /// rows).
    #[arg(long, value_name = "FILE.xlsx")]
    report: Option<PathBuf>,

    /// Hydrogen, ppm.
    #[arg(long, value_name = "PPM", required_unless_present_any = ["csv", "workbook"], allow_hyphen_values = true)]
    h2: Option<String>,
    /// Methane, ppm.
    #[arg(long, value_name = "PPM", required_unless_present_any = ["csv", "workbook"], allow_hyphen_values = true)]
    ch4: Option<String>,
    /// Ethane, ppm.
    #[arg(long, value_name = "PPM", required_unless_present_any = ["csv", "workbook"], allow_hyphen_values = true)]
    c2h6: Option<String>,
    /// Ethylene, ppm.
    #[arg(long, value_name = "PPM", required_unless_present_any = ["csv", "workbook"], allow_hyphen_values = true)]
    c2h4: Option<String>,
    /// Acetylene, ppm.
    #[arg(long, value_name = "PPM", required_unless_present_any = ["csv", "workbook"], allow_hyphen_values = true)]
    c2h2: Option<String>,
    /// Carbon monoxide, ppm.
    #[arg(long, value_name = "PPM", allow_hyphen_values = true)]
    co: Option<String>,
    /// Carbon dioxide, ppm.
    #[arg(long, value_name = "PPM", allow_hyphen_values = true)]
    co2: Option<String>,
    /// Oxygen, ppm (with N2, chooses the IEEE 2019 limits: O2/N2 <= 0.2 or > 0.2).
    #[arg(long, value_name = "PPM", allow_hyphen_values = true)]
    o2: Option<String>,
    /// Nitrogen, ppm.
    #[arg(long, value_name = "PPM", allow_hyphen_values = true)]
    n2: Option<String>,
    /// Transformer age in years (chooses the IEEE 2019 age column; unknown if omitted).
    #[arg(long, value_name = "YEARS")]
    age_years: Option<f64>,
    /// The on-load tap changer's oil communicates with the main tank (raises IEC's typical C2H2).
    #[arg(long)]
    oltc_communicating: bool,

    /// Diagnose this stored asset on its history (in --out) plus the sample given by the gas
    /// flags, as the diagnose Lambda answers an on-demand request.
    #[arg(long, value_name = "ID", conflicts_with_all = ["csv", "workbook", "plot"])]
    asset: Option<String>,
    /// With --asset: the folder `substation run` keeps its history in.
    #[arg(long, value_name = "DIR", requires = "asset", default_value = "substation-data")]
    out: PathBuf,
    /// With --asset: store the sample in the history (else nothing is written).
    #[arg(long, requires = "asset")]
    save: bool,
    /// With --asset: the sample's date (YYYY-MM-DD; today if omitted).
    #[arg(long, value_name = "DATE", requires = "asset")]
    sampled_on: Option<chrono::NaiveDate>,
    /// With --asset: the asset is new to the history (else an unknown id is an error).
    #[arg(long, requires = "asset")]
    new_asset: bool,

    /// Print one JSON object per asset (the diagnosis record, docs/diagnosis-record.md).
    #[arg(long)]
    json: bool,

    /// Draw the sample on Duval Triangle 1 (and 4/5 where they apply) and Pentagons 1 and 2,
    /// as one SVG file (opens in any browser)
    #[arg(long, value_name = "FILE.svg", conflicts_with_all = ["csv", "workbook"])]
    plot: Option<PathBuf>,
}

pub fn run(args: &DiagnoseArgs, t: &Thresholds) -> anyhow::Result<u8> {
    if args.report.is_some() && args.workbook.is_none() && args.csv.is_none() {
        anyhow::bail!("--report needs --workbook or --csv");
    }
    if let Some(report) = &args.report {
        crate::workbook_cmds::xlsx_name(report, "--report")?;
    }
    match args.csv.as_ref().or(args.workbook.as_ref()) {
        Some(path) => run_file(args, path, t),
        None => run_single(args, t),
    }
}

fn run_single(args: &DiagnoseArgs, t: &Thresholds) -> anyhow::Result<u8> {
    let mut sample = DgaSample::default();
    let flags = [
        (Gas::H2, &args.h2),
        (Gas::CH4, &args.ch4),
        (Gas::C2H6, &args.c2h6),
        (Gas::C2H4, &args.c2h4),
        (Gas::C2H2, &args.c2h2),
        (Gas::CO, &args.co),
        (Gas::CO2, &args.co2),
        (Gas::O2, &args.o2),
        (Gas::N2, &args.n2),
    ];
    for (gas, value) in flags {
        if let Some(text) = value {
            let reading: GasReading =
                text.parse().with_context(|| format!("--{}", gas.symbol().to_ascii_lowercase()))?;
            sample.set(gas, reading);
        }
    }
    if let Some(age) = args.age_years
        && !(age.is_finite() && (0.0..=150.0).contains(&age))
    {
        anyhow::bail!("--age-years: {age} is not an age in years (0-150)");
    }
    let info =
        AssetInfo { age_years: args.age_years, oltc_communicating: args.oltc_communicating, ..AssetInfo::default() };
    if let Some(asset_id) = &args.asset {
        sample.sampled_on = Some(args.sampled_on.unwrap_or_else(|| chrono::Local::now().date_naive()));
        let request = flow::on_demand::AssetRequest {
            asset_id: asset_id.clone(),
            samples: vec![sample],
            save: args.save,
            new_asset: args.new_asset,
            source: Some("substation diagnose --asset".into()),
        };
        let line = crate::history_cmds::diagnose_asset(&request, &args.out, t)?;
        let mut out = BufWriter::new(io::stdout().lock());
        let written = if args.json {
            serde_json::to_writer(&mut out, &line).map_err(io::Error::from).and_then(|()| writeln!(out))
        } else {
            let m = line.merged_history.clone().unwrap_or_default();
            let note = format!(
                "{asset_id}: diagnosed on {} samples ({} from earlier uploads){}\n",
                line.record.history.len(),
                m.from_earlier_uploads,
                if args.save { "; the sample is stored" } else { "; nothing stored (--save stores it)" }
            );
            out.write_all(note.as_bytes()).and_then(|()| {
                out.write_all(crate::term::fit(&report::single(&line.record), crate::term::width()).as_bytes())
            })
        };
        finish(written.and_then(|()| out.flush()))?;
        return Ok(exit::OK);
    }
    let diagnosis = diagnose_asset(std::slice::from_ref(&sample), &info, t)?;
    if let Some(path) = &args.plot {
        let mut diagrams = vec![::report::plot::Diagram::Triangle(dga::duval_triangle::Triangle::One)];
        if diagnosis.methods.duval_triangle_4.is_some() {
            diagrams.push(::report::plot::Diagram::Triangle(dga::duval_triangle::Triangle::Four));
        }
        if diagnosis.methods.duval_triangle_5.is_some() {
            diagrams.push(::report::plot::Diagram::Triangle(dga::duval_triangle::Triangle::Five));
        }
        diagrams.push(::report::plot::Diagram::Pentagon(dga::duval_pentagon::Pentagon::One));
        diagrams.push(::report::plot::Diagram::Pentagon(dga::duval_pentagon::Pentagon::Two));
        let svg = ::report::plot::side_by_side(&diagrams, std::slice::from_ref(&sample));
        std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    let history = vec![dga::HistorySample { sample, origin: dga::SampleOrigin::default() }];
    let record = DiagnosisRecord::new(None, None, diagnosis, history);
    let mut out = BufWriter::new(io::stdout().lock());
    let written = if args.json {
        serde_json::to_writer(&mut out, &record).map_err(io::Error::from).and_then(|()| writeln!(out))
    } else {
        out.write_all(crate::term::fit(&report::single(&record), crate::term::width()).as_bytes())
    };
    finish(written.and_then(|()| out.flush()))?;
    Ok(exit::OK)
}

/// Every asset of a workbook or CSV file (one reader for both).
fn run_file(args: &DiagnoseArgs, path: &Path, t: &Thresholds) -> anyhow::Result<u8> {
    let started_at = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let (name, parsed) = crate::workbook_cmds::read(path)?;
    let parsed = parsed?;
    let mut sink = Sink::new(args.json, args.report.is_some());
    for item in &parsed.assets {
        let mut info = item.asset_info();
        info.oltc_communicating |= args.oltc_communicating;
        let diagnosis = diagnose_asset(&item.samples(), &info, t)?;
        let row = item.latest_row().map(|s| u64::from(s.row));
        // A row of a file without asset ids is known by its row (a CSV's line) alone.
        let asset_id = (!item.anonymous).then(|| item.asset_id.clone());
        sink.push(DiagnosisRecord::new(row, asset_id, diagnosis, item.history()).with_warnings(item.warnings()));
    }
    let c = parsed.counts;
    let tally = report::Tally {
        rows_read: c.rows_read,
        samples_accepted: c.samples_accepted,
        rows_rejected: c.rows_rejected,
        rows_skipped: Some(c.rows_skipped),
        assets: c.assets,
    };
    for w in &parsed.warnings {
        eprintln!("{}", crate::term::fit(&format!("warning: {w}"), crate::term::width()).trim_end());
    }
    let records = sink.finish(&name, &tally, &parsed.rejected, |r| format!("rejected: {r}"))?;
    if let Some(report_path) = &args.report {
        let run = workbook::write::RunInfo {
            source_file: name.clone(),
            started_at,
            rows_read: c.rows_read,
            samples_accepted: c.samples_accepted,
            rows_rejected: c.rows_rejected,
            rows_skipped: c.rows_skipped,
            created_at: None,
        };
        let bytes = workbook::write::results(&run, &records, &parsed.assets, &parsed.rejected)
            .context("cannot build the results workbook")?;
        std::fs::write(report_path, bytes).with_context(|| format!("cannot write {}", report_path.display()))?;
        eprintln!("wrote {}", report_path.display());
    }
    Ok(if parsed.rejected.is_empty() { exit::OK } else { exit::ROWS_REJECTED })
}

/// Where records go: JSON lines streamed to stdout as they are made, or a table once all are in.
struct Sink {
    json: bool,
    keep: bool,
    out: BufWriter<io::StdoutLock<'static>>,
    records: Vec<DiagnosisRecord>,
    by_status: [usize; 3],
    faults: std::collections::BTreeMap<dga::FaultCode, usize>,
    written: io::Result<()>,
}

impl Sink {
    fn new(json: bool, keep_for_report: bool) -> Self {
        Sink {
            json,
            keep: keep_for_report || !json,
            out: BufWriter::new(io::stdout().lock()),
            records: Vec::new(),
            by_status: [0; 3],
            faults: Default::default(),
            written: Ok(()),
        }
    }

    fn push(&mut self, record: DiagnosisRecord) {
        // A verdict resting on an older sample than the newest row is said on stderr at once.
        if !self.json {
            for w in &record.warnings {
                eprintln!("warning: {}: {}", record.asset_id.as_deref().unwrap_or("-"), w.text);
            }
        }
        self.by_status[usize::from(record.diagnosis.status.number() - 1)] += 1;
        if record.diagnosis.fault != dga::FaultCode::Normal {
            *self.faults.entry(record.diagnosis.fault).or_insert(0) += 1;
        }
        if self.json && self.written.is_ok() {
            self.written = serde_json::to_writer(&mut self.out, &record)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(self.out));
        }
        if self.keep {
            self.records.push(record);
        }
    }

    /// Writes the table (human mode), the rejections and the count line to stderr.
    fn finish<R: serde::Serialize>(
        mut self,
        name: &str,
        tally: &report::Tally,
        rejected: &[R],
        human: impl Fn(&R) -> String,
    ) -> anyhow::Result<Vec<DiagnosisRecord>> {
        let mut written = std::mem::replace(&mut self.written, Ok(()));
        if !self.json {
            let table = report::table(&self.records);
            written = written.and_then(|()| self.out.write_all(table.as_bytes()));
        }
        finish(written.and_then(|()| self.out.flush()))?;
        let mut err = io::stderr().lock();
        // Human lines fit the terminal too (stderr is usually the same one).
        let fit = |s: String| crate::term::fit(&s, crate::term::width());
        for r in rejected {
            let line = if self.json { serde_json::to_string(r)? } else { fit(human(r)) };
            let _ = writeln!(err, "{}", line.trim_end());
        }
        if !self.json {
            let _ = writeln!(err, "{}", fit(report::counts(name, tally, self.by_status, &self.faults)).trim_end());
        }
        Ok(self.records)
    }
}

/// A closed pipe (`| head`) is not an error worth a message.
fn finish(result: io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
