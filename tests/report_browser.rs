//! report.html in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs) opens the report of a generated run, as an engineer would from the results folder.
//! The page's script runs before Chromium prints the DOM, so what is asserted here is what the
//! engineer sees: the overview, the table filtered by a link, an asset's page opened by a link
//! (the same `#asset=…` a click on a row sets), and a screenshot.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return p.into();
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("sh").args(["-c", &format!("command -v {name}")]).output()
            && o.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        }
    }
    panic!("this test needs headless Chromium: `apt-get install chromium` (or set CHROMIUM to its path)");
}

/// Chromium's flags for a disposable, offline, headless run.
fn browser(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg("--window-size=1280,2000");
    c
}

fn dom(profile: &Path, url: &str) -> String {
    let o = browser(profile).arg("--dump-dom").arg(url).output().expect("chromium runs");
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn substation(args: &[&str]) -> std::process::Output {
    let o = assert_cmd::Command::cargo_bin("substation")
        .unwrap()
        .env_remove(dga::THRESHOLDS_ENV)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The text of the first element whose opening tag contains `marker`.
fn inner_text<'a>(dom: &'a str, marker: &str) -> &'a str {
    let at = dom.find(marker).unwrap_or_else(|| panic!("no {marker} in the page")) + marker.len();
    let start = at + dom[at..].find('>').unwrap() + 1;
    &dom[start..start + dom[start..].find('<').unwrap()]
}

/// The assets table's rows as drawn.
fn table_rows(dom: &str) -> Vec<&str> {
    let table = &dom[dom.find("<table id=\"asset-table\">").expect("the assets table")..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.split("<tr data-asset=").skip(1).collect()
}

#[test]
fn the_report_opens_filters_and_shows_an_asset_page_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.xlsx");
    let out = dir.path().join("data");
    let f = file.to_str().unwrap();
    substation(&["sample", "--assets", "60", "--samples-per-asset", "5", "--seed", "11", "-o", f]);
    let run = substation(&["run", f, "--out", out.to_str().unwrap(), "--json"]);
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    let report = out.join(summary["files"]["report_html"].as_str().expect("the summary names report.html"));
    let url = format!("file://{}", report.display());
    let profile = dir.path().join("profile");
    let diagnosed = summary["counts"]["diagnosed"].as_u64().unwrap();
    let at = |s: &str| summary["by_status"][s].as_u64().unwrap_or(0);

    // The overview: the status cards carry the summary's counts, the act-first list its assets.
    let page = dom(&profile, &url);
    assert!(page.contains("<section id=\"overview\">"));
    assert_eq!(inner_text(&page, "href=\"#status=3\"><span class=\"n\""), at("3").to_string());
    assert_eq!(inner_text(&page, "href=\"#status=1\"><span class=\"n\""), at("1").to_string());
    let first = summary["act_first"][0]["asset_id"].as_str().expect("this seed has assets to act on");
    assert!(page.contains(&format!("href=\"#asset={first}\"")));
    // The script filled the table: every asset counted, the first page of rows drawn.
    assert_eq!(inner_text(&page, "id=\"count\""), format!("{diagnosed} of {diagnosed} assets"));
    assert_eq!(table_rows(&page).len() as u64, diagnosed.min(100));

    // A status card's link filters the table to that status.
    let filtered = dom(&profile, &format!("{url}#status=3"));
    assert_eq!(inner_text(&filtered, "id=\"count\""), format!("{} of {diagnosed} assets", at("3")));
    let shown = table_rows(&filtered);
    assert_eq!(shown.len() as u64, at("3"));
    assert!(shown.iter().all(|r| r.contains("class=\"badge s3\">Status 3</span>")), "{shown:?}");

    // A search narrows the table to the matching asset.
    let searched = dom(&profile, &format!("{url}#q={first}"));
    assert_eq!(inner_text(&searched, "id=\"count\""), format!("1 of {diagnosed} assets"));

    // An asset's page: the verdict, the Duval plots on the shared zones, its samples.
    let opened = dom(&profile, &format!("{url}#asset={first}"));
    let view = &opened[opened.find("<section id=\"asset-view\"").unwrap()..];
    let view = &view[..view.find("</section>").unwrap()];
    assert!(
        view.contains(&format!("<article class=\"asset\" data-asset=\"{first}\">")),
        "{}",
        &view[..view.len().min(400)]
    );
    assert!(view.contains("data-method=\"duval_triangle_1\"") && view.contains("href=\"#zones-duval_triangle_1\""));
    assert_eq!(view.matches("class=\"plot gas-trend\"").count(), 7);
    assert!(view.contains("class=\"sample latest\""));
    assert!(opened.contains(&format!("<tr data-asset=\"{first}\" class=\"selected\">")), "its row is selected");

    // The page alone (to print), and as a picture to look at.
    let alone = format!("{url}#asset={first}&only=1");
    assert!(dom(&profile, &alone).contains("<body class=\"asset-only\">"));
    let shot = dir.path().join("asset.png");
    let o = browser(&profile).arg(format!("--screenshot={}", shot.display())).arg(&alone).output().unwrap();
    assert!(o.status.success());
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000, "{} bytes", png.len());
    if let Some(keep) = std::env::var_os("SUBSTATION_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}
