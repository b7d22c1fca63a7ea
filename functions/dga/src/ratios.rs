//! Gas ratios as the ratio methods need them: below-detection values (and measured values under
//! the detection limit) take the detection limit S, so no ratio divides by zero (IEC 60599
//! clause 6.1 as implemented by [S3]; sources.md §3.6).

use crate::gas::{DgaSample, Gas};
use crate::thresholds::DetectionLimits;

/// Checks that every gas a method needs was measured and that not all of them are below
/// detection; the `Err` is the "not applicable" reason.
pub fn require(sample: &DgaSample, gases: &[Gas]) -> Result<(), String> {
    require_measured(sample, gases)?;
    if gases.iter().all(|g| !sample.get(*g).is_detected()) {
        let names: Vec<&str> = gases.iter().map(|g| g.symbol()).collect();
        return Err(format!("{} all below detection", names.join(", ")));
    }
    Ok(())
}

/// Checks only that every gas was measured (below detection is fine).
pub fn require_measured(sample: &DgaSample, gases: &[Gas]) -> Result<(), String> {
    let missing: Vec<&str> = gases.iter().filter(|g| !sample.get(**g).is_measured()).map(|g| g.symbol()).collect();
    if !missing.is_empty() {
        return Err(format!("{} not measured", missing.join(", ")));
    }
    Ok(())
}

/// The concentration a ratio uses: at least the detection limit.
pub fn ratio_ppm(sample: &DgaSample, gas: Gas, limits: &DetectionLimits) -> f64 {
    sample.level(gas).unwrap_or(0.0).max(limits.get(gas))
}

/// `numerator / denominator` with the detection-limit floor on both.
pub fn ratio(sample: &DgaSample, numerator: Gas, denominator: Gas, limits: &DetectionLimits) -> f64 {
    ratio_ppm(sample, numerator, limits) / ratio_ppm(sample, denominator, limits)
}

/// A ratio of two measured levels when both are measured and the denominator is at least its
/// detection limit; for auxiliary findings, which should say nothing rather than invent a ratio.
pub fn measured_ratio(sample: &DgaSample, numerator: Gas, denominator: Gas, limits: &DetectionLimits) -> Option<f64> {
    let n = sample.level(numerator)?;
    let d = sample.level(denominator)?;
    (d >= limits.get(denominator)).then(|| n / d).filter(|r| r.is_finite())
}

/// Inclusive range test used by every ratio table (S1/S2 convention: `lo <= x <= hi`).
pub fn within(x: f64, lo: f64, hi: f64) -> bool {
    (lo..=hi).contains(&x)
}
