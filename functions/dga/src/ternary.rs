//! Relative percentages of three gases: the plotted point of a Duval triangle.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fault::{FaultCode, HasCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::geometry::{Point, ternary_to_plane};

/// A point of a Duval triangle: the three gases and their share of the three-gas sum, percent.
/// Serialized as `{"CH4": 12.5, "C2H4": 80.0, "C2H2": 7.5}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TernaryPoint {
    pub gases: [Gas; 3],
    pub percent: [f64; 3],
}

impl TernaryPoint {
    /// Relative percentages, or why they cannot be formed (a gas not measured, or all three zero).
    pub fn of(sample: &DgaSample, gases: [Gas; 3]) -> Result<TernaryPoint, String> {
        let mut ppm = [0.0; 3];
        for (slot, gas) in ppm.iter_mut().zip(gases) {
            *slot = sample.level(gas).ok_or_else(|| format!("{gas} was not measured"))?;
        }
        // Scale by the largest value first so that no sum overflows.
        let max = ppm.iter().copied().fold(0.0, f64::max);
        if !max.is_finite() {
            return Err("a concentration is not a finite number".into());
        }
        if max <= 0.0 {
            return Err(format!("{}, {} and {} are all below detection", gases[0], gases[1], gases[2]));
        }
        let scaled = ppm.map(|v| v / max);
        let sum: f64 = scaled.iter().sum();
        Ok(TernaryPoint { gases, percent: scaled.map(|v| 100.0 * v / sum) })
    }

    /// The point in the plane used for polygon tests against the zone vertices.
    pub fn plane(&self) -> Point {
        ternary_to_plane(self.percent)
    }
}

impl Serialize for TernaryPoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        for (gas, pct) in self.gases.iter().zip(self.percent) {
            map.serialize_entry(gas.symbol(), &pct)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TernaryPoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // JSON objects carry no order: the set of gases names the triangle, which fixes it.
        let entries: Vec<(Gas, f64)> = serde_json_order::entries(d)?;
        let triangles =
            [crate::duval_triangle_1::GASES, crate::duval_triangle_4::GASES, crate::duval_triangle_5::GASES];
        let gases = triangles
            .into_iter()
            .find(|t| entries.len() == 3 && t.iter().all(|g| entries.iter().any(|(e, _)| e == g)))
            .ok_or_else(|| serde::de::Error::custom("not the gases of a Duval triangle"))?;
        let pct = |g: Gas| entries.iter().find(|(e, _)| *e == g).map_or(0.0, |(_, p)| *p);
        Ok(TernaryPoint { gases, percent: gases.map(pct) })
    }
}

/// Reads a JSON object's entries as a list (gas keys are not `Ord`-sorted maps here).
pub(crate) mod serde_json_order {
    use serde::Deserializer;
    use serde::de::{DeserializeOwned, MapAccess, Visitor};
    use std::marker::PhantomData;

    pub fn entries<'de, D: Deserializer<'de>, K: DeserializeOwned, V: DeserializeOwned>(
        d: D,
    ) -> Result<Vec<(K, V)>, D::Error> {
        struct Entries<K, V>(PhantomData<(K, V)>);
        impl<'de, K: DeserializeOwned, V: DeserializeOwned> Visitor<'de> for Entries<K, V> {
            type Value = Vec<(K, V)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}

/// The verdict of a Duval triangle: the zone and the plotted point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TriangleVerdict {
    pub zone: FaultCode,
    pub percent: TernaryPoint,
}

impl HasCode for TriangleVerdict {
    fn code(&self) -> FaultCode {
        self.zone
    }
}

pub type TriangleOutcome = Outcome<TriangleVerdict>;

/// Zone polygons as printed: vertices are three percentages in the triangle's gas order.
pub type TernaryZones = &'static [(FaultCode, &'static [[f64; 3]])];
