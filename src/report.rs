//! Human-readable output: a report for one sample, a table for a fleet.

use std::collections::BTreeMap;
use std::fmt::Write;

use comfy_table::{Cell, CellAlignment};
use dga::fault::HasCode;
use dga::ieee_c57_104_2019::{StatusReason, fmt_num};
use dga::{DiagnosisRecord, FaultCode, MethodName, Outcome};

fn pct(p: &dga::duval_triangle::TernaryPoint) -> String {
    let parts: Vec<String> = p.gases.iter().zip(p.percent).map(|(g, v)| format!("{g} {v:.1} %")).collect();
    parts.join(", ")
}

/// The code and a line of working for one method.
fn working<T>(outcome: &Outcome<T>, show: impl Fn(&T) -> String) -> (String, String)
where
    T: HasCode,
{
    match outcome {
        Outcome::NotApplicable { reason } => ("—".into(), format!("not applicable: {reason}")),
        Outcome::Verdict(v) => (v.code().to_string(), show(v)),
    }
}

fn method_rows(m: &dga::diagnosis::MethodDetails) -> [(MethodName, (String, String)); 9] {
    let pentagon = |v: &dga::duval_pentagon::PentagonVerdict| {
        let shares: Vec<String> =
            dga::duval_pentagon::AXES.iter().zip(v.percent.0).map(|((g, _), p)| format!("{g} {p:.1} %")).collect();
        format!("centroid ({:.2}, {:.2}); {}", v.centroid.x, v.centroid.y, shares.join(", "))
    };
    [
        (MethodName::DuvalTriangle1, working(&m.duval_triangle_1, |v| pct(&v.percent))),
        (MethodName::DuvalTriangle4, working(&m.duval_triangle_4, |v| pct(&v.percent))),
        (MethodName::DuvalTriangle5, working(&m.duval_triangle_5, |v| pct(&v.percent))),
        (MethodName::DuvalPentagon1, working(&m.duval_pentagon_1, pentagon)),
        (MethodName::DuvalPentagon2, working(&m.duval_pentagon_2, pentagon)),
        (
            MethodName::Iec60599,
            working(&m.iec_60599, |v| {
                format!(
                    "C2H2/C2H4 {:.3}, CH4/H2 {:.3}, C2H4/C2H6 {:.3}",
                    v.ratios.c2h2_c2h4, v.ratios.ch4_h2, v.ratios.c2h4_c2h6
                )
            }),
        ),
        (
            MethodName::Rogers,
            working(&m.rogers, |v| {
                let case = v.case.map_or("no case matches".to_owned(), |c| format!("case {c}"));
                format!(
                    "{case}; C2H2/C2H4 {:.3}, CH4/H2 {:.3}, C2H4/C2H6 {:.3}",
                    v.ratios.c2h2_c2h4, v.ratios.ch4_h2, v.ratios.c2h4_c2h6
                )
            }),
        ),
        (
            MethodName::Doernenburg,
            working(&m.doernenburg, |v| match &v.ratios {
                Some(r) => format!(
                    "{}; CH4/H2 {:.3}, C2H2/C2H4 {:.3}, C2H2/CH4 {:.3}, C2H6/C2H2 {:.3}",
                    v.finding, r.ch4_h2, r.c2h2_c2h4, r.c2h2_ch4, r.c2h6_c2h2
                ),
                None => v.finding.to_string(),
            }),
        ),
        (
            MethodName::KeyGas,
            working(&m.key_gas, |v| {
                format!("key gas {} at {:.1} × its condition-1 limit", v.key_gas, v.times_condition_1_limit)
            }),
        ),
    ]
}

/// The report for one sample or asset.
pub fn single(record: &DiagnosisRecord) -> String {
    let d = &record.diagnosis;
    let mut s = String::new();
    if let Some(id) = &record.asset_id {
        let _ = writeln!(s, "Asset {id}");
    }
    let _ =
        writeln!(s, "IEEE C57.104-2019 status  {}", crate::term::status_text(d.status.number(), &d.status.to_string()));
    let _ = writeln!(s, "Fault                     {} — {}", d.fault, d.fault_description);
    for r in &d.refinements {
        let _ = writeln!(s, "  refined by {:<14} {} — {}", r.method.title(), r.code, r.meaning);
    }
    let _ = writeln!(
        s,
        "Confidence                {} ({:.0} % of readings within the lab's uncertainty give {})",
        d.confidence_word(),
        100.0 * d.fault_probability(),
        d.fault
    );
    let sp = &d.status_probabilities;
    let _ = writeln!(
        s,
        "Status probabilities      1: {:.0} %  2: {:.0} %  3: {:.0} %",
        100.0 * sp.one,
        100.0 * sp.two,
        100.0 * sp.three
    );
    let _ = writeln!(s, "Priority                  {:.1} of 300", d.priority.score);
    if let Some(a) = d.ieee_c57_104_2008.verdict() {
        let _ = writeln!(
            s,
            "IEEE C57.104-2008         condition {} (TDCG {} ppm; set by {})",
            a.condition,
            fmt_num(a.tdcg_ppm),
            a.set_by.join(", ")
        );
    }
    let _ = writeln!(s, "\n{}\n", textwrap::fill(&d.explanation, crate::term::width().min(100)));
    if !d.rationale.is_empty() {
        let _ = writeln!(
            s,
            "Why {}: {}\n",
            d.fault,
            textwrap::fill(&d.rationale, crate::term::width().min(100) - 6).replace('\n', "\n  ")
        );
    }

    let mut table = crate::term::table();
    table.set_header(["Method", "Result", "Working"]);
    for (method, (code, working)) in method_rows(&d.method_details) {
        table.add_row([Cell::new(method.title()), Cell::new(code), Cell::new(working)]);
    }
    let _ = writeln!(s, "{table}");

    let notes: Vec<&String> = d.ieee_c57_104_2019.notes.iter().collect();
    if !notes.is_empty() {
        let _ = writeln!(s, "\nNotes");
        for n in notes {
            let _ = writeln!(s, "  • {}", textwrap::fill(n, crate::term::width().min(100) - 4).replace('\n', "\n    "));
        }
    }
    let _ = writeln!(
        s,
        "\nAction\n  {}",
        textwrap::fill(&d.action, crate::term::width().min(100) - 2).replace('\n', "\n  ")
    );
    s
}

/// The fleet table, one row per asset, in input order.
pub fn table(records: &[DiagnosisRecord]) -> String {
    let mut table = crate::term::table();
    table.set_header([
        "Line",
        "Asset",
        "Samples",
        "Status",
        "Priority",
        "Fault",
        "Confidence",
        "2008 cond.",
        "First reason",
    ]);
    for r in records {
        let d = &r.diagnosis;
        table.add_row([
            Cell::new(r.row.map_or(String::new(), |l| l.to_string())).set_alignment(CellAlignment::Right),
            Cell::new(r.asset_id.as_deref().unwrap_or("-")),
            Cell::new(d.samples).set_alignment(CellAlignment::Right),
            crate::term::status_cell(d.status.number(), d.status).set_alignment(CellAlignment::Center),
            Cell::new(format!("{:.1}", d.priority.score)).set_alignment(CellAlignment::Right),
            Cell::new(d.fault_label()),
            Cell::new(d.confidence_word()),
            Cell::new(d.ieee_2008_condition.map_or("-".into(), |c| c.to_string())).set_alignment(CellAlignment::Center),
            Cell::new(d.ieee_c57_104_2019.reasons.first().map_or(String::new(), StatusReason::short)),
        ]);
    }
    format!("{table}\n")
}

/// The input's rows, for the closing count line.
#[derive(Debug, Clone, Copy)]
pub struct Tally {
    pub rows_read: u64,
    pub samples_accepted: u64,
    pub rows_rejected: u64,
    /// Blank and total rows (workbooks); `None` where the input has no such notion.
    pub rows_skipped: Option<u64>,
    pub assets: u64,
}

/// The closing count line: assets by status, faults, rejected rows.
pub fn counts(name: &str, t: &Tally, by_status: [usize; 3], faults: &BTreeMap<FaultCode, usize>) -> String {
    let mut s = format!(
        "{name}: {} rows read, {} samples diagnosed in {} assets (status 3: {}, status 2: {}, status 1: {}), {} rows rejected",
        t.rows_read, t.samples_accepted, t.assets, by_status[2], by_status[1], by_status[0], t.rows_rejected
    );
    if let Some(skipped) = t.rows_skipped {
        let _ = write!(s, ", {skipped} skipped");
    }
    if !faults.is_empty() {
        let list: Vec<String> = faults.iter().map(|(f, n)| format!("{f} ×{n}")).collect();
        let _ = write!(s, "; faults: {}", list.join(", "));
    }
    s
}
