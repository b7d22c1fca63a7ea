//! The asset diagnosis as a whole: the status gate, the combined fault and its agreement, the
//! history handling, the record's shape, and no panic or NaN on any non-negative input.

use chrono::NaiveDate;
use dga::{
    AssetInfo, Confidence, DgaSample, DiagnosisError, DiagnosisRecord, FaultCode, Gas, GasReading, Ieee2019Status,
    MethodName, Thresholds, diagnose_asset,
};
use proptest::prelude::*;

fn sample(h2: f64, ch4: f64, c2h6: f64, c2h4: f64, c2h2: f64) -> DgaSample {
    DgaSample::default()
        .with(Gas::H2, h2)
        .with(Gas::CH4, ch4)
        .with(Gas::C2H6, c2h6)
        .with(Gas::C2H4, c2h4)
        .with(Gas::C2H2, c2h2)
}

/// Sealed unit (O2/N2 = 0.05) with ordinary CO and CO2.
fn sealed(s: DgaSample) -> DgaSample {
    s.with(Gas::CO, 200.0).with(Gas::CO2, 2000.0).with(Gas::O2, 2000.0).with(Gas::N2, 40000.0)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn diagnose(history: &[DgaSample]) -> dga::AssetDiagnosis {
    diagnose_asset(history, &AssetInfo::default(), &Thresholds::default()).unwrap()
}

#[test]
fn status_1_is_normal_but_every_method_still_reports() {
    let a = diagnose(&[sealed(sample(10.0, 5.0, 5.0, 5.0, 0.0))]);
    assert_eq!(a.status, Ieee2019Status::One);
    assert_eq!(a.fault, FaultCode::Normal);
    // NORMAL has a confidence too: the share of plausible readings still at status 1.
    assert_eq!(a.fault_probabilities[&FaultCode::Normal], a.status_probabilities.one);
    assert!(a.status_probabilities.one > 0.5 && a.status_probabilities.one < 1.0, "{:?}", a.status_probabilities);
    assert!(a.refinements.is_empty());
    assert!(a.confidence.is_some());
    // 5/5/0 ppm is 50 % C2H4: Triangle 1 says T3 even though nothing is wrong.
    assert_eq!(a.methods.duval_triangle_1, Some(FaultCode::T3));
    assert!(a.methods.duval_pentagon_1.is_some() && a.methods.iec_60599.is_some());
    assert_eq!(a.methods.doernenburg, Some(FaultCode::Normal));
    assert!(a.explanation.starts_with("IEEE C57.104-2019 status 1"), "{}", a.explanation);
    assert!(a.explanation.contains("No fault is indicated"));
    assert_eq!(a.action, Thresholds::default().actions.status_1);
    assert_eq!(a.ieee_2008_condition, Some(1));
}

#[test]
fn discharge_is_identified_with_the_methods_that_agree() {
    let a = diagnose(&[sealed(sample(300.0, 20.0, 5.0, 10.0, 60.0))]);
    assert_eq!(a.status, Ieee2019Status::Three);
    assert_eq!((a.fault, a.identified_by), (FaultCode::D1, Some(MethodName::DuvalTriangle1)));
    assert!(a.agreeing_methods.contains(&MethodName::DuvalTriangle1));
    assert!(a.agreeing_methods.contains(&MethodName::DuvalPentagon1));
    // Exact agreement is agreement on the code.
    for m in &a.agreeing_methods {
        assert_eq!(a.methods.get(*m), Some(FaultCode::D1), "{m:?}");
    }
    // Triangles 4 and 5 do not apply after D1.
    assert_eq!((a.methods.duval_triangle_4, a.methods.duval_triangle_5), (None, None));
    for m in &a.agreeing_methods {
        assert_eq!(a.methods.get(*m).unwrap().family(), FaultCode::D1.family(), "{m:?}");
    }
    for m in &a.disagreeing_methods {
        assert_ne!(a.methods.get(*m).unwrap().family(), FaultCode::D1.family(), "{m:?}");
    }
    assert!(a.confidence.is_some());
    assert!(
        a.explanation.contains("C2H2 60 ppm is above its 95th-percentile level of 2 ppm (IEEE C57.104-2019 Table 2"),
        "{}",
        a.explanation
    );
    assert!(a.explanation.contains("Fault D1"), "{}", a.explanation);
    assert_eq!(a.action, Thresholds::default().actions.status_3);
    assert_eq!(a.ieee_2008_condition, Some(4)); // C2H2 60 > 35
}

#[test]
fn triangle_5_is_a_refinement_and_the_fault_stays_triangle_1s() {
    // The example sample: O2/N2 unknown, H2 120 > 90 ppm (Table 2) → status 3.
    let a = diagnose(&[sample(120.0, 80.0, 30.0, 150.0, 2.0)]);
    assert_eq!(a.status, Ieee2019Status::Three);
    assert_eq!(a.methods.duval_triangle_1, Some(FaultCode::T3));
    assert_eq!(a.methods.duval_triangle_5, Some(FaultCode::T3));
    assert_eq!(a.methods.duval_triangle_4, None);
    assert_eq!((a.fault, a.identified_by), (FaultCode::T3, Some(MethodName::DuvalTriangle1)));
    // Triangle 5 agrees (T3): a refinement that repeats the fault adds nothing and is not listed.
    assert!(a.refinements.iter().all(|r| r.code != a.fault), "{:?}", a.refinements);
    assert!(a.ieee_c57_104_2019.notes.iter().any(|n| n.contains("O2/N2 unknown")));
}

#[test]
fn stray_gassing_never_replaces_the_fault() {
    let a = diagnose(&[sealed(sample(250.0, 60.0, 20.0, 5.0, 0.0))]);
    assert_eq!(a.methods.duval_triangle_1, Some(FaultCode::T1));
    assert_eq!(a.methods.duval_triangle_4, Some(FaultCode::S));
    assert_eq!((a.fault, a.identified_by), (FaultCode::T1, Some(MethodName::DuvalTriangle1)));
    let s = a.refinements.iter().find(|r| r.code == FaultCode::S).expect("S is listed as a refinement");
    assert_eq!(s.method, MethodName::DuvalTriangle4);
    assert!(s.meaning.contains("confirm before acting"), "{}", s.meaning);
    assert!(a.fault_label().starts_with("T1 (S"), "{}", a.fault_label());
}

#[test]
fn a_point_on_a_zone_boundary_is_never_high() {
    // CH4 = C2H4, no C2H2: exactly on the T2/T3 line of Triangle 1 (50 % C2H4).
    let a = diagnose(&[sealed(sample(300.0, 500.0, 50.0, 500.0, 0.0))]);
    let p = a.fault_probability();
    assert!((0.3..0.7).contains(&p), "{p} {:?}", a.fault_probabilities);
    assert_ne!(a.confidence, Some(Confidence::High));
}

#[test]
fn high_confidence_needs_a_robust_point_and_an_exact_cross_check() {
    // Deep in D1 (C2H2-rich, little C2H4): Pentagon 1 and IEC give D1 as well.
    let a = diagnose(&[sealed(sample(400.0, 40.0, 6.0, 20.0, 200.0))]);
    assert_eq!(a.fault, FaultCode::D1);
    assert!(a.fault_probability() > 0.9, "{:?}", a.fault_probabilities);
    assert!(a.agreeing_methods.len() >= 2, "{:?}", a.agreeing_methods);
    assert_eq!(a.confidence, Some(Confidence::High));
}

#[test]
fn without_triangle_1_the_pentagon_identifies_the_fault() {
    let mut s = sealed(sample(500.0, 0.0, 0.0, 0.0, 0.0));
    s.c2h2_ppm = GasReading::BelowDetection { limit_ppm: Some(0.5) };
    let a = diagnose(&[s]);
    assert_eq!(a.methods.duval_triangle_1, None);
    assert_eq!(a.identified_by, Some(MethodName::DuvalPentagon1));
    assert_eq!(a.fault, a.methods.duval_pentagon_1.unwrap());
    match &a.method_details.duval_triangle_1 {
        dga::Outcome::NotApplicable { reason } => assert!(reason.contains("below detection"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn history_in_any_order_is_read_by_date() {
    let old = sealed(sample(10.0, 5.0, 5.0, 10.0, 0.0)).on(d(2024, 1, 10));
    let new = sealed(sample(10.0, 5.0, 5.0, 40.0, 0.0)).on(d(2024, 3, 10));
    let a = diagnose(&[new.clone(), old.clone()]);
    assert_eq!(a.latest_sampled_on, Some(d(2024, 3, 10)));
    let c2h4 = a.ieee_c57_104_2019.gases.iter().find(|g| g.gas == Gas::C2H4).unwrap();
    assert_eq!((c2h4.ppm, c2h4.delta_ppm), (40.0, Some(30.0)));
    assert_eq!(a.status, Ieee2019Status::Two); // +30 ppm C2H4 > 20 (Table 3)
    assert_eq!(a, diagnose(&[old, new]));
}

#[test]
fn no_samples_is_an_error() {
    assert_eq!(diagnose_asset(&[], &AssetInfo::default(), &Thresholds::default()), Err(DiagnosisError::NoSamples));
}

#[test]
fn the_record_has_the_documented_shape() {
    let a = diagnose(&[sample(120.0, 80.0, 30.0, 150.0, 2.0)]);
    let history =
        vec![dga::HistorySample { sample: sample(120.0, 80.0, 30.0, 150.0, 2.0), origin: Default::default() }];
    let record = DiagnosisRecord::new(Some(7), Some("TR-1".into()), a, history);
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["schema_version"], 2);
    assert!(json["refinements"].is_array() && json["warnings"].is_array());
    assert_eq!(json["history"].as_array().unwrap().len(), 1);
    let sp = &json["status_probabilities"];
    let total = sp["1"].as_f64().unwrap() + sp["2"].as_f64().unwrap() + sp["3"].as_f64().unwrap();
    assert!((total - 1.0).abs() < 1e-9, "{sp}");
    assert!(json["priority"]["score"].as_f64().unwrap() >= 200.0, "status 3 scores 200 or more");
    assert_eq!(json["row"], 7);
    assert_eq!(json["asset_id"], "TR-1");
    assert_eq!(json["status"], 3);
    assert_eq!(json["fault"], "T3");
    assert_eq!(json["ieee_2008_condition"], 3); // C2H4 150 ppm: 101-200
    let methods = json["methods"].as_object().unwrap();
    let keys: Vec<&str> = methods.keys().map(String::as_str).collect();
    for m in MethodName::ALL {
        assert!(keys.contains(&m.key()), "{} missing from {keys:?}", m.key());
    }
    assert_eq!(methods.len(), 9);
    assert_eq!(methods["duval_triangle_4"], serde_json::Value::Null);
    assert_eq!(json["method_details"]["duval_pentagon_2"]["outcome"], "verdict");
    assert!(json["method_details"]["duval_pentagon_1"]["centroid"]["x"].is_f64());
    assert_eq!(json["method_details"]["duval_triangle_4"]["outcome"], "not_applicable");

    // Every top-level key is documented.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/diagnosis-record.md")).unwrap();
    for key in json.as_object().unwrap().keys() {
        assert!(doc.contains(&format!("`{key}`")), "docs/diagnosis-record.md does not document `{key}`");
    }
}

fn reading() -> impl Strategy<Value = GasReading> {
    prop_oneof![
        4 => (0.0..=dga::gas::MAX_PPM).prop_map(GasReading::Measured),
        2 => (0.0..5.0f64).prop_map(GasReading::Measured),
        1 => Just(GasReading::Measured(0.0)),
        1 => Just(GasReading::Measured(f64::MIN_POSITIVE)),
        1 => proptest::option::of(0.0..10.0f64).prop_map(|limit_ppm| GasReading::BelowDetection { limit_ppm }),
        1 => Just(GasReading::NotMeasured),
    ]
}

fn any_sample() -> impl Strategy<Value = DgaSample> {
    (proptest::array::uniform9(reading()), proptest::option::of(0i64..20_000)).prop_map(|(r, day)| {
        let mut s =
            DgaSample { sampled_on: day.map(|n| d(1990, 1, 1) + chrono::Duration::days(n)), ..Default::default() };
        for (gas, reading) in Gas::ALL.into_iter().zip(r) {
            s.set(gas, reading);
        }
        s
    })
}

fn assert_finite(v: &serde_json::Value, path: &str) {
    match v {
        serde_json::Value::Number(n) => assert!(n.as_f64().is_some_and(f64::is_finite), "{path}: {n}"),
        serde_json::Value::Array(a) => {
            a.iter().enumerate().for_each(|(i, x)| assert_finite(x, &format!("{path}[{i}]")))
        }
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| assert_finite(x, &format!("{path}.{k}"))),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// Any non-negative input: no panic, a status, and no NaN or infinity anywhere in the record.
    /// (serde_json writes a NaN as null, so the typed values are checked before serializing.)
    #[test]
    fn never_panics_nor_produces_nan(history in proptest::collection::vec(any_sample(), 1..8), age in proptest::option::of(0.0..80.0f64)) {
        let info = AssetInfo { age_years: age, ..AssetInfo::default() };
        let a = diagnose_asset(&history, &info, &Thresholds::default()).unwrap();
        for g in &a.ieee_c57_104_2019.gases {
            prop_assert!(g.ppm.is_finite());
            prop_assert!(g.delta_ppm.is_none_or(f64::is_finite));
            prop_assert!(g.rate_ppm_per_year.is_none_or(f64::is_finite));
        }
        if let Some(v) = a.method_details.duval_pentagon_1.verdict() {
            prop_assert!(v.centroid.x.is_finite() && v.centroid.y.is_finite());
        }
        for v in [&a.method_details.duval_triangle_1, &a.method_details.duval_triangle_4, &a.method_details.duval_triangle_5] {
            if let Some(v) = v.verdict() {
                prop_assert!(v.percent.percent.iter().all(|p| p.is_finite()));
            }
        }
        if let Some(v) = a.method_details.iec_60599.verdict() {
            prop_assert!(v.ratios.c2h2_c2h4.is_finite() && v.ratios.ch4_h2.is_finite() && v.ratios.c2h4_c2h6.is_finite());
        }
        if a.status == Ieee2019Status::One {
            prop_assert_eq!(a.fault, FaultCode::Normal);
        } else {
            prop_assert_ne!(a.fault, FaultCode::Normal);
        }
        let record = DiagnosisRecord::new(None, None, a, Vec::new());
        let json = serde_json::to_value(&record).unwrap();
        assert_finite(&json, "");
        // Reading the record back gives the same record: no NaN or infinity became a null.
        let back: DiagnosisRecord = serde_json::from_str(&json.to_string()).unwrap();
        prop_assert_eq!(back, record);
    }
}

/// A persisted record reads back into the same record (the aggregator and later tools read it).
#[test]
fn records_round_trip_through_json() {
    let history = [
        sealed(sample(10.0, 5.0, 5.0, 10.0, 0.0)).on(d(2023, 1, 10)),
        sealed(sample(40.0, 25.0, 5.0, 60.0, 2.0)).on(d(2023, 9, 10)),
        sealed(sample(90.0, 45.0, 9.0, 140.0, 4.0)).on(d(2024, 3, 10)),
    ];
    for h in [&history[..1], &history[..]] {
        let samples = h
            .iter()
            .map(|s| dga::HistorySample {
                sample: s.clone(),
                origin: dga::SampleOrigin { sheet: Some("Samples".into()), row: Some(2), upload: None },
            })
            .collect();
        let record = DiagnosisRecord::new(Some(4), Some("TR-9".into()), diagnose(h), samples);
        let json = serde_json::to_string(&record).unwrap();
        let back: DiagnosisRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
    }
}
