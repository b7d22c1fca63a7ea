//! `report.html`: one self-contained page (inline CSS, SVG and a little script; no request
//! leaves it), written in three parts so that a fleet of any size streams through it:
//! [`head`] (the overview and the table's rows, known after the aggregate's pass over the
//! results), one [`section`] per asset given a page, and [`tail`] (the rejected rows, the
//! legend and the script).
//!
//! A section is kept as inert text (`<script type="text/x-asset-section">`, which the browser
//! neither parses into elements nor runs) and shown when the engineer opens it: a report with a
//! thousand sections opens as fast as one with none.

use chrono::NaiveDate;
use dga::duval_pentagon::Pentagon;
use dga::duval_triangle::Triangle;
use dga::{DgaSample, DiagnosisRecord, Gas};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Serialize;

use crate::plot::{self, Diagram, TrendLimits, Zones};

/// How much a report holds, whatever the fleet's size (the rest is in `diagnoses.jsonl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLimits {
    /// Rows of the assets table, worst first.
    pub table_rows: usize,
    /// Assets with a page of their own (plots, samples, methods), worst first.
    pub sections: usize,
    /// Rejected rows listed (all of them are in `rejected.jsonl`).
    pub rejected_rows: usize,
}

impl Default for ReportLimits {
    /// About 28 MB at most, whatever the fleet: 50,000 table rows (~190 bytes each), 500 pages
    /// (30-37 KB each: five diagrams, seven trends, four tables) and 5,000 rejected rows.
    fn default() -> Self {
        ReportLimits { table_rows: 50_000, sections: 500, rejected_rows: 5_000 }
    }
}

/// The run, as the overview tells it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// The workbook's file name.
    pub source_file: String,
    /// The run id.
    pub run_id: String,
    /// When the run started, as the caller formats it.
    pub started_at: String,
    /// `complete`, `incomplete` or `rejected` (as summary.json says).
    pub run_status: String,
    /// Why the run is partial or rejected.
    pub status_note: Option<String>,
    /// The conservation counts, labelled (rows read, accepted, rejected, skipped, …).
    pub counts: Vec<(String, u64)>,
    /// Assets at status 1, 2 and 3.
    pub by_status: [u64; 3],
    /// Assets by fault code, most first.
    pub by_fault: Vec<(String, u64)>,
    /// Assets by substation, most at status 3 then 2 first.
    pub by_substation: Vec<SubstationTally>,
    /// The act-first list.
    pub act_first: Vec<ActFirstRow>,
    /// Assets diagnosed in all (the table may hold fewer).
    pub assets_diagnosed: u64,
}

/// One substation's assets by status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubstationTally {
    /// The substation (empty when the workbook names none).
    pub substation: String,
    /// Assets at status 1, 2 and 3.
    pub by_status: [u64; 3],
}

/// One asset of the act-first list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActFirstRow {
    /// The asset's id.
    pub asset_id: String,
    /// IEEE C57.104-2019 status.
    pub status: u8,
    /// The fault with its refinements, e.g. `T2 (C)`.
    pub fault: String,
    /// The fleet priority.
    pub priority: f64,
    /// `high`, `medium`, `low` or empty.
    pub confidence: String,
    /// The worst exceedance, in a sentence.
    pub reason: String,
}

/// One row of the assets table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableRow {
    /// The asset's id.
    pub asset_id: String,
    /// Its name, when given.
    pub name: String,
    /// Its substation, when given.
    pub substation: String,
    /// IEEE C57.104-2019 status.
    pub status: u8,
    /// The fault with its refinements.
    pub fault: String,
    /// `high`, `medium`, `low` or empty.
    pub confidence: String,
    /// The fleet priority.
    pub priority: f64,
    /// The latest sample's date.
    pub latest_sampled_on: Option<NaiveDate>,
    /// The worst exceedance, as a table shows it.
    pub reason: String,
}

/// One rejected row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RejectedRow {
    /// The sheet.
    pub sheet: String,
    /// The row Excel shows.
    pub row: u32,
    /// The column, e.g. `C (H2)`.
    pub column: String,
    /// The cell's text.
    pub value: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What a section shows beside the record: the nameplate, as labelled pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nameplate {
    /// The asset's name.
    pub name: Option<String>,
    /// Labelled values: substation, year of manufacture, rating, …
    pub fields: Vec<(String, String)>,
}

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

fn status_word(status: u8) -> &'static str {
    match status {
        3 => "act now",
        2 => "investigate",
        _ => "normal",
    }
}

fn badge(status: u8) -> Markup {
    html! { span class={"badge s" (status.clamp(1, 3))} { "Status " (status) } }
}

/// A value as an engineer reads a ppm: whole above 1,000, one decimal above 100, two above 1,
/// three below; no trailing zeros (`110`, `52.8`, `0.658`).
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let a = v.abs();
    let text = if a >= 1000.0 || a == 0.0 {
        return format!("{v:.0}");
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A link within the page, `#key=value`, the value percent-encoded as the script decodes it
/// (`decodeURIComponent`): an `&` or `%` in an asset id or a substation stays part of it.
fn link(key: &str, value: &str) -> String {
    const COMPONENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    format!("#{key}={}", percent_encoding::utf8_percent_encode(value, COMPONENT))
}

/// JSON that may sit inside a `<script>` element: `<` written as `\u003c`, so no `</script>` in
/// an asset's name can end the element.
fn script_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into()).replace('<', "\\u003c")
}

/// The page's start: head, overview, the assets table (its rows as data), and the shared plot
/// zones. `rows` is the table, worst first; `sections` says how many assets have a page.
pub fn head(o: &Overview, rows: &[TableRow], sections: usize) -> String {
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!([
                r.asset_id,
                r.name,
                r.substation,
                r.status,
                r.fault,
                r.confidence,
                (r.priority * 10.0).round() / 10.0,
                r.latest_sampled_on.map(|d| d.to_string()).unwrap_or_default(),
                r.reason
            ])
        })
        .collect();
    let title = format!("DGA results — {}", o.source_file);
    let holds = if (rows.len() as u64) < o.assets_diagnosed {
        format!(
            "This report lists the {} highest-priority of {} assets and gives a page to the first {}; every asset's full record is a line of diagnoses.jsonl.",
            rows.len(),
            o.assets_diagnosed,
            sections
        )
    } else if sections < rows.len() {
        format!(
            "Every asset is in the table; the {sections} highest-priority have a page of their own (plots, samples, methods). Every asset's full record is a line of diagnoses.jsonl."
        )
    } else {
        "Every asset is in the table and has a page of its own: select a row.".to_owned()
    };
    let mut faults: Vec<&str> = o.by_fault.iter().map(|(f, _)| f.as_str()).collect();
    faults.sort_unstable();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Substation DGA results" }
                    p.run {
                        strong { (o.source_file) } " · run " code { (o.run_id) } " · started " (o.started_at)
                        " · " span class={"run-status " (o.run_status)} { (o.run_status) }
                    }
                    @if let Some(note) = &o.status_note { p.status-note { (note) } }
                    nav { a href="#overview" { "Overview" } a href="#assets" { "Assets" } a href="#asset-view" { "Asset page" } a href="#rejected" { "Rejected rows" } a href="#legend" { "Legend" } }
                }
                main {
                    section #overview {
                        h2 { "Overview" }
                        div.cards {
                            @for (i, s) in [3u8, 2, 1].iter().enumerate() {
                                a class={"card s" (s)} href={"#status=" (s)} {
                                    span.n { (o.by_status[2 - i]) }
                                    span.l { "Status " (s) " · " (status_word(*s)) }
                                }
                            }
                            @for (label, n) in &o.counts {
                                div.card.count { span.n { (n) } span.l { (label) } }
                            }
                        }
                        div.columns {
                            div {
                                h3 { "Act first" }
                                @if o.act_first.is_empty() {
                                    p { "No asset is at status 2 or 3." }
                                } @else {
                                    table.act-first {
                                        thead { tr { th { "Asset" } th { "Status" } th { "Fault" } th.num { "Priority" } th { "Confidence" } th { "Why" } } }
                                        tbody {
                                            @for a in &o.act_first {
                                                tr {
                                                    td { a href=(link("asset", &a.asset_id)) { (a.asset_id) } }
                                                    td { (badge(a.status)) }
                                                    td { (a.fault) }
                                                    td.num { (format!("{:.1}", a.priority)) }
                                                    td { (a.confidence) }
                                                    td { (a.reason) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            div {
                                h3 { "By fault" }
                                table.by-fault {
                                    thead { tr { th { "Fault" } th.num { "Assets" } } }
                                    tbody { @for (f, n) in &o.by_fault { tr { td { a href=(link("fault", f)) { (f) } } td.num { (n) } } } }
                                }
                                h3 { "By substation" }
                                table.by-substation {
                                    thead { tr { th { "Substation" } th.num { "Status 3" } th.num { "Status 2" } th.num { "Status 1" } } }
                                    tbody {
                                        @for s in o.by_substation.iter().take(30) {
                                            tr {
                                                td { @if s.substation.is_empty() { "(none given)" } @else { a href=(link("substation", &s.substation)) { (s.substation) } } }
                                                td.num { (s.by_status[2]) } td.num { (s.by_status[1]) } td.num { (s.by_status[0]) }
                                            }
                                        }
                                    }
                                }
                                @if o.by_substation.len() > 30 { p.note { (o.by_substation.len() - 30) " more substations: filter the table by substation." } }
                            }
                        }
                    }
                    section #assets {
                        h2 { "Assets" }
                        p.note { (holds) }
                        div.controls {
                            input #q type="search" placeholder="Search id, name, substation, reason" aria-label="Search";
                            select #status aria-label="Status" { option value="" { "Any status" } option value="3" { "Status 3" } option value="2" { "Status 2" } option value="1" { "Status 1" } }
                            select #fault aria-label="Fault" { option value="" { "Any fault" } @for f in &faults { option value=(f) { (f) } } }
                            input #substation type="search" placeholder="Substation" aria-label="Substation";
                            span #count {}
                        }
                        table #asset-table {
                            thead {
                                tr {
                                    th data-col="0" { "Asset" } th data-col="1" { "Name" } th data-col="2" { "Substation" }
                                    th data-col="3" { "Status" } th data-col="4" { "Fault" } th data-col="5" { "Confidence" }
                                    th.num data-col="6" { "Priority" } th data-col="7" { "Latest sample" } th data-col="8" { "Why" }
                                }
                            }
                            tbody {}
                        }
                        div.pager { button #prev type="button" { "‹ Previous" } span #page {} button #next type="button" { "Next ›" } }
                        script #asset-rows type="application/json" { (PreEscaped(script_json(&data))) }
                    }
                    section #asset-view aria-live="polite" {
                        h2 { "Asset page" }
                        p.note { "Select an asset in the act-first list or the table." }
                    }
                    (PreEscaped(plot::shared_zones()))
                    div #sections hidden {}
                }
            }
        }
    };
    // The page continues with the sections and the tail: close nothing here.
    let mut s = page.into_string();
    if let Some(end) = s.rfind("</div></main></body></html>") {
        s.truncate(end);
    }
    s
}

/// The page's end: the rejected rows (the first `limits.rejected_rows`), the legend and the script.
pub fn tail(rejected: &[RejectedRow], rejected_total: u64) -> String {
    let legend = dga::legend::entries();
    let page = html! {
        section #rejected {
            h2 { "Rejected rows" }
            @if rejected_total == 0 {
                p { "No row was rejected." }
            } @else {
                p.note {
                    (rejected_total) " rows were rejected"
                    @if (rejected.len() as u64) < rejected_total { "; the first " (rejected.len()) " are listed" }
                    ". Every one is in rejected.jsonl with its reason. Correct the workbook and upload it again."
                }
                table.rejected {
                    thead { tr { th { "Sheet" } th.num { "Row" } th { "Column" } th { "Value" } th { "Reason" } } }
                    tbody { @for r in rejected { tr { td { (r.sheet) } td.num { (r.row) } td { (r.column) } td { (r.value) } td { (r.reason) } } } }
                }
            }
        }
        section #legend {
            h2 { "Legend" }
            table.legend {
                thead { tr { th { "Kind" } th { "Code" } th { "Meaning" } } }
                tbody { @for e in &legend { tr { td { (e.kind) } td { code { (e.code) } } td { (e.meaning) } } } }
            }
        }
        script { (PreEscaped(SCRIPT)) }
    };
    format!("</div>{}</main></body></html>\n", page.into_string())
}

/// A section's text must not end its `<script>` element early: every `<` of user text is
/// already escaped, so this only guards the invariant.
fn inert(s: String) -> String {
    let closes = |b: &[u8]| b.windows(8).position(|w| w.eq_ignore_ascii_case(b"</script"));
    if closes(s.as_bytes()).is_none() {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s.as_str();
    while let Some(i) = closes(rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push_str("&lt;");
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

/// One asset's page: verdict, nameplate, explanation and action, the Duval plots (Triangle 1,
/// Triangles 4/5 where they applied, Pentagons 1/2), the gas trends, every method's verdict with
/// its values, the IEEE C57.104-2019 working per gas, every sample and the data warnings.
/// `sample_rows` names each sample's source row, oldest first.
pub fn section(record: &DiagnosisRecord, nameplate: &Nameplate, sample_rows: &[String]) -> String {
    let d = &record.diagnosis;
    let id = record.asset_id.clone().unwrap_or_default();
    let samples: Vec<DgaSample> = record.history.iter().map(|h| h.sample.clone()).collect();
    let status = d.status.number();
    let mut diagrams = vec![Diagram::Triangle(Triangle::One)];
    if d.methods.duval_triangle_4.is_some() {
        diagrams.push(Diagram::Triangle(Triangle::Four));
    }
    if d.methods.duval_triangle_5.is_some() {
        diagrams.push(Diagram::Triangle(Triangle::Five));
    }
    diagrams.extend([Diagram::Pentagon(Pentagon::One), Diagram::Pentagon(Pentagon::Two)]);
    let ieee = &d.ieee_c57_104_2019;
    let window = ieee.rate_window.as_ref().map(|w| (w.first_sampled_on, w.last_sampled_on));
    let trends: Vec<String> = Gas::IEEE_2019
        .iter()
        .map(|gas| {
            let limits = ieee
                .gases
                .iter()
                .find(|g| g.gas == *gas)
                .map(|g| TrendLimits { table_1_ppm: g.limits.table_1_ppm, table_2_ppm: g.limits.table_2_ppm });
            plot::gas_trend(*gas, &samples, limits, window)
        })
        .collect();
    let details = serde_json::to_value(&d.method_details).unwrap_or_default();
    let methods: [(dga::MethodName, Option<dga::FaultCode>); 9] = [
        (dga::MethodName::DuvalTriangle1, d.methods.duval_triangle_1),
        (dga::MethodName::DuvalTriangle4, d.methods.duval_triangle_4),
        (dga::MethodName::DuvalTriangle5, d.methods.duval_triangle_5),
        (dga::MethodName::DuvalPentagon1, d.methods.duval_pentagon_1),
        (dga::MethodName::DuvalPentagon2, d.methods.duval_pentagon_2),
        (dga::MethodName::Iec60599, d.methods.iec_60599),
        (dga::MethodName::Rogers, d.methods.rogers),
        (dga::MethodName::Doernenburg, d.methods.doernenburg),
        (dga::MethodName::KeyGas, d.methods.key_gas),
    ];
    let gas_columns = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2, Gas::CO, Gas::CO2, Gas::O2, Gas::N2];
    let markup = html! {
        article.asset data-asset=(id) {
            h2 { (id) @if let Some(n) = &nameplate.name { " " span.name { (n) } } " " (badge(status)) }
            p.verdict {
                "Fault " strong { (d.fault_label()) } " — " (d.fault_description)
                " · confidence " strong { (d.confidence_word()) } " (" (format!("{:.0} %", 100.0 * d.fault_probability())) ")"
                " · priority " strong { (format!("{:.1}", d.priority.score)) }
            }
            div.columns {
                dl.nameplate {
                    @for (k, v) in &nameplate.fields { dt { (k) } dd { (v) } }
                    dt { "Samples" } dd { (d.samples) }
                    dt { "Latest sample" } dd { (d.latest_sampled_on.map(|x| x.to_string()).unwrap_or_else(|| "undated".into())) }
                }
                div.reading {
                    p { (d.explanation) }
                    p.action { strong { "Action: " } (d.action) }
                    @if !d.rationale.is_empty() { p.note { (d.rationale) } }
                }
            }
            @if !record.warnings.is_empty() {
                div.warnings {
                    h3 { "Data warnings" }
                    ul { @for w in &record.warnings { li { (w.text) } } }
                }
            }
            h3 { "Duval triangles and pentagons" }
            p.note { "Each dot is a sample, joined from the oldest to the newest (red)." }
            div.plots { @for dg in &diagrams { figure { (PreEscaped(plot::diagram(*dg, &samples, Zones::Shared))) figcaption { (dg.method().title()) } } } }
            h3 { "Gas trends" }
            p.note { "ppm per sample date; dashed: IEEE C57.104-2019 Table 1, dotted: Table 2 (this asset's limits); shaded: the rate window (Table 4)." }
            div.trends { @for t in &trends { (PreEscaped(t)) } }
            h3 { "Methods" }
            table.methods {
                thead { tr { th { "Method" } th { "Verdict" } th { "Values" } } }
                tbody {
                    @for (m, code) in &methods {
                        tr {
                            td { (m.title()) }
                            td { @if let Some(c) = code { code { (c) } } @else { "—" } }
                            td { (method_values(&details[m.key()])) }
                        }
                    }
                }
            }
            h3 { "IEEE C57.104-2019 by gas" }
            table.ieee {
                thead { tr { th { "Gas" } th.num { "ppm" } th.num { "Δ ppm" } th.num { "ppm/year" } th.num { "Table 1" } th.num { "Table 2" } th.num { "Table 3" } th.num { "Table 4" } th { "Status" } } }
                tbody {
                    @for g in &ieee.gases {
                        tr {
                            td { (g.gas) } td.num { (number(g.ppm)) }
                            td.num { (g.delta_ppm.map(number).unwrap_or_default()) }
                            td.num { (g.rate_ppm_per_year.map(number).unwrap_or_default()) }
                            td.num { (number(g.limits.table_1_ppm)) } td.num { (number(g.limits.table_2_ppm)) }
                            td.num { (g.limits.table_3_ppm.map(number).unwrap_or_default()) }
                            td.num { (g.limits.table_4_ppm_per_year.map(number).unwrap_or_default()) }
                            td { (badge(g.status.number())) }
                        }
                    }
                }
            }
            @if !ieee.reasons.is_empty() { ul.reasons { @for r in &ieee.reasons { li { (r.text) } } } }
            h3 { "Samples" }
            table.samples {
                thead { tr { th { "Date" } th { "Row" } @for g in &gas_columns { th.num { (g) } } } }
                tbody {
                    @for (i, s) in samples.iter().enumerate() {
                        tr {
                            td { (s.sampled_on.map(|x| x.to_string()).unwrap_or_else(|| "undated".into())) }
                            td { (sample_rows.get(i).cloned().unwrap_or_default()) }
                            @for g in &gas_columns { td.num { (reading(s.get(*g))) } }
                        }
                    }
                }
            }
        }
    };
    format!(
        "<script type=\"text/x-asset-section\" data-asset=\"{}\">{}</script>\n",
        maud::html! { (id) }.into_string(),
        inert(markup.into_string())
    )
}

fn reading(r: dga::GasReading) -> String {
    match r {
        dga::GasReading::Measured(v) => number(v),
        other => other.to_string(),
    }
}

/// A method's working, as `name value` pairs (its code is in the column beside).
fn method_values(v: &serde_json::Value) -> String {
    let Some(o) = v.as_object() else { return String::new() };
    if o.get("outcome").and_then(|x| x.as_str()) == Some("not_applicable") {
        return o.get("reason").and_then(|r| r.as_str()).map(|r| format!("not applied: {r}")).unwrap_or_default();
    }
    let mut parts = Vec::new();
    for (k, x) in o {
        if matches!(k.as_str(), "outcome" | "zone" | "code") {
            continue;
        }
        match x {
            serde_json::Value::Object(inner) => {
                let unit = if k == "percent" { " %" } else { "" };
                let inner: Vec<String> = inner
                    .iter()
                    .map(|(ik, iv)| match iv.as_f64() {
                        Some(n) => format!("{} {}{unit}", ik.replace('_', "/"), number(n)),
                        None => format!("{} {}", ik.replace('_', "/"), iv),
                    })
                    .collect();
                parts.push(format!("{k}: {}", inner.join(", ")));
            }
            serde_json::Value::Number(n) => {
                parts.push(format!("{}: {}", k.replace('_', " "), number(n.as_f64().unwrap_or(f64::NAN))))
            }
            serde_json::Value::String(s) => parts.push(format!("{}: {s}", k.replace('_', " "))),
            serde_json::Value::Null => {}
            other => parts.push(format!("{}: {other}", k.replace('_', " "))),
        }
    }
    parts.join("; ")
}
