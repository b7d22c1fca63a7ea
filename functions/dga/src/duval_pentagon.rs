//! Duval Pentagons 1 and 2 (Duval & Lamarre 2014; CIGRE TB 771): the area centroid of the
//! five-gas polygon and the zone that contains it.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

use crate::fault::{FaultCode, HasCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::geometry::{Point, contains, polygon_centroid, pt};

/// Axis order and direction (degrees counter-clockwise from +x), CONFIRMED-3 [S1][S3][S13].
pub const AXES: [(Gas, f64); 5] =
    [(Gas::H2, 90.0), (Gas::C2H6, 162.0), (Gas::CH4, 234.0), (Gas::C2H4, 306.0), (Gas::C2H2, 18.0)];

/// cos and sin of the axis angles, in `AXES` order (checked against `AXES` in a test): the
/// centroid runs for every sample, so the trigonometry is done once here.
const AXIS_UNIT: [(f64, f64); 5] = [
    (0.0, 1.0),
    (-0.951_056_516_295_153_5, 0.309_016_994_374_947_45),
    (-0.587_785_252_292_473_1, -0.809_016_994_374_947_5),
    (0.587_785_252_292_473_1, -0.809_016_994_374_947_5),
    (0.951_056_516_295_153_5, 0.309_016_994_374_947_45),
];

/// A zero gas would make the polygon degenerate; S1 substitutes 1e-10 ppm, which leaves the
/// centroid unchanged to 9 digits (sources.md §6.1). We substitute the same amount relative to
/// the largest gas (1e-10 ppm of a 100 ppm sample), so the result does not depend on the scale.
const ZERO_SUBSTITUTE_RELATIVE: f64 = 1e-12;

/// A pentagon's zone polygons, in test order: a point on a shared edge belongs to the first listed.
pub type Zones = &'static [(FaultCode, &'static [Point])];

const PD: &[Point] = &[pt(0.0, 33.0), pt(-1.0, 33.0), pt(-1.0, 24.5), pt(0.0, 24.5)];
const D1: &[Point] = &[pt(0.0, 40.0), pt(38.0, 12.0), pt(32.0, -6.1), pt(4.0, 16.0), pt(0.0, 1.5)];
const D2: &[Point] = &[pt(4.0, 16.0), pt(32.0, -6.1), pt(24.3, -30.0), pt(0.0, -3.0), pt(0.0, 1.5)];
const S: &[Point] = &[
    pt(0.0, 1.5),
    pt(-35.0, 3.1),
    pt(-38.0, 12.4),
    pt(0.0, 40.0),
    pt(0.0, 33.0),
    pt(-1.0, 33.0),
    pt(-1.0, 24.5),
    pt(0.0, 24.5),
];

/// Pentagon 1 zones (consensus coordinates, sources.md §6.2), in test order: a point on a
/// shared edge belongs to the first zone listed (PD, D1, D2, T3, T2, T1, S).
pub const PENTAGON_1: Zones = &[
    (FaultCode::PD, PD),
    (FaultCode::D1, D1),
    (FaultCode::D2, D2),
    (FaultCode::T3, &[pt(0.0, -3.0), pt(24.3, -30.0), pt(23.5, -32.4), pt(1.0, -32.4), pt(-6.0, -4.0)]),
    (FaultCode::T2, &[pt(-6.0, -4.0), pt(1.0, -32.4), pt(-22.5, -32.4)]),
    (FaultCode::T1, &[pt(-6.0, -4.0), pt(-22.5, -32.4), pt(-23.5, -32.4), pt(-35.0, 3.1), pt(0.0, 1.5), pt(0.0, -3.0)]),
    (FaultCode::S, S),
];

/// Pentagon 2 zones: PD, D1, D2 and S as Pentagon 1; T3-H, C and O split the thermal area.
pub const PENTAGON_2: Zones = &[
    (FaultCode::PD, PD),
    (FaultCode::D1, D1),
    (FaultCode::D2, D2),
    (FaultCode::T3H, &[pt(0.0, -3.0), pt(24.3, -30.0), pt(23.5, -32.4), pt(2.5, -32.4), pt(-3.5, -3.0)]),
    (FaultCode::C, &[pt(-3.5, -3.0), pt(2.5, -32.4), pt(-21.5, -32.4), pt(-11.0, -8.0)]),
    (
        FaultCode::O,
        &[
            pt(-3.5, -3.0),
            pt(-11.0, -8.0),
            pt(-21.5, -32.4),
            pt(-23.5, -32.4),
            pt(-35.0, 3.1),
            pt(0.0, 1.5),
            pt(0.0, -3.0),
        ],
    ),
    (FaultCode::S, S),
];

/// Which pentagon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pentagon {
    /// Pentagon 1: PD, D1, D2, T1, T2, T3 and S.
    One,
    /// Pentagon 2: PD, D1, D2 and S as Pentagon 1, with the thermal area split into T3-H, C and O.
    Two,
}

impl Pentagon {
    /// The pentagon's zone table.
    pub fn zones(self) -> Zones {
        match self {
            Pentagon::One => PENTAGON_1,
            Pentagon::Two => PENTAGON_2,
        }
    }
}

/// The five gases' shares of their sum, percent, in axis order (H2, C2H6, CH4, C2H4, C2H2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiveGasPercent(pub [f64; 5]);

impl Serialize for FiveGasPercent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(5))?;
        for ((gas, _), pct) in AXES.iter().zip(self.0) {
            map.serialize_entry(gas.symbol(), &pct)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FiveGasPercent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries: Vec<(Gas, f64)> = crate::duval_triangle::serde_json_order::entries(d)?;
        let mut out = [0.0; 5];
        for ((gas, _), slot) in AXES.iter().zip(out.iter_mut()) {
            *slot = entries
                .iter()
                .find(|(g, _)| g == gas)
                .map(|(_, p)| *p)
                .ok_or_else(|| serde::de::Error::custom(format!("pentagon shares lack {gas}")))?;
        }
        Ok(FiveGasPercent(out))
    }
}

/// The verdict of a pentagon: the zone, the plotted centroid and the gas shares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PentagonVerdict {
    /// The zone that contains the centroid.
    pub zone: FaultCode,
    /// The plotted point: the area centroid of the five-gas polygon.
    pub centroid: Point,
    /// The five gases' shares of their sum, percent.
    pub percent: FiveGasPercent,
}

impl HasCode for PentagonVerdict {
    fn code(&self) -> FaultCode {
        self.zone
    }
}

/// A pentagon's verdict, or why it does not apply.
pub type PentagonOutcome = Outcome<PentagonVerdict>;

/// The centroid of the five-gas polygon, with the gas shares; `Err` says why it cannot be formed.
pub fn centroid(sample: &DgaSample) -> Result<(Point, FiveGasPercent), String> {
    let mut ppm = [0.0; 5];
    for (slot, (gas, _)) in ppm.iter_mut().zip(AXES) {
        *slot = sample.level(gas).ok_or_else(|| format!("{gas} was not measured"))?;
    }
    let max = ppm.iter().copied().fold(0.0, f64::max);
    if !max.is_finite() {
        return Err("a concentration is not a finite number".into());
    }
    if max <= 0.0 {
        return Err("H2, C2H6, CH4, C2H4 and C2H2 are all below detection".into());
    }
    // Scale by the largest value so that no sum overflows, then substitute zeros.
    let scaled = ppm.map(|v| v / max);
    let total: f64 = scaled.iter().sum();
    let percent = scaled.map(|v| 100.0 * v / total);
    let substituted = ppm.map(|v| if v > 0.0 { v / max } else { ZERO_SUBSTITUTE_RELATIVE });
    let sub_total: f64 = substituted.iter().sum();
    let mut vertices = [Point { x: 0.0, y: 0.0 }; 5];
    for ((vertex, v), (cos, sin)) in vertices.iter_mut().zip(substituted).zip(AXIS_UNIT) {
        let pct = 100.0 * v / sub_total;
        *vertex = Point { x: pct * cos, y: pct * sin };
    }
    let c = polygon_centroid(&vertices).ok_or("the five-gas polygon has no area")?;
    Ok((c, FiveGasPercent(percent)))
}

/// The zone containing a centroid; ND if none does (only possible outside the reachable region).
pub fn zone(pentagon: Pentagon, point: Point) -> FaultCode {
    pentagon
        .zones()
        .iter()
        .find(|(_, polygon)| contains(polygon, point))
        .map_or(FaultCode::Undetermined, |(code, _)| *code)
}

/// Classifies one sample by a Duval pentagon.
pub fn classify(sample: &DgaSample, pentagon: Pentagon) -> PentagonOutcome {
    match centroid(sample) {
        Ok((c, percent)) => Outcome::Verdict(PentagonVerdict { zone: zone(pentagon, c), centroid: c, percent }),
        Err(reason) => Outcome::not_applicable(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(h2: f64, c2h6: f64, ch4: f64, c2h4: f64, c2h2: f64) -> DgaSample {
        DgaSample::default()
            .with(Gas::H2, h2)
            .with(Gas::C2H6, c2h6)
            .with(Gas::CH4, ch4)
            .with(Gas::C2H4, c2h4)
            .with(Gas::C2H2, c2h2)
    }

    /// The reference's test vectors (sources.md §6.1), agreeing with S1's and S3's tests.
    #[test]
    fn reference_test_vectors() {
        let cases = [
            ([31.0, 130.0, 192.0, 31.0, 0.0], (-17.301, -9.096), FaultCode::T1, FaultCode::O),
            ([50.0, 80.0, 120.0, 60.0, 30.0], (-7.36, -5.80), FaultCode::T1, FaultCode::C),
            ([32.0, 0.5, 0.1, 0.1, 0.1], (-0.39, 32.54), FaultCode::PD, FaultCode::PD),
            ([32.0, 10.0, 0.1, 0.1, 0.1], (-7.42, 27.55), FaultCode::S, FaultCode::S),
            ([0.1, 100.0, 100.0, 0.1, 0.1], (-25.58, -8.31), FaultCode::T1, FaultCode::O),
            ([0.1, 0.1, 100.0, 10.0, 0.1], (-15.99, -26.84), FaultCode::T2, FaultCode::C),
            ([0.1, 0.1, 10.0, 100.0, 0.1], (15.99, -26.84), FaultCode::T3, FaultCode::T3H),
            ([0.1, 0.1, 0.1, 100.0, 100.0], (25.58, -8.31), FaultCode::D2, FaultCode::D2),
            ([100.0, 0.1, 0.1, 0.1, 100.0], (15.81, 21.76), FaultCode::D1, FaultCode::D1),
        ];
        for ([h2, c2h6, ch4, c2h4, c2h2], (x, y), p1, p2) in cases {
            let s = sample(h2, c2h6, ch4, c2h4, c2h2);
            let one = *classify(&s, Pentagon::One).verdict().unwrap();
            let tol = if x == -17.301 { 0.001 } else { 0.006 };
            assert!((one.centroid.x - x).abs() < tol && (one.centroid.y - y).abs() < tol, "{s:?}: {:?}", one.centroid);
            assert_eq!(one.zone, p1, "P1 {s:?}");
            assert_eq!(classify(&s, Pentagon::Two).verdict().unwrap().zone, p2, "P2 {s:?}");
        }
    }

    #[test]
    fn pure_gases_land_on_their_axis_at_a_third() {
        let (c, pct) = centroid(&sample(10.0, 0.0, 0.0, 0.0, 0.0)).unwrap();
        assert!((c.x).abs() < 1e-6 && (c.y - 100.0 / 3.0).abs() < 1e-6, "{c:?}");
        assert_eq!(pct.0, [100.0, 0.0, 0.0, 0.0, 0.0]);
        let (c, _) = centroid(&sample(0.0, 0.0, 0.0, 0.0, 5.0)).unwrap();
        assert!((c.x - 31.702).abs() < 1e-3 && (c.y - 10.301).abs() < 1e-3, "{c:?}");
        // Only H2 and C2H2, adjacent axes: the centroid of the triangle they form with the origin.
        let (c, _) = centroid(&sample(50.0, 0.0, 0.0, 0.0, 50.0)).unwrap();
        let a = 18f64.to_radians();
        let (ex, ey) = (50.0 * a.cos() / 3.0, (50.0 + 50.0 * a.sin()) / 3.0);
        assert!((c.x - ex).abs() < 1e-6 && (c.y - ey).abs() < 1e-6, "{c:?} vs ({ex}, {ey})");
        // Only H2 and CH4, not adjacent: the polygon collapses onto two segments, and the
        // substitution's limit is what S1 computes. sources.md §6.1 calls this "the triangle
        // with the origin", which holds only for adjacent axes; we check the limit is stable.
        let (c, _) = centroid(&sample(50.0, 0.0, 50.0, 0.0, 0.0)).unwrap();
        let (c6, _) = centroid(&sample(50.0, 1e-6, 50.0, 1e-6, 1e-6)).unwrap();
        assert!((c.x - c6.x).abs() < 1e-5 && (c.y - c6.y).abs() < 1e-5, "{c:?} vs {c6:?}");
        assert!((c.x + 4.8982).abs() < 1e-3 && (c.y - 1.5915).abs() < 1e-3, "{c:?}");
    }

    #[test]
    fn axis_units_match_the_axis_angles() {
        for ((_, angle), (cos, sin)) in AXES.iter().zip(AXIS_UNIT) {
            let rad = angle.to_radians();
            assert!((rad.cos() - cos).abs() < 1e-15 && (rad.sin() - sin).abs() < 1e-15, "{angle}");
        }
    }

    #[test]
    fn zero_gases_are_not_applicable() {
        assert!(classify(&sample(0.0, 0.0, 0.0, 0.0, 0.0), Pentagon::One).reason().is_some());
        let mut s = sample(1.0, 1.0, 1.0, 1.0, 1.0);
        s.c2h2_ppm = crate::gas::GasReading::NotMeasured;
        assert!(classify(&s, Pentagon::Two).reason().unwrap().contains("C2H2"));
    }
}
