//! Plots as SVG: the Duval Triangles 1/4/5 and Pentagons 1/2, each zone drawn from the very
//! vertex table its classifier tests against (`dga::duval_triangle`, `dga::duval_pentagon`), an
//! asset's samples as a path from the oldest to the newest (highlighted), and gas trends against
//! the asset's IEEE C57.104-2019 Table 1 and 2 limits with the rate window marked.
//!
//! Every style is an attribute of the SVG itself (no CSS): a plot looks the same inline in
//! report.html, opened alone, or rasterised for the results workbook.

use chrono::NaiveDate;
use dga::duval_pentagon::{self, AXES, Pentagon};
use dga::duval_triangle::{TernaryPoint, Triangle};
use dga::geometry::{Point, polygon_area, polygon_centroid};
use dga::{DgaSample, FaultCode, Gas};
use svg::Document;
use svg::node::element::{Circle, Line, Polygon, Polyline, Rectangle as Rect, Text, Title};

/// The font every label asks for: the report's, and the one embedded for rasterising.
pub const FONT_FAMILY: &str = "DejaVu Sans, Verdana, Arial, sans-serif";

/// Side of a Duval triangle, px.
pub const TRIANGLE_SIDE_PX: f64 = 300.0;
/// Distance from a pentagon's centre to its vertices (40 % on every axis), px.
pub const PENTAGON_RADIUS_PX: f64 = 150.0;
/// Room for the labels around a triangle or pentagon, px.
const MARGIN_PX: f64 = 40.0;
/// A zone smaller than this (px²) is labelled beside itself rather than inside.
const SMALL_ZONE_PX2: f64 = 400.0;

const INK: &str = "#222222";
const GRID: &str = "#9a9a9a";
const PATH: &str = "#1f1f1f";
const LATEST: &str = "#d62728";

/// A zone's fill: discharges in blues, thermal faults from yellow to red by temperature, stray
/// gassing green, mixtures purple (the colour families of Duval's own figures).
pub fn zone_fill(code: FaultCode) -> &'static str {
    match code {
        FaultCode::PD => "#d9c2e9",
        FaultCode::D1 => "#9ec9ec",
        FaultCode::D2 => "#5a93cc",
        FaultCode::DT => "#c7a6d9",
        FaultCode::T1 => "#fff2a8",
        FaultCode::T2 => "#ffcf7a",
        FaultCode::T3 | FaultCode::T3H => "#f5946b",
        FaultCode::S => "#c6e8bd",
        FaultCode::O => "#e8f3c4",
        FaultCode::C => "#d7b48f",
        FaultCode::Normal | FaultCode::Undetermined => "#eeeeee",
    }
}

/// A zone's label: its code, and `ND` for the zones the triangles leave undetermined (as
/// Duval's figures label them).
pub fn zone_label(code: FaultCode) -> String {
    match code {
        FaultCode::Undetermined => "ND".to_owned(),
        c => c.to_string(),
    }
}

fn f(v: f64) -> String {
    format!("{v:.2}")
}

fn points_attr(points: &[(f64, f64)]) -> String {
    points.iter().map(|(x, y)| format!("{},{}", f(*x), f(*y))).collect::<Vec<_>>().join(" ")
}

fn label(x: f64, y: f64, size: f64, anchor: &str, text: impl Into<String>) -> Text {
    Text::new(text).set("x", f(x)).set("y", f(y)).set("font-size", size).set("text-anchor", anchor).set("fill", INK)
}

fn document(width: f64, height: f64, class: &str, title: &str) -> Document {
    Document::new()
        .set("viewBox", format!("0 0 {} {}", f(width), f(height)))
        .set("width", f(width))
        .set("height", f(height))
        .set("class", class)
        .set("font-family", FONT_FAMILY)
        .set("role", "img")
        .add(Title::new(title))
}

fn date_text(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "undated".to_owned(), |d| d.to_string())
}

/// The zones, their labels and the samples' path, shared by triangles and pentagons.
fn draw_zones_and_samples(
    mut doc: Document,
    zones: &[(FaultCode, Vec<(f64, f64)>)],
    grid: Vec<Line>,
    samples: &[((f64, f64), String)],
    empty_reason: Option<String>,
    center: (f64, f64),
) -> Document {
    for (code, pts) in zones {
        doc = doc.add(
            Polygon::new()
                .set("points", points_attr(pts))
                .set("class", "zone")
                .set("data-zone", code.to_string())
                .set("fill", zone_fill(*code))
                .set("stroke", INK)
                .set("stroke-width", 0.8)
                .add(Title::new(format!("{code}: {}", code.meaning()))),
        );
    }
    // The grid over the zones' fill, faint enough to read the labels through.
    for line in grid {
        doc = doc.add(line);
    }
    for (code, pts) in zones {
        let plane: Vec<Point> = pts.iter().map(|&(x, y)| Point { x, y }).collect();
        let Some(c) = polygon_centroid(&plane) else { continue };
        if polygon_area(&plane).abs() >= SMALL_ZONE_PX2 {
            doc = doc.add(label(c.x, c.y + 4.0, 12.0, "middle", zone_label(*code)).set("font-weight", "bold"));
        } else {
            // Beside the zone, to its right, with a leader line (small zones sit in corners).
            let _ = center;
            let (lx, ly) = (c.x + 20.0, c.y - 6.0);
            doc = doc
                .add(
                    Line::new()
                        .set("x1", f(c.x))
                        .set("y1", f(c.y))
                        .set("x2", f(lx))
                        .set("y2", f(ly))
                        .set("stroke", INK)
                        .set("stroke-width", 0.6),
                )
                .add(label(lx + 2.0, ly + 4.0, 11.0, "start", zone_label(*code)).set("font-weight", "bold"));
        }
    }
    if samples.len() > 1 {
        let pts: Vec<(f64, f64)> = samples.iter().map(|(p, _)| *p).collect();
        doc = doc.add(
            Polyline::new()
                .set("points", points_attr(&pts))
                .set("class", "history")
                .set("fill", "none")
                .set("stroke", PATH)
                .set("stroke-width", 1.2)
                .set("stroke-dasharray", "3 2"),
        );
    }
    for (i, ((x, y), title)) in samples.iter().enumerate() {
        let latest = i + 1 == samples.len();
        doc = doc.add(
            Circle::new()
                .set("cx", f(*x))
                .set("cy", f(*y))
                .set("r", if latest { 5.5 } else { 3.0 })
                .set("class", if latest { "sample latest" } else { "sample" })
                .set("fill", if latest { LATEST } else { PATH })
                .set("stroke", "#ffffff")
                .set("stroke-width", if latest { 1.5 } else { 0.8 })
                .add(Title::new(title.clone())),
        );
    }
    if let Some(reason) = empty_reason {
        doc = doc
            .add(label(center.0, center.1, 12.0, "middle", format!("not plotted: {reason}")).set("class", "no-data"));
    }
    doc
}

fn triangle_height_px() -> f64 {
    TRIANGLE_SIDE_PX * 3f64.sqrt() / 2.0
}

/// Where a ternary point (percent, in [`Triangle::gases`] order) lies in a triangle's SVG: the
/// first gas's vertex at the top, the second's at the bottom right, the third's at the bottom
/// left — Duval's layout of Triangle 1 (CH4 top, C2H4 right, C2H2 left).
pub fn triangle_xy(percent: [f64; 3]) -> (f64, f64) {
    let h = triangle_height_px();
    let top = (MARGIN_PX + TRIANGLE_SIDE_PX / 2.0, MARGIN_PX);
    let right = (MARGIN_PX + TRIANGLE_SIDE_PX, MARGIN_PX + h);
    let left = (MARGIN_PX, MARGIN_PX + h);
    let [a, b, c] = percent.map(|p| p / 100.0);
    (a * top.0 + b * right.0 + c * left.0, a * top.1 + b * right.1 + c * left.1)
}

/// The plot's name, as the standards name the method.
pub fn triangle_title(triangle: Triangle) -> &'static str {
    triangle.method().title()
}

/// A Duval triangle with its zones and the samples (oldest first) as a path; samples whose
/// point cannot be formed (a gas not measured, all three below detection) are left out.
pub fn duval_triangle(triangle: Triangle, samples: &[DgaSample]) -> String {
    let gases = triangle.gases();
    let (w, h) = (TRIANGLE_SIDE_PX + 2.0 * MARGIN_PX, triangle_height_px() + 2.0 * MARGIN_PX);
    let mut doc =
        document(w, h, "plot duval-triangle", triangle_title(triangle)).set("data-method", triangle.method().key());
    // Grid every 20 % of each gas, between the two sides that meet at its vertex.
    let mut grid = Vec::new();
    for i in 0..3 {
        let (j, k) = ((i + 1) % 3, (i + 2) % 3);
        for level in [20.0, 40.0, 60.0, 80.0] {
            let mut a = [0.0; 3];
            a[i] = level;
            a[j] = 100.0 - level;
            let mut b = [0.0; 3];
            b[i] = level;
            b[k] = 100.0 - level;
            let ((x1, y1), (x2, y2)) = (triangle_xy(a), triangle_xy(b));
            grid.push(
                Line::new()
                    .set("x1", f(x1))
                    .set("y1", f(y1))
                    .set("x2", f(x2))
                    .set("y2", f(y2))
                    .set("class", "grid")
                    .set("stroke", GRID)
                    .set("stroke-width", 0.4)
                    .set("stroke-opacity", 0.7),
            );
        }
    }
    let zones: Vec<(FaultCode, Vec<(f64, f64)>)> =
        triangle.zones().iter().map(|(code, v)| (*code, v.iter().map(|p| triangle_xy(*p)).collect())).collect();
    let mut reason = None;
    let samples: Vec<((f64, f64), String)> = samples
        .iter()
        .filter_map(|s| match TernaryPoint::of(s, gases) {
            Ok(p) => Some((
                triangle_xy(p.percent),
                format!(
                    "{}: {} {:.1} %, {} {:.1} %, {} {:.1} %",
                    date_text(s.sampled_on),
                    gases[0],
                    p.percent[0],
                    gases[1],
                    p.percent[1],
                    gases[2],
                    p.percent[2]
                ),
            )),
            Err(e) => {
                reason = Some(e);
                None
            }
        })
        .collect();
    let empty = if samples.is_empty() { Some(reason.unwrap_or_else(|| "no sample".into())) } else { None };
    let centroid = triangle_xy([100.0 / 3.0; 3]);
    doc = draw_zones_and_samples(doc, &zones, grid, &samples, empty, centroid);
    let [top, right, left] = [[100.0, 0.0, 0.0], [0.0, 100.0, 0.0], [0.0, 0.0, 100.0]].map(triangle_xy);
    doc.add(label(top.0 - 10.0, top.1 - 4.0, 13.0, "end", format!("% {}", gases[0])))
        .add(label(right.0 + 4.0, right.1 + 22.0, 13.0, "end", format!("% {}", gases[1])))
        .add(label(left.0 - 4.0, left.1 + 22.0, 13.0, "start", format!("% {}", gases[2])))
        .to_string()
}

/// Where a point of the pentagon's plane (percent) lies in its SVG (y up in the plane, down in SVG).
pub fn pentagon_xy(p: Point) -> (f64, f64) {
    let k = PENTAGON_RADIUS_PX / 40.0;
    let c = MARGIN_PX + PENTAGON_RADIUS_PX;
    (c + p.x * k, c - p.y * k)
}

/// A Duval pentagon with its zones, its axes and the samples' centroids (oldest first).
pub fn duval_pentagon(pentagon: Pentagon, samples: &[DgaSample]) -> String {
    let side = 2.0 * (MARGIN_PX + PENTAGON_RADIUS_PX);
    let title = match pentagon {
        Pentagon::One => "Duval Pentagon 1",
        Pentagon::Two => "Duval Pentagon 2",
    };
    let key = match pentagon {
        Pentagon::One => "duval_pentagon_1",
        Pentagon::Two => "duval_pentagon_2",
    };
    let mut doc = document(side, side, "plot duval-pentagon", title).set("data-method", key);
    let center = pentagon_xy(Point { x: 0.0, y: 0.0 });
    let axis_end = |pct: f64, angle: f64| {
        let r = angle.to_radians();
        pentagon_xy(Point { x: pct * r.cos(), y: pct * r.sin() })
    };
    let outline: Vec<(f64, f64)> = AXES.iter().map(|(_, a)| axis_end(40.0, *a)).collect();
    doc = doc.add(
        Polygon::new()
            .set("points", points_attr(&outline))
            .set("class", "outline")
            .set("fill", "#ffffff")
            .set("stroke", INK)
            .set("stroke-width", 1.0),
    );
    let zones: Vec<(FaultCode, Vec<(f64, f64)>)> =
        pentagon.zones().iter().map(|(code, v)| (*code, v.iter().map(|p| pentagon_xy(*p)).collect())).collect();
    let mut reason = None;
    let samples: Vec<((f64, f64), String)> = samples
        .iter()
        .filter_map(|s| match duval_pentagon::centroid(s) {
            Ok((p, _)) => {
                Some((pentagon_xy(p), format!("{}: centroid ({:.1}, {:.1})", date_text(s.sampled_on), p.x, p.y)))
            }
            Err(e) => {
                reason = Some(e);
                None
            }
        })
        .collect();
    let empty = if samples.is_empty() { Some(reason.unwrap_or_else(|| "no sample".into())) } else { None };
    doc = draw_zones_and_samples(doc, &zones, Vec::new(), &samples, empty, center);
    for (gas, angle) in AXES {
        let (x, y) = axis_end(40.0, angle);
        doc = doc.add(
            Line::new()
                .set("x1", f(center.0))
                .set("y1", f(center.1))
                .set("x2", f(x))
                .set("y2", f(y))
                .set("class", "axis")
                .set("stroke", GRID)
                .set("stroke-width", 0.5)
                .set("stroke-dasharray", "2 3"),
        );
        let (lx, ly) = axis_end(45.5, angle);
        doc = doc.add(label(lx, ly + 4.0, 13.0, "middle", gas.symbol()));
    }
    doc.to_string()
}

/// The IEEE C57.104-2019 limits a trend is drawn against (this asset's Table 1 and 2 values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendLimits {
    /// Table 1, 90th percentile, ppm.
    pub table_1_ppm: f64,
    /// Table 2, 95th percentile, ppm.
    pub table_2_ppm: f64,
}

/// The trend plot's size, px.
pub const TREND_WIDTH_PX: f64 = 300.0;
/// The trend plot's height, px.
pub const TREND_HEIGHT_PX: f64 = 160.0;
const TREND_LEFT: f64 = 48.0;
const TREND_RIGHT: f64 = TREND_WIDTH_PX - 12.0;
const TREND_TOP: f64 = 24.0;
const TREND_BOTTOM: f64 = TREND_HEIGHT_PX - 30.0;

/// The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `v` (a round top for the axis).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= v * (1.0 - 1e-12))
        .unwrap_or(10.0 * magnitude)
}

/// The x position of each sample: by date when every sample is dated, else by its order.
fn trend_x(samples: &[DgaSample]) -> Vec<f64> {
    let span = TREND_RIGHT - TREND_LEFT;
    let dates: Option<Vec<NaiveDate>> = samples.iter().map(|s| s.sampled_on).collect();
    match dates {
        Some(d) if d.len() > 1 && d.first() != d.last() => {
            let (first, last) = (d[0], d[d.len() - 1]);
            let days = (last - first).num_days().max(1) as f64;
            d.iter().map(|x| TREND_LEFT + span * (*x - first).num_days() as f64 / days).collect()
        }
        _ if samples.len() > 1 => {
            (0..samples.len()).map(|i| TREND_LEFT + span * i as f64 / (samples.len() - 1) as f64).collect()
        }
        _ => vec![TREND_LEFT + span / 2.0; samples.len()],
    }
}

/// One gas over time (samples oldest first), ppm on a linear axis from 0, with the Table 1
/// (dashed) and Table 2 (dotted) limits and, when given, the rate window shaded.
pub fn gas_trend(
    gas: Gas,
    samples: &[DgaSample],
    limits: Option<TrendLimits>,
    rate_window: Option<(NaiveDate, NaiveDate)>,
) -> String {
    let mut doc = document(TREND_WIDTH_PX, TREND_HEIGHT_PX, "plot gas-trend", &format!("{gas} trend, ppm"))
        .set("data-gas", gas.symbol());
    let xs = trend_x(samples);
    let levels: Vec<Option<f64>> = samples.iter().map(|s| s.level(gas)).collect();
    let highest = levels.iter().flatten().copied().fold(0.0, f64::max);
    let top_ppm = nice_ceiling(highest.max(limits.map_or(0.0, |l| l.table_2_ppm)) * 1.1);
    let y = |ppm: f64| TREND_BOTTOM - (TREND_BOTTOM - TREND_TOP) * ppm / top_ppm;
    doc = doc
        .add(
            Rect::new()
                .set("x", f(TREND_LEFT))
                .set("y", f(TREND_TOP))
                .set("width", f(TREND_RIGHT - TREND_LEFT))
                .set("height", f(TREND_BOTTOM - TREND_TOP))
                .set("class", "frame")
                .set("fill", "#ffffff")
                .set("stroke", GRID)
                .set("stroke-width", 0.6),
        )
        .add(label(TREND_LEFT, 15.0, 12.0, "start", format!("{gas} (ppm)")).set("font-weight", "bold"))
        .add(label(TREND_LEFT - 4.0, TREND_BOTTOM + 4.0, 10.0, "end", "0"))
        .add(label(TREND_LEFT - 4.0, TREND_TOP + 4.0, 10.0, "end", format!("{top_ppm}")));
    let dated: Option<Vec<NaiveDate>> = samples.iter().map(|s| s.sampled_on).collect();
    if let (Some((from, to)), Some(dates)) = (rate_window, dated.as_ref()) {
        let at = |d: NaiveDate| dates.iter().position(|x| *x == d).map(|i| xs[i]);
        if let (Some(x1), Some(x2)) = (at(from), at(to)) {
            doc = doc.add(
                Rect::new()
                    .set("x", f(x1.min(x2) - 3.0))
                    .set("y", f(TREND_TOP))
                    .set("width", f((x2 - x1).abs() + 6.0))
                    .set("height", f(TREND_BOTTOM - TREND_TOP))
                    .set("class", "rate-window")
                    .set("fill", "#dbe9f7")
                    .set("data-from", from.to_string())
                    .set("data-to", to.to_string())
                    .add(Title::new(format!("rate window {from} – {to} (IEEE C57.104-2019 Table 4)"))),
            );
        }
    }
    if let Some(l) = limits {
        for (class, ppm, dash, name) in
            [("limit table-1", l.table_1_ppm, "5 3", "Table 1"), ("limit table-2", l.table_2_ppm, "1.5 2.5", "Table 2")]
        {
            let ly = y(ppm);
            doc = doc
                .add(
                    Line::new()
                        .set("x1", f(TREND_LEFT))
                        .set("y1", f(ly))
                        .set("x2", f(TREND_RIGHT))
                        .set("y2", f(ly))
                        .set("class", class)
                        .set("data-ppm", ppm)
                        .set("stroke", "#b03a2e")
                        .set("stroke-width", 1.0)
                        .set("stroke-dasharray", dash),
                )
                .add(label(TREND_RIGHT - 2.0, ly - 3.0, 9.0, "end", format!("{name} {ppm}")).set("fill", "#b03a2e"));
        }
    }
    let plotted: Vec<(f64, f64)> = xs.iter().zip(&levels).filter_map(|(x, l)| l.map(|ppm| (*x, y(ppm)))).collect();
    if plotted.len() > 1 {
        doc = doc.add(
            Polyline::new()
                .set("points", points_attr(&plotted))
                .set("class", "readings")
                .set("fill", "none")
                .set("stroke", PATH)
                .set("stroke-width", 1.4),
        );
    }
    let last = samples.len().saturating_sub(1);
    for (i, (s, x)) in samples.iter().zip(&xs).enumerate() {
        let reading = s.get(gas);
        let Some(ppm) = reading.level_ppm() else { continue };
        let below = !matches!(reading, dga::GasReading::Measured(_));
        let latest = i == last;
        doc = doc.add(
            Circle::new()
                .set("cx", f(*x))
                .set("cy", f(y(ppm)))
                .set("r", if latest { 4.5 } else { 2.8 })
                .set(
                    "class",
                    match (latest, below) {
                        (true, _) => "sample latest",
                        (false, true) => "sample below-detection",
                        _ => "sample",
                    },
                )
                .set(
                    "fill",
                    if below {
                        "#ffffff"
                    } else if latest {
                        LATEST
                    } else {
                        PATH
                    },
                )
                .set("stroke", if latest { LATEST } else { PATH })
                .set("stroke-width", 1.0)
                .add(Title::new(format!("{}: {reading}", date_text(s.sampled_on)))),
        );
    }
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        doc = doc.add(label(TREND_LEFT, TREND_BOTTOM + 16.0, 10.0, "start", date_text(first.sampled_on))).add(label(
            TREND_RIGHT,
            TREND_BOTTOM + 16.0,
            10.0,
            "end",
            date_text(last.sampled_on),
        ));
    }
    doc.to_string()
}
