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
    PartialDischarge,
    Discharge,
    Thermal,
    Mixed,
    None,
    Undetermined,
}

impl FaultCode {
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
    #[serde(rename = "duval_triangle_1")]
    DuvalTriangle1,
    #[serde(rename = "duval_triangle_4")]
    DuvalTriangle4,
    #[serde(rename = "duval_triangle_5")]
    DuvalTriangle5,
    #[serde(rename = "duval_pentagon_1")]
    DuvalPentagon1,
    #[serde(rename = "duval_pentagon_2")]
    DuvalPentagon2,
    #[serde(rename = "iec_60599")]
    Iec60599,
    #[serde(rename = "rogers")]
    Rogers,
    #[serde(rename = "doernenburg")]
    Doernenburg,
    #[serde(rename = "key_gas")]
    KeyGas,
}

impl MethodName {
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

    /// Whether the method grades a thermal fault's temperature. Doernenburg and the key-gas
    /// method only say "thermal"; they agree with any thermal code (see `FaultCode::family`).
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
    Verdict(T),
    NotApplicable { reason: Cow<'static, str> },
}

impl<T> Outcome<T> {
    pub fn not_applicable(reason: impl Into<Cow<'static, str>>) -> Self {
        Outcome::NotApplicable { reason: reason.into() }
    }

    pub fn verdict(&self) -> Option<&T> {
        match self {
            Outcome::Verdict(v) => Some(v),
            Outcome::NotApplicable { .. } => None,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Verdict(_) => None,
            Outcome::NotApplicable { reason } => Some(reason),
        }
    }
}

/// Every method's verdict carries a code.
pub trait HasCode {
    fn code(&self) -> FaultCode;
}

impl<T: HasCode> Outcome<T> {
    pub fn code(&self) -> Option<FaultCode> {
        self.verdict().map(HasCode::code)
    }
}
