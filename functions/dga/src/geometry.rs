//! Plane geometry for the Duval triangles and pentagons: point-in-polygon and polygon centroids.
//!
//! Triangle zones are given in the standards as three relative percentages that sum to 100; any
//! affine map of them to the plane keeps "inside" and "outside", so we plot (second, third).

use serde::{Deserialize, Serialize};

/// A point in the plane of a Duval pentagon (or a ternary point mapped to the plane).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal coordinate, percent.
    pub x: f64,
    /// Vertical coordinate, percent.
    pub y: f64,
}

/// Shorthand for zone tables.
pub const fn pt(x: f64, y: f64) -> Point {
    Point { x, y }
}

/// Tolerance for "on the edge": coordinates are percentages, so 1e-9 is far below any lab's
/// resolution and far above f64 rounding.
pub const EDGE_EPSILON: f64 = 1e-9;

/// Ternary (a, b, c) percentages to the plane used for polygon tests.
pub fn ternary_to_plane(percent: [f64; 3]) -> Point {
    Point { x: percent[1], y: percent[2] }
}

/// Where a point lies relative to a closed polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Containment {
    /// Strictly inside.
    Inside,
    /// On an edge or a vertex, within [`EDGE_EPSILON`].
    OnEdge,
    /// Outside.
    Outside,
}

/// Closed-polygon test (edges belong to the polygon): crossing number, with an explicit edge check
/// so that boundary points are reported as such rather than falling either way. No square roots
/// on the common path: this runs for every zone of every pentagon diagnosis.
pub fn locate(point: Point, polygon: &[Point]) -> Containment {
    let n = polygon.len();
    let mut inside = false;
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (polygon[j], polygon[i]);
        j = i;
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let (px, py) = (point.x - a.x, point.y - a.y);
        let len2 = dx * dx + dy * dy;
        let cross = px * dy - py * dx;
        if cross * cross <= EDGE_EPSILON * EDGE_EPSILON * len2 {
            if len2 == 0.0 {
                if px * px + py * py <= EDGE_EPSILON * EDGE_EPSILON {
                    return Containment::OnEdge;
                }
            } else {
                let slack = EDGE_EPSILON * len2.sqrt();
                let dot = px * dx + py * dy;
                if dot >= -slack && dot <= len2 + slack {
                    return Containment::OnEdge;
                }
            }
        }
        if (a.y > point.y) != (b.y > point.y) && point.x < a.x + (point.y - a.y) * dx / dy {
            inside = !inside;
        }
    }
    if inside { Containment::Inside } else { Containment::Outside }
}

/// True when the point is inside the polygon or on its boundary.
pub fn contains(polygon: &[Point], point: Point) -> bool {
    locate(point, polygon) != Containment::Outside
}

/// Area centroid of a simple polygon (shoelace formula), `None` when its area is zero.
pub fn polygon_centroid(vertices: &[Point]) -> Option<Point> {
    let n = vertices.len();
    let (mut area2, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let a = vertices[i];
        let b = vertices[(i + 1) % n];
        let cross = a.x * b.y - b.x * a.y;
        area2 += cross;
        cx += (a.x + b.x) * cross;
        cy += (a.y + b.y) * cross;
    }
    if area2.abs() < f64::MIN_POSITIVE * 1e6 {
        return None;
    }
    Some(Point { x: cx / (3.0 * area2), y: cy / (3.0 * area2) })
}

/// Signed area (positive when counter-clockwise).
pub fn polygon_area(vertices: &[Point]) -> f64 {
    let n = vertices.len();
    (0..n)
        .map(|i| {
            let a = vertices[i];
            let b = vertices[(i + 1) % n];
            a.x * b.y - b.x * a.y
        })
        .sum::<f64>()
        / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> Vec<Point> {
        [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)].into_iter().map(|(x, y)| Point { x, y }).collect()
    }

    #[test]
    fn locates_points() {
        let sq = square();
        assert_eq!(locate(Point { x: 1.0, y: 1.0 }, &sq), Containment::Inside);
        assert_eq!(locate(Point { x: 2.0, y: 1.0 }, &sq), Containment::OnEdge);
        assert_eq!(locate(Point { x: 0.0, y: 0.0 }, &sq), Containment::OnEdge);
        assert_eq!(locate(Point { x: 3.0, y: 1.0 }, &sq), Containment::Outside);
        assert_eq!(locate(Point { x: 1.0, y: -1e-6 }, &sq), Containment::Outside);
    }

    #[test]
    fn centroid_and_area() {
        let sq = square();
        let c = polygon_centroid(&sq).unwrap();
        assert!((c.x - 1.0).abs() < 1e-12 && (c.y - 1.0).abs() < 1e-12);
        assert!((polygon_area(&sq) - 4.0).abs() < 1e-12);
        let flat = [Point { x: 0.0, y: 0.0 }, Point { x: 1.0, y: 0.0 }, Point { x: 2.0, y: 0.0 }];
        assert_eq!(polygon_centroid(&flat), None);
    }
}
