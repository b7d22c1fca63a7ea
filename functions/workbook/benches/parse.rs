//! Parse throughput and peak memory on generated workbooks of 10k, 100k and 1M sample rows, side
//! by side with a bare calamine read of every cell of the same file (open, `worksheet_range`
//! each sheet, touch every cell): the floor.
//!
//! Run: `cargo bench -p workbook --bench parse` (sizes: `SUBSTATION_BENCH_ROWS=10000,100000`).
//! Each measurement is a fresh child process, so its peak RSS (VmHWM) is its own.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use workbook::sample::{SampleOptions, write_fleet};
use workbook::{Layout, Limits, read_workbook};

const SAMPLES_PER_ASSET: usize = 10;
const RUNS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    // `cargo test --benches` runs bench targets with no work to do here.
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("SUBSTATION_BENCH_ROWS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    println!(
        "{:>9} {:>9} | {:>10} {:>12} {:>9} | {:>10} {:>12} {:>9} | {:>6}",
        "rows", "file MiB", "bare s", "bare rows/s", "bare MiB", "ours s", "ours rows/s", "ours MiB", "ratio"
    );
    for rows in sizes {
        let file = fixture(rows);
        let mb = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;
        let bare = measure("bare", &file);
        let ours = measure("ours", &file);
        println!(
            "{rows:>9} {mb:>9.1} | {:>10.3} {:>12.0} {:>9.1} | {:>10.3} {:>12.0} {:>9.1} | {:>6.2}",
            bare.0,
            rows as f64 / bare.0,
            bare.1,
            ours.0,
            rows as f64 / ours.0,
            ours.1,
            ours.0 / bare.0
        );
    }
}

/// Median wall time (s) and largest peak RSS (MiB) over RUNS child processes.
fn measure(mode: &str, file: &Path) -> (f64, f64) {
    let mut times = Vec::new();
    let mut peak: f64 = 0.0;
    for _ in 0..RUNS {
        let out = Command::new(std::env::current_exe().expect("bench executable"))
            .args(["--child", mode])
            .arg(file)
            .output()
            .expect("run the child");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace().map(|p| p.parse::<f64>().unwrap_or(0.0));
        times.push(parts.next().unwrap_or(0.0));
        peak = peak.max(parts.next().unwrap_or(0.0) / 1024.0);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], peak)
}

fn child(mode: &str, file: &Path) {
    let start = Instant::now();
    let bytes = std::fs::read(file).expect("read the workbook");
    let touched = match mode {
        "bare" => {
            let mut book = open_workbook_auto_from_rs(Cursor::new(bytes.as_slice())).expect("open");
            let mut n = 0usize;
            for name in book.sheet_names() {
                let range = book.worksheet_range(&name).expect("sheet");
                for cell in range.cells() {
                    if !matches!(cell.2, Data::Empty) {
                        n += 1;
                    }
                }
            }
            n
        }
        _ => {
            let limits = Limits { max_file_bytes: u64::MAX, ..Limits::default() };
            let parsed = read_workbook(&bytes, "bench.xlsx", &limits).expect("parse");
            parsed.counts.samples_accepted as usize
        }
    };
    std::hint::black_box(touched);
    let elapsed = start.elapsed().as_secs_f64();
    println!("{elapsed} {}", peak_rss_kib());
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn fixture(rows: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench data dir");
    let path = dir.join(format!("fleet-{rows}.xlsx"));
    if !path.exists() {
        let opts = SampleOptions {
            assets: rows / SAMPLES_PER_ASSET,
            samples_per_asset: SAMPLES_PER_ASSET,
            seed: 42,
            layout: Layout::TwoSheet,
            with_mistakes: false,
        };
        eprintln!("generating {} ({rows} sample rows)…", path.display());
        std::fs::write(&path, write_fleet(&opts).expect("generate")).expect("write");
    }
    path
}
