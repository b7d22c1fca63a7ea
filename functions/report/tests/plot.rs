//! The plots' structure, read back from the SVG (not pixels): each zone is the classifier's own
//! polygon, a known sample lands where the geometry puts it, and a history is a path through
//! its samples, oldest to newest, with the newest highlighted.

use chrono::NaiveDate;
use dga::duval_pentagon::{self, Pentagon};
use dga::duval_triangle::Triangle;
use dga::geometry::Point;
use dga::{DgaSample, FaultCode, Gas, GasReading};
use report::plot::{self, TrendLimits};

fn sample(date: &str, ppm: [(Gas, f64); 5]) -> DgaSample {
    let mut s = DgaSample { sampled_on: Some(date.parse().unwrap()), ..Default::default() };
    for (gas, v) in ppm {
        s.set(gas, GasReading::Measured(v));
    }
    s
}

fn parse_points(s: &str) -> Vec<(f64, f64)> {
    s.split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

fn close(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() < 0.06 && (a.1 - b.1).abs() < 0.06
}

fn nodes<'a>(doc: &'a roxmltree::Document, tag: &str, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && n.attribute("class").is_some_and(|c| c.split(' ').any(|x| x == class)))
        .collect()
}

#[test]
fn every_triangle_zone_is_the_classifiers_polygon() {
    for triangle in Triangle::ALL {
        let svg = plot::duval_triangle(triangle, &[]);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let zones = nodes(&doc, "polygon", "zone");
        assert_eq!(zones.len(), triangle.zones().len(), "{triangle:?}");
        for ((code, vertices), node) in triangle.zones().iter().zip(&zones) {
            assert_eq!(node.attribute("data-zone"), Some(code.to_string().as_str()));
            let drawn = parse_points(node.attribute("points").unwrap());
            assert_eq!(drawn.len(), vertices.len(), "{triangle:?} {code}");
            for (d, v) in drawn.iter().zip(*vertices) {
                assert!(close(*d, plot::triangle_xy(*v)), "{triangle:?} {code}: {d:?} vs {v:?}");
            }
            assert_eq!(node.attribute("fill"), Some(plot::zone_fill(*code)));
        }
        // Every zone is labelled with its code.
        let labels: Vec<&str> =
            doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
        for (code, _) in triangle.zones() {
            assert!(labels.contains(&plot::zone_label(*code).as_str()), "{triangle:?}: no label {code}");
        }
    }
}

#[test]
fn the_triangle_puts_the_first_gas_on_top_and_a_balanced_sample_at_the_centre() {
    // Side 300 px, margin 40 px: top vertex (190, 40), bottom right (340, 40 + 150√3), bottom
    // left (40, 40 + 150√3); equal shares sit at the centroid of the three.
    let h = 150.0 * 3f64.sqrt();
    assert!(close(plot::triangle_xy([100.0, 0.0, 0.0]), (190.0, 40.0)));
    assert!(close(plot::triangle_xy([0.0, 100.0, 0.0]), (340.0, 40.0 + h)));
    assert!(close(plot::triangle_xy([0.0, 0.0, 100.0]), (40.0, 40.0 + h)));
    let balanced = sample(
        "2024-01-10",
        [(Gas::CH4, 10.0), (Gas::C2H4, 10.0), (Gas::C2H2, 10.0), (Gas::H2, 1.0), (Gas::C2H6, 1.0)],
    );
    let svg = plot::duval_triangle(Triangle::One, &[balanced]);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let latest = nodes(&doc, "circle", "latest");
    assert_eq!(latest.len(), 1);
    let at = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    assert!(close((at(&latest[0], "cx"), at(&latest[0], "cy")), (190.0, 40.0 + 2.0 * h / 3.0)));
    assert!(nodes(&doc, "polyline", "history").is_empty(), "one sample draws no path");
}

#[test]
fn a_history_is_a_path_from_the_oldest_to_the_newest_sample() {
    let history = [
        sample(
            "2023-01-10",
            [(Gas::CH4, 80.0), (Gas::C2H4, 15.0), (Gas::C2H2, 1.0), (Gas::H2, 20.0), (Gas::C2H6, 10.0)],
        ),
        sample(
            "2023-07-10",
            [(Gas::CH4, 60.0), (Gas::C2H4, 35.0), (Gas::C2H2, 1.0), (Gas::H2, 25.0), (Gas::C2H6, 12.0)],
        ),
        sample(
            "2024-01-10",
            [(Gas::CH4, 30.0), (Gas::C2H4, 70.0), (Gas::C2H2, 2.0), (Gas::H2, 30.0), (Gas::C2H6, 14.0)],
        ),
    ];
    let expected: Vec<(f64, f64)> = history
        .iter()
        .map(|s| plot::triangle_xy(dga::duval_triangle::TernaryPoint::of(s, Triangle::One.gases()).unwrap().percent))
        .collect();
    let svg = plot::duval_triangle(Triangle::One, &history);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let path = nodes(&doc, "polyline", "history");
    assert_eq!(path.len(), 1);
    let drawn = parse_points(path[0].attribute("points").unwrap());
    assert_eq!(drawn.len(), 3);
    for (d, e) in drawn.iter().zip(&expected) {
        assert!(close(*d, *e), "{d:?} vs {e:?}");
    }
    let samples = nodes(&doc, "circle", "sample");
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[2].attribute("class"), Some("sample latest"), "the newest is highlighted");
    assert!(samples[..2].iter().all(|s| s.attribute("class") == Some("sample")));
    // The newest lies in T3 (C2H4 ≥ 50 %, C2H2 < 15 %): inside the polygon drawn for T3.
    let t3 = nodes(&doc, "polygon", "zone").into_iter().find(|n| n.attribute("data-zone") == Some("T3")).unwrap();
    let polygon: Vec<Point> =
        parse_points(t3.attribute("points").unwrap()).into_iter().map(|(x, y)| Point { x, y }).collect();
    assert!(dga::geometry::contains(&polygon, Point { x: expected[2].0, y: expected[2].1 }));
}

#[test]
fn a_sample_that_cannot_be_plotted_says_why() {
    let mut s = DgaSample { sampled_on: Some(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()), ..Default::default() };
    s.set(Gas::CH4, GasReading::Measured(10.0));
    let svg = plot::duval_triangle(Triangle::One, &[s]);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert!(nodes(&doc, "circle", "sample").is_empty());
    let note = nodes(&doc, "text", "no-data");
    assert_eq!(note.len(), 1);
    assert!(note[0].text().unwrap().contains("C2H4 was not measured"), "{:?}", note[0].text());
}

#[test]
fn every_pentagon_zone_is_the_classifiers_polygon_and_a_centroid_lands_where_it_is() {
    assert!(close(plot::pentagon_xy(Point { x: 0.0, y: 0.0 }), (190.0, 190.0)));
    assert!(close(plot::pentagon_xy(Point { x: 0.0, y: 40.0 }), (190.0, 40.0)), "H2's vertex is at the top");
    let s = sample(
        "2024-01-10",
        [(Gas::H2, 100.0), (Gas::C2H6, 20.0), (Gas::CH4, 40.0), (Gas::C2H4, 60.0), (Gas::C2H2, 5.0)],
    );
    let (centroid, _) = duval_pentagon::centroid(&s).unwrap();
    for pentagon in [Pentagon::One, Pentagon::Two] {
        let svg = plot::duval_pentagon(pentagon, std::slice::from_ref(&s));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let zones = nodes(&doc, "polygon", "zone");
        assert_eq!(zones.len(), pentagon.zones().len());
        for ((code, vertices), node) in pentagon.zones().iter().zip(&zones) {
            assert_eq!(node.attribute("data-zone"), Some(code.to_string().as_str()));
            let drawn = parse_points(node.attribute("points").unwrap());
            assert_eq!(drawn.len(), vertices.len());
            for (d, v) in drawn.iter().zip(*vertices) {
                assert!(close(*d, plot::pentagon_xy(*v)), "{pentagon:?} {code}");
            }
        }
        let latest = nodes(&doc, "circle", "latest");
        let at = |a: &str| latest[0].attribute(a).unwrap().parse::<f64>().unwrap();
        assert!(close((at("cx"), at("cy")), plot::pentagon_xy(centroid)));
        // The five axes are labelled at their ends.
        let labels: Vec<&str> =
            doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
        for gas in ["H2", "C2H6", "CH4", "C2H4", "C2H2"] {
            assert!(labels.contains(&gas), "{gas}");
        }
    }
    // Pentagon 2 splits the thermal area: its zones include C and O, Pentagon 1's do not.
    let two = plot::duval_pentagon(Pentagon::Two, &[]);
    assert!(two.contains("data-zone=\"C\"") && two.contains("data-zone=\"T3-H\""));
    assert!(!plot::duval_pentagon(Pentagon::One, &[]).contains("data-zone=\"C\""));
    let _ = FaultCode::C;
}

#[test]
fn a_trend_draws_the_limits_and_the_rate_window_against_the_readings() {
    let history: Vec<DgaSample> = [("2023-01-01", 20.0), ("2023-07-01", 35.0), ("2024-01-01", 90.0)]
        .iter()
        .map(|(d, v)| sample(d, [(Gas::H2, *v), (Gas::CH4, 1.0), (Gas::C2H4, 1.0), (Gas::C2H2, 0.0), (Gas::C2H6, 1.0)]))
        .collect();
    let limits = TrendLimits { table_1_ppm: 40.0, table_2_ppm: 90.0 };
    let window = (NaiveDate::from_ymd_opt(2023, 7, 1).unwrap(), NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
    let svg = plot::gas_trend(Gas::H2, &history, Some(limits), Some(window));
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let y_of = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let t1 = &nodes(&doc, "line", "table-1")[0];
    let t2 = &nodes(&doc, "line", "table-2")[0];
    assert_eq!(t1.attribute("data-ppm"), Some("40"));
    assert!(y_of(t2, "y1") < y_of(t1, "y1"), "Table 2 (90 ppm) is drawn above Table 1 (40 ppm)");
    let points = nodes(&doc, "circle", "sample");
    assert_eq!(points.len(), 3);
    // The newest reading equals Table 2: drawn on its line.
    assert!((y_of(&points[2], "cy") - y_of(t2, "y1")).abs() < 0.06);
    assert!(y_of(&points[0], "cx") < y_of(&points[1], "cx") && y_of(&points[1], "cx") < y_of(&points[2], "cx"));
    let rate = &nodes(&doc, "rect", "rate-window")[0];
    assert_eq!(rate.attribute("data-from"), Some("2023-07-01"));
    let (x, w) = (y_of(rate, "x"), y_of(rate, "width"));
    assert!(x <= y_of(&points[1], "cx") && x + w >= y_of(&points[2], "cx"), "the window spans its samples");
    assert!(x > y_of(&points[0], "cx"), "the oldest sample is outside the window");
}

#[test]
fn a_shared_zones_plot_references_the_same_zones_and_draws_the_same_samples() {
    use report::plot::{Diagram, Zones};
    let s = sample(
        "2024-01-10",
        [(Gas::CH4, 30.0), (Gas::C2H4, 70.0), (Gas::C2H2, 2.0), (Gas::H2, 30.0), (Gas::C2H6, 14.0)],
    );
    let defs = plot::shared_zones();
    let defs_doc = roxmltree::Document::parse(&defs).unwrap();
    for d in Diagram::ALL {
        let drawn = plot::diagram(d, std::slice::from_ref(&s), Zones::Drawn);
        let shared = plot::diagram(d, std::slice::from_ref(&s), Zones::Shared);
        let (drawn, shared) =
            (roxmltree::Document::parse(&drawn).unwrap(), roxmltree::Document::parse(&shared).unwrap());
        let id = format!("zones-{}", d.key());
        let uses: Vec<_> = shared.descendants().filter(|n| n.has_tag_name("use")).collect();
        assert_eq!(uses.len(), 1);
        assert_eq!(uses[0].attribute("href"), Some(format!("#{id}").as_str()));
        assert!(nodes(&shared, "polygon", "zone").is_empty(), "{d:?}: the zones are not drawn again");
        let circles = |doc: &roxmltree::Document| {
            nodes(doc, "circle", "sample")
                .iter()
                .map(|n| (n.attribute("cx").unwrap().to_owned(), n.attribute("cy").unwrap().to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(circles(&drawn), circles(&shared));
        // The definition holds the very polygons the self-contained plot draws.
        let group = defs_doc.descendants().find(|n| n.attribute("id") == Some(id.as_str())).unwrap();
        let defined: Vec<_> = group
            .descendants()
            .filter(|n| n.has_tag_name("polygon") && n.attribute("class") == Some("zone"))
            .map(|n| n.attribute("points").unwrap())
            .collect();
        let inline: Vec<_> = nodes(&drawn, "polygon", "zone").iter().map(|n| n.attribute("points").unwrap()).collect();
        assert_eq!(defined, inline, "{d:?}");
    }
}
