//! report.html's parts: what they hold, and that no text from a workbook can break out of them.

use dga::diagnosis::{AssetInfo, diagnose_asset};
use dga::{DgaSample, DiagnosisRecord, Gas, GasReading, HistorySample, SampleOrigin, Thresholds};
use report::html::{self, Nameplate, Overview, TableRow};

fn record(id: &str) -> DiagnosisRecord {
    let samples: Vec<DgaSample> = (0..4)
        .map(|i| {
            let mut s = DgaSample {
                sampled_on: chrono::NaiveDate::from_ymd_opt(2022 + i / 2, 1 + 6 * (i as u32 % 2), 10),
                ..Default::default()
            };
            for (gas, v) in [
                (Gas::H2, 60.0),
                (Gas::CH4, 80.0),
                (Gas::C2H6, 30.0),
                (Gas::C2H4, 150.0),
                (Gas::C2H2, 2.0),
                (Gas::CO, 400.0),
                (Gas::CO2, 3000.0),
                (Gas::O2, 3000.0),
                (Gas::N2, 50000.0),
            ] {
                s.set(gas, GasReading::Measured(v * (1.0 + 0.3 * i as f64)));
            }
            s
        })
        .collect();
    let d = diagnose_asset(&samples, &AssetInfo::default(), &Thresholds::default()).unwrap();
    let history = samples
        .into_iter()
        .enumerate()
        .map(|(i, sample)| HistorySample {
            sample,
            origin: SampleOrigin { sheet: Some("Samples".into()), row: Some(2 + i as u64), upload: None },
        })
        .collect();
    DiagnosisRecord::new(Some(5), Some(id.to_owned()), d, history)
}

const HOSTILE: &str = "TR-1</script><img src=x onerror=alert(1)>";

#[test]
fn a_section_is_inert_text_with_the_plots_and_every_sample() {
    let rec = record("TR-7");
    let rows: Vec<String> = (2..6).map(|r| format!("Samples row {r}")).collect();
    let s = html::section(
        &rec,
        &Nameplate { name: Some("Main bank".into()), fields: vec![("Substation".into(), "Hillcrest".into())] },
        &rows,
    );
    assert!(s.starts_with("<script type=\"text/x-asset-section\" data-asset=\"TR-7\">"), "{}", &s[..80]);
    assert_eq!(s.matches("</script>").count(), 1, "one element, closed once at its end");
    // Triangle 1 and both pentagons at least, drawn on the shared zones; seven gas trends.
    assert!(s.contains("data-method=\"duval_triangle_1\"") && s.contains("data-method=\"duval_pentagon_2\""));
    assert!(s.contains("href=\"#zones-duval_triangle_1\""));
    assert_eq!(s.matches("class=\"plot gas-trend\"").count(), 7);
    // Every sample is a row of the samples table, with its source row.
    for r in &rows {
        assert!(s.contains(r.as_str()), "{r}");
    }
    assert!(s.contains("Main bank") && s.contains("Hillcrest"));
    assert!(s.contains(&rec.diagnosis.action), "the action");
    assert!(s.contains(&format!("{:.1}", rec.diagnosis.priority.score)));
}

#[test]
fn no_workbook_text_can_break_out_of_a_section_or_the_table() {
    let mut rec = record(HOSTILE);
    rec.warnings.push(dga::Warning { code: "x".into(), text: "</SCRIPT><b>bold</b>".into(), rows: vec![] });
    let s = html::section(&rec, &Nameplate { name: Some("<i>n</i>".into()), fields: vec![] }, &[]);
    assert_eq!(s.to_ascii_lowercase().matches("</script").count(), 1, "{s}");
    assert!(!s.contains("<img") && !s.contains("<i>n") && !s.contains("<b>bold"));
    assert!(s.contains("&lt;img src=x onerror=alert(1)&gt;"));

    let row = TableRow {
        asset_id: HOSTILE.into(),
        name: "</script><script>alert(2)</script>".into(),
        status: 3,
        priority: 250.0,
        ..Default::default()
    };
    let head = html::head(
        &Overview { source_file: "<b>f</b>.xlsx".into(), assets_diagnosed: 1, ..Default::default() },
        &[row],
        0,
    );
    assert!(!head.contains("<b>f</b>"));
    let open = "<script id=\"asset-rows\" type=\"application/json\">";
    let start = head.find(open).expect("the table's data") + open.len();
    let end = start + head[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&head[start..end]).expect("the data is JSON up to its own end");
    assert_eq!(data[0][0], HOSTILE, "the id survives, escaped only for the page");
    assert_eq!(data[0][1], "</script><script>alert(2)</script>");
}

#[test]
fn the_page_says_what_it_holds() {
    let rows: Vec<TableRow> =
        (0..3).map(|i| TableRow { asset_id: format!("A{i}"), status: 1, ..Default::default() }).collect();
    let o = |n| Overview { assets_diagnosed: n, ..Default::default() };
    assert!(html::head(&o(3), &rows, 3).contains("Every asset is in the table and has a page of its own"));
    assert!(html::head(&o(3), &rows, 1).contains("the 1 highest-priority have a page of their own"));
    assert!(html::head(&o(90), &rows, 1).contains("lists the 3 highest-priority of 90 assets"));
    // Whole: head, no section, tail.
    let page = html::head(&o(3), &rows, 0) + &html::tail(&[], 0);
    assert!(page.ends_with("</main></body></html>\n"));
    assert!(page.contains("No row was rejected."));
    assert!(page.contains("<section id=\"legend\">"));
}

#[test]
fn numbers_read_as_an_engineer_writes_them() {
    for (v, s) in [
        (110.0, "110"),
        (52.8, "52.8"),
        (0.658, "0.658"),
        (3426.4, "3426"),
        (0.0, "0"),
        (1.25, "1.25"),
        (100.04, "100"),
    ] {
        assert_eq!(html::number(v), s, "{v}");
    }
    assert_eq!(html::number(f64::NAN), "—");
}

#[test]
fn links_carry_ids_and_names_with_ampersands_and_percent_signs_whole() {
    let o = Overview {
        assets_diagnosed: 2,
        act_first: vec![html::ActFirstRow { asset_id: "T1&2 100%".into(), status: 3, ..Default::default() }],
        by_substation: vec![
            html::SubstationTally { substation: "Smith & Sons".into(), by_status: [0, 0, 1] },
            html::SubstationTally { substation: String::new(), by_status: [1, 0, 0] },
        ],
        ..Default::default()
    };
    let page = html::head(&o, &[], 0);
    assert!(page.contains("href=\"#asset=T1%262%20100%25\""), "the id decodes whole");
    assert!(page.contains("href=\"#substation=Smith%20%26%20Sons\""));
    // Assets without a substation are counted, not linked to a filter that would show them all.
    assert!(page.contains("<td>(none given)</td>"));
    assert!(!page.contains("href=\"#substation=\""));
}
