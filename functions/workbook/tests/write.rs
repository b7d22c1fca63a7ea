//! The workbooks we write, read back with calamine.

use calamine::{Data, Reader, Xlsx};
use dga::{DiagnosisRecord, Thresholds, diagnose_asset};
use std::io::Cursor;
use workbook::write::{RunInfo, results, template};
use workbook::{Limits, read_workbook};

fn open(bytes: &[u8]) -> Xlsx<Cursor<&[u8]>> {
    Xlsx::new(Cursor::new(bytes)).unwrap()
}

#[test]
fn the_template_reads_back_as_one_valid_asset() {
    let bytes = template().unwrap();
    let p = read_workbook(&bytes, "template.xlsx", &Limits::default()).unwrap();
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!((p.assets.len(), p.counts.samples_accepted), (1, 1));
    let a = &p.assets[0];
    assert_eq!(a.asset_id, "TR-001");
    assert_eq!(a.age_years, Some(26.0));
    assert_eq!(open(&bytes).sheet_names(), ["Instructions", "Assets", "Samples"]);
}

#[test]
fn the_results_workbook_has_summary_diagnoses_and_rejected_rows() {
    let opts = workbook::sample::SampleOptions { assets: 120, samples_per_asset: 4, seed: 9, ..Default::default() };
    let p = read_workbook(&workbook::sample::write_fleet(&opts).unwrap(), "fleet.xlsx", &Limits::default()).unwrap();
    assert!(!p.rejected.is_empty());
    let t = Thresholds::default();
    let records: Vec<DiagnosisRecord> = p
        .assets
        .iter()
        .map(|a| {
            let d = diagnose_asset(&a.samples(), &a.asset_info(), &t).unwrap();
            DiagnosisRecord::new(a.latest_row().map(|s| u64::from(s.row)), Some(a.asset_id.clone()), d, a.history())
        })
        .collect();
    let run = RunInfo {
        source_file: "fleet.xlsx".into(),
        started_at: "2026-11-25T10:00:00Z".into(),
        rows_read: p.counts.rows_read,
        samples_accepted: p.counts.samples_accepted,
        rows_rejected: p.counts.rows_rejected,
        rows_skipped: p.counts.rows_skipped,
        created_at: None,
    };
    let bytes = results(&run, &records, &p.assets, &p.rejected).unwrap();
    let mut book = open(&bytes);
    assert_eq!(book.sheet_names(), ["Summary", "Diagnoses", "Rejected rows", "Legend"]);

    let summary = book.worksheet_range("Summary").unwrap();
    let value =
        |label: &str| summary.rows().find(|r| r[0] == Data::String(label.into())).map(|r| r[1].clone()).unwrap();
    assert_eq!(value("Source file"), Data::String("fleet.xlsx".into()));
    assert_eq!(value("Assets diagnosed"), Data::Float(records.len() as f64));
    let status_3 = records.iter().filter(|r| r.diagnosis.status.number() == 3).count();
    assert_eq!(value("Status 3 (act now)"), Data::Float(status_3 as f64));

    let diagnoses = book.worksheet_range("Diagnoses").unwrap();
    assert_eq!(diagnoses.height(), records.len() + 1);
    assert_eq!(diagnoses.get((0, 3)), Some(&Data::String("Status".into())));
    for (i, r) in records.iter().enumerate() {
        assert_eq!(diagnoses.get((i + 1, 0)), Some(&Data::String(r.asset_id.clone().unwrap())));
        assert_eq!(diagnoses.get((i + 1, 3)), Some(&Data::Float(f64::from(r.diagnosis.status.number()))));
        assert_eq!(diagnoses.get((i + 1, 4)), Some(&Data::String(r.diagnosis.fault_label())));
    }

    let rejected = book.worksheet_range("Rejected rows").unwrap();
    assert_eq!(rejected.height(), p.rejected.len() + 1);
    assert_eq!(rejected.get((1, 4)), Some(&Data::String(p.rejected[0].reason.clone())));

    // Every code the sheets use is in the legend, with its meaning.
    let legend = book.worksheet_range("Legend").unwrap();
    let codes: Vec<String> = legend.rows().skip(1).map(|r| r[1].to_string()).collect();
    for r in &records {
        let d = &r.diagnosis;
        assert!(codes.contains(&d.fault.to_string()), "{}", d.fault);
        for c in d.refinement_codes() {
            // Triangle 4's PD and Triangle 5's T2/T3 are fault codes as well.
            assert!(codes.contains(&c.to_string()), "{c}");
        }
    }
    let undetermined = legend.rows().find(|r| r[1] == Data::String("UNDETERMINED".into())).unwrap();
    assert!(undetermined[2].to_string().contains("not the lab's input marker ND"));
    // The Diagnoses sheet carries the refinements, the probability, the priority and warnings.
    let header: Vec<String> = diagnoses.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    for h in ["Refinements", "P(fault)", "Priority", "Warnings"] {
        assert!(header.contains(&h.to_owned()), "{header:?}");
    }
}
