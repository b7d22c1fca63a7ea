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
use svg::node::element::{Circle, Definitions, Group, Line, Polygon, Polyline, Rectangle as Rect, Text, Title, Use};

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

/// Pixels to one decimal: a tenth of a pixel is finer than any screen or print shows.
fn f(v: f64) -> String {
    format!("{v:.1}")
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

/// One of the five zone diagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagram {
    /// A Duval triangle.
    Triangle(Triangle),
    /// A Duval pentagon.
    Pentagon(Pentagon),
}

/// How a diagram's zones are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zones {
    /// In the plot itself: a self-contained SVG.
    Drawn,
    /// By reference (`<use href="#zones-…">`) to [`shared_zones`] elsewhere in the same HTML
    /// page: a report with a thousand plots draws each diagram's zones once.
    Shared,
}

impl Diagram {
    /// Every diagram, in the order a report shows them.
    pub const ALL: [Diagram; 5] = [
        Diagram::Triangle(Triangle::One),
        Diagram::Triangle(Triangle::Four),
        Diagram::Triangle(Triangle::Five),
        Diagram::Pentagon(Pentagon::One),
        Diagram::Pentagon(Pentagon::Two),
    ];

    /// The record's method key, e.g. `duval_triangle_1`.
    pub fn key(self) -> &'static str {
        self.method().key()
    }

    /// The method whose zones the diagram draws.
    pub fn method(self) -> dga::MethodName {
        match self {
            Diagram::Triangle(t) => t.method(),
            Diagram::Pentagon(Pentagon::One) => dga::MethodName::DuvalPentagon1,
            Diagram::Pentagon(Pentagon::Two) => dga::MethodName::DuvalPentagon2,
        }
    }

    fn size(self) -> (f64, f64) {
        match self {
            Diagram::Triangle(_) => (TRIANGLE_SIDE_PX + 2.0 * MARGIN_PX, triangle_height_px() + 2.0 * MARGIN_PX),
            Diagram::Pentagon(_) => (2.0 * (MARGIN_PX + PENTAGON_RADIUS_PX), 2.0 * (MARGIN_PX + PENTAGON_RADIUS_PX)),
        }
    }

    fn center(self) -> (f64, f64) {
        match self {
            Diagram::Triangle(_) => triangle_xy([100.0 / 3.0; 3]),
            Diagram::Pentagon(_) => pentagon_xy(Point { x: 0.0, y: 0.0 }),
        }
    }

    /// The zone polygons in the plot's pixels, from the classifier's own vertex table.
    fn zones_px(self) -> Vec<(FaultCode, Vec<(f64, f64)>)> {
        match self {
            Diagram::Triangle(t) => {
                t.zones().iter().map(|(code, v)| (*code, v.iter().map(|p| triangle_xy(*p)).collect())).collect()
            }
            Diagram::Pentagon(p) => {
                p.zones().iter().map(|(code, v)| (*code, v.iter().map(|p| pentagon_xy(*p)).collect())).collect()
            }
        }
    }

    /// Everything but the samples: outline, zones, grid or axes, zone and axis labels.
    fn background(self) -> Group {
        let mut g = Group::new().set("class", "zones");
        if let Diagram::Pentagon(_) = self {
            let outline: Vec<(f64, f64)> = AXES.iter().map(|(_, a)| pentagon_axis_xy(40.0, *a)).collect();
            g = g.add(
                Polygon::new()
                    .set("points", points_attr(&outline))
                    .set("class", "outline")
                    .set("fill", "#ffffff")
                    .set("stroke", INK)
                    .set("stroke-width", 1.0),
            );
        }
        let zones = self.zones_px();
        for (code, pts) in &zones {
            g = g.add(
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
        // The grid (triangles) or the axes (pentagons) over the zones' fill, faint enough to
        // read the labels through.
        match self {
            Diagram::Triangle(_) => {
                for i in 0..3 {
                    let (j, k) = ((i + 1) % 3, (i + 2) % 3);
                    for level in [20.0, 40.0, 60.0, 80.0] {
                        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
                        (a[i], a[j]) = (level, 100.0 - level);
                        (b[i], b[k]) = (level, 100.0 - level);
                        g = g.add(
                            line(triangle_xy(a), triangle_xy(b), GRID, 0.4)
                                .set("class", "grid")
                                .set("stroke-opacity", 0.7),
                        );
                    }
                }
            }
            Diagram::Pentagon(_) => {
                for (_, angle) in AXES {
                    g = g.add(
                        line(self.center(), pentagon_axis_xy(40.0, angle), GRID, 0.5)
                            .set("class", "axis")
                            .set("stroke-dasharray", "2 3"),
                    );
                }
            }
        }
        for (code, pts) in &zones {
            let plane: Vec<Point> = pts.iter().map(|&(x, y)| Point { x, y }).collect();
            let Some(c) = polygon_centroid(&plane) else { continue };
            if polygon_area(&plane).abs() >= SMALL_ZONE_PX2 {
                g = g.add(label(c.x, c.y + 4.0, 12.0, "middle", zone_label(*code)).set("font-weight", "bold"));
            } else {
                // Beside the zone, to its right, with a leader line (small zones sit in corners).
                let (lx, ly) = (c.x + 20.0, c.y - 6.0);
                g = g
                    .add(line((c.x, c.y), (lx, ly), INK, 0.6))
                    .add(label(lx + 2.0, ly + 4.0, 11.0, "start", zone_label(*code)).set("font-weight", "bold"));
            }
        }
        match self {
            Diagram::Triangle(t) => {
                let gases = t.gases();
                let [top, right, left] = [[100.0, 0.0, 0.0], [0.0, 100.0, 0.0], [0.0, 0.0, 100.0]].map(triangle_xy);
                g.add(label(top.0 - 10.0, top.1 - 4.0, 13.0, "end", format!("% {}", gases[0])))
                    .add(label(right.0 + 4.0, right.1 + 22.0, 13.0, "end", format!("% {}", gases[1])))
                    .add(label(left.0 - 4.0, left.1 + 22.0, 13.0, "start", format!("% {}", gases[2])))
            }
            Diagram::Pentagon(_) => {
                for (gas, angle) in AXES {
                    let (lx, ly) = pentagon_axis_xy(45.5, angle);
                    g = g.add(label(lx, ly + 4.0, 13.0, "middle", gas.symbol()));
                }
                g
            }
        }
    }

    /// Each plottable sample's position and tooltip, and why the last one left out was.
    fn plotted(self, samples: &[DgaSample]) -> (Vec<Plotted>, Option<String>) {
        let mut reason = None;
        let points = samples
            .iter()
            .filter_map(|s| {
                let at = match self {
                    Diagram::Triangle(t) => TernaryPoint::of(s, t.gases()).map(|p| {
                        let g = p.gases;
                        let text = format!(
                            "{}: {} {:.1} %, {} {:.1} %, {} {:.1} %",
                            date_text(s.sampled_on),
                            g[0],
                            p.percent[0],
                            g[1],
                            p.percent[1],
                            g[2],
                            p.percent[2]
                        );
                        (triangle_xy(p.percent), text)
                    }),
                    Diagram::Pentagon(_) => duval_pentagon::centroid(s).map(|(p, _)| {
                        (pentagon_xy(p), format!("{}: centroid ({:.1}, {:.1})", date_text(s.sampled_on), p.x, p.y))
                    }),
                };
                at.map_err(|e| reason = Some(e)).ok()
            })
            .collect::<Vec<_>>();
        let empty = points.is_empty().then(|| reason.unwrap_or_else(|| "no sample".into()));
        (points, empty)
    }
}

/// A sample's position in the plot, px, and its tooltip.
type Plotted = ((f64, f64), String);

fn line(from: (f64, f64), to: (f64, f64), stroke: &str, width: f64) -> Line {
    Line::new()
        .set("x1", f(from.0))
        .set("y1", f(from.1))
        .set("x2", f(to.0))
        .set("y2", f(to.1))
        .set("stroke", stroke)
        .set("stroke-width", width)
}

fn zones_id(d: Diagram) -> String {
    format!("zones-{}", d.key())
}

/// A zone diagram with the samples (oldest first) as a path, the newest highlighted. Samples
/// whose point cannot be formed (a gas not measured, all below detection) are left out; when
/// none can, the plot says why.
pub fn diagram(d: Diagram, samples: &[DgaSample], zones: Zones) -> String {
    let (w, h) = d.size();
    let class = match d {
        Diagram::Triangle(_) => "plot duval-triangle",
        Diagram::Pentagon(_) => "plot duval-pentagon",
    };
    let mut doc = document(w, h, class, d.method().title()).set("data-method", d.key());
    doc = match zones {
        Zones::Drawn => doc.add(d.background()),
        Zones::Shared => doc.add(Use::new().set("href", format!("#{}", zones_id(d)))),
    };
    let (points, empty) = d.plotted(samples);
    if points.len() > 1 {
        let pts: Vec<(f64, f64)> = points.iter().map(|(p, _)| *p).collect();
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
    for (i, ((x, y), title)) in points.iter().enumerate() {
        let latest = i + 1 == points.len();
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
    if let Some(reason) = empty {
        let (cx, cy) = d.center();
        doc = doc.add(label(cx, cy, 12.0, "middle", format!("not plotted: {reason}")).set("class", "no-data"));
    }
    doc.to_string()
}

/// Several diagrams of the same samples in one self-contained SVG, left to right, each with its
/// name beneath (`substation diagnose --plot`).
pub fn side_by_side(diagrams: &[Diagram], samples: &[DgaSample]) -> String {
    let gap = 16.0;
    let tallest = diagrams.iter().map(|d| d.size().1).fold(0.0, f64::max);
    let mut x = 0.0;
    let mut doc = Document::new().set("font-family", FONT_FAMILY);
    for d in diagrams {
        let (w, h) = d.size();
        // Each plot is an SVG of its own, placed at its x, bottoms aligned.
        let at = format!("<svg x=\"{}\" y=\"{}\" ", f(x), f(tallest - h));
        let inner = diagram(*d, samples, Zones::Drawn).replacen("<svg ", &at, 1);
        doc = doc
            .add(svg::node::Blob::new(inner))
            .add(label(x + w / 2.0, tallest + 14.0, 13.0, "middle", d.method().title()).set("class", "caption"));
        x += w + gap;
    }
    let (width, height) = ((x - gap).max(1.0), tallest + 24.0);
    doc.set("viewBox", format!("0 0 {} {}", f(width), f(height)))
        .set("width", f(width))
        .set("height", f(height))
        .to_string()
}

/// The five diagrams' zones, once, for plots drawn with [`Zones::Shared`] in the same page: a
/// hidden SVG of definitions.
pub fn shared_zones() -> String {
    let mut defs = Definitions::new();
    for d in Diagram::ALL {
        defs = defs.add(d.background().set("id", zones_id(d)));
    }
    Document::new()
        .set("width", 0)
        .set("height", 0)
        .set("style", "position:absolute")
        .set("aria-hidden", "true")
        .set("font-family", FONT_FAMILY)
        .add(defs)
        .to_string()
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

/// A self-contained Duval triangle with the samples' path (see [`diagram`]).
pub fn duval_triangle(triangle: Triangle, samples: &[DgaSample]) -> String {
    diagram(Diagram::Triangle(triangle), samples, Zones::Drawn)
}

/// Where a point of the pentagon's plane (percent) lies in its SVG (y up in the plane, down in SVG).
pub fn pentagon_xy(p: Point) -> (f64, f64) {
    let k = PENTAGON_RADIUS_PX / 40.0;
    let c = MARGIN_PX + PENTAGON_RADIUS_PX;
    (c + p.x * k, c - p.y * k)
}

fn pentagon_axis_xy(pct: f64, angle_deg: f64) -> (f64, f64) {
    let r = angle_deg.to_radians();
    pentagon_xy(Point { x: pct * r.cos(), y: pct * r.sin() })
}

/// A self-contained Duval pentagon with the samples' centroids (see [`diagram`]).
pub fn duval_pentagon(pentagon: Pentagon, samples: &[DgaSample]) -> String {
    diagram(Diagram::Pentagon(pentagon), samples, Zones::Drawn)
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
        let mut dot = Circle::new()
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
            .set("stroke-width", 1.0);
        // The latest reading's value on hover; every value is in the samples table beside.
        if latest {
            dot = dot.add(Title::new(format!("latest, {}: {reading} ppm", date_text(s.sampled_on))));
        }
        doc = doc.add(dot);
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

/// A plot rasterised to PNG at `scale` × its size, on white, its labels in the embedded DejaVu
/// Sans (fonts/; the Lambda runtime has no fonts, and without one the labels would vanish).
#[cfg(feature = "png")]
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
    let mut options = usvg::Options { font_family: "DejaVu Sans".into(), ..Default::default() };
    options.fontdb_mut().load_font_data(FONT.to_vec());
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("the plot's SVG: {e}"))?;
    let size = tree.size().to_int_size().scale_by(scale).ok_or("the plot has no size")?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("the plot has no size")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("PNG: {e}"))
}
