//! Key gas method: IEEE C57.104-2008 clause 6.4.
//!
//! The standard names a principal ("key") gas per fault — C2H4 for overheated oil (with CH4 and
//! C2H6 at lower temperatures), CO for overheated cellulose, H2 for corona, C2H2 for arcing — but
//! gives no numeric decision rule (sources.md §2.3). Our rule, an implementation choice: the key
//! gas is the one furthest above its IEEE 2008 condition-1 limit (Table 1, CONFIRMED-3), and no
//! gas above its limit means no fault. Comparing raw proportions instead would let CO, normally
//! present in hundreds of ppm, name "cellulose" for almost every transformer.

use serde::{Deserialize, Serialize};

use crate::fault::{FaultCode, HasCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::ratios::require_measured;
use crate::thresholds::Ieee2008Thresholds;

/// The fault a key gas points to (IEEE C57.104-2008 clause 6.4), and the code it is reported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyGasFault {
    /// Key gas C2H4: reported as `T3-H`, a thermal fault in oil (ethylene-rich gas is the high
    /// temperature pattern, as in Duval Triangle 1 and Pentagon 2).
    OilOverheating,
    /// Key gas CH4 or C2H6: reported as `O`, overheating of oil at lower temperature.
    OilOverheatingLowTemperature,
    /// Key gas CO: reported as `C`, paper involved.
    CelluloseOverheating,
    /// Key gas H2: `PD`.
    Corona,
    /// Key gas C2H2 (with H2): `D2`.
    Arcing,
    /// No gas above its condition-1 limit: `NORMAL`.
    None,
}

impl KeyGasFault {
    fn of(gas: Gas) -> KeyGasFault {
        match gas {
            Gas::C2H4 => KeyGasFault::OilOverheating,
            Gas::CH4 | Gas::C2H6 => KeyGasFault::OilOverheatingLowTemperature,
            Gas::CO => KeyGasFault::CelluloseOverheating,
            Gas::H2 => KeyGasFault::Corona,
            Gas::C2H2 => KeyGasFault::Arcing,
            Gas::CO2 | Gas::O2 | Gas::N2 => KeyGasFault::None,
        }
    }

    /// The code the fault is reported as.
    pub fn code(self) -> FaultCode {
        match self {
            KeyGasFault::OilOverheating => FaultCode::T3H,
            KeyGasFault::OilOverheatingLowTemperature => FaultCode::O,
            KeyGasFault::CelluloseOverheating => FaultCode::C,
            KeyGasFault::Corona => FaultCode::PD,
            KeyGasFault::Arcing => FaultCode::D2,
            KeyGasFault::None => FaultCode::Normal,
        }
    }
}

/// The key-gas verdict of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KeyGasVerdict {
    /// The reported code: T3-H, O, C, PD, D2 or NORMAL.
    pub code: FaultCode,
    /// The fault the key gas points to.
    pub fault: KeyGasFault,
    /// The gas furthest above its condition-1 limit (also reported when none is above).
    pub key_gas: Gas,
    /// Its concentration divided by its condition-1 limit.
    pub times_condition_1_limit: f64,
}

impl HasCode for KeyGasVerdict {
    fn code(&self) -> FaultCode {
        self.code
    }
}

const HYDROCARBONS: [Gas; 5] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2];
/// Evaluation order; a tie goes to the first (the more severe fault).
const CANDIDATES: [Gas; 6] = [Gas::C2H2, Gas::H2, Gas::C2H4, Gas::CO, Gas::CH4, Gas::C2H6];

/// Classifies one sample by its key gas: the one furthest above its IEEE C57.104-2008
/// condition-1 limit (Table 1).
pub fn classify(sample: &DgaSample, t: &Ieee2008Thresholds) -> Outcome<KeyGasVerdict> {
    if let Err(reason) = require_measured(sample, &HYDROCARBONS) {
        return Outcome::not_applicable(reason);
    }
    if CANDIDATES.iter().all(|g| !sample.get(*g).is_detected()) {
        return Outcome::not_applicable("all combustible gases below detection");
    }
    let mut best: Option<(Gas, f64)> = None;
    for gas in CANDIDATES {
        let (Some(ppm), Some([limit, ..])) = (sample.level(gas), t.condition_upper_limits_ppm.get(gas)) else {
            continue;
        };
        let times = if limit > 0.0 { ppm / limit } else { f64::INFINITY };
        if best.is_none_or(|(_, b)| times > b) {
            best = Some((gas, times));
        }
    }
    let Some((key_gas, times)) = best else {
        return Outcome::not_applicable("no condition-1 limits are configured");
    };
    let fault = if times > 1.0 { KeyGasFault::of(key_gas) } else { KeyGasFault::None };
    Outcome::Verdict(KeyGasVerdict { code: fault.code(), fault, key_gas, times_condition_1_limit: times })
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
        classify(&s, &Thresholds::default().ieee_c57_104_2008).code()
    }

    #[test]
    fn each_key_gas() {
        assert_eq!(run(60.0, 80.0, 40.0, 300.0, 0.0, Some(300.0)), Some(FaultCode::T3H));
        assert_eq!(run(60.0, 400.0, 90.0, 40.0, 0.0, Some(300.0)), Some(FaultCode::O));
        assert_eq!(run(60.0, 30.0, 20.0, 10.0, 0.0, Some(1200.0)), Some(FaultCode::C));
        assert_eq!(run(900.0, 60.0, 10.0, 5.0, 0.0, Some(100.0)), Some(FaultCode::PD));
        // Arcing: 171 ppm C2H2 is 171 × its 1 ppm limit, beyond everything else.
        assert_eq!(run(310.0, 108.0, 24.0, 185.0, 171.0, Some(640.0)), Some(FaultCode::D2));
    }

    #[test]
    fn nothing_above_condition_1_is_normal() {
        assert_eq!(run(20.0, 5.0, 1.0, 1.0, 0.0, Some(300.0)), Some(FaultCode::Normal));
        assert_eq!(run(20.0, 5.0, 1.0, 1.0, 0.0, None), Some(FaultCode::Normal));
        assert_eq!(run(0.0, 0.0, 0.0, 0.0, 0.0, Some(0.0)), None);
        // CO alone above its limit still points at paper.
        assert_eq!(run(0.0, 0.0, 0.0, 0.0, 0.0, Some(400.0)), Some(FaultCode::C));
    }
}
