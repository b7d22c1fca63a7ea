//! IEEE C57.104-2008: TDCG and the four-condition scheme (Table 1), and the TDCG rate (Table 3).

use serde::{Deserialize, Serialize};

use crate::fault::Outcome;
use crate::gas::{DgaSample, Gas};
use crate::thresholds::Ieee2008Thresholds;

/// One gas's condition by IEEE C57.104-2008 Table 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GasCondition {
    /// The gas.
    pub gas: Gas,
    /// Its level in the latest sample, ppm.
    pub ppm: f64,
    /// Its condition, 1-4.
    pub condition: u8,
}

/// The IEEE C57.104-2008 assessment of the latest sample: condition, TDCG and TDCG rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ieee2008Assessment {
    /// The unit's condition 1-4: the highest reached by any individual gas or by TDCG.
    pub condition: u8,
    /// H2 + CH4 + C2H6 + C2H4 + C2H2 + CO of the latest sample (below detection = 0).
    pub tdcg_ppm: f64,
    /// TDCG's own condition, 1-4 (Table 1).
    pub tdcg_condition: u8,
    /// False when CO was not measured: TDCG then understates the standard's sum.
    pub tdcg_includes_co: bool,
    /// Each measured gas's condition: the combustible gases and CO2.
    pub gases: Vec<GasCondition>,
    /// What set the condition, e.g. `["C2H2", "TDCG"]`.
    pub set_by: Vec<String>,
    /// Two-point TDCG rate between the last two dated samples (Table 3 uses ppm/day).
    pub tdcg_rate_ppm_per_day: Option<f64>,
    /// Table 3 sampling interval for this condition and rate band. UNCONFIRMED guidance.
    pub sampling_interval: Option<String>,
}

/// Band edges use `<= upper` of the lower band (S7 form; correct for fractional ppm).
fn band(value: f64, upper: [f64; 3]) -> u8 {
    if value <= upper[0] {
        1
    } else if value <= upper[1] {
        2
    } else if value <= upper[2] {
        3
    } else {
        4
    }
}

/// Total dissolved combustible gas of a sample, ppm: H2 + CH4 + C2H6 + C2H4 + C2H2 + CO, with
/// below detection and not measured counted as 0.
pub fn tdcg_ppm(sample: &DgaSample) -> f64 {
    Gas::COMBUSTIBLE.iter().map(|g| sample.level_or_zero(*g)).sum()
}

/// Condition of the latest sample of `history` (oldest first) and the rate from the one before.
pub fn assess(history: &[DgaSample], t: &Ieee2008Thresholds) -> Outcome<Ieee2008Assessment> {
    let Some(latest) = history.last() else {
        return Outcome::not_applicable("no samples");
    };
    let gases: Vec<GasCondition> = Gas::COMBUSTIBLE
        .iter()
        .chain([Gas::CO2].iter())
        .filter_map(|&gas| {
            let ppm = latest.level(gas)?;
            let upper = t.condition_upper_limits_ppm.get(gas)?;
            Some(GasCondition { gas, ppm, condition: band(ppm, upper) })
        })
        .collect();
    if gases.is_empty() {
        return Outcome::not_applicable("no combustible gas was measured");
    }
    let tdcg = tdcg_ppm(latest);
    let tdcg_condition = band(tdcg, t.tdcg_condition_upper_limits_ppm);
    let condition = gases.iter().map(|g| g.condition).max().unwrap_or(1).max(tdcg_condition);
    let mut set_by: Vec<String> =
        gases.iter().filter(|g| g.condition == condition).map(|g| g.gas.symbol().to_owned()).collect();
    if tdcg_condition == condition {
        set_by.push("TDCG".into());
    }
    let rate = tdcg_rate_ppm_per_day(history);
    let sampling_interval = rate.map(|r| {
        let [low, high] = t.tdcg_rate_bands_ppm_per_day;
        let column = if r < low {
            0
        } else if r <= high {
            1
        } else {
            2
        };
        t.sampling_intervals[usize::from(condition - 1)][column].clone()
    });
    Outcome::Verdict(Ieee2008Assessment {
        condition,
        tdcg_ppm: tdcg,
        tdcg_condition,
        tdcg_includes_co: latest.get(Gas::CO).is_measured(),
        gases,
        set_by,
        tdcg_rate_ppm_per_day: rate,
        sampling_interval,
    })
}

/// (TDCG now − TDCG before) / days between the last two samples, when both are dated and apart.
fn tdcg_rate_ppm_per_day(history: &[DgaSample]) -> Option<f64> {
    let [.., previous, latest] = history else { return None };
    let days = (latest.sampled_on? - previous.sampled_on?).num_days();
    (days > 0).then(|| (tdcg_ppm(latest) - tdcg_ppm(previous)) / days as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Thresholds;
    use chrono::NaiveDate;

    fn t() -> Ieee2008Thresholds {
        Thresholds::default().ieee_c57_104_2008
    }

    #[test]
    fn condition_is_the_worst_gas_or_tdcg() {
        let s = DgaSample::default()
            .with(Gas::H2, 90.0)
            .with(Gas::CH4, 100.0)
            .with(Gas::C2H6, 60.0)
            .with(Gas::C2H4, 40.0)
            .with(Gas::C2H2, 1.0)
            .with(Gas::CO, 340.0)
            .with(Gas::CO2, 2500.0);
        let a = assess(std::slice::from_ref(&s), &t()).verdict().unwrap().clone();
        assert_eq!(a.tdcg_ppm, 631.0);
        assert_eq!(a.condition, 1); // CO2 exactly 2500 is condition 1
        let s = s.with(Gas::C2H2, 10.0);
        let a = assess(&[s], &t()).verdict().unwrap().clone();
        assert_eq!((a.condition, a.set_by.clone()), (3, vec!["C2H2".to_owned()]));
    }

    #[test]
    fn bands_use_less_or_equal_upper_for_fractional_ppm() {
        assert_eq!(band(100.0, [100.0, 700.0, 1800.0]), 1);
        assert_eq!(band(100.5, [100.0, 700.0, 1800.0]), 2);
        assert_eq!(band(1800.0, [100.0, 700.0, 1800.0]), 3);
        assert_eq!(band(1800.1, [100.0, 700.0, 1800.0]), 4);
    }

    #[test]
    fn tdcg_is_named_when_it_reaches_the_condition() {
        // With these limits TDCG never exceeds the worst single gas's condition (condition-1
        // limits sum to 686 ppm < 720), so it can only share the highest condition.
        let s = DgaSample::default()
            .with(Gas::H2, 200.0)
            .with(Gas::CH4, 100.0)
            .with(Gas::C2H6, 0.0)
            .with(Gas::C2H4, 0.0)
            .with(Gas::C2H2, 0.0)
            .with(Gas::CO, 540.0);
        let a = assess(&[s], &t()).verdict().unwrap().clone();
        assert_eq!(a.tdcg_ppm, 840.0);
        assert_eq!((a.condition, a.set_by), (2, vec!["H2".to_owned(), "CO".to_owned(), "TDCG".to_owned()]));
    }

    #[test]
    fn rate_between_last_two_dated_samples() {
        let d = |m| NaiveDate::from_ymd_opt(2024, m, 1).unwrap();
        let a = DgaSample::default().with(Gas::H2, 100.0).with(Gas::CO, 100.0).on(d(1));
        let b = DgaSample::default().with(Gas::H2, 100.0).with(Gas::CO, 1340.0).on(d(2)); // 31 days later
        let out = assess(&[a, b], &t()).verdict().unwrap().clone();
        assert!((out.tdcg_rate_ppm_per_day.unwrap() - 40.0).abs() < 1e-9);
        assert_eq!(out.condition, 3); // CO 1340 ppm
        assert_eq!(out.sampling_interval.as_deref(), Some("weekly")); // condition 3, > 30 ppm/day
        assert_eq!(assess(&[], &t()).reason(), Some("no samples"));
    }
}
