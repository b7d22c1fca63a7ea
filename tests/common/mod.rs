//! What several CLI tests check the same way.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// The persisted diagnoses (`diagnoses.jsonl`) are the library's diagnoses of the same
/// workbook, asset by asset, field by field.
pub fn assert_the_librarys_diagnoses(workbook: &Path, diagnoses_jsonl: &Path) {
    let lines: BTreeMap<String, Value> = std::fs::read_to_string(diagnoses_jsonl)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["asset_id"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    let bytes = std::fs::read(workbook).unwrap();
    let parsed =
        workbook::read_workbook(&bytes, "fleet.xlsx", &config::SharedConfig::embedded().workbook_limits).unwrap();
    assert_eq!(lines.len(), parsed.assets.len());
    for item in &parsed.assets {
        let d = dga::diagnose_asset(&item.samples(), &item.asset_info(), &dga::Thresholds::default()).unwrap();
        let expected = serde_json::to_value(
            dga::DiagnosisRecord::new(
                item.latest_row().map(|s| u64::from(s.row)),
                Some(item.asset_id.clone()),
                d,
                item.history(),
            )
            .with_warnings(item.warnings()),
        )
        .unwrap();
        let line = &lines[&item.asset_id];
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(&line[k], v, "{} {k}", item.asset_id);
        }
    }
}
