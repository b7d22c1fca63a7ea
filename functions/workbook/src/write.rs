//! Workbooks out: the canonical template, and the results workbook an engineer opens.

use chrono::NaiveDate;
use dga::{DiagnosisRecord, Gas, GasReading};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use crate::error::RowError;
use crate::headers::Field;
use crate::item::AssetItem;

fn header_format() -> Format {
    Format::new().set_bold().set_background_color(Color::RGB(0xDDEBF7)).set_border_bottom(FormatBorder::Thin)
}

fn date_format() -> Format {
    Format::new().set_num_format("yyyy-mm-dd").set_align(FormatAlign::Left)
}

fn write_header(ws: &mut Worksheet, row: u32, headers: &[&str]) -> Result<(), XlsxError> {
    let f = header_format();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *h, &f)?;
        ws.set_column_width(c as u16, (h.chars().count() as f64 + 3.0).max(11.0))?;
    }
    Ok(())
}

/// The Assets sheet's columns, in the template's order.
pub const ASSET_COLUMNS: [Field; 10] = [
    Field::AssetId,
    Field::AssetName,
    Field::Substation,
    Field::ManufactureYear,
    Field::RatedMva,
    Field::VoltageKv,
    Field::OilType,
    Field::Breathing,
    Field::Oltc,
    Field::CommissioningYear,
];

/// The gas columns of the Samples sheet, in the template's order.
pub const SAMPLE_GASES: [Gas; 9] = Gas::ALL;

/// The canonical blank workbook: Instructions, Assets and Samples sheets, with an example row.
pub fn template() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    {
        let ws = wb.add_worksheet().set_name("Instructions")?;
        ws.set_column_width(0, 28)?;
        ws.set_column_width(1, 100)?;
        ws.write_string_with_format(0, 0, "Substation DGA workbook", &bold)?;
        let lines: [(&str, &str); 14] = [
            (
                "Sheets",
                "Assets: one row per transformer. Samples: one row per oil sample. They are joined by Asset ID. A single sheet with the asset columns repeated on every sample row is read too.",
            ),
            ("Asset ID", "Required on both sheets. Any text; the same text joins a sample to its transformer."),
            ("Asset name, Substation", "Optional text."),
            (
                "Year of manufacture",
                "A year such as 1998. Used for the transformer's age at each sample (IEEE C57.104-2019 Tables 1 and 2). Or give 'Age (years)'.",
            ),
            ("Rated power (MVA), Rated voltage (kV)", "Optional numbers. kVA and V in the header are converted."),
            ("Oil type", "Optional text, e.g. mineral, ester."),
            ("Breathing", "sealed or free-breathing (conservator open to air)."),
            ("OLTC", "yes if the on-load tap changer's oil communicates with the main tank, else no."),
            ("Sample date", "Required. An Excel date, or text as 2023-05-17, 2023/5/17, 2023.05.17 or 17.05.2023."),
            (
                "Gases",
                "H2, CH4, C2H6, C2H4, C2H2 required; CO, CO2, O2, N2 recommended (O2/N2 chooses the IEEE limits). Units: ppm (µL/L); '(ppb)' or '(%)' in the header are converted.",
            ),
            (
                "Below detection",
                "Write <1 (with the lab's limit), ND, n.d., - or leave the cell blank. Never 0 for 'not detected'.",
            ),
            (
                "Headers",
                "Found anywhere in the first 30 rows; symbols (H2), names (Hydrogen) and Korean names (수소, 채취일, 설비번호, …) are understood. Other columns are kept as asset attributes (Assets) or listed as ignored (Samples).",
            ),
            (
                "Rows",
                "Blank rows and trailing Total/Average rows are skipped. A row with a bad cell is reported with its sheet, row, column and reason; the other rows are still diagnosed.",
            ),
            ("Check before uploading", "substation validate FILE.xlsx"),
        ];
        for (i, (k, v)) in lines.iter().enumerate() {
            ws.write_string_with_format(2 + i as u32, 0, *k, &bold)?;
            ws.write_string_with_format(2 + i as u32, 1, *v, &wrap)?;
        }
    }
    {
        let ws = wb.add_worksheet().set_name("Assets")?;
        let headers: Vec<&str> = ASSET_COLUMNS.iter().map(|f| f.canonical()).collect();
        write_header(ws, 0, &headers)?;
        let example = [
            "TR-001",
            "Main transformer 1",
            "Northgate",
            "1998",
            "40",
            "154",
            "mineral",
            "free-breathing",
            "no",
            "1999",
        ];
        for (c, v) in example.iter().enumerate() {
            match v.parse::<f64>() {
                Ok(n) => ws.write_number(1, c as u16, n)?,
                Err(_) => ws.write_string(1, c as u16, *v)?,
            };
        }
        ws.set_freeze_panes(1, 0)?;
    }
    {
        let ws = wb.add_worksheet().set_name("Samples")?;
        let mut headers = vec![Field::AssetId.canonical(), Field::SampledOn.canonical()];
        headers.extend(SAMPLE_GASES.iter().map(|g| Field::Gas(*g).canonical()));
        write_header(ws, 0, &headers)?;
        ws.write_string(1, 0, "TR-001")?;
        ws.write_date_with_format(1, 1, NaiveDate::from_ymd_opt(2024, 5, 17).unwrap_or_default(), &date_format())?;
        let example = ["12", "8", "6", "3", "<0.5", "310", "2400", "21000", "56000"];
        for (c, v) in example.iter().enumerate() {
            match v.parse::<f64>() {
                Ok(n) => ws.write_number(1, 2 + c as u16, n)?,
                Err(_) => ws.write_string(1, 2 + c as u16, *v)?,
            };
        }
        ws.set_freeze_panes(1, 0)?;
    }
    wb.save_to_buffer()
}

/// What the Summary sheet says about the run.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// The workbook's file name.
    pub source_file: String,
    /// When the run started, as the caller formats it (the library has no clock).
    pub started_at: String,
    /// Sample-sheet rows read (see [`Counts`](crate::Counts)).
    pub rows_read: u64,
    /// Rows accepted as samples.
    pub samples_accepted: u64,
    /// Sample rows rejected.
    pub rows_rejected: u64,
    /// Blank rows and trailing Total/Average rows.
    pub rows_skipped: u64,
    /// The document's creation time; fixed by the caller so that writing the same results twice
    /// gives the same bytes (otherwise the writer stamps "now").
    pub created_at: Option<chrono::NaiveDateTime>,
}

fn status_format(status: u8) -> Format {
    let color = match status {
        3 => Color::RGB(0xF8CBAD),
        2 => Color::RGB(0xFFE699),
        _ => Color::RGB(0xC6EFCE),
    };
    Format::new().set_background_color(color).set_align(FormatAlign::Center).set_align(FormatAlign::Top)
}

fn reading_text(r: GasReading) -> String {
    match r {
        GasReading::Measured(v) => format!("{v}"),
        other => other.to_string(),
    }
}

/// One cell of a gas column: a measured ppm, a below-detection text, or nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReportCell {
    /// Not analysed.
    Empty,
    /// A measured value, ppm.
    Number(f64),
    /// As the lab reported it, e.g. `<0.5`.
    Text(String),
}

impl ReportCell {
    fn of(r: GasReading) -> Self {
        match r {
            GasReading::Measured(v) => ReportCell::Number(v),
            other @ GasReading::BelowDetection { .. } => ReportCell::Text(reading_text(other)),
            GasReading::NotMeasured => ReportCell::Empty,
        }
    }
}

/// The gases of the Diagnoses sheet, in its column order.
const REPORT_GASES: [Gas; 7] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2, Gas::CO, Gas::CO2];

/// One sample of the Asset history sheet, with its row of origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// When the oil was drawn.
    pub sampled_on: Option<NaiveDate>,
    /// The sheet it was read from.
    pub sheet: Option<String>,
    /// The row Excel shows.
    pub row: Option<u64>,
    /// H2, CH4, C2H6, C2H4, C2H2, CO, CO2, O2 and N2.
    pub gases: Vec<ReportCell>,
}

/// One asset's row of the Diagnoses sheet, as plain values: built where the diagnosis is made
/// (the diagnose step, in parallel), written by [`ResultsWriter`] without the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The asset's id.
    pub asset_id: String,
    /// Its name, when given.
    pub name: Option<String>,
    /// Its substation, when given.
    pub substation: Option<String>,
    /// IEEE C57.104-2019 status, 1-3.
    pub status: u8,
    /// The fault code, e.g. `T2`.
    pub fault: String,
    /// The fault with its refinements, e.g. `T2 (C)`.
    pub fault_label: String,
    /// What the fault means.
    pub fault_description: String,
    /// The refinements, `code: meaning (method)`, joined.
    pub refinements: String,
    /// `high`, `medium`, `low` or empty.
    pub confidence: String,
    /// The probability of the fault given the lab's uncertainty.
    pub fault_probability: f64,
    /// The fleet priority score.
    pub priority: f64,
    /// IEEE C57.104-2008 condition, when one applies.
    pub ieee_2008_condition: Option<u8>,
    /// Duval Triangle 1's code (`—` when it cannot be formed).
    pub duval_t1: String,
    /// Duval Pentagon 1's code.
    pub duval_p1: String,
    /// IEC 60599's code.
    pub iec_60599: String,
    /// Rogers' code.
    pub rogers: String,
    /// The latest sample's date.
    pub latest_sampled_on: Option<NaiveDate>,
    /// The latest sample's row.
    pub row: Option<u64>,
    /// The latest sample's H2, CH4, C2H6, C2H4, C2H2, CO and CO2.
    pub gases: Vec<ReportCell>,
    /// The trend of the gas that drove the status.
    pub trend: String,
    /// The first IEEE C57.104-2019 reason.
    pub first_reason: String,
    /// The recommended action.
    pub action: String,
    /// The record's warnings, joined.
    pub warnings: String,
    /// Every sample, oldest first, for the Asset history sheet: kept for assets at status 2 or 3
    /// only (every asset's history is in diagnoses.jsonl).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryRow>,
}

impl ReportRow {
    /// The row of a diagnosis record (its history's last sample is the latest).
    pub fn new(rec: &DiagnosisRecord, name: Option<&str>, substation: Option<&str>) -> Self {
        let d = &rec.diagnosis;
        let code = |c: Option<dga::FaultCode>| c.map_or("—".to_owned(), |c| c.to_string());
        let latest = rec.history.last().map(|h| &h.sample);
        let status = d.status.number();
        ReportRow {
            asset_id: rec.asset_id.clone().unwrap_or_default(),
            name: name.map(str::to_owned),
            substation: substation.map(str::to_owned),
            status,
            fault: d.fault.to_string(),
            fault_label: d.fault_label(),
            fault_description: d.fault_description.to_string(),
            refinements: d
                .refinements
                .iter()
                .map(|x| format!("{}: {} ({})", x.code, x.meaning, x.method))
                .collect::<Vec<_>>()
                .join("; "),
            confidence: d.confidence_word().to_owned(),
            fault_probability: d.fault_probability(),
            priority: d.priority.score,
            ieee_2008_condition: d.ieee_2008_condition,
            duval_t1: code(d.methods.duval_triangle_1),
            duval_p1: code(d.methods.duval_pentagon_1),
            iec_60599: code(d.methods.iec_60599),
            rogers: code(d.methods.rogers),
            latest_sampled_on: d.latest_sampled_on,
            row: rec.row,
            gases: REPORT_GASES
                .iter()
                .map(|g| latest.map_or(ReportCell::Empty, |s| ReportCell::of(s.get(*g))))
                .collect(),
            trend: trend(rec),
            first_reason: d.ieee_c57_104_2019.reasons.first().map_or(String::new(), |x| x.text.clone()),
            action: d.action.clone(),
            warnings: rec.warnings.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join("; "),
            history: if status >= 2 {
                rec.history
                    .iter()
                    .map(|h| HistoryRow {
                        sampled_on: h.sample.sampled_on,
                        sheet: h.origin.sheet.clone(),
                        row: h.origin.row,
                        gases: Gas::ALL.iter().map(|g| ReportCell::of(h.sample.get(*g))).collect(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// The Diagnoses sheet's columns: header, width (characters) and whether the text wraps. The
/// first [`PRINTED_COLUMNS`] are what an engineer prints (the sheet's print area, landscape, one
/// page wide); the working follows.
const DIAGNOSES_COLUMNS: [(&str, f64, bool); 28] = [
    ("Asset ID", 12.0, false),
    ("Name", 16.0, true),
    ("Substation", 13.0, true),
    ("Status", 7.0, false),
    ("Fault", 11.0, true),
    ("Confidence", 10.0, false),
    ("Priority", 8.0, false),
    ("Latest sample", 11.0, false),
    ("First reason", 44.0, true),
    ("Action", 42.0, true),
    ("Fault description", 26.0, true),
    ("Refinements", 30.0, true),
    ("P(fault)", 8.0, false),
    ("IEEE 2008 cond.", 9.0, false),
    ("Duval T1", 8.0, false),
    ("Duval P1", 8.0, false),
    ("IEC 60599", 10.0, false),
    ("Rogers", 9.0, false),
    ("Row", 6.0, false),
    ("H2 (ppm)", 8.0, false),
    ("CH4 (ppm)", 8.0, false),
    ("C2H6 (ppm)", 8.0, false),
    ("C2H4 (ppm)", 8.0, false),
    ("C2H2 (ppm)", 8.0, false),
    ("CO (ppm)", 8.0, false),
    ("CO2 (ppm)", 8.0, false),
    ("Trend", 24.0, true),
    ("Warnings", 40.0, true),
];

/// The Diagnoses columns that print (asset to action).
const PRINTED_COLUMNS: u16 = 10;
/// The first gas column of the Diagnoses sheet.
const FIRST_GAS_COLUMN: u16 = 19;

/// The height (points) of a row whose wrapped cells hold these texts in columns this wide: a
/// line per column width of characters (Excel's width unit), at most 12.
fn wrapped_height(cells: &[(&str, f64)]) -> f64 {
    let lines = cells
        .iter()
        .map(|(text, width)| {
            // Proportional text runs about 15 % narrower than the width unit (a "0").
            let per_line = (width * 1.15).max(4.0) as usize;
            text.split('\n').map(|l| l.chars().count().div_ceil(per_line).max(1)).sum::<usize>()
        })
        .max()
        .unwrap_or(1)
        .clamp(1, 12);
    15.0 * lines as f64
}

/// The last row a worksheet has (Excel's 1,048,576 rows, the header included).
const EXCEL_LAST_ROW: u32 = 1_048_575;

/// One asset of the Summary sheet's act-first list (the same as report.html's).
pub use report::html::ActFirstRow as ActFirstLine;

/// Landscape, one page wide, the header row on every page, the sheet's name and the page
/// number in the margins: what an engineer needs to print a sheet of any length.
fn printable(ws: &mut Worksheet, repeat_header: bool) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_header("&L&\"-,Bold\"Substation DGA results&R&A");
    ws.set_footer("&L&F&RPage &P of &N");
    if repeat_header {
        ws.set_repeat_rows(0, 0)?;
    }
    Ok(())
}

/// The results workbook written row by row: Summary (the run, the counts and the act-first
/// list), Diagnoses (one row per asset, in the order pushed — the caller pushes worst first —
/// status colour-coded, filters, frozen header), Asset history (every sample of the assets at
/// status 2 or 3), Rejected rows and Legend. Diagnoses and Asset history are in
/// rust_xlsxwriter's constant-memory mode, so a fleet of any size costs a fixed amount of memory.
pub struct ResultsWriter {
    wb: Workbook,
    run: RunInfo,
    rows: u32,
    history_rows: u32,
    history_omitted: u64,
    by_status: [u64; 3],
    faults: std::collections::BTreeMap<String, u64>,
    dates: Format,
    percent: Format,
    one_decimal: Format,
    text: Format,
    wrap: Format,
    status: [Format; 3],
    /// Duval Triangle 1 of the first act-first assets pushed: (asset id, caption, PNG).
    plots: Vec<(String, String, Vec<u8>)>,
}

/// How many assets get a Duval Triangle 1 picture: the act-first list's length.
const PLOTTED_ASSETS: usize = 25;

impl std::fmt::Debug for ResultsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultsWriter").field("rows", &self.rows).finish()
    }
}

const SUMMARY: usize = 0;
const DIAGNOSES: usize = 1;
const HISTORY: usize = 2;

impl ResultsWriter {
    /// A results workbook for this run, with its sheets and the Diagnoses header.
    pub fn new(run: &RunInfo) -> Result<Self, XlsxError> {
        let mut wb = Workbook::new();
        if let Some(created) = run.created_at {
            wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
        }
        wb.add_worksheet().set_name("Summary")?;
        let header = header_format().set_text_wrap().set_align(FormatAlign::Top);
        {
            let ws = wb.add_worksheet_with_constant_memory().set_name("Diagnoses")?;
            ws.set_row_height(0, 30)?;
            for (c, (h, width, _)) in DIAGNOSES_COLUMNS.iter().enumerate() {
                ws.set_column_width(c as u16, *width)?;
                ws.write_string_with_format(0, c as u16, *h, &header)?;
            }
            ws.set_freeze_panes(1, 1)?;
            printable(ws, true)?;
        }
        {
            let ws = wb.add_worksheet_with_constant_memory().set_name("Asset history")?;
            ws.set_row_height(0, 30)?;
            let mut headers = vec!["Asset ID", "Status", "Sample date", "Sheet", "Row"];
            let gases: Vec<String> = Gas::ALL.iter().map(|g| format!("{g} (ppm)")).collect();
            headers.extend(gases.iter().map(String::as_str));
            for (c, h) in headers.iter().enumerate() {
                ws.set_column_width(c as u16, if c == 0 || c == 3 { 12.0 } else { 9.0 })?;
                ws.write_string_with_format(0, c as u16, *h, &header)?;
            }
            ws.set_freeze_panes(1, 1)?;
            printable(ws, true)?;
        }
        let top = |f: Format| f.set_align(FormatAlign::Top);
        Ok(ResultsWriter {
            wb,
            run: run.clone(),
            rows: 0,
            history_rows: 0,
            history_omitted: 0,
            by_status: [0; 3],
            faults: Default::default(),
            dates: top(date_format()),
            percent: top(Format::new().set_num_format("0%")),
            one_decimal: top(Format::new().set_num_format("0.0")),
            text: top(Format::new()),
            wrap: top(Format::new().set_text_wrap()),
            status: [status_format(1), status_format(2), status_format(3)],
            plots: Vec::new(),
        })
    }

    /// Duval Triangle 1 of an act-first asset's samples, as a picture (feature `png-plots`).
    #[cfg(feature = "png-plots")]
    fn plot(&mut self, row: &ReportRow) {
        if row.status < 2 || row.history.is_empty() || self.plots.len() >= PLOTTED_ASSETS {
            return;
        }
        let samples: Vec<dga::DgaSample> = row
            .history
            .iter()
            .map(|h| {
                let mut s = dga::DgaSample { sampled_on: h.sampled_on, ..Default::default() };
                for (gas, cell) in Gas::ALL.iter().zip(&h.gases) {
                    let reading = match cell {
                        ReportCell::Number(v) => GasReading::Measured(*v),
                        ReportCell::Text(t) => t.parse().unwrap_or(GasReading::NotMeasured),
                        ReportCell::Empty => GasReading::NotMeasured,
                    };
                    s.set(*gas, reading);
                }
                s
            })
            .collect();
        let svg = report::plot::duval_triangle(dga::duval_triangle::Triangle::One, &samples);
        // A picture that fails to render leaves the asset without one; the rest is unaffected.
        if let Ok(png) = report::plot::png(&svg, 1.0) {
            let caption =
                format!("{} — status {}, {} (priority {:.1})", row.asset_id, row.status, row.fault_label, row.priority);
            self.plots.push((row.asset_id.clone(), caption, png));
        }
    }

    #[cfg(not(feature = "png-plots"))]
    fn plot(&mut self, _row: &ReportRow) {
        let _ = (PLOTTED_ASSETS, &self.plots);
    }

    /// Appends one asset's row to the Diagnoses sheet, and draws its Duval Triangle 1 when it
    /// carries its samples and is among the first 25 at status 2-3 pushed (the act-first list,
    /// when pushed worst first).
    pub fn push(&mut self, row: &ReportRow) -> Result<(), XlsxError> {
        self.by_status[usize::from(row.status.clamp(1, 3) - 1)] += 1;
        *self.faults.entry(row.fault.clone()).or_default() += 1;
        if self.rows >= EXCEL_LAST_ROW {
            return Ok(());
        }
        self.rows += 1;
        let r = self.rows;
        self.plot(row);
        let (text, wrap) = (&self.text, &self.wrap);
        let fmt = |c: u16| if DIAGNOSES_COLUMNS[usize::from(c)].2 { wrap } else { text };
        let strings: [(u16, &str); 15] = [
            (0, &row.asset_id),
            (1, row.name.as_deref().unwrap_or("")),
            (2, row.substation.as_deref().unwrap_or("")),
            (4, &row.fault_label),
            (5, &row.confidence),
            (8, &row.first_reason),
            (9, &row.action),
            (10, &row.fault_description),
            (11, &row.refinements),
            (14, &row.duval_t1),
            (15, &row.duval_p1),
            (16, &row.iec_60599),
            (17, &row.rogers),
            (26, &row.trend),
            (27, &row.warnings),
        ];
        // As tall as the printed columns' wrapped text needs.
        let wrapped: Vec<(&str, f64)> = strings
            .iter()
            .filter(|(c, _)| *c < PRINTED_COLUMNS && DIAGNOSES_COLUMNS[usize::from(*c)].2)
            .map(|(c, v)| (*v, DIAGNOSES_COLUMNS[usize::from(*c)].1))
            .collect();
        let ws = self.wb.worksheet_from_index(DIAGNOSES)?;
        // Set before the row's cells: in constant-memory mode a row is final once left.
        ws.set_row_height(r, wrapped_height(&wrapped))?;
        for (c, v) in strings {
            ws.write_string_with_format(r, c, fit(v), fmt(c))?;
        }
        ws.write_number_with_format(
            r,
            3,
            f64::from(row.status),
            &self.status[usize::from(row.status.clamp(1, 3) - 1)],
        )?;
        ws.write_number_with_format(r, 6, row.priority, &self.one_decimal)?;
        if let Some(date) = row.latest_sampled_on {
            ws.write_date_with_format(r, 7, date, &self.dates)?;
        }
        ws.write_number_with_format(r, 12, row.fault_probability, &self.percent)?;
        if let Some(c) = row.ieee_2008_condition {
            ws.write_number_with_format(r, 13, f64::from(c), text)?;
        }
        if let Some(n) = row.row {
            ws.write_number_with_format(r, 18, n as f64, text)?;
        }
        for (j, cell) in row.gases.iter().enumerate() {
            write_cell(ws, r, FIRST_GAS_COLUMN + j as u16, cell, text)?;
        }
        Ok(())
    }

    /// Appends an asset's samples to the Asset history sheet (when its row carries them: status
    /// 2-3). Independent of [`push`](Self::push): the aggregate writes the history as the
    /// batches arrive and the Diagnoses rows worst first at the end.
    pub fn push_history(&mut self, row: &ReportRow) -> Result<(), XlsxError> {
        {
            let ws = self.wb.worksheet_from_index(HISTORY)?;
            for h in &row.history {
                if self.history_rows >= EXCEL_LAST_ROW {
                    self.history_omitted += 1;
                    continue;
                }
                self.history_rows += 1;
                let r = self.history_rows;
                ws.write_string(r, 0, fit(&row.asset_id))?;
                ws.write_number_with_format(
                    r,
                    1,
                    f64::from(row.status),
                    &self.status[usize::from(row.status.clamp(1, 3) - 1)],
                )?;
                if let Some(d) = h.sampled_on {
                    ws.write_date_with_format(r, 2, d, &self.dates)?;
                }
                ws.write_string(r, 3, fit(h.sheet.as_deref().unwrap_or("")))?;
                if let Some(n) = h.row {
                    ws.write_number(r, 4, n as f64)?;
                }
                for (j, cell) in h.gases.iter().enumerate() {
                    write_cell(ws, r, 5 + j as u16, cell, &self.text)?;
                }
            }
        }
        Ok(())
    }

    /// The Summary sheet's counts after rows were rejected past the parse step (assets unknown
    /// to the history).
    pub fn recount(&mut self, samples_accepted: u64, rows_rejected: u64) {
        self.run.samples_accepted = samples_accepted;
        self.run.rows_rejected = rows_rejected;
    }

    /// Fills the Summary (with the act-first list), adds the Rejected rows and the Legend, and
    /// returns the workbook.
    pub fn finish(mut self, rejected: &[RowError], act_first: &[ActFirstLine]) -> Result<Vec<u8>, XlsxError> {
        let diagnosed: u64 = self.by_status.iter().sum();
        {
            let (rows, history_rows) = (self.rows, self.history_rows);
            let ws = self.wb.worksheet_from_index(DIAGNOSES)?;
            ws.autofilter(0, 0, rows.max(1), DIAGNOSES_COLUMNS.len() as u16 - 1)?;
            ws.set_print_area(0, 0, rows.max(1), PRINTED_COLUMNS - 1)?;
            let ws = self.wb.worksheet_from_index(HISTORY)?;
            ws.autofilter(0, 0, history_rows.max(1), 4 + Gas::ALL.len() as u16)?;
        }
        let bold = Format::new().set_bold();
        let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
        let top = Format::new().set_align(FormatAlign::Top);
        {
            let run = &self.run;
            let ws = self.wb.worksheet_from_index(SUMMARY)?;
            for (c, w) in [(0, 34.0), (1, 22.0), (2, 8.0), (3, 12.0), (4, 9.0), (5, 11.0), (6, 70.0)] {
                ws.set_column_width(c, w)?;
            }
            ws.write_string_with_format(0, 0, "Substation DGA results", &bold)?;
            let mut rows: Vec<(&str, String)> = vec![
                ("Source file", run.source_file.clone()),
                ("Run started", run.started_at.clone()),
                ("Assets diagnosed", diagnosed.to_string()),
                ("Status 3 (act now)", self.by_status[2].to_string()),
                ("Status 2 (investigate)", self.by_status[1].to_string()),
                ("Status 1 (normal)", self.by_status[0].to_string()),
                ("Rows read", run.rows_read.to_string()),
                ("Samples accepted", run.samples_accepted.to_string()),
                ("Rows rejected (see Rejected rows)", run.rows_rejected.to_string()),
                ("Rows skipped (blank, totals)", run.rows_skipped.to_string()),
            ];
            if u64::from(self.rows) < diagnosed {
                rows.push((
                    "Assets beyond Excel's rows (in diagnoses.jsonl)",
                    (diagnosed - u64::from(self.rows)).to_string(),
                ));
            }
            if self.history_omitted > 0 {
                rows.push(("Samples beyond Excel's rows (in diagnoses.jsonl)", self.history_omitted.to_string()));
            }
            for (i, (k, v)) in rows.iter().enumerate() {
                ws.write_string(2 + i as u32, 0, *k)?;
                match v.parse::<f64>() {
                    Ok(n) if !k.starts_with("Source") && !k.starts_with("Run") => {
                        ws.write_number(2 + i as u32, 1, n)?
                    }
                    _ => ws.write_string(2 + i as u32, 1, v)?,
                };
            }
            let mut r = 3 + rows.len() as u32;
            ws.write_string_with_format(r, 0, "Act first (status 2 and 3, by priority)", &bold)?;
            r += 1;
            if act_first.is_empty() {
                ws.write_string(r, 0, "No asset is at status 2 or 3.")?;
            } else {
                let header = header_format();
                for (c, h) in ["Asset ID", "Fault", "Status", "Priority", "Confidence", "", "Why"].iter().enumerate() {
                    ws.write_string_with_format(r, c as u16, *h, &header)?;
                }
                for a in act_first {
                    r += 1;
                    ws.set_row_height(r, wrapped_height(&[(&a.reason, 70.0)]))?;
                    ws.write_string_with_format(r, 0, fit(&a.asset_id), &top)?;
                    ws.write_string_with_format(r, 1, fit(&a.fault), &top)?;
                    ws.write_number_with_format(
                        r,
                        2,
                        f64::from(a.status),
                        &self.status[usize::from(a.status.clamp(1, 3) - 1)],
                    )?;
                    ws.write_number_with_format(r, 3, a.priority, &self.one_decimal)?;
                    ws.write_string_with_format(r, 4, fit(&a.confidence), &top)?;
                    ws.write_string_with_format(r, 6, fit(&a.reason), &wrap)?;
                }
            }
            r += 2;
            ws.write_string_with_format(r, 0, "Assets by fault", &bold)?;
            for (fault, n) in &self.faults {
                r += 1;
                ws.write_string(r, 0, fault)?;
                ws.write_number(r, 1, *n as f64)?;
            }
            r += 2;
            ws.write_string_with_format(r, 0, "Files", &bold)?;
            for (name, what) in [
                (
                    "report.html",
                    "the same results with Duval plots, gas trends and a page per asset: open it in a browser",
                ),
                (
                    "diagnoses.jsonl",
                    "every asset's full record and history, one JSON line each (docs/diagnosis-record.md)",
                ),
                ("rejected.jsonl", "every rejected row with its reason"),
            ] {
                r += 1;
                ws.write_string(r, 0, name)?;
                ws.write_string_with_format(r, 1, what, &Format::new())?;
            }
            printable(ws, false)?;
        }
        if !self.plots.is_empty() {
            let ws = self.wb.add_worksheet().set_name("Duval plots")?;
            ws.write_string_with_format(0, 0, "Duval Triangle 1 of the assets to act on first: each dot a sample, the newest red (report.html has every diagram and trend)", &bold)?;
            // Three pictures a row at 65 % (about 250 × 220 px, 11 rows), each with its caption
            // above; a page break after every two rows of pictures, so none is cut in print.
            let (per_row, block_rows) = (3, 14u32);
            let mut breaks = Vec::new();
            for (i, (_, caption, png)) in self.plots.iter().enumerate() {
                let (block, col) = ((i / per_row) as u32, 5 * (i % per_row) as u16);
                let row = 2 + block_rows * block;
                if col == 0 && block > 0 && block % 2 == 0 {
                    breaks.push(row);
                }
                ws.write_string(row, col, fit(caption))?;
                let image = rust_xlsxwriter::Image::new_from_buffer(png)?.set_scale_width(0.65).set_scale_height(0.65);
                ws.insert_image(row + 1, col, &image)?;
            }
            if !breaks.is_empty() {
                ws.set_page_breaks(&breaks)?;
            }
            printable(ws, false)?;
        }
        {
            let ws = self.wb.add_worksheet_with_constant_memory().set_name("Rejected rows")?;
            write_header(ws, 0, &["Sheet", "Row", "Column", "Value", "Reason"])?;
            ws.set_column_width(2, 18)?;
            ws.set_column_width(3, 16)?;
            ws.set_column_width(4, 80)?;
            for (i, e) in rejected.iter().take(EXCEL_LAST_ROW as usize).enumerate() {
                let r = 1 + i as u32;
                ws.set_row_height(r, wrapped_height(&[(&e.reason, 80.0)]))?;
                ws.write_string(r, 0, fit(&e.sheet))?;
                ws.write_number(r, 1, f64::from(e.row))?;
                ws.write_string(r, 2, e.column_label())?;
                ws.write_string(r, 3, fit(e.value.as_deref().unwrap_or("")))?;
                ws.write_string_with_format(r, 4, fit(&e.reason), &wrap)?;
            }
            ws.autofilter(0, 0, rejected.len().clamp(1, EXCEL_LAST_ROW as usize) as u32, 4)?;
            ws.set_freeze_panes(1, 0)?;
            printable(ws, true)?;
        }
        {
            let ws = self.wb.add_worksheet().set_name("Legend")?;
            write_header(ws, 0, &["Kind", "Code", "Meaning"])?;
            ws.set_column_width(0, 12)?;
            ws.set_column_width(1, 14)?;
            ws.set_column_width(2, 100)?;
            for (i, entry) in dga::legend::entries().iter().enumerate() {
                let r = 1 + i as u32;
                ws.write_string(r, 0, entry.kind)?;
                ws.write_string(r, 1, entry.code)?;
                ws.write_string_with_format(r, 2, entry.meaning, &wrap)?;
            }
            printable(ws, true)?;
        }
        self.wb.save_to_buffer()
    }
}

fn write_cell(ws: &mut Worksheet, r: u32, c: u16, cell: &ReportCell, f: &Format) -> Result<(), XlsxError> {
    match cell {
        ReportCell::Number(v) => ws.write_number_with_format(r, c, *v, f)?,
        ReportCell::Text(t) => ws.write_string_with_format(r, c, fit(t), f)?,
        ReportCell::Empty => ws,
    };
    Ok(())
}

/// The priority order of the results: highest score first (the score ranks the status first,
/// dga::priority), equal scores by the fault's energy (D2 before T1), then the input order.
pub fn worst_first(a: (f64, u8, usize), b: (f64, u8, usize)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2))
}

/// The results workbook of records in memory (`substation diagnose --report`): the same
/// [`ResultsWriter`] the aggregate step streams into, rows worst first. `items` give names and
/// substations, by asset id.
pub fn results(
    run: &RunInfo,
    records: &[DiagnosisRecord],
    items: &[AssetItem],
    rejected: &[RowError],
) -> Result<Vec<u8>, XlsxError> {
    let by_id: std::collections::HashMap<&str, &AssetItem> = items.iter().map(|i| (i.asset_id.as_str(), i)).collect();
    let mut rows: Vec<(ReportRow, u8)> = records
        .iter()
        .map(|rec| {
            let item = rec.asset_id.as_deref().and_then(|id| by_id.get(id));
            let row =
                ReportRow::new(rec, item.and_then(|i| i.name.as_deref()), item.and_then(|i| i.substation.as_deref()));
            (row, dga::priority::fault_energy(rec.diagnosis.fault))
        })
        .collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&i, &j| worst_first((rows[i].0.priority, rows[i].1, i), (rows[j].0.priority, rows[j].1, j)));
    let mut w = ResultsWriter::new(run)?;
    let mut act_first = Vec::new();
    for &i in &order {
        let row = &rows[i].0;
        if row.status >= 2 && act_first.len() < ACT_FIRST_IN_WORKBOOK {
            act_first.push(ActFirstLine {
                asset_id: row.asset_id.clone(),
                status: row.status,
                fault: row.fault_label.clone(),
                priority: row.priority,
                confidence: row.confidence.clone(),
                reason: row.first_reason.clone(),
            });
        }
        w.push_history(row)?;
        w.push(row)?;
    }
    rows.clear();
    w.finish(rejected, &act_first)
}

/// How many assets the act-first list of [`results`] holds (the pipeline's summary has 25 too).
const ACT_FIRST_IN_WORKBOOK: usize = 25;

/// The trend of the gas that drove the status (not simply the largest ppm/year, usually CO2).
fn trend(rec: &DiagnosisRecord) -> String {
    let ieee = &rec.diagnosis.ieee_c57_104_2019;
    match rec.diagnosis.trend() {
        Some((gas, Some(rate))) => format!("{gas} {rate:+.1} ppm/year"),
        Some((gas, None)) if ieee.samples > 1 => format!("{gas}: no rate (needs 3+ samples over 4-24 months)"),
        _ if ieee.samples > 1 => "no rate (needs 3+ samples over 4-24 months)".into(),
        _ => "single sample".into(),
    }
}

/// Excel's most characters in a cell (rust_xlsxwriter refuses more).
const CELL_CHARS: usize = 32_767;

/// Text as a cell can hold it: cut to Excel's 32,767 characters with an ellipsis, so one long
/// cell of an upload never fails the results workbook.
fn fit(text: &str) -> std::borrow::Cow<'_, str> {
    crate::error::ellipsize(text, CELL_CHARS, CELL_CHARS - 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn texts_beyond_a_cell_are_cut_with_an_ellipsis() {
        let full = "é".repeat(super::CELL_CHARS);
        assert_eq!(super::fit(&full), full.as_str(), "Excel's maximum fits as it is");
        let over = format!("{full}xyz");
        let cut = super::fit(&over);
        assert_eq!(cut.chars().count(), super::CELL_CHARS);
        assert!(cut.ends_with('…') && cut.starts_with("éé"));
    }
}
