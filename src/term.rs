//! How human output meets the terminal: its width (every line fits it), colour (status 3 red,
//! 2 amber, 1 green; never when piped or with `NO_COLOR`), and tables laid out to the width.

use std::io::IsTerminal;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

/// Columns when stdout is not a terminal (a file, a pipe, CI logs).
const PIPED_WIDTH: usize = 100;
/// Below this a terminal is laid out as if it had this many columns.
const NARROWEST: usize = 60;

/// The width human output is laid out for: the terminal's, else 100 columns.
pub fn width() -> usize {
    if !std::io::stdout().is_terminal() {
        return PIPED_WIDTH;
    }
    console::Term::stdout().size_checked().map_or(PIPED_WIDTH, |(_, cols)| usize::from(cols).max(NARROWEST))
}

/// Whether to colour: a terminal, and no `NO_COLOR` (https://no-color.org).
pub fn colors() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A table that fits [`width`]: borders drawn with box characters on a terminal, ASCII when
/// piped; cells wrap (comfy-table's dynamic arrangement).
pub fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(if std::io::stdout().is_terminal() {
        presets::UTF8_BORDERS_ONLY
    } else {
        presets::ASCII_BORDERS_ONLY_CONDENSED
    });
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(width() as u16);
    if colors() {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn status_color(status: u8) -> Color {
    match status {
        3 => Color::Red,
        2 => Color::Yellow,
        _ => Color::Green,
    }
}

/// A status cell, coloured when [`colors`].
pub fn status_cell(status: u8, text: impl ToString) -> Cell {
    let cell = Cell::new(text);
    if colors() { cell.fg(status_color(status)) } else { cell }
}

/// Text in the status's colour when [`colors`].
pub fn status_text(status: u8, text: &str) -> String {
    if !colors() {
        return text.to_owned();
    }
    let s = console::style(text).force_styling(true);
    match status {
        3 => s.red().bold(),
        2 => s.yellow().bold(),
        _ => s.green(),
    }
    .to_string()
}

/// Every line wrapped to `width` columns. A `label   value` line continues under its value;
/// any other under its own indent, two further in. Lines that fit (tables do) are untouched.
pub fn fit(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, newline) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        if textwrap::core::display_width(body) <= width {
            out.push_str(line);
            continue;
        }
        let lead = body.len() - body.trim_start().len();
        // Byte offsets to find the value; its column is the display width before it.
        let value_at = body[lead..].find("  ").and_then(|i| {
            let j = lead + i + body[lead + i..].len() - body[lead + i..].trim_start().len();
            let col = textwrap::core::display_width(&body[..j]);
            (col < width / 2).then_some(col)
        });
        let lead_col = textwrap::core::display_width(&body[..lead]);
        let indent = " ".repeat(value_at.unwrap_or(lead_col + 2).min(width / 2));
        let options = textwrap::Options::new(width).subsequent_indent(&indent);
        out.push_str(&textwrap::fill(body, options));
        out.push_str(newline);
    }
    out
}

/// Human output on stdout, fitted to the terminal.
pub fn print(text: &str) -> std::io::Result<()> {
    crate::print_out(&fit(text, width()))
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn long_lines_wrap_under_their_value_or_indent_and_short_ones_stay() {
        let text = "Fault                     T3 — thermal fault above 700 °C, confirmed by the pentagon and the ratios\nshort\n";
        let out = fit(text, 60);
        assert!(out.lines().all(|l| textwrap::core::display_width(l) <= 60), "{out}");
        assert!(out.lines().nth(1).unwrap().starts_with(&" ".repeat(26)), "under the value: {out}");
        assert!(out.ends_with("short\n"));
        // Too narrow to continue under the value (past half the width): under the indent instead.
        let narrow = fit(text, 40);
        assert!(narrow.lines().all(|l| textwrap::core::display_width(l) <= 40), "{narrow}");
        assert!(
            narrow.lines().nth(1).unwrap().starts_with("  ") && !narrow.lines().nth(1).unwrap().starts_with("   "),
            "{narrow}"
        );
        // A non-ASCII label continues under its value's column, not its byte offset.
        let accented = "Température   élevée dans la cuve principale depuis le dernier échantillon du mois";
        let out = fit(accented, 50);
        assert!(
            out.lines().nth(1).unwrap().starts_with(&" ".repeat(14))
                && !out.lines().nth(1).unwrap().starts_with(&" ".repeat(15)),
            "{out}"
        );
        let plain = "  1000 rows read: 990 samples accepted, 9 rows rejected, 1 skipped; 100 assets: 100 diagnosed";
        let out = fit(plain, 50);
        assert!(out.lines().all(|l| l.len() <= 50), "{out}");
        assert!(out.lines().nth(1).unwrap().starts_with("    "), "{out}");
    }
}
