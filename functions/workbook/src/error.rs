//! Whole-file rejections and row errors.

use serde::Serialize;

/// The workbook cannot be read at all. `error_type()` is the stable name Step Functions matches.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, serde::Deserialize)]
pub enum WorkbookError {
    /// The file is not a DGA workbook that can be read (`WorkbookInvalid`).
    #[error("{file}: {reason}")]
    Invalid {
        /// The file's name, as given.
        file: String,
        /// Why, in an engineer's words.
        reason: String,
    },
    /// The file or a sheet is beyond a [`Limits`](crate::Limits) bound (`InputTooLarge`).
    #[error("{file}: {reason}")]
    TooLarge {
        /// The file's name, as given.
        file: String,
        /// Why, in an engineer's words.
        reason: String,
    },
}

impl WorkbookError {
    /// The stable name Step Functions matches: `WorkbookInvalid` or `InputTooLarge`.
    pub fn error_type(&self) -> &'static str {
        match self {
            WorkbookError::Invalid { .. } => "WorkbookInvalid",
            WorkbookError::TooLarge { .. } => "InputTooLarge",
        }
    }

    /// Why the workbook was refused, without the file name.
    pub fn reason(&self) -> &str {
        match self {
            WorkbookError::Invalid { reason, .. } | WorkbookError::TooLarge { reason, .. } => reason,
        }
    }
}

/// A row that was not accepted, and why: what the engineer needs to find and fix the cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RowError {
    /// The sheet's name.
    pub sheet: String,
    /// The row number Excel shows (1-based).
    pub row: u32,
    /// The column's header, or its letter when the problem is not one cell's.
    pub column: Option<String>,
    /// The column letter (`C`), when the problem is one cell's.
    pub column_letter: Option<String>,
    /// The cell's text as shown.
    pub value: Option<String>,
    /// Why the row was not accepted.
    pub reason: String,
}

impl RowError {
    /// Rows in the order the engineer reads them: by sheet, then row.
    pub fn sort(rows: &mut [RowError]) {
        rows.sort_by(|a, b| (a.sheet.as_str(), a.row).cmp(&(b.sheet.as_str(), b.row)));
    }
}

/// Most characters of a cell quoted in a rejection (the rest is elided with `…`): a rejection
/// names the cell, it does not carry a 32,767-character text twice.
pub const QUOTE_CHARS: usize = 200;

/// `text`, cut to [`QUOTE_CHARS`] characters with an ellipsis when longer.
pub fn quote(text: String) -> String {
    match ellipsize(&text, QUOTE_CHARS, QUOTE_CHARS) {
        std::borrow::Cow::Borrowed(_) => text,
        cut => cut.into_owned(),
    }
}

/// `text` as it is when it has at most `max_chars` characters, else its first `keep_chars`
/// followed by `…` (never walking more of a long text than that).
pub fn ellipsize(text: &str, max_chars: usize, keep_chars: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max_chars || text.char_indices().nth(max_chars).is_none() {
        return text.into();
    }
    let cut = text.char_indices().nth(keep_chars).map_or(text.len(), |(i, _)| i);
    format!("{}…", &text[..cut]).into()
}

/// Whether `sheet` is a CSV file's one sheet (named after the file, so `.csv`, `.tsv` or
/// `.txt`): its rows are the file's lines.
pub fn is_text_sheet(sheet: &str) -> bool {
    if sheet == crate::source::STDIN_SHEET {
        return true;
    }
    let lower = sheet.to_ascii_lowercase();
    [".csv", ".tsv", ".txt", ".tab"].iter().any(|e| lower.ends_with(e))
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if is_text_sheet(&self.sheet) {
            write!(f, "line {}", self.row)?;
        } else {
            write!(f, "sheet '{}', row {}", self.sheet, self.row)?;
        }
        if let (Some(c), Some(l)) = (&self.column, &self.column_letter) {
            write!(f, ", column {l} '{c}'")?;
        }
        match &self.value {
            // Reasons from the gas parser already quote the cell.
            Some(v) if !v.is_empty() && !self.reason.contains(&format!("'{v}'")) => {
                write!(f, ": '{v}' {}", self.reason)
            }
            _ => write!(f, ": {}", self.reason),
        }
    }
}

impl RowError {
    /// The column as a rejected-rows table shows it: `C (H2)`, the header alone, or empty.
    pub fn column_label(&self) -> String {
        match (&self.column_letter, &self.column) {
            (Some(l), Some(c)) => format!("{l} ({c})"),
            (None, Some(c)) => c.clone(),
            _ => String::new(),
        }
    }
}

/// Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA.
pub fn column_letter(index: u32) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn letters() {
        assert_eq!(super::column_letter(0), "A");
        assert_eq!(super::column_letter(25), "Z");
        assert_eq!(super::column_letter(26), "AA");
        assert_eq!(super::column_letter(16_383), "XFD");
    }
}
