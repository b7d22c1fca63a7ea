//! The verdict an engineer reads, checked against inspected cases and against the stated
//! measurement-uncertainty model: the combined fault must be right at least as often as the best
//! single method; `high` must mean right; the probabilities must be what a Monte Carlo of the
//! model says; the priority must rank worse before better.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use dga::ieee_c57_104_2019;
use dga::uncertainty::triangle_1_zone_of_ppm;
use dga::{
    AssetInfo, Confidence, DgaSample, FaultCode, Gas, GasReading, Ieee2019Status, MethodName, Thresholds,
    diagnose_asset,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The published inspected cases (tests/fixtures/README.md).

struct Case {
    id: String,
    sample: DgaSample,
    acceptable: Vec<String>,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dga-inspected-dev.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let gases = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2, Gas::CO, Gas::CO2];
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let mut sample = DgaSample::default();
            for gas in gases {
                let cell = r[col(gas.symbol())].trim();
                // A blank cell was not reported by the source: usually not detected.
                let reading = if cell.is_empty() {
                    GasReading::BelowDetection { limit_ppm: None }
                } else {
                    GasReading::Measured(cell.parse().unwrap())
                };
                sample.set(gas, reading);
            }
            Case {
                id: r[col("case_id")].to_owned(),
                sample,
                acceptable: r[col("acceptable_labels")].split(';').map(str::to_owned).collect(),
            }
        })
        .collect()
}

/// PD / D / T / DT / NORMAL: the families the issue scores by.
fn family(code: &str) -> &'static str {
    match code {
        "PD" => "PD",
        "D1" | "D2" => "D",
        "T1" | "T2" | "T3" | "T3-H" | "O" | "C" | "S" => "T",
        "DT" => "DT",
        "NORMAL" => "NORMAL",
        _ => "none",
    }
}

/// A method's code as an exact answer: Pentagon 2's and the key-gas T3-H is T3.
fn exact(code: FaultCode) -> String {
    if code == FaultCode::T3H { "T3".into() } else { code.to_string() }
}

#[test]
fn the_combined_fault_beats_every_single_method_and_high_means_right() {
    let t = Thresholds::default();
    let cases = cases();
    assert_eq!(cases.len(), 38);
    let n = cases.len() as f64;
    let mut exact_hits: BTreeMap<&str, usize> = BTreeMap::new();
    let mut family_hits: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut high, mut high_right) = (0, 0);
    let mut misses = Vec::new();
    for case in &cases {
        let d = diagnose_asset(std::slice::from_ref(&case.sample), &AssetInfo::default(), &t).unwrap();
        let label_family = family(&case.acceptable[0]);
        let mut score = |name: &'static str, code: Option<FaultCode>| {
            let code = code.map_or("none".to_owned(), exact);
            *exact_hits.entry(name).or_default() += usize::from(case.acceptable.contains(&code));
            *family_hits.entry(name).or_default() += usize::from(family(&code) == label_family);
        };
        for m in MethodName::ALL {
            score(m.key(), d.methods.get(m));
        }
        score("combined", Some(d.fault));
        let right = case.acceptable.contains(&d.fault.to_string());
        if d.confidence == Some(Confidence::High) {
            high += 1;
            high_right += usize::from(right);
        }
        if !right {
            misses.push(format!(
                "{}: {} (p {:.2}, {}) where inspection found {}; {}",
                case.id,
                d.fault_label(),
                d.fault_probability(),
                d.confidence_word(),
                case.acceptable.join("/"),
                d.rationale
            ));
        }
    }
    println!("method                 exact       family");
    for (name, hits) in &exact_hits {
        println!("{name:<22} {:>5.1} %     {:>5.1} %", 100.0 * *hits as f64 / n, 100.0 * family_hits[name] as f64 / n);
    }
    println!("high: {high} calls, {high_right} right");
    for m in &misses {
        println!("miss: {m}");
    }
    let best = |hits: &BTreeMap<&str, usize>| hits.iter().filter(|(k, _)| **k != "combined").map(|(_, v)| *v).max();
    assert!(exact_hits["combined"] >= best(&exact_hits).unwrap(), "exact: {exact_hits:?}");
    assert!(family_hits["combined"] >= best(&family_hits).unwrap(), "family: {family_hits:?}");
    assert!(high_right as f64 >= 0.95 * high as f64, "{high_right} of {high} high calls right");
    assert!(high as f64 >= n / 3.0, "high on only {high} of {n} cases");
}

// ---------------------------------------------------------------------------------------------
// The uncertainty model, by Monte Carlo.

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A small deterministic generator for the Monte Carlo (independent of the library's draws).
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

/// The stated model, simulated the long way: perturb the latest sample's rated gases (a negative
/// draw reads 0 ppm), run the IEEE 2019 assessment on the perturbed history, and read the
/// Triangle 1 zone.
fn monte_carlo(history: &[DgaSample], t: &Thresholds, draws: usize, seed: u64) -> (BTreeMap<FaultCode, f64>, [f64; 3]) {
    let mut rng = Rng(seed);
    let mut faults: BTreeMap<FaultCode, f64> = BTreeMap::new();
    let mut status = [0.0; 3];
    let last = history.len() - 1;
    let mut h = history.to_vec();
    for _ in 0..draws {
        for gas in Gas::IEEE_2019 {
            let c = &t.combined;
            let (v, sd) = match history[last].get(gas) {
                // "<0.5": 0 ppm, with the limit as three standard deviations.
                GasReading::BelowDetection { limit_ppm: Some(l) } if l > 0.0 => (0.0, l / c.detection_limit_sigmas),
                other => match other.level_ppm() {
                    Some(v) => (v, (c.relative_uncertainty * v).max(c.uncertainty_floor_ppm)),
                    None => continue,
                },
            };
            h[last].set(gas, GasReading::Measured((v + sd * rng.normal()).max(0.0)));
        }
        let a = ieee_c57_104_2019::assess(&h, None, &t.ieee_c57_104_2019).unwrap();
        status[usize::from(a.status.number() - 1)] += 1.0;
        let s = &h[last];
        let fault = if a.status == Ieee2019Status::One {
            FaultCode::Normal
        } else {
            triangle_1_zone_of_ppm(s.level(Gas::CH4).unwrap(), s.level(Gas::C2H4).unwrap(), s.level(Gas::C2H2).unwrap())
        };
        *faults.entry(fault).or_default() += 1.0;
    }
    let n = draws as f64;
    faults.values_mut().for_each(|p| *p /= n);
    (faults, status.map(|c| c / n))
}

/// Gas readings as labs report them: mostly tens to thousands of ppm, often near zero or below
/// a stated detection limit.
fn level() -> impl Strategy<Value = GasReading> {
    prop_oneof![
        6 => (0.0f64..3.5).prop_map(|e| GasReading::Measured(10f64.powf(e))),
        2 => (0.0f64..3.0).prop_map(GasReading::Measured),
        1 => Just(GasReading::Measured(0.0)),
        1 => prop_oneof![Just(0.5), Just(1.0), Just(5.0)].prop_map(|l| GasReading::BelowDetection { limit_ppm: Some(l) }),
    ]
}

fn history_strategy() -> impl Strategy<Value = Vec<DgaSample>> {
    let sample = (proptest::array::uniform7(level()), any::<bool>()).prop_map(|(g, sealed)| {
        let mut s = DgaSample::default();
        for (gas, reading) in Gas::IEEE_2019.into_iter().zip(g) {
            s.set(gas, reading);
        }
        let o2 = if sealed { 2_000.0 } else { 25_000.0 };
        s.with(Gas::O2, o2).with(Gas::N2, 50_000.0)
    });
    proptest::collection::vec(sample, 1..5).prop_map(|mut h| {
        for (i, s) in h.iter_mut().enumerate() {
            s.sampled_on = Some(d(2023, 1, 10) + chrono::Duration::days(91 * i as i64));
        }
        h
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn probabilities_agree_with_a_monte_carlo_of_the_model(history in history_strategy(), seed in any::<u64>()) {
        let t = Thresholds::default();
        let a = diagnose_asset(&history, &AssetInfo::default(), &t).unwrap();
        const DRAWS: usize = 10_000;
        let (faults, status) = monte_carlo(&history, &t, DRAWS, seed | 1);
        // Both sides are estimates: the Monte Carlo's own error (four standard errors of a
        // share from 10,000 draws: at most 0.02) plus 0.01 for the library's 2,048 Halton draws,
        // where it draws. A fixed 0.02 for both together failed on an honest case (D1 0.370 vs
        // 0.390, kept in verdict.proptest-regressions).
        let tolerance = |p: f64| 4.0 * (p * (1.0 - p) / DRAWS as f64).sqrt() + 0.01;
        let sp = a.status_probabilities;
        for (got, want) in [sp.one, sp.two, sp.three].into_iter().zip(status) {
            prop_assert!((got - want).abs() <= tolerance(want), "status {:?} vs Monte Carlo {:?}", sp, status);
        }
        let codes: std::collections::BTreeSet<FaultCode> = faults.keys().chain(a.fault_probabilities.keys()).copied().collect();
        for code in codes {
            let got = a.fault_probabilities.get(&code).copied().unwrap_or(0.0);
            let want = faults.get(&code).copied().unwrap_or(0.0);
            prop_assert!((got - want).abs() <= tolerance(want), "{code}: {got} vs Monte Carlo {want}; {:?} vs {faults:?}", a.fault_probabilities);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn probabilities_are_shares_and_repeatable(history in history_strategy()) {
        let t = Thresholds::default();
        let a = diagnose_asset(&history, &AssetInfo::default(), &t).unwrap();
        let sp = a.status_probabilities;
        for p in [sp.one, sp.two, sp.three].into_iter().chain(a.fault_probabilities.values().copied()) {
            prop_assert!((0.0..=1.0).contains(&p), "{p}");
        }
        prop_assert!((sp.one + sp.two + sp.three - 1.0).abs() < 1e-9);
        prop_assert!((a.fault_probabilities.values().sum::<f64>() - 1.0).abs() < 1e-9);
        // The same input always gives the same numbers.
        let again = diagnose_asset(&history, &AssetInfo::default(), &t).unwrap();
        prop_assert_eq!(&again.fault_probabilities, &a.fault_probabilities);
        prop_assert_eq!(again.status_probabilities, sp);
        // A boundary point is never high.
        if a.fault_probability() < t.combined.high_confidence_min_probability {
            prop_assert_ne!(a.confidence, Some(Confidence::High));
        }
    }

    /// With the fault code held fixed, the priority never falls when a gas of the latest sample,
    /// and so its increase and rate, rises.
    #[test]
    fn priority_never_falls_when_a_gas_rises(history in history_strategy(), gas in 0usize..7, factor in 1.0f64..20.0, add in 0.0f64..500.0) {
        let t = Thresholds::default();
        let before = diagnose_asset(&history, &AssetInfo::default(), &t).unwrap();
        let mut raised = history.clone();
        let last = raised.len() - 1;
        let g = Gas::IEEE_2019[gas];
        let v = raised[last].level(g).unwrap();
        raised[last].set(g, GasReading::Measured(v * factor + add + 1.0));
        let after = diagnose_asset(&raised, &AssetInfo::default(), &t).unwrap();
        if after.fault == before.fault {
            prop_assert!(after.priority.score >= before.priority.score - 1e-9, "{} → {}", before.priority.score, after.priority.score);
        }
        prop_assert!(after.status >= before.status);
    }
}

#[test]
fn far_inside_a_zone_and_on_a_boundary() {
    let t = Thresholds::default();
    let sealed =
        |s: DgaSample| s.with(Gas::CO, 200.0).with(Gas::CO2, 2000.0).with(Gas::O2, 2000.0).with(Gas::N2, 40000.0);
    // 1000 ppm of gas, 88 % C2H4: far inside T3, far above every limit.
    let deep = sealed(
        DgaSample::default()
            .with(Gas::H2, 300.0)
            .with(Gas::CH4, 100.0)
            .with(Gas::C2H6, 50.0)
            .with(Gas::C2H4, 880.0)
            .with(Gas::C2H2, 20.0),
    );
    let a = diagnose_asset(std::slice::from_ref(&deep), &AssetInfo::default(), &t).unwrap();
    assert_eq!(a.fault, FaultCode::T3);
    assert!(a.fault_probability() >= 0.99, "{:?}", a.fault_probabilities);
    assert!(a.status_probabilities.three >= 0.99);
    // On the T2/T3 line: about half.
    let edge = sealed(
        DgaSample::default()
            .with(Gas::H2, 300.0)
            .with(Gas::CH4, 500.0)
            .with(Gas::C2H6, 50.0)
            .with(Gas::C2H4, 500.0)
            .with(Gas::C2H2, 0.0),
    );
    let a = diagnose_asset(std::slice::from_ref(&edge), &AssetInfo::default(), &t).unwrap();
    assert!((0.3..=0.7).contains(&a.fault_probability()), "{:?}", a.fault_probabilities);
    // Zero uncertainty: the zone found, with certainty.
    let mut exact = t.clone();
    exact.combined.relative_uncertainty = 0.0;
    exact.combined.uncertainty_floor_ppm = 0.0;
    for s in [&deep, &edge] {
        let a = diagnose_asset(std::slice::from_ref(s), &AssetInfo::default(), &exact).unwrap();
        assert_eq!(a.fault_probabilities.get(&a.fault), Some(&1.0), "{:?}", a.fault_probabilities);
        assert_eq!(a.status_probabilities.of(a.status), 1.0);
    }
}

#[test]
fn a_status_3_asset_five_times_over_ranks_above_one_just_over() {
    let t = Thresholds::default();
    // Sealed unit, unknown age: Table 2 C2H2 is 2 ppm. 10 ppm is 5×, 2.2 ppm 1.1×.
    let unit = |c2h2: f64| {
        DgaSample::default()
            .with(Gas::H2, 30.0)
            .with(Gas::CH4, 20.0)
            .with(Gas::C2H6, 10.0)
            .with(Gas::C2H4, 20.0)
            .with(Gas::C2H2, c2h2)
            .with(Gas::CO, 200.0)
            .with(Gas::CO2, 2000.0)
            .with(Gas::O2, 2000.0)
            .with(Gas::N2, 40000.0)
    };
    let five = diagnose_asset(&[unit(10.0)], &AssetInfo::default(), &t).unwrap();
    let just = diagnose_asset(&[unit(2.2)], &AssetInfo::default(), &t).unwrap();
    assert_eq!((five.status, just.status), (Ieee2019Status::Three, Ieee2019Status::Three));
    assert!(five.priority.score > just.priority.score + 1.0, "{:?} vs {:?}", five.priority, just.priority);
    assert_eq!(five.priority.level_gas, Some(Gas::C2H2));
    assert!(five.priority.score >= 200.0 && five.priority.score < 300.0);
}
