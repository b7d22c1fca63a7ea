//! Opening workbook bytes whatever the format (sniffed from the content, not the name), and
//! streaming each sheet's rows without ever building a dense grid from a sheet's claimed size.

use std::collections::HashSet;
use std::io::Cursor;
use std::ops::ControlFlow;

use calamine::{Data, Dimensions, Ods, Reader, Xls, Xlsb, Xlsx};

use crate::Limits;
use crate::cells::CellValue;
use crate::csv_text::DelimitedText;
use crate::error::WorkbookError;

pub(crate) const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

pub(crate) enum Book<'a> {
    /// With what the scan of its sheets found (merged cells, formulas without values).
    Xlsx(Xlsx<Cursor<&'a [u8]>>, SheetScan),
    Xlsb(Xlsb<Cursor<&'a [u8]>>),
    Xls(Xls<Cursor<&'a [u8]>>),
    Ods(Ods<Cursor<&'a [u8]>>),
    /// CSV or other delimited text, as one sheet named after the file.
    Text(DelimitedText<'a>, String),
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl<'a> Book<'a> {
    /// Opens by content: a zip is xlsx/xlsm, xlsb or ods; an OLE container is a legacy .xls or
    /// an encrypted (password-protected) xlsx; anything else that decodes as text is CSV. `scan` says what an xlsx's sheets may hold (see
    /// [`scan_sheets`]); `None` looks.
    pub fn open(
        bytes: &'a [u8],
        file: &str,
        scan: Option<SheetScan>,
        limits: &crate::Limits,
    ) -> Result<Book<'a>, WorkbookError> {
        let invalid = |reason: String| WorkbookError::Invalid { file: file.to_owned(), reason };
        if bytes.is_empty() {
            return Err(invalid("the file is empty".into()));
        }
        if bytes.starts_with(ZIP_MAGIC) {
            let xlsx_err = match Xlsx::new(Cursor::new(bytes)) {
                Ok(b) => return Ok(Book::Xlsx(b, scan.unwrap_or_else(|| scan_sheets(bytes)))),
                Err(e) => e.to_string(),
            };
            if let Ok(b) = Xlsb::new(Cursor::new(bytes)) {
                return Ok(Book::Xlsb(b));
            }
            if let Ok(b) = Ods::new(Cursor::new(bytes)) {
                return Ok(Book::Ods(b));
            }
            return Err(invalid(format!(
                "the file is a zip archive but not a readable workbook (corrupt or not .xlsx/.xlsb/.ods): {xlsx_err}"
            )));
        }
        if bytes.starts_with(OLE_MAGIC) {
            if contains(bytes, &utf16("EncryptedPackage")) || contains(bytes, &utf16("EncryptionInfo")) {
                return Err(invalid(
                    "the workbook is password-protected: remove the password (File > Info > Protect Workbook) and upload it again"
                        .into(),
                ));
            }
            return match Xls::new(Cursor::new(bytes)) {
                Ok(b) => Ok(Book::Xls(b)),
                Err(calamine::XlsError::Password) => {
                    Err(invalid("the workbook is password-protected: remove the password and upload it again".into()))
                }
                Err(e) => Err(invalid(format!("the file is an OLE container but not a readable .xls workbook: {e}"))),
            };
        }
        let (text, encoding) = crate::csv_text::decode(bytes).map_err(invalid)?;
        let text = crate::csv_text::detect(text, encoding, limits.header_search_rows as usize);
        Ok(Book::Text(text, csv_sheet_name(file)))
    }

    pub fn sheet_names(&self) -> Vec<String> {
        match self {
            Book::Xlsx(b, _) => b.sheet_names(),
            Book::Xlsb(b) => b.sheet_names(),
            Book::Xls(b) => b.sheet_names(),
            Book::Ods(b) => b.sheet_names(),
            Book::Text(_, name) => vec![name.clone()],
        }
    }

    /// Calls `on_row(row_index, cells)` for every row that has a cell, in order; `cells[c]` is
    /// column `c` (0-based). Merged cells (xlsx) carry their value into every covered cell.
    pub fn for_each_row(
        &mut self,
        sheet: &str,
        file: &str,
        limits: &Limits,
        mut on_row: impl FnMut(u32, &[CellValue]) -> Result<(), WorkbookError>,
    ) -> Result<(), WorkbookError> {
        let err = |e: String| WorkbookError::Invalid { file: file.to_owned(), reason: format!("sheet '{sheet}': {e}") };
        let mut rows = RowAssembler::new(sheet, file, limits);
        match self {
            Book::Xlsx(book, scan) => {
                // calamine finds merged regions by parsing the whole sheet: only when there are any.
                let merged = match scan.merged.then(|| book.worksheet_merge_cells(sheet)).flatten() {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => return Err(err(e.to_string())),
                    None => Vec::new(),
                };
                rows.merged = Merged::new(merged);
                // Where a formula may lack its value, the formula cells are found first (another
                // pass over the sheet, only for such files), so that a blank read there is
                // refused rather than taken for "not detected".
                let formulas =
                    if scan.uncalculated { formula_cells(book, sheet, file, limits, &err)? } else { HashSet::new() };
                let mut reader = book.worksheet_cells_reader(sheet).map_err(|e| err(e.to_string()))?;
                rows.check_claim(reader.dimensions())?;
                let uncalculated = Uncalculated { cells: &formulas, empty_text: scan.empty_values };
                stream_cells(|| reader.next_cell(), &uncalculated, &mut rows, &mut on_row, &err)?;
            }
            Book::Xlsb(book) => {
                let mut reader = book.worksheet_cells_reader(sheet).map_err(|e| err(e.to_string()))?;
                rows.check_claim(reader.dimensions())?;
                let none = HashSet::new();
                let uncalculated = Uncalculated { cells: &none, empty_text: false };
                stream_cells(|| reader.next_cell(), &uncalculated, &mut rows, &mut on_row, &err)?;
            }
            // Legacy .xls (at most 65,536 × 256 cells) and .ods have no streaming reader.
            Book::Xls(book) => {
                let range = book.worksheet_range(sheet).map_err(|e| err(e.to_string()))?;
                push_range(&range, &mut rows, &mut on_row)?;
            }
            Book::Ods(book) => {
                let range = book.worksheet_range(sheet).map_err(|e| err(e.to_string()))?;
                push_range(&range, &mut rows, &mut on_row)?;
            }
            Book::Text(text, _) => push_records(text, &mut rows, &mut on_row)?,
        }
        rows.flush(&mut on_row)
    }
}

/// The one sheet of a CSV file: the file's own name, as the reader's messages and the results
/// name it (`fleet.csv`, line 12).
pub(crate) fn csv_sheet_name(file: &str) -> String {
    file.rsplit(['/', '\\']).next().unwrap_or(file).to_owned()
}

/// The file name the CLI gives what it reads from standard input.
pub(crate) const STDIN_SHEET: &str = "<stdin>";

/// A CSV's records as rows: row index = line − 1, every field a cell (empty ones too, so that a
/// row's length is its field count: a line with a field too many or too few is rejected).
fn push_records(
    text: &DelimitedText<'_>,
    rows: &mut RowAssembler<'_>,
    on_row: &mut impl FnMut(u32, &[CellValue]) -> Result<(), WorkbookError>,
) -> Result<(), WorkbookError> {
    let bytes = text.text.as_bytes();
    let lines = crate::csv_text::Lines::new(&text.text);
    let mut reader = crate::csv_text::reader(&text.text, text.delimiter);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_of(bytes, p.byte()));
                return Err(WorkbookError::Invalid {
                    file: rows.file.to_owned(),
                    reason: format!("line {line}: the text cannot be split into fields: {e}"),
                });
            }
        }
        let line = record.position().map_or(0, |p| lines.line_of(bytes, p.byte()));
        if text.skip_first_line && line == 1 {
            continue;
        }
        let row = u32::try_from(line.saturating_sub(1)).unwrap_or(u32::MAX);
        for (col, field) in record.iter().enumerate() {
            let value = if field.trim().is_empty() { CellValue::Empty } else { CellValue::Text(field.to_owned()) };
            rows.push(row, u32::try_from(col).unwrap_or(u32::MAX), value, on_row)?;
        }
    }
}

/// Whether calamine reads this workbook whole rather than streaming it: legacy .xls and any
/// other OLE container, .ods and .xlsb (its shared strings and styles are read at open). These
/// are read in a child process with a memory and time limit (flow::isolate); xlsx and xlsm are
/// bounded as they stream.
pub fn read_whole(bytes: &[u8]) -> bool {
    if !bytes.starts_with(ZIP_MAGIC) {
        return bytes.starts_with(OLE_MAGIC);
    }
    match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(zip) => zip.index_for_name("xl/workbook.xml").is_none(),
        Err(_) => false,
    }
}

/// Refuses an xlsx whose shared-string table is larger than the limits, before calamine loads
/// it whole: the `<si>` entries and inflated bytes of `xl/sharedStrings.xml`, counted as it
/// streams (the zip's declared sizes can lie).
pub(crate) fn check_shared_strings(bytes: &[u8], file: &str, limits: &Limits) -> Result<(), WorkbookError> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return Ok(()) };
    let Ok(entry) = zip.by_name("xl/sharedStrings.xml") else { return Ok(()) };
    let finder = memchr::memmem::Finder::new(b"<si>");
    let (mut strings, mut total) = (0u64, 0u64);
    let mut refused = None;
    // An overlap one byte short of the needle: a `<si>` is never counted twice. A damaged table
    // is left to calamine, which says what is wrong with it when it opens the file.
    let _ = windows(entry, finder.needle().len() - 1, |window, new| {
        total += new as u64;
        strings += finder.find_iter(window).count() as u64;
        refused = if strings > limits.max_shared_strings {
            Some(format!("its shared-string table holds more than {} strings (the limit)", limits.max_shared_strings))
        } else if total > limits.max_shared_string_bytes {
            Some(format!(
                "its shared-string table is more than {} MB inflated (the limit)",
                limits.max_shared_string_bytes >> 20
            ))
        } else {
            None
        };
        if refused.is_some() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    });
    match refused {
        Some(reason) => Err(WorkbookError::TooLarge { file: file.to_owned(), reason }),
        None => Ok(()),
    }
}

/// Streams `entry` through a 64 KiB window, calling `on_window(window, new_bytes)` after each
/// read; each window starts with the last `overlap` bytes of the one before, so a needle up to
/// `overlap + 1` bytes long is found even where it straddles two reads.
fn windows(
    mut entry: impl std::io::Read,
    overlap: usize,
    mut on_window: impl FnMut(&[u8], usize) -> ControlFlow<()>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    loop {
        let n = entry.read(&mut buf[filled..])?;
        if n == 0 {
            return Ok(());
        }
        let end = filled + n;
        if on_window(&buf[..end], n).is_break() {
            return Ok(());
        }
        let tail = end.min(overlap);
        buf.copy_within(end - tail..end, 0);
        filled = tail;
    }
}

/// What a byte search of an xlsx's inflated sheet XML found (a fraction of the cost of parsing
/// it): whether any sheet declares merged cells, and whether a formula may have been saved
/// without its value (`</f></c>`, or `</f><v />` as openpyxl writes it, or a shared formula's
/// `"/></c>`). A formula whose value is an empty string (`t="str"`, `<v></v>`) is a blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SheetScan {
    /// Merged cells (their value is carried into every covered cell).
    pub merged: bool,
    /// Formula cells that may lack a calculated value.
    pub uncalculated: bool,
    /// Some written with an empty `<v />` (openpyxl): calamine reads those as empty text, so
    /// empty text in a formula cell counts as not calculated too.
    pub empty_values: bool,
}

/// Scans every worksheet of an xlsx, streamed in chunks. A file it cannot scan is taken to have
/// both (the careful reading).
pub(crate) fn scan_sheets(bytes: &[u8]) -> SheetScan {
    let both = SheetScan { merged: true, uncalculated: true, empty_values: true };
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return both };
    let merged = memchr::memmem::Finder::new(b"<mergeCell ");
    fn finders(needles: &[&'static [u8]]) -> Vec<memchr::memmem::Finder<'static>> {
        needles.iter().map(|n| memchr::memmem::Finder::new(*n)).collect()
    }
    let uncalculated = finders(&[b"</f></c>", b"\"/></c>"]);
    let empty_values = finders(&[b"</f><v/>", b"</f><v />"]);
    let mut found = SheetScan::default();
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index(i) else { return both };
        if !(entry.name().starts_with("xl/worksheets/") && entry.name().ends_with(".xml")) {
            continue;
        }
        let read = windows(entry, 16, |window, _| {
            found.merged |= merged.find(window).is_some();
            found.empty_values |= empty_values.iter().any(|f| f.find(window).is_some());
            found.uncalculated |= found.empty_values || uncalculated.iter().any(|f| f.find(window).is_some());
            if found == both { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        if read.is_err() || found == both {
            return both;
        }
    }
    found
}

/// The formula cells of a sheet whose value may be missing, and whether empty text counts.
struct Uncalculated<'a> {
    cells: &'a HashSet<(u32, u32)>,
    empty_text: bool,
}

/// Most formula cells looked up per sheet of a file whose formulas may lack values.
const MAX_FORMULA_CELLS: usize = 1_000_000;

/// The positions of a sheet's formula cells (calamine expands shared formulas).
fn formula_cells(
    book: &mut Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    file: &str,
    limits: &Limits,
    err: &impl Fn(String) -> WorkbookError,
) -> Result<HashSet<(u32, u32)>, WorkbookError> {
    let mut reader = book.worksheet_cells_reader(sheet).map_err(|e| err(e.to_string()))?;
    let mut cells = HashSet::new();
    let mut seen: u64 = 0;
    while let Some(cell) = reader.next_formula().map_err(|e| err(e.to_string()))? {
        seen += 1;
        if seen > limits.max_cells {
            return Err(WorkbookError::TooLarge {
                file: file.to_owned(),
                reason: format!("sheet '{sheet}' has more than {} cells", limits.max_cells),
            });
        }
        if !cell.get_value().is_empty() {
            cells.insert(cell.get_position());
            if cells.len() > MAX_FORMULA_CELLS {
                return Err(WorkbookError::TooLarge {
                    file: file.to_owned(),
                    reason: format!(
                        "sheet '{sheet}' has more than {MAX_FORMULA_CELLS} formulas, some saved without their values: open it in Excel or LibreOffice, save it, and upload it again"
                    ),
                });
            }
        }
    }
    Ok(cells)
}

fn push_range(
    range: &calamine::Range<Data>,
    rows: &mut RowAssembler<'_>,
    on_row: &mut impl FnMut(u32, &[CellValue]) -> Result<(), WorkbookError>,
) -> Result<(), WorkbookError> {
    let Some((r0, c0)) = range.start() else { return Ok(()) };
    for (i, row) in range.rows().enumerate() {
        for (j, v) in row.iter().enumerate() {
            if !matches!(v, Data::Empty) {
                rows.push(r0 + i as u32, c0 + j as u32, CellValue::from_data(v), on_row)?;
            }
        }
    }
    Ok(())
}

/// A streaming reader's cells (xlsx, xlsb) through [`pipelined`] into rows.
fn stream_cells<'a, E: std::fmt::Display + Send>(
    mut next_cell: impl FnMut() -> Result<Option<calamine::Cell<calamine::DataRef<'a>>>, E> + Send,
    formulas: &Uncalculated<'_>,
    rows: &mut RowAssembler<'_>,
    on_row: &mut impl FnMut(u32, &[CellValue]) -> Result<(), WorkbookError>,
    err: &impl Fn(String) -> WorkbookError,
) -> Result<(), WorkbookError> {
    pipelined(
        || {
            next_cell().map(|c| {
                c.map(|cell| {
                    let (r, c) = cell.get_position();
                    (r, c, cell.get_value().clone())
                })
            })
        },
        |(r, c, v)| {
            let value = match CellValue::from_data_ref(&v) {
                CellValue::Empty if formulas.cells.contains(&(r, c)) => CellValue::Uncalculated,
                CellValue::Text(t) if t.is_empty() && formulas.empty_text && formulas.cells.contains(&(r, c)) => {
                    CellValue::Uncalculated
                }
                value => value,
            };
            rows.push(r, c, value, on_row)
        },
        err,
    )
}

/// Cells read per message of [`pipelined`].
const CELLS_PER_BATCH: usize = 8192;

/// Reads cells on one thread (inflating and parsing the sheet's XML; a shared string is passed
/// on as a reference to the workbook's table, not copied) while `consume` turns them into rows
/// on this one: the read is about 60 % of a parse, the rows the rest, and a run has the
/// second core idle then. At most two batches wait between the two, so memory stays bounded;
/// when `consume` fails, the reader stops at its next batch.
fn pipelined<T: Send, E: std::fmt::Display + Send>(
    mut next: impl FnMut() -> Result<Option<T>, E> + Send,
    mut consume: impl FnMut(T) -> Result<(), WorkbookError>,
    read_error: impl Fn(String) -> WorkbookError,
) -> Result<(), WorkbookError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<T>, String>>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            loop {
                let (mut batch, mut end) = (Vec::with_capacity(CELLS_PER_BATCH), None);
                while end.is_none() && batch.len() < CELLS_PER_BATCH {
                    match next() {
                        Ok(Some(cell)) => batch.push(cell),
                        Ok(None) => end = Some(Ok(())),
                        Err(e) => end = Some(Err(e.to_string())),
                    }
                }
                if !batch.is_empty() && tx.send(Ok(batch)).is_err() {
                    return;
                }
                match end {
                    None => {}
                    Some(Ok(())) => return,
                    Some(Err(e)) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        // Dropping `rx` on an error ends the reader: its next send fails.
        for message in rx {
            for cell in message.map_err(&read_error)? {
                consume(cell)?;
            }
        }
        Ok(())
    })
}

/// Merged regions of a sheet; the top-left cell's value fills the region.
#[derive(Default)]
struct Merged {
    regions: Vec<(Dimensions, Option<CellValue>)>,
}

impl Merged {
    fn new(mut regions: Vec<Dimensions>) -> Self {
        regions.sort_by_key(|d| d.start);
        Merged { regions: regions.into_iter().map(|d| (d, None)).collect() }
    }

    fn fill(&mut self, row: u32, cells: &mut Vec<CellValue>) {
        for (d, value) in &mut self.regions {
            if d.start.0 > row {
                break;
            }
            if d.end.0 < row {
                continue;
            }
            let (c0, c1) = (d.start.1 as usize, d.end.1 as usize);
            if d.start.0 == row && value.is_none() {
                *value = cells.get(c0).cloned().filter(|v| !v.is_empty());
            }
            if let Some(v) = value {
                if cells.len() <= c1 {
                    cells.resize(c1 + 1, CellValue::Empty);
                }
                for cell in &mut cells[c0..=c1] {
                    if cell.is_empty() {
                        *cell = v.clone();
                    }
                }
            }
        }
    }
}

/// Groups streamed cells into rows and enforces the size limits on real cells.
struct RowAssembler<'l> {
    sheet: &'l str,
    file: &'l str,
    limits: &'l Limits,
    current: Option<u32>,
    cells: Vec<CellValue>,
    merged: Merged,
}

impl<'l> RowAssembler<'l> {
    fn new(sheet: &'l str, file: &'l str, limits: &'l Limits) -> Self {
        RowAssembler { sheet, file, limits, current: None, cells: Vec::new(), merged: Merged::default() }
    }

    fn too_large(&self, reason: String) -> WorkbookError {
        WorkbookError::TooLarge { file: self.file.to_owned(), reason: format!("sheet '{}': {reason}", self.sheet) }
    }

    /// The sheet's claimed used range, checked before any cell is read.
    fn check_claim(&self, d: Dimensions) -> Result<(), WorkbookError> {
        let rows = u64::from(d.end.0.saturating_sub(d.start.0)) + 1;
        let cols = u64::from(d.end.1.saturating_sub(d.start.1)) + 1;
        if rows.saturating_mul(cols) > self.limits.max_cells {
            return Err(self.too_large(format!(
                "its used range claims {rows} rows × {cols} columns, more than the limit of {} cells",
                self.limits.max_cells
            )));
        }
        Ok(())
    }

    fn push(
        &mut self,
        row: u32,
        col: u32,
        value: CellValue,
        on_row: &mut impl FnMut(u32, &[CellValue]) -> Result<(), WorkbookError>,
    ) -> Result<(), WorkbookError> {
        if u64::from(row) >= self.limits.max_rows {
            return Err(self.too_large(format!("it has more than {} rows", self.limits.max_rows)));
        }
        if col >= self.limits.max_columns {
            if value.is_empty() {
                return Ok(());
            }
            return Err(self.too_large(format!(
                "a value in column {} is beyond the limit of {} columns",
                crate::error::column_letter(col),
                self.limits.max_columns
            )));
        }
        if self.current != Some(row) {
            self.flush(on_row)?;
            self.current = Some(row);
        }
        let c = col as usize;
        if self.cells.len() <= c {
            self.cells.resize(c + 1, CellValue::Empty);
        }
        self.cells[c] = value;
        Ok(())
    }

    fn flush(
        &mut self,
        on_row: &mut impl FnMut(u32, &[CellValue]) -> Result<(), WorkbookError>,
    ) -> Result<(), WorkbookError> {
        if let Some(row) = self.current.take() {
            self.merged.fill(row, &mut self.cells);
            on_row(row, &self.cells)?;
            self.cells.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn too_large(n: usize) -> WorkbookError {
        WorkbookError::TooLarge { file: "f.xlsx".into(), reason: format!("stop at {n}") }
    }

    /// Every cell arrives once, in order, across batches; a reader error arrives after the cells
    /// read before it; a failing consumer stops the reader within the two batches in flight.
    #[test]
    fn the_pipeline_keeps_order_errors_and_bounds() {
        let total = 3 * CELLS_PER_BATCH + 17;
        let mut n = 0;
        let mut seen = Vec::new();
        let read_error = |e: String| WorkbookError::Invalid { file: "f.xlsx".into(), reason: e };
        pipelined(
            || -> Result<Option<usize>, String> {
                n += 1;
                Ok((n <= total).then_some(n))
            },
            |v| {
                seen.push(v);
                Ok(())
            },
            read_error,
        )
        .unwrap();
        assert_eq!(seen, (1..=total).collect::<Vec<_>>());

        let (mut n, mut got) = (0, 0);
        let e = pipelined(
            || {
                n += 1;
                if n > 10 { Err("corrupt XML at cell 11") } else { Ok(Some(n)) }
            },
            |_| {
                got += 1;
                Ok(())
            },
            read_error,
        )
        .unwrap_err();
        assert_eq!((got, e.to_string().contains("corrupt XML at cell 11")), (10, true), "{e}");

        let produced = AtomicUsize::new(0);
        let e = pipelined(
            || -> Result<Option<usize>, String> { Ok(Some(produced.fetch_add(1, Ordering::SeqCst))) },
            |v| if v == 5 { Err(too_large(v)) } else { Ok(()) },
            read_error,
        )
        .unwrap_err();
        assert!(e.to_string().contains("stop at 5"), "{e}");
        // The batch being consumed, two in the channel, one being filled when the send fails.
        assert!(produced.load(Ordering::SeqCst) <= 4 * CELLS_PER_BATCH + 1, "{}", produced.load(Ordering::SeqCst));
    }
}
