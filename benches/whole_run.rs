//! Whole-run benchmark: `substation run` (the release binary, as a user runs it) against a bare
//! calamine read of every cell of the same workbook, alternated in one benchmark run so that the
//! ratio holds on a noisy machine. For each fleet size and each workbook writer (our generator,
//! and openpyxl in write-only mode when `python3 -c 'import openpyxl'` works — it lays the XML
//! out differently), it prints the best of three of each, the ratio, the run's peak RSS, and the
//! run's phases from `--timings` (parse, Map with the engine's own time and the cores kept busy,
//! aggregate).
//!
//! Run: `cargo bench --bench whole_run` (sizes: `WHOLE_RUN_SIZES=10000,100000`, the default;
//! rounds: `WHOLE_RUN_ROUNDS=3`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, open_workbook_auto};
use serde_json::Value;

fn main() {
    let sizes: Vec<usize> = std::env::var("WHOLE_RUN_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rounds: usize = std::env::var("WHOLE_RUN_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let binary = release_binary();
    let dir = tempfile::tempdir().expect("a temporary folder");
    println!("substation run vs a bare calamine read of the same file, best of {rounds}, 10 samples per asset");
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>7} {:>9} | {:>7} {:>7} {:>8} {:>6} {:>9}",
        "writer",
        "assets",
        "read s",
        "run s",
        "ratio",
        "peak MiB",
        "parse s",
        "map s",
        "engine %",
        "cores",
        "aggregate"
    );
    for &assets in &sizes {
        for writer in ["substation", "openpyxl"] {
            let file = dir.path().join(format!("fleet-{writer}-{assets}.xlsx"));
            if !write_workbook(writer, assets, &file) {
                println!(
                    "{writer:<10} {assets:>8}   (skipped: python3 with openpyxl is not installed: pip install openpyxl)"
                );
                continue;
            }
            let (mut read, mut run, mut best) = (Duration::MAX, Duration::MAX, None);
            let mut peak_kib = 0;
            for _ in 0..rounds {
                read = read.min(bare_read(&file));
                let out = dir.path().join("out");
                let _ = std::fs::remove_dir_all(&out);
                let (wall, kib, timings) = substation_run(&binary, &file, &out);
                peak_kib = peak_kib.max(kib);
                if wall < run {
                    run = wall;
                    best = Some(timings);
                }
            }
            let t = best.unwrap_or(Value::Null);
            let state = |name: &str, field: &str| {
                t["states"].as_array().and_then(|s| s.iter().find(|s| s["state"] == name)).map(|s| s[field].clone())
            };
            let num = |v: Option<Value>| v.and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            let map_wall = num(state("DiagnoseAssets", "wall_s"));
            let engine_pct = 100.0 * num(t.get("engine_s").cloned()) / num(t.get("wall_s").cloned());
            let cores = num(state("DiagnoseAssets", "cpu_s")) / map_wall;
            println!(
                "{writer:<10} {assets:>8} {:>9.3} {:>9.3} {:>6.2}× {:>9.0} | {:>7.3} {:>7.3} {:>7.1}% {:>6.2} {:>9.3}",
                read.as_secs_f64(),
                run.as_secs_f64(),
                run.as_secs_f64() / read.as_secs_f64(),
                peak_kib as f64 / 1024.0,
                num(state("ParseWorkbook", "wall_s")),
                map_wall,
                engine_pct,
                cores,
                num(state("Aggregate", "wall_s")),
            );
        }
    }
}

/// The release binary, built if needed (the benchmark measures what users run).
fn release_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "--bin", "substation"])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the release build failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("release").join("substation")
}

/// Writes a fleet of `assets` × 10 samples; false when the writer is not available.
fn write_workbook(writer: &str, assets: usize, file: &Path) -> bool {
    if writer == "substation" {
        let opts = workbook::sample::SampleOptions {
            assets,
            samples_per_asset: 10,
            seed: 3,
            with_mistakes: true,
            ..Default::default()
        };
        std::fs::write(file, workbook::sample::write_fleet(&opts).expect("the generator writes")).expect("written");
        return true;
    }
    // openpyxl, write-only mode: the same two sheets, laid out by another library.
    let script = r#"
import sys, random
from datetime import date, timedelta
from openpyxl import Workbook
n, path = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(3)
wb = Workbook(write_only=True)
assets = wb.create_sheet("Assets")
assets.append(["Asset ID", "Name", "Substation", "Year of manufacture", "Rated MVA", "Voltage kV", "Breathing"])
samples = wb.create_sheet("Samples")
samples.append(["Asset ID", "Sample date", "H2", "CH4", "C2H6", "C2H4", "C2H2", "CO", "CO2", "O2", "N2"])
for a in range(n):
    aid = f"TR-{a:06d}"
    assets.append([aid, f"Transformer {a}", f"Sub {a % 97}", 1970 + a % 50, 100.0, 230.0, "sealed"])
    base = [rnd.uniform(5, 120), rnd.uniform(2, 80), rnd.uniform(2, 60), rnd.uniform(1, 90), rnd.uniform(0, 4), rnd.uniform(100, 700)]
    for s in range(10):
        g = 1 + 0.04 * s
        d = date(2016, 1, 15) + timedelta(days=120 * s)
        samples.append([aid, d] + [round(b * g, 1) for b in base] + [round(base[5] * 8 * g), rnd.randint(1000, 25000), 50000])
wb.save(path)
"#;
    Command::new("python3")
        .args(["-c", script, &assets.to_string()])
        .arg(file)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Every cell of every sheet, read with calamine as the floor of any reader.
fn bare_read(file: &Path) -> Duration {
    let start = Instant::now();
    let mut wb = open_workbook_auto(file).expect("calamine opens the workbook");
    let mut cells = 0usize;
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("the sheet reads");
        cells += range.cells().filter(|(_, _, c)| !matches!(c, Data::Empty)).count();
    }
    std::hint::black_box(cells);
    start.elapsed()
}

/// One `substation run --force --json --timings`: wall time, peak RSS (KiB) and the timings.
fn substation_run(binary: &Path, file: &Path, out: &Path) -> (Duration, i64, Value) {
    let start = Instant::now();
    let child = Command::new(binary)
        .args(["run", "--force", "--json", "--timings", "--out"])
        .arg(out)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("substation starts");
    let (kib, stderr) = wait_with_rusage(child);
    let wall = start.elapsed();
    let timings = stderr.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok()).unwrap_or(Value::Null);
    // The run's own VmHWM: wait4's figure also counts the benchmark's pages the child shared
    // between its spawn and its exec.
    let kib = timings["peak_rss_kib"].as_i64().unwrap_or(kib);
    (wall, kib, timings)
}

/// Waits for the child, returning its peak RSS as wait4 reports it (KiB) and its stderr.
#[allow(unsafe_code)]
fn wait_with_rusage(mut child: std::process::Child) -> (i64, String) {
    use std::io::Read;
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: the pid is our child's and has not been waited for; `status` and `usage` are
    // writable memory of the right types; `rusage` is plain old data, valid for any bit pattern.
    let kib = unsafe {
        if libc::wait4(child.id() as libc::pid_t, &mut status, 0, usage.as_mut_ptr()) < 0 {
            return (0, stderr);
        }
        usage.assume_init().ru_maxrss
    };
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "substation run failed: {stderr}");
    (kib, stderr)
}
