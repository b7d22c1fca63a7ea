//! Fault codes shared by every method, and the outcome of one method.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A fault type as the methods name it (IEC 60599 clause 5, Duval triangles and pentagons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FaultCode {
    /// Partial discharges (corona).
    PD,
    /// Discharges of low energy.
    D1,
    /// Discharges of high energy.
    D2,
    /// Thermal fault below 300 °C.
    T1,
    /// Thermal fault 300–700 °C.
    T2,
    /// Thermal fault above 700 °C.
    T3,
    /// Mixture of electrical and thermal faults (Duval Triangle 1 only).
    DT,
    /// Stray gassing of mineral oil below 200 °C (Triangle 4/5, Pentagons).
    S,
    /// Overheating below 250 °C without carbonisation of paper (Triangle 4/5, Pentagon 2).
    O,
    /// Hot spots with carbonisation of paper (Triangle 4/5, Pentagon 2).
    C,
    /// Thermal fault T3 in oil only (Pentagon 2).
    #[serde(rename = "T3-H")]
    T3H,
    /// No fault indicated (Rogers case 0, Doernenburg below its gate, IEEE status 1).
    #[serde(rename = "NORMAL")]
    Normal,
    /// No zone or ratio row matches ("not determined"; the zone Triangles 4 and 5 label ND).
    /// Serialized `UNDETERMINED` so that it never reads like the lab's input marker `ND` ("not
    /// detected"); `ND` is still read, for records of schema version 1.
    #[serde(rename = "UNDETERMINED", alias = "ND")]
    Undetermined,
}

/// The broad kind of a fault, used to say whether two methods agree when one of them does not
/// grade temperature or energy as finely as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultFamily {
    /// Partial discharges: PD.
    PartialDischarge,
    /// Discharges: D1, D2.
    Discharge,
    /// Thermal faults: T1, T2, T3, T3-H, and the sub-zones S, O, C.
    Thermal,
    /// Mixed electrical and thermal faults: DT.
    Mixed,
    /// No fault: `NORMAL`.
    None,
    /// Not determined: `UNDETERMINED`.
    Undetermined,
}

impl FaultCode {
    /// The code as serialized and shown: `PD`, `T3-H`, `NORMAL`, `UNDETERMINED`.
    pub fn code(self) -> &'static str {
        match self {
            FaultCode::PD => "PD",
            FaultCode::D1 => "D1",
            FaultCode::D2 => "D2",
            FaultCode::T1 => "T1",
            FaultCode::T2 => "T2",
            FaultCode::T3 => "T3",
            FaultCode::DT => "DT",
            FaultCode::S => "S",
            FaultCode::O => "O",
            FaultCode::C => "C",
            FaultCode::T3H => "T3-H",
            FaultCode::Normal => "NORMAL",
            FaultCode::Undetermined => "UNDETERMINED",
        }
    }

    /// The code's broad kind, used for agreement by family.
    pub fn family(self) -> FaultFamily {
        match self {
            FaultCode::PD => FaultFamily::PartialDischarge,
            FaultCode::D1 | FaultCode::D2 => FaultFamily::Discharge,
            FaultCode::T1
            | FaultCode::T2
            | FaultCode::T3
            | FaultCode::T3H
            | FaultCode::S
            | FaultCode::O
            | FaultCode::C => FaultFamily::Thermal,
            FaultCode::DT => FaultFamily::Mixed,
            FaultCode::Normal => FaultFamily::None,
            FaultCode::Undetermined => FaultFamily::Undetermined,
        }
    }

    /// What an engineer reads next to the code.
    pub fn meaning(self) -> &'static str {
        match self {
            FaultCode::PD => "partial discharges (corona)",
            FaultCode::D1 => "discharges of low energy (sparking, tracking)",
            FaultCode::D2 => "discharges of high energy (arcing)",
            FaultCode::T1 => "thermal fault below 300 °C",
            FaultCode::T2 => "thermal fault between 300 and 700 °C",
            FaultCode::T3 => "thermal fault above 700 °C",
            FaultCode::DT => "mixture of electrical and thermal faults",
            FaultCode::S => "stray gassing of mineral oil (below 200 °C)",
            FaultCode::O => "overheating below 250 °C without carbonisation of paper",
            FaultCode::C => "hot spot with carbonisation of paper (above 300 °C)",
            FaultCode::T3H => "thermal fault above 700 °C in oil only",
            FaultCode::Normal => "no fault indicated",
            FaultCode::Undetermined => "not determined",
        }
    }

    /// A code that names a fault (not NORMAL, not UNDETERMINED).
    pub fn is_fault(self) -> bool {
        !matches!(self, FaultCode::Normal | FaultCode::Undetermined)
    }
}

impl fmt::Display for FaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The methods an asset diagnosis runs; the names are the keys of the record's `methods` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MethodName {
    /// Duval Triangle 1.
    #[serde(rename = "duval_triangle_1")]
    DuvalTriangle1,
    /// Duval Triangle 4.
    #[serde(rename = "duval_triangle_4")]
    DuvalTriangle4,
    /// Duval Triangle 5.
    #[serde(rename = "duval_triangle_5")]
    DuvalTriangle5,
    /// Duval Pentagon 1.
    #[serde(rename = "duval_pentagon_1")]
    DuvalPentagon1,
    /// Duval Pentagon 2.
    #[serde(rename = "duval_pentagon_2")]
    DuvalPentagon2,
    /// IEC 60599 ratio codes.
    #[serde(rename = "iec_60599")]
    Iec60599,
    /// Rogers ratios (IEEE C57.104-2008).
    #[serde(rename = "rogers")]
    Rogers,
    /// Doernenburg ratios (IEEE C57.104-2008).
    #[serde(rename = "doernenburg")]
    Doernenburg,
    /// The key-gas method (IEEE C57.104-2008).
    #[serde(rename = "key_gas")]
    KeyGas,
}

impl MethodName {
    /// Every method, in the order of the record's `methods` object.
    pub const ALL: [MethodName; 9] = [
        MethodName::DuvalTriangle1,
        MethodName::DuvalTriangle4,
        MethodName::DuvalTriangle5,
        MethodName::DuvalPentagon1,
        MethodName::DuvalPentagon2,
        MethodName::Iec60599,
        MethodName::Rogers,
        MethodName::Doernenburg,
        MethodName::KeyGas,
    ];

    /// The JSON key, as serialized.
    pub fn key(self) -> &'static str {
        match self {
            MethodName::DuvalTriangle1 => "duval_triangle_1",
            MethodName::DuvalTriangle4 => "duval_triangle_4",
            MethodName::DuvalTriangle5 => "duval_triangle_5",
            MethodName::DuvalPentagon1 => "duval_pentagon_1",
            MethodName::DuvalPentagon2 => "duval_pentagon_2",
            MethodName::Iec60599 => "iec_60599",
            MethodName::Rogers => "rogers",
            MethodName::Doernenburg => "doernenburg",
            MethodName::KeyGas => "key_gas",
        }
    }

    /// The method's name as a report shows it: `Duval Triangle 1`, `IEC 60599 ratios`.
    pub fn title(self) -> &'static str {
        match self {
            MethodName::DuvalTriangle1 => "Duval Triangle 1",
            MethodName::DuvalTriangle4 => "Duval Triangle 4",
            MethodName::DuvalTriangle5 => "Duval Triangle 5",
            MethodName::DuvalPentagon1 => "Duval Pentagon 1",
            MethodName::DuvalPentagon2 => "Duval Pentagon 2",
            MethodName::Iec60599 => "IEC 60599 ratios",
            MethodName::Rogers => "Rogers ratios",
            MethodName::Doernenburg => "Doernenburg ratios",
            MethodName::KeyGas => "Key gas",
        }
    }

    /// Whether the method grades a fault's temperature or energy. Doernenburg and the key-gas
    /// method do not: they agree with the combined fault only by family (`FaultCode::family`),
    /// never confirm its code, and their dissent does not lower the confidence.
    pub fn grades_thermal(self) -> bool {
        !matches!(self, MethodName::Doernenburg | MethodName::KeyGas)
    }
}

impl fmt::Display for MethodName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// What one method concluded: a verdict with its working, or why it could not be applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome<T> {
    /// The method applied: its verdict and working.
    Verdict(T),
    /// The method could not be applied (a gas not analysed, below its validity gate, ...).
    NotApplicable {
        /// Why, in an engineer's words.
        reason: Cow<'static, str>,
    },
}

impl<T> Outcome<T> {
    /// An outcome that says why the method does not apply.
    pub fn not_applicable(reason: impl Into<Cow<'static, str>>) -> Self {
        Outcome::NotApplicable { reason: reason.into() }
    }

    /// The verdict, if the method applied.
    pub fn verdict(&self) -> Option<&T> {
        match self {
            Outcome::Verdict(v) => Some(v),
            Outcome::NotApplicable { .. } => None,
        }
    }

    /// Why the method did not apply, if it did not.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Verdict(_) => None,
            Outcome::NotApplicable { reason } => Some(reason),
        }
    }
}

/// Every method's verdict carries a code.
pub trait HasCode {
    /// The verdict's code.
    fn code(&self) -> FaultCode;
}

impl<T: HasCode> Outcome<T> {
    /// The verdict's code; `None` when the method did not apply.
    pub fn code(&self) -> Option<FaultCode> {
        self.verdict().map(HasCode::code)
    }
}
