//! The fleet priority: which transformers to act on first, by how bad and how fast.
//!
//! In the spirit of severity-based fleet screening (docs/sources.md [P1]): the IEEE
//! C57.104-2019 status sets the band, and within it how far the worst gas stands above its
//! Table 1 level and how fast the fastest gas rises against its Table 4 rate (or, without a
//! rate, its Table 3 increase). The energy of the fault only breaks ties ([`fault_energy`]).
//!
//! `score = 100 × (status − 1) + 50 × L / (1 + L) + 50 × R / (1 + R)`, where `L` is the largest
//! `ppm / Table 1 level` and `R` the largest `rate / Table 4 rate` (or `increase / Table 3
//! increase`) of any gas. Each term grows with its ratio and stays below 50, so a status never
//! overtakes a higher one and the score never falls when a gas or its rate rises.

use serde::{Deserialize, Serialize};

use crate::fault::FaultCode;
use crate::gas::Gas;
use crate::ieee_c57_104_2019::Ieee2019Assessment;

/// An asset's place in the fleet's "act first" order, with what drives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// 0–300: higher is more urgent (see the module documentation).
    pub score: f64,
    /// The worst gas's ppm over its IEEE 2019 Table 1 level (1.0 = at the level).
    pub level_ratio: f64,
    /// The gas of `level_ratio`.
    pub level_gas: Option<Gas>,
    /// The fastest gas's rate over its Table 4 rate, or increase over its Table 3 increase.
    pub rate_ratio: f64,
    /// The gas of `rate_ratio`.
    pub rate_gas: Option<Gas>,
}

/// The priority of one assessed asset.
pub fn of(ieee: &Ieee2019Assessment) -> Priority {
    let (mut level_ratio, mut level_gas) = (0.0f64, None);
    let (mut rate_ratio, mut rate_gas) = (0.0f64, None);
    for g in &ieee.gases {
        let level = ratio(g.ppm, g.limits.table_1_ppm);
        if level > level_ratio {
            (level_ratio, level_gas) = (level, Some(g.gas));
        }
        let speed = match (g.rate_ppm_per_year, g.limits.table_4_ppm_per_year, g.delta_ppm, g.limits.table_3_ppm) {
            (Some(rate), Some(limit), _, _) => ratio(rate, limit),
            (_, _, Some(delta), Some(limit)) => ratio(delta, limit),
            _ => 0.0,
        };
        if speed > rate_ratio {
            (rate_ratio, rate_gas) = (speed, Some(g.gas));
        }
    }
    let band = 100.0 * f64::from(ieee.status.number() - 1);
    let score = band + 50.0 * level_ratio / (1.0 + level_ratio) + 50.0 * rate_ratio / (1.0 + rate_ratio);
    Priority { score, level_ratio, level_gas, rate_ratio, rate_gas }
}

/// `value / limit` for a rising quantity; a zero limit ("any increase") makes any rise large.
fn ratio(value: f64, limit: f64) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        0.0
    } else if limit > 0.0 {
        value / limit
    } else {
        1e6
    }
}

/// The energy of a fault, for breaking ties between equal scores: D2 > T3 > DT > D1 > T2 > PD >
/// T1 (IEC 60599 clause 5: high-energy arcing and the hottest thermal faults destroy fastest).
pub fn fault_energy(code: FaultCode) -> u8 {
    match code {
        FaultCode::D2 => 7,
        FaultCode::T3 | FaultCode::T3H => 6,
        FaultCode::DT => 5,
        FaultCode::D1 => 4,
        FaultCode::T2 | FaultCode::C => 3,
        FaultCode::PD => 2,
        FaultCode::T1 | FaultCode::O | FaultCode::S => 1,
        FaultCode::Undetermined | FaultCode::Normal => 0,
    }
}
