//! One cell's value, owned, whatever the file format; and how cells become gases, dates, years
//! and numbers.

use chrono::{Datelike, NaiveDate};
use dga::GasReading;

use crate::numbers::{self, DecimalMark, NumberText};

/// A cell as the workbook stores it (formulas by their cached value).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CellValue {
    /// A blank cell.
    #[default]
    Empty,
    /// Text.
    Text(String),
    /// A number (integers included).
    Number(f64),
    /// TRUE or FALSE.
    Bool(bool),
    /// A date-formatted cell, already converted with the workbook's date system (1900 or 1904).
    Date(Option<NaiveDate>),
    /// An Excel error such as `#N/A` or `#DIV/0!`.
    Error(String),
    /// A formula saved without its calculated value (a program that writes formulas but does not
    /// calculate them): never read as blank, which would mean "not detected".
    Uncalculated,
}

/// Why a formula cell without a value is refused.
pub const UNCALCULATED: &str = "is a formula without a calculated value (the file was saved by a program that does not calculate formulas): open it in Excel or LibreOffice, save it, and upload it again";

impl CellValue {
    /// Converts a cell of the streaming xlsx/xlsb reader.
    pub fn from_data_ref(value: &calamine::DataRef<'_>) -> CellValue {
        use calamine::DataRef as D;
        match value {
            D::Empty => CellValue::Empty,
            D::String(s) => text(s),
            D::SharedString(s) => text(s),
            D::Float(f) => CellValue::Number(*f),
            D::Int(i) => CellValue::Number(*i as f64),
            D::Bool(b) => CellValue::Bool(*b),
            D::DateTime(dt) => date_time(dt),
            D::DateTimeIso(s) => CellValue::Date(parse_iso_prefix(s)),
            D::DurationIso(s) => CellValue::Text(s.clone()),
            D::Error(e) => CellValue::Error(e.to_string()),
        }
    }

    /// Converts a cell of a whole-sheet range (legacy .xls and .ods).
    pub fn from_data(value: &calamine::Data) -> CellValue {
        use calamine::Data as D;
        match value {
            D::Empty => CellValue::Empty,
            D::String(s) => text(s),
            D::Float(f) => CellValue::Number(*f),
            D::Int(i) => CellValue::Number(*i as f64),
            D::Bool(b) => CellValue::Bool(*b),
            D::DateTime(dt) => date_time(dt),
            D::DateTimeIso(s) => CellValue::Date(parse_iso_prefix(s)),
            D::DurationIso(s) => CellValue::Text(s.clone()),
            D::Error(e) => CellValue::Error(e.to_string()),
        }
    }

    /// True for a blank cell or text of only whitespace.
    pub fn is_empty(&self) -> bool {
        match self {
            CellValue::Empty => true,
            CellValue::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as the engineer sees it, for error messages.
    pub fn display(&self) -> String {
        match self {
            CellValue::Empty => String::new(),
            CellValue::Text(t) => t.clone(),
            CellValue::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{n:.0}")
                } else {
                    n.to_string()
                }
            }
            CellValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            CellValue::Date(Some(d)) => d.to_string(),
            CellValue::Date(None) => "(invalid date)".to_owned(),
            CellValue::Error(e) => e.clone(),
            CellValue::Uncalculated => "(formula, not calculated)".to_owned(),
        }
    }

    /// The cell as shown, cut for quoting in a rejection ([`crate::error::quote`]) without
    /// copying a long text whole first.
    pub fn quoted(&self) -> String {
        match self {
            CellValue::Text(t) => {
                crate::error::ellipsize(t, crate::error::QUOTE_CHARS, crate::error::QUOTE_CHARS).into_owned()
            }
            other => other.display(),
        }
    }

    /// Text content, trimmed, for identifiers and attributes; numbers without a trailing `.0`.
    pub fn as_text(&self) -> Option<String> {
        if *self == CellValue::Uncalculated {
            return None;
        }
        let t = self.display();
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

fn text(s: &str) -> CellValue {
    CellValue::Text(s.to_owned())
}

fn date_time(dt: &calamine::ExcelDateTime) -> CellValue {
    if dt.is_duration() {
        return CellValue::Number(dt.as_f64());
    }
    CellValue::Date(dt.as_datetime().map(|d| d.date()))
}

fn parse_iso_prefix(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Why a cell was not accepted. The message is what the engineer reads after the cell's text.
pub type CellError = String;

/// A gas cell, read as far as the cell alone allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GasCell {
    /// The reading, and the decimal mark its text showed (evidence for the column's others).
    Reading(GasReading, Option<DecimalMark>),
    /// Text such as `1.250` or `<1,250`: the value depends on the decimal mark the file uses.
    Either {
        /// The number's two readings.
        number: NumberText,
        /// Written with `<`: a detection limit.
        below_detection: bool,
    },
}

/// A gas cell: a number, or text in any of the forms people write (`12.5`, `12,5`, `1 250`,
/// `1.250,5`), or a below-detection marker (blank, `<1`, `ND`, `n.d.`, `-`: sources.md §3.6,
/// never zero nor an error). Values are multiplied by the column's unit `factor` into ppm.
pub fn gas_cell(cell: &CellValue, factor: f64) -> Result<GasCell, CellError> {
    match cell {
        CellValue::Empty => Ok(GasCell::Reading(GasReading::BelowDetection { limit_ppm: None }, None)),
        CellValue::Number(v) => gas_value(*v, false, factor).map(|r| GasCell::Reading(r, None)),
        // No lab writes a concentration in 64 characters: say so without quoting (or copying) it.
        CellValue::Text(t) if t.len() > 64 => Err(match t.len() {
            // Counted only up to a cell's most (a 10 MB text is not walked a thousand times).
            0..=131_068 => format!("is {} characters of text, not a concentration", t.chars().count()),
            _ => "is more than 32,767 characters of text (Excel's most in a cell), not a concentration".to_owned(),
        }),
        CellValue::Text(t) => gas_text(t, factor),
        CellValue::Bool(_) => Err("is TRUE/FALSE, not a concentration".into()),
        CellValue::Date(_) => Err("is a date, not a concentration (is the column formatted as a date?)".into()),
        CellValue::Error(e) => Err(format!("the cell shows the Excel error {e}")),
        CellValue::Uncalculated => Err(UNCALCULATED.into()),
    }
}

fn gas_text(text: &str, factor: f64) -> Result<GasCell, CellError> {
    let t = text.trim();
    // The markers (`ND`, `n.d.`, `-`, blank) as dga reads them.
    if matches!(t.parse::<GasReading>(), Ok(GasReading::BelowDetection { limit_ppm: None })) {
        return Ok(GasCell::Reading(GasReading::BelowDetection { limit_ppm: None }, None));
    }
    let (below_detection, number) = match t.strip_prefix('<') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    match numbers::parse(number) {
        Some(NumberText::Sure { value, mark }) => {
            gas_value(value, below_detection, factor).map(|r| GasCell::Reading(r, mark))
        }
        Some(number @ NumberText::Either { .. }) => Ok(GasCell::Either { number, below_detection }),
        None if number.trim().parse::<f64>().is_ok_and(|v| !v.is_finite()) => {
            Err(format!("'{t}' is not a finite number"))
        }
        None => Err(format!("'{t}' is not a number")),
    }
}

/// A value in the column's unit → the reading in ppm (a limit is checked as a value would be).
pub fn gas_value(value: f64, below_detection: bool, factor: f64) -> Result<GasReading, CellError> {
    match GasReading::ppm(value * factor).map_err(|e| e.to_string())? {
        GasReading::Measured(l) if below_detection => Ok(GasReading::BelowDetection { limit_ppm: Some(l) }),
        reading => Ok(reading),
    }
}

/// Why `text` (`1.250`) cannot be read without knowing the file's decimal mark.
pub fn ambiguous_number(number: NumberText) -> String {
    let NumberText::Either { as_decimal, as_thousands, separator } = number else { return String::new() };
    format!(
        "could be {as_decimal} ('{}' as the decimal mark) or {as_thousands} ('{}' separating thousands)",
        separator.char(),
        separator.char()
    )
}

/// Samples before 1950 or after 2100 are typing mistakes, not history.
const FIRST_PLAUSIBLE_YEAR: i32 = 1950;
const LAST_PLAUSIBLE_YEAR: i32 = 2100;

fn plausible(date: NaiveDate) -> Result<NaiveDate, CellError> {
    if (FIRST_PLAUSIBLE_YEAR..=LAST_PLAUSIBLE_YEAR).contains(&date.year()) {
        Ok(date)
    } else {
        Err(format!("{date} is not a plausible sample date ({FIRST_PLAUSIBLE_YEAR}-{LAST_PLAUSIBLE_YEAR})"))
    }
}

/// Excel serial day number in the 1900 system (serial 1 = 1900-01-01; Excel's phantom
/// 1900-02-29 is serial 60, so serials from 61 on count from 1899-12-30).
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let epoch =
        if days >= 61 { NaiveDate::from_ymd_opt(1899, 12, 30)? } else { NaiveDate::from_ymd_opt(1899, 12, 31)? };
    epoch.checked_add_signed(chrono::Duration::days(days))
}

/// Which comes first in a date written `05/06/2023`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayMonthOrder {
    /// `17/05/2023` (Europe, Asia, most of the world).
    DayFirst,
    /// `5/17/2023` (the United States).
    MonthFirst,
}

/// A date cell, read as far as the cell alone allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCell {
    /// One reading, and the order its text showed (`17/05/2023` can only be day-first).
    Sure(NaiveDate, Option<DayMonthOrder>),
    /// `05/06/2023`: both orders are real dates; the column's other dates decide.
    Either {
        /// Read day first (5 June).
        day_first: NaiveDate,
        /// Read month first (6 May).
        month_first: NaiveDate,
    },
}

impl DateCell {
    /// The date in `order`.
    pub fn in_order(self, order: DayMonthOrder) -> NaiveDate {
        match (self, order) {
            (DateCell::Sure(d, _), _) => d,
            (DateCell::Either { day_first, .. }, DayMonthOrder::DayFirst) => day_first,
            (DateCell::Either { month_first, .. }, DayMonthOrder::MonthFirst) => month_first,
        }
    }
}

/// A sample date from a date cell, an Excel serial in a General cell, or text: `2023-05-17`,
/// `2023/5/17`, `2023.05.17`, `17.05.2023`, `17/05/2023` or `5/17/2023`, optionally followed by
/// a time. `05/06/2023` is [`DateCell::Either`]: the reader decides it by the column.
pub fn date_cell(cell: &CellValue) -> Result<Option<DateCell>, CellError> {
    match cell {
        CellValue::Empty => Ok(None),
        CellValue::Date(Some(d)) => plausible(*d).map(|d| Some(DateCell::Sure(d, None))),
        CellValue::Date(None) => Err("is not a valid date".into()),
        CellValue::Number(n) => match excel_serial_date(*n) {
            Some(d) => plausible(d).map(|d| Some(DateCell::Sure(d, None))),
            None => Err("is not a date".into()),
        },
        CellValue::Text(t) => match date_text(t)? {
            DateCell::Sure(d, order) => plausible(d).map(|d| Some(DateCell::Sure(d, order))),
            either @ DateCell::Either { day_first, .. } => plausible(day_first).map(|_| Some(either)),
        },
        CellValue::Bool(_) => Err("is TRUE/FALSE, not a date".into()),
        CellValue::Error(e) => Err(format!("the cell shows the Excel error {e}")),
        CellValue::Uncalculated => Err(UNCALCULATED.into()),
    }
}

/// A sample date where the cell alone decides (`05/06/2023` is refused as ambiguous).
pub fn date(cell: &CellValue) -> Result<Option<NaiveDate>, CellError> {
    match date_cell(cell)? {
        None => Ok(None),
        Some(DateCell::Sure(d, _)) => Ok(Some(d)),
        Some(DateCell::Either { day_first, month_first }) => Err(ambiguous_date(day_first, month_first)),
    }
}

/// Why `05/06/2023` alone is not a date.
pub fn ambiguous_date(day_first: NaiveDate, month_first: NaiveDate) -> String {
    format!(
        "could be {} (day first) or {} (month first)",
        day_first.format("%-d %B %Y"),
        month_first.format("%-d %B %Y")
    )
}

/// A date from text: year first (`2023-05-17`), day first with dots (`17.05.2023`), and with `/`
/// or `-` whichever of day-first and month-first is a real date (both: [`DateCell::Either`]).
pub fn date_text(text: &str) -> Result<DateCell, CellError> {
    let t = text.trim();
    // Drop a time part: "2023-05-17 10:30", "2023-05-17T10:30:00".
    let t = t.split(['T', ' ']).next().unwrap_or(t).trim_end_matches('.');
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    let nums: Option<Vec<u32>> = parts.iter().map(|p| p.trim().parse::<u32>().ok()).collect();
    let (Some(nums), 3) = (nums, parts.len()) else {
        return Err("is not a date (use YYYY-MM-DD)".into());
    };
    let ymd = |y: u32, m: u32, d: u32| NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d);
    if parts[0].len() == 4 {
        return ymd(nums[0], nums[1], nums[2])
            .map(|d| DateCell::Sure(d, None))
            .ok_or_else(|| "is an impossible date".into());
    }
    if parts[2].len() != 4 {
        return Err("is not a date (use YYYY-MM-DD)".into());
    }
    let day_first = ymd(nums[2], nums[1], nums[0]);
    // `17.05.2023` is European everywhere; with '/' or '-' both orders exist in the wild.
    if t.contains('.') {
        return day_first.map(|d| DateCell::Sure(d, None)).ok_or_else(|| "is an impossible date".into());
    }
    let month_first = ymd(nums[2], nums[0], nums[1]);
    match (day_first, month_first) {
        (Some(a), Some(b)) if a != b => Ok(DateCell::Either { day_first: a, month_first: b }),
        (Some(d), Some(_)) => Ok(DateCell::Sure(d, None)),
        (Some(d), None) => Ok(DateCell::Sure(d, Some(DayMonthOrder::DayFirst))),
        (None, Some(d)) => Ok(DateCell::Sure(d, Some(DayMonthOrder::MonthFirst))),
        (None, None) => Err("is an impossible date".into()),
    }
}

/// A date from text where the text alone decides (`05/06/2023` is refused as ambiguous).
pub fn parse_date_text(text: &str) -> Result<NaiveDate, CellError> {
    match date_text(text)? {
        DateCell::Sure(d, _) => Ok(d),
        DateCell::Either { day_first, month_first } => Err(ambiguous_date(day_first, month_first)),
    }
}

/// A year (manufacture, commissioning): a number or text like `1998`, or a date's year.
pub fn year(cell: &CellValue) -> Result<Option<i32>, CellError> {
    let y = match cell {
        CellValue::Empty => return Ok(None),
        CellValue::Number(n) if n.fract() == 0.0 => *n as i64,
        CellValue::Text(t) => match t.trim().parse::<i64>() {
            Ok(y) => y,
            Err(_) => return parse_date_text(t).map(|d| Some(d.year())),
        },
        CellValue::Date(Some(d)) => i64::from(d.year()),
        CellValue::Uncalculated => return Err(UNCALCULATED.into()),
        _ => return Err("is not a year".into()),
    };
    if (1900..=2100).contains(&y) { Ok(Some(y as i32)) } else { Err("is not a plausible year (1900-2100)".into()) }
}

/// A plain number (rated MVA, voltage, age), in any form [`numbers::parse`] reads. `1.250` is
/// read with the file's decimal mark (`mark`, when the file shows one), else refused.
pub fn number(cell: &CellValue, mark: Option<DecimalMark>) -> Result<Option<f64>, CellError> {
    match cell {
        CellValue::Empty => Ok(None),
        CellValue::Number(n) if n.is_finite() => Ok(Some(*n)),
        CellValue::Text(t) if matches!(t.parse::<GasReading>(), Ok(GasReading::BelowDetection { limit_ppm: None })) => {
            Ok(None)
        }
        CellValue::Text(t) => match numbers::parse(t) {
            Some(n @ NumberText::Either { .. }) => match mark {
                Some(mark) => Ok(Some(n.with_mark(mark))),
                None => Err(format!("{}: write it without a thousands separator", ambiguous_number(n))),
            },
            Some(n) => Ok(Some(n.with_mark(DecimalMark::Point))),
            None => Err("is not a number".into()),
        },
        CellValue::Uncalculated => Err(UNCALCULATED.into()),
        _ => Err("is not a number".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn date_forms() {
        for t in ["2023-05-17", "2023/5/17", "2023.05.17", "17.05.2023", "2023-05-17 10:30", "17/05/2023", "5/17/2023"]
        {
            assert_eq!(date(&CellValue::Text(t.into())), Ok(Some(d(2023, 5, 17))), "{t}");
        }
        assert_eq!(
            date(&CellValue::Text("05/06/2023".into())).unwrap_err(),
            "could be 5 June 2023 (day first) or 6 May 2023 (month first)"
        );
        assert_eq!(
            date_cell(&CellValue::Text("17/05/2023".into())),
            Ok(Some(DateCell::Sure(d(2023, 5, 17), Some(DayMonthOrder::DayFirst))))
        );
        assert_eq!(
            date_cell(&CellValue::Text("5/17/2023".into())),
            Ok(Some(DateCell::Sure(d(2023, 5, 17), Some(DayMonthOrder::MonthFirst))))
        );
        assert!(date(&CellValue::Text("2023-02-30".into())).unwrap_err().contains("impossible"));
        assert!(date(&CellValue::Text("1823-02-03".into())).unwrap_err().contains("plausible"));
        // Excel serials in General cells (1900 system): 45063 = 2023-05-17; 61 = 1900-03-01.
        assert_eq!(date(&CellValue::Number(45063.0)), Ok(Some(d(2023, 5, 17))));
        assert_eq!(excel_serial_date(61.0), Some(d(1900, 3, 1)));
        assert_eq!(excel_serial_date(1.0), Some(d(1900, 1, 1)));
        assert!(date(&CellValue::Number(12.5)).is_err());
        assert_eq!(date(&CellValue::Empty), Ok(None));
    }

    fn gas(cell: &CellValue, factor: f64) -> Result<GasReading, CellError> {
        match gas_cell(cell, factor)? {
            GasCell::Reading(r, _) => Ok(r),
            either => panic!("{either:?}"),
        }
    }

    #[test]
    fn gas_cells() {
        assert_eq!(gas(&CellValue::Number(12.0), 1.0), Ok(GasReading::Measured(12.0)));
        assert_eq!(
            gas_cell(&CellValue::Text("12,5".into()), 1.0),
            Ok(GasCell::Reading(GasReading::Measured(12.5), Some(DecimalMark::Comma)))
        );
        assert_eq!(gas(&CellValue::Text("1 250".into()), 1.0), Ok(GasReading::Measured(1250.0)));
        assert_eq!(gas(&CellValue::Text("<0,5".into()), 1.0), Ok(GasReading::BelowDetection { limit_ppm: Some(0.5) }));
        // `1,250` alone is 1.25 or 1250: the reader decides by the column (tests/read.rs).
        assert!(matches!(
            gas_cell(&CellValue::Text("1,250".into()), 1.0),
            Ok(GasCell::Either { below_detection: false, .. })
        ));
        assert!(matches!(
            gas_cell(&CellValue::Text("<1.250".into()), 1.0),
            Ok(GasCell::Either { below_detection: true, .. })
        ));
        assert_eq!(gas(&CellValue::Empty, 1.0), Ok(GasReading::BelowDetection { limit_ppm: None }));
        assert_eq!(gas(&CellValue::Text("<1".into()), 1.0), Ok(GasReading::BelowDetection { limit_ppm: Some(1.0) }));
        assert_eq!(gas(&CellValue::Number(0.5), 10_000.0), Ok(GasReading::Measured(5000.0))); // 0.5 %
        assert!(gas(&CellValue::Number(-1.0), 1.0).unwrap_err().contains("negative"));
        assert!(gas(&CellValue::Number(2e6), 1.0).unwrap_err().contains("impossible"));
        assert!(gas(&CellValue::Error("#N/A".into()), 1.0).unwrap_err().contains("#N/A"));
        assert!(gas(&CellValue::Text("abc".into()), 1.0).unwrap_err().contains("not a number"));
    }

    #[test]
    fn years_and_numbers() {
        assert_eq!(year(&CellValue::Number(1998.0)), Ok(Some(1998)));
        assert_eq!(year(&CellValue::Text("1998".into())), Ok(Some(1998)));
        assert!(year(&CellValue::Number(98.0)).is_err());
        assert_eq!(number(&CellValue::Text("1,000.5".into()), None), Ok(Some(1000.5)));
        assert_eq!(number(&CellValue::Text("132,5".into()), None), Ok(Some(132.5)));
        assert_eq!(number(&CellValue::Text("1.000".into()), Some(DecimalMark::Comma)), Ok(Some(1000.0)));
        assert_eq!(
            number(&CellValue::Text("1.000".into()), None),
            Err("could be 1 ('.' as the decimal mark) or 1000 ('.' separating thousands): write it without a thousands separator".into())
        );
    }
}
