//! CSV and other delimited text as one more source of the workbook reader: the bytes decoded
//! (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252), the field separator found (`,`,
//! `;` or tab), and each record handed on as a row of text cells at its line number, so that the
//! header families, dates, markers, row errors and counts are the workbook reader's own.

use crate::numbers::DecimalMark;

/// Why a file that is not a workbook is not readable text either, and how to save one that is.
pub(crate) const NOT_TEXT: &str = "not a spreadsheet: the content is neither an Excel or OpenDocument workbook nor text \
     in UTF-8, UTF-16 or Windows-1252. In Excel, use File > Save As and choose 'Excel Workbook (*.xlsx)' or \
     'CSV UTF-8 (Comma delimited) (*.csv)'";

/// Text decoded from a file's bytes.
#[derive(Debug)]
pub(crate) struct DelimitedText<'a> {
    /// Borrowed from the file's bytes when they are UTF-8 already (no copy of a large file).
    pub text: std::borrow::Cow<'a, str>,
    /// `UTF-8`, `UTF-16LE`, `windows-1252`…
    pub encoding: &'static str,
    pub delimiter: u8,
    /// A first line `sep=;` (what Excel writes to name the separator) is not a row.
    pub skip_first_line: bool,
}

impl DelimitedText<'_> {
    /// The separator as people name it.
    pub fn delimiter_name(&self) -> String {
        match self.delimiter {
            b'\t' => "tabs".to_owned(),
            d => format!("'{}'", char::from(d)),
        }
    }

    /// What the separator says about the decimal mark, for a `1.250` that nothing else decides:
    /// a `;` file is what an Excel with decimal commas writes; a `,` file cannot hold decimal
    /// commas unquoted, so its decimal mark is the point.
    pub fn decimal_hint(&self) -> Option<(DecimalMark, String)> {
        match self.delimiter {
            b';' => Some((
                DecimalMark::Comma,
                "the file is separated by ';', as an Excel that writes decimal commas saves it".to_owned(),
            )),
            b',' => {
                Some((DecimalMark::Point, "the file is separated by ',', so its decimal mark is the point".to_owned()))
            }
            _ => None,
        }
    }
}

/// Decodes `bytes` as text, or says why it is not text.
pub(crate) fn decode(bytes: &[u8]) -> Result<(std::borrow::Cow<'_, str>, &'static str), String> {
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        (std::str::from_utf8(rest).map_err(|_| NOT_TEXT.to_owned())?.into(), "UTF-8")
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let t = encoding_rs::UTF_16LE.decode_without_bom_handling_and_without_replacement(rest);
        (t.ok_or_else(|| NOT_TEXT.to_owned())?.into_owned().into(), "UTF-16")
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let t = encoding_rs::UTF_16BE.decode_without_bom_handling_and_without_replacement(rest);
        (t.ok_or_else(|| NOT_TEXT.to_owned())?.into_owned().into(), "UTF-16")
    } else if let Ok(t) = std::str::from_utf8(bytes) {
        (t.into(), "UTF-8")
    } else if let Some(line) = broken_utf8(bytes) {
        return Err(format!(
            "the file is UTF-8 text but line {line} holds a byte that is not UTF-8 (a damaged file, or two encodings \
             mixed): open it in Excel or a text editor and save it again as 'CSV UTF-8 (Comma delimited) (*.csv)'"
        ));
    } else {
        // Bytes Windows-1252 leaves undefined, or NULs (UTF-16 without its BOM, binary): not text
        // in that encoding either.
        if bytes.iter().any(|b| matches!(b, 0x00 | 0x81 | 0x8D | 0x8F | 0x90 | 0x9D)) {
            return Err(NOT_TEXT.to_owned());
        }
        let (t, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
        (t.into_owned().into(), "Windows-1252")
    };
    // A DOS end-of-file mark (Ctrl-Z) at the end is no content.
    let text = match text {
        std::borrow::Cow::Borrowed(t) => std::borrow::Cow::Borrowed(t.strip_suffix('\x1a').unwrap_or(t)),
        std::borrow::Cow::Owned(t) => match t.strip_suffix('\x1a') {
            Some(cut) => cut.to_owned().into(),
            None => t.into(),
        },
    };
    // Control characters other than line ends, tabs and form feeds: a binary file.
    let head: String = text.chars().take(64 * 1024).collect();
    if head.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) {
        return Err(NOT_TEXT.to_owned());
    }
    Ok((text, encoding))
}

/// The line of the first invalid byte of text that is UTF-8 before it (it holds multi-byte
/// characters): such a file is UTF-8 with a damaged byte, not Windows-1252, whose reading would
/// garble every one of those characters.
fn broken_utf8(bytes: &[u8]) -> Option<usize> {
    let valid = std::str::from_utf8(bytes).err()?.valid_up_to();
    let before = &bytes[..valid];
    before.iter().any(|b| *b >= 0x80).then(|| memchr::memchr_iter(b'\n', before).count() + 1)
}

/// Records of the first `rows` lines, split at `delimiter`.
fn first_records(text: &str, delimiter: u8, rows: usize) -> Vec<Vec<String>> {
    reader(text, delimiter)
        .records()
        .take(rows)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect()
}

pub(crate) fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes())
}

/// Finds the separator: the one whose split of the first `rows` lines gives the best header (by
/// [`crate::headers::header_score`]), then the one that splits most lines. `sep=;` decides.
pub(crate) fn detect<'a>(text: std::borrow::Cow<'a, str>, encoding: &'static str, rows: usize) -> DelimitedText<'a> {
    let first_line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if let Some(sep) = first_line.strip_prefix("sep=").filter(|s| s.len() == 1) {
        let delimiter = sep.as_bytes()[0];
        return DelimitedText { text, encoding, delimiter, skip_first_line: true };
    }
    let score = |delimiter: u8| {
        let records = first_records(&text, delimiter, rows);
        let header = records.iter().map(|r| crate::headers::header_score(r)).max().unwrap_or(0);
        let split = records.iter().filter(|r| r.len() > 1).count();
        (header, split)
    };
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .map(|d| (score(d), d))
        // Ties go to the earlier candidate: max_by keeps the last maximum, so compare reversed.
        .rev()
        .max_by_key(|(s, _)| *s)
        .map_or(b',', |(_, d)| d);
    DelimitedText { text, encoding, delimiter, skip_first_line: false }
}

/// Line numbers as an editor shows them, from a record's byte offset (the csv crate's own line
/// count drifts after blank lines and with CRLF endings).
pub(crate) struct Lines {
    newlines: Vec<usize>,
}

impl Lines {
    /// Line ends as the csv crate ends records: `\n`, `\r\n`, and a lone `\r` (old Macs).
    pub fn new(text: &str) -> Self {
        let b = text.as_bytes();
        let newlines =
            memchr::memchr2_iter(b'\n', b'\r', b).filter(|&i| b[i] == b'\n' || b.get(i + 1) != Some(&b'\n')).collect();
        Lines { newlines }
    }

    /// The 1-based line of the record whose parse started at `byte` (which may point at the line
    /// ends and blank lines before it).
    pub fn line_of(&self, text: &[u8], byte: u64) -> u64 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
        while start < text.len() && matches!(text[start], b'\r' | b'\n') {
            start += 1;
        }
        self.newlines.partition_point(|&nl| nl < start) as u64 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFH2;CH4").unwrap(), ("H2;CH4".into(), "UTF-8"));
        assert_eq!(decode(b"\xFF\xFEH\x002\x00").unwrap(), ("H2".into(), "UTF-16"));
        assert_eq!(decode(b"\xFE\xFF\x00H\x002").unwrap(), ("H2".into(), "UTF-16"));
        assert_eq!(decode(b"CO (\xB5L/L)").unwrap(), ("CO (µL/L)".into(), "Windows-1252"));
        assert_eq!(decode(b"H\x002\x00,\x00").unwrap_err(), NOT_TEXT, "UTF-16 without a BOM");
        assert_eq!(decode(b"\x89PNG\r\n\x1a\n\x00\x00").unwrap_err(), NOT_TEXT);
        assert_eq!(decode(b"\x01\x02binary").unwrap_err(), NOT_TEXT);
    }

    #[test]
    fn separators() {
        let sep = |t: &str| detect(t.into(), "UTF-8", 30).delimiter;
        assert_eq!(sep("Asset;Date;H2;CH4;C2H6;C2H4;C2H2\nT1;2023-01-01;1,5;2;3;4;5\n"), b';');
        assert_eq!(sep("Asset\tH2\tCH4\tC2H6\tC2H4\tC2H2\nT1\t1,5\t2\t3\t4\t5\n"), b'\t');
        assert_eq!(sep("Asset,H2,CH4,C2H6,C2H4,C2H2\nT1,\"1,5\",2,3,4,5\n"), b',');
        let t = detect("sep=;\nH2;CH4\n".into(), "UTF-8", 30);
        assert_eq!((t.delimiter, t.skip_first_line), (b';', true));
    }

    #[test]
    fn line_numbers_survive_blank_lines_and_crlf() {
        let text = "a\r\n\r\n\r\nb\r\n";
        let lines = Lines::new(text);
        assert_eq!(lines.line_of(text.as_bytes(), 3), 4);
        assert_eq!(lines.line_of(text.as_bytes(), 0), 1);
    }
}
