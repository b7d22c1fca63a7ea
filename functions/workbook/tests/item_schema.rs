//! The documented asset item (docs/asset-item.*) stays true to the code.
//! `BLESS=1 cargo test -p workbook --test item_schema` rewrites the example after a deliberate change.

use std::collections::BTreeSet;

use serde_json::Value;
use workbook::{AssetItem, Limits, read_workbook};

fn docs(name: &str) -> String {
    format!("{}/../../docs/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn template_item() -> AssetItem {
    let bytes = workbook::write::template().unwrap();
    read_workbook(&bytes, "dga-template.xlsx", &Limits::default()).unwrap().assets.remove(0)
}

#[test]
fn the_example_is_the_template_row_read_back() {
    let item = template_item();
    let json = serde_json::to_string_pretty(&item).unwrap() + "\n";
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(docs("asset-item.example.json"), &json).unwrap();
    }
    let example = std::fs::read_to_string(docs("asset-item.example.json")).unwrap();
    assert_eq!(example, json, "docs/asset-item.example.json is stale: re-run with BLESS=1");
    let back: AssetItem = serde_json::from_str(&example).unwrap();
    assert_eq!(back, item);
}

#[test]
fn the_schema_names_every_field() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(docs("asset-item.schema.json")).unwrap()).unwrap();
    let documented: BTreeSet<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut full = template_item();
    full.commissioning_year = Some(1999);
    full.unlisted = true;
    full.anonymous = true;
    full.oltc_communicating = Some(false);
    full.attributes.insert("Owner".into(), "Grid Co".into());
    full.source = Some(workbook::item::SourceRow { sheet: "Assets".into(), row: 2 });
    full.rejected_samples.push(workbook::RejectedSample {
        sheet: "Samples".into(),
        row: 9,
        sampled_on: None,
        reason: "C2H2: 'l.5' is not a number".into(),
    });
    let value = serde_json::to_value(&full).unwrap();
    let actual: BTreeSet<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(documented, actual);
    let sample_keys: BTreeSet<&str> =
        schema["$defs"]["dga_sample"]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let actual: BTreeSet<&str> =
        value["samples"][0]["sample"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(sample_keys, actual);
    // Every required key is always written.
    for key in schema["required"].as_array().unwrap() {
        assert!(serde_json::to_value(template_item()).unwrap().get(key.as_str().unwrap()).is_some(), "{key}");
    }
}
