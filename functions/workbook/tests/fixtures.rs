//! Committed real-style workbooks (tests/fixtures/workbooks/README.md): files written by
//! LibreOffice in three formats, and a Korean workbook with a title block.

use chrono::NaiveDate;
use dga::GasReading;
use workbook::{Layout, Limits, ParsedWorkbook, read_workbook};

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../tests/fixtures/workbooks/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn fixture(name: &str) -> ParsedWorkbook {
    read_workbook(&bytes(name), name, &Limits::default()).unwrap()
}

#[test]
fn a_real_password_protected_workbook_is_refused_clearly() {
    let e =
        read_workbook(&bytes("password-protected.xlsx"), "password-protected.xlsx", &Limits::default()).unwrap_err();
    assert_eq!(e.error_type(), "WorkbookInvalid");
    assert!(e.reason().contains("password-protected"), "{e}");
}

#[test]
fn the_same_fleet_reads_the_same_from_xlsx_ods_and_legacy_xls() {
    let xlsx = fixture("libreoffice-fleet.xlsx");
    assert_eq!(xlsx.layout, Layout::OneSheet);
    assert_eq!((xlsx.assets.len(), xlsx.counts.samples_accepted, xlsx.counts.rows_skipped), (8, 24, 1));
    assert!(xlsx.rejected.is_empty(), "{:?}", xlsx.rejected);
    // The generator's data, whatever the container.
    let generated = workbook::sample::generate(&workbook::sample::SampleOptions {
        assets: 8,
        samples_per_asset: 3,
        seed: 7,
        layout: Layout::OneSheet,
        with_mistakes: true,
    });
    for (item, asset) in xlsx.assets.iter().zip(&generated) {
        assert_eq!(item.asset_id, asset.id);
        assert_eq!(item.manufacture_year, Some(asset.manufacture_year));
        for (s, (date, _)) in item.samples.iter().zip(&asset.samples) {
            assert_eq!(s.sample.sampled_on, Some(*date));
        }
    }
    for other in ["libreoffice-fleet.ods", "libreoffice-fleet.xls"] {
        let p = fixture(other);
        assert_eq!(p.counts, xlsx.counts, "{other}");
        assert_eq!(p.assets.len(), xlsx.assets.len(), "{other}");
        for (a, b) in p.assets.iter().zip(&xlsx.assets) {
            assert_eq!(a.asset_id, b.asset_id, "{other}");
            assert_eq!(a.age_years, b.age_years, "{other}");
            let samples = |x: &workbook::AssetItem| x.samples.iter().map(|s| s.sample.clone()).collect::<Vec<_>>();
            assert_eq!(samples(a), samples(b), "{other}: {}", a.asset_id);
        }
    }
}

#[test]
fn korean_headers_under_a_title_block() {
    let p = fixture("korean-title-block.xlsx");
    assert_eq!(p.assets.iter().map(|a| a.asset_id.as_str()).collect::<Vec<_>>(), ["T-101", "T-202"]);
    let t101 = &p.assets[0];
    assert_eq!((t101.name.as_deref(), t101.substation.as_deref()), (Some("1호기"), Some("서울")));
    assert_eq!(t101.samples.len(), 2);
    assert_eq!(t101.samples[1].sample.sampled_on, NaiveDate::from_ymd_opt(2024, 3, 5));
    assert_eq!(t101.samples[1].row, 6);
    assert_eq!(t101.samples[1].sample.c2h2_ppm, GasReading::BelowDetection { limit_ppm: None });
    assert_eq!(t101.age_years, Some(23.0));
    // Row 8 has a negative H2 (수소), row 9 is the 합계 (total) row.
    assert_eq!(p.rejected.len(), 1);
    let e = &p.rejected[0];
    assert_eq!((e.row, e.column.as_deref(), e.column_letter.as_deref()), (8, Some("수소"), Some("F")));
    assert_eq!(
        (p.counts.rows_read, p.counts.samples_accepted, p.counts.rows_rejected, p.counts.rows_skipped),
        (5, 3, 1, 1)
    );
}
