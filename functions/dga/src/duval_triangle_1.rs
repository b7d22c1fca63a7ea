//! Duval Triangle 1 (CH4, C2H4, C2H2): IEEE C57.104-2019 Table 6, IEC 60599 Annex B.

use crate::fault::{FaultCode, Outcome};
use crate::gas::{DgaSample, Gas};
use crate::ternary::{TernaryPoint, TernaryZones, TriangleOutcome, TriangleVerdict};

pub const GASES: [Gas; 3] = [Gas::CH4, Gas::C2H4, Gas::C2H2];

/// Zone polygons, vertices (%CH4, %C2H4, %C2H2). CONFIRMED-3 [S2 Define_DT1][S1][S4].
pub const ZONES: TernaryZones = &[
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
pub fn zone(percent: [f64; 3]) -> FaultCode {
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

pub fn classify(sample: &DgaSample) -> TriangleOutcome {
    match TernaryPoint::of(sample, GASES) {
        Ok(point) => Outcome::Verdict(TriangleVerdict { zone: zone(point.percent), percent: point }),
        Err(reason) => Outcome::not_applicable(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ch4: f64, c2h4: f64, c2h2: f64) -> FaultCode {
        let s = DgaSample::default().with(Gas::CH4, ch4).with(Gas::C2H4, c2h4).with(Gas::C2H2, c2h2);
        classify(&s).verdict().unwrap().zone
    }

    #[test]
    fn every_zone_is_reached() {
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
    fn boundaries_follow_ieee_table_6_lower_inclusive() {
        // sources.md §4: S2/IEEE convention; S1 would give the second value in each comment.
        assert_eq!(zone([98.0, 2.0, 0.0]), FaultCode::PD);
        assert_eq!(zone([96.0, 0.0, 4.0]), FaultCode::DT); // S1: T1
        assert_eq!(zone([78.0, 20.0, 2.0]), FaultCode::T2); // S1: T1
        assert_eq!(zone([64.0, 23.0, 13.0]), FaultCode::D2); // S1: D1
        assert_eq!(zone([35.0, 50.0, 15.0]), FaultCode::DT); // S1: T3
        assert_eq!(zone([47.0, 40.0, 13.0]), FaultCode::DT); // S1: D2
        assert_eq!(zone([50.0, 50.0, 0.0]), FaultCode::T3);
        assert_eq!(zone([0.0, 71.0, 29.0]), FaultCode::D2);
    }

    #[test]
    fn relative_percentages_and_coordinates() {
        let s = DgaSample::default().with(Gas::CH4, 80.0).with(Gas::C2H4, 150.0).with(Gas::C2H2, 2.0);
        let v = *classify(&s).verdict().unwrap();
        let [m, e, a] = v.percent.percent;
        assert!((m - 34.4828).abs() < 1e-3 && (e - 64.6552).abs() < 1e-3 && (a - 0.8621).abs() < 1e-3);
        assert_eq!(v.zone, FaultCode::T3);
        let json = serde_json::to_value(v).unwrap();
        assert_eq!(json["zone"], "T3");
        assert!((json["percent"]["C2H4"].as_f64().unwrap() - 64.6552).abs() < 1e-3);
    }

    #[test]
    fn not_applicable_without_gas() {
        let zeros = DgaSample::default().with(Gas::CH4, 0.0).with(Gas::C2H4, 0.0).with(Gas::C2H2, 0.0);
        assert!(classify(&zeros).reason().unwrap().contains("below detection"));
        let missing = DgaSample::default().with(Gas::CH4, 1.0).with(Gas::C2H4, 1.0);
        assert!(classify(&missing).reason().unwrap().contains("C2H2 was not measured"));
    }
}
