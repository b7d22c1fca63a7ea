//! How sure a verdict is, given that lab results scatter: the probabilities of each IEEE status and
//! of each combined fault code under a stated model of measurement uncertainty.
//!
//! # The model
//! Each gas of the latest sample is read as its true value plus an independent Gaussian error
//! whose standard deviation is `relative_uncertainty` × the reading, but never less than
//! `uncertainty_floor_ppm` (defaults ±15 % and 1 ppm, `Thresholds::combined`; see
//! docs/sources.md [U1]–[U3]); a below-detection result with a stated limit (`<0.5`) has the
//! limit / `detection_limit_sigmas` (3, [U4]). Earlier samples enter the Table 3 increase and the Table 4 rate as
//! recorded; O2 and N2 choose the table columns as recorded. A reading cannot fall below zero: a
//! negative draw reads as 0 ppm (and if CH4, C2H4 and C2H2 all read 0, Triangle 1 cannot be
//! formed: `UNDETERMINED`).
//!
//! # How it is computed
//! - Status: each gas reaches status 2 or 3 above one threshold of its latest reading
//!   ([`GasStatus::status_2_above_ppm`]); gases are independent, so the status probabilities
//!   are exact products of normal CDFs.
//! - Fault: every Triangle 1 zone boundary is a plane through the origin in (CH4, C2H4, C2H2)
//!   space, so each zone's probability is a sum of bivariate normal orthant probabilities
//!   (Owen's T, the `owens-t` crate): exact, about a microsecond.
//!   The forms ignore the floor at zero; this is used while its estimated effect is below 0.002
//!   (`TriangleForms::floor_error`), e.g. for 0 ppm C2H2 beside tens of ppm of CH4 and C2H4.
//! - Where that shortcut does not hold (a Triangle 1 gas near zero, so the floor at zero matters;
//!   a Triangle 1 gas's own status threshold in play, so the status gate and the zone are
//!   correlated; or Triangle 1 cannot be formed), a fixed quasi-random set of draws is used
//!   instead: deterministic, the same numbers on every run.
//!
//! [`GasStatus::status_2_above_ppm`]: crate::ieee_c57_104_2019::GasStatus::status_2_above_ppm

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::diagnosis::{MethodDetails, combined_fault};
use crate::duval_triangle::Triangle;
use crate::fault::FaultCode;
use crate::gas::{DgaSample, Gas, GasReading};
use crate::ieee_c57_104_2019::{Ieee2019Assessment, Ieee2019Status};
use crate::thresholds::{DuvalThresholds, Thresholds};

/// Probabilities below this are dropped (and the rest renormalised): they are far below what
/// any lab's repeatability can resolve.
const NEGLIGIBLE: f64 = 1e-9;
/// Quasi-random draws where the exact shortcut does not hold (2,048: within ±0.02 of a 10,000-draw
/// Monte Carlo in tests/verdict.rs, at about 8 µs an asset).
const DRAWS: usize = 2048;
/// The largest estimated effect of the floor at zero, or of the status gate's correlation with
/// the zone, that the exact shortcut may ignore: a tenth of the ±0.02 to which the
/// probabilities are checked against a Monte Carlo.
const FLOOR_ERROR_MAX: f64 = 0.002;
/// Draws of the whole method chain when Triangle 1 cannot be formed (each runs every method).
const CHAIN_DRAWS: usize = 512;

/// The share of plausible readings at each IEEE C57.104-2019 status. Serialized as
/// `{"1": p, "2": p, "3": p}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatusProbabilities {
    /// Status 1.
    #[serde(rename = "1")]
    pub one: f64,
    /// Status 2.
    #[serde(rename = "2")]
    pub two: f64,
    /// Status 3.
    #[serde(rename = "3")]
    pub three: f64,
}

impl StatusProbabilities {
    /// The probability of one status.
    pub fn of(&self, status: Ieee2019Status) -> f64 {
        match status {
            Ieee2019Status::One => self.one,
            Ieee2019Status::Two => self.two,
            Ieee2019Status::Three => self.three,
        }
    }
}

/// The share of plausible readings that land on each combined fault code (codes with no share
/// are left out; the values sum to 1).
pub type FaultProbabilities = BTreeMap<FaultCode, f64>;

/// The standard deviation of a reading under the model, ppm: ±`relative_uncertainty` of the
/// level, at least `uncertainty_floor_ppm`; a below-detection result with a stated limit has
/// limit / `detection_limit_sigmas`.
pub fn sigma_ppm(reading: GasReading, t: &Thresholds) -> f64 {
    let c = &t.combined;
    match reading {
        GasReading::BelowDetection { limit_ppm: Some(limit) } if limit > 0.0 => limit / c.detection_limit_sigmas,
        other => (c.relative_uncertainty * other.level_ppm().unwrap_or(0.0).abs()).max(c.uncertainty_floor_ppm),
    }
}

/// Standard normal CDF.
pub fn phi(u: f64) -> f64 {
    0.5 * libm::erfc(-u * std::f64::consts::FRAC_1_SQRT_2)
}

/// Duval Triangle 1 zone of (CH4, C2H4, C2H2) in ppm (non-negative, as the model floors them):
/// the Table 6 zone of their shares, or `UNDETERMINED` when all three are zero. (The exact
/// forms below are the same inequalities multiplied out: `100·gas ≥ k·(CH4 + C2H4 + C2H2)`.)
pub fn triangle_1_zone_of_ppm(ch4: f64, c2h4: f64, c2h2: f64) -> FaultCode {
    let s = ch4 + c2h4 + c2h2;
    if s <= 0.0 {
        return FaultCode::Undetermined;
    }
    Triangle::One.zone([100.0 * ch4 / s, 100.0 * c2h4 / s, 100.0 * c2h2 / s], &TRIANGLE_1_ONLY)
}

/// Triangle 1 uses no configurable boundary; this only fills the argument.
const TRIANGLE_1_ONLY: DuvalThresholds = DuvalThresholds { triangle_5_stray_gassing_min_c2h6_pct: 14.0 };

/// Both probability maps for one asset: its latest sample, its IEEE 2019 assessment (which holds
/// each gas's status thresholds) and the thresholds in force.
/// `nominal` is the combined fault found on the readings as they stand.
pub fn assess(
    latest: &DgaSample,
    ieee: &Ieee2019Assessment,
    nominal: FaultCode,
    t: &Thresholds,
) -> (StatusProbabilities, FaultProbabilities) {
    let c = &t.combined;
    if c.relative_uncertainty <= 0.0 && c.uncertainty_floor_ppm <= 0.0 {
        // No uncertainty: the verdict found, with certainty.
        let status = ieee.status;
        let mut s = StatusProbabilities { one: 0.0, two: 0.0, three: 0.0 };
        match status {
            Ieee2019Status::One => s.one = 1.0,
            Ieee2019Status::Two => s.two = 1.0,
            Ieee2019Status::Three => s.three = 1.0,
        }
        return (s, BTreeMap::from([(nominal, 1.0)]));
    }

    // Per gas: P(status <= 1) and P(status <= 2) of its latest reading.
    let mut gates: Vec<GasGate> = Vec::with_capacity(ieee.gases.len());
    for g in &ieee.gases {
        let sd = sigma_ppm(latest.get(g.gas), t);
        gates.push(GasGate {
            gas: g.gas,
            mean: g.ppm,
            sd,
            above_2: g.status_2_above_ppm,
            p_le_1: p_at_most(g.status_2_above_ppm, g.ppm, sd),
            p_le_2: p_at_most(g.status_3_above_ppm, g.ppm, sd),
        });
    }
    let p1: f64 = gates.iter().map(|g| g.p_le_1).product();
    let p12: f64 = gates.iter().map(|g| g.p_le_2).product();
    let status = StatusProbabilities { one: p1, two: (p12 - p1).max(0.0), three: (1.0 - p12).max(0.0) };

    let fault = if p1 >= 1.0 - NEGLIGIBLE {
        BTreeMap::from([(FaultCode::Normal, 1.0)])
    } else {
        fault_probabilities(latest, &gates, p1, t)
    };
    (status, fault)
}

/// P(max(0, reading) ≤ limit) for a Gaussian reading.
fn p_at_most(limit: f64, mean: f64, sd: f64) -> f64 {
    if limit < 0.0 { 0.0 } else { phi((limit - mean) / sd) }
}

#[derive(Debug, Clone, Copy)]
struct GasGate {
    gas: Gas,
    mean: f64,
    sd: f64,
    above_2: f64,
    p_le_1: f64,
    p_le_2: f64,
}

fn fault_probabilities(latest: &DgaSample, gates: &[GasGate], p1: f64, t: &Thresholds) -> FaultProbabilities {
    const T1_GASES: [Gas; 3] = [Gas::CH4, Gas::C2H4, Gas::C2H2];
    let gate = |gas: Gas| gates.iter().find(|g| g.gas == gas).copied();
    let (Some(m), Some(e), Some(a)) = (gate(Gas::CH4), gate(Gas::C2H4), gate(Gas::C2H2)) else {
        return chain_draws(latest, gates, t);
    };
    let triangle = [m, e, a];
    let mean = triangle.map(|g| g.mean);
    let sd = triangle.map(|g| g.sd);
    // The exact forms hold while flooring a gas at zero changes nothing that matters.
    let forms = TriangleForms::new(mean, sd);
    let near_zero = forms.floor_error(mean, sd) > FLOOR_ERROR_MAX;
    // The gate is independent of the zone unless a Triangle 1 gas's own threshold is in play.
    let gate_in_play = triangle.iter().any(|g| g.p_le_1 > NEGLIGIBLE && g.p_le_1 < 1.0 - NEGLIGIBLE);
    let mut out = BTreeMap::new();
    // Treating the gate as independent of the zone is off by at most min(P(status 1), P(status
    // > 1)) for any code: within the same budget as the floor, no draws are needed.
    let gate_matters = gate_in_play && p1.min(1.0 - p1) > FLOOR_ERROR_MAX;
    if near_zero || gate_matters {
        let p_other: f64 = gates.iter().filter(|g| !T1_GASES.contains(&g.gas)).map(|g| g.p_le_1).product();
        let limits = triangle.map(|g| g.above_2);
        let mut sums = [0.0f64; 8];
        for z in quasi_normals() {
            let x = [0, 1, 2].map(|i| (mean[i] + sd[i] * z[i]).max(0.0));
            // P(status 1 | these three readings): their own gates, times the other gases'.
            let s1 = if x[0] <= limits[0] && x[1] <= limits[1] && x[2] <= limits[2] { p_other } else { 0.0 };
            sums[zone_index(triangle_1_zone_of_ppm(x[0], x[1], x[2]))] += 1.0 - s1;
        }
        // NORMAL is exactly the status-1 probability; the draws share the rest between zones.
        let drawn: f64 = sums.iter().sum();
        out.insert(FaultCode::Normal, p1);
        if drawn > 0.0 {
            for (i, code) in ZONE_ORDER.iter().enumerate() {
                out.insert(*code, sums[i] / drawn * (1.0 - p1));
            }
            out.insert(FaultCode::Undetermined, sums[UNDETERMINED_SLOT] / drawn * (1.0 - p1));
        }
    } else {
        out.insert(FaultCode::Normal, p1);
        for (code, p) in forms.zone_probabilities() {
            out.insert(code, (1.0 - p1) * p);
        }
    }
    normalised(out)
}

const ZONE_ORDER: [FaultCode; 7] =
    [FaultCode::PD, FaultCode::T1, FaultCode::T2, FaultCode::T3, FaultCode::D1, FaultCode::D2, FaultCode::DT];

fn zone_index(code: FaultCode) -> usize {
    ZONE_ORDER.iter().position(|c| *c == code).unwrap_or(7)
}

const UNDETERMINED_SLOT: usize = 7;

fn normalised(mut map: FaultProbabilities) -> FaultProbabilities {
    map.retain(|_, p| *p > NEGLIGIBLE);
    let total: f64 = map.values().sum();
    if total > 0.0 {
        for p in map.values_mut() {
            *p /= total;
        }
    }
    map
}

/// A linear form `Σ c_i·x_i` of the three Triangle 1 gases, standardised: the event
/// "form ≥ 0" has probability Φ(u); `w` are the coefficients × σ / sd(form), so that the
/// correlation of two forms is the dot product of their `w`.
#[derive(Debug, Clone, Copy)]
struct Form {
    /// The gas whose share the form tests.
    g: usize,
    u: f64,
    w: [f64; 3],
}

/// "%gas ≥ k" for gas index `g` (0 CH4, 1 C2H4, 2 C2H2): `100·x_g − k·Σx ≥ 0`.
fn percent_at_least(g: usize, k: f64, mean: [f64; 3], sd: [f64; 3]) -> Form {
    let mut c = [-k; 3];
    c[g] += 100.0;
    let m: f64 = (0..3).map(|i| c[i] * mean[i]).sum();
    let s = (0..3).map(|i| (c[i] * sd[i]).powi(2)).sum::<f64>().sqrt();
    Form { g, u: m / s, w: [c[0] * sd[0] / s, c[1] * sd[1] / s, c[2] * sd[2] / s] }
}

/// The nine forms of the Triangle 1 table: %CH4 ≥ 98; %C2H2 ≥ 4, 13, 15, 29; %C2H4 ≥ 20, 23,
/// 40, 50.
struct TriangleForms {
    m98: Form,
    a4: Form,
    a13: Form,
    a15: Form,
    a29: Form,
    e20: Form,
    e23: Form,
    e40: Form,
    e50: Form,
}

impl TriangleForms {
    fn new(mean: [f64; 3], sd: [f64; 3]) -> TriangleForms {
        let f = |g, k| percent_at_least(g, k, mean, sd);
        TriangleForms {
            m98: f(0, 98.0),
            a4: f(2, 4.0),
            a13: f(2, 13.0),
            a15: f(2, 15.0),
            a29: f(2, 29.0),
            e20: f(1, 20.0),
            e23: f(1, 23.0),
            e40: f(1, 40.0),
            e50: f(1, 50.0),
        }
    }

    fn all(&self) -> [Form; 9] {
        [self.m98, self.a4, self.a13, self.a15, self.a29, self.e20, self.e23, self.e40, self.e50]
    }

    /// An estimate of how far the floor at zero (a negative draw reads 0 ppm), which the exact
    /// forms ignore, could move any zone probability. Flooring gas i shifts a form by |c_i|·|Y_i|
    /// where Y_i < 0: on average |w_i|·δ_i/σ_i standard deviations of the form (δ_i = E[max(0,
    /// −Y_i)]), reaching about 3|w_i|; what that shift moves is the form's density within reach
    /// of its boundary. A gas's own share is left out while the other two cannot read below zero:
    /// "share ≥ k" of a gas at or below 0 ppm is false either way.
    fn floor_error(&self, mean: [f64; 3], sd: [f64; 3]) -> f64 {
        let p_neg = [0, 1, 2].map(|i| phi(-mean[i] / sd[i]));
        if p_neg.iter().all(|p| *p < 1e-12) {
            return 0.0;
        }
        let delta = [0, 1, 2].map(|i| sd[i] * pdf(mean[i] / sd[i]) - mean[i] * p_neg[i]);
        let mut total = 0.0;
        for f in self.all() {
            for i in 0..3 {
                if p_neg[i] < 1e-12 || (i == f.g && (0..3).all(|j| j == i || p_neg[j] < 1e-6)) {
                    continue;
                }
                let w = f.w[i].abs();
                total += pdf((f.u.abs() - 3.0 * w).max(0.0)) * w * delta[i] / sd[i];
            }
        }
        total
    }

    /// Each zone's probability (see [`triangle_1_zone_probabilities`]).
    fn zone_probabilities(&self) -> [(FaultCode, f64); 7] {
        let TriangleForms { m98, a4, a13, a15, a29, e20, e23, e40, e50 } = *self;
        let pd = p1(m98, true);
        let low_a_low_e = p2(a4, false, e20, false);
        let low_a_mid_e = p2(a4, false, e50, false);
        let t3 = p1(a15, false) - p2(a15, false, e50, false);
        let a13_e23 = p2(a13, true, e23, true);
        let d1 = p1(a13, true) - a13_e23;
        let d2 = a13_e23 - p2(a13, true, e40, true) + p2(a29, true, e40, true);
        let mut z = [
            (FaultCode::PD, pd),
            (FaultCode::T1, low_a_low_e - pd),
            (FaultCode::T2, low_a_mid_e - low_a_low_e),
            (FaultCode::T3, t3),
            (FaultCode::D1, d1),
            (FaultCode::D2, d2),
            (FaultCode::DT, 0.0),
        ];
        for (_, p) in z.iter_mut() {
            *p = p.clamp(0.0, 1.0);
        }
        let rest: f64 = z.iter().map(|(_, p)| p).sum();
        z[6].1 = (1.0 - rest).max(0.0);
        let total = rest + z[6].1;
        for (_, p) in z.iter_mut() {
            *p /= total;
        }
        z
    }
}

/// Standard normal density.
fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (std::f64::consts::TAU).sqrt()
}

/// P(form ≥ 0) when `ge`, P(form < 0) otherwise.
fn p1(f: Form, ge: bool) -> f64 {
    if ge { phi(f.u) } else { phi(-f.u) }
}

/// P(a ≥ 0 or < 0, and b ≥ 0 or < 0): a bivariate normal orthant.
fn p2(a: Form, a_ge: bool, b: Form, b_ge: bool) -> f64 {
    // {form ≥ 0} = {Z > −u}; {form < 0} = {−Z > u}. owens_t::biv_norm(x, y, ρ) = P(X > x, Y > y).
    let (x, sa) = if a_ge { (-a.u, 1.0) } else { (a.u, -1.0) };
    let (y, sb) = if b_ge { (-b.u, 1.0) } else { (b.u, -1.0) };
    const TAIL: f64 = 8.5;
    if x > TAIL || y > TAIL {
        return 0.0;
    }
    if x < -TAIL {
        return phi(-y);
    }
    if y < -TAIL {
        return phi(-x);
    }
    let rho = (sa * sb * (a.w[0] * b.w[0] + a.w[1] * b.w[1] + a.w[2] * b.w[2])).clamp(-0.999_999, 0.999_999);
    owens_t::biv_norm(x, y, rho)
}

/// Each Triangle 1 zone's probability for independent Gaussian readings (means and standard
/// deviations of CH4, C2H4, C2H2, ppm; no floor at zero), exactly, from the zone table's
/// half-planes:
/// T1 = {C2H2 < 4 %, C2H4 < 20 %} − PD; T2 = {C2H2 < 4 %, C2H4 < 50 %} − {…, < 20 %};
/// T3 = {C2H2 < 15 %} − {C2H2 < 15 %, C2H4 < 50 %}; D1 = {C2H2 ≥ 13 %} − {C2H2 ≥ 13 %,
/// C2H4 ≥ 23 %}; D2 = {≥ 13 %, ≥ 23 %} − {≥ 13 %, ≥ 40 %} + {C2H2 ≥ 29 %, C2H4 ≥ 40 %}; DT the rest.
pub fn triangle_1_zone_probabilities(mean: [f64; 3], sd: [f64; 3]) -> [(FaultCode, f64); 7] {
    TriangleForms::new(mean, sd).zone_probabilities()
}

/// The fixed draws: a Halton sequence (bases 2, 3, 5, 7, skipping the first points) through
/// Box–Muller, three standard normals a point. Computed once.
fn quasi_normals() -> &'static [[f64; 3]] {
    static POINTS: OnceLock<Vec<[f64; 3]>> = OnceLock::new();
    POINTS.get_or_init(|| {
        (0..DRAWS)
            .map(|i| {
                let k = i as u64 + 1;
                let (u1, u2, u3, u4) = (halton(k, 2), halton(k, 3), halton(k, 5), halton(k, 7));
                let (r1, r2) = ((-2.0 * u1.ln()).sqrt(), (-2.0 * u3.ln()).sqrt());
                let tau = std::f64::consts::TAU;
                [r1 * (tau * u2).cos(), r1 * (tau * u2).sin(), r2 * (tau * u4).cos()]
            })
            .collect()
    })
}

fn halton(mut index: u64, base: u64) -> f64 {
    let (mut f, mut r) = (1.0, 0.0);
    while index > 0 {
        f /= base as f64;
        r += f * (index % base) as f64;
        index /= base;
    }
    r
}

/// When Triangle 1 cannot be formed (one of its gases was not analysed), the combined fault
/// comes from the fallback chain: draw whole samples and run every method on each.
fn chain_draws(latest: &DgaSample, gates: &[GasGate], t: &Thresholds) -> FaultProbabilities {
    let mut rng = SplitMix(0x5EED_D6A0_2019_0001);
    let mut counts: BTreeMap<FaultCode, f64> = BTreeMap::new();
    for _ in 0..CHAIN_DRAWS {
        let mut s = latest.clone();
        let mut status = Ieee2019Status::One;
        for g in gates {
            let x = g.mean + g.sd * rng.normal();
            s.set(g.gas, GasReading::Measured(x.max(0.0)));
            if x > g.above_2 {
                status = status.max(Ieee2019Status::Two);
            }
        }
        let (code, _) = combined_fault(status, &MethodDetails::of(&s, t).codes());
        *counts.entry(code).or_default() += 1.0;
    }
    normalised(counts)
}

/// A small deterministic generator (SplitMix64) for the rare whole-chain draws.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact forms' decomposition is the zone table: with almost no uncertainty, the zone of
    /// the readings gets all the probability, at random points across the triangle.
    #[test]
    fn the_exact_forms_reproduce_the_zone_table() {
        let mut rng = SplitMix(7);
        for _ in 0..20_000 {
            let x = [rng.unit() * 500.0, rng.unit() * 500.0, rng.unit() * 500.0];
            let zone = triangle_1_zone_of_ppm(x[0], x[1], x[2]);
            let p = triangle_1_zone_probabilities(x, x.map(|v| 1e-7 * v + 1e-9));
            let got = p.iter().find(|(c, _)| *c == zone).unwrap().1;
            assert!(got > 0.999, "{x:?}: {zone} {p:?}");
        }
        assert_eq!(triangle_1_zone_of_ppm(0.0, 0.0, 0.0), FaultCode::Undetermined);
    }

    #[test]
    fn a_stated_detection_limit_is_three_standard_deviations() {
        let t = Thresholds::default();
        assert!((sigma_ppm(GasReading::BelowDetection { limit_ppm: Some(0.6) }, &t) - 0.2).abs() < 1e-12);
        assert_eq!(sigma_ppm(GasReading::BelowDetection { limit_ppm: None }, &t), 1.0);
        assert_eq!(sigma_ppm(GasReading::Measured(0.0), &t), 1.0);
        assert!((sigma_ppm(GasReading::Measured(200.0), &t) - 30.0).abs() < 1e-12);
    }

    #[test]
    fn zone_probabilities_far_inside_and_on_a_boundary() {
        let sd = |m: [f64; 3]| m.map(|v: f64| (0.15 * v).max(1.0));
        // Deep in T3: 10 % CH4, 88 % C2H4, 2 % C2H2 of 1000 ppm.
        let deep = [100.0, 880.0, 20.0];
        let z = triangle_1_zone_probabilities(deep, sd(deep));
        assert!(z[3].1 > 0.99, "{z:?}");
        // On the T2/T3 line (C2H4 = 50 %, no C2H2): about half each.
        let edge = [500.0, 500.0, 0.0];
        let z = triangle_1_zone_probabilities(edge, sd(edge));
        assert!((z[2].1 - 0.5).abs() < 0.05 && (z[3].1 - 0.5).abs() < 0.05, "{z:?}");
    }
}
