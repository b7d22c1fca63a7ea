//! Duval Triangle 5 (CH4, C2H4, C2H6): faults in oil at low and high temperature, IEEE
//! C57.104-2019 Annex D Table D.4. Applies only where Triangle 1 gives T2 or T3 (CONFIRMED-2).

use crate::fault::{FaultCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::ternary::{TernaryPoint, TernaryZones, TriangleOutcome, TriangleVerdict};
use crate::thresholds::DuvalThresholds;

pub const GASES: [Gas; 3] = [Gas::CH4, Gas::C2H4, Gas::C2H6];

/// Triangle 1 zones that call for Triangle 5.
pub const APPLIES_AFTER: [FaultCode; 2] = [FaultCode::T2, FaultCode::T3];

/// Zone polygons, vertices (%CH4, %C2H4, %C2H6). [S2 Define_DT5]. O has two parts. These use the
/// default PD/O/S boundary of 14 % C2H6.
pub const ZONES: TernaryZones = &[
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
pub fn zone(percent: [f64; 3], s_min: f64) -> FaultCode {
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

/// Triangle 5 for a sample whose Triangle 1 zone is `triangle_1`.
pub fn classify(sample: &DgaSample, triangle_1: Option<FaultCode>, t: &DuvalThresholds) -> TriangleOutcome {
    match triangle_1 {
        Some(z) if APPLIES_AFTER.contains(&z) => {}
        Some(_) => return Outcome::not_applicable("applies only after Triangle 1 T2 or T3"),
        None => return Outcome::not_applicable("Triangle 1 could not be computed"),
    }
    match TernaryPoint::of(sample, GASES) {
        Ok(point) => Outcome::Verdict(TriangleVerdict {
            zone: zone(point.percent, t.triangle_5_stray_gassing_min_c2h6_pct),
            percent: point,
        }),
        Err(reason) => Outcome::not_applicable(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(m: f64, t: f64, e: f64) -> FaultCode {
        zone([m, t, e], 14.0)
    }

    #[test]
    fn every_zone_is_reached() {
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
    fn the_tabular_gap_is_o_as_the_polygons_say() {
        // 1 <= %C2H4 < 10 and %C2H6 < 2: S1 and S2's rule tables return ND here.
        assert_eq!(z(94.0, 5.0, 1.0), FaultCode::O);
    }

    #[test]
    fn stray_gassing_boundary_is_configurable() {
        assert_eq!(zone([85.5, 0.5, 14.0], 14.0), FaultCode::S);
        assert_eq!(zone([85.5, 0.5, 14.0], 15.0), FaultCode::PD);
        assert_eq!(zone([80.0, 5.0, 14.5], 15.0), FaultCode::O);
    }

    #[test]
    fn boundaries_lower_inclusive() {
        assert_eq!(z(90.0, 10.0, 0.0), FaultCode::T2);
        assert_eq!(z(65.0, 35.0, 0.0), FaultCode::T3);
        assert_eq!(z(78.0, 10.0, 12.0), FaultCode::C);
        assert_eq!(z(38.0, 50.0, 12.0), FaultCode::T3);
        assert_eq!(z(60.0, 10.0, 30.0), FaultCode::Undetermined);
        assert_eq!(z(46.0, 0.0, 54.0), FaultCode::O);
    }

    #[test]
    fn applies_only_after_t2_t3() {
        let s = DgaSample::default().with(Gas::CH4, 50.0).with(Gas::C2H4, 40.0).with(Gas::C2H6, 10.0);
        let t = DuvalThresholds { triangle_5_stray_gassing_min_c2h6_pct: 14.0 };
        assert!(classify(&s, Some(FaultCode::T3), &t).verdict().is_some());
        assert!(classify(&s, Some(FaultCode::T1), &t).reason().unwrap().contains("T2 or T3"));
    }
}
