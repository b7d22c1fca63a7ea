//! The rasterised plot (the picture in report.xlsx): decoded, the newest sample's marker has its
//! colour at the pixel the geometry computes, and the labels are drawn (the embedded font).
#![cfg(feature = "png")]

use dga::duval_triangle::Triangle;
use dga::{DgaSample, Gas, GasReading};
use report::plot;

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn the_newest_marker_is_red_where_the_geometry_puts_it_and_the_labels_are_drawn() {
    let mut s = DgaSample { sampled_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 10), ..Default::default() };
    for (gas, v) in [(Gas::CH4, 30.0), (Gas::C2H4, 60.0), (Gas::C2H2, 10.0)] {
        s.set(gas, GasReading::Measured(v));
    }
    let svg = plot::duval_triangle(Triangle::One, &[s]);
    let scale = 2.0;
    let (w, h, rgba) = decode(&plot::png(&svg, scale).unwrap());
    assert_eq!((w, h), (760, 680), "380 × 339.8 px at 2×");
    let pixel = |x: f64, y: f64| {
        let i = 4 * ((y * f64::from(scale)) as usize * w as usize + (x * f64::from(scale)) as usize);
        [rgba[i], rgba[i + 1], rgba[i + 2]]
    };
    let (x, y) = plot::triangle_xy([30.0, 60.0, 10.0]);
    assert_eq!(pixel(x, y), [0xd6, 0x27, 0x28], "the newest sample's red at ({x:.1}, {y:.1})");
    // Outside the triangle the page is white; the T3 zone is its own fill.
    assert_eq!(pixel(5.0, 5.0), [255, 255, 255]);
    let (tx, ty) = plot::triangle_xy([10.0, 85.0, 5.0]);
    assert_eq!(pixel(tx, ty), [0xf5, 0x94, 0x6b], "T3's fill");
    // The gas labels under the bottom corners are drawn: dark pixels where "% C2H2" is.
    let (lx, ly) = plot::triangle_xy([0.0, 0.0, 100.0]);
    let mut ink = 0;
    for dy in 8..24 {
        for dx in 0..50 {
            let [r, g, b] = pixel(lx + f64::from(dx), ly + f64::from(dy));
            if u32::from(r) + u32::from(g) + u32::from(b) < 300 {
                ink += 1;
            }
        }
    }
    assert!(ink > 40, "the label is drawn with the embedded font ({ink} dark pixels)");
}
