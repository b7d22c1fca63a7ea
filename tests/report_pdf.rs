//! report.xlsx as a person prints it: LibreOffice (Debian's `libreoffice-calc-nogui`, which
//! `.ci/run` installs) opens the results workbook of the shipped example headless and exports it
//! to PDF without complaint; poppler's `pdfinfo` reads the PDF back. Every sheet of a 12-asset
//! report prints on one landscape page (one page wide, the Diagnoses sheet's print area).

use std::process::Command;

fn tool(name: &str) -> Command {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {name}")]).output().is_ok_and(|o| o.status.success());
    assert!(found, "this test needs `{name}`: apt-get install libreoffice-calc-nogui poppler-utils");
    Command::new(name)
}

#[test]
fn the_results_workbook_exports_to_pdf_one_landscape_page_per_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let o = assert_cmd::Command::cargo_bin("substation")
        .unwrap()
        .env_remove(dga::THRESHOLDS_ENV)
        .args(["run", "examples/fleet-sample.xlsx", "--json", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let xlsx = out.join(summary["files"]["report"].as_str().unwrap());

    let pdf_dir = dir.path().join("pdf");
    let profile = format!("-env:UserInstallation=file://{}", dir.path().join("lo-profile").display());
    let convert = tool("soffice")
        .args(["--headless", "--norestore", &profile, "--convert-to", "pdf", "--outdir"])
        .arg(&pdf_dir)
        .arg(&xlsx)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&convert.stderr).to_string() + &String::from_utf8_lossy(&convert.stdout);
    assert!(convert.status.success(), "{said}");
    assert!(!said.to_lowercase().contains("error"), "LibreOffice complained: {said}");
    let pdf = pdf_dir.join("report.pdf");
    assert!(pdf.exists(), "no PDF: {said}");

    let info = tool("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    let field = |k: &str| info.lines().find_map(|l| l.strip_prefix(k)).map(str::trim).unwrap_or_default().to_owned();
    // Summary, Diagnoses, Asset history, Rejected rows, Legend: one page each; the Duval plots
    // (a build with pictures) two a row, on a page or two.
    use calamine::Reader;
    let sheets = calamine::open_workbook_auto(&xlsx).unwrap().sheet_names();
    let pages: usize = field("Pages:").parse().unwrap();
    if sheets.iter().any(|s| s == "Duval plots") {
        assert!((sheets.len()..=sheets.len() + 1).contains(&pages), "{pages} pages for {sheets:?}");
    } else {
        assert_eq!(sheets, ["Summary", "Diagnoses", "Asset history", "Rejected rows", "Legend"]);
        assert_eq!(pages, 5, "{info}");
    }
    let size = field("Page size:");
    let dims: Vec<f64> = size.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(dims.len() >= 2 && dims[0] > dims[1], "landscape: {size}");
    assert!(size.contains("A4"), "{size}");
}
