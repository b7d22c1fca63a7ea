//! Writes each plot for a sample history into a folder, to look at: `cargo run -p report
//! --example plots -- OUT_DIR`.
use dga::duval_pentagon::Pentagon;
use dga::duval_triangle::Triangle;
use dga::{DgaSample, Gas, GasReading};
use report::plot;

fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "plots".into()));
    std::fs::create_dir_all(&out).unwrap();
    let history: Vec<DgaSample> = (0..6)
        .map(|i| {
            let g = 1.0 + 0.35 * i as f64;
            let mut s = DgaSample {
                sampled_on: chrono::NaiveDate::from_ymd_opt(2020 + i / 2, 1 + 6 * (i as u32 % 2), 15),
                ..Default::default()
            };
            for (gas, v) in [
                (Gas::H2, 40.0),
                (Gas::CH4, 60.0),
                (Gas::C2H6, 25.0),
                (Gas::C2H4, 30.0 * g * g),
                (Gas::C2H2, 0.5 * g),
                (Gas::CO, 300.0),
                (Gas::CO2, 2500.0),
            ] {
                s.set(gas, GasReading::Measured((v * if gas == Gas::C2H4 { 1.0 } else { g }).round()));
            }
            s
        })
        .collect();
    for t in Triangle::ALL {
        std::fs::write(out.join(format!("{}.svg", t.method().key())), plot::duval_triangle(t, &history)).unwrap();
    }
    for (p, k) in [(Pentagon::One, "duval_pentagon_1"), (Pentagon::Two, "duval_pentagon_2")] {
        std::fs::write(out.join(format!("{k}.svg")), plot::duval_pentagon(p, &history)).unwrap();
    }
    let window = Some((history[3].sampled_on.unwrap(), history[5].sampled_on.unwrap()));
    let limits = Some(plot::TrendLimits { table_1_ppm: 25.0, table_2_ppm: 80.0 });
    std::fs::write(out.join("trend_c2h4.svg"), plot::gas_trend(Gas::C2H4, &history, limits, window)).unwrap();
}
