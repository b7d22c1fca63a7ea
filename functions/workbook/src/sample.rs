//! A realistic synthetic fleet, deterministic for a seed: plausible ages, a healthy majority,
//! a share of assets developing each fault type over their history, and (on request) the
//! mistakes real files have. For demos, tests and benchmarks.

use chrono::{Datelike, Duration, NaiveDate};
use dga::Gas;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::Layout;
use crate::headers::Field;
use crate::write::{ASSET_COLUMNS, SAMPLE_GASES};

/// What [`write_fleet`] generates: the fleet's size, the seed, the layout and whether to add mistakes.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleOptions {
    /// Number of transformers.
    pub assets: usize,
    /// Samples per transformer (at least 1).
    pub samples_per_asset: usize,
    /// Seed of the generator: the same seed gives the same fleet.
    pub seed: u64,
    /// One sheet or two.
    pub layout: Layout,
    /// Put the mistakes real files have into about 1 % of the rows (and a title block and a
    /// trailing average row).
    pub with_mistakes: bool,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions { assets: 50, samples_per_asset: 6, seed: 1, layout: Layout::TwoSheet, with_mistakes: true }
    }
}

/// Fault signatures in ppm per unit of severity, in `SAMPLE_GASES` order (H2, CH4, C2H6, C2H4,
/// C2H2, CO, CO2). Shapes follow the key-gas charts and Duval zones; magnitudes are illustrative.
const FAULTS: [(&str, [f64; 7]); 8] = [
    ("partial discharge", [300.0, 20.0, 5.0, 1.0, 0.0, 0.0, 0.0]),
    ("low-energy discharge", [150.0, 15.0, 3.0, 10.0, 40.0, 0.0, 0.0]),
    ("arcing", [200.0, 40.0, 5.0, 60.0, 60.0, 20.0, 100.0]),
    ("overheating < 300 °C", [10.0, 60.0, 80.0, 5.0, 0.0, 0.0, 0.0]),
    ("thermal 300-700 °C", [20.0, 80.0, 30.0, 60.0, 0.0, 0.0, 0.0]),
    ("thermal > 700 °C", [30.0, 50.0, 15.0, 150.0, 1.0, 0.0, 0.0]),
    ("paper overheating", [10.0, 20.0, 5.0, 20.0, 0.0, 600.0, 3000.0]),
    ("stray gassing", [60.0, 40.0, 30.0, 1.0, 0.0, 0.0, 0.0]),
];

/// One generated asset with its samples (gas values in `Gas::ALL` order).
#[derive(Debug, Clone)]
pub struct GeneratedAsset {
    /// The asset id, e.g. `TR-00001`.
    pub id: String,
    /// The asset's name.
    pub name: String,
    /// The substation.
    pub substation: String,
    /// Year of manufacture.
    pub manufacture_year: i32,
    /// Rated power, MVA.
    pub rated_mva: f64,
    /// Rated voltage, kV.
    pub voltage_kv: f64,
    /// `sealed` or `free-breathing`.
    pub breathing: &'static str,
    /// The fault the asset develops over its history, e.g. `arcing`; `None` for a healthy asset.
    pub fault: Option<&'static str>,
    /// Each sample's date and its nine gases in ppm, in `Gas::ALL` order, oldest first.
    pub samples: Vec<(NaiveDate, [f64; 9])>,
}

/// The fleet as data (what `write_fleet` puts in a workbook).
pub fn generate(opts: &SampleOptions) -> Vec<GeneratedAsset> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let substations =
        ["Northgate", "Riverside", "Eastfield", "Hillcrest", "Lakeview", "Westport", "Southbank", "Oakridge"];
    let last_date = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default();
    (0..opts.assets)
        .map(|i| {
            let manufacture_year = 2024 - rng.random_range(1..50);
            let sealed = rng.random_bool(0.4);
            // A healthy majority: 70 % never develop a fault.
            let fault = rng.random_bool(0.3).then(|| FAULTS[rng.random_range(0..FAULTS.len())]);
            let base = [
                rng.random_range(3.0..30.0),
                rng.random_range(2.0..15.0),
                rng.random_range(2.0..20.0),
                rng.random_range(1.0..10.0),
                0.0,
                rng.random_range(100.0..400.0),
                rng.random_range(800.0..4000.0),
            ];
            let n = opts.samples_per_asset.max(1);
            let interval_days = rng.random_range(80..400);
            let onset = rng.random_range(0..n);
            let samples = (0..n)
                .map(|s| {
                    let date = last_date - Duration::days((n - 1 - s) as i64 * interval_days + rng.random_range(0..20));
                    let severity = match fault {
                        Some(_) if s >= onset => {
                            (s - onset + 1) as f64 / (n - onset) as f64 * rng.random_range(0.6..1.6)
                        }
                        _ => 0.0,
                    };
                    let mut gases = [0.0; 9];
                    for g in 0..7 {
                        let signature = fault.map_or(0.0, |(_, sig)| sig[g]);
                        let noise = rng.random_range(0.9..1.1);
                        gases[g] = ((base[g] + severity * signature) * noise * 10.0).round() / 10.0;
                    }
                    gases[7] =
                        if sealed { rng.random_range(800.0..3000.0) } else { rng.random_range(14_000.0..26_000.0) };
                    gases[8] = rng.random_range(40_000.0..62_000.0);
                    gases[7] = gases[7].round();
                    gases[8] = gases[8].round();
                    (date, gases)
                })
                .collect();
            GeneratedAsset {
                id: format!("TR-{:05}", i + 1),
                name: format!("Transformer {}", i + 1),
                substation: substations[i % substations.len()].to_owned(),
                manufacture_year,
                rated_mva: [10.0, 20.0, 40.0, 60.0, 100.0, 200.0][rng.random_range(0..6)],
                voltage_kv: [22.9, 66.0, 154.0, 345.0][rng.random_range(0..4)],
                breathing: if sealed { "sealed" } else { "free-breathing" },
                fault: fault.map(|(name, _)| name),
                samples,
            }
        })
        .collect()
}

fn gas_cell(v: f64, gas: Gas) -> Option<String> {
    // Acetylene at zero is what labs report as not detected.
    (gas == Gas::C2H2 && v < 0.5).then(|| "<0.5".to_owned())
}

/// Writes the fleet as a workbook in the chosen layout.
pub fn write_fleet(opts: &SampleOptions) -> Result<Vec<u8>, XlsxError> {
    let fleet = generate(opts);
    let mut mistakes = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x5EED);
    let mut wb = Workbook::new();
    let header = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let asset_values = |a: &GeneratedAsset| -> [String; 10] {
        [
            a.id.clone(),
            a.name.clone(),
            a.substation.clone(),
            a.manufacture_year.to_string(),
            a.rated_mva.to_string(),
            a.voltage_kv.to_string(),
            "mineral".into(),
            a.breathing.into(),
            "no".into(),
            (a.manufacture_year + 1).to_string(),
        ]
    };
    let write_text_or_number =
        |ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, v: &str| -> Result<(), XlsxError> {
            match v.parse::<f64>() {
                Ok(n) => ws.write_number(r, c, n).map(|_| ()),
                Err(_) => ws.write_string(r, c, v).map(|_| ()),
            }
        };

    if opts.layout == Layout::TwoSheet {
        let ws = wb.add_worksheet().set_name("Assets")?;
        for (c, f) in ASSET_COLUMNS.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, f.canonical(), &header)?;
        }
        for (i, a) in fleet.iter().enumerate() {
            for (c, v) in asset_values(a).iter().enumerate() {
                write_text_or_number(ws, 1 + i as u32, c as u16, v)?;
            }
        }
    }
    let ws = wb.add_worksheet().set_name("Samples")?;
    let mut row: u32 = 0;
    if opts.with_mistakes {
        ws.write_string_with_format(0, 0, "DGA results export — generated fleet", &header)?;
        ws.write_string(1, 0, "Values in ppm; <x = below the lab's detection limit")?;
        row = 3;
    }
    let mut columns: Vec<&str> = vec![Field::AssetId.canonical(), Field::SampledOn.canonical()];
    columns.extend(SAMPLE_GASES.iter().map(|g| Field::Gas(*g).canonical()));
    if opts.layout == Layout::OneSheet {
        columns.extend(ASSET_COLUMNS[1..].iter().map(|f| f.canonical()));
    }
    for (c, h) in columns.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *h, &header)?;
    }
    for a in &fleet {
        for (date, gases) in &a.samples {
            row += 1;
            ws.write_string(row, 0, &a.id)?;
            ws.write_date_with_format(row, 1, *date, &date_fmt)?;
            for (j, gas) in SAMPLE_GASES.iter().enumerate() {
                match gas_cell(gases[j], *gas) {
                    Some(t) => ws.write_string(row, 2 + j as u16, t)?,
                    None => ws.write_number(row, 2 + j as u16, gases[j])?,
                };
            }
            if opts.layout == Layout::OneSheet {
                for (k, v) in asset_values(a).iter().enumerate().skip(1) {
                    write_text_or_number(ws, row, 2 + SAMPLE_GASES.len() as u16 + k as u16 - 1, v)?;
                }
            }
            if opts.with_mistakes && mistakes.random_bool(0.01) {
                // The mistakes real files have.
                match mistakes.random_range(0..5) {
                    0 => ws.write_number(row, 2, -gases[0].max(1.0))?,
                    1 => ws.write_string(row, 3, "see note")?,
                    2 => ws.write_string(row, 1, format!("{}-02-30", date.year()))?,
                    3 => ws.write_string(row, 0, "")?,
                    _ => ws.write_string(row, 6, "1,2.5")?,
                };
            }
        }
    }
    if opts.with_mistakes {
        row += 1;
        ws.write_string(row, 0, "Average")?;
        ws.write_number(row, 2, 42.0)?;
    }
    wb.save_to_buffer()
}
