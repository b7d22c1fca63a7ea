//! Doernenburg ratio method: IEEE C57.104-2008 clause 6.5.1, with its L1 validity rules.

use serde::{Deserialize, Serialize};

use crate::fault::{FaultCode, HasCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::ratios::{ratio, require};
use crate::thresholds::{DetectionLimits, DoernenburgThresholds};

/// The four Doernenburg ratios, with the detection limit substituted for lower values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DoernenburgRatios {
    /// R1 = CH4/H2
    pub ch4_h2: f64,
    /// R2 = C2H2/C2H4
    pub c2h2_c2h4: f64,
    /// R3 = C2H2/CH4
    pub c2h2_ch4: f64,
    /// R4 = C2H6/C2H2
    pub c2h6_c2h2: f64,
}

/// The Doernenburg verdict of one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoernenburgVerdict {
    /// `NORMAL` below the 2 × L1 gate; `PD` (corona), `D2` (arcing), `T2` (thermal decomposition,
    /// whose temperature this method does not grade: it agrees only by family), or `UNDETERMINED`.
    pub code: FaultCode,
    /// What the matched row means, e.g. `thermal decomposition`.
    pub finding: std::borrow::Cow<'static, str>,
    /// Absent below the gate: the ratios are not evaluated there.
    pub ratios: Option<DoernenburgRatios>,
}

impl HasCode for DoernenburgVerdict {
    fn code(&self) -> FaultCode {
        self.code
    }
}

const GASES: [Gas; 5] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2];

/// Classifies one sample by the Doernenburg ratios: `l1` are the L1 limits (IEEE C57.104-2008
/// Table 2), `limits` the detection limits substituted for lower values in the ratios.
pub fn classify(
    sample: &DgaSample,
    l1: &DoernenburgThresholds,
    limits: &DetectionLimits,
) -> Outcome<DoernenburgVerdict> {
    if let Err(reason) = require(sample, &GASES) {
        return Outcome::not_applicable(reason);
    }
    let above = |gas: Gas, limit: f64| sample.level(gas).is_some_and(|v| v > limit);
    let (h2, ch4, c2h2, c2h4, c2h6, co) = (
        above(Gas::H2, l1.l1_h2_ppm),
        above(Gas::CH4, l1.l1_ch4_ppm),
        above(Gas::C2H2, l1.l1_c2h2_ppm),
        above(Gas::C2H4, l1.l1_c2h4_ppm),
        above(Gas::C2H6, l1.l1_c2h6_ppm),
        above(Gas::CO, l1.l1_co_ppm),
    );
    // Step 1: a fault is present only if one of H2, CH4, C2H2, C2H4 exceeds 2 × L1 and one of
    // C2H6, CO exceeds L1.
    let doubled = above(Gas::H2, 2.0 * l1.l1_h2_ppm)
        || above(Gas::CH4, 2.0 * l1.l1_ch4_ppm)
        || above(Gas::C2H2, 2.0 * l1.l1_c2h2_ppm)
        || above(Gas::C2H4, 2.0 * l1.l1_c2h4_ppm);
    if !(doubled && (c2h6 || co)) {
        return Outcome::Verdict(DoernenburgVerdict {
            code: FaultCode::Normal,
            finding: "no fault: gases below the 2 × L1 / L1 gate".into(),
            ratios: None,
        });
    }
    // Step 2: each ratio is significant only if one of its two gases exceeds L1 (written as the
    // four pairs of the standard, not minimised, so it reads against the text).
    #[allow(clippy::nonminimal_bool)]
    if !((ch4 || h2) && (c2h2 || c2h4) && (c2h2 || ch4) && (c2h6 || c2h2)) {
        return Outcome::not_applicable(
            "ratios not significant (a ratio's gases are both below L1): resample or use another method",
        );
    }
    let r = DoernenburgRatios {
        ch4_h2: ratio(sample, Gas::CH4, Gas::H2, limits),
        c2h2_c2h4: ratio(sample, Gas::C2H2, Gas::C2H4, limits),
        c2h2_ch4: ratio(sample, Gas::C2H2, Gas::CH4, limits),
        c2h6_c2h2: ratio(sample, Gas::C2H6, Gas::C2H2, limits),
    };
    // Step 3: the oil-dissolved column of the table. SINGLE [S1].
    let (code, finding) = if r.ch4_h2 > 1.0 && r.c2h2_c2h4 < 0.75 && r.c2h2_ch4 < 0.3 && r.c2h6_c2h2 > 0.4 {
        (FaultCode::T2, "thermal decomposition")
    } else if r.ch4_h2 < 0.1 && r.c2h2_ch4 < 0.3 && r.c2h6_c2h2 > 0.4 {
        (FaultCode::PD, "corona (low-intensity partial discharge)")
    } else if r.ch4_h2 > 0.1 && r.ch4_h2 < 1.0 && r.c2h2_c2h4 > 0.75 && r.c2h2_ch4 > 0.3 && r.c2h6_c2h2 < 0.4 {
        (FaultCode::D2, "arcing (high-intensity partial discharge)")
    } else {
        (FaultCode::Undetermined, "not determined: the ratios match no row")
    };
    Outcome::Verdict(DoernenburgVerdict { code, finding: finding.into(), ratios: Some(r) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Thresholds;

    fn run(h2: f64, ch4: f64, c2h6: f64, c2h4: f64, c2h2: f64, co: f64) -> Outcome<DoernenburgVerdict> {
        let t = Thresholds::default();
        let s = DgaSample::default()
            .with(Gas::H2, h2)
            .with(Gas::CH4, ch4)
            .with(Gas::C2H6, c2h6)
            .with(Gas::C2H4, c2h4)
            .with(Gas::C2H2, c2h2)
            .with(Gas::CO, co);
        classify(&s, &t.doernenburg, &t.detection_limits_ppm)
    }

    #[test]
    fn below_the_gate_is_normal() {
        assert_eq!(run(50.0, 50.0, 30.0, 20.0, 0.0, 200.0).code(), Some(FaultCode::Normal));
        // One gas above 2 × L1 but neither C2H6 nor CO above L1: still no fault.
        assert_eq!(run(250.0, 50.0, 30.0, 20.0, 0.0, 200.0).code(), Some(FaultCode::Normal));
    }

    #[test]
    fn each_row() {
        assert_eq!(run(100.0, 300.0, 100.0, 200.0, 0.5, 400.0).code(), Some(FaultCode::T2));
        assert_eq!(run(2000.0, 150.0, 70.0, 10.0, 0.5, 400.0).code(), None); // C2H2, C2H4 both < L1
        assert_eq!(run(2000.0, 150.0, 70.0, 60.0, 0.5, 400.0).code(), Some(FaultCode::PD));
        assert_eq!(run(500.0, 150.0, 20.0, 100.0, 200.0, 400.0).code(), Some(FaultCode::D2));
        assert_eq!(run(500.0, 600.0, 100.0, 300.0, 200.0, 400.0).code(), Some(FaultCode::Undetermined));
    }

    #[test]
    fn validity_rule_gives_not_applicable() {
        let out = run(300.0, 50.0, 100.0, 30.0, 0.5, 100.0);
        assert!(out.reason().unwrap().contains("not significant"));
    }
}
