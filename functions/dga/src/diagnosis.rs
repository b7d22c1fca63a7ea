//! The asset diagnosis: every method over the asset's sample history, combined into one status,
//! one fault type in IEC 60599 / Duval Triangle 1 terms with its refinements, the methods that
//! agree and disagree, probabilities from measurement uncertainty, an honest confidence, a fleet
//! priority, an explanation and an action.
//!
//! # The combination rule (docs/diagnosis-record.md, "How the fault is chosen")
//! 1. IEEE C57.104-2019 applies fault identification only at status 2 or 3 (clause 6,
//!    sources.md §1.6): at status 1 the fault is `NORMAL`.
//! 2. Duval Triangle 1 (IEEE 2019 Table 6, IEC 60599 Annex B) gives the fault: Duval calls it the
//!    main graphical method, with the Pentagons as a cross-check (Duval & Lamarre 2014), and IEC
//!    60599's ratio table is the secondary check. The codes are IEC's: PD, D1, D2, T1, T2, T3,
//!    and DT (Triangle 1's mixed zone).
//! 3. Triangles 4 and 5 only refine low-temperature and thermal calls (Duval 2008; IEEE 2019
//!    Annex D), and Pentagon 2 splits the thermal area: their sub-zones (S, O, C, T3-H) never
//!    replace the fault; they are listed as `refinements`.
//! 4. If Triangle 1 cannot be formed (a gas not analysed), the first of Pentagon 1, IEC 60599
//!    and Rogers that names an IEC code gives the fault; else it is `UNDETERMINED`.
//! 5. Agreement: a cross-check that gives the same code agrees exactly; one of the same family
//!    (PD / D1, D2 / T1, T2, T3 / DT) only by family, and Doernenburg and the key-gas method,
//!    which do not grade temperature or energy, never agree more than by family.
//! 6. Confidence: `high` needs the verdict's probability under measurement uncertainty of at
//!    least `high_confidence_min_probability` (0.9), a grading cross-check (Pentagon 1, IEC
//!    60599, Rogers) with the same code, and no grading cross-check with another code; `medium`
//!    needs `medium_confidence_min_probability` (0.6) and either an exact cross-check or no
//!    grading cross-check of another family; anything else is `low`. Doernenburg and key gas
//!    count for less: they never confirm a code and their dissent never lowers the confidence
//!    (it is listed). `NORMAL` is `high` at that probability when IEC 60599 agrees (no gas above
//!    its Annex A typical value). A point on a zone boundary has a probability near one half,
//!    so it is never `high`.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::duval_pentagon::{self, Pentagon, PentagonOutcome};
use crate::duval_triangle::{Triangle, TriangleOutcome};
use crate::fault::{FaultCode, MethodName, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::iec_60599::{self, Finding, IecVerdict, TypicalExceedance};
use crate::ieee_c57_104_2008::{self, Ieee2008Assessment};
use crate::ieee_c57_104_2019::{self, Ieee2019Assessment, Ieee2019Status};
use crate::priority::{self, Priority};
use crate::thresholds::Thresholds;
use crate::uncertainty::{self, FaultProbabilities, StatusProbabilities};
use crate::{doernenburg, key_gas, rogers};

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
    /// Duval Triangle 1's zone.
    pub duval_triangle_1: Option<FaultCode>,
    /// Duval Triangle 4's zone; `None` unless Triangle 1 is PD, T1 or T2.
    pub duval_triangle_4: Option<FaultCode>,
    /// Duval Triangle 5's zone; `None` unless Triangle 1 is T2 or T3.
    pub duval_triangle_5: Option<FaultCode>,
    /// Duval Pentagon 1's zone.
    pub duval_pentagon_1: Option<FaultCode>,
    /// Duval Pentagon 2's zone.
    pub duval_pentagon_2: Option<FaultCode>,
    /// The IEC 60599 Table 1 ratio code.
    pub iec_60599: Option<FaultCode>,
    /// The Rogers ratio code (IEEE C57.104-2008 Table 5).
    pub rogers: Option<FaultCode>,
    /// The Doernenburg code (IEEE C57.104-2008 clause 6.5.1).
    pub doernenburg: Option<FaultCode>,
    /// The key-gas code (IEEE C57.104-2008 clause 6.4).
    pub key_gas: Option<FaultCode>,
}

impl MethodCodes {
    /// One method's code.
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
    /// Duval Triangle 1: the zone and the plotted point.
    pub duval_triangle_1: TriangleOutcome,
    /// Duval Triangle 4: the zone and the plotted point, or why it does not apply.
    pub duval_triangle_4: TriangleOutcome,
    /// Duval Triangle 5: the zone and the plotted point, or why it does not apply.
    pub duval_triangle_5: TriangleOutcome,
    /// Duval Pentagon 1: the zone, the centroid and the gas shares.
    pub duval_pentagon_1: PentagonOutcome,
    /// Duval Pentagon 2: the zone, the centroid and the gas shares.
    pub duval_pentagon_2: PentagonOutcome,
    /// IEC 60599: the Table 1 code and the three basic ratios.
    pub iec_60599: Outcome<IecVerdict>,
    /// Rogers: the Table 5 case, its code and the ratios.
    pub rogers: Outcome<rogers::RogersVerdict>,
    /// Doernenburg: the code, the finding and the ratios.
    pub doernenburg: Outcome<doernenburg::DoernenburgVerdict>,
    /// Key gas: the key gas, how far it is above its condition-1 limit, and the code.
    pub key_gas: Outcome<key_gas::KeyGasVerdict>,
}

impl MethodDetails {
    /// Classifies one sample by every single-sample method.
    pub fn of(sample: &DgaSample, t: &Thresholds) -> MethodDetails {
        let duval_triangle_1 = Triangle::One.classify(sample, None, &t.duval);
        let zone_1 = duval_triangle_1.code();
        MethodDetails {
            duval_triangle_4: Triangle::Four.classify(sample, zone_1, &t.duval),
            duval_triangle_5: Triangle::Five.classify(sample, zone_1, &t.duval),
            duval_triangle_1,
            duval_pentagon_1: duval_pentagon::classify(sample, Pentagon::One),
            duval_pentagon_2: duval_pentagon::classify(sample, Pentagon::Two),
            iec_60599: iec_60599::classify(sample, t),
            rogers: rogers::classify(sample, &t.detection_limits_ppm),
            doernenburg: doernenburg::classify(sample, &t.doernenburg, &t.detection_limits_ppm),
            key_gas: key_gas::classify(sample, &t.ieee_c57_104_2008),
        }
    }

    /// Each method's code, from its working.
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

/// How much the verdict can be trusted (the combination rule, item 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Robust to the lab's uncertainty and confirmed by a cross-check with the same code.
    High,
    /// Probable, and not contradicted (or confirmed but less robust).
    Medium,
    /// Near a zone boundary, or contradicted by a cross-check.
    Low,
}

impl Confidence {
    /// `high`, `medium` or `low`.
    pub fn word(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// A sub-zone that refines the fault (Duval Triangles 4 and 5, Pentagon 2); it never replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refinement {
    /// The refining method's zone: S, O, C, T3-H, PD, T2 or T3.
    pub code: FaultCode,
    /// What it means beside the fault.
    pub meaning: std::borrow::Cow<'static, str>,
    /// Which method says so.
    pub method: MethodName,
}

/// What a refining zone adds to the fault, in an engineer's words.
pub fn refinement_meaning(code: FaultCode) -> &'static str {
    match code {
        FaultCode::S => "stray gassing of oil possible — confirm before acting",
        FaultCode::O => "overheating below 250 °C without carbonisation of paper",
        FaultCode::C => "possible carbonisation of paper",
        FaultCode::T3H => "thermal fault above 700 °C in oil only",
        FaultCode::PD => "corona partial discharges",
        FaultCode::T2 => "thermal fault 300–700 °C in oil",
        FaultCode::T3 => "thermal fault above 700 °C in oil",
        _ => "",
    }
}

/// One asset's diagnosis. Field order is the order of the JSON record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetDiagnosis {
    /// IEEE C57.104-2019 DGA Status, 1-3.
    pub status: Ieee2019Status,
    /// The combined fault in IEC 60599 / Duval Triangle 1 terms: PD, D1, D2, T1, T2, T3, DT,
    /// `NORMAL` at status 1, `UNDETERMINED` when no zone or ratio row matches.
    pub fault: FaultCode,
    /// What `fault` means.
    pub fault_description: std::borrow::Cow<'static, str>,
    /// Sub-zones of the refining methods (Triangles 4/5, Pentagon 2), shown beside the fault.
    pub refinements: Vec<Refinement>,
    /// How far the verdict can be trusted; `None` only for `UNDETERMINED`.
    pub confidence: Option<Confidence>,
    /// The share of plausible readings (measurement uncertainty) that give each fault code.
    pub fault_probabilities: FaultProbabilities,
    /// The share of plausible readings at each status.
    pub status_probabilities: StatusProbabilities,
    /// The fleet priority: how bad and how fast (crate::priority).
    pub priority: Priority,
    /// Each method's code.
    pub methods: MethodCodes,
    /// IEEE C57.104-2008 condition 1-4; `None` only when no combustible gas was measured.
    pub ieee_2008_condition: Option<u8>,
    /// The method whose verdict became the fault (Duval Triangle 1, or a fallback).
    pub identified_by: Option<MethodName>,
    /// Methods whose code is exactly the fault.
    pub agreeing_methods: Vec<MethodName>,
    /// Methods of the same family only (PD / D / T / DT), including the non-grading ones.
    pub family_agreeing_methods: Vec<MethodName>,
    /// Methods that name another family (or NORMAL against a fault).
    pub disagreeing_methods: Vec<MethodName>,
    /// Methods that ran but matched no zone or ratio row.
    pub undetermined_methods: Vec<MethodName>,
    /// Why the rule chose this fault when the methods disagree on the exact code.
    pub rationale: String,
    /// The whole reading in prose.
    pub explanation: String,
    /// What to do (IEEE 2019 clause 6, by status).
    pub action: String,
    /// The number of samples the diagnosis used.
    pub samples: usize,
    /// Date of the latest sample.
    pub latest_sampled_on: Option<NaiveDate>,
    /// The gas whose trend matters most: the one that drove the status (worst reason first).
    pub trend_gas: Option<Gas>,
    /// The full IEEE 2019 assessment.
    pub ieee_c57_104_2019: Ieee2019Assessment,
    /// The full IEEE 2008 assessment.
    pub ieee_c57_104_2008: Outcome<Ieee2008Assessment>,
    /// IEC 60599 Annex A: gases above their typical concentration or rate.
    pub iec_60599_typical_exceeded: Vec<TypicalExceedance>,
    /// IEC 60599 auxiliary ratios (CO2/CO, O2/N2, C2H2/H2).
    pub findings: Vec<Finding>,
    /// Every method's working.
    pub method_details: MethodDetails,
}

/// Why an asset cannot be diagnosed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagnosisError {
    /// No sample at all.
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
    let refinements = refinements(fault, &methods);
    let agreement = Agreement::of(fault, identified_by, &methods);
    let (status_probabilities, fault_probabilities) = uncertainty::assess(latest, &ieee_2019, fault, t);
    let p_fault = fault_probabilities.get(&fault).copied().unwrap_or(0.0);
    let confidence = agreement.confidence(fault, p_fault, typical.is_empty(), t);
    let rationale = rationale(fault, identified_by, &agreement, &methods);
    let explanation = explain(&ieee_2019, fault, &refinements, &agreement, confidence, p_fault, &methods, &findings);
    let action = match ieee_2019.status {
        Ieee2019Status::One => t.actions.status_1.clone(),
        Ieee2019Status::Two => t.actions.status_2.clone(),
        Ieee2019Status::Three => t.actions.status_3.clone(),
    };
    Ok(AssetDiagnosis {
        status: ieee_2019.status,
        fault,
        fault_description: fault.meaning().into(),
        refinements,
        confidence,
        fault_probabilities,
        status_probabilities,
        priority: priority::of(&ieee_2019),
        methods,
        ieee_2008_condition: ieee_2008.verdict().map(|a| a.condition),
        identified_by,
        agreeing_methods: agreement.exact,
        family_agreeing_methods: agreement.family,
        disagreeing_methods: agreement.contrary,
        undetermined_methods: agreement.undetermined,
        rationale,
        explanation,
        action,
        samples: history.len(),
        latest_sampled_on: latest.sampled_on,
        trend_gas: ieee_2019.reasons.first().map(|r| r.gas),
        ieee_c57_104_2019: ieee_2019,
        ieee_c57_104_2008: ieee_2008,
        iec_60599_typical_exceeded: typical,
        findings,
        method_details: details,
    })
}

/// The code a method gives, read as an IEC 60599 / Triangle 1 fault code where it is one
/// (Pentagon 2's T3-H is T3; O, C and S are sub-zones, not IEC codes).
fn as_iec_code(code: FaultCode) -> Option<FaultCode> {
    match code {
        FaultCode::PD
        | FaultCode::D1
        | FaultCode::D2
        | FaultCode::T1
        | FaultCode::T2
        | FaultCode::T3
        | FaultCode::DT => Some(code),
        FaultCode::T3H => Some(FaultCode::T3),
        _ => None,
    }
}

/// The combined fault and the method it comes from (the combination rule, items 1, 2 and 4).
pub fn combined_fault(status: Ieee2019Status, m: &MethodCodes) -> (FaultCode, Option<MethodName>) {
    if status == Ieee2019Status::One {
        return (FaultCode::Normal, None);
    }
    if let Some(zone) = m.duval_triangle_1 {
        return (zone, Some(MethodName::DuvalTriangle1));
    }
    [MethodName::DuvalPentagon1, MethodName::Iec60599, MethodName::Rogers]
        .into_iter()
        .find_map(|method| m.get(method).and_then(as_iec_code).map(|c| (c, Some(method))))
        .unwrap_or((FaultCode::Undetermined, None))
}

/// The refining methods' sub-zones (item 3): Triangle 4 after Triangle 1 PD, T1 or T2, Triangle 5
/// after T2 or T3, Pentagon 2 where it splits the thermal area or calls stray gassing.
fn refinements(fault: FaultCode, m: &MethodCodes) -> Vec<Refinement> {
    if !fault.is_fault() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (method, code) in [
        (MethodName::DuvalTriangle4, m.duval_triangle_4),
        (MethodName::DuvalTriangle5, m.duval_triangle_5),
        (
            MethodName::DuvalPentagon2,
            m.duval_pentagon_2.filter(|c| matches!(c, FaultCode::S | FaultCode::O | FaultCode::C | FaultCode::T3H)),
        ),
    ] {
        // A refining zone that repeats the fault (Triangle 5's T3 after T3) adds nothing.
        if let Some(code) = code.filter(|c| c.is_fault() && *c != fault) {
            out.push(Refinement { code, meaning: refinement_meaning(code).into(), method });
        }
    }
    out
}

/// The cross-checks: every fault-typing method but the one that gave the fault; the refining
/// methods (Triangles 4/5, Pentagon 2) are not votes.
const CROSS_CHECKS: [MethodName; 6] = [
    MethodName::DuvalTriangle1,
    MethodName::DuvalPentagon1,
    MethodName::Iec60599,
    MethodName::Rogers,
    MethodName::Doernenburg,
    MethodName::KeyGas,
];

#[derive(Debug)]
struct Agreement {
    exact: Vec<MethodName>,
    family: Vec<MethodName>,
    contrary: Vec<MethodName>,
    undetermined: Vec<MethodName>,
    /// A grading cross-check (not the source) gives the same code.
    confirmed: bool,
    /// A grading cross-check (not the source) gives another code of the same family.
    graded_other_code: bool,
    /// A grading cross-check names another family.
    graded_contrary: bool,
}

impl Agreement {
    fn of(fault: FaultCode, source: Option<MethodName>, m: &MethodCodes) -> Agreement {
        let mut a = Agreement {
            exact: Vec::new(),
            family: Vec::new(),
            contrary: Vec::new(),
            undetermined: Vec::new(),
            confirmed: false,
            graded_other_code: false,
            graded_contrary: false,
        };
        for method in CROSS_CHECKS {
            let Some(code) = m.get(method) else { continue };
            if code == FaultCode::Undetermined {
                a.undetermined.push(method);
                continue;
            }
            let graded = method.grades_thermal() && as_iec_code(code) == Some(fault);
            if graded || (code == fault && !fault.is_fault()) {
                a.exact.push(method);
                a.confirmed |= Some(method) != source && fault.is_fault();
            } else if code.family() == fault.family() {
                a.family.push(method);
                a.graded_other_code |= method.grades_thermal() && Some(method) != source;
            } else if fault.is_fault() && !method.grades_thermal() && code == FaultCode::Normal {
                // Doernenburg below its gate says "no fault by this method", not "normal".
                a.undetermined.push(method);
            } else {
                a.contrary.push(method);
                a.graded_contrary |= method.grades_thermal() && Some(method) != source;
            }
        }
        a
    }

    /// `normal_confirmed`: IEC 60599 finds no gas above its typical value.
    fn confidence(&self, fault: FaultCode, p: f64, normal_confirmed: bool, t: &Thresholds) -> Option<Confidence> {
        let c = &t.combined;
        match fault {
            FaultCode::Undetermined => None,
            FaultCode::Normal => Some(if p >= c.high_confidence_min_probability && normal_confirmed {
                Confidence::High
            } else if p >= c.medium_confidence_min_probability {
                Confidence::Medium
            } else {
                Confidence::Low
            }),
            _ => {
                let unanimous = !self.graded_other_code && !self.graded_contrary;
                Some(if p >= c.high_confidence_min_probability && self.confirmed && unanimous {
                    Confidence::High
                } else if p >= c.medium_confidence_min_probability && (self.confirmed || !self.graded_contrary) {
                    Confidence::Medium
                } else {
                    Confidence::Low
                })
            }
        }
    }
}

/// Appends `" {label}: Duval Pentagon 1 T2, IEC 60599 ratios T3."` (nothing for no methods).
fn push_list(text: &mut String, label: &str, methods: &[MethodName], codes: &MethodCodes) {
    if methods.is_empty() {
        return;
    }
    text.push(' ');
    text.push_str(label);
    text.push_str(": ");
    for (i, m) in methods.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(m.title());
        if let Some(code) = codes.get(*m) {
            text.push(' ');
            text.push_str(code.code());
        }
    }
    text.push('.');
}

/// Why the rule chose as it did, when the methods do not all give the same code.
fn rationale(fault: FaultCode, source: Option<MethodName>, a: &Agreement, codes: &MethodCodes) -> String {
    if !fault.is_fault() || (a.family.is_empty() && a.contrary.is_empty()) {
        return String::new();
    }
    let mut text = String::with_capacity(320);
    match source {
        Some(MethodName::DuvalTriangle1) => {
            let _ = write!(
                text,
                "Duval Triangle 1 gives {fault} and decides: it is the main graphical method (IEEE C57.104-2019 \
                 Table 6), with the Pentagons and the IEC 60599 ratios as cross-checks."
            );
        }
        Some(m) => {
            let _ = write!(text, "Duval Triangle 1 could not be formed, so {m} gives {fault}.");
        }
        None => {}
    }
    push_list(&mut text, "Same family, other code", &a.family, codes);
    push_list(&mut text, "Another family", &a.contrary, codes);
    text
}

#[allow(clippy::too_many_arguments)]
fn explain(
    ieee: &Ieee2019Assessment,
    fault: FaultCode,
    refinements: &[Refinement],
    agreement: &Agreement,
    confidence: Option<Confidence>,
    p_fault: f64,
    codes: &MethodCodes,
    findings: &[Finding],
) -> String {
    let mut text = String::with_capacity(1024);
    let _ = write!(text, "IEEE C57.104-2019 status {}: ", ieee.status);
    if ieee.reasons.is_empty() {
        text.push_str("every rated gas is within its 90th-percentile level (Table 1)");
        if ieee.rate_window.is_some() {
            text.push_str(" with no abnormal increase or generation rate");
        } else if ieee.samples > 1 {
            text.push_str(" with no abnormal increase since the previous sample");
        }
        text.push('.');
    } else {
        for (i, r) in ieee.reasons.iter().take(3).enumerate() {
            if i > 0 {
                text.push_str("; ");
            }
            text.push_str(&r.text);
        }
        if ieee.reasons.len() > 3 {
            let _ = write!(text, "; and {} more", ieee.reasons.len() - 3);
        }
        text.push('.');
    }
    match fault {
        FaultCode::Normal => {
            text.push_str(" No fault is indicated; the methods' verdicts are listed for reference only.");
        }
        FaultCode::Undetermined => {
            text.push_str(" The fault type could not be determined: no method's zone or ratio row matched.");
        }
        _ => {
            let _ = write!(text, " Fault {fault}: {}.", fault.meaning());
            for r in refinements {
                let _ = write!(text, " {} {}: {}.", r.method, r.code, r.meaning);
            }
            push_list(&mut text, "Same code", &agreement.exact, codes);
            push_list(&mut text, "Same family only", &agreement.family, codes);
            push_list(&mut text, "Another family", &agreement.contrary, codes);
        }
    }
    if let Some(c) = confidence {
        let _ = write!(
            text,
            " Confidence: {} ({:.0} % of readings within the lab's uncertainty give {fault}).",
            c.word(),
            100.0 * p_fault
        );
    }
    for f in findings {
        text.push(' ');
        text.push_str(&capitalize(&f.text));
        text.push('.');
    }
    text
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().collect::<String>() + c.as_str())
}

impl AssetDiagnosis {
    /// The refinements' codes, each once, in the refining methods' order.
    pub fn refinement_codes(&self) -> Vec<FaultCode> {
        let mut codes: Vec<FaultCode> = Vec::with_capacity(self.refinements.len());
        for r in &self.refinements {
            if !codes.contains(&r.code) {
                codes.push(r.code);
            }
        }
        codes
    }

    /// The fault with its refinements, as tables show it: `T2` or `T2 (C, S)`.
    pub fn fault_label(&self) -> String {
        let codes: Vec<&str> = self.refinement_codes().into_iter().map(FaultCode::code).collect();
        if codes.is_empty() { self.fault.code().to_owned() } else { format!("{} ({})", self.fault, codes.join(", ")) }
    }

    /// `high`, `medium`, `low`, or `-` for `UNDETERMINED`.
    pub fn confidence_word(&self) -> &'static str {
        self.confidence.map_or("-", Confidence::word)
    }

    /// The probability of the fault given, under measurement uncertainty.
    pub fn fault_probability(&self) -> f64 {
        self.fault_probabilities.get(&self.fault).copied().unwrap_or(0.0)
    }

    /// The trend to show: the gas that drove the status (else the one nearest its level) with
    /// its least-squares rate, ppm/year, where a rate window exists.
    pub fn trend(&self) -> Option<(Gas, Option<f64>)> {
        let gas = self.trend_gas.or(self.priority.level_gas)?;
        let rate = self.ieee_c57_104_2019.gases.iter().find(|g| g.gas == gas).and_then(|g| g.rate_ppm_per_year);
        Some((gas, rate))
    }
}
