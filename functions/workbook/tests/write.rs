//! The workbooks we write, read back with calamine.

use calamine::{Data, DataType, Reader, Xlsx};
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
    let mut sheets = vec!["Summary", "Diagnoses", "Asset history", "Rejected rows", "Legend"];
    if cfg!(feature = "png-plots") {
        sheets.insert(3, "Duval plots");
    }
    assert_eq!(book.sheet_names(), sheets);

    let summary = book.worksheet_range("Summary").unwrap();
    let value =
        |label: &str| summary.rows().find(|r| r[0] == Data::String(label.into())).map(|r| r[1].clone()).unwrap();
    assert_eq!(value("Source file"), Data::String("fleet.xlsx".into()));
    assert_eq!(value("Assets diagnosed"), Data::Float(records.len() as f64));
    let status_3 = records.iter().filter(|r| r.diagnosis.status.number() == 3).count();
    assert_eq!(value("Status 3 (act now)"), Data::Float(status_3 as f64));

    // Worst first: by priority, equal scores by the fault's energy, then the workbook's order.
    let mut worst_first: Vec<usize> = (0..records.len()).collect();
    let key =
        |i: usize| (records[i].diagnosis.priority.score, dga::priority::fault_energy(records[i].diagnosis.fault), i);
    worst_first.sort_by(|&a, &b| workbook::write::worst_first(key(a), key(b)));
    assert!(worst_first.windows(2).all(|w| key(w[0]).0 >= key(w[1]).0));
    let records: Vec<&DiagnosisRecord> = worst_first.iter().map(|&i| &records[i]).collect();
    let diagnoses = book.worksheet_range("Diagnoses").unwrap();
    assert_eq!(diagnoses.height(), records.len() + 1);
    assert_eq!(diagnoses.get((0, 3)), Some(&Data::String("Status".into())));
    for (i, r) in records.iter().enumerate() {
        assert_eq!(diagnoses.get((i + 1, 0)), Some(&Data::String(r.asset_id.clone().unwrap())));
        assert_eq!(diagnoses.get((i + 1, 3)), Some(&Data::Float(f64::from(r.diagnosis.status.number()))));
        assert_eq!(diagnoses.get((i + 1, 4)), Some(&Data::String(r.diagnosis.fault_label())));
    }

    // The act-first list on the Summary sheet: the worst assets at status 2-3, in order.
    let act_at =
        summary.rows().position(|r| r[0] == Data::String("Act first (status 2 and 3, by priority)".into())).unwrap();
    let listed: Vec<String> =
        summary.rows().skip(act_at + 2).take_while(|r| r[0] != Data::Empty).map(|r| r[0].to_string()).collect();
    let expected: Vec<String> = records
        .iter()
        .filter(|r| r.diagnosis.status.number() >= 2)
        .take(25)
        .map(|r| r.asset_id.clone().unwrap())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(listed, expected);

    // With pictures, one Duval Triangle 1 PNG per act-first asset.
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
    let pictures = (0..zip.len()).filter(|&i| {
        let f = zip.by_index(i).unwrap();
        f.name().starts_with("xl/media/") && f.name().ends_with(".png")
    });
    assert_eq!(pictures.count(), if cfg!(feature = "png-plots") { listed.len() } else { 0 });

    // Asset history: every sample of every asset at status 2 or 3, with its row of origin.
    let history = book.worksheet_range("Asset history").unwrap();
    let mut expected_rows = Vec::new();
    for r in records.iter().filter(|r| r.diagnosis.status.number() >= 2) {
        for h in &r.history {
            expected_rows.push((r.asset_id.clone().unwrap(), h.origin.row.unwrap() as f64));
        }
    }
    let got: Vec<(String, f64)> = history.rows().skip(1).map(|r| (r[0].to_string(), r[4].as_f64().unwrap())).collect();
    assert_eq!(got, expected_rows);

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
