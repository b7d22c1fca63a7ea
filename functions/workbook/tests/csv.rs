//! CSV files as engineers' labs and Excels write them, in every locale, read by the workbook
//! reader: the exports are made here byte for byte (separator, decimal mark, encoding, BOM), and
//! each is read right or refused with a reason that says how to fix it. And the rules that keep
//! `1.250` from ever being read as 1.25 or 1250 without evidence, in CSV and in workbooks.

use chrono::NaiveDate;
use dga::{Gas, GasReading};
use rust_xlsxwriter::Workbook;
use workbook::{Limits, ParsedWorkbook, RowError, WorkbookError, read_workbook};

fn read(bytes: &[u8], name: &str) -> ParsedWorkbook {
    read_workbook(bytes, name, &Limits::default()).unwrap()
}

fn read_err(bytes: &[u8], name: &str) -> WorkbookError {
    read_workbook(bytes, name, &Limits::default()).unwrap_err()
}

fn conserved(p: &ParsedWorkbook) {
    let c = p.counts;
    assert_eq!(c.rows_read, c.samples_accepted + c.rows_rejected + c.rows_skipped, "{c:?}");
    let rows: std::collections::BTreeSet<u32> = p.rejected.iter().map(|e| e.row).collect();
    assert_eq!(rows.len() as u64, c.rows_rejected, "{:?}", p.rejected);
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn gas(p: &ParsedWorkbook, asset: &str, g: Gas) -> GasReading {
    let a = p.assets.iter().find(|a| a.asset_id == asset).unwrap_or_else(|| panic!("{asset}: {:?}", p.assets));
    a.samples.last().unwrap().sample.get(g)
}

fn rejected_at(p: &ParsedWorkbook, row: u32) -> &RowError {
    p.rejected.iter().find(|e| e.row == row).unwrap_or_else(|| panic!("row {row}: {:?}", p.rejected))
}

/// What a German Excel writes with "CSV UTF-8": a BOM, `;`, decimal commas, `1.250` for 1250,
/// `17.05.2023` dates.
#[test]
fn a_european_export() {
    let text = "Umspannwerk;Asset ID;Probenahme;Wasserstoff (ppm);CH4;C2H6;C2H4;C2H2;CO;CO2\r\n\
                Nord;TR-1;17.05.2023;12,5;3,2;1;0,8;<0,5;250;1.250\r\n\
                Nord;TR-1;03.11.2023;20,5;4;1,5;1;n.n.;300;2.310,5\r\n\
                Süd;TR-2;03.11.2023;1.250;10;5;2;0;400;3.100\r\n";
    let bytes = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    let p = read(&bytes, "uploads/Labor Export.csv");
    assert_eq!(p.counts.samples_accepted, 3, "{:?}", p.rejected);
    let tr1 = &p.assets[0];
    assert_eq!(tr1.asset_id, "TR-1");
    assert_eq!(tr1.samples[0].sample.sampled_on, date(2023, 5, 17));
    assert_eq!(tr1.samples[0].sample.h2_ppm, GasReading::Measured(12.5));
    assert_eq!(tr1.samples[0].sample.c2h2_ppm, GasReading::BelowDetection { limit_ppm: Some(0.5) });
    assert_eq!(tr1.samples[0].sample.co2_ppm, GasReading::Measured(1250.0));
    assert_eq!(gas(&p, "TR-1", Gas::CO2), GasReading::Measured(2310.5));
    // `1.250` in the H2 column: the column's `12,5` and `20,5` show that its decimal mark is the
    // comma, so the point separates thousands; the reader says so once.
    assert_eq!(gas(&p, "TR-2", Gas::H2), GasReading::Measured(1250.0));
    assert!(
        p.warnings.iter().any(|w| w
            == "line 4, column D 'Wasserstoff (ppm)': '1.250' read as 1250: the column's other cells write decimals with a comma (line 2: '12,5')"),
        "{:?}",
        p.warnings
    );
    // The sheet is the file, its rows the file's lines.
    assert_eq!((tr1.samples[0].sheet.as_str(), tr1.samples[0].row), ("Labor Export.csv", 2));
    conserved(&p);
}

/// What an older Excel writes as "CSV (Comma delimited)" on Windows: Windows-1252, `µ` in a
/// header, accents in names.
#[test]
fn a_windows_1252_export() {
    let mut bytes = Vec::new();
    bytes.extend(
        b"Asset ID,Substation,Sample date,H2 (\xB5L/L),CH4 (\xB5L/L),C2H6 (\xB5L/L),C2H4 (\xB5L/L),C2H2 (\xB5L/L)\r\n",
    );
    bytes.extend(b"T-1,Bj\xF6rkliden,2024-02-01,15,4,2,1,0\r\n");
    bytes.extend(b"T-2,Cr\xE9teil,2024-02-01,\"1,250\",4,2,1,0\r\n");
    assert!(std::str::from_utf8(&bytes).is_err());
    let p = read(&bytes, "fleet.csv");
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.assets[0].substation.as_deref(), Some("Björkliden"));
    assert_eq!(p.assets[1].substation.as_deref(), Some("Créteil"));
    assert_eq!(gas(&p, "T-1", Gas::H2), GasReading::Measured(15.0));
    // A comma-separated file cannot hold unquoted decimal commas: its decimal mark is the point.
    assert_eq!(gas(&p, "T-2", Gas::H2), GasReading::Measured(1250.0));
    assert!(p.warnings.iter().any(|w| w.contains("separated by ','")), "{:?}", p.warnings);
}

/// A US export: `m/d/yyyy`. `5/17/2023` can only be month-first, so the column's `1/2/2023` is
/// 2 January; all 15 rows are read.
#[test]
fn a_us_export_with_month_first_dates() {
    let mut text = String::from("Asset,Sampled,H2,CH4,C2H6,C2H4,C2H2\n");
    for i in 0..14u32 {
        text.push_str(&format!("TR-{i},{}/{}/2023,10,5,4,3,0\n", 1 + i % 12, 1 + i % 9));
    }
    text.push_str("TR-99,5/17/2023,10,5,4,3,0\n");
    let p = read(text.as_bytes(), "us.csv");
    assert_eq!(p.counts.samples_accepted, 15, "{:?}", p.rejected);
    let tr1 = p.assets.iter().find(|a| a.asset_id == "TR-1").unwrap();
    assert_eq!(tr1.samples[0].sample.sampled_on, date(2023, 2, 2));
    let tr3 = p.assets.iter().find(|a| a.asset_id == "TR-3").unwrap();
    assert_eq!(tr3.samples[0].sample.sampled_on, date(2023, 4, 4));
    let tr4 = p.assets.iter().find(|a| a.asset_id == "TR-4").unwrap();
    assert_eq!(tr4.samples[0].sample.sampled_on, date(2023, 5, 5));
    let tr5 = p.assets.iter().find(|a| a.asset_id == "TR-5").unwrap();
    assert_eq!(tr5.samples[0].sample.sampled_on, date(2023, 6, 6));
    let tr7 = p.assets.iter().find(|a| a.asset_id == "TR-7").unwrap();
    assert_eq!(tr7.samples[0].sample.sampled_on, date(2023, 8, 8));
    let tr10 = p.assets.iter().find(|a| a.asset_id == "TR-10").unwrap();
    assert_eq!(tr10.samples[0].sample.sampled_on, date(2023, 11, 2), "month first: 11/2/2023");
    assert!(p.warnings.iter().any(|w| w.contains("month-first (line 16: '5/17/2023')")), "{:?}", p.warnings);
    conserved(&p);
}

/// A lab system's tab-separated export: a title line, markers, Korean headers.
#[test]
fn a_tab_separated_lab_export() {
    let text = "DGA report\tLab 7\n\
                \n\
                설비번호\t채취일\t수소\t메탄\t에탄\t에틸렌\t아세틸렌\n\
                T-101\t2024.03.05\t20\t6\t4,5\t2\tND\n\
                T-102\t2024.03.05\t<5\t6\t4\t2\t-\n";
    let p = read(text.as_bytes(), "lab.tsv");
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.assets.len(), 2);
    assert_eq!(p.assets[0].samples[0].sample.sampled_on, date(2024, 3, 5));
    assert_eq!(gas(&p, "T-101", Gas::C2H6), GasReading::Measured(4.5));
    assert_eq!(gas(&p, "T-101", Gas::C2H2), GasReading::BelowDetection { limit_ppm: None });
    assert_eq!(gas(&p, "T-102", Gas::H2), GasReading::BelowDetection { limit_ppm: Some(5.0) });
    assert_eq!(p.assets[0].samples[0].row, 4);
    // Lines 4 and 5 are read; the blank line 2 is before the header.
    assert_eq!((p.counts.rows_read, p.counts.samples_accepted), (2, 2));
}

/// UTF-16 with its BOM (Excel's "Unicode text") is read; bytes that are no text are refused
/// with how to save the file.
#[test]
fn encodings_read_and_refused() {
    let text = "Asset\tH2\tCH4\tC2H6\tC2H4\tC2H2\r\nT1\t1\t2\t3\t4\t5\r\n";
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let p = read(&utf16, "unicode.txt");
    assert_eq!(gas(&p, "T1", Gas::C2H2), GasReading::Measured(5.0));

    let without_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    for bytes in [without_bom, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()] {
        let e = read_err(&bytes, "x.csv");
        assert_eq!(
            e.reason(),
            "not a spreadsheet: the content is neither an Excel or OpenDocument workbook nor text in UTF-8, UTF-16 or \
             Windows-1252. In Excel, use File > Save As and choose 'Excel Workbook (*.xlsx)' or 'CSV UTF-8 (Comma \
             delimited) (*.csv)'"
        );
    }
}

/// Without an asset id column each row is a transformer of its own, named by its line, and
/// needs no date (what `diagnose --csv` always did).
#[test]
fn a_gases_only_csv_is_one_asset_per_row() {
    let text = "H2,CH4,C2H6,C2H4,C2H2\n100,50,10,80,1\n\n5,2,1,1,0\nx,1,1,1,1\n";
    let p = read(text.as_bytes(), "gases.csv");
    let ids: Vec<(&str, u32, bool)> =
        p.assets.iter().map(|a| (a.asset_id.as_str(), a.samples[0].row, a.anonymous)).collect();
    assert_eq!(ids, [("line 2", 2, true), ("line 4", 4, true)]);
    assert_eq!(p.rejected[0].to_string(), "line 5, column A 'H2': 'x' is not a number");
    assert!(p.warnings.iter().any(|w| w.starts_with("the file has no asset id column")), "{:?}", p.warnings);
    // Lines 2-5: two samples, one rejected, the blank line skipped.
    assert_eq!(
        (p.counts.rows_read, p.counts.samples_accepted, p.counts.rows_rejected, p.counts.rows_skipped),
        (4, 2, 1, 1)
    );
    conserved(&p);
}

/// A workbook sheet without an asset id column means the same: one transformer per row, named by
/// its sheet and row.
#[test]
fn a_gases_only_sheet_is_one_asset_per_row() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Lab").unwrap();
    for (c, h) in ["H2", "CH4", "C2H6", "C2H4", "C2H2"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
        ws.write_number(1, c as u16, 10.0).unwrap();
        ws.write_number(2, c as u16, 20.0).unwrap();
    }
    let p = read(&wb.save_to_buffer().unwrap(), "lab.xlsx");
    let ids: Vec<(&str, bool)> = p.assets.iter().map(|a| (a.asset_id.as_str(), a.anonymous)).collect();
    assert_eq!(ids, [("Lab row 2", true), ("Lab row 3", true)]);
    assert!(p.warnings.iter().any(|w| w.starts_with("sheet 'Lab' has no asset id column")), "{:?}", p.warnings);
    conserved(&p);
}

/// A line with a field too many (an unquoted decimal comma in a comma file) or cut short is
/// rejected: its values are not under their headers.
#[test]
fn lines_whose_values_are_not_under_their_headers() {
    let text = "Asset,H2,CH4,C2H6,C2H4,C2H2\nT1,12,5,3,2,1,0\nT2,1,2\nT3,1,2,3,4,5\n";
    let p = read(text.as_bytes(), "f.csv");
    assert_eq!(
        rejected_at(&p, 2).to_string(),
        "line 2: the line has 7 fields but the header has 6 (a decimal comma in a comma-separated file? put such \
         values in quotes, or save the file with ';' as the separator)"
    );
    assert_eq!(rejected_at(&p, 3).reason, "the line has 3 fields but the header has 6 (is the line cut short?)");
    assert_eq!(p.counts.samples_accepted, 1);
    conserved(&p);
}

/// The header beyond the rows searched: the message says how far it looked and where the gas
/// names are.
#[test]
fn a_header_further_down_is_pointed_at() {
    let mut text = String::new();
    for i in 1..40 {
        text.push_str(&format!("note {i}\n"));
    }
    text.push_str("Asset,H2,CH4,C2H6,C2H4,C2H2\nT1,1,2,3,4,5\n");
    let e = read_err(text.as_bytes(), "late.csv");
    assert_eq!(
        e.reason(),
        "no header naming the gases (H2, CH4, C2H6, C2H4, C2H2) in the first 30 lines (read as UTF-8 text separated \
         by ','); gas names appear further down, on line 40: delete the rows above the header, or move the header up"
    );
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Data").unwrap();
    for (c, h) in ["Asset", "H2", "CH4", "C2H6", "C2H4", "C2H2"].iter().enumerate() {
        ws.write_string(39, c as u16, *h).unwrap();
    }
    ws.write_string(0, 0, "Exported 2024-01-01").unwrap();
    let e = read_err(&wb.save_to_buffer().unwrap(), "late.xlsx");
    assert_eq!(
        e.reason(),
        "no sheet has a header naming the gases (H2, CH4, C2H6, C2H4, C2H2) in its first 30 rows; gas names appear \
         further down, on sheet 'Data', row 40: delete the rows above the header, or move the header up"
    );
    // Nothing further down: the other message.
    let e = read_err(b"just,some\ntext,here\n", "notes.csv");
    assert!(e.reason().ends_with(": is this a DGA file? `substation template` writes a workbook to fill in"), "{e}");
}

// The rules for a `1.250`: one test each. What decides is, in order, the column's other cells,
// the other gas columns, the CSV separator; with none of them the cell is rejected, and saying
// what to write.

const H: &str = "Asset\tH2\tCH4\tC2H6\tC2H4\tC2H2\n";

fn tab(rows: &[&str]) -> ParsedWorkbook {
    let text = std::iter::once(H.to_owned()).chain(rows.iter().map(|r| format!("{r}\n"))).collect::<String>();
    read(text.as_bytes(), "lab.tsv")
}

#[test]
fn rule_the_columns_decimal_comma_makes_the_point_a_thousands_separator() {
    let p = tab(&["A\t1.250\t1\t1\t1\t1", "B\t12,5\t1\t1\t1\t1"]);
    assert_eq!(gas(&p, "A", Gas::H2), GasReading::Measured(1250.0));
}

#[test]
fn rule_the_columns_decimal_point_makes_the_point_decimal() {
    let p = tab(&["A\t1.250\t1\t1\t1\t1", "B\t12.5\t1\t1\t1\t1"]);
    assert_eq!(gas(&p, "A", Gas::H2), GasReading::Measured(1.25));
    // And a comma with three digits is then a thousands separator.
    let p = tab(&["A\t1,250\t1\t1\t1\t1", "B\t0.5\t1\t1\t1\t1"]);
    assert_eq!(gas(&p, "A", Gas::H2), GasReading::Measured(1250.0));
}

#[test]
fn rule_the_other_gas_columns_decide_when_the_column_cannot() {
    let p = tab(&["A\t1.250\t3,5\t1\t1\t1"]);
    assert_eq!(gas(&p, "A", Gas::H2), GasReading::Measured(1250.0));
    assert!(
        p.warnings.iter().any(|w| w.contains("the other gas columns write decimals with a comma (line 2: '3,5')")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn rule_the_csv_separator_decides_when_no_cell_can() {
    let semicolon = read(b"Asset;H2;CH4;C2H6;C2H4;C2H2\nA;1.250;1;1;1;1\n", "eu.csv");
    assert_eq!(gas(&semicolon, "A", Gas::H2), GasReading::Measured(1250.0));
    let comma = read(b"Asset,H2,CH4,C2H6,C2H4,C2H2\nA,1.250,1,1,1,1\n", "us.csv");
    assert_eq!(gas(&comma, "A", Gas::H2), GasReading::Measured(1.25));
}

#[test]
fn rule_without_evidence_the_cell_is_rejected_with_what_to_write() {
    let p = tab(&["A\t1.250\t1\t1\t1\t1", "B\t7\t1\t1\t1\t1"]);
    assert_eq!(
        rejected_at(&p, 2).to_string(),
        "line 2, column B 'H2': '1.250' could be 1.25 ('.' as the decimal mark) or 1250 ('.' separating thousands), \
         and nothing else in the file shows which: write 1.25 or 1250, without a thousands separator"
    );
    assert_eq!(p.counts.samples_accepted, 1);
    conserved(&p);
}

#[test]
fn rule_a_column_that_writes_decimals_both_ways_decides_nothing() {
    let p = tab(&["A\t1.250\t1\t1\t1\t1", "B\t12,5\t1\t1\t1\t1", "C\t0.5\t1\t1\t1\t1"]);
    assert!(
        rejected_at(&p, 2).reason.contains(
            "the column's other cells write decimals both with a point (line 4: '0.5') and with a comma (line 3: '12,5')"
        ),
        "{:?}",
        p.rejected
    );
    assert_eq!(p.counts.samples_accepted, 2);
}

fn xlsx(cells: &[(&str, &str)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Samples").unwrap();
    for (c, h) in ["Asset", "Date", "H2", "CH4", "C2H6", "C2H4", "C2H2"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (h2, date)) in cells.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, "TR-1").unwrap();
        ws.write_string(r, 1, *date).unwrap();
        ws.write_string(r, 2, *h2).unwrap();
        for c in 3..7 {
            ws.write_number(r, c, 1.0).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

/// The walkthrough: the text cell `1.250` in a workbook was read as 1.25 ppm, and made a 388.75
/// ppm "increase" out of a healthy unit. Now nothing in the workbook says which it is: rejected.
/// The text `20,5` is a decimal comma, read.
#[test]
fn rule_text_cells_in_a_workbook_follow_the_same_rules() {
    let p = read(&xlsx(&[("390", "2023-01-10"), ("1.250", "2023-06-10")]), "fleet.xlsx");
    assert_eq!(
        rejected_at(&p, 3).to_string(),
        "sheet 'Samples', row 3, column C 'H2': '1.250' could be 1.25 ('.' as the decimal mark) or 1250 ('.' \
         separating thousands), and nothing else in the file shows which: write 1.25 or 1250, without a thousands \
         separator"
    );
    assert_eq!(p.assets[0].samples.len(), 1);
    let p = read(&xlsx(&[("20,5", "2023-01-10"), ("1.250", "2023-06-10")]), "fleet.xlsx");
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    let h2: Vec<GasReading> = p.assets[0].samples.iter().map(|s| s.sample.h2_ppm).collect();
    assert_eq!(h2, [GasReading::Measured(20.5), GasReading::Measured(1250.0)]);
}

// Dates: the day/month order is decided per column from its data.

#[test]
fn an_ambiguous_date_column_is_refused_with_the_reason() {
    let p = read(&xlsx(&[("10", "05/06/2023"), ("11", "07/08/2023")]), "fleet.xlsx");
    assert_eq!(p.counts.samples_accepted, 0);
    assert_eq!(
        rejected_at(&p, 2).to_string(),
        "sheet 'Samples', row 2, column B 'Date': '05/06/2023' could be 5 June 2023 (day first) or 6 May 2023 (month \
         first), and no other date in the column shows whether the day or the month comes first: write dates as \
         YYYY-MM-DD"
    );
    conserved(&p);
}

#[test]
fn a_day_first_date_decides_the_column() {
    let p = read(&xlsx(&[("10", "05/06/2023"), ("11", "17/08/2023")]), "fleet.xlsx");
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    let dates: Vec<_> = p.assets[0].samples.iter().map(|s| s.sample.sampled_on).collect();
    assert_eq!(dates, [date(2023, 6, 5), date(2023, 8, 17)]);
}

#[test]
fn a_column_with_both_orders_decides_nothing() {
    let p = read(&xlsx(&[("10", "05/06/2023"), ("11", "17/08/2023"), ("12", "8/17/2024")]), "fleet.xlsx");
    assert_eq!(p.counts.samples_accepted, 2);
    assert!(
        rejected_at(&p, 2)
            .reason
            .contains("the column has both day-first (row 3: '17/08/2023') and month-first (row 4: '8/17/2024') dates"),
        "{:?}",
        p.rejected
    );
}

/// What the second reader found: an empty field too many is still a shifted line; a lone CR
/// (old Mac) ends a line; a UTF-8 file with one broken byte is not read as Windows-1252; a
/// two-sheet workbook whose samples have no asset id is refused; a header with two gases names
/// the missing ones.
#[test]
fn lines_bytes_and_headers_that_would_mislead() {
    let p = read(b"Asset,H2,CH4,C2H6,C2H4,C2H2\nT1,1,5,2,3,4,\nT2,1,2,3,4,5\n", "f.csv");
    assert!(rejected_at(&p, 2).reason.starts_with("the line has 7 fields but the header has 6"), "{:?}", p.rejected);
    assert_eq!(p.counts.samples_accepted, 1);

    let p = read(b"Asset;H2;CH4;C2H6;C2H4;C2H2\rT1;1;2;3;4;5\rT2;6;7;8;9;10\r", "mac.csv");
    let rows: Vec<(&str, u32)> = p.assets.iter().map(|a| (a.asset_id.as_str(), a.samples[0].row)).collect();
    assert_eq!(rows, [("T1", 2), ("T2", 3)]);
    conserved(&p);

    let e = read_err(b"Asset,H2,CH4,C2H6,C2H4,C2H2\nT\xC3\xA9,1,2,3,4,5\nT\xE9,1,2,3,4,5\n", "mixed.csv");
    assert!(e.reason().starts_with("the file is UTF-8 text but line 3 holds a byte that is not UTF-8"), "{e}");

    let mut wb = Workbook::new();
    let assets = wb.add_worksheet().set_name("Assets").unwrap();
    assets.write_string(0, 0, "Asset ID").unwrap();
    assets.write_string(0, 1, "Substation").unwrap();
    assets.write_string(1, 0, "T1").unwrap();
    let samples = wb.add_worksheet().set_name("Samples").unwrap();
    for (c, h) in ["H2", "CH4", "C2H6", "C2H4", "C2H2"].iter().enumerate() {
        samples.write_string(0, c as u16, *h).unwrap();
        samples.write_number(1, c as u16, 1.0).unwrap();
    }
    let e = read_err(&wb.save_to_buffer().unwrap(), "two.xlsx");
    assert_eq!(
        e.reason(),
        "sheet 'Samples' has no asset id column (e.g. 'Asset ID'), so its samples cannot be joined to the transformers of sheet 'Assets'"
    );

    let e = read_err(b"asset_id,H2,CH4\nTR-1,1,2\n", "two.csv");
    assert_eq!(
        e.reason(),
        "line 1: the header has no column for C2H6, C2H4, C2H2 (required: H2, CH4, C2H6, C2H4, C2H2)"
    );
}

/// A deferred row (a cell with two readings) is joined in its row's place: of two samples of one
/// asset on one date the first row stays.
#[test]
fn a_deferred_row_keeps_its_place() {
    let p = tab(&["A\t1.250\t1,5\t1\t1\t1", "A\t12,5\t1\t1\t1\t1"]);
    // Undated: the later row is the latest sample.
    let h2: Vec<GasReading> = p.assets[0].samples.iter().map(|s| s.sample.h2_ppm).collect();
    assert_eq!(h2, [GasReading::Measured(1250.0), GasReading::Measured(12.5)]);
}
