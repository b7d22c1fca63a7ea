//! Gases, concentrations and one oil sample.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A gas dissolved in transformer oil, in the order labs usually report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Gas {
    /// Hydrogen.
    H2,
    /// Methane.
    CH4,
    /// Ethane.
    C2H6,
    /// Ethylene.
    C2H4,
    /// Acetylene.
    C2H2,
    /// Carbon monoxide.
    CO,
    /// Carbon dioxide.
    CO2,
    /// Oxygen.
    O2,
    /// Nitrogen.
    N2,
}

impl Gas {
    /// All nine gases, in the order labs usually report them.
    pub const ALL: [Gas; 9] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2, Gas::CO, Gas::CO2, Gas::O2, Gas::N2];
    /// The seven gases that IEEE C57.104-2019 Tables 1-4 rate.
    pub const IEEE_2019: [Gas; 7] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2, Gas::CO, Gas::CO2];
    /// The combustible gases that make up TDCG (IEEE C57.104-2008 Table 1; CO2, O2, N2 excluded).
    pub const COMBUSTIBLE: [Gas; 6] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2, Gas::CO];
    /// The five gases every diagnosis needs (the hydrocarbons and hydrogen).
    pub const REQUIRED: [Gas; 5] = [Gas::H2, Gas::CH4, Gas::C2H6, Gas::C2H4, Gas::C2H2];

    /// The formula as labs and headers write it: `H2`, `C2H2`.
    pub fn symbol(self) -> &'static str {
        match self {
            Gas::H2 => "H2",
            Gas::CH4 => "CH4",
            Gas::C2H6 => "C2H6",
            Gas::C2H4 => "C2H4",
            Gas::C2H2 => "C2H2",
            Gas::CO => "CO",
            Gas::CO2 => "CO2",
            Gas::O2 => "O2",
            Gas::N2 => "N2",
        }
    }

    /// The gas's name in lowercase: `hydrogen`, `carbon monoxide`.
    pub fn name(self) -> &'static str {
        match self {
            Gas::H2 => "hydrogen",
            Gas::CH4 => "methane",
            Gas::C2H6 => "ethane",
            Gas::C2H4 => "ethylene",
            Gas::C2H2 => "acetylene",
            Gas::CO => "carbon monoxide",
            Gas::CO2 => "carbon dioxide",
            Gas::O2 => "oxygen",
            Gas::N2 => "nitrogen",
        }
    }

    /// Matches `H2`, `h2`, `Hydrogen`, `H₂`; used for CSV headers and CLI flags.
    pub fn from_label(label: &str) -> Option<Gas> {
        let normalized: String = label
            .trim()
            .chars()
            .map(|c| match c {
                '₂' => '2',
                '₄' => '4',
                '₆' => '6',
                c => c.to_ascii_lowercase(),
            })
            .filter(|c| !c.is_whitespace())
            .collect();
        Gas::ALL
            .into_iter()
            .find(|gas| normalized == gas.symbol().to_ascii_lowercase() || normalized == gas.name().replace(' ', ""))
    }
}

impl fmt::Display for Gas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// 1,000,000 ppm is 100 % by volume: no dissolved gas can be reported above it.
pub const MAX_PPM: f64 = 1_000_000.0;

/// One gas concentration as the lab reported it.
///
/// Below-detection results are kept as such (not as zero, not as an error): levels treat them as
/// "not present" (0 ppm), ratio methods substitute the detection limit (IEC 60599 clause 6.1, as
/// implemented by xDGA; sources.md §3.6), so no ratio divides by zero.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum GasReading {
    /// A measured concentration in ppm (µL/L). Always finite and non-negative.
    Measured(f64),
    /// The lab reported "not detected", optionally with its detection limit (`<1` → `Some(1.0)`).
    BelowDetection {
        /// The detection limit in ppm, when the lab gave one.
        limit_ppm: Option<f64>,
    },
    /// The gas was not analysed at all (column absent).
    #[default]
    NotMeasured,
}

/// Why a cell could not be read as a gas concentration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadingError {
    /// The text is not a number.
    #[error("'{0}' is not a number")]
    NotANumber(String),
    /// The value is below 0 ppm.
    #[error("'{0}' is negative; a concentration cannot be below 0 ppm")]
    Negative(String),
    /// The value is NaN or infinite.
    #[error("'{0}' is not a finite number")]
    NotFinite(String),
    /// The value is above 1,000,000 ppm (100 % by volume).
    #[error("'{0}' ppm is impossible: more than 1,000,000 ppm (100 % by volume)")]
    TooLarge(String),
}

impl GasReading {
    /// A measured value; zero is kept as measured zero (it reads as "not detected" everywhere).
    pub fn ppm(value: f64) -> Result<GasReading, ReadingError> {
        if !value.is_finite() {
            return Err(ReadingError::NotFinite(value.to_string()));
        }
        if value < 0.0 {
            return Err(ReadingError::Negative(value.to_string()));
        }
        if value > MAX_PPM {
            return Err(ReadingError::TooLarge(value.to_string()));
        }
        Ok(GasReading::Measured(value))
    }

    /// Concentration for level comparisons: below detection counts as 0 ppm.
    pub fn level_ppm(self) -> Option<f64> {
        match self {
            GasReading::Measured(v) => Some(v),
            GasReading::BelowDetection { .. } => Some(0.0),
            GasReading::NotMeasured => None,
        }
    }

    /// True for a measured value above zero.
    pub fn is_detected(self) -> bool {
        matches!(self, GasReading::Measured(v) if v > 0.0)
    }

    /// True unless the gas was not analysed (below detection counts as measured).
    pub fn is_measured(self) -> bool {
        !matches!(self, GasReading::NotMeasured)
    }
}

impl FromStr for GasReading {
    type Err = ReadingError;

    /// Reads a lab cell: `12.5`, `1,250` (thousands separator), `<1`, `< 0.5`, `ND`, `n.d.`,
    /// `n.n.` (German labs: nicht nachweisbar), `-` and blank (below detection).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if t.is_empty()
            || t == "-"
            || matches!(lower.as_str(), "nd" | "n.d." | "n.d" | "bdl" | "<dl" | "<lod" | "n.n." | "n.n")
        {
            return Ok(GasReading::BelowDetection { limit_ppm: None });
        }
        if let Some(rest) = t.strip_prefix('<') {
            let limit = parse_number(rest).ok_or_else(|| ReadingError::NotANumber(t.to_owned()))?;
            // A limit must be a value a report can carry: `<1e309` is infinity, `<2e6` impossible.
            if !limit.is_finite() {
                return Err(ReadingError::NotFinite(t.to_owned()));
            }
            if limit < 0.0 {
                return Err(ReadingError::Negative(t.to_owned()));
            }
            if limit > MAX_PPM {
                return Err(ReadingError::TooLarge(t.to_owned()));
            }
            return Ok(GasReading::BelowDetection { limit_ppm: Some(limit) });
        }
        let value = parse_number(t).ok_or_else(|| ReadingError::NotANumber(t.to_owned()))?;
        if !value.is_finite() {
            return Err(ReadingError::NotFinite(t.to_owned()));
        }
        if value < 0.0 {
            return Err(ReadingError::Negative(t.to_owned()));
        }
        if value > MAX_PPM {
            return Err(ReadingError::TooLarge(t.to_owned()));
        }
        Ok(GasReading::Measured(value))
    }
}

/// A plain decimal number, allowing `,` as a thousands separator (`1,250.5`).
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let cleaned: String;
    let t = if t.contains(',') {
        // Only accept commas in thousands positions, so `1,2.3` stays an error.
        let int_part = t.split('.').next().unwrap_or("");
        let digits = int_part.trim_start_matches(['-', '+']);
        let mut groups = digits.split(',');
        let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
        if !first_ok || !groups.all(|g| g.len() == 3) {
            return None;
        }
        cleaned = t.replace(',', "");
        &cleaned
    } else {
        t
    };
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.to_ascii_lowercase().contains("inf") {
        return None;
    }
    t.parse::<f64>().ok()
}

impl fmt::Display for GasReading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GasReading::Measured(v) => write!(f, "{v}"),
            GasReading::BelowDetection { limit_ppm: Some(l) } => write!(f, "<{l}"),
            GasReading::BelowDetection { limit_ppm: None } => f.write_str("ND"),
            GasReading::NotMeasured => f.write_str("—"),
        }
    }
}

/// JSON form: a number (measured), `"<1"` or `"ND"` (below detection), `null` (not measured).
impl Serialize for GasReading {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GasReading::Measured(v) => s.serialize_f64(*v),
            GasReading::NotMeasured => s.serialize_none(),
            // Written straight into the output, with no string in between.
            below => s.collect_str(below),
        }
    }
}

impl<'de> Deserialize<'de> for GasReading {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: untagged buffers every value before trying
        // each form, and an asset item holds nine readings per sample.
        struct Reading;
        impl<'de> serde::de::Visitor<'de> for Reading {
            type Value = GasReading;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of ppm, \"<limit\", \"ND\" or null")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<GasReading, E> {
                GasReading::ppm(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<GasReading, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<GasReading, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GasReading, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<GasReading, E> {
                Ok(GasReading::NotMeasured)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<GasReading, E> {
                Ok(GasReading::NotMeasured)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<GasReading, D::Error> {
                d.deserialize_any(Reading)
            }
        }
        d.deserialize_option(Reading)
    }
}

/// One oil sample of one transformer: the nine gases and when the oil was drawn.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DgaSample {
    /// When the oil was drawn, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled_on: Option<NaiveDate>,
    /// Hydrogen, ppm.
    #[serde(default)]
    pub h2_ppm: GasReading,
    /// Methane, ppm.
    #[serde(default)]
    pub ch4_ppm: GasReading,
    /// Ethane, ppm.
    #[serde(default)]
    pub c2h6_ppm: GasReading,
    /// Ethylene, ppm.
    #[serde(default)]
    pub c2h4_ppm: GasReading,
    /// Acetylene, ppm.
    #[serde(default)]
    pub c2h2_ppm: GasReading,
    /// Carbon monoxide, ppm.
    #[serde(default)]
    pub co_ppm: GasReading,
    /// Carbon dioxide, ppm.
    #[serde(default)]
    pub co2_ppm: GasReading,
    /// Oxygen, ppm.
    #[serde(default)]
    pub o2_ppm: GasReading,
    /// Nitrogen, ppm.
    #[serde(default)]
    pub n2_ppm: GasReading,
}

impl DgaSample {
    /// The reading of one gas.
    pub fn get(&self, gas: Gas) -> GasReading {
        match gas {
            Gas::H2 => self.h2_ppm,
            Gas::CH4 => self.ch4_ppm,
            Gas::C2H6 => self.c2h6_ppm,
            Gas::C2H4 => self.c2h4_ppm,
            Gas::C2H2 => self.c2h2_ppm,
            Gas::CO => self.co_ppm,
            Gas::CO2 => self.co2_ppm,
            Gas::O2 => self.o2_ppm,
            Gas::N2 => self.n2_ppm,
        }
    }

    /// Replaces the reading of one gas.
    pub fn set(&mut self, gas: Gas, reading: GasReading) {
        let slot = match gas {
            Gas::H2 => &mut self.h2_ppm,
            Gas::CH4 => &mut self.ch4_ppm,
            Gas::C2H6 => &mut self.c2h6_ppm,
            Gas::C2H4 => &mut self.c2h4_ppm,
            Gas::C2H2 => &mut self.c2h2_ppm,
            Gas::CO => &mut self.co_ppm,
            Gas::CO2 => &mut self.co2_ppm,
            Gas::O2 => &mut self.o2_ppm,
            Gas::N2 => &mut self.n2_ppm,
        };
        *slot = reading;
    }

    /// The sum of the measured gases, ppm (below-detection and unmeasured count as 0): at most
    /// 1,000,000 ppm (100 % by volume) in any real oil sample.
    pub fn total_measured_ppm(&self) -> f64 {
        Gas::ALL.iter().filter_map(|g| self.get(*g).level_ppm()).sum()
    }

    /// Builder for tests and examples: `DgaSample::default().with(Gas::H2, 120.0)`.
    /// Negative or non-finite values become `NotMeasured` rather than panicking.
    #[must_use]
    pub fn with(mut self, gas: Gas, ppm: f64) -> Self {
        self.set(gas, GasReading::ppm(ppm).unwrap_or(GasReading::NotMeasured));
        self
    }

    /// Builder: sets the date the oil was drawn.
    #[must_use]
    pub fn on(mut self, date: NaiveDate) -> Self {
        self.sampled_on = Some(date);
        self
    }

    /// Level in ppm (below detection = 0), `None` when not measured.
    pub fn level(&self, gas: Gas) -> Option<f64> {
        self.get(gas).level_ppm()
    }

    /// Level with not-measured read as 0 ppm; for methods that already checked presence.
    pub(crate) fn level_or_zero(&self, gas: Gas) -> f64 {
        self.level(gas).unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lab_cells() {
        assert_eq!("12.5".parse(), Ok(GasReading::Measured(12.5)));
        assert_eq!(" 1,250 ".parse(), Ok(GasReading::Measured(1250.0)));
        assert_eq!("<1".parse(), Ok(GasReading::BelowDetection { limit_ppm: Some(1.0) }));
        // A limit no report can carry is refused like the value would be (issue 14).
        assert!(matches!("<1e309".parse::<GasReading>(), Err(ReadingError::NotFinite(_))));
        assert!("<NaN".parse::<GasReading>().is_err());
        assert!(matches!("<2000000".parse::<GasReading>(), Err(ReadingError::TooLarge(_))));
        let mut s = DgaSample::default().with(Gas::H2, 600_000.0).with(Gas::N2, 300_000.0);
        assert_eq!(s.total_measured_ppm(), 900_000.0);
        s.set(Gas::CO2, GasReading::BelowDetection { limit_ppm: Some(5.0) });
        assert_eq!(s.total_measured_ppm(), 900_000.0);
        assert_eq!("< 0.5".parse(), Ok(GasReading::BelowDetection { limit_ppm: Some(0.5) }));
        for nd in ["", "ND", "n.d.", "-", "nd"] {
            assert_eq!(nd.parse(), Ok(GasReading::BelowDetection { limit_ppm: None }), "{nd:?}");
        }
        assert_eq!("-3".parse::<GasReading>(), Err(ReadingError::Negative("-3".into())));
        assert_eq!("1,2.3".parse::<GasReading>(), Err(ReadingError::NotANumber("1,2.3".into())));
        assert_eq!("abc".parse::<GasReading>(), Err(ReadingError::NotANumber("abc".into())));
        assert!("NaN".parse::<GasReading>().is_err());
        assert!("inf".parse::<GasReading>().is_err());
        assert_eq!("2000000".parse::<GasReading>(), Err(ReadingError::TooLarge("2000000".into())));
        assert!(GasReading::ppm(1e6).is_ok() && GasReading::ppm(1.5e6).is_err());
    }

    #[test]
    fn readings_round_trip_through_json() {
        let sample = DgaSample::default().with(Gas::H2, 12.0);
        let mut sample = sample;
        sample.c2h2_ppm = GasReading::BelowDetection { limit_ppm: Some(0.5) };
        sample.ch4_ppm = GasReading::BelowDetection { limit_ppm: None };
        let json = serde_json::to_string(&sample).unwrap();
        assert!(json.contains(r#""h2_ppm":12.0"#), "{json}");
        assert!(json.contains(r#""c2h2_ppm":"<0.5""#), "{json}");
        assert!(json.contains(r#""ch4_ppm":"ND""#), "{json}");
        assert!(json.contains(r#""co_ppm":null"#), "{json}");
        let back: DgaSample = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample);
        assert!(serde_json::from_str::<DgaSample>(r#"{"h2_ppm": -1}"#).is_err());
        // Integers are ppm too; a value of another kind names what is expected.
        let ints: DgaSample = serde_json::from_str(r#"{"h2_ppm": 12, "ch4_ppm": "ND"}"#).unwrap();
        assert_eq!((ints.h2_ppm, ints.ch4_ppm), (sample.h2_ppm, sample.ch4_ppm));
        let e = serde_json::from_str::<DgaSample>(r#"{"h2_ppm": true}"#).unwrap_err().to_string();
        assert!(e.contains("expected a number of ppm"), "{e}");
    }

    #[test]
    fn gas_labels() {
        assert_eq!(Gas::from_label("h2"), Some(Gas::H2));
        assert_eq!(Gas::from_label("C₂H₂"), Some(Gas::C2H2));
        assert_eq!(Gas::from_label("Carbon Monoxide"), Some(Gas::CO));
        assert_eq!(Gas::from_label("asset_id"), None);
    }
}
