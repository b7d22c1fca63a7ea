//! Reading workbooks as customers keep them: written here with rust_xlsxwriter, read back with
//! the library. Every layout, header family, date form, row error, whole-file rejection, guard,
//! and the conservation of rows. The one-sheet cases are also written as CSV and read by the
//! same reader: CSV is one more source of it, with the same rules (tests/csv.rs has the rest).

use std::io::{Cursor, Read, Write};

use chrono::NaiveDate;
use dga::{Gas, GasReading};
use rust_xlsxwriter::{Format, Formula, Workbook, Worksheet};
use workbook::{Layout, Limits, ParsedWorkbook, WorkbookError, read_workbook};

/// A cell to write: text, number, date or formula-with-cached-value.
#[derive(Clone)]
enum C {
    T(&'static str),
    S(String),
    N(f64),
    D(i32, u32, u32),
    F(&'static str, &'static str),
    E,
}

fn put(ws: &mut Worksheet, r: u32, c: u16, v: &C) {
    let date = Format::new().set_num_format("yyyy-mm-dd");
    match v {
        C::T(t) => ws.write_string(r, c, *t).map(|_| ()),
        C::S(t) => ws.write_string(r, c, t).map(|_| ()),
        C::N(n) => ws.write_number(r, c, *n).map(|_| ()),
        C::D(y, m, d) => {
            ws.write_date_with_format(r, c, NaiveDate::from_ymd_opt(*y, *m, *d).unwrap(), &date).map(|_| ())
        }
        C::F(f, result) => ws.write_formula(r, c, Formula::new(*f).set_result(*result)).map(|_| ()),
        C::E => Ok(()),
    }
    .unwrap();
}

fn sheet(wb: &mut Workbook, name: &str, rows: &[Vec<C>]) {
    let ws = wb.add_worksheet().set_name(name).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put(ws, r as u32, c as u16, v);
        }
    }
}

fn book(sheets: &[(&str, Vec<Vec<C>>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        sheet(&mut wb, name, rows);
    }
    wb.save_to_buffer().unwrap()
}

/// The rows as a CSV file: text as written, numbers as Rust prints them, dates as ISO text.
fn csv(rows: &[Vec<C>]) -> Vec<u8> {
    let mut out = String::new();
    for row in rows {
        let fields: Vec<String> = row
            .iter()
            .map(|c| {
                let text = match c {
                    T(t) => (*t).to_owned(),
                    S(t) => t.clone(),
                    N(n) => n.to_string(),
                    D(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
                    F(_, result) => (*result).to_owned(),
                    E => String::new(),
                };
                if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

/// The one sheet read from an xlsx and from the same rows as CSV: (the sheet's name, parsed).
fn both(sheet: &'static str, rows: &[Vec<C>]) -> [(&'static str, ParsedWorkbook); 2] {
    let xlsx = read(&book(&[(sheet, rows.to_vec())]));
    let csv = read_workbook(&csv(rows), "uploads/fleet.csv", &Limits::default()).unwrap();
    [(sheet, xlsx), ("fleet.csv", csv)]
}

fn read(bytes: &[u8]) -> ParsedWorkbook {
    read_workbook(bytes, "fleet.xlsx", &Limits::default()).unwrap()
}

fn read_err(bytes: &[u8]) -> WorkbookError {
    read_workbook(bytes, "fleet.xlsx", &Limits::default()).unwrap_err()
}

fn conserved(p: &ParsedWorkbook) {
    let c = p.counts;
    assert_eq!(c.rows_read, c.samples_accepted + c.rows_rejected + c.rows_skipped, "{c:?}");
    let samples: usize = p.assets.iter().map(|a| a.samples.len() + a.samples_omitted).sum();
    assert_eq!(samples as u64, c.samples_accepted, "{c:?}");
    // A row with several bad cells is one rejected row.
    let rejected_rows: std::collections::BTreeSet<(String, u32)> =
        p.rejected.iter().map(|e| (e.sheet.clone(), e.row)).collect();
    assert_eq!(rejected_rows.len() as u64, c.rows_rejected + c.asset_rows_rejected, "{:?}", p.rejected);
}

use C::*;

fn gases(h2: f64) -> Vec<C> {
    vec![N(h2), N(5.0), N(4.0), N(3.0), T("<0.5"), N(200.0), N(2000.0), N(2000.0), N(40000.0)]
}

const GAS_HEADERS: [&str; 9] = ["H2", "CH4", "C2H6", "C2H4", "C2H2", "CO", "CO2", "O2", "N2"];

fn header(prefix: &[&'static str]) -> Vec<C> {
    prefix.iter().map(|h| T(h)).chain(GAS_HEADERS.iter().map(|h| T(h))).collect()
}

fn row(prefix: Vec<C>, h2: f64) -> Vec<C> {
    prefix.into_iter().chain(gases(h2)).collect()
}

#[test]
fn one_sheet_layout_with_a_title_block_blank_and_total_rows() {
    let rows = vec![
        vec![T("Fleet DGA results 2024 (H2 and friends)")],
        vec![T("Lab: Example Labs; values in ppm")],
        vec![],
        header(&["Asset", "Substation", "Sample date"]),
        row(vec![T("TR-1"), T("North"), D(2023, 1, 10)], 10.0),
        row(vec![T("TR-1"), T("North"), D(2024, 1, 10)], 12.0),
        vec![],
        row(vec![T("TR-2"), T("South"), D(2024, 3, 1)], 30.0),
        vec![T("Average"), E, E, N(17.3)],
    ];
    // A comment under no header: ignored in a workbook (in a CSV it is a field too many).
    let mut commented = rows.clone();
    commented[4].push(T("a comment"));
    let p = read(&book(&[("DGA", commented)]));
    assert_eq!((p.counts.samples_accepted, p.ignored_columns.len()), (3, 0));
    for (sheet, p) in both("DGA", &rows) {
        assert_eq!(p.layout, Layout::OneSheet);
        assert_eq!(p.assets.len(), 2);
        let tr1 = &p.assets[0];
        assert_eq!((tr1.asset_id.as_str(), tr1.substation.as_deref()), ("TR-1", Some("North")));
        assert_eq!(tr1.samples.len(), 2);
        assert_eq!((tr1.samples[1].sheet.as_str(), tr1.samples[1].row), (sheet, 6));
        assert_eq!(tr1.samples[1].sample.h2_ppm, GasReading::Measured(12.0));
        assert_eq!(tr1.samples[0].sample.c2h2_ppm, GasReading::BelowDetection { limit_ppm: Some(0.5) });
        // Rows 5, 6, 7 (blank), 8, 9 (average): 3 samples, 2 skipped.
        assert_eq!((p.counts.rows_read, p.counts.samples_accepted, p.counts.rows_skipped), (5, 3, 2));
        assert_eq!(p.ignored_columns.len(), 0); // the comment has no header
        conserved(&p);
    }
}

#[test]
fn two_sheet_layout_joins_by_asset_id() {
    let assets = vec![
        vec![T("Asset ID"), T("Name"), T("Year of manufacture"), T("Breathing"), T("Rated power (kVA)"), T("Owner")],
        vec![T("TR-1"), T("Main 1"), N(1990.0), T("sealed"), N(40000.0), T("Grid Co")],
        vec![T("TR-2"), T("Main 2"), N(2015.0), T("free-breathing"), N(20000.0), E],
        vec![T("TR-3"), T("Spare"), N(2020.0), E, E, E],
        vec![T("TR-2"), T("Duplicate"), E, E, E, E],
    ];
    let samples = vec![
        header(&["Asset ID", "Sample date", "Lab ref"]),
        row(vec![T("TR-1"), D(2024, 5, 1), T("L-1")], 10.0),
        row(vec![T("TR-2"), D(2024, 5, 2), T("L-2")], 11.0),
        row(vec![T("TR-9"), D(2024, 5, 3), T("L-3")], 12.0),
        row(vec![T("TR-1"), D(2024, 5, 1), T("L-4")], 13.0),
    ];
    let p = read(&book(&[("Assets", assets), ("Samples", samples)]));
    assert_eq!(p.layout, Layout::TwoSheet);
    let ids: Vec<&str> = p.assets.iter().map(|a| a.asset_id.as_str()).collect();
    assert_eq!(ids, ["TR-1", "TR-2"]);
    let tr1 = &p.assets[0];
    assert_eq!(tr1.name.as_deref(), Some("Main 1"));
    assert_eq!(tr1.rated_mva, Some(40.0)); // kVA converted
    assert_eq!(tr1.breathing, Some(workbook::Breathing::Sealed));
    assert_eq!(tr1.attributes.get("Owner").map(String::as_str), Some("Grid Co"));
    assert_eq!(tr1.age_years, Some(34.0)); // at the latest sample (2024), not today
    assert_eq!(tr1.source.as_ref().map(|s| s.row), Some(2));
    let reasons: Vec<(u32, &str)> = p.rejected.iter().map(|e| (e.row, e.reason.as_str())).collect();
    assert!(reasons.iter().any(|(r, m)| *r == 5 && m.contains("duplicate asset")), "{reasons:?}");
    assert!(reasons.iter().any(|(r, m)| *r == 4 && m.contains("sample without asset: 'TR-9'")), "{reasons:?}");
    assert!(reasons.iter().any(|(r, m)| *r == 5 && m.contains("duplicate sample")), "{reasons:?}");
    assert!(p.warnings.iter().any(|w| w.contains("'TR-3'") && w.contains("no samples")), "{:?}", p.warnings);
    assert_eq!(p.ignored_columns.iter().map(|c| c.header.as_str()).collect::<Vec<_>>(), ["Lab ref"]);
    assert_eq!((p.counts.samples_accepted, p.counts.rows_rejected), (2, 2));
    conserved(&p);
}

#[test]
fn header_aliases_units_and_korean_names() {
    let korean = vec![
        vec![T("변압기 유중가스 분석 결과")],
        vec![],
        vec![
            T("변전소"),
            T("설비번호"),
            T("설비명"),
            T("제작년도"),
            T("시료채취일"),
            T("수소"),
            T("메탄"),
            T("에탄"),
            T("에틸렌"),
            T("아세틸렌"),
            T("일산화탄소"),
            T("이산화탄소"),
            T("산소"),
            T("질소"),
        ],
        vec![
            T("서울"),
            T("T-101"),
            T("1호기"),
            N(2001.0),
            T("2024.03.05"),
            N(20.0),
            N(6.0),
            N(4.0),
            N(2.0),
            T("ND"),
            N(300.0),
            N(2500.0),
            N(3000.0),
            N(45000.0),
        ],
    ];
    for (_, p) in both("분석", &korean) {
        let a = &p.assets[0];
        assert_eq!(
            (a.asset_id.as_str(), a.name.as_deref(), a.substation.as_deref()),
            ("T-101", Some("1호기"), Some("서울"))
        );
        assert_eq!(a.samples[0].sample.sampled_on, NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(a.samples[0].sample.c2h2_ppm, GasReading::BelowDetection { limit_ppm: None });
        assert_eq!(a.age_years, Some(23.0));
    }

    let english = vec![
        vec![
            T("Transformer"),
            T("Date sampled"),
            T("Hydrogen (ppm)"),
            T("Methane [ppm]"),
            T("Ethane ppm"),
            T("Ethylene (µL/L)"),
            T("Acetylene (ppb)"),
            T("Carbon monoxide"),
            T("CO₂ (%)"),
        ],
        vec![T("X"), T("2024-01-02"), N(10.0), N(5.0), N(4.0), N(3.0), N(500.0), N(200.0), N(0.25)],
    ];
    for (_, p) in both("S", &english) {
        let s = &p.assets[0].samples[0].sample;
        assert_eq!(s.c2h2_ppm, GasReading::Measured(0.5)); // 500 ppb
        assert_eq!(s.co2_ppm, GasReading::Measured(2500.0)); // 0.25 %
        assert_eq!(s.o2_ppm, GasReading::NotMeasured);
    }

    let mass = vec![header(&["Asset", "Date"]), row(vec![T("X"), T("2024-01-02")], 1.0)];
    let mut mass = mass;
    mass[0][2] = T("H2 (mg/kg)");
    for bytes in [book(&[("S", mass.clone())]), csv(&mass)] {
        let e = read_err(&bytes);
        assert_eq!(e.error_type(), "WorkbookInvalid");
        assert!(e.reason().contains("'H2 (mg/kg)'") && e.reason().contains("mg/kg"), "{e}");
    }
}

#[test]
fn every_date_form() {
    let dates = [
        D(2023, 5, 17),
        T("2023-05-17"),
        T("2023/5/17"),
        T("2023.05.17"),
        T("17.05.2023"),
        N(45063.0), // an Excel serial in a General cell
        F("=DATE(2023,5,17)", "45063"),
    ];
    let mut rows = vec![header(&["Asset", "Date"])];
    for (i, d) in dates.iter().enumerate() {
        rows.push(row(vec![S(format!("TR-{i}")), d.clone()], 10.0));
    }
    let p = read(&book(&[("S", rows.clone())]));
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    for a in &p.assets {
        assert_eq!(a.samples[0].sample.sampled_on, NaiveDate::from_ymd_opt(2023, 5, 17), "{}", a.asset_id);
    }
    // As CSV every form is text: `17/05/2023` and a time after the date are read too; a serial
    // number is no date in text.
    rows.push(row(vec![T("TR-slash"), T("17/05/2023")], 10.0));
    rows.push(row(vec![T("TR-time"), T("2023-05-17 10:30")], 10.0));
    let p = read(&csv(&rows));
    let bad: Vec<(u32, &str)> = p.rejected.iter().map(|e| (e.row, e.value.as_deref().unwrap_or(""))).collect();
    assert_eq!(bad, [(7, "45063"), (8, "45063")], "{:?}", p.rejected);
    assert_eq!(p.assets.len(), dates.len());
    for a in &p.assets {
        assert_eq!(a.samples[0].sample.sampled_on, NaiveDate::from_ymd_opt(2023, 5, 17), "{}", a.asset_id);
    }
    conserved(&p);
}

/// Rewrites an xlsx so that it uses the 1904 date system: the same serial then means a date
/// 1462 days later, which calamine must honour.
fn to_1904(bytes: &[u8]) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().to_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == "xl/workbook.xml" {
            let xml = String::from_utf8(data).unwrap();
            let xml = if xml.contains("<workbookPr") {
                xml.replacen("<workbookPr", "<workbookPr date1904=\"1\"", 1)
            } else {
                xml.replacen("<bookViews>", "<workbookPr date1904=\"1\"/><bookViews>", 1)
            };
            data = xml.into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn the_1904_date_system_is_honoured() {
    let rows = vec![header(&["Asset", "Date"]), row(vec![T("TR-1"), D(2020, 1, 1)], 10.0)];
    let bytes = to_1904(&book(&[("S", rows)]));
    let p = read(&bytes);
    // The 1900-system serial of 2020-01-01 read in the 1904 system.
    assert_eq!(p.assets[0].samples[0].sample.sampled_on, NaiveDate::from_ymd_opt(2024, 1, 2));
}

#[test]
fn cells_as_people_type_them() {
    let rows = vec![
        header(&["Asset", "Date"]),
        vec![
            T("A"),
            T("2024-01-01"),
            T("1,250"),
            T(" 12.5 "),
            T("n.d."),
            T("-"),
            E,
            F("=2*100", "200"),
            N(2000.0),
            N(2000.0),
            N(40000.0),
        ],
    ];
    for (_, p) in both("S", &rows) {
        let s = &p.assets[0].samples[0].sample;
        // `1,250` alone could be 1.25: the sheet's `12.5` shows its decimal mark is the point.
        assert_eq!(s.h2_ppm, GasReading::Measured(1250.0));
        assert_eq!(s.ch4_ppm, GasReading::Measured(12.5));
        for g in [Gas::C2H6, Gas::C2H4, Gas::C2H2] {
            assert_eq!(s.get(g), GasReading::BelowDetection { limit_ppm: None }, "{g}");
        }
        assert_eq!(s.co_ppm, GasReading::Measured(200.0)); // formula by cached value
    }
}

#[test]
fn merged_asset_cells_cover_their_rows() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("S").unwrap();
    for (c, h) in ["Asset", "Date"].iter().chain(GAS_HEADERS.iter()).enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.merge_range(1, 0, 3, 0, "TR-M", &Format::new()).unwrap();
    for r in 1..=3u32 {
        put(ws, r, 1, &D(2022 + r as i32, 1, 1));
        for (c, v) in gases(10.0 * f64::from(r)).iter().enumerate() {
            put(ws, r, 2 + c as u16, v);
        }
    }
    let p = read(&wb.save_to_buffer().unwrap());
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.assets.len(), 1);
    assert_eq!(p.assets[0].samples.len(), 3);
}

#[test]
fn each_kind_of_row_error_names_sheet_row_column_value_and_reason() {
    let rows = vec![
        header(&["Asset", "Date"]),
        row(vec![T("OK"), T("2024-01-01")], 10.0),
        row(vec![T("NEG"), T("2024-01-01")], -5.0),
        row(vec![T("TXT"), T("2024-01-01")], 1.0),
        row(vec![T("DATE"), T("2023-02-30")], 1.0),
        row(vec![E, T("2024-01-01")], 1.0),
        row(vec![T("BIG"), T("2024-01-01")], 5e6),
        row(vec![T("OK"), T("2024-01-01")], 11.0),
        row(vec![T("NODATE"), E], 1.0),
    ];
    let mut rows = rows;
    rows[3][3] = T("abc");
    for (sheet, p) in both("Samples", &rows) {
        let got: Vec<(u32, Option<&str>, Option<&str>)> =
            p.rejected.iter().map(|e| (e.row, e.column_letter.as_deref(), e.value.as_deref())).collect();
        assert_eq!(
            got,
            [
                (3, Some("C"), Some("-5")),
                (4, Some("D"), Some("abc")),
                (5, Some("B"), Some("2023-02-30")),
                (6, Some("A"), None),
                (7, Some("C"), Some("5000000")),
                (8, None, Some("OK")),
                (9, Some("B"), None),
            ]
        );
        let reasons: Vec<&str> = p.rejected.iter().map(|e| e.reason.as_str()).collect();
        assert!(reasons[0].contains("negative"));
        assert!(reasons[1].contains("not a number"));
        assert!(reasons[2].contains("impossible date"));
        assert!(reasons[3].contains("sample without asset"));
        assert!(reasons[4].contains("impossible"));
        assert!(reasons[5].contains("duplicate sample"));
        assert!(reasons[6].contains("no sample date"));
        let at = if sheet == "Samples" { "sheet 'Samples', row" } else { "line" };
        assert_eq!(
            p.rejected[0].to_string(),
            format!("{at} 3, column C 'H2': '-5' is negative; a concentration cannot be below 0 ppm")
        );
        assert_eq!(p.rejected[2].to_string(), format!("{at} 5, column B 'Date': '2023-02-30' is an impossible date"));
        conserved(&p);
    }
}

#[test]
fn whole_file_rejections_say_why() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "empty"),
        (
            b"asset,H2\nTR-1,5\n".to_vec(),
            "line 1: the header has no column for CH4, C2H6, C2H4, C2H2 (required: H2, CH4, C2H6, C2H4, C2H2)",
        ),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "not a spreadsheet"),
        (b"PK\x03\x04garbage that is not a zip".to_vec(), "zip archive but not a readable workbook"),
        (book(&[("Notes", vec![vec![T("Nothing to see")]])]), "no sheet has a header naming the gases"),
        (book(&[("S", vec![header(&["Asset", "Date"])])]), "no data rows"),
        (
            book(&[("S", vec![vec![T("Asset"), T("H2"), T("CH4"), T("C2H6")], vec![T("X"), N(1.0), N(1.0), N(1.0)]])]),
            "no column for C2H4, C2H2",
        ),
    ];
    for (bytes, expected) in cases {
        let e = read_err(&bytes);
        assert_eq!(e.error_type(), "WorkbookInvalid", "{e}");
        assert!(e.to_string().starts_with("fleet.xlsx: "), "{e}");
        assert!(e.reason().contains(expected), "{expected}: {e}");
    }
}

#[test]
fn an_encrypted_workbook_is_told_apart_from_a_legacy_xls() {
    // An encrypted .xlsx is an OLE container holding "EncryptionInfo" and "EncryptedPackage".
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend(std::iter::repeat_n(0u8, 504));
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    let e = read_err(&ole);
    assert!(e.reason().contains("password-protected"), "{e}");
    // Without those streams it is taken as a legacy .xls, and a broken one says so.
    let e = read_err(&ole[..512]);
    assert!(e.reason().contains("not a readable .xls"), "{e}");
}

#[test]
fn guards_answer_input_too_large() {
    let rows = vec![header(&["Asset", "Date"]), row(vec![T("A"), T("2024-01-01")], 1.0)];
    let bytes = book(&[("S", rows.clone())]);
    let small = Limits { max_file_bytes: 100, ..Limits::default() };
    let e = read_workbook(&bytes, "f.xlsx", &small).unwrap_err();
    assert_eq!(e.error_type(), "InputTooLarge");

    let mut many = rows.clone();
    for i in 0..20 {
        many.push(row(vec![S(format!("A{i}")), T("2024-01-01")], 1.0));
    }
    let few_rows = Limits { max_rows: 10, ..Limits::default() };
    let e = read_workbook(&book(&[("S", many)]), "f.xlsx", &few_rows).unwrap_err();
    assert!(e.to_string().contains("more than 10 rows"), "{e}");

    // The calamine trap: a tiny file whose used range claims A1:XFD1048576.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "x").unwrap();
    ws.write_string(1_048_575, 16_383, "y").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    assert!(bytes.len() < 10_000);
    let e = read_workbook(&bytes, "f.xlsx", &Limits::default()).unwrap_err();
    assert_eq!(e.error_type(), "InputTooLarge");
    assert!(e.reason().contains("claims 1048576 rows × 16384 columns"), "{e}");
}

#[test]
fn items_keep_the_most_recent_samples_and_stay_small() {
    let mut rows = vec![header(&["Asset", "Date"])];
    let start = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
    for i in 0..400 {
        let d = start + chrono::Duration::days(30 * i);
        rows.push(row(vec![T("OLD"), S(d.to_string())], 10.0 + i as f64));
    }
    let p = read(&book(&[("S", rows)]));
    let a = &p.assets[0];
    assert_eq!((a.samples.len(), a.samples_omitted), (120, 280));
    assert_eq!(a.samples.last().unwrap().sample.h2_ppm, GasReading::Measured(409.0));
    let json = serde_json::to_string(a).unwrap();
    assert!(json.len() < 64 * 1024, "item is {} bytes", json.len());
    let back: workbook::AssetItem = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, a);
    conserved(&p);
}

#[test]
fn generated_fleets_conserve_every_row() {
    for (layout, seed) in [(Layout::OneSheet, 3), (Layout::TwoSheet, 4)] {
        let opts =
            workbook::sample::SampleOptions { assets: 300, samples_per_asset: 5, seed, layout, with_mistakes: true };
        let p = read(&workbook::sample::write_fleet(&opts).unwrap());
        assert_eq!(p.layout, layout);
        assert_eq!(p.counts.rows_read, 1501); // 1500 samples and the trailing average row
        assert!(p.counts.rows_rejected > 0, "the mistakes should be caught");
        assert!(p.counts.rows_skipped >= 1);
        conserved(&p);
        // The same seed gives the same workbook content.
        let again = read(&workbook::sample::write_fleet(&opts).unwrap());
        assert_eq!(again.assets, p.assets);
    }
}

/// A typo in the newest sample: the row is rejected, and the asset's item says that a newer
/// row was lost (so the diagnosis can warn that its verdict rests on an older sample). Older
/// rejected rows do not warn; a row whose date cannot be read might be the newest, so it does.
#[test]
fn a_rejected_newer_sample_travels_with_its_asset() {
    let mut typo = row(vec![T("TR-1"), D(2024, 6, 1)], 12.0);
    typo[3] = T("5,5.1"); // CH4
    let mut old_typo = row(vec![T("TR-2"), D(2022, 1, 1)], 12.0);
    old_typo[2] = T("x");
    let undated = row(vec![T("TR-2"), T("soon")], 9.0);
    let rows = vec![
        header(&["Asset", "Sample date"]),
        row(vec![T("TR-1"), D(2023, 1, 10)], 10.0),
        row(vec![T("TR-1"), D(2024, 1, 10)], 11.0),
        typo,
        row(vec![T("TR-2"), D(2024, 3, 1)], 30.0),
        old_typo,
        undated,
    ];
    let p = read(&book(&[("DGA", rows)]));
    conserved(&p);
    assert_eq!(p.counts.rows_rejected, 3);
    let tr1 = p.assets.iter().find(|a| a.asset_id == "TR-1").unwrap();
    assert_eq!(tr1.rejected_samples.len(), 1, "{:?}", tr1.rejected_samples);
    let r = &tr1.rejected_samples[0];
    assert_eq!((r.sheet.as_str(), r.row, r.sampled_on), ("DGA", 4, NaiveDate::from_ymd_opt(2024, 6, 1)));
    assert!(r.reason.contains("CH4") && r.reason.contains("5,5.1"), "{}", r.reason);
    let w = tr1.warnings();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].code, "newest_sample_rejected");
    assert!(w[0].text.contains("rests on the sample of 2024-01-10 (sheet 'DGA', row 3)"), "{}", w[0].text);
    assert_eq!((w[0].rows[0].sheet.as_deref(), w[0].rows[0].row), (Some("DGA"), Some(4)));
    let tr2 = p.assets.iter().find(|a| a.asset_id == "TR-2").unwrap();
    let rows: Vec<u32> = tr2.rejected_samples.iter().map(|r| r.row).collect();
    assert_eq!(rows, [7], "the 2022 typo is older than the latest sample; the undated row may be newer");
    // The item still round-trips with the new field.
    let back: workbook::AssetItem = serde_json::from_value(serde_json::to_value(tr1).unwrap()).unwrap();
    assert_eq!(&back, tr1);
}
