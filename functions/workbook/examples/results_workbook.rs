//! Writes a results workbook for a generated fleet, e.g. to open it in Excel or LibreOffice:
//! `cargo run -p workbook --example results_workbook -- results.xlsx`.

use dga::{DiagnosisRecord, Thresholds, diagnose_asset};
use workbook::sample::{SampleOptions, write_fleet};
use workbook::write::{RunInfo, results};
use workbook::{Limits, read_workbook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "results.xlsx".into());
    let fleet = write_fleet(&SampleOptions { assets: 60, ..SampleOptions::default() })?;
    let parsed = read_workbook(&fleet, "generated-fleet.xlsx", &Limits::default())?;
    let t = Thresholds::default();
    let mut records = Vec::new();
    for a in &parsed.assets {
        let d = diagnose_asset(&a.samples(), &a.asset_info(), &t)?;
        records.push(DiagnosisRecord::new(
            a.latest_row().map(|s| u64::from(s.row)),
            Some(a.asset_id.clone()),
            d,
            a.history(),
        ));
    }
    let c = parsed.counts;
    let run = RunInfo {
        source_file: "generated-fleet.xlsx".into(),
        started_at: "example".into(),
        rows_read: c.rows_read,
        samples_accepted: c.samples_accepted,
        rows_rejected: c.rows_rejected,
        rows_skipped: c.rows_skipped,
        created_at: None,
    };
    std::fs::write(&out, results(&run, &records, &parsed.assets, &parsed.rejected)?)?;
    println!("wrote {out}");
    Ok(())
}
