//! IEC 60599 (Ed. 3 2015 / Ed. 4 2022): the three basic gas ratios (Table 1), typical
//! concentrations and rates (Annex A), and the auxiliary ratios (CO2/CO, O2/N2, C2H2/H2).

use serde::{Deserialize, Serialize};

use crate::fault::{FaultCode, HasCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::ratios::{measured_ratio, ratio, require, within};
use crate::thresholds::{Iec60599Thresholds, Thresholds};

/// The three basic ratios.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IecRatios {
    /// C2H2/C2H4.
    pub c2h2_c2h4: f64,
    /// CH4/H2.
    pub ch4_h2: f64,
    /// C2H4/C2H6.
    pub c2h4_c2h6: f64,
}

/// The IEC 60599 verdict of one sample: the Table 1 code and the ratios behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IecVerdict {
    /// The Table 1 code: PD, D1, D2, T1, T2, T3, or UNDETERMINED when no row matches.
    pub code: FaultCode,
    /// The three basic ratios.
    pub ratios: IecRatios,
}

impl HasCode for IecVerdict {
    fn code(&self) -> FaultCode {
        self.code
    }
}

const GASES: [Gas; 5] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2];

/// Table 1 (CONFIRMED-3 [S1][S2][S3]), ranges inclusive, first match in the order PD, D1, D2,
/// T1, T2, T3. "NS" (not significant) ratios are ignored, as [S1] reads the table; set
/// `pd_t1_max_c2h2_c2h4` for [S2]'s stricter reading.
pub fn code(r: IecRatios, t: &Iec60599Thresholds) -> FaultCode {
    let ns_ok = t.pd_t1_max_c2h2_c2h4.is_none_or(|max| r.c2h2_c2h4 < max);
    if ns_ok && r.ch4_h2 < 0.1 && r.c2h4_c2h6 < 0.2 {
        FaultCode::PD
    } else if r.c2h2_c2h4 > 1.0 && within(r.ch4_h2, 0.1, 0.5) && r.c2h4_c2h6 > 1.0 {
        FaultCode::D1
    } else if within(r.c2h2_c2h4, 0.6, 2.5) && within(r.ch4_h2, 0.1, 1.0) && r.c2h4_c2h6 > 2.0 {
        FaultCode::D2
    } else if ns_ok && r.ch4_h2 > 1.0 && r.c2h4_c2h6 < 1.0 {
        FaultCode::T1
    } else if r.c2h2_c2h4 < 0.1 && r.ch4_h2 > 1.0 && within(r.c2h4_c2h6, 1.0, 4.0) {
        FaultCode::T2
    } else if r.c2h2_c2h4 < 0.2 && r.ch4_h2 > 1.0 && r.c2h4_c2h6 > 4.0 {
        FaultCode::T3
    } else {
        FaultCode::Undetermined
    }
}

/// The three basic ratios of a sample, with the detection limit substituted for lower values
/// (clause 6.1).
pub fn ratios(sample: &DgaSample, t: &Thresholds) -> IecRatios {
    let s = &t.detection_limits_ppm;
    IecRatios {
        c2h2_c2h4: ratio(sample, Gas::C2H2, Gas::C2H4, s),
        ch4_h2: ratio(sample, Gas::CH4, Gas::H2, s),
        c2h4_c2h6: ratio(sample, Gas::C2H4, Gas::C2H6, s),
    }
}

/// Classifies one sample by the three basic ratios (Table 1).
pub fn classify(sample: &DgaSample, t: &Thresholds) -> Outcome<IecVerdict> {
    if let Err(reason) = require(sample, &GASES) {
        return Outcome::not_applicable(reason);
    }
    let r = ratios(sample, t);
    Outcome::Verdict(IecVerdict { code: code(r, &t.iec_60599), ratios: r })
}

/// A gas above its Annex A typical value (concentration or rate of increase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypicalExceedance {
    /// The gas.
    pub gas: Gas,
    /// Whether its concentration or its rate is above typical.
    pub measure: TypicalMeasure,
    /// The gas's value: ppm, or ppm/year for a rate.
    pub value: f64,
    /// The typical value it exceeds, in the same unit.
    pub typical: f64,
}

/// Which Annex A typical value a gas exceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypicalMeasure {
    /// The 90 % typical concentration, ppm.
    ConcentrationPpm,
    /// The 90 % typical rate of increase, ppm/year.
    RatePpmPerYear,
}

/// Gases above the 90 % typical concentration (latest sample) or typical rate (least-squares
/// rates over the history, when available). IEC 60599 itself interprets a fault only when this
/// list is not empty (sources.md §7); the ratio code is reported regardless, as every method's
/// verdict is, and this list tells the engineer whether IEC would act on it.
pub fn typical_exceedances(
    latest: &DgaSample,
    rates_ppm_per_year: &[(Gas, f64)],
    oltc_communicating: bool,
    t: &Iec60599Thresholds,
) -> Vec<TypicalExceedance> {
    let mut out = Vec::new();
    for gas in Gas::IEEE_2019 {
        let Some(typical) = t.typical_ppm.get(gas) else { continue };
        let typical =
            if gas == Gas::C2H2 && oltc_communicating { t.typical_c2h2_communicating_oltc_ppm } else { typical };
        if let Some(v) = latest.level(gas).filter(|v| *v > typical) {
            out.push(TypicalExceedance { gas, measure: TypicalMeasure::ConcentrationPpm, value: v, typical });
        }
    }
    for &(gas, rate) in rates_ppm_per_year {
        let Some(typical) = t.typical_rate_ppm_per_year.get(gas) else { continue };
        let typical = if gas == Gas::C2H2 && oltc_communicating {
            t.typical_c2h2_rate_communicating_oltc_ppm_per_year
        } else {
            typical
        };
        if rate > typical {
            out.push(TypicalExceedance { gas, measure: TypicalMeasure::RatePpmPerYear, value: rate, typical });
        }
    }
    out
}

/// An auxiliary finding of IEC 60599 (paraphrased from the standard by [S3]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Which finding.
    pub code: FindingCode,
    /// The ratio's value.
    pub ratio: f64,
    /// The finding in an engineer's words, with the ratio and the limit.
    pub text: String,
}

/// The auxiliary findings of IEC 60599.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// CO2/CO low with other fault gases present: paper probably involved in a fault.
    PaperInvolved,
    /// CO2/CO high with CO2 high: mild overheating of paper (< 160 °C) or oil oxidation.
    PaperOverheatingOrOxidation,
    /// O2/N2 low in a free-breathing unit: excessive oxygen consumption.
    OxygenConsumption,
    /// C2H2/H2 high in the main tank: suspect contamination from the OLTC compartment.
    OltcContamination,
}

/// CO2/CO, O2/N2 and C2H2/H2 findings. Ratios here use measured values only: a finding is
/// never raised from a substituted detection limit. CO2/CO < 3 means paper involvement only
/// "when other fault gases are present" (3.5): `fault_gases_present` says whether any gas is above
/// its typical value.
pub fn auxiliary_findings(
    sample: &DgaSample,
    free_breathing: Option<bool>,
    fault_gases_present: bool,
    t: &Iec60599Thresholds,
    limits: &crate::thresholds::DetectionLimits,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(r) = measured_ratio(sample, Gas::CO2, Gas::CO, limits) {
        if r < t.co2_co_paper_max && fault_gases_present {
            out.push(Finding {
                code: FindingCode::PaperInvolved,
                ratio: r,
                text: format!(
                    "CO2/CO = {r:.2} is below {}: paper is probably involved in a fault, possibly with carbonisation, if other fault gases are present",
                    t.co2_co_paper_max
                ),
            });
        } else if r > t.co2_co_oxidation_min && sample.level(Gas::CO2).unwrap_or(0.0) > t.co2_oxidation_min_ppm {
            out.push(Finding {
                code: FindingCode::PaperOverheatingOrOxidation,
                ratio: r,
                text: format!(
                    "CO2/CO = {r:.1} is above {} with CO2 above {} ppm: mild overheating of paper (< 160 °C) or oil oxidation",
                    t.co2_co_oxidation_min, t.co2_oxidation_min_ppm
                ),
            });
        }
    }
    // Sealed units sit low naturally, so only a unit not known to be sealed is flagged.
    if free_breathing == Some(true)
        && let Some(r) = measured_ratio(sample, Gas::O2, Gas::N2, limits)
        && r < t.o2_n2_consumption_max
    {
        out.push(Finding {
            code: FindingCode::OxygenConsumption,
            ratio: r,
            text: format!(
                "O2/N2 = {r:.2} is below {} in a free-breathing unit: excessive oxygen consumption (oxidation, paper ageing)",
                t.o2_n2_consumption_max
            ),
        });
    }
    if let Some(r) = measured_ratio(sample, Gas::C2H2, Gas::H2, limits)
        && r > t.c2h2_h2_oltc_contamination_min
    {
        out.push(Finding {
            code: FindingCode::OltcContamination,
            ratio: r,
            text: format!(
                "C2H2/H2 = {r:.1} is above {}: suspect contamination from the OLTC compartment; confirm with DGA of the main tank, OLTC and conservators",
                t.c2h2_h2_oltc_contamination_min
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(c2h2_c2h4: f64, ch4_h2: f64, c2h4_c2h6: f64) -> FaultCode {
        code(IecRatios { c2h2_c2h4, ch4_h2, c2h4_c2h6 }, &Thresholds::default().iec_60599)
    }

    #[test]
    fn table_1_row_by_row() {
        assert_eq!(r(5.0, 0.05, 0.1), FaultCode::PD); // C2H2/C2H4 not significant for PD
        assert_eq!(r(1.5, 0.3, 2.0), FaultCode::D1);
        assert_eq!(r(1.0, 0.5, 3.0), FaultCode::D2);
        assert_eq!(r(3.0, 2.0, 0.5), FaultCode::T1); // NS for T1
        assert_eq!(r(0.05, 2.0, 2.0), FaultCode::T2);
        assert_eq!(r(0.15, 2.0, 5.0), FaultCode::T3);
        assert_eq!(r(0.5, 0.5, 0.5), FaultCode::Undetermined);
    }

    #[test]
    fn ranges_are_inclusive_and_order_is_pd_d1_d2_t1_t2_t3() {
        assert_eq!(r(1.01, 0.1, 1.01), FaultCode::D1);
        assert_eq!(r(1.01, 0.5, 1.01), FaultCode::D1);
        assert_eq!(r(0.6, 1.0, 2.01), FaultCode::D2);
        assert_eq!(r(2.5, 0.1, 2.01), FaultCode::D1); // D1 matches first
        assert_eq!(r(0.05, 1.01, 1.0), FaultCode::T2);
        assert_eq!(r(0.05, 1.01, 4.0), FaultCode::T2);
        assert_eq!(r(0.05, 1.01, 4.01), FaultCode::T3);
        assert_eq!(r(0.15, 1.01, 2.0), FaultCode::Undetermined); // too much C2H2 for T2, too little C2H4 for T3
    }

    #[test]
    fn stricter_ns_reading_is_an_option() {
        let mut t = Thresholds::default().iec_60599;
        t.pd_t1_max_c2h2_c2h4 = Some(0.01);
        let strict = |a, b, c| code(IecRatios { c2h2_c2h4: a, ch4_h2: b, c2h4_c2h6: c }, &t);
        assert_eq!(strict(0.5, 0.05, 0.1), FaultCode::Undetermined);
        assert_eq!(strict(0.005, 0.05, 0.1), FaultCode::PD);
    }

    #[test]
    fn detection_limits_replace_zeros() {
        let t = Thresholds::default();
        let s = DgaSample::default()
            .with(Gas::H2, 10.0)
            .with(Gas::CH4, 50.0)
            .with(Gas::C2H6, 20.0)
            .with(Gas::C2H4, 100.0)
            .with(Gas::C2H2, 0.0);
        let v = *classify(&s, &t).verdict().unwrap();
        assert!((v.ratios.c2h2_c2h4 - 0.001).abs() < 1e-12);
        assert_eq!(v.code, FaultCode::T3);
        let none = DgaSample::default()
            .with(Gas::H2, 0.0)
            .with(Gas::CH4, 0.0)
            .with(Gas::C2H6, 0.0)
            .with(Gas::C2H4, 0.0)
            .with(Gas::C2H2, 0.0);
        assert!(classify(&none, &t).reason().unwrap().contains("below detection"));
    }

    #[test]
    fn typical_values_and_auxiliary_findings() {
        let t = Thresholds::default().iec_60599;
        let lim = Thresholds::default().detection_limits_ppm;
        let s = DgaSample::default()
            .with(Gas::H2, 10.0)
            .with(Gas::C2H2, 30.0)
            .with(Gas::CO, 500.0)
            .with(Gas::CO2, 1000.0)
            .with(Gas::O2, 1000.0)
            .with(Gas::N2, 50000.0);
        let ex = typical_exceedances(&s, &[(Gas::H2, 200.0)], false, &t);
        assert_eq!(
            ex.iter().map(|e| (e.gas, e.measure)).collect::<Vec<_>>(),
            [(Gas::C2H2, TypicalMeasure::ConcentrationPpm), (Gas::H2, TypicalMeasure::RatePpmPerYear)]
        );
        // With a communicating OLTC, 30 ppm C2H2 is typical.
        assert!(typical_exceedances(&s, &[], true, &t).is_empty());
        let codes: Vec<_> = auxiliary_findings(&s, Some(true), true, &t, &lim).iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::PaperInvolved, FindingCode::OxygenConsumption, FindingCode::OltcContamination]);
        let sealed: Vec<_> = auxiliary_findings(&s, Some(false), true, &t, &lim).iter().map(|f| f.code).collect();
        assert!(!sealed.contains(&FindingCode::OxygenConsumption));
        // Without other fault gases a low CO2/CO says nothing.
        let quiet: Vec<_> = auxiliary_findings(&s, Some(false), false, &t, &lim).iter().map(|f| f.code).collect();
        assert!(!quiet.contains(&FindingCode::PaperInvolved));
    }
}
