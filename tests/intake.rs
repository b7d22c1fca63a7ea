//! The files an engineer has, given to the commands as a new user would: European and Windows
//! CSV exports, US dates, text numbers in a workbook, the wrong flag for the file, a header far
//! down. Each is read right, or refused once, in words that lead somewhere: no internal path,
//! no error type name.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn substation() -> Command {
    let mut cmd = Command::cargo_bin("substation").unwrap();
    cmd.env_remove(dga::THRESHOLDS_ENV);
    cmd
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], file: &Path) -> Out {
    let o = substation().args(args).arg(file).output().unwrap();
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn records(o: &Out) -> Vec<Value> {
    o.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn for_people(o: &Out) {
    let all = format!("{}{}", o.stdout, o.stderr);
    for internal in ["uploads/", "WorkbookInvalid", "InputTooLarge", "invalid UTF-8", "caused by"] {
        assert!(!all.contains(internal), "'{internal}' in a message for people:\n{all}");
    }
}

/// What a German Excel saves as CSV: a BOM, `;`, decimal commas.
const EUROPEAN: &str = "\u{feff}Asset ID;Probenahme;H2;CH4;C2H6;C2H4;C2H2\r\n\
                        TR-1;17.05.2023;12,5;3,2;1;0,8;0\r\n\
                        TR-1;03.11.2023;20,5;4;1,5;1;0\r\n";

#[test]
fn a_european_csv_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, EUROPEAN).unwrap();
    let o = run(&["diagnose", "--json", "--csv"], &file);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let r = records(&o);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0]["asset_id"].as_str(), r[0]["samples"].as_u64()), (Some("TR-1"), Some(2)));
    assert_eq!(r[0]["history"][1]["sample"]["h2_ppm"], 20.5);
}

/// `substation run` on the same export: the summary notes how the file decided a `1.250`.
#[test]
fn a_run_notes_how_a_value_of_two_readings_was_decided() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, format!("{EUROPEAN}TR-2;03.11.2023;1.250;10;5;2;0\r\n")).unwrap();
    let out = dir.path().join("data");
    let o = run(&["run", "--no-history", "--out", out.to_str().unwrap()], &file);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    for_people(&o);
    assert!(o.stdout.contains("note: line 4, column C 'H2': '1.250' read as 1250"), "{}", o.stdout);
    let o = run(&["run", "--json", "--no-history", "--out", out.to_str().unwrap()], &file);
    let summary: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(
        summary["workbook_warnings"][0],
        "line 4, column C 'H2': '1.250' read as 1250: the column's other cells write decimals with a comma (line 2: '12,5')"
    );
}

#[test]
fn a_windows_1252_csv_is_read_and_its_bad_row_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.csv");
    let mut bytes = b"Asset ID,Station,H2 (\xB5L/L),CH4,C2H6,C2H4,C2H2\r\n".to_vec();
    bytes.extend(b"T-1,Bj\xF6rkliden,15,4,2,1,0\r\nT-2,Cr\xE9teil,x,4,2,1,0\r\n");
    std::fs::write(&file, bytes).unwrap();
    let o = run(&["diagnose", "--csv"], &file);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    for_people(&o);
    assert_eq!(o.stderr.matches("'x' is not a number").count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("rejected: line 3, column C 'H2 (µL/L)': 'x' is not a number"), "{}", o.stderr);
    assert!(o.stdout.contains("T-1"), "{}", o.stdout);
}

#[test]
fn us_dates_are_read_month_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("us.csv");
    let mut text = String::from("Asset,Sample date,H2,CH4,C2H6,C2H4,C2H2\n");
    for i in 1..=15u32 {
        text.push_str(&format!("TR-{i},{}/{}/2023,10,5,4,3,0\n", 1 + i % 12, 10 + i));
    }
    std::fs::write(&file, text).unwrap();
    let o = run(&["diagnose", "--json", "--csv"], &file);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(records(&o).len(), 15);
}

fn text_workbook(file: &Path, rows: &[(&str, &str, &str)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Samples").unwrap();
    for (c, h) in ["Asset", "Date", "H2", "CH4", "C2H6", "C2H4", "C2H2"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (asset, date, h2)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, *asset).unwrap();
        ws.write_string(r, 1, *date).unwrap();
        ws.write_string(r, 2, *h2).unwrap();
        for c in 3..7 {
            ws.write_number(r, c, 1.0).unwrap();
        }
    }
    wb.save(file).unwrap();
}

/// The walkthrough's workbook: the text cell `1.250` was read as 1.25 ppm (a 388.75 ppm
/// "increase"); nothing in it says which it is, so it is refused. Beside a `20,5` it is 1250.
#[test]
fn text_numbers_in_a_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xlsx");
    text_workbook(&file, &[("A", "2023-01-10", "390"), ("A", "2023-06-10", "1.250")]);
    let o = run(&["validate"], &file);
    assert_eq!(o.code, Some(1));
    for_people(&o);
    assert!(
        o.stdout.contains("rejected: sheet 'Samples', row 3, column C 'H2': '1.250' could be 1.25"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("2 sample rows read: 1 accepted, 1 rejected"), "{}", o.stdout);
    let v: Value = serde_json::from_str(&run(&["validate", "--json"], &file).stdout).unwrap();
    assert_eq!(
        v["errors"][0]["reason"],
        "could be 1.25 ('.' as the decimal mark) or 1250 ('.' separating thousands), and nothing else in the file \
         shows which: write 1.25 or 1250, without a thousands separator"
    );

    text_workbook(&file, &[("A", "2023-01-10", "390"), ("A", "2023-06-10", "1.250"), ("B", "2023-06-10", "20,5")]);
    let o = run(&["diagnose", "--json", "--workbook"], &file);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let a = records(&o).into_iter().find(|r| r["asset_id"] == "A").unwrap();
    assert_eq!(a["history"][1]["sample"]["h2_ppm"], 1250.0);
    // Wrapped to the terminal: compared word by word.
    let words = o.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("'1.250' read as 1250: the column's other cells write decimals with a comma (row 4: '20,5')"),
        "{}",
        o.stderr
    );
}

/// The flag names the other kind of file: the reader takes the file for what it is.
#[test]
fn either_flag_reads_either_kind_of_file() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, EUROPEAN).unwrap();
    let o = run(&["diagnose", "--json", "--workbook"], &csv);
    assert_eq!((o.code, records(&o).len()), (Some(0), 1), "{}", o.stderr);
    let o = run(&["diagnose", "--json", "--csv"], Path::new("examples/fleet-sample.xlsx"));
    assert_eq!((o.code, records(&o).len()), (Some(0), 12), "{}", o.stderr);
    for_people(&o);
    // Outputs are workbooks: a .csv name is refused with the name to use.
    let o = run(&["template", "-o"], &dir.path().join("t.csv"));
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("would be an Excel workbook named .csv: name it"), "{}", o.stderr);
    assert!(
        o.stderr.trim_end().ends_with("t.xlsx (CSV files are read, not written: diagnose --json writes JSON lines)"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_header_far_down_says_how_far_it_looked_and_where_the_gases_are() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("late.csv");
    let mut text = "Exported by LabSys\n".repeat(39);
    text.push_str("Asset,H2,CH4,C2H6,C2H4,C2H2\nT1,1,2,3,4,5\n");
    std::fs::write(&file, text).unwrap();
    for args in [
        &["validate"][..],
        &["diagnose", "--csv"],
        &["run", "--no-history", "--out", dir.path().join("d").to_str().unwrap()],
    ] {
        let o = run(args, &file);
        assert_ne!(o.code, Some(0), "{args:?}");
        for_people(&o);
        let all = format!("{}{}", o.stdout, o.stderr);
        assert_eq!(all.matches("in the first 30 lines").count(), 1, "{args:?}: the reason once:\n{all}");
        assert!(all.contains("gas names appear further down, on line 40"), "{args:?}: {all}");
    }
}

/// Bytes that are no text and no workbook: refused once, with how to save the file.
#[test]
fn a_file_that_is_neither_says_how_to_save_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    let utf16_without_bom: Vec<u8> = "Asset,H2\r\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    std::fs::write(&file, utf16_without_bom).unwrap();
    let o = run(&["diagnose", "--csv"], &file);
    assert_eq!(o.code, Some(2));
    for_people(&o);
    assert_eq!(o.stderr.matches("not a spreadsheet").count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("'CSV UTF-8 (Comma delimited) (*.csv)'"), "{}", o.stderr);
}
