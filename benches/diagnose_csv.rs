//! Whole-run benchmark: the release `substation diagnose --csv --json` over a generated fleet,
//! as a user runs it (process start, CSV parse, every diagnosis, JSON out). Prints the child's
//! peak memory after the timings. Run: `cargo bench --bench diagnose_csv`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use divan::Bencher;

fn main() {
    divan::main();
    if let Some(kib) = children_peak_rss_kib() {
        println!("peak RSS of the largest substation run: {:.1} MiB", kib as f64 / 1024.0);
    }
}

/// The largest peak resident set of any finished child process, KiB (Linux `ru_maxrss`).
#[allow(unsafe_code)]
fn children_peak_rss_kib() -> Option<i64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is writable memory for one `rusage`; on success getrusage fills it, and
    // `rusage` is plain old data, valid for any bit pattern (it was zeroed besides).
    unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return None;
        }
        Some(usage.assume_init().ru_maxrss)
    }
}

/// A fleet of `assets` transformers with `samples` quarterly samples each.
fn fleet_csv(assets: usize, samples: usize) -> String {
    let mut state: u64 = 0x853C_49E6_748F_EA9B;
    let mut next = move |scale: f64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 / (1u64 << 53) as f64) * scale
    };
    let mut csv = String::from("asset_id,sampled_on,age_years,H2,CH4,C2H6,C2H4,C2H2,CO,CO2,O2,N2\n");
    for a in 0..assets {
        let age = next(45.0).floor();
        let base = [next(80.0), next(60.0), next(50.0), next(60.0), next(3.0), 150.0 + next(600.0)];
        for s in 0..samples {
            let growth = 1.0 + 0.05 * s as f64;
            let (year, month) = (2020 + (s * 3) / 12, 1 + (s * 3) % 12);
            let _ = writeln!(
                csv,
                "TR-{a:06},{year}-{month:02}-15,{age},{:.1},{:.1},{:.1},{:.1},{:.2},{:.0},{:.0},{:.0},50000",
                base[0] * growth,
                base[1] * growth,
                base[2] * growth,
                base[3] * growth,
                base[4] * growth,
                base[5] * growth,
                base[5] * 8.0,
                1000.0 + next(20000.0),
            );
        }
    }
    csv
}

fn fixture(assets: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("substation-bench-fleet-{assets}.csv"));
    if !path.exists() {
        std::fs::write(&path, fleet_csv(assets, 6)).expect("write the generated fleet");
    }
    path
}

fn run(path: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_substation"))
        .args(["diagnose", "--json", "--csv"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("run substation");
    assert!(status.success());
}

/// Items are samples (CSV rows), so divan reports samples diagnosed per second end to end.
#[divan::bench(args = [1_000, 10_000, 50_000], sample_count = 5)]
fn diagnose_csv_fleet_of(bencher: Bencher, assets: usize) {
    let path = fixture(assets);
    bencher.counter(divan::counter::ItemsCount::new(assets * 6)).bench(|| run(&path));
}
