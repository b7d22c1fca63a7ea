//! Throughput of the diagnosis methods. Run: `cargo bench -p dga --bench diagnosis`.
//!
//! Single-sample methods are measured over a pool of 1024 varied samples (so branch prediction
//! does not learn one path); `diagnose_asset` over a realistic six-sample, two-year history.
//! Samples per second per core = 1 / (median time per sample); divan runs on one thread.

use chrono::NaiveDate;
use dga::duval_pentagon::{self, Pentagon};
use dga::duval_triangle::Triangle;
use dga::{AssetInfo, DgaSample, Gas, Thresholds, diagnose_asset, doernenburg, iec_60599, key_gas, rogers};
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

const POOL: usize = 1024;

/// Deterministic pseudo-random compositions covering every zone (xorshift; no dependency).
fn pool() -> Vec<DgaSample> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 10_000) as f64 / 10.0
    };
    (0..POOL)
        .map(|_| {
            DgaSample::default()
                .with(Gas::H2, next())
                .with(Gas::CH4, next())
                .with(Gas::C2H6, next())
                .with(Gas::C2H4, next())
                .with(Gas::C2H2, next() / 10.0)
                .with(Gas::CO, next())
                .with(Gas::CO2, next() * 10.0)
                .with(Gas::O2, 1000.0 + next() * 20.0)
                .with(Gas::N2, 50_000.0)
        })
        .collect()
}

fn history(seed: f64) -> Vec<DgaSample> {
    (0..6u32)
        .map(|i| {
            let g = f64::from(i);
            DgaSample::default()
                .on(NaiveDate::from_ymd_opt(2023, 1 + i * 2, 10).unwrap_or_default())
                .with(Gas::H2, 40.0 + seed + 6.0 * g)
                .with(Gas::CH4, 30.0 + 4.0 * g)
                .with(Gas::C2H6, 20.0 + g)
                .with(Gas::C2H4, 25.0 + 9.0 * g)
                .with(Gas::C2H2, 0.5 * g)
                .with(Gas::CO, 400.0 + 10.0 * g)
                .with(Gas::CO2, 3000.0 + 50.0 * g)
                .with(Gas::O2, 3000.0)
                .with(Gas::N2, 55_000.0)
        })
        .collect()
}

/// Runs `f` once per sample of the pool; divan reports time per sample (items = POOL).
fn per_sample<R>(bencher: Bencher, f: impl Fn(&DgaSample, &Thresholds) -> R + Sync) {
    let samples = pool();
    let t = Thresholds::default();
    bencher.counter(divan::counter::ItemsCount::new(POOL)).bench(|| {
        for s in &samples {
            black_box(f(black_box(s), &t));
        }
    });
}

#[divan::bench]
fn duval_triangle_1(b: Bencher) {
    per_sample(b, |s, t| Triangle::One.classify(s, None, &t.duval));
}

#[divan::bench]
fn duval_triangles_4_and_5(b: Bencher) {
    per_sample(b, |s, t| {
        (
            Triangle::Four.classify(s, Some(dga::FaultCode::T2), &t.duval),
            Triangle::Five.classify(s, Some(dga::FaultCode::T2), &t.duval),
        )
    });
}

#[divan::bench]
fn duval_pentagon_1(b: Bencher) {
    per_sample(b, |s, _| duval_pentagon::classify(s, Pentagon::One));
}

#[divan::bench]
fn duval_pentagon_2(b: Bencher) {
    per_sample(b, |s, _| duval_pentagon::classify(s, Pentagon::Two));
}

#[divan::bench]
fn iec_60599_ratios(b: Bencher) {
    per_sample(b, iec_60599::classify);
}

#[divan::bench]
fn rogers_ratios(b: Bencher) {
    per_sample(b, |s, t| rogers::classify(s, &t.detection_limits_ppm));
}

#[divan::bench]
fn doernenburg_ratios(b: Bencher) {
    per_sample(b, |s, t| doernenburg::classify(s, &t.doernenburg, &t.detection_limits_ppm));
}

#[divan::bench]
fn key_gas_method(b: Bencher) {
    per_sample(b, |s, t| key_gas::classify(s, &t.ieee_c57_104_2008));
}

/// Every single-sample method on one sample (what the pipeline runs on each latest sample).
#[divan::bench]
fn all_single_sample_methods(b: Bencher) {
    per_sample(b, dga::diagnosis::MethodDetails::of);
}

/// The whole asset diagnosis over a six-sample history (status, rates, every method, the
/// probabilities from measurement uncertainty, the priority, the explanation); items = assets,
/// so the figure is assets diagnosed per second.
#[divan::bench]
fn diagnose_asset_six_sample_history(b: Bencher) {
    let assets: Vec<Vec<DgaSample>> = (0..64).map(|i| history(f64::from(i))).collect();
    let t = Thresholds::default();
    let info = AssetInfo { age_years: Some(18.0), ..AssetInfo::default() };
    b.counter(divan::counter::ItemsCount::new(assets.len())).bench(|| {
        for h in &assets {
            black_box(diagnose_asset(black_box(h), &info, &t).ok());
        }
    });
}

/// The uncertainty step alone (status and fault probabilities) over the pool's samples as
/// single-sample assets: the exact path, the quasi-random path and the status-1 shortcut mixed.
#[divan::bench]
fn uncertainty_probabilities(b: Bencher) {
    let samples = pool();
    let t = Thresholds::default();
    let assessed: Vec<_> = samples
        .iter()
        .map(|s| {
            let a = dga::ieee_c57_104_2019::assess(std::slice::from_ref(s), None, &t.ieee_c57_104_2019).unwrap();
            let fault = dga::diagnosis::combined_fault(a.status, &dga::diagnosis::MethodDetails::of(s, &t).codes()).0;
            (a, fault)
        })
        .collect();
    b.counter(divan::counter::ItemsCount::new(POOL)).bench(|| {
        for (s, (a, fault)) in samples.iter().zip(&assessed) {
            black_box(dga::uncertainty::assess(black_box(s), a, *fault, &t));
        }
    });
}
