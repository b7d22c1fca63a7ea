//! Numbers as people type them in text: `12.5`, `12,5`, `1,250.5`, `1.250,5`, `1 250`. A text
//! whose separator could be a decimal mark or a thousands separator (`1.250`: 1.25 in English,
//! 1250 in German) is reported as such, never guessed: the reader decides it from the file's own
//! pattern (the column's other cells, the CSV's field separator) or rejects the cell.

/// The character that separates a number's whole part from its fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMark {
    /// `12.5` (English, and most lab software).
    Point,
    /// `12,5` (most of continental Europe, and what a European Excel writes).
    Comma,
}

impl DecimalMark {
    /// The character itself.
    pub fn char(self) -> char {
        match self {
            DecimalMark::Point => '.',
            DecimalMark::Comma => ',',
        }
    }

    fn of(c: char) -> Option<DecimalMark> {
        match c {
            '.' => Some(DecimalMark::Point),
            ',' => Some(DecimalMark::Comma),
            _ => None,
        }
    }

    fn other(self) -> DecimalMark {
        match self {
            DecimalMark::Point => DecimalMark::Comma,
            DecimalMark::Comma => DecimalMark::Point,
        }
    }
}

/// A number read from text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberText {
    /// Only one reading exists. `mark` is the decimal mark the text shows or implies (`12,5` and
    /// `1.250.000` imply a comma; `1,250.5` a point), the evidence for the column's other cells.
    Sure {
        /// The value.
        value: f64,
        /// The decimal mark the text shows, if it shows one.
        mark: Option<DecimalMark>,
    },
    /// One `.` or `,` followed by exactly three digits (`1.250`, `20,500`): the value with that
    /// character as the decimal mark, or as a thousands separator.
    Either {
        /// The character read as the decimal mark (`1.250` → 1.25).
        as_decimal: f64,
        /// The character read as a thousands separator (`1.250` → 1250).
        as_thousands: f64,
        /// The character.
        separator: DecimalMark,
    },
}

impl NumberText {
    /// The value when numbers are written with `mark` as their decimal mark.
    pub fn with_mark(self, mark: DecimalMark) -> f64 {
        match self {
            NumberText::Sure { value, .. } => value,
            NumberText::Either { as_decimal, as_thousands, separator } => {
                if separator == mark {
                    as_decimal
                } else {
                    as_thousands
                }
            }
        }
    }
}

/// Spaces that group thousands: a space, a no-break space (what Excel writes for French), a
/// narrow no-break space (ISO 31-0), and an apostrophe (Swiss).
fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'')
}

/// Whether `groups` (split at a thousands separator) are `1-3 digits` then `3 digits` each.
fn grouped(groups: &[&str]) -> bool {
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    match groups.split_first() {
        // A group of thousands is never led by a 0 (`0.250.000` is no number).
        Some((first, rest)) => {
            digits(first)
                && first.len() <= 3
                && !first.starts_with('0')
                && rest.iter().all(|g| g.len() == 3 && digits(g))
        }
        None => false,
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads a number from text, or `None` when it is not one (`abc`, `1,2.3`, `1.2.3`, `NaN`).
pub fn parse(text: &str) -> Option<NumberText> {
    let t = text.trim();
    let (sign, body) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, &t[1..]),
        Some(b'+') => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    let body = body.trim_start();
    if body.is_empty() {
        return None;
    }
    let signed = |n: NumberText| match n {
        NumberText::Sure { value, mark } => NumberText::Sure { value: sign * value, mark },
        NumberText::Either { as_decimal, as_thousands, separator } => {
            NumberText::Either { as_decimal: sign * as_decimal, as_thousands: sign * as_thousands, separator }
        }
    };
    // Scientific notation: `1.5E+03`, or `1,5E+03` as a German Excel writes it (one mark at most,
    // so never two readings).
    if body.contains(['e', 'E']) {
        let (mantissa, exponent) = body.split_once(['e', 'E'])?;
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        let marks = mantissa.matches(['.', ',']).count();
        if !all_digits(exponent)
            || marks > 1
            || !mantissa.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b','))
            || !mantissa.bytes().any(|b| b.is_ascii_digit())
        {
            return None;
        }
        let value: f64 = body.replace(',', ".").parse().ok()?;
        let mark = mantissa.find(['.', ',']).and_then(|i| DecimalMark::of(char::from(mantissa.as_bytes()[i])));
        return value.is_finite().then(|| signed(NumberText::Sure { value, mark }));
    }
    // Spaces group thousands (never a decimal mark): `1 250`, `1 250,5`, `1 250.5`.
    let spaced;
    let body = if body.contains(is_group_space) {
        let (whole, fraction) = match body.find(['.', ',']) {
            Some(i) => body.split_at(i),
            None => (body, ""),
        };
        let groups: Vec<&str> = whole.split(is_group_space).collect();
        if !grouped(&groups) || fraction.contains(is_group_space) {
            return None;
        }
        spaced = format!("{}{fraction}", groups.concat());
        spaced.as_str()
    } else {
        body
    };
    let seps: Vec<(usize, char)> = body.char_indices().filter(|(_, c)| matches!(c, '.' | ',')).collect();
    let value = |whole: &str, fraction: &str| -> Option<f64> {
        let s = if fraction.is_empty() { whole.to_owned() } else { format!("{}.{fraction}", whole) };
        s.parse::<f64>().ok().filter(|v| v.is_finite())
    };
    let n = match seps.as_slice() {
        [] => NumberText::Sure { value: value(body, "").filter(|_| all_digits(body))?, mark: None },
        [(i, c)] => {
            let (whole, fraction) = (&body[..*i], &body[i + 1..]);
            let mark = DecimalMark::of(*c)?;
            if !(whole.is_empty() || all_digits(whole)) || !all_digits(fraction) {
                return None;
            }
            // `1.250`: three digits after one separator, and a whole part that could lead a
            // group of thousands (1-3 digits, not led by 0: `0.250` and `01.250` are decimals).
            if fraction.len() == 3 && (1..=3).contains(&whole.len()) && !whole.starts_with('0') {
                NumberText::Either {
                    as_decimal: value(whole, fraction)?,
                    as_thousands: value(&format!("{whole}{fraction}"), "")?,
                    separator: mark,
                }
            } else {
                NumberText::Sure {
                    value: value(if whole.is_empty() { "0" } else { whole }, fraction)?,
                    mark: Some(mark),
                }
            }
        }
        many => {
            let last = many.last()?.1;
            let first = many[0].1;
            if first == last {
                // `1.250.000` or `1,250,000`: only thousands separators; the other mark is decimal.
                let groups: Vec<&str> = body.split(first).collect();
                if !grouped(&groups) {
                    return None;
                }
                NumberText::Sure {
                    value: value(&groups.concat(), "")?,
                    mark: DecimalMark::of(first).map(DecimalMark::other),
                }
            } else {
                // `1.250,5` or `1,250.5`: the last separator is the decimal mark, the others group.
                let (i, _) = *many.last()?;
                let (whole, fraction) = (&body[..i], &body[i + 1..]);
                let groups: Vec<&str> = whole.split(first).collect();
                if many[..many.len() - 1].iter().any(|(_, c)| *c != first) || !grouped(&groups) || !all_digits(fraction)
                {
                    return None;
                }
                NumberText::Sure { value: value(&groups.concat(), fraction)?, mark: DecimalMark::of(last) }
            }
        }
    };
    Some(signed(n))
}

#[cfg(test)]
mod tests {
    use super::DecimalMark::{Comma, Point};
    use super::*;

    fn sure(text: &str) -> (f64, Option<DecimalMark>) {
        match parse(text) {
            Some(NumberText::Sure { value, mark }) => (value, mark),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn one_reading() {
        assert_eq!(sure("12"), (12.0, None));
        assert_eq!(sure("12.5"), (12.5, Some(Point)));
        assert_eq!(sure("12,5"), (12.5, Some(Comma)));
        assert_eq!(sure("0,250"), (0.25, Some(Comma)), "a lone 0 leads no group of thousands");
        assert_eq!(sure("1250.5"), (1250.5, Some(Point)));
        assert_eq!(sure("1,250.5"), (1250.5, Some(Point)));
        assert_eq!(sure("1.250,5"), (1250.5, Some(Comma)));
        assert_eq!(sure("1.250.000"), (1_250_000.0, Some(Comma)));
        assert_eq!(sure("1,250,000"), (1_250_000.0, Some(Point)));
        assert_eq!(sure("1 250"), (1250.0, None));
        assert_eq!(sure("1\u{a0}250,5"), (1250.5, Some(Comma)));
        assert_eq!(sure("1 250.500"), (1250.5, Some(Point)), "spaces group: the point is the decimal mark");
        assert_eq!(sure("-3,5"), (-3.5, Some(Comma)));
        assert_eq!(sure(".5"), (0.5, Some(Point)));
        assert_eq!(sure("1.5e3"), (1500.0, Some(Point)));
        assert_eq!(sure("1,5E+03"), (1500.0, Some(Comma)), "what a German Excel writes");
        assert_eq!(sure("2E-3"), (0.002, None));
        assert_eq!(sure("01.250"), (1.25, Some(Point)), "no group of thousands starts with 0");
        assert_eq!(sure("12345,678"), (12345.678, Some(Comma)), "five digits lead no group of thousands");
    }

    #[test]
    fn two_readings() {
        assert_eq!(
            parse("1.250"),
            Some(NumberText::Either { as_decimal: 1.25, as_thousands: 1250.0, separator: Point })
        );
        let n = parse("20,500").unwrap();
        assert_eq!((n.with_mark(Comma), n.with_mark(Point)), (20.5, 20500.0));
    }

    #[test]
    fn not_numbers() {
        for t in [
            "",
            "abc",
            "1,2.3",
            "1.2.3",
            "12,34,5",
            "1.250,000.5",
            "NaN",
            "inf",
            "1 25",
            "1e",
            "1.250 000",
            "--1",
            "--1e5",
            "-+1e5",
            "1.5.0e3",
            "e5",
            "1e5,5",
            "0.250.000",
            "+",
            ".",
        ] {
            assert_eq!(parse(t), None, "{t}");
        }
    }
}
