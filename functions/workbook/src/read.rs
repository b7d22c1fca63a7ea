//! Workbook → asset items + row errors: layout and header detection, cell validation, the join
//! of samples to assets, and the conservation counts.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use dga::{DgaSample, Gas};
use serde::Serialize;

use crate::cells::{self, CellValue, DateCell, DayMonthOrder, GasCell};
use crate::error::{RowError, WorkbookError, column_letter};
use crate::headers::{Field, gas_unit_factor, header_score, recognise};
use crate::item::{AssetItem, Breathing, ITEM_SCHEMA_VERSION, ItemSample, RejectedSample, SourceRow};
use crate::numbers::{self, DecimalMark, NumberText};
use crate::source::Book;

/// Guards against hostile or accidental monsters, and the item size bound.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest file accepted, bytes (200 MiB).
    pub max_file_bytes: u64,
    /// Rows per sheet (Excel's own maximum is 1,048,576).
    pub max_rows: u64,
    /// Columns per sheet.
    pub max_columns: u32,
    /// The largest used range a sheet may claim before any cell is read (rows × columns).
    pub max_cells: u64,
    /// Most recent samples kept per asset item; older ones are counted in `samples_omitted`.
    /// 6 suffice for the IEEE rate; the default keeps a generous history.
    pub max_samples_per_item: usize,
    /// Rows searched for the header.
    pub header_search_rows: u32,
    /// Strings in an xlsx's shared-string table (calamine holds them all, about 60 bytes each
    /// beyond their text): counted before the workbook is opened.
    pub max_shared_strings: u64,
    /// Inflated bytes of that table, counted the same way.
    pub max_shared_string_bytes: u64,
    /// The address space of the child process that reads the formats calamine reads whole
    /// (xls, ods, xlsb, OLE): an allocation beyond it stops the child, not the step.
    pub reader_memory_bytes: u64,
    /// How long that child may take, seconds.
    pub reader_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 200 * 1024 * 1024,
            max_rows: 1_048_576,
            max_columns: 512,
            max_cells: 50_000_000,
            max_samples_per_item: 120,
            header_search_rows: 30,
            max_shared_strings: 5_000_000,
            max_shared_string_bytes: 256 * 1024 * 1024,
            reader_memory_bytes: 600 * 1024 * 1024,
            reader_seconds: 20,
        }
    }
}

/// The layout found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One row per sample, asset columns repeated.
    OneSheet,
    /// Assets on one sheet, samples on another, joined by asset id.
    TwoSheet,
}

/// The conservation counts: `rows_read = samples_accepted + rows_rejected + rows_skipped` over
/// the sample sheets; asset-sheet rows are counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Rows read on the sample sheets, blank rows included.
    pub rows_read: u64,
    /// Rows accepted as samples and joined to an asset.
    pub samples_accepted: u64,
    /// Sample rows rejected (see `ParsedWorkbook::rejected`).
    pub rows_rejected: u64,
    /// Blank rows and trailing Total/Average rows.
    pub rows_skipped: u64,
    /// Non-blank rows read on the assets sheet.
    pub asset_rows_read: u64,
    /// Asset rows rejected: no id, or a duplicate id.
    pub asset_rows_rejected: u64,
    /// Asset items produced: the assets with at least one sample.
    pub assets: u64,
}

/// A column of a sample sheet whose header names nothing known: its values are not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IgnoredColumn {
    /// The sheet's name.
    pub sheet: String,
    /// The column letter (`C`).
    pub column: String,
    /// The header as written.
    pub header: String,
}

/// What [`read_workbook`] found: the asset items, the rejected rows, the counts and the warnings.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ParsedWorkbook {
    /// One sheet or two.
    pub layout: Layout,
    /// One item per asset with at least one sample.
    pub assets: Vec<AssetItem>,
    /// Every rejected row, ordered by sheet and row.
    pub rejected: Vec<RowError>,
    /// The conservation counts.
    pub counts: Counts,
    /// Columns of the sample sheets that were not recognised.
    pub ignored_columns: Vec<IgnoredColumn>,
    /// What the engineer should know that rejected no row: ignored sheets, unreadable asset
    /// attributes, assets without samples.
    pub warnings: Vec<String>,
    /// The assets sheets' names (two-sheet layout), for the reason of an unlisted asset's rows.
    #[serde(default)]
    pub asset_sheets: Vec<String>,
}

impl ParsedWorkbook {
    /// Rejects the samples of every unlisted asset (two-sheet layout: its id is not on the
    /// assets sheet) that `known` does not know (the history of earlier uploads, or nothing):
    /// each of its rows becomes a rejected row, and the counts move with them. Known ones stay,
    /// marked [`AssetItem::unlisted`], for the diagnose step to complete from the history.
    pub fn reject_unlisted(&mut self, known: impl Fn(&str) -> bool) {
        let sheets = &self.asset_sheets;
        let mut kept = Vec::with_capacity(self.assets.len());
        for item in std::mem::take(&mut self.assets) {
            if !item.unlisted || known(&item.asset_id) {
                kept.push(item);
                continue;
            }
            let reason = format!(
                "sample without asset: '{}' is not on the assets sheet{} '{}'",
                item.asset_id,
                if sheets.len() > 1 { "s" } else { "" },
                sheets.join("', '")
            );
            self.counts.assets -= 1;
            let n = item.samples.len() as u64;
            self.counts.samples_accepted -= n;
            self.counts.rows_rejected += n;
            self.rejected.extend(item.rejected_rows(&reason));
        }
        self.assets = kept;
        RowError::sort(&mut self.rejected);
    }

    /// The ids of the unlisted assets (see [`ParsedWorkbook::reject_unlisted`]).
    pub fn unlisted_ids(&self) -> Vec<&str> {
        self.assets.iter().filter(|a| a.unlisted).map(|a| a.asset_id.as_str()).collect()
    }
}

/// Reads a workbook. `file` names it in messages only; the format is sniffed from `bytes`.
/// Samples of an asset that the assets sheet does not list are rejected rows.
///
/// A panic inside the readers (calamine on a damaged file) is `WorkbookInvalid`, "the file is
/// damaged", never a crashed step: the read is a pure function of the bytes, so nothing is left
/// half done.
pub fn read_workbook(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedWorkbook, WorkbookError> {
    let mut parsed = read_workbook_keeping_unlisted(bytes, file, limits)?;
    parsed.reject_unlisted(|_| false);
    Ok(parsed)
}

/// Reads a workbook as [`read_workbook`] does, but keeps the samples of assets the assets sheet
/// does not list, as items marked [`AssetItem::unlisted`]: a history of earlier uploads may know
/// them ([`ParsedWorkbook::reject_unlisted`] decides).
pub fn read_workbook_keeping_unlisted(
    bytes: &[u8],
    file: &str,
    limits: &Limits,
) -> Result<ParsedWorkbook, WorkbookError> {
    damaged_on_panic(file, || read_unguarded(bytes, file, limits))
}

/// Runs the read, turning a panic inside it into `WorkbookInvalid` "the file is damaged".
fn damaged_on_panic<T>(file: &str, read: impl FnOnce() -> Result<T, WorkbookError>) -> Result<T, WorkbookError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(read) => read,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(WorkbookError::Invalid {
                file: file.to_owned(),
                reason: crate::error::quote(format!(
                    "the file is damaged: the spreadsheet reader failed on it ({what}); open it in Excel or LibreOffice and save it again"
                )),
            })
        }
    }
}

#[cfg(test)]
mod panic_tests {
    use super::*;

    #[test]
    fn a_panic_inside_the_reader_is_a_damaged_file() {
        let r: Result<(), _> =
            damaged_on_panic("f.xls", || panic!("index out of bounds: the len is 3 but the index is 7"));
        let Err(WorkbookError::Invalid { file, reason }) = r else { panic!("{r:?}") };
        assert_eq!(file, "f.xls");
        assert!(
            reason.starts_with("the file is damaged: the spreadsheet reader failed on it (index out of bounds"),
            "{reason}"
        );
        assert_eq!(damaged_on_panic("f.xls", || Ok::<_, WorkbookError>(7)).unwrap(), 7);
    }
}

fn read_unguarded(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedWorkbook, WorkbookError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(WorkbookError::TooLarge {
            file: file.to_owned(),
            reason: format!("the file is {} bytes, more than the limit of {}", bytes.len(), limits.max_file_bytes),
        });
    }
    if !bytes.starts_with(crate::source::ZIP_MAGIC) {
        return read_book(bytes, file, limits, None);
    }
    crate::source::check_shared_strings(bytes, file, limits)?;
    // Whether an xlsx has merged cells, or formulas saved without values, takes a pass over its
    // inflated XML. It runs on another core while the workbook is read as if it had neither;
    // the rare workbook that has one is read again, with them. (The read is a pure function of
    // the bytes: nothing to undo.)
    std::thread::scope(|s| {
        let scan = s.spawn(|| crate::source::scan_sheets(bytes));
        let first = read_book(bytes, file, limits, Some(crate::source::SheetScan::default()));
        match scan.join() {
            Ok(found) if found == crate::source::SheetScan::default() => first,
            Ok(found) => read_book(bytes, file, limits, Some(found)),
            Err(_) => read_book(bytes, file, limits, None),
        }
    })
}

fn read_book(
    bytes: &[u8],
    file: &str,
    limits: &Limits,
    scan: Option<crate::source::SheetScan>,
) -> Result<ParsedWorkbook, WorkbookError> {
    let mut book = Book::open(bytes, file, scan, limits)?;
    let mut collector = Collector::new(file, limits);
    if let Book::Text(text, _) = &book {
        collector.text = Some(TextSource {
            encoding: text.encoding,
            separator: text.delimiter_name(),
            decimal_hint: text.decimal_hint(),
        });
    }
    for sheet in book.sheet_names() {
        let mut state = SheetState::new(&sheet, limits);
        book.for_each_row(&sheet, file, limits, |row, cells| state.row(row, cells, &mut collector))?;
        state.finish(&mut collector)?;
    }
    collector.finish()
}

#[derive(Debug, Clone)]
struct Column {
    index: usize,
    field: Field,
    header: String,
    gas_factor: f64,
    unit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SheetKind {
    Samples,
    Assets,
}

#[derive(Debug)]
struct Header {
    kind: SheetKind,
    columns: Vec<Column>,
    /// Unrecognised columns: (index, header).
    extra: Vec<(usize, String)>,
    /// The header row's cells (a CSV line's fields): a CSV line with more or fewer is rejected.
    width: usize,
    /// No asset id column: each row is its own transformer.
    anonymous: bool,
}

/// Where a CSV file's text came from, for messages and the decimal mark.
struct TextSource {
    encoding: &'static str,
    separator: String,
    decimal_hint: Option<(DecimalMark, String)>,
}

/// The first cell that showed something about how a column writes numbers or dates.
#[derive(Debug, Clone)]
struct Example {
    row: u32,
    text: String,
}

/// What a sample sheet's cells showed, per column: the decimal marks and day/month orders
/// that only one reading allows (`12,5`; `17/05/2023`), which decide the cells that allow two.
#[derive(Debug, Default)]
struct ColumnEvidence {
    point: Option<Example>,
    comma: Option<Example>,
    day_first: Option<Example>,
    month_first: Option<Example>,
}

#[derive(Debug, Default)]
struct Evidence {
    columns: BTreeMap<usize, ColumnEvidence>,
    /// Columns whose two-reading cells were decided, said once each in the warnings.
    warned: std::collections::BTreeSet<usize>,
}

fn example(slot: &mut Option<Example>, row: u32, text: &str) {
    if slot.is_none() {
        *slot = Some(Example { row, text: crate::error::quote(text.trim().to_owned()) });
    }
}

impl Evidence {
    /// Notes what a row's text cells show; true when one of them has two readings (the row
    /// then waits for the sheet's end, when the whole column is known).
    fn scan(&mut self, header: &Header, row: u32, cells: &[CellValue]) -> bool {
        let mut two_readings = false;
        for col in &header.columns {
            // No number or date is longer than 64 characters (the cell is rejected as text): a
            // long text reused in many cells is not walked for evidence.
            let Some(CellValue::Text(t)) =
                cells.get(col.index).filter(|c| matches!(c, CellValue::Text(t) if t.len() <= 64))
            else {
                continue;
            };
            match col.field {
                Field::Gas(_) if t.contains(['.', ',']) => match numbers::parse(t.trim().trim_start_matches('<')) {
                    Some(NumberText::Sure { mark: Some(mark), .. }) => {
                        let e = self.columns.entry(col.index).or_default();
                        let slot = if mark == DecimalMark::Point { &mut e.point } else { &mut e.comma };
                        example(slot, row, t);
                    }
                    Some(NumberText::Either { .. }) => two_readings = true,
                    _ => {}
                },
                Field::SampledOn if t.contains(['/', '-']) => match cells::date_text(t) {
                    Ok(DateCell::Sure(_, Some(order))) => {
                        let e = self.columns.entry(col.index).or_default();
                        let slot = if order == DayMonthOrder::DayFirst { &mut e.day_first } else { &mut e.month_first };
                        example(slot, row, t);
                    }
                    Ok(DateCell::Either { .. }) => two_readings = true,
                    _ => {}
                },
                _ => {}
            }
        }
        two_readings
    }

    /// The decimal mark of column `index`: its own cells', else the sheet's other columns', else
    /// the CSV separator's; `Err` says why none can be told.
    fn decimal_mark(
        &self,
        index: usize,
        hint: Option<&(DecimalMark, String)>,
        rows: &str,
    ) -> Result<(DecimalMark, String), String> {
        let shown = |e: &Example| format!("{rows} {}: '{}'", e.row, e.text);
        let of = |point: Option<&Example>, comma: Option<&Example>, whose: &str| match (point, comma) {
            (Some(p), Some(c)) => Some(Err(format!(
                "{whose} write decimals both with a point ({}) and with a comma ({})",
                shown(p),
                shown(c)
            ))),
            (Some(p), None) => {
                Some(Ok((DecimalMark::Point, format!("{whose} write decimals with a point ({})", shown(p)))))
            }
            (None, Some(c)) => {
                Some(Ok((DecimalMark::Comma, format!("{whose} write decimals with a comma ({})", shown(c)))))
            }
            (None, None) => None,
        };
        let own = self.columns.get(&index);
        if let Some(decided) =
            of(own.and_then(|e| e.point.as_ref()), own.and_then(|e| e.comma.as_ref()), "the column's other cells")
        {
            return decided;
        }
        let others = || self.columns.iter().filter(|(i, _)| **i != index).map(|(_, e)| e);
        let point = others().find_map(|e| e.point.as_ref());
        let comma = others().find_map(|e| e.comma.as_ref());
        if let Some(decided) = of(point, comma, "the other gas columns") {
            return decided;
        }
        match hint {
            Some((mark, why)) => Ok((*mark, why.clone())),
            None => Err("nothing else in the file shows which".to_owned()),
        }
    }

    /// The day/month order of column `index`, from its own dates.
    fn day_order(&self, index: usize, rows: &str) -> Result<(DayMonthOrder, String), String> {
        let shown = |e: &Example| format!("{rows} {}: '{}'", e.row, e.text);
        let own = self.columns.get(&index);
        match (own.and_then(|e| e.day_first.as_ref()), own.and_then(|e| e.month_first.as_ref())) {
            (Some(d), Some(m)) => {
                Err(format!("the column has both day-first ({}) and month-first ({}) dates", shown(d), shown(m)))
            }
            (Some(d), None) => {
                Ok((DayMonthOrder::DayFirst, format!("the column's other dates are day-first ({})", shown(d))))
            }
            (None, Some(m)) => {
                Ok((DayMonthOrder::MonthFirst, format!("the column's other dates are month-first ({})", shown(m))))
            }
            (None, None) => {
                Err("no other date in the column shows whether the day or the month comes first".to_owned())
            }
        }
    }
}

/// A sheet's rows: buffered until the header is found, then processed as they stream.
struct SheetState<'a> {
    sheet: &'a str,
    limits: &'a Limits,
    buffered: Vec<(u32, Vec<CellValue>)>,
    header: Option<Header>,
    decided: bool,
    last_row: Option<u32>,
    evidence: Evidence,
    /// Sample rows with a cell of two readings, read once the sheet's evidence is complete.
    waiting: Vec<(u32, Vec<CellValue>)>,
    /// No header in the rows searched: later rows are looked at for gas names, to say where.
    looking_further: bool,
}

/// Rows looked at beyond the header search for gas names, to say where a header may be.
const FURTHER_ROWS: u32 = 1000;

impl<'a> SheetState<'a> {
    fn new(sheet: &'a str, limits: &'a Limits) -> Self {
        SheetState {
            sheet,
            limits,
            buffered: Vec::new(),
            header: None,
            decided: false,
            last_row: None,
            evidence: Evidence::default(),
            waiting: Vec::new(),
            looking_further: false,
        }
    }

    fn row(&mut self, row: u32, cells: &[CellValue], c: &mut Collector) -> Result<(), WorkbookError> {
        if self.decided {
            if self.looking_further {
                self.look_further(row, cells, c);
            }
            return self.process(row, cells, c);
        }
        self.buffered.push((row, cells.to_vec()));
        if row >= self.limits.header_search_rows {
            self.decide(c)?;
        }
        Ok(())
    }

    fn finish(&mut self, c: &mut Collector) -> Result<(), WorkbookError> {
        if !self.decided {
            self.decide(c)?;
        }
        let Some(header) = &self.header else { return Ok(()) };
        if !self.waiting.is_empty() {
            c.deferred_rows = true;
        }
        for (row, cells) in std::mem::take(&mut self.waiting) {
            c.sample_row(self.sheet, row + 1, header, &cells, &mut self.evidence);
        }
        Ok(())
    }

    /// A row with three gas names, beyond the rows searched for the header, is remembered for
    /// the message that no header was found.
    fn look_further(&mut self, row: u32, cells: &[CellValue], c: &mut Collector) {
        if row >= self.limits.header_search_rows.saturating_add(FURTHER_ROWS) {
            self.looking_further = false;
            return;
        }
        let texts: Vec<String> = cells.iter().filter_map(CellValue::as_text).collect();
        if crate::headers::gas_columns(&texts) >= 3 {
            self.looking_further = false;
            c.further_header.get_or_insert((self.sheet.to_owned(), row + 1));
        }
    }

    /// Picks the header row by how well its cells name the known columns, then replays the rows
    /// buffered after it.
    fn decide(&mut self, c: &mut Collector) -> Result<(), WorkbookError> {
        self.decided = true;
        let buffered = std::mem::take(&mut self.buffered);
        let best = buffered
            .iter()
            .filter(|(row, _)| *row < self.limits.header_search_rows)
            .map(|(row, cells)| {
                let texts: Vec<String> = cells.iter().map(|v| v.as_text().unwrap_or_default()).collect();
                (header_score(&texts), *row, texts)
            })
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let Some((_, header_row, texts)) = best.filter(|b| b.0 > 0) else {
            c.warnings.push(format!("sheet '{}' ignored: no row names the DGA or asset columns", self.sheet));
            self.looking_further = true;
            for (row, cells) in &buffered {
                if self.looking_further && *row >= self.limits.header_search_rows {
                    self.look_further(*row, cells, c);
                }
            }
            return Ok(());
        };
        let header = c.header(self.sheet, header_row, &texts)?;
        let Some(header) = header else {
            self.looking_further = true;
            return Ok(());
        };
        self.header = Some(header);
        for (row, cells) in buffered {
            if row > header_row {
                self.process(row, &cells, c)?;
            }
        }
        Ok(())
    }

    fn process(&mut self, row: u32, cells: &[CellValue], c: &mut Collector) -> Result<(), WorkbookError> {
        let Some(header) = &self.header else { return Ok(()) };
        // Rows with no cell at all between two data rows are blank rows.
        let gap = self.last_row.map_or(0, |last| row.saturating_sub(last + 1));
        self.last_row = Some(row);
        match header.kind {
            SheetKind::Samples => {
                c.counts.rows_read += u64::from(gap);
                c.counts.rows_skipped += u64::from(gap);
                if self.evidence.scan(header, row + 1, cells) {
                    self.waiting.push((row, cells.to_vec()));
                } else {
                    c.sample_row(self.sheet, row + 1, header, cells, &mut self.evidence);
                }
            }
            SheetKind::Assets => c.asset_row(self.sheet, row + 1, header, cells),
        }
        Ok(())
    }
}

/// Asset fields parsed from one row.
#[derive(Debug, Clone, Default)]
struct AssetFields {
    id: Option<String>,
    name: Option<String>,
    substation: Option<String>,
    manufacture_year: Option<i32>,
    commissioning_year: Option<i32>,
    age_years: Option<f64>,
    rated_mva: Option<f64>,
    voltage_kv: Option<f64>,
    oil_type: Option<String>,
    breathing: Option<Breathing>,
    oltc_communicating: Option<bool>,
    attributes: BTreeMap<String, String>,
}

impl AssetFields {
    /// True when no field but the id is known.
    fn nothing_but_the_id(&self) -> bool {
        self.name.is_none()
            && self.substation.is_none()
            && self.manufacture_year.is_none()
            && self.commissioning_year.is_none()
            && self.age_years.is_none()
            && self.rated_mva.is_none()
            && self.voltage_kv.is_none()
            && self.oil_type.is_none()
            && self.breathing.is_none()
            && self.oltc_communicating.is_none()
            && self.attributes.is_empty()
    }

    /// Fills what `other` knows and `self` does not.
    fn merge_missing(&mut self, other: &AssetFields) {
        macro_rules! fill {
            ($($f:ident),*) => {$( if self.$f.is_none() { self.$f = other.$f.clone(); } )*};
        }
        fill!(
            id,
            name,
            substation,
            manufacture_year,
            commissioning_year,
            age_years,
            rated_mva,
            voltage_kv,
            oil_type,
            breathing,
            oltc_communicating
        );
        for (k, v) in &other.attributes {
            self.attributes.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

struct SampleRow {
    sheet: String,
    row: u32,
    asset_id: String,
    sample: DgaSample,
}

/// Rows kept in fixed-size chunks: a million sample rows are never reallocated and copied (a
/// doubling `Vec` touches about twice the memory it keeps; the profile of a 10k-asset run showed
/// that as a tenth of the parse in page zeroing).
struct Chunks<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks { chunks: Vec::new() }
    }
}

impl<T> Chunks<T> {
    const CHUNK: usize = 4096;

    fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < Self::CHUNK => c.push(value),
            _ => {
                let mut c = Vec::with_capacity(Self::CHUNK);
                c.push(value);
                self.chunks.push(c);
            }
        }
    }

    fn into_iter(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

struct AssetRow {
    sheet: String,
    row: u32,
    fields: AssetFields,
}

struct Collector<'a> {
    file: &'a str,
    limits: &'a Limits,
    counts: Counts,
    rejected: Vec<RowError>,
    warnings: Vec<String>,
    ignored: Vec<IgnoredColumn>,
    samples: Chunks<SampleRow>,
    /// Sample rows rejected for a cell, with the asset and date where they could be read: they
    /// warn the asset's diagnosis when they may be newer than what it rests on.
    rejected_samples: Vec<(String, RejectedSample)>,
    asset_rows: Chunks<AssetRow>,
    sample_sheets: usize,
    asset_sheets: Vec<String>,
    has_dates: bool,
    /// A CSV file's encoding and separator.
    text: Option<TextSource>,
    /// Where gas names appear below the rows searched for a header (sheet, row).
    further_header: Option<(String, u32)>,
    /// A header that names one or two gases only: (sheet, row, the required gases it lacks).
    partial_header: Option<(String, u32, String)>,
    /// The sheets in the order read, for joining samples in row order.
    sheet_order: Vec<String>,
    /// Sample rows read at their sheet's end (a cell with two readings): undated samples are put
    /// back in row order.
    deferred_rows: bool,
    /// The ids made for the rows of a sheet without an asset id column.
    anonymous_ids: std::collections::HashSet<String>,
    /// The first samples sheet without an asset id column.
    anonymous_sheet: Option<String>,
    /// The asset columns of one-sheet sample rows, merged per asset id (first value wins).
    row_fields: HashMap<String, AssetFields>,
}

const SKIP_WORDS: [&str; 12] =
    ["total", "totals", "average", "avg", "mean", "sum", "min", "max", "std", "합계", "평균", "계"];

impl<'a> Collector<'a> {
    fn new(file: &'a str, limits: &'a Limits) -> Self {
        Collector {
            file,
            limits,
            counts: Counts::default(),
            rejected: Vec::new(),
            rejected_samples: Vec::new(),
            warnings: Vec::new(),
            ignored: Vec::new(),
            samples: Chunks::default(),
            asset_rows: Chunks::default(),
            sample_sheets: 0,
            asset_sheets: Vec::new(),
            has_dates: true,
            text: None,
            further_header: None,
            partial_header: None,
            sheet_order: Vec::new(),
            deferred_rows: false,
            anonymous_ids: Default::default(),
            anonymous_sheet: None,
            row_fields: HashMap::new(),
        }
    }

    /// "row" in a workbook, "line" in a CSV file.
    fn rows_word(&self) -> &'static str {
        if self.text.is_some() { "line" } else { "row" }
    }

    /// Where a row is, in messages: `sheet 'Samples', row 5`, or `line 5` of a CSV file.
    fn place(&self, sheet: &str, row: u32) -> String {
        if self.text.is_some() { format!("line {row}") } else { format!("sheet '{sheet}', row {row}") }
    }

    fn invalid(&self, reason: String) -> WorkbookError {
        WorkbookError::Invalid { file: self.file.to_owned(), reason }
    }

    /// Turns a header row into columns, or decides the sheet holds neither samples nor assets.
    fn header(&mut self, sheet: &str, row: u32, texts: &[String]) -> Result<Option<Header>, WorkbookError> {
        let mut columns: Vec<Column> = Vec::new();
        let mut extra = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let Some((field, unit)) = recognise(text) else {
                extra.push((index, text.to_owned()));
                continue;
            };
            if let Some(first) = columns.iter().find(|c| c.field == field) {
                if field.is_asset_field() && field != Field::AssetId {
                    extra.push((index, text.to_owned()));
                    continue;
                }
                return Err(self.invalid(format!(
                    "sheet '{sheet}', row {}: columns {} '{}' and {} '{text}' both hold {}",
                    row + 1,
                    column_letter(first.index as u32),
                    first.header,
                    column_letter(index as u32),
                    field.canonical()
                )));
            }
            let gas_factor = match field {
                Field::Gas(_) => gas_unit_factor(unit.as_deref()).map_err(|e| {
                    self.invalid(format!("sheet '{sheet}', column {} '{text}': {e}", column_letter(index as u32)))
                })?,
                _ => 1.0,
            };
            columns.push(Column { index, field, header: text.to_owned(), gas_factor, unit });
        }
        let gases = columns.iter().filter(|c| matches!(c.field, Field::Gas(_))).count();
        let has = |f: Field| columns.iter().any(|c| c.field == f);
        let kind = if gases >= 3 {
            let missing: Vec<&str> =
                Gas::REQUIRED.iter().filter(|g| !has(Field::Gas(**g))).map(|g| g.symbol()).collect();
            if !missing.is_empty() {
                return Err(self.invalid(format!(
                    "sheet '{sheet}', row {}: the header has no column for {} (required: H2, CH4, C2H6, C2H4, C2H2)",
                    row + 1,
                    missing.join(", ")
                )));
            }
            if !has(Field::AssetId) && !has(Field::AssetName) {
                self.warnings.push(format!(
                    "{} has no asset id column (e.g. 'Asset ID'): each row is diagnosed as a transformer of its own, named by its {}, and kept in no history",
                    if self.text.is_some() { "the file".to_owned() } else { format!("sheet '{sheet}'") },
                    self.rows_word()
                ));
            }
            if !has(Field::SampledOn) {
                self.has_dates = false;
                self.warnings.push(format!(
                    "sheet '{sheet}' has no sample-date column: samples are taken in row order and no rates are computed"
                ));
            }
            self.sample_sheets += 1;
            SheetKind::Samples
        } else if gases == 0 && (has(Field::AssetId) || has(Field::AssetName)) && columns.len() >= 2 {
            self.asset_sheets.push(sheet.to_owned());
            SheetKind::Assets
        } else {
            self.warnings.push(format!("sheet '{sheet}' ignored: its header names neither the gases nor the assets"));
            // One or two gases named: said if no sheet turns out to have the samples.
            if gases > 0 && self.partial_header.is_none() {
                let missing: Vec<&str> =
                    Gas::REQUIRED.iter().filter(|g| !has(Field::Gas(**g))).map(|g| g.symbol()).collect();
                self.partial_header = Some((sheet.to_owned(), row + 1, missing.join(", ")));
            }
            return Ok(None);
        };
        if kind == SheetKind::Samples {
            for (index, header) in &extra {
                self.ignored.push(IgnoredColumn {
                    sheet: sheet.to_owned(),
                    column: column_letter(*index as u32),
                    header: header.clone(),
                });
            }
        }
        let anonymous = kind == SheetKind::Samples && !has(Field::AssetId) && !has(Field::AssetName);
        if anonymous && self.anonymous_sheet.is_none() {
            self.anonymous_sheet = Some(sheet.to_owned());
        }
        if kind == SheetKind::Samples {
            self.sheet_order.push(sheet.to_owned());
        }
        Ok(Some(Header { kind, columns, extra, width: texts.len(), anonymous }))
    }

    fn reject(&mut self, sheet: &str, row: u32, column: Option<&Column>, value: Option<String>, reason: String) {
        self.rejected.push(RowError {
            sheet: sheet.to_owned(),
            row,
            column: column.map(|c| c.header.clone()),
            column_letter: column.map(|c| column_letter(c.index as u32)),
            value: value.map(crate::error::quote),
            reason: crate::error::quote(reason),
        });
    }

    /// Asset fields of a row; a bad attribute is a warning, never a lost sample.
    fn asset_fields(
        &mut self,
        sheet: &str,
        row: u32,
        header: &Header,
        cells: &[CellValue],
        keep_extra: bool,
    ) -> AssetFields {
        let mut f = AssetFields::default();
        let empty = CellValue::Empty;
        // `1.250` in an asset column: the CSV separator decides, else it is a warning.
        let mark = self.text.as_ref().and_then(|t| t.decimal_hint.as_ref()).map(|(m, _)| *m);
        for col in &header.columns {
            let cell = cells.get(col.index).unwrap_or(&empty);
            if cell.is_empty() {
                continue;
            }
            let place = self.place(sheet, row);
            let mut warn = |what: String| {
                if self.warnings.len() < 200 {
                    self.warnings.push(format!(
                        "{place}, column {} '{}': '{}' {what}; ignored",
                        column_letter(col.index as u32),
                        col.header,
                        cell.display()
                    ));
                }
            };
            match col.field {
                Field::AssetId => f.id = cell.as_text(),
                Field::AssetName => f.name = cell.as_text(),
                Field::Substation => f.substation = cell.as_text(),
                Field::OilType => f.oil_type = cell.as_text(),
                Field::ManufactureYear => match cells::year(cell) {
                    Ok(y) => f.manufacture_year = y,
                    Err(e) => warn(e),
                },
                Field::CommissioningYear => match cells::year(cell) {
                    Ok(y) => f.commissioning_year = y,
                    Err(e) => warn(e),
                },
                Field::AgeYears => match cells::number(cell, mark) {
                    Ok(a) if a.is_none_or(|a| (0.0..=150.0).contains(&a)) => f.age_years = a,
                    _ => warn("is not an age in years".into()),
                },
                Field::RatedMva => match cells::number(cell, mark) {
                    Ok(v) => {
                        let kva = col.unit.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("kva"));
                        f.rated_mva = v.map(|v| if kva { v / 1000.0 } else { v });
                    }
                    Err(e) => warn(e),
                },
                Field::VoltageKv => match cells::number(cell, mark) {
                    Ok(v) => {
                        let volts = col.unit.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("v"));
                        f.voltage_kv = v.map(|v| if volts { v / 1000.0 } else { v });
                    }
                    Err(e) => warn(e),
                },
                Field::Breathing => match cell.as_text().as_deref().and_then(Breathing::parse) {
                    Some(b) => f.breathing = Some(b),
                    None => warn("is neither sealed nor free-breathing".into()),
                },
                Field::Oltc => {
                    let t = cell.display().trim().to_lowercase();
                    f.oltc_communicating = match t.as_str() {
                        "yes" | "y" | "true" | "1" | "communicating" | "예" => Some(true),
                        "no" | "n" | "false" | "0" | "separate" | "아니오" => Some(false),
                        _ => {
                            warn("is not yes/no".into());
                            None
                        }
                    };
                }
                Field::Gas(_) | Field::SampledOn => {}
            }
        }
        if keep_extra {
            for (index, name) in &header.extra {
                if let Some(v) = cells.get(*index).and_then(CellValue::as_text) {
                    // Long free text would bloat the item: keep attributes short.
                    let v: String = v.chars().take(200).collect();
                    f.attributes.insert(name.clone(), v);
                }
            }
        }
        f
    }

    /// Says, once per column, how a cell of two readings was read and what decided it.
    #[allow(clippy::too_many_arguments)]
    fn decided(
        &mut self,
        evidence: &mut Evidence,
        sheet: &str,
        row: u32,
        col: &Column,
        cell: &CellValue,
        read_as: &dyn std::fmt::Display,
        why: &str,
    ) {
        if evidence.warned.insert(col.index) {
            self.warnings.push(format!(
                "{}, column {} '{}': '{}' read as {read_as}: {why}",
                self.place(sheet, row),
                column_letter(col.index as u32),
                col.header,
                cell.display().trim()
            ));
        }
    }

    fn sample_row(&mut self, sheet: &str, row: u32, header: &Header, cells: &[CellValue], evidence: &mut Evidence) {
        self.counts.rows_read += 1;
        if cells.iter().all(CellValue::is_empty) {
            self.counts.rows_skipped += 1;
            return;
        }
        // Trailing "Total"/"Average" rows are summaries, not samples.
        let first_texts = cells.iter().filter(|c| !c.is_empty()).take(2).filter_map(|c| match c {
            CellValue::Text(t) => Some(t.trim().trim_end_matches(':').to_lowercase()),
            _ => None,
        });
        if first_texts.into_iter().any(|t| SKIP_WORDS.contains(&t.as_str())) {
            self.counts.rows_skipped += 1;
            return;
        }
        // A CSV line whose values are not all under their headers: values beyond the header (an
        // unquoted decimal comma shifts every value after it), or a line that ends before a gas
        // or date column (cut short: its missing gases would read as not detected).
        if self.text.is_some() {
            // Even an empty field beyond the header: `T1,1,5,2,3,4,` is H2 1,5 and C2H2 blank.
            let beyond = cells.len() > header.width;
            let short = header
                .columns
                .iter()
                .any(|c| matches!(c.field, Field::Gas(_) | Field::SampledOn) && c.index >= cells.len());
            if beyond || short {
                let hint = match &self.text {
                    Some(t) if beyond && t.separator == "','" => {
                        " (a decimal comma in a comma-separated file? put such values in quotes, or save the file with ';' as the separator)"
                    }
                    _ if beyond => " (a separator too many?)",
                    _ => " (is the line cut short?)",
                };
                let reason = format!("the line has {} fields but the header has {}{hint}", cells.len(), header.width);
                self.reject(sheet, row, None, None, reason);
                self.counts.rows_rejected += 1;
                return;
            }
        }
        let errors_before = self.rejected.len();
        let mut sample = DgaSample::default();
        let empty = CellValue::Empty;
        for col in &header.columns {
            let cell = cells.get(col.index).unwrap_or(&empty);
            match col.field {
                Field::Gas(gas) => match cells::gas_cell(cell, col.gas_factor) {
                    Ok(GasCell::Reading(r, _)) => sample.set(gas, r),
                    Ok(GasCell::Either { number, below_detection }) => {
                        let hint = self.text.as_ref().and_then(|t| t.decimal_hint.as_ref());
                        match evidence.decimal_mark(col.index, hint, self.rows_word()) {
                            Ok((mark, why)) => {
                                let value = number.with_mark(mark);
                                match cells::gas_value(value, below_detection, col.gas_factor) {
                                    Ok(r) => sample.set(gas, r),
                                    Err(e) => self.reject(sheet, row, Some(col), Some(cell.quoted()), e),
                                }
                                self.decided(evidence, sheet, row, col, cell, &value, &why);
                            }
                            Err(why) => {
                                let NumberText::Either { as_decimal, as_thousands, .. } = number else { continue };
                                let reason = format!(
                                    "{}, and {why}: write {as_decimal} or {as_thousands}, without a thousands separator",
                                    cells::ambiguous_number(number)
                                );
                                self.reject(sheet, row, Some(col), Some(cell.quoted()), reason);
                            }
                        }
                    }
                    Err(e) => self.reject(sheet, row, Some(col), Some(cell.quoted()), e),
                },
                Field::SampledOn => match cells::date_cell(cell) {
                    Ok(Some(DateCell::Sure(d, _))) => sample.sampled_on = Some(d),
                    Ok(Some(either @ DateCell::Either { day_first, month_first })) => {
                        match evidence.day_order(col.index, self.rows_word()) {
                            Ok((order, why)) => {
                                sample.sampled_on = Some(either.in_order(order));
                                self.decided(evidence, sheet, row, col, cell, &either.in_order(order), &why);
                            }
                            Err(why) => {
                                let reason = format!(
                                    "{}, and {why}: write dates as YYYY-MM-DD",
                                    cells::ambiguous_date(day_first, month_first)
                                );
                                self.reject(sheet, row, Some(col), Some(cell.quoted()), reason);
                            }
                        }
                    }
                    Ok(None) => self.reject(sheet, row, Some(col), None, "no sample date".into()),
                    Err(e) => self.reject(sheet, row, Some(col), Some(cell.quoted()), e),
                },
                _ => {}
            }
        }
        // Each gas may be plausible alone and the sample not: more than 100 % by volume.
        let total_ppm = sample.total_measured_ppm();
        if self.rejected.len() == errors_before && total_ppm > dga::gas::MAX_PPM {
            self.reject(
                sheet,
                row,
                None,
                None,
                format!(
                    "the gases sum to {} ppm, more than 1,000,000 ppm (100 % by volume): is a column in % or ppb, or a value mistyped?",
                    total_ppm.round()
                ),
            );
        }
        let fields = self.asset_fields(sheet, row, header, cells, false);
        let mut asset_id = fields.id.clone().or_else(|| fields.name.clone());
        if header.anonymous {
            let id = if self.text.is_some() { format!("line {row}") } else { format!("{sheet} row {row}") };
            self.anonymous_ids.insert(id.clone());
            asset_id = Some(id);
        }
        if asset_id.is_none() {
            let col = header.columns.iter().find(|c| matches!(c.field, Field::AssetId | Field::AssetName));
            self.reject(sheet, row, col, None, "sample without asset: the asset id is empty".into());
        }
        if self.rejected.len() > errors_before {
            self.counts.rows_rejected += 1;
            if let Some(id) = asset_id {
                let first = &self.rejected[errors_before];
                let reason = match &first.column {
                    Some(column) => format!("{column}: {}", first.reason),
                    None => first.reason.clone(),
                };
                self.rejected_samples
                    .push((id, RejectedSample { sheet: sheet.to_owned(), row, sampled_on: sample.sampled_on, reason }));
            }
            return;
        }
        self.counts.samples_accepted += 1;
        let asset_id = asset_id.unwrap_or_default();
        let only_the_id = fields.id.as_deref().is_none_or(|id| id == asset_id) && fields.nothing_but_the_id();
        // One-sheet layout: asset columns repeated on every sample row are merged per asset as
        // the rows come (the first value wins), not kept with each of a million rows.
        if !only_the_id {
            match self.row_fields.get_mut(&asset_id) {
                Some(known) => known.merge_missing(&fields),
                None => {
                    self.row_fields.insert(asset_id.clone(), fields);
                }
            }
        }
        self.samples.push(SampleRow { sheet: sheet.to_owned(), row, asset_id, sample });
    }

    fn asset_row(&mut self, sheet: &str, row: u32, header: &Header, cells: &[CellValue]) {
        if cells.iter().all(CellValue::is_empty) {
            return;
        }
        self.counts.asset_rows_read += 1;
        let fields = self.asset_fields(sheet, row, header, cells, true);
        if fields.id.is_none() && fields.name.is_none() {
            let col = header.columns.iter().find(|c| matches!(c.field, Field::AssetId | Field::AssetName));
            self.reject(sheet, row, col, None, "asset without id: the asset id is empty".into());
            self.counts.asset_rows_rejected += 1;
            return;
        }
        self.asset_rows.push(AssetRow { sheet: sheet.to_owned(), row, fields });
    }

    fn finish(mut self) -> Result<ParsedWorkbook, WorkbookError> {
        if self.sample_sheets == 0
            && let Some((sheet, row, missing)) = &self.partial_header
        {
            return Err(self.invalid(format!(
                "{}: the header has no column for {missing} (required: H2, CH4, C2H6, C2H4, C2H2)",
                self.place(sheet, *row)
            )));
        }
        if self.sample_sheets == 0 {
            let n = self.limits.header_search_rows;
            let searched = match &self.text {
                Some(t) => format!(
                    "no header naming the gases (H2, CH4, C2H6, C2H4, C2H2) in the first {n} lines (read as {} text separated by {})",
                    t.encoding, t.separator
                ),
                None => {
                    format!("no sheet has a header naming the gases (H2, CH4, C2H6, C2H4, C2H2) in its first {n} rows")
                }
            };
            let next = match &self.further_header {
                Some((sheet, row)) => format!(
                    "; gas names appear further down, on {}: delete the rows above the header, or move the header up",
                    self.place(sheet, *row)
                ),
                None => ": is this a DGA file? `substation template` writes a workbook to fill in".to_owned(),
            };
            return Err(self.invalid(format!("{searched}{next}")));
        }
        if self.counts.rows_read == 0 {
            let what = if self.text.is_some() { "file" } else { "workbook" };
            return Err(self.invalid(format!("the {what} has a header but no data rows")));
        }
        let layout = if self.asset_sheets.is_empty() { Layout::OneSheet } else { Layout::TwoSheet };
        if layout == Layout::TwoSheet
            && let Some(sheet) = &self.anonymous_sheet
        {
            return Err(self.invalid(format!(
                "sheet '{sheet}' has no asset id column (e.g. 'Asset ID'), so its samples cannot be joined to the transformers of sheet '{}'",
                self.asset_sheets.join("', '")
            )));
        }

        // Assets sheet: one row per id.
        let mut registry: HashMap<String, usize> = HashMap::new();
        let mut items: Vec<(AssetFields, Option<SourceRow>, Vec<ItemSample>)> = Vec::new();
        for a in std::mem::take(&mut self.asset_rows).into_iter() {
            let id = a.fields.id.clone().or_else(|| a.fields.name.clone()).unwrap_or_default();
            if let Some(&i) = registry.get(&id) {
                let first = items[i].1.as_ref().map_or(0, |s| s.row);
                self.rejected.push(RowError {
                    sheet: a.sheet,
                    row: a.row,
                    column: None,
                    column_letter: None,
                    value: Some(id.clone()),
                    reason: format!("duplicate asset: '{id}' is already on row {first}"),
                });
                self.counts.asset_rows_rejected += 1;
                continue;
            }
            registry.insert(id, items.len());
            items.push((a.fields, Some(SourceRow { sheet: a.sheet, row: a.row }), Vec::new()));
        }

        // Samples: attach to their asset; in the two-sheet layout the asset must exist there.
        // Each asset's samples are counted first, so that its list is allocated once at its size.
        let mut counts = vec![0u32; items.len()];
        for chunk in &self.samples.chunks {
            for s in chunk {
                if let Some(&i) = registry.get(&s.asset_id) {
                    counts[i] += 1;
                }
            }
        }
        for (item, n) in items.iter_mut().zip(counts) {
            item.2.reserve_exact(n as usize);
        }
        let mut seen_dates: HashMap<(usize, NaiveDate), u32> = HashMap::new();
        // Rows read at their sheet's end (a cell with two readings) are joined in row order, as
        // the others: the first of two samples on one date stays, the last undated one is latest.
        let samples: Box<dyn Iterator<Item = SampleRow>> = if self.deferred_rows {
            let order: HashMap<&str, usize> =
                self.sheet_order.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
            let mut all: Vec<SampleRow> = std::mem::take(&mut self.samples).into_iter().collect();
            all.sort_by_key(|s| (order.get(s.sheet.as_str()).copied().unwrap_or(usize::MAX), s.row));
            Box::new(all.into_iter())
        } else {
            Box::new(std::mem::take(&mut self.samples).into_iter())
        };
        for s in samples {
            let index = match registry.get(&s.asset_id) {
                Some(&i) => i,
                // Not on the assets sheet (two-sheet layout): an item without a source row, an
                // unlisted asset that the history may know (ParsedWorkbook::reject_unlisted).
                None => {
                    registry.insert(s.asset_id.clone(), items.len());
                    items.push((
                        AssetFields { id: Some(s.asset_id.clone()), ..AssetFields::default() },
                        None,
                        Vec::new(),
                    ));
                    items.len() - 1
                }
            };
            if let Some(date) = s.sample.sampled_on
                && let Some(first) = seen_dates.insert((index, date), s.row)
            {
                seen_dates.insert((index, date), first);
                self.reject_join(
                    &s,
                    format!("duplicate sample: '{}' already has a sample on {date} (row {first})", s.asset_id),
                );
                continue;
            }
            if items[index].0.id.is_none() {
                items[index].0.id = Some(s.asset_id.clone());
            }
            items[index].2.push(ItemSample { sheet: s.sheet, row: s.row, sample: s.sample, upload: None });
        }

        for (id, fields) in std::mem::take(&mut self.row_fields) {
            if let Some(&i) = registry.get(&id) {
                items[i].0.merge_missing(&fields);
            }
        }
        let mut rejected_by_asset: HashMap<String, Vec<RejectedSample>> = HashMap::new();
        for (id, r) in std::mem::take(&mut self.rejected_samples) {
            rejected_by_asset.entry(id).or_default().push(r);
        }
        let mut assets = Vec::with_capacity(items.len());
        for (fields, source, mut samples) in items {
            let id = fields.id.clone().or_else(|| fields.name.clone()).unwrap_or_default();
            let unlisted = layout == Layout::TwoSheet && source.is_none();
            let anonymous = self.anonymous_ids.contains(&id);
            if samples.is_empty() {
                let at = source.as_ref().map_or(String::new(), |s| format!(" (sheet '{}', row {})", s.sheet, s.row));
                self.warnings.push(format!("asset '{id}'{at} has no samples: it is not diagnosed"));
                continue;
            }
            if self.has_dates {
                samples.sort_by_key(|s| s.sample.sampled_on);
            }
            let omitted = samples.len().saturating_sub(self.limits.max_samples_per_item);
            if omitted > 0 {
                samples.drain(..omitted);
            }
            let latest = samples.last().and_then(|s| s.sample.sampled_on);
            let age_years = age_at(&fields, latest);
            // A rejected row dated after the latest sample, or with no readable date, may be the
            // newest: the verdict then rests on an older sample, and the record says so.
            let rejected_samples: Vec<RejectedSample> = rejected_by_asset
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .filter(|r| match (r.sampled_on, latest) {
                    (Some(d), Some(l)) => d > l,
                    _ => true,
                })
                .collect();
            assets.push(AssetItem {
                schema_version: ITEM_SCHEMA_VERSION,
                name: fields.name.filter(|n| Some(n) != fields.id.as_ref()),
                asset_id: id,
                substation: fields.substation,
                manufacture_year: fields.manufacture_year,
                commissioning_year: fields.commissioning_year,
                age_years,
                rated_mva: fields.rated_mva,
                voltage_kv: fields.voltage_kv,
                oil_type: fields.oil_type,
                breathing: fields.breathing,
                oltc_communicating: fields.oltc_communicating,
                attributes: fields.attributes,
                source,
                samples,
                samples_omitted: omitted,
                rejected_samples,
                unlisted,
                anonymous,
            });
        }
        self.counts.assets = assets.len() as u64;
        RowError::sort(&mut self.rejected);
        Ok(ParsedWorkbook {
            layout,
            assets,
            rejected: self.rejected,
            counts: self.counts,
            ignored_columns: self.ignored,
            warnings: self.warnings,
            asset_sheets: self.asset_sheets,
        })
    }

    fn reject_join(&mut self, s: &SampleRow, reason: String) {
        self.counts.samples_accepted -= 1;
        self.counts.rows_rejected += 1;
        self.rejected.push(RowError {
            sheet: s.sheet.clone(),
            row: s.row,
            column: None,
            column_letter: None,
            value: Some(crate::error::quote(s.asset_id.clone())),
            reason: crate::error::quote(reason),
        });
    }
}

/// Age at the latest sample: the age column if given, else from the manufacture (or
/// commissioning) year — reproducible, never relative to today.
fn age_at(fields: &AssetFields, latest: Option<NaiveDate>) -> Option<f64> {
    if fields.age_years.is_some() {
        return fields.age_years;
    }
    crate::item::age_from_year(fields.manufacture_year.or(fields.commissioning_year)?, latest?)
}
