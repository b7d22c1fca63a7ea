//! Rogers ratio method: IEEE C57.104-2008 Table 5 = IEEE C57.104-2019 Table 5.

use serde::{Deserialize, Serialize};

use crate::fault::{FaultCode, HasCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::ratios::{ratio, require, within};
use crate::thresholds::DetectionLimits;

/// The three Rogers ratios, with the detection limit substituted for lower values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RogersRatios {
    /// C2H2/C2H4.
    pub c2h2_c2h4: f64,
    /// CH4/H2.
    pub ch4_h2: f64,
    /// C2H4/C2H6.
    pub c2h4_c2h6: f64,
}

/// The Rogers verdict of one sample (IEEE C57.104-2008 Table 5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RogersVerdict {
    /// The table's case number 0-5, `None` when no row matches.
    pub case: Option<u8>,
    /// The case's code: NORMAL, PD, D2, T1, T2, T3, or UNDETERMINED when no row matches.
    pub code: FaultCode,
    /// The three ratios.
    pub ratios: RogersRatios,
}

impl HasCode for RogersVerdict {
    fn code(&self) -> FaultCode {
        self.code
    }
}

const GASES: [Gas; 5] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2];

/// Table 5, CONFIRMED-3 [S1][S2][S3]; ranges inclusive at both ends (S1/S2). Cases map to codes
/// as in [S1]: 0 unit normal, 1 PD, 2 D2, 3 T1, 4 T2, 5 T3.
pub fn case(r: RogersRatios) -> Option<(u8, FaultCode)> {
    let (a, m, e) = (r.c2h2_c2h4, r.ch4_h2, r.c2h4_c2h6);
    if a < 0.1 && within(m, 0.1, 1.0) && e < 1.0 {
        Some((0, FaultCode::Normal))
    } else if a < 0.1 && m < 0.1 && e < 1.0 {
        Some((1, FaultCode::PD))
    } else if within(a, 0.1, 3.0) && within(m, 0.1, 1.0) && e > 3.0 {
        Some((2, FaultCode::D2))
    } else if a < 0.1 && within(m, 0.1, 1.0) && within(e, 1.0, 3.0) {
        Some((3, FaultCode::T1))
    } else if a < 0.1 && m > 1.0 && within(e, 1.0, 3.0) {
        Some((4, FaultCode::T2))
    } else if a < 0.1 && m > 1.0 && e > 3.0 {
        Some((5, FaultCode::T3))
    } else {
        None
    }
}

/// Classifies one sample by the Rogers ratios (Table 5).
pub fn classify(sample: &DgaSample, limits: &DetectionLimits) -> Outcome<RogersVerdict> {
    if let Err(reason) = require(sample, &GASES) {
        return Outcome::not_applicable(reason);
    }
    let ratios = RogersRatios {
        c2h2_c2h4: ratio(sample, Gas::C2H2, Gas::C2H4, limits),
        ch4_h2: ratio(sample, Gas::CH4, Gas::H2, limits),
        c2h4_c2h6: ratio(sample, Gas::C2H4, Gas::C2H6, limits),
    };
    let (case, code) = match case(ratios) {
        Some((n, code)) => (Some(n), code),
        None => (None, FaultCode::Undetermined),
    };
    Outcome::Verdict(RogersVerdict { case, code, ratios })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(a: f64, m: f64, e: f64) -> Option<(u8, FaultCode)> {
        case(RogersRatios { c2h2_c2h4: a, ch4_h2: m, c2h4_c2h6: e })
    }

    #[test]
    fn table_5_row_by_row() {
        assert_eq!(c(0.05, 0.5, 0.5), Some((0, FaultCode::Normal)));
        assert_eq!(c(0.05, 0.05, 0.5), Some((1, FaultCode::PD)));
        assert_eq!(c(1.0, 0.5, 4.0), Some((2, FaultCode::D2)));
        assert_eq!(c(0.05, 0.5, 2.0), Some((3, FaultCode::T1)));
        assert_eq!(c(0.05, 2.0, 2.0), Some((4, FaultCode::T2)));
        assert_eq!(c(0.05, 2.0, 4.0), Some((5, FaultCode::T3)));
        assert_eq!(c(5.0, 0.5, 0.5), None);
    }

    #[test]
    fn edges_are_inclusive() {
        assert_eq!(c(0.05, 0.1, 0.5), Some((0, FaultCode::Normal)));
        assert_eq!(c(0.05, 1.0, 0.5), Some((0, FaultCode::Normal)));
        assert_eq!(c(0.05, 1.0, 1.0), Some((3, FaultCode::T1)));
        assert_eq!(c(0.05, 0.5, 3.0), Some((3, FaultCode::T1)));
        assert_eq!(c(0.1, 0.1, 3.01), Some((2, FaultCode::D2)));
        assert_eq!(c(3.0, 1.0, 3.01), Some((2, FaultCode::D2)));
        assert_eq!(c(0.05, 1.01, 3.0), Some((4, FaultCode::T2)));
        assert_eq!(c(0.1, 0.5, 0.5), None); // C2H2/C2H4 = 0.1 is not < 0.1
    }

    #[test]
    fn computes_ratios_from_the_sample() {
        let s = DgaSample::default()
            .with(Gas::H2, 120.0)
            .with(Gas::CH4, 80.0)
            .with(Gas::C2H6, 30.0)
            .with(Gas::C2H4, 150.0)
            .with(Gas::C2H2, 2.0);
        let v = *classify(&s, &crate::Thresholds::default().detection_limits_ppm).verdict().unwrap();
        assert!((v.ratios.ch4_h2 - 0.6667).abs() < 1e-3 && (v.ratios.c2h4_c2h6 - 5.0).abs() < 1e-9);
        assert_eq!((v.case, v.code), (None, FaultCode::Undetermined)); // C2H2/C2H4 0.013 with C2H4/C2H6 5: no row
    }
}
