//! Property tests: every composition lands in exactly one zone of each triangle and pentagon,
//! and that zone is the one whose polygon (the reference's vertices) contains the point. The
//! classifiers use the standards' inequalities; the polygons are independent data, so an
//! else-branch cannot pass for a zone.

use dga::duval_pentagon::{self, Pentagon};
use dga::duval_triangle::{TernaryZones, Triangle};
use dga::geometry::{Containment, Point, locate, ternary_to_plane};
use dga::{DgaSample, FaultCode, Gas};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Zones whose polygon contains the point, or `None` when it lies on some zone's edge (boundary
/// conventions are tested by the unit tests beside each classifier).
fn containing_ternary(zones: TernaryZones, percent: [f64; 3]) -> Option<Vec<FaultCode>> {
    let p = ternary_to_plane(percent);
    let mut inside = Vec::new();
    for (code, vertices) in zones {
        let polygon: Vec<Point> = vertices.iter().map(|v| ternary_to_plane(*v)).collect();
        match locate(p, &polygon) {
            Containment::Inside => inside.push(*code),
            Containment::OnEdge => return None,
            Containment::Outside => {}
        }
    }
    Some(inside)
}

fn containing_pentagon(pentagon: Pentagon, p: Point) -> Option<Vec<FaultCode>> {
    let mut inside = Vec::new();
    for (code, vertices) in pentagon.zones() {
        match locate(p, vertices) {
            Containment::Inside => inside.push(*code),
            Containment::OnEdge => return None,
            Containment::Outside => {}
        }
    }
    Some(inside)
}

fn check_triangle(
    name: &str,
    zones: TernaryZones,
    percent: [f64; 3],
    classified: FaultCode,
) -> Result<(), TestCaseError> {
    let sum: f64 = percent.iter().sum();
    prop_assert!((sum - 100.0).abs() < 1e-9, "{name}: percentages sum to {sum}");
    prop_assert!(percent.iter().all(|p| (0.0..=100.0).contains(p)));
    if let Some(inside) = containing_ternary(zones, percent) {
        prop_assert_eq!(inside.len(), 1, "{}: {:?} is inside {:?}", name, percent, inside);
        prop_assert_eq!(inside[0], classified, "{}: {:?}", name, percent);
    }
    Ok(())
}

fn sample(h2: f64, ch4: f64, c2h6: f64, c2h4: f64, c2h2: f64) -> DgaSample {
    DgaSample::default()
        .with(Gas::H2, h2)
        .with(Gas::CH4, ch4)
        .with(Gas::C2H6, c2h6)
        .with(Gas::C2H4, c2h4)
        .with(Gas::C2H2, c2h2)
}

/// A gas value: often zero or tiny, otherwise spread over six decades, so that corners, edges
/// and the middle of every zone are all visited.
fn ppm() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        2 => 0.0..1.0f64,
        4 => 0.0..100.0f64,
        3 => 0.0..10_000.0f64,
        1 => 0.0..1_000_000.0f64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn triangle_1_zone_is_the_containing_polygon(ch4 in ppm(), c2h4 in ppm(), c2h2 in ppm()) {
        let s = sample(1.0, ch4, 1.0, c2h4, c2h2);
        if let Some(v) = Triangle::One.classify(&s, None, &dga::Thresholds::default().duval).verdict() {
            check_triangle("Triangle 1", Triangle::One.zones(), v.percent.percent, v.zone)?;
        } else {
            prop_assert!(ch4 + c2h4 + c2h2 == 0.0);
        }
    }

    #[test]
    fn triangle_4_zone_is_the_containing_polygon(h2 in ppm(), ch4 in ppm(), c2h6 in ppm()) {
        let s = sample(h2, ch4, c2h6, 1.0, 0.0);
        if let Some(v) = Triangle::Four.classify(&s, Some(FaultCode::T1), &dga::Thresholds::default().duval).verdict() {
            check_triangle("Triangle 4", Triangle::Four.zones(), v.percent.percent, v.zone)?;
        } else {
            prop_assert!(h2 + ch4 + c2h6 == 0.0);
        }
    }

    #[test]
    fn triangle_5_zone_is_the_containing_polygon(ch4 in ppm(), c2h4 in ppm(), c2h6 in ppm()) {
        let s = sample(1.0, ch4, c2h6, c2h4, 0.0);
        let t = dga::Thresholds::default();
        if let Some(v) = Triangle::Five.classify(&s, Some(FaultCode::T3), &t.duval).verdict() {
            check_triangle("Triangle 5", Triangle::Five.zones(), v.percent.percent, v.zone)?;
        } else {
            prop_assert!(ch4 + c2h4 + c2h6 == 0.0);
        }
    }

    #[test]
    fn pentagon_zone_is_the_unique_containing_polygon(
        h2 in ppm(), ch4 in ppm(), c2h6 in ppm(), c2h4 in ppm(), c2h2 in ppm()
    ) {
        let s = sample(h2, ch4, c2h6, c2h4, c2h2);
        match duval_pentagon::centroid(&s) {
            Ok((c, percent)) => {
                let sum: f64 = percent.0.iter().sum();
                prop_assert!((sum - 100.0).abs() < 1e-9);
                // Centroids stay inside the pentagon of radius 100/3 (sources.md §6.1).
                prop_assert!(c.x.hypot(c.y) <= 100.0 / 3.0 + 1e-6, "{:?}", c);
                for pentagon in [Pentagon::One, Pentagon::Two] {
                    let zone = duval_pentagon::classify(&s, pentagon).verdict().unwrap().zone;
                    if let Some(inside) = containing_pentagon(pentagon, c) {
                        prop_assert_eq!(inside.len(), 1, "{:?} {:?} inside {:?}", pentagon, c, inside);
                        prop_assert_eq!(inside[0], zone);
                    }
                    prop_assert_ne!(zone, FaultCode::Undetermined, "{:?}: {:?} outside every zone", pentagon, c);
                }
            }
            Err(_) => prop_assert!(h2 + ch4 + c2h6 + c2h4 + c2h2 == 0.0),
        }
    }
}

/// The property tests above are only as good as their coverage: over a fixed pseudo-random set,
/// every zone of every diagram must be reached (and agree with its polygon).
#[test]
fn every_zone_of_every_diagram_is_reached() {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Cube of a uniform variate: many small shares, some large ones.
        let u = (state >> 11) as f64 / (1u64 << 53) as f64;
        1000.0 * u * u * u
    };
    let t = dga::Thresholds::default();
    let mut seen: BTreeMap<&str, std::collections::BTreeSet<FaultCode>> = BTreeMap::new();
    for _ in 0..200_000 {
        let s = sample(next(), next(), next(), next(), next());
        let mut note = |diagram: &'static str, code: Option<FaultCode>| {
            if let Some(code) = code {
                seen.entry(diagram).or_default().insert(code);
            }
        };
        note("T1", Triangle::One.classify(&s, None, &t.duval).code());
        note("T4", Triangle::Four.classify(&s, Some(FaultCode::T1), &t.duval).code());
        note("T5", Triangle::Five.classify(&s, Some(FaultCode::T3), &t.duval).code());
        note("P1", duval_pentagon::classify(&s, Pentagon::One).code());
        note("P2", duval_pentagon::classify(&s, Pentagon::Two).code());
    }
    use FaultCode::*;
    let expected: [(&str, &[FaultCode]); 5] = [
        ("T1", &[PD, T1, T2, T3, DT, D1, D2]),
        ("T4", &[PD, S, O, C, Undetermined]),
        ("T5", &[PD, S, O, C, T2, T3, Undetermined]),
        ("P1", &[PD, D1, D2, T3, T2, T1, S]),
        ("P2", &[PD, D1, D2, T3H, C, O, S]),
    ];
    for (diagram, zones) in expected {
        let got = &seen[diagram];
        for z in zones {
            assert!(got.contains(z), "{diagram}: zone {z} never reached; reached {got:?}");
        }
        assert_eq!(got.len(), zones.len(), "{diagram}: unexpected zones {got:?}");
    }
}
