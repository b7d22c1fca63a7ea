//! Key gas method: IEEE C57.104-2008 clause 6.4.
//!
//! The standard describes each fault by its principal gas and prints relative-proportion charts
//! but gives no numeric decision rule (dga-methods.md 2.3). We classify by the nearest chart
//! profile (Euclidean distance between the sample's and the profile's percentages of the
//! combustible gases); the profiles are configurable and marked UNCONFIRMED.

use serde::Serialize;

use crate::fault::{FaultCode, HasCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::thresholds::{KeyGasProfile, KeyGasThresholds};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyGasFault {
    /// Key gas C2H4: reported as `T3-H` (a thermal fault in oil; C2H4-dominated gas is a high
    /// temperature pattern in Duval Triangle 1 too).
    OilOverheating,
    /// Key gas CO: reported as `C` (paper involved).
    CelluloseOverheating,
    /// Key gas H2: `PD`.
    Corona,
    /// Key gases C2H2 with H2: `D2`.
    Arcing,
}

impl KeyGasFault {
    pub fn code(self) -> FaultCode {
        match self {
            KeyGasFault::OilOverheating => FaultCode::T3H,
            KeyGasFault::CelluloseOverheating => FaultCode::C,
            KeyGasFault::Corona => FaultCode::PD,
            KeyGasFault::Arcing => FaultCode::D2,
        }
    }

    pub fn key_gas(self) -> Gas {
        match self {
            KeyGasFault::OilOverheating => Gas::C2H4,
            KeyGasFault::CelluloseOverheating => Gas::CO,
            KeyGasFault::Corona => Gas::H2,
            KeyGasFault::Arcing => Gas::C2H2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KeyGasVerdict {
    pub code: FaultCode,
    pub fault: KeyGasFault,
    pub key_gas: Gas,
    /// Distance to the nearest profile, percentage points (0 = identical proportions).
    pub distance_pct: f64,
}

impl HasCode for KeyGasVerdict {
    fn code(&self) -> FaultCode {
        self.code
    }
}

const HYDROCARBONS: [Gas; 5] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2];

pub fn classify(sample: &DgaSample, t: &KeyGasThresholds) -> Outcome<KeyGasVerdict> {
    if let Err(reason) = crate::ratios::require_measured(sample, &HYDROCARBONS) {
        return Outcome::not_applicable(reason);
    }
    // Without CO the cellulose profile cannot be recognised; compare on the other five gases.
    let with_co = sample.get(Gas::CO).is_measured();
    let gases: &[Gas] = if with_co { &Gas::COMBUSTIBLE } else { &HYDROCARBONS };
    let total: f64 = gases.iter().map(|g| sample.level_or_zero(*g)).sum();
    if !(total > 0.0 && total.is_finite()) {
        return Outcome::not_applicable("all combustible gases below detection");
    }
    let candidates: &[(KeyGasFault, &KeyGasProfile)] = &[
        (KeyGasFault::OilOverheating, &t.oil_overheating),
        (KeyGasFault::CelluloseOverheating, &t.cellulose_overheating),
        (KeyGasFault::Corona, &t.corona),
        (KeyGasFault::Arcing, &t.arcing),
    ];
    let mut best: Option<(KeyGasFault, f64)> = None;
    for &(fault, profile) in candidates {
        if !with_co && fault == KeyGasFault::CelluloseOverheating {
            continue;
        }
        let profile_total: f64 = gases.iter().map(|g| profile.get(*g)).sum();
        if profile_total <= 0.0 {
            continue;
        }
        let distance = gases
            .iter()
            .map(|g| {
                let d = 100.0 * sample.level_or_zero(*g) / total - 100.0 * profile.get(*g) / profile_total;
                d * d
            })
            .sum::<f64>()
            .sqrt();
        if best.is_none_or(|(_, d)| distance < d) {
            best = Some((fault, distance));
        }
    }
    match best {
        Some((fault, distance_pct)) => {
            Outcome::Verdict(KeyGasVerdict { code: fault.code(), fault, key_gas: fault.key_gas(), distance_pct })
        }
        None => Outcome::not_applicable("no key-gas profile is configured"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Thresholds;

    fn run(h2: f64, ch4: f64, c2h6: f64, c2h4: f64, c2h2: f64, co: Option<f64>) -> Option<FaultCode> {
        let mut s = DgaSample::default()
            .with(Gas::H2, h2)
            .with(Gas::CH4, ch4)
            .with(Gas::C2H6, c2h6)
            .with(Gas::C2H4, c2h4)
            .with(Gas::C2H2, c2h2);
        if let Some(co) = co {
            s = s.with(Gas::CO, co);
        }
        classify(&s, &Thresholds::default().key_gas).code()
    }

    #[test]
    fn each_chart_is_recognised() {
        assert_eq!(run(10.0, 80.0, 100.0, 300.0, 0.0, Some(5.0)), Some(FaultCode::T3H));
        assert_eq!(run(20.0, 5.0, 1.0, 1.0, 0.0, Some(900.0)), Some(FaultCode::C));
        assert_eq!(run(900.0, 120.0, 10.0, 5.0, 0.0, Some(10.0)), Some(FaultCode::PD));
        assert_eq!(run(300.0, 30.0, 10.0, 20.0, 150.0, Some(20.0)), Some(FaultCode::D2));
    }

    #[test]
    fn without_co_cellulose_is_not_considered() {
        assert_eq!(run(20.0, 5.0, 1.0, 1.0, 0.0, None), Some(FaultCode::PD));
        assert_eq!(run(0.0, 0.0, 0.0, 0.0, 0.0, Some(0.0)), None);
        // CO alone still points at paper.
        assert_eq!(run(0.0, 0.0, 0.0, 0.0, 0.0, Some(400.0)), Some(FaultCode::C));
    }
}
