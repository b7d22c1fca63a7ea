//! The asset diagnosis: every method over the asset's sample history, combined into one status,
//! one fault type with the methods that agree and disagree, an explanation and an action.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::duval_pentagon::{self, Pentagon, PentagonOutcome};
use crate::fault::{FaultCode, MethodName, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::iec_60599::{self, Finding, IecVerdict, TypicalExceedance};
use crate::ieee_c57_104_2008::{self, Ieee2008Assessment};
use crate::ieee_c57_104_2019::{self, Ieee2019Assessment, Ieee2019Status};
use crate::ternary::TriangleOutcome;
use crate::thresholds::Thresholds;
use crate::{doernenburg, duval_triangle_1, duval_triangle_4, duval_triangle_5, key_gas, rogers};

/// What the diagnosis needs to know about the transformer besides its gases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetInfo {
    /// Age at the latest sample, years; chooses the IEEE 2019 Table 1/2 column.
    #[serde(default)]
    pub age_years: Option<f64>,
    /// An OLTC whose oil communicates with the main tank raises IEC's typical C2H2.
    #[serde(default)]
    pub oltc_communicating: bool,
    /// Free-breathing (conservator open to air) or sealed, when known.
    #[serde(default)]
    pub free_breathing: Option<bool>,
}

/// Each method's code; `None` where the method cannot be computed or does not apply.
/// The keys are the record's `methods` object (docs/diagnosis-record.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MethodCodes {
    pub duval_triangle_1: Option<FaultCode>,
    pub duval_triangle_4: Option<FaultCode>,
    pub duval_triangle_5: Option<FaultCode>,
    pub duval_pentagon_1: Option<FaultCode>,
    pub duval_pentagon_2: Option<FaultCode>,
    pub iec_60599: Option<FaultCode>,
    pub rogers: Option<FaultCode>,
    pub doernenburg: Option<FaultCode>,
    pub key_gas: Option<FaultCode>,
}

impl MethodCodes {
    pub fn get(&self, method: MethodName) -> Option<FaultCode> {
        match method {
            MethodName::DuvalTriangle1 => self.duval_triangle_1,
            MethodName::DuvalTriangle4 => self.duval_triangle_4,
            MethodName::DuvalTriangle5 => self.duval_triangle_5,
            MethodName::DuvalPentagon1 => self.duval_pentagon_1,
            MethodName::DuvalPentagon2 => self.duval_pentagon_2,
            MethodName::Iec60599 => self.iec_60599,
            MethodName::Rogers => self.rogers,
            MethodName::Doernenburg => self.doernenburg,
            MethodName::KeyGas => self.key_gas,
        }
    }
}

/// Each method's full working: zone and plotted point, ratios, or why it does not apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodDetails {
    pub duval_triangle_1: TriangleOutcome,
    pub duval_triangle_4: TriangleOutcome,
    pub duval_triangle_5: TriangleOutcome,
    pub duval_pentagon_1: PentagonOutcome,
    pub duval_pentagon_2: PentagonOutcome,
    pub iec_60599: Outcome<IecVerdict>,
    pub rogers: Outcome<rogers::RogersVerdict>,
    pub doernenburg: Outcome<doernenburg::DoernenburgVerdict>,
    pub key_gas: Outcome<key_gas::KeyGasVerdict>,
}

impl MethodDetails {
    /// Classifies one sample by every single-sample method.
    pub fn of(sample: &DgaSample, t: &Thresholds) -> MethodDetails {
        let duval_triangle_1 = duval_triangle_1::classify(sample);
        let zone_1 = duval_triangle_1.code();
        MethodDetails {
            duval_triangle_4: duval_triangle_4::classify(sample, zone_1),
            duval_triangle_5: duval_triangle_5::classify(sample, zone_1, &t.duval),
            duval_triangle_1,
            duval_pentagon_1: duval_pentagon::classify(sample, Pentagon::One),
            duval_pentagon_2: duval_pentagon::classify(sample, Pentagon::Two),
            iec_60599: iec_60599::classify(sample, t),
            rogers: rogers::classify(sample, &t.detection_limits_ppm),
            doernenburg: doernenburg::classify(sample, &t.doernenburg, &t.detection_limits_ppm),
            key_gas: key_gas::classify(sample, &t.ieee_c57_104_2008),
        }
    }

    pub fn codes(&self) -> MethodCodes {
        MethodCodes {
            duval_triangle_1: self.duval_triangle_1.code(),
            duval_triangle_4: self.duval_triangle_4.code(),
            duval_triangle_5: self.duval_triangle_5.code(),
            duval_pentagon_1: self.duval_pentagon_1.code(),
            duval_pentagon_2: self.duval_pentagon_2.code(),
            iec_60599: self.iec_60599.code(),
            rogers: self.rogers.code(),
            doernenburg: self.doernenburg.code(),
            key_gas: self.key_gas.code(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

/// One asset's diagnosis. Field order is the order of the JSON record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetDiagnosis {
    /// IEEE C57.104-2019 DGA Status, 1-3.
    pub status: Ieee2019Status,
    /// The combined fault code, `NORMAL` at status 1, `ND` when no method identifies a fault.
    pub fault: FaultCode,
    pub fault_description: std::borrow::Cow<'static, str>,
    /// How far the methods agree on the fault; `None` for NORMAL and ND.
    pub confidence: Option<Confidence>,
    pub methods: MethodCodes,
    /// IEEE C57.104-2008 condition 1-4; `None` only when no combustible gas was measured.
    pub ieee_2008_condition: Option<u8>,
    /// The method whose verdict became the fault (Duval Triangle 1, or Triangle 4/5 refining it).
    pub identified_by: Option<MethodName>,
    pub agreeing_methods: Vec<MethodName>,
    pub disagreeing_methods: Vec<MethodName>,
    /// Methods that ran but matched no zone or ratio row (ND).
    pub undetermined_methods: Vec<MethodName>,
    pub explanation: String,
    pub action: String,
    pub samples: usize,
    pub latest_sampled_on: Option<NaiveDate>,
    pub ieee_c57_104_2019: Ieee2019Assessment,
    pub ieee_c57_104_2008: Outcome<Ieee2008Assessment>,
    /// IEC 60599 Annex A: gases above their typical concentration or rate.
    pub iec_60599_typical_exceeded: Vec<TypicalExceedance>,
    /// IEC 60599 auxiliary ratios (CO2/CO, O2/N2, C2H2/H2).
    pub findings: Vec<Finding>,
    pub method_details: MethodDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagnosisError {
    #[error("the asset has no samples")]
    NoSamples,
}

/// Indices of `samples` from oldest to latest: by date when every sample is dated (ties keep
/// their given order), otherwise the given order.
pub fn chronological_order(samples: &[DgaSample]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..samples.len()).collect();
    if samples.iter().all(|s| s.sampled_on.is_some()) {
        order.sort_by_key(|&i| samples[i].sampled_on);
    }
    order
}

/// Diagnoses one asset from its samples (any order, see [`chronological_order`]).
pub fn diagnose_asset(
    samples: &[DgaSample],
    asset: &AssetInfo,
    t: &Thresholds,
) -> Result<AssetDiagnosis, DiagnosisError> {
    if samples.is_empty() {
        return Err(DiagnosisError::NoSamples);
    }
    let is_sorted = samples.is_sorted_by_key(|s| s.sampled_on) || samples.iter().any(|s| s.sampled_on.is_none());
    let ordered: std::borrow::Cow<'_, [DgaSample]> = if is_sorted {
        std::borrow::Cow::Borrowed(samples)
    } else {
        std::borrow::Cow::Owned(chronological_order(samples).into_iter().map(|i| samples[i].clone()).collect())
    };
    let history: &[DgaSample] = &ordered;
    let latest = &history[history.len() - 1];

    let ieee_2019 =
        ieee_c57_104_2019::assess(history, asset.age_years, &t.ieee_c57_104_2019).ok_or(DiagnosisError::NoSamples)?;
    let ieee_2008 = ieee_c57_104_2008::assess(history, &t.ieee_c57_104_2008);
    let details = MethodDetails::of(latest, t);
    let methods = details.codes();
    let rates: Vec<(Gas, f64)> = ieee_2019.gases.iter().filter_map(|g| Some((g.gas, g.rate_ppm_per_year?))).collect();
    let typical = iec_60599::typical_exceedances(latest, &rates, asset.oltc_communicating, &t.iec_60599);
    let findings = iec_60599::auxiliary_findings(
        latest,
        asset.free_breathing,
        !typical.is_empty(),
        &t.iec_60599,
        &t.detection_limits_ppm,
    );

    let (fault, identified_by) = combined_fault(ieee_2019.status, &methods);
    let agreement = Agreement::of(fault, &methods);
    let confidence = agreement.confidence(fault, t);
    let explanation = explain(&ieee_2019, fault, identified_by, &agreement, confidence, &methods, &findings);
    let action = match ieee_2019.status {
        Ieee2019Status::One => t.actions.status_1.clone(),
        Ieee2019Status::Two => t.actions.status_2.clone(),
        Ieee2019Status::Three => t.actions.status_3.clone(),
    };
    Ok(AssetDiagnosis {
        status: ieee_2019.status,
        fault,
        fault_description: fault.meaning().into(),
        confidence,
        methods,
        ieee_2008_condition: ieee_2008.verdict().map(|a| a.condition),
        identified_by,
        agreeing_methods: agreement.agreeing,
        disagreeing_methods: agreement.disagreeing,
        undetermined_methods: agreement.undetermined,
        explanation,
        action,
        samples: history.len(),
        latest_sampled_on: latest.sampled_on,
        ieee_c57_104_2019: ieee_2019,
        ieee_c57_104_2008: ieee_2008,
        iec_60599_typical_exceeded: typical,
        findings,
        method_details: details,
    })
}

/// The combined fault: NORMAL at status 1 (IEEE 2019 applies fault identification only at
/// status 2 or 3, dga-methods.md 1.6). Otherwise Duval Triangle 1 (IEEE 2019 Table 6), refined by
/// Triangle 4 after PD/T1 and by Triangle 5 after T2/T3 unless they say ND (as [S1]); if Triangle
/// 1 cannot be computed, the first fault code of Pentagon 1, IEC, Rogers, Doernenburg, key gas.
pub fn combined_fault(status: Ieee2019Status, m: &MethodCodes) -> (FaultCode, Option<MethodName>) {
    if status == Ieee2019Status::One {
        return (FaultCode::Normal, None);
    }
    if let Some(zone) = m.duval_triangle_1 {
        let refinement = match zone {
            FaultCode::PD | FaultCode::T1 => Some((m.duval_triangle_4, MethodName::DuvalTriangle4)),
            FaultCode::T2 | FaultCode::T3 => Some((m.duval_triangle_5, MethodName::DuvalTriangle5)),
            _ => None,
        };
        if let Some((Some(refined), method)) = refinement
            && refined.is_fault()
        {
            return (refined, Some(method));
        }
        return (zone, Some(MethodName::DuvalTriangle1));
    }
    [MethodName::DuvalPentagon1, MethodName::Iec60599, MethodName::Rogers, MethodName::Doernenburg, MethodName::KeyGas]
        .into_iter()
        .find_map(|method| m.get(method).filter(|c| c.is_fault()).map(|c| (c, Some(method))))
        .unwrap_or((FaultCode::ND, None))
}

struct Agreement {
    agreeing: Vec<MethodName>,
    disagreeing: Vec<MethodName>,
    undetermined: Vec<MethodName>,
}

impl Agreement {
    /// Methods agree when their code is of the same family as the combined fault (discharge,
    /// partial discharge, thermal, mixed; NORMAL for NORMAL): Doernenburg and the key-gas method
    /// do not grade temperature, and the triangles' sub-zones (S, O, C) are thermal too.
    fn of(fault: FaultCode, m: &MethodCodes) -> Agreement {
        let mut a = Agreement { agreeing: Vec::new(), disagreeing: Vec::new(), undetermined: Vec::new() };
        for method in MethodName::ALL {
            match m.get(method) {
                None => {}
                Some(FaultCode::ND) => a.undetermined.push(method),
                Some(code) if code.family() == fault.family() => a.agreeing.push(method),
                Some(_) => a.disagreeing.push(method),
            }
        }
        a
    }

    fn confidence(&self, fault: FaultCode, t: &Thresholds) -> Option<Confidence> {
        if !fault.is_fault() {
            return None;
        }
        let voting = self.agreeing.len() + self.disagreeing.len();
        let share = if voting == 0 { 0.0 } else { self.agreeing.len() as f64 / voting as f64 };
        let c = &t.combined;
        Some(if share >= c.high_confidence_min_agreement && self.agreeing.len() >= 3 {
            Confidence::High
        } else if share >= c.medium_confidence_min_agreement && self.agreeing.len() >= 2 {
            Confidence::Medium
        } else {
            Confidence::Low
        })
    }
}

fn list(methods: &[MethodName], codes: &MethodCodes) -> String {
    methods
        .iter()
        .map(|m| match codes.get(*m) {
            Some(code) => format!("{} {code}", m.title()),
            None => m.title().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn explain(
    ieee: &Ieee2019Assessment,
    fault: FaultCode,
    identified_by: Option<MethodName>,
    agreement: &Agreement,
    confidence: Option<Confidence>,
    codes: &MethodCodes,
    findings: &[Finding],
) -> String {
    let mut text = format!("IEEE C57.104-2019 status {}: ", ieee.status);
    if ieee.reasons.is_empty() {
        text.push_str("every rated gas is within its 90th-percentile level (Table 1)");
        if ieee.rate_window.is_some() {
            text.push_str(" with no abnormal increase or generation rate");
        } else if ieee.samples > 1 {
            text.push_str(" with no abnormal increase since the previous sample");
        }
        text.push('.');
    } else {
        let shown: Vec<&str> = ieee.reasons.iter().take(3).map(|r| r.text.as_str()).collect();
        text.push_str(&shown.join("; "));
        if ieee.reasons.len() > 3 {
            text.push_str(&format!("; and {} more", ieee.reasons.len() - 3));
        }
        text.push('.');
    }
    match fault {
        FaultCode::Normal => {
            text.push_str(" No fault is indicated; the methods' verdicts are listed for reference only.");
        }
        FaultCode::ND => {
            text.push_str(" The fault type could not be determined: no method's zone or ratio row matched.");
        }
        _ => {
            let by = identified_by.map_or(String::new(), |m| format!(" ({m})"));
            text.push_str(&format!(" Fault {fault}: {}{by}.", fault.meaning()));
            let voting = agreement.agreeing.len() + agreement.disagreeing.len();
            text.push_str(&format!(
                " {} of {voting} methods with a verdict agree: {}.",
                agreement.agreeing.len(),
                list(&agreement.agreeing, codes)
            ));
            if !agreement.disagreeing.is_empty() {
                text.push_str(&format!(" Disagreeing: {}.", list(&agreement.disagreeing, codes)));
            }
            if let Some(c) = confidence {
                let word = match c {
                    Confidence::High => "high",
                    Confidence::Medium => "medium",
                    Confidence::Low => "low",
                };
                text.push_str(&format!(" Confidence: {word}."));
            }
        }
    }
    for f in findings {
        text.push_str(&format!(" {}.", capitalize(&f.text)));
    }
    text
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().collect::<String>() + c.as_str())
}
