//! Human output fits the terminal: in a pseudo-terminal 80 and 120 columns wide (util-linux
//! `script`, as a person's terminal), no line that `substation run` or `substation diagnose`
//! prints is wider than the terminal; the act-first table still shows asset, status, fault,
//! priority and the reason; the status is coloured there, and not with `NO_COLOR`.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_substation");

/// Runs `args` in a pseudo-terminal of `cols` columns; everything it printed (stdout and
/// stderr, as the terminal shows them).
fn in_terminal(cols: u16, args: &str, no_color: bool) -> String {
    let shell = format!("stty cols {cols} rows 60; {}{BIN} {args}", if no_color { "NO_COLOR=1 " } else { "" });
    let o = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .env_remove(dga::THRESHOLDS_ENV)
        .env("TERM", "xterm-256color")
        .output()
        .expect("util-linux `script` runs (Debian: bsdutils)");
    assert!(o.status.code().is_some_and(|c| c <= 1), "{args}: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n").replace('\r', "\n")
}

fn widest(text: &str) -> (usize, String) {
    text.lines().map(|l| (textwrap::core::display_width(l), l.to_owned())).max_by_key(|(w, _)| *w).unwrap_or_default()
}

#[test]
fn every_line_fits_80_and_120_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let run = format!("run examples/fleet-sample.xlsx --force --out {}", out.display());
    let commands = [
        run.as_str(),
        "diagnose --h2 120 --ch4 80 --c2h6 30 --c2h4 150 --c2h2 2 --co 300 --o2 3000 --n2 50000",
        "diagnose --workbook examples/fleet-sample.xlsx",
        "diagnose --csv examples/fleet-sample.csv",
        "validate examples/fleet-sample.xlsx",
    ];
    for cols in [80u16, 120] {
        for args in commands {
            let text = in_terminal(cols, args, false);
            assert!(text.lines().count() >= 3, "{args}: {text}");
            let (w, line) = widest(&text);
            assert!(w <= usize::from(cols), "{args} at {cols} columns: a line of {w}:\n{line}\n\n{text}");
        }
    }
    // At 80 columns the act-first table keeps its columns, the reason wrapped, not just the id.
    let text = in_terminal(80, &run, true);
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::fs::read_dir(out.join("results")).unwrap().next().unwrap().unwrap().path().join("summary.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let first = &summary["act_first"][0];
    let row = text.lines().find(|l| l.contains(first["asset_id"].as_str().unwrap())).expect("the act-first row");
    assert!(row.contains(&format!("{:.1}", first["priority"].as_f64().unwrap())), "{row}");
    assert!(row.contains(first["fault"].as_str().unwrap()), "{row}");
    let reason = first["first_reason_short"].as_str().unwrap();
    let first_word = reason.split_whitespace().next().unwrap();
    assert!(row.contains(first_word), "the reason starts on the row: {row}");
    assert!(text.contains("report.html") && text.contains("report.xlsx"), "the run names its reports");
}

#[test]
fn the_status_is_coloured_on_a_terminal_but_not_with_no_color_or_in_a_pipe() {
    let args = "diagnose --h2 120 --ch4 80 --c2h6 30 --c2h4 150 --c2h2 2 --co 300 --o2 3000 --n2 50000";
    assert!(in_terminal(100, args, false).contains("\u{1b}["), "colour on a terminal");
    assert!(!in_terminal(100, args, true).contains("\u{1b}["), "NO_COLOR");
    let piped = Command::new(BIN).args(args.split(' ')).env_remove(dga::THRESHOLDS_ENV).output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\u{1b}'), "plain when piped");
}
