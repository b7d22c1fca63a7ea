//! The Duval triangles, keyed by triangle: 1 (CH4, C2H4, C2H2; IEEE C57.104-2019 Table 6, IEC
//! 60599 Annex B), 4 (H2, CH4, C2H6; Annex D Table D.3) and 5 (CH4, C2H4, C2H6; Table D.4).
//! Triangles 4 and 5 apply only after Triangle 1 PD/T1/T2 and T2/T3 respectively
//! (sources.md §5, CONFIRMED-2). Each triangle's zone table is data at the top, with its clause;
//! one pure function per triangle classifies by the standard's inequalities; the plotted point is
//! a [`TernaryPoint`].

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fault::{FaultCode, HasCode, MethodName, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::geometry::{Point, ternary_to_plane};
use crate::thresholds::DuvalThresholds;

/// Which Duval triangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Triangle {
    /// Triangle 1: the main graphical method, every fault type.
    One,
    /// Triangle 4: low-temperature faults (after Triangle 1 PD, T1, T2).
    Four,
    /// Triangle 5: thermal faults in oil (after Triangle 1 T2, T3).
    Five,
}

impl Triangle {
    /// The three triangles.
    pub const ALL: [Triangle; 3] = [Triangle::One, Triangle::Four, Triangle::Five];

    /// The triangle's gases, in the order of its percentages.
    pub fn gases(self) -> [Gas; 3] {
        match self {
            Triangle::One => [Gas::CH4, Gas::C2H4, Gas::C2H2],
            Triangle::Four => [Gas::H2, Gas::CH4, Gas::C2H6],
            Triangle::Five => [Gas::CH4, Gas::C2H4, Gas::C2H6],
        }
    }

    /// The zone polygons, as printed (three percentages a vertex, in [`Triangle::gases`] order).
    /// Triangle 5's use the default PD/O/S boundary of 14 % C2H6.
    pub fn zones(self) -> TernaryZones {
        match self {
            Triangle::One => ZONES_1,
            Triangle::Four => ZONES_4,
            Triangle::Five => ZONES_5,
        }
    }

    /// The Triangle 1 zones after which this triangle applies; `None` for Triangle 1 itself.
    pub fn applies_after(self) -> Option<&'static [FaultCode]> {
        match self {
            Triangle::One => None,
            Triangle::Four => Some(&[FaultCode::PD, FaultCode::T1, FaultCode::T2]),
            Triangle::Five => Some(&[FaultCode::T2, FaultCode::T3]),
        }
    }

    /// The record's method key.
    pub fn method(self) -> MethodName {
        match self {
            Triangle::One => MethodName::DuvalTriangle1,
            Triangle::Four => MethodName::DuvalTriangle4,
            Triangle::Five => MethodName::DuvalTriangle5,
        }
    }

    /// The zone of a point (percentages in [`Triangle::gases`] order).
    pub fn zone(self, percent: [f64; 3], t: &DuvalThresholds) -> FaultCode {
        match self {
            Triangle::One => zone_1(percent),
            Triangle::Four => zone_4(percent),
            Triangle::Five => zone_5(percent, t.triangle_5_stray_gassing_min_c2h6_pct),
        }
    }

    /// Classifies a sample. `triangle_1` is the sample's Triangle 1 zone, which decides whether
    /// Triangles 4 and 5 apply; Triangle 1 ignores it.
    pub fn classify(self, sample: &DgaSample, triangle_1: Option<FaultCode>, t: &DuvalThresholds) -> TriangleOutcome {
        if let Some(after) = self.applies_after() {
            match triangle_1 {
                Some(z) if after.contains(&z) => {}
                Some(_) => {
                    let after = if self == Triangle::Four { "PD, T1 or T2" } else { "T2 or T3" };
                    return Outcome::not_applicable(format!("applies only after Triangle 1 {after}"));
                }
                None => return Outcome::not_applicable("Triangle 1 could not be computed"),
            }
        }
        match TernaryPoint::of(sample, self.gases()) {
            Ok(point) => Outcome::Verdict(TriangleVerdict { zone: self.zone(point.percent, t), percent: point }),
            Err(reason) => Outcome::not_applicable(reason),
        }
    }
}

// ---- Triangle 1 --------------------------------------------------------------------------

/// Zone polygons, vertices (%CH4, %C2H4, %C2H2). CONFIRMED-3 [S2 Define_DT1][S1][S4].
const ZONES_1: TernaryZones = &[
    (FaultCode::PD, &[[100.0, 0.0, 0.0], [98.0, 0.0, 2.0], [98.0, 2.0, 0.0]]),
    (FaultCode::T1, &[[98.0, 0.0, 2.0], [96.0, 0.0, 4.0], [76.0, 20.0, 4.0], [80.0, 20.0, 0.0], [98.0, 2.0, 0.0]]),
    (FaultCode::T2, &[[80.0, 20.0, 0.0], [76.0, 20.0, 4.0], [46.0, 50.0, 4.0], [50.0, 50.0, 0.0]]),
    (FaultCode::T3, &[[50.0, 50.0, 0.0], [35.0, 50.0, 15.0], [0.0, 85.0, 15.0], [0.0, 100.0, 0.0]]),
    (
        FaultCode::DT,
        &[
            [96.0, 0.0, 4.0],
            [87.0, 0.0, 13.0],
            [47.0, 40.0, 13.0],
            [31.0, 40.0, 29.0],
            [0.0, 71.0, 29.0],
            [0.0, 85.0, 15.0],
            [35.0, 50.0, 15.0],
            [46.0, 50.0, 4.0],
        ],
    ),
    (FaultCode::D1, &[[87.0, 0.0, 13.0], [0.0, 0.0, 100.0], [0.0, 23.0, 77.0], [64.0, 23.0, 13.0]]),
    (
        FaultCode::D2,
        &[[64.0, 23.0, 13.0], [0.0, 23.0, 77.0], [0.0, 71.0, 29.0], [31.0, 40.0, 29.0], [47.0, 40.0, 13.0]],
    ),
];

/// The zone of a point, by the inequalities of IEEE 2019 Table 6 (as transcribed by [S2]):
/// lower bounds inclusive, upper bounds exclusive, evaluated in this order.
fn zone_1(percent: [f64; 3]) -> FaultCode {
    let [m, e, a] = percent;
    if m >= 98.0 {
        FaultCode::PD
    } else if a < 4.0 && e < 20.0 {
        FaultCode::T1
    } else if a < 4.0 && e < 50.0 {
        FaultCode::T2
    } else if a < 15.0 && e >= 50.0 {
        FaultCode::T3
    } else if a >= 13.0 && e < 23.0 {
        FaultCode::D1
    } else if (a >= 13.0 && (23.0..40.0).contains(&e)) || (a >= 29.0 && e >= 23.0) {
        FaultCode::D2
    } else {
        FaultCode::DT
    }
}

// ---- Triangle 4 --------------------------------------------------------------------------

/// Zone polygons, vertices (%H2, %CH4, %C2H6). [S2 Define_DT4][S1].
const ZONES_4: TernaryZones = &[
    (FaultCode::PD, &[[98.0, 2.0, 0.0], [97.0, 2.0, 1.0], [84.0, 15.0, 1.0], [85.0, 15.0, 0.0]]),
    (FaultCode::O, &[[9.0, 0.0, 91.0], [0.0, 0.0, 100.0], [0.0, 70.0, 30.0], [9.0, 61.0, 30.0]]),
    (FaultCode::Undetermined, &[[54.0, 0.0, 46.0], [9.0, 0.0, 91.0], [9.0, 45.0, 46.0]]),
    (
        FaultCode::C,
        &[
            [64.0, 36.0, 0.0],
            [40.0, 36.0, 24.0],
            [15.0, 61.0, 24.0],
            [15.0, 55.0, 30.0],
            [0.0, 70.0, 30.0],
            [0.0, 100.0, 0.0],
        ],
    ),
    (
        FaultCode::S,
        &[
            [100.0, 0.0, 0.0],
            [54.0, 0.0, 46.0],
            [9.0, 45.0, 46.0],
            [9.0, 61.0, 30.0],
            [15.0, 55.0, 30.0],
            [15.0, 61.0, 24.0],
            [40.0, 36.0, 24.0],
            [64.0, 36.0, 0.0],
            [85.0, 15.0, 0.0],
            [84.0, 15.0, 1.0],
            [97.0, 2.0, 1.0],
            [98.0, 2.0, 0.0],
        ],
    ),
];

/// Zone by the Table D.3 inequalities (CONFIRMED-3; C uses `C2H6 < 24`, the printed `>= 24` is a
/// typo per [S2]), lower bounds inclusive, in this order.
fn zone_4(percent: [f64; 3]) -> FaultCode {
    let [h, m, e] = percent;
    if e < 1.0 && (2.0..15.0).contains(&m) {
        FaultCode::PD
    } else if e >= 30.0 && h < 9.0 {
        FaultCode::O
    } else if e >= 46.0 && h >= 9.0 {
        FaultCode::Undetermined
    } else if (m >= 36.0 && e < 24.0) || (h < 15.0 && (24.0..30.0).contains(&e)) {
        FaultCode::C
    } else {
        FaultCode::S
    }
}

// ---- Triangle 5 --------------------------------------------------------------------------

/// Zone polygons, vertices (%CH4, %C2H4, %C2H6). [S2 Define_DT5]. O has two parts. These use the
/// default PD/O/S boundary of 14 % C2H6.
const ZONES_5: TernaryZones = &[
    (FaultCode::PD, &[[98.0, 0.0, 2.0], [86.0, 0.0, 14.0], [85.0, 1.0, 14.0], [97.0, 1.0, 2.0]]),
    (
        FaultCode::O,
        &[
            [100.0, 0.0, 0.0],
            [98.0, 0.0, 2.0],
            [97.0, 1.0, 2.0],
            [85.0, 1.0, 14.0],
            [76.0, 10.0, 14.0],
            [90.0, 10.0, 0.0],
        ],
    ),
    (FaultCode::O, &[[46.0, 0.0, 54.0], [0.0, 0.0, 100.0], [0.0, 10.0, 90.0], [36.0, 10.0, 54.0]]),
    (FaultCode::S, &[[86.0, 0.0, 14.0], [46.0, 0.0, 54.0], [36.0, 10.0, 54.0], [76.0, 10.0, 14.0]]),
    (FaultCode::T2, &[[90.0, 10.0, 0.0], [78.0, 10.0, 12.0], [53.0, 35.0, 12.0], [65.0, 35.0, 0.0]]),
    (
        FaultCode::T3,
        &[
            [65.0, 35.0, 0.0],
            [53.0, 35.0, 12.0],
            [38.0, 50.0, 12.0],
            [36.0, 50.0, 14.0],
            [16.0, 70.0, 14.0],
            [0.0, 70.0, 30.0],
            [35.0, 35.0, 30.0],
            [0.0, 35.0, 65.0],
            [0.0, 100.0, 0.0],
        ],
    ),
    (
        FaultCode::C,
        &[
            [78.0, 10.0, 12.0],
            [60.0, 10.0, 30.0],
            [0.0, 70.0, 30.0],
            [16.0, 70.0, 14.0],
            [36.0, 50.0, 14.0],
            [38.0, 50.0, 12.0],
        ],
    ),
    (FaultCode::Undetermined, &[[60.0, 10.0, 30.0], [0.0, 10.0, 90.0], [0.0, 35.0, 65.0], [35.0, 35.0, 30.0]]),
];

/// Zone by the Table D.4 inequalities (sources.md §5.2), with the gap `1 <= %C2H4 < 10,
/// %C2H6 < 2` assigned to O as the polygons do (S1 and S2's tables leave it ND: a known bug).
/// `s_min` is the PD/O/S boundary in %C2H6 (14 per IEEE 2019; 15 in S1 and S3).
fn zone_5(percent: [f64; 3], s_min: f64) -> FaultCode {
    let [_m, t, e] = percent;
    if t < 1.0 && e >= 2.0 && e < s_min {
        FaultCode::PD
    } else if t < 10.0 && (e < s_min || e >= 54.0) {
        FaultCode::O
    } else if t < 10.0 {
        FaultCode::S
    } else if t < 35.0 && e < 12.0 {
        FaultCode::T2
    } else if (t >= 35.0 && e < 12.0) || (t >= 50.0 && e < 14.0) || (t >= 70.0 && e >= 14.0) || (t >= 35.0 && e >= 30.0)
    {
        FaultCode::T3
    } else if (t < 50.0 && e < 14.0) || (t < 70.0 && e < 30.0) {
        FaultCode::C
    } else {
        // 10 <= t < 35 and e >= 30.
        FaultCode::Undetermined
    }
}

// ---- The plotted point -------------------------------------------------------------------

/// A point of a Duval triangle: the three gases and their share of the three-gas sum, percent.
/// Serialized as `{"CH4": 12.5, "C2H4": 80.0, "C2H2": 7.5}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TernaryPoint {
    /// The triangle's three gases, in the order of its percentages.
    pub gases: [Gas; 3],
    /// Each gas's share of the three-gas sum, percent.
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
        let gases = Triangle::ALL
            .into_iter()
            .map(Triangle::gases)
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
    /// The zone that contains the point.
    pub zone: FaultCode,
    /// The plotted point.
    pub percent: TernaryPoint,
}

impl HasCode for TriangleVerdict {
    fn code(&self) -> FaultCode {
        self.zone
    }
}

/// A triangle's verdict, or why it does not apply.
pub type TriangleOutcome = Outcome<TriangleVerdict>;

/// Zone polygons as printed: vertices are three percentages in the triangle's gas order.
pub type TernaryZones = &'static [(FaultCode, &'static [[f64; 3]])];

#[cfg(test)]
mod tests {
    use super::*;

    fn duval() -> DuvalThresholds {
        DuvalThresholds { triangle_5_stray_gassing_min_c2h6_pct: 14.0 }
    }

    fn at(ch4: f64, c2h4: f64, c2h2: f64) -> FaultCode {
        let s = DgaSample::default().with(Gas::CH4, ch4).with(Gas::C2H4, c2h4).with(Gas::C2H2, c2h2);
        Triangle::One.classify(&s, None, &duval()).verdict().unwrap().zone
    }

    #[test]
    fn one_every_zone_is_reached() {
        assert_eq!(at(99.0, 0.5, 0.5), FaultCode::PD);
        assert_eq!(at(90.0, 8.0, 2.0), FaultCode::T1);
        assert_eq!(at(65.0, 33.0, 2.0), FaultCode::T2);
        assert_eq!(at(20.0, 75.0, 5.0), FaultCode::T3);
        assert_eq!(at(70.0, 22.0, 8.0), FaultCode::DT);
        assert_eq!(at(30.0, 10.0, 60.0), FaultCode::D1);
        assert_eq!(at(30.0, 30.0, 40.0), FaultCode::D2);
        assert_eq!(at(10.0, 50.0, 40.0), FaultCode::D2);
    }

    #[test]
    fn one_boundaries_follow_ieee_table_6_lower_inclusive() {
        // sources.md §4: S2/IEEE convention; S1 would give the second value in each comment.
        assert_eq!(zone_1([98.0, 2.0, 0.0]), FaultCode::PD);
        assert_eq!(zone_1([96.0, 0.0, 4.0]), FaultCode::DT); // S1: T1
        assert_eq!(zone_1([78.0, 20.0, 2.0]), FaultCode::T2); // S1: T1
        assert_eq!(zone_1([64.0, 23.0, 13.0]), FaultCode::D2); // S1: D1
        assert_eq!(zone_1([35.0, 50.0, 15.0]), FaultCode::DT); // S1: T3
        assert_eq!(zone_1([47.0, 40.0, 13.0]), FaultCode::DT); // S1: D2
        assert_eq!(zone_1([50.0, 50.0, 0.0]), FaultCode::T3);
        assert_eq!(zone_1([0.0, 71.0, 29.0]), FaultCode::D2);
    }

    #[test]
    fn one_relative_percentages_and_coordinates() {
        let s = DgaSample::default().with(Gas::CH4, 80.0).with(Gas::C2H4, 150.0).with(Gas::C2H2, 2.0);
        let v = *Triangle::One.classify(&s, None, &duval()).verdict().unwrap();
        let [m, e, a] = v.percent.percent;
        assert!((m - 34.4828).abs() < 1e-3 && (e - 64.6552).abs() < 1e-3 && (a - 0.8621).abs() < 1e-3);
        assert_eq!(v.zone, FaultCode::T3);
        let json = serde_json::to_value(v).unwrap();
        assert_eq!(json["zone"], "T3");
        assert!((json["percent"]["C2H4"].as_f64().unwrap() - 64.6552).abs() < 1e-3);
    }

    #[test]
    fn one_not_applicable_without_gas() {
        let zeros = DgaSample::default().with(Gas::CH4, 0.0).with(Gas::C2H4, 0.0).with(Gas::C2H2, 0.0);
        assert!(Triangle::One.classify(&zeros, None, &duval()).reason().unwrap().contains("below detection"));
        let missing = DgaSample::default().with(Gas::CH4, 1.0).with(Gas::C2H4, 1.0);
        assert!(Triangle::One.classify(&missing, None, &duval()).reason().unwrap().contains("C2H2 was not measured"));
    }

    #[test]
    fn four_every_zone_is_reached() {
        assert_eq!(zone_4([90.0, 9.5, 0.5]), FaultCode::PD);
        assert_eq!(zone_4([5.0, 40.0, 55.0]), FaultCode::O);
        assert_eq!(zone_4([30.0, 10.0, 60.0]), FaultCode::Undetermined);
        assert_eq!(zone_4([30.0, 60.0, 10.0]), FaultCode::C);
        assert_eq!(zone_4([10.0, 63.0, 27.0]), FaultCode::C);
        assert_eq!(zone_4([70.0, 20.0, 10.0]), FaultCode::S);
        assert_eq!(zone_4([99.0, 1.0, 0.0]), FaultCode::S);
    }

    #[test]
    fn four_boundaries_lower_inclusive() {
        assert_eq!(zone_4([98.0, 2.0, 0.0]), FaultCode::PD);
        assert_eq!(zone_4([85.0, 15.0, 0.0]), FaultCode::S);
        assert_eq!(zone_4([9.0, 61.0, 30.0]), FaultCode::S);
        assert_eq!(zone_4([64.0, 36.0, 0.0]), FaultCode::C);
        assert_eq!(zone_4([40.0, 36.0, 24.0]), FaultCode::S);
    }

    #[test]
    fn four_applies_only_after_pd_t1_t2() {
        let s = DgaSample::default().with(Gas::H2, 50.0).with(Gas::CH4, 40.0).with(Gas::C2H6, 10.0);
        assert!(Triangle::Four.classify(&s, Some(FaultCode::T1), &duval()).verdict().is_some());
        assert!(Triangle::Four.classify(&s, Some(FaultCode::T3), &duval()).reason().unwrap().contains("PD, T1 or T2"));
        assert!(Triangle::Four.classify(&s, None, &duval()).verdict().is_none());
    }

    fn z(m: f64, t: f64, e: f64) -> FaultCode {
        zone_5([m, t, e], 14.0)
    }

    #[test]
    fn five_every_zone_is_reached() {
        assert_eq!(z(94.5, 0.5, 5.0), FaultCode::PD);
        assert_eq!(z(99.5, 0.5, 0.0), FaultCode::O);
        assert_eq!(z(20.0, 5.0, 75.0), FaultCode::O);
        assert_eq!(z(65.0, 5.0, 30.0), FaultCode::S);
        assert_eq!(z(70.0, 25.0, 5.0), FaultCode::T2);
        assert_eq!(z(40.0, 55.0, 5.0), FaultCode::T3);
        assert_eq!(z(10.0, 80.0, 10.0), FaultCode::T3);
        assert_eq!(z(20.0, 40.0, 40.0), FaultCode::T3);
        assert_eq!(z(50.0, 30.0, 20.0), FaultCode::C);
        assert_eq!(z(40.0, 20.0, 40.0), FaultCode::Undetermined);
    }

    #[test]
    fn five_the_tabular_gap_is_o_as_the_polygons_say() {
        // 1 <= %C2H4 < 10 and %C2H6 < 2: S1 and S2's rule tables return ND here.
        assert_eq!(z(94.0, 5.0, 1.0), FaultCode::O);
    }

    #[test]
    fn five_stray_gassing_boundary_is_configurable() {
        assert_eq!(zone_5([85.5, 0.5, 14.0], 14.0), FaultCode::S);
        assert_eq!(zone_5([85.5, 0.5, 14.0], 15.0), FaultCode::PD);
        assert_eq!(zone_5([80.0, 5.0, 14.5], 15.0), FaultCode::O);
    }

    #[test]
    fn five_boundaries_lower_inclusive() {
        assert_eq!(z(90.0, 10.0, 0.0), FaultCode::T2);
        assert_eq!(z(65.0, 35.0, 0.0), FaultCode::T3);
        assert_eq!(z(78.0, 10.0, 12.0), FaultCode::C);
        assert_eq!(z(38.0, 50.0, 12.0), FaultCode::T3);
        assert_eq!(z(60.0, 10.0, 30.0), FaultCode::Undetermined);
        assert_eq!(z(46.0, 0.0, 54.0), FaultCode::O);
    }

    #[test]
    fn five_applies_only_after_t2_t3() {
        let s = DgaSample::default().with(Gas::CH4, 50.0).with(Gas::C2H4, 40.0).with(Gas::C2H6, 10.0);
        let t = DuvalThresholds { triangle_5_stray_gassing_min_c2h6_pct: 14.0 };
        assert!(Triangle::Five.classify(&s, Some(FaultCode::T3), &t).verdict().is_some());
        assert!(Triangle::Five.classify(&s, Some(FaultCode::T1), &t).reason().unwrap().contains("T2 or T3"));
    }
}
