//! Duval Triangle 4 (H2, CH4, C2H6): low-temperature faults, IEEE C57.104-2019 Annex D Table D.3.
//! Applies only where Triangle 1 gives PD, T1 or T2 (sources.md §5, CONFIRMED-2).

use crate::fault::{FaultCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::ternary::{TernaryPoint, TernaryZones, TriangleOutcome, TriangleVerdict};

pub const GASES: [Gas; 3] = [Gas::H2, Gas::CH4, Gas::C2H6];

/// Triangle 1 zones that call for Triangle 4.
pub const APPLIES_AFTER: [FaultCode; 3] = [FaultCode::PD, FaultCode::T1, FaultCode::T2];

/// Zone polygons, vertices (%H2, %CH4, %C2H6). [S2 Define_DT4][S1].
pub const ZONES: TernaryZones = &[
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
pub fn zone(percent: [f64; 3]) -> FaultCode {
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

/// Triangle 4 for a sample whose Triangle 1 zone is `triangle_1`.
pub fn classify(sample: &DgaSample, triangle_1: Option<FaultCode>) -> TriangleOutcome {
    match triangle_1 {
        Some(z) if APPLIES_AFTER.contains(&z) => {}
        Some(_) => return Outcome::not_applicable("applies only after Triangle 1 PD, T1 or T2"),
        None => return Outcome::not_applicable("Triangle 1 could not be computed"),
    }
    match TernaryPoint::of(sample, GASES) {
        Ok(point) => Outcome::Verdict(TriangleVerdict { zone: zone(point.percent), percent: point }),
        Err(reason) => Outcome::not_applicable(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_is_reached() {
        assert_eq!(zone([90.0, 9.5, 0.5]), FaultCode::PD);
        assert_eq!(zone([5.0, 40.0, 55.0]), FaultCode::O);
        assert_eq!(zone([30.0, 10.0, 60.0]), FaultCode::Undetermined);
        assert_eq!(zone([30.0, 60.0, 10.0]), FaultCode::C);
        assert_eq!(zone([10.0, 63.0, 27.0]), FaultCode::C);
        assert_eq!(zone([70.0, 20.0, 10.0]), FaultCode::S);
        assert_eq!(zone([99.0, 1.0, 0.0]), FaultCode::S);
    }

    #[test]
    fn boundaries_lower_inclusive() {
        assert_eq!(zone([98.0, 2.0, 0.0]), FaultCode::PD);
        assert_eq!(zone([85.0, 15.0, 0.0]), FaultCode::S);
        assert_eq!(zone([9.0, 61.0, 30.0]), FaultCode::S);
        assert_eq!(zone([64.0, 36.0, 0.0]), FaultCode::C);
        assert_eq!(zone([40.0, 36.0, 24.0]), FaultCode::S);
    }

    #[test]
    fn applies_only_after_pd_t1_t2() {
        let s = DgaSample::default().with(Gas::H2, 50.0).with(Gas::CH4, 40.0).with(Gas::C2H6, 10.0);
        assert!(classify(&s, Some(FaultCode::T1)).verdict().is_some());
        assert!(classify(&s, Some(FaultCode::T3)).reason().unwrap().contains("PD, T1 or T2"));
        assert!(classify(&s, None).verdict().is_none());
    }
}
