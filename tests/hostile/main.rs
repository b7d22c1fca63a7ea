//! Hostile and careless inputs (issue 14), each built here in the test, none committed. Every
//! case asserts the exact answer, an exit code the `--help` documents, an answer within 20 s and,
//! where memory is the risk, the peak resident memory of the whole process tree (wait4 reports
//! the child's and its reaped children's).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What one `substation` invocation did.
#[derive(Debug)]
struct Answer {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    peak_mib: f64,
}

/// Runs `substation` and waits for it with wait4, for its peak RSS (KiB on Linux).
#[allow(unsafe_code)]
fn substation(args: &[&std::ffi::OsStr]) -> Answer {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_substation"))
        .args(args)
        .env_remove(dga::THRESHOLDS_ENV)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: the pid is our child's and has not been waited for; `status` and `usage` are
    // writable memory of the right types; `rusage` is plain old data, valid for any bit pattern.
    let kib = unsafe {
        assert!(libc::wait4(child.id() as libc::pid_t, &mut status, 0, usage.as_mut_ptr()) >= 0);
        usage.assume_init().ru_maxrss
    };
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    Answer {
        code,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: start.elapsed(),
        peak_mib: kib as f64 / 1024.0,
    }
}

fn validate(file: &Path) -> Answer {
    substation(&["validate".as_ref(), file.as_os_str()])
}

fn run(file: &Path, out: &Path) -> (Answer, Value) {
    let a = substation(&["run".as_ref(), file.as_os_str(), "--out".as_ref(), out.as_os_str(), "--json".as_ref()]);
    let summary = serde_json::from_str(&a.stdout).unwrap_or_else(|e| panic!("{e}: {a:?}"));
    (a, summary)
}

fn within_limits(a: &Answer, peak_mib: f64) {
    assert!(a.elapsed < Duration::from_secs(20), "{:?}", a.elapsed);
    assert!(a.peak_mib < peak_mib, "peak {:.0} MiB: {a:?}", a.peak_mib);
}

/// A zip with these entries, deflated.
fn zip_of(path: &Path, entries: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, body) in entries {
        let options = zip::write::SimpleFileOptions::default().compression_method(if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        });
        z.start_file(*name, options).unwrap();
        z.write_all(body).unwrap();
    }
    z.finish().unwrap();
}

const ODS_NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0""#;

fn ods(path: &Path, table: &str) {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} office:version="1.2"><office:body><office:spreadsheet>{table}</office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>"#;
    zip_of(
        path,
        &[
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", content.as_bytes()),
            ("META-INF/manifest.xml", manifest.as_bytes()),
        ],
    );
}

/// One row that repeats a cell 16 billion times (an .ods table under 1 KB).
const BILLIONS_OF_CELLS: &str = r#"<table:table table:name="Samples"><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16000" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row></table:table>"#;

/// An .ods under 1 KB whose one row repeats a cell 16 billion times: calamine builds the whole
/// grid, so the reader child runs out of its address space and the step says so.
#[test]
fn an_ods_that_repeats_a_cell_billions_of_times_is_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.ods");
    ods(&file, BILLIONS_OF_CELLS);
    assert!(std::fs::metadata(&file).unwrap().len() < 1024);
    let a = validate(&file);
    assert_eq!(a.code, 2, "{a:?}");
    assert!(
        a.stderr.contains("fleet.ods: reading it needs more than 600 MB of memory, or the file is damaged")
            && !a.stderr.contains("InputTooLarge"),
        "{}",
        a.stderr
    );
    within_limits(&a, 700.0);
    // The run persists a rejection summary that says the same, and exits 1.
    let (a, s) = run(&file, &dir.path().join("data"));
    assert_eq!(a.code, 1, "{a:?}");
    assert_eq!(s["status"], "rejected");
    assert!(s["reason"].as_str().unwrap().starts_with("fleet.ods: reading it needs more than 600 MB"), "{s}");
    assert_eq!(s["error"], "InputTooLarge", "the stable name, for machines");
    within_limits(&a, 700.0);
}

/// The process group of process `pid` and its parent's pid (/proc/<pid>/stat: the fields after
/// the command name, which may hold spaces, start with state, ppid, pgrp).
fn pgrp_and_ppid(pid: u32) -> Option<(u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some((rest.get(2)?.parse().ok()?, rest.get(1)?.parse().ok()?))
}

/// The reader of the formats read whole runs in a process group of its own: a Ctrl-C typed in
/// the terminal (SIGINT to the foreground group) reaches `substation` (watch then finishes the
/// run in progress), not the reader in the middle of a read.
#[test]
fn the_reader_child_has_a_process_group_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.ods");
    // The billions-of-cells .ods: its reader works for a second or more before its memory limit.
    ods(&file, BILLIONS_OF_CELLS);
    let mut parent = Command::new(env!("CARGO_BIN_EXE_substation"))
        .arg("validate")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (parent_group, _) = pgrp_and_ppid(parent.id()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let child = loop {
        let found = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find_map(|pid| matches!(pgrp_and_ppid(pid), Some((_, ppid)) if ppid == parent.id()).then_some(pid));
        if let Some(pid) = found {
            break pid;
        }
        assert!(Instant::now() < deadline, "no reader child seen");
        std::thread::sleep(Duration::from_millis(5));
    };
    let (child_group, _) = pgrp_and_ppid(child).unwrap();
    assert_eq!(child_group, child, "the reader leads a group of its own");
    assert_ne!(child_group, parent_group);
    assert_eq!(parent.wait().unwrap().code(), Some(2));
}

/// An OLE container of 1 KB whose header declares two billion FAT sectors.
#[test]
fn an_ole_container_that_declares_huge_tables_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xls");
    let mut b = vec![0u8; 1024];
    b[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    b[0x18..0x1A].copy_from_slice(&0x003Eu16.to_le_bytes()); // minor version
    b[0x1A..0x1C].copy_from_slice(&3u16.to_le_bytes()); // major version 3: 512-byte sectors
    b[0x1C..0x1E].copy_from_slice(&0xFFFEu16.to_le_bytes()); // little-endian
    b[0x1E..0x20].copy_from_slice(&9u16.to_le_bytes()); // sector shift
    b[0x20..0x22].copy_from_slice(&6u16.to_le_bytes()); // mini sector shift
    b[0x2C..0x30].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes()); // FAT sectors
    b[0x30..0x34].copy_from_slice(&0u32.to_le_bytes()); // first directory sector
    b[0x38..0x3C].copy_from_slice(&4096u32.to_le_bytes()); // mini stream cutoff
    b[0x3C..0x40].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    b[0x44..0x48].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    b[0x48..0x4C].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes()); // DIFAT sectors
    std::fs::write(&file, &b).unwrap();
    let a = validate(&file);
    assert_eq!(a.code, 2, "{a:?}");
    assert!(a.stderr.contains("fleet.xls: "), "{}", a.stderr);
    assert!(!a.stderr.contains("[WorkbookInvalid]") && !a.stderr.contains("[InputTooLarge]"), "{}", a.stderr);
    within_limits(&a, 700.0);
}

/// A 3.8 MB-class xlsx whose shared-string table holds millions of strings is refused before
/// calamine loads the table.
#[test]
fn an_xlsx_with_millions_of_shared_strings_is_refused_before_it_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xlsx");
    let mut sst = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    );
    for _ in 0..6_000_000 {
        sst.push_str("<si><t/></si>");
    }
    sst.push_str("</sst>");
    xlsx_of(&file, r#"<sheetData/>"#, Some(&sst));
    let a = validate(&file);
    assert_eq!(a.code, 2, "{a:?}");
    assert!(
        a.stderr.contains("fleet.xlsx: its shared-string table holds more than 5000000 strings (the limit)\n"),
        "{}",
        a.stderr
    );
    within_limits(&a, 200.0);
}

/// The cells that used to sink a run: each is a rejected row with its reason, the run completes,
/// and the results workbook is written.
#[test]
fn hostile_cells_are_rejected_rows_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cells.xlsx");
    let long_id = "T".repeat(32_767);
    let long_text = "9".repeat(32_767);
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Samples").unwrap();
    let header =
        ["Asset ID", "Sample date", "H2 (ppm)", "CH4 (ppm)", "C2H6 (ppm)", "C2H4 (ppm)", "C2H2 (ppm)", "N2 (ppm)"];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // (asset, H2 cell, N2) — H2 as text so the test controls exactly what the cell holds.
    let rows: [(&str, &str, f64); 5] = [
        ("TR-OK", "12", 50_000.0),
        ("TR-INF", "<1e309", 50_000.0),
        ("TR-LONG", &long_text, 50_000.0),
        ("TR-SUM", "600000", 500_000.0),
        (&long_id, "15", 50_000.0),
    ];
    for (r, (id, h2, n2)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, *id).unwrap();
        ws.write_string(r, 1, "2026-03-01").unwrap();
        ws.write_string(r, 2, *h2).unwrap();
        for c in 3..7 {
            ws.write_number(r, c, 5.0).unwrap();
        }
        ws.write_number(r, 7, *n2).unwrap();
    }
    book.save(&file).unwrap();
    let out = dir.path().join("data");
    let (a, s) = run(&file, &out);
    assert_eq!(a.code, 0, "{a:?}");
    assert_eq!(s["status"], "complete");
    let c = &s["counts"];
    assert_eq!(
        (c["rows_read"].as_u64(), c["samples_accepted"].as_u64(), c["rows_rejected"].as_u64()),
        (Some(5), Some(2), Some(3))
    );
    assert_eq!(c["diagnosed"], 2);
    let rejected: Vec<Value> = std::fs::read_to_string(out.join(s["files"]["rejected"].as_str().unwrap()))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reason = |row: u64| {
        rejected.iter().find(|r| r["row"] == row).map(|r| r["reason"].as_str().unwrap().to_owned()).unwrap_or_default()
    };
    assert_eq!(reason(3), "'<1e309' is not a finite number");
    assert_eq!(reason(4), "is 32767 characters of text, not a concentration");
    assert!(reason(5).starts_with("the gases sum to 1100020 ppm, more than 1,000,000 ppm"), "{}", reason(5));
    for r in &rejected {
        let quoted = r["value"].as_str().unwrap_or("");
        assert!(quoted.chars().count() <= 201, "a rejection quotes {} characters", quoted.chars().count());
    }
    // The 32,767-character asset id is diagnosed, and the results workbook is written: no cell
    // beyond Excel's 32,767 characters (longer texts are cut with an ellipsis: write.rs).
    let report = out.join(s["files"]["report"].as_str().unwrap());
    let mut xlsx: calamine::Xlsx<_> = calamine::open_workbook(&report).unwrap();
    use calamine::Reader;
    let diagnoses = xlsx.worksheet_range("Diagnoses").unwrap();
    let longest = diagnoses.used_cells().map(|(_, _, v)| v.to_string().chars().count()).max().unwrap();
    assert_eq!(longest, 32_767);
    assert!(diagnoses.used_cells().any(|(_, _, v)| v.to_string() == long_id));
}

/// A minimal xlsx, written by hand: one sheet "Samples" with this `<sheetData>`, and optionally
/// a shared-string table.
fn xlsx_of(path: &Path, sheet_data: &str, sst: Option<&str>) {
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let workbook = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Samples" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let wb_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet_data}</worksheet>"#
    );
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>"#;
    let empty_sst = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"></sst>"#;
    zip_of(
        path,
        &[
            ("[Content_Types].xml", types.as_bytes()),
            ("_rels/.rels", rels.as_bytes()),
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", wb_rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
            ("xl/sharedStrings.xml", sst.unwrap_or(empty_sst).as_bytes()),
        ],
    );
}

/// A formula saved without its value (as programs that write but do not calculate formulas
/// save them) is a rejected row with that reason, never a blank read as "not detected".
#[test]
fn a_formula_without_a_calculated_value_is_a_rejected_row() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("formulas.xlsx");
    let text = |r: &str, t: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#);
    let num = |r: &str, v: f64| format!(r#"<c r="{r}"><v>{v}</v></c>"#);
    let mut rows = String::from("<sheetData><row r=\"1\">");
    for (c, h) in
        ["A", "B", "C", "D", "E", "F", "G"].iter().zip(["Asset ID", "Sample date", "H2", "CH4", "C2H6", "C2H4", "C2H2"])
    {
        rows.push_str(&text(&format!("{c}1"), h));
    }
    rows.push_str("</row>");
    // Row 2 calculated; row 3 a formula with no <v>; row 4 as openpyxl saves one (`<v />`); row
    // 5 a formula whose value is an empty string (LibreOffice: t="str"), a blank H2 — read as
    // one in a file without openpyxl's form, and refused in one with it (calamine reads both as
    // empty text): this file has it, so row 5 is refused too.
    let h2 = [
        r#"<c r="C2"><f>10+2</f><v>12</v></c>"#.to_owned(),
        r#"<c r="C3"><f>10+2</f></c>"#.to_owned(),
        r#"<c r="C4"><f>10+2</f><v /></c>"#.to_owned(),
        r#"<c r="C5" t="str"><f>IF(1=1,"",2)</f><v></v></c>"#.to_owned(),
    ];
    for (i, h2) in h2.iter().enumerate() {
        let r = i + 2;
        rows.push_str(&format!("<row r=\"{r}\">"));
        rows.push_str(&text(&format!("A{r}"), &format!("TR-{r}")));
        rows.push_str(&text(&format!("B{r}"), "2026-03-01"));
        rows.push_str(h2);
        for c in ["D", "E", "F", "G"] {
            rows.push_str(&num(&format!("{c}{r}"), 5.0));
        }
        rows.push_str("</row>");
    }
    rows.push_str("</sheetData>");
    xlsx_of(&file, &rows, None);
    let out = dir.path().join("data");
    let (a, s) = run(&file, &out);
    assert_eq!(a.code, 0, "{a:?}");
    assert_eq!(
        (s["counts"]["samples_accepted"].as_u64(), s["counts"]["rows_rejected"].as_u64()),
        (Some(1), Some(3)),
        "{s}"
    );
    let rejected = std::fs::read_to_string(out.join(s["files"]["rejected"].as_str().unwrap())).unwrap();
    let lines: Vec<Value> = rejected.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    for (line, row) in lines.iter().zip([3, 4, 5]) {
        assert_eq!(line["row"], row);
        assert_eq!(line["column"], "H2");
        assert_eq!(line["reason"].as_str().unwrap(), workbook::cells::UNCALCULATED);
    }
}

/// A 10 MB text reused in a thousand gas cells: one shared string in a small file, which each
/// rejected row used to copy twice (more than 5 GB). Now each is a rejected row that says how
/// long the text is, without quoting it.
#[test]
fn one_huge_text_reused_in_many_gas_cells_is_rejected_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reused.xlsx");
    // By hand: rust_xlsxwriter (rightly) refuses a string beyond Excel's 32,767 characters.
    let sst = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>{}</t></si></sst>"#,
        "7".repeat(10_000_000)
    );
    let text = |r: &str, t: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#);
    let mut rows = String::from("<sheetData><row r=\"1\">");
    for (c, h) in
        ["A", "B", "C", "D", "E", "F", "G"].iter().zip(["Asset ID", "Sample date", "H2", "CH4", "C2H6", "C2H4", "C2H2"])
    {
        rows.push_str(&text(&format!("{c}1"), h));
    }
    rows.push_str("</row>");
    for r in 2..=1001 {
        rows.push_str(&format!("<row r=\"{r}\">"));
        rows.push_str(&text(&format!("A{r}"), &format!("TR-{r}")));
        rows.push_str(&text(&format!("B{r}"), "2026-03-01"));
        rows.push_str(&format!(r#"<c r="C{r}" t="s"><v>0</v></c>"#));
        for c in ["D", "E", "F", "G"] {
            rows.push_str(&format!(r#"<c r="{c}{r}"><v>5</v></c>"#));
        }
        rows.push_str("</row>");
    }
    rows.push_str("</sheetData>");
    xlsx_of(&file, &rows, Some(&sst));
    assert!(std::fs::metadata(&file).unwrap().len() < 100_000, "a small file");
    let a = validate(&file);
    assert_eq!(a.code, 1, "{a:?}");
    // The listing wraps to the terminal: compare with the whitespace collapsed.
    let flat = a.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let said = "' is more than 32,767 characters of text (Excel's most in a cell), not a concentration";
    assert_eq!(flat.matches(said).count(), 1000, "{}", &flat[..flat.len().min(2000)]);
    assert!(a.stdout.contains("1000 rejected") || a.stderr.contains("1000 rejected"), "{a:?}");
    within_limits(&a, 600.0);
}
