//! Workbooks out: the canonical template, and the results workbook an engineer opens.

use chrono::NaiveDate;
use dga::{DiagnosisRecord, Gas, GasReading};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

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
    Format::new().set_background_color(color).set_align(FormatAlign::Center)
}

fn reading_text(r: GasReading) -> String {
    match r {
        GasReading::Measured(v) => format!("{v}"),
        other => other.to_string(),
    }
}

/// The results workbook: Summary, Diagnoses (one row per asset, status colour-coded, filters,
/// frozen header) and Rejected rows. `items` are matched to records by asset id.
pub fn results(
    run: &RunInfo,
    records: &[DiagnosisRecord],
    items: &[AssetItem],
    rejected: &[RowError],
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    if let Some(created) = run.created_at {
        wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    }
    let bold = Format::new().set_bold();
    let by_id: std::collections::HashMap<&str, &AssetItem> = items.iter().map(|i| (i.asset_id.as_str(), i)).collect();

    {
        let ws = wb.add_worksheet().set_name("Summary")?;
        ws.set_column_width(0, 34)?;
        ws.set_column_width(1, 40)?;
        ws.write_string_with_format(0, 0, "Substation DGA results", &bold)?;
        let mut by_status = [0u64; 3];
        let mut faults: std::collections::BTreeMap<String, u64> = Default::default();
        for r in records {
            by_status[usize::from(r.diagnosis.status.number() - 1)] += 1;
            *faults.entry(r.diagnosis.fault.to_string()).or_default() += 1;
        }
        let rows: Vec<(&str, String)> = vec![
            ("Source file", run.source_file.clone()),
            ("Run started", run.started_at.clone()),
            ("Assets diagnosed", records.len().to_string()),
            ("Status 3 (act now)", by_status[2].to_string()),
            ("Status 2 (investigate)", by_status[1].to_string()),
            ("Status 1 (normal)", by_status[0].to_string()),
            ("Rows read", run.rows_read.to_string()),
            ("Samples accepted", run.samples_accepted.to_string()),
            ("Rows rejected (see Rejected rows)", run.rows_rejected.to_string()),
            ("Rows skipped (blank, totals)", run.rows_skipped.to_string()),
        ];
        for (i, (k, v)) in rows.iter().enumerate() {
            ws.write_string(2 + i as u32, 0, *k)?;
            match v.parse::<f64>() {
                Ok(n) if !k.starts_with("Source") && !k.starts_with("Run") => ws.write_number(2 + i as u32, 1, n)?,
                _ => ws.write_string(2 + i as u32, 1, v)?,
            };
        }
        let mut r = 4 + rows.len() as u32;
        ws.write_string_with_format(r, 0, "Assets by fault", &bold)?;
        for (fault, n) in &faults {
            r += 1;
            ws.write_string(r, 0, fault)?;
            ws.write_number(r, 1, *n as f64)?;
        }
    }
    {
        let ws = wb.add_worksheet().set_name("Diagnoses")?;
        let mut headers = vec![
            "Asset ID",
            "Name",
            "Substation",
            "Status",
            "Fault",
            "Fault description",
            "Refinements",
            "Confidence",
            "P(fault)",
            "Priority",
            "IEEE 2008 cond.",
            "Duval T1",
            "Duval P1",
            "IEC 60599",
            "Rogers",
            "Latest sample",
            "Row",
        ];
        let gases = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2, Gas::CO, Gas::CO2];
        let gas_headers: Vec<String> = gases.iter().map(|g| format!("{g} (ppm)")).collect();
        headers.extend(gas_headers.iter().map(String::as_str));
        headers.extend(["Trend", "First reason", "Action", "Warnings"]);
        write_header(ws, 0, &headers)?;
        let code = |c: Option<dga::FaultCode>| c.map_or("—".to_owned(), |c| c.to_string());
        let dates = date_format();
        let percent = Format::new().set_num_format("0%");
        let one_decimal = Format::new().set_num_format("0.0");
        for (i, rec) in records.iter().enumerate() {
            let r = 1 + i as u32;
            let d = &rec.diagnosis;
            let item = rec.asset_id.as_deref().and_then(|id| by_id.get(id));
            ws.write_string(r, 0, rec.asset_id.as_deref().unwrap_or(""))?;
            ws.write_string(r, 1, item.and_then(|i| i.name.as_deref()).unwrap_or(""))?;
            ws.write_string(r, 2, item.and_then(|i| i.substation.as_deref()).unwrap_or(""))?;
            ws.write_number_with_format(r, 3, f64::from(d.status.number()), &status_format(d.status.number()))?;
            ws.write_string(r, 4, d.fault_label())?;
            ws.write_string(r, 5, d.fault_description.as_ref())?;
            let refinements: Vec<String> =
                d.refinements.iter().map(|x| format!("{}: {} ({})", x.code, x.meaning, x.method)).collect();
            ws.write_string(r, 6, refinements.join("; "))?;
            ws.write_string(r, 7, d.confidence_word())?;
            ws.write_number_with_format(r, 8, d.fault_probability(), &percent)?;
            ws.write_number_with_format(r, 9, d.priority.score, &one_decimal)?;
            if let Some(c) = d.ieee_2008_condition {
                ws.write_number(r, 10, f64::from(c))?;
            }
            ws.write_string(r, 11, code(d.methods.duval_triangle_1))?;
            ws.write_string(r, 12, code(d.methods.duval_pentagon_1))?;
            ws.write_string(r, 13, code(d.methods.iec_60599))?;
            ws.write_string(r, 14, code(d.methods.rogers))?;
            if let Some(date) = d.latest_sampled_on {
                ws.write_date_with_format(r, 15, date, &dates)?;
            }
            if let Some(row) = rec.row {
                ws.write_number(r, 16, row as f64)?;
            }
            let latest = item.and_then(|i| i.samples.last());
            for (j, gas) in gases.iter().enumerate() {
                let col = 17 + j as u16;
                match latest.map(|s| s.sample.get(*gas)) {
                    Some(GasReading::Measured(v)) => ws.write_number(r, col, v)?,
                    Some(other @ GasReading::BelowDetection { .. }) => ws.write_string(r, col, reading_text(other))?,
                    _ => ws,
                };
            }
            let base = 17 + gases.len() as u16;
            ws.write_string(r, base, trend(rec))?;
            ws.write_string(r, base + 1, d.ieee_c57_104_2019.reasons.first().map_or("", |x| x.text.as_str()))?;
            ws.write_string(r, base + 2, &d.action)?;
            let warnings: Vec<&str> = rec.warnings.iter().map(|w| w.text.as_str()).collect();
            ws.write_string(r, base + 3, warnings.join("; "))?;
        }
        let last_col = headers.len() as u16 - 1;
        ws.autofilter(0, 0, records.len().max(1) as u32, last_col)?;
        ws.set_freeze_panes(1, 1)?;
    }
    {
        let ws = wb.add_worksheet().set_name("Rejected rows")?;
        write_header(ws, 0, &["Sheet", "Row", "Column", "Value", "Reason"])?;
        ws.set_column_width(4, 80)?;
        for (i, e) in rejected.iter().enumerate() {
            let r = 1 + i as u32;
            ws.write_string(r, 0, &e.sheet)?;
            ws.write_number(r, 1, f64::from(e.row))?;
            let column = match (&e.column_letter, &e.column) {
                (Some(l), Some(c)) => format!("{l} ({c})"),
                (None, Some(c)) => c.clone(),
                _ => String::new(),
            };
            ws.write_string(r, 2, column)?;
            ws.write_string(r, 3, e.value.as_deref().unwrap_or(""))?;
            ws.write_string(r, 4, &e.reason)?;
        }
        ws.autofilter(0, 0, rejected.len().max(1) as u32, 4)?;
        ws.set_freeze_panes(1, 0)?;
    }
    {
        let ws = wb.add_worksheet().set_name("Legend")?;
        write_header(ws, 0, &["Kind", "Code", "Meaning"])?;
        ws.set_column_width(0, 12)?;
        ws.set_column_width(1, 14)?;
        ws.set_column_width(2, 100)?;
        for (i, entry) in dga::legend::entries().iter().enumerate() {
            let r = 1 + i as u32;
            ws.write_string(r, 0, entry.kind)?;
            ws.write_string(r, 1, entry.code)?;
            ws.write_string(r, 2, entry.meaning)?;
        }
    }
    wb.save_to_buffer()
}

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
