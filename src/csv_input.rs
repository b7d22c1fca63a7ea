//! Samples from a CSV file: the header names the gases; rows become asset histories, and every
//! row that cannot be read becomes a rejection naming its line, column, cell and reason.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use chrono::NaiveDate;
use dga::{DgaSample, Gas, GasReading};
use serde::Serialize;

/// What a header column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Gas(Gas),
    AssetId,
    SampledOn,
    AgeYears,
}

impl Field {
    /// Header text → field: gases by symbol or name, with units in brackets or after a space
    /// (`H2 (ppm)`, `H2 [ppm]`, `Hydrogen ppm`); µL/L is ppm.
    fn from_header(header: &str) -> Option<Field> {
        let base = strip_unit(header);
        if let Some(gas) = Gas::from_label(base) {
            return Some(Field::Gas(gas));
        }
        let key: String = base.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        match key.as_str() {
            "assetid" | "asset" | "transformer" | "transformerid" | "equipmentid" => Some(Field::AssetId),
            "sampledon" | "sampledate" | "samplingdate" | "date" | "sampled" => Some(Field::SampledOn),
            "ageyears" | "age" | "ageyrs" => Some(Field::AgeYears),
            _ => None,
        }
    }

    fn name(self) -> String {
        match self {
            Field::Gas(g) => g.symbol().to_owned(),
            Field::AssetId => "asset_id".into(),
            Field::SampledOn => "sampled_on".into(),
            Field::AgeYears => "age_years".into(),
        }
    }
}

fn strip_unit(header: &str) -> &str {
    let h = header.trim();
    let h = h.split(['(', '[']).next().unwrap_or(h).trim();
    for unit in [" ppm", " µl/l", " ul/l"] {
        if h.len() > unit.len() && h.to_lowercase().ends_with(unit) {
            return h[..h.len() - unit.len()].trim();
        }
    }
    h
}

/// A row that was not diagnosed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    pub file: String,
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub column: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column '{c}'")?;
        }
        match &self.value {
            Some(v) if !self.reason.contains(v.as_str()) => write!(f, ": '{v}': {}", self.reason),
            _ => write!(f, ": {}", self.reason),
        }
    }
}

/// One asset's samples as read, with each sample's line.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRows {
    pub asset_id: Option<String>,
    pub samples: Vec<DgaSample>,
    pub lines: Vec<u64>,
    pub age_years: Vec<Option<f64>>,
}

#[derive(Debug, Default)]
pub struct CsvInput {
    pub assets: Vec<AssetRows>,
    pub rejected: Vec<Rejection>,
    /// Data rows read (blank lines excluded): diagnosed samples + rejected rows.
    pub rows_read: u64,
}

/// Whole-file problems: nothing can be diagnosed.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{file}: {source}")]
    Csv {
        file: String,
        #[source]
        source: csv::Error,
    },
    #[error("{file}: the header has no column for {missing} (required: H2, CH4, C2H6, C2H4, C2H2; found: {found})")]
    MissingGases { file: String, missing: String, found: String },
    #[error("{file}: columns '{first}' and '{second}' both hold {field}")]
    DuplicateColumn { file: String, first: String, second: String, field: String },
}

/// Dates as labs write them: ISO `2023-05-17`, `2023/05/17`, `2023.05.17`, and `17.05.2023`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d.%m.%Y"].iter().find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

/// Line numbers as an editor shows them. The csv crate's own `Position::line` drifts after blank
/// lines and with CRLF endings, so lines are counted from the record's byte offset instead.
struct Lines<'a> {
    bytes: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines { bytes, newlines: bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect() }
    }

    /// The 1-based line of the record whose parse started at `byte` (which may point at the line
    /// ends and blank lines before it).
    fn line_of(&self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        self.newlines.partition_point(|&nl| nl < start) as u64 + 1
    }
}

pub fn read(name: &str, mut input: impl Read) -> Result<CsvInput, CsvError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| CsvError::Csv { file: name.into(), source: csv::Error::from(e) })?;
    let lines = Lines::new(&bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(bytes.as_slice());
    let headers = reader.headers().map_err(|source| CsvError::Csv { file: name.into(), source })?.clone();

    let mut columns: Vec<Option<Field>> = Vec::with_capacity(headers.len());
    let mut seen: HashMap<Field, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let field = Field::from_header(h);
        if let Some(f) = field
            && let Some(&first) = seen.get(&f)
        {
            return Err(CsvError::DuplicateColumn {
                file: name.into(),
                first: headers[first].to_owned(),
                second: h.to_owned(),
                field: f.name(),
            });
        }
        if let Some(f) = field {
            seen.insert(f, i);
        }
        columns.push(field);
    }
    let missing: Vec<&str> =
        Gas::REQUIRED.iter().filter(|g| !seen.contains_key(&Field::Gas(**g))).map(|g| g.symbol()).collect();
    if !missing.is_empty() {
        return Err(CsvError::MissingGases {
            file: name.into(),
            missing: missing.join(", "),
            found: headers.iter().collect::<Vec<_>>().join(", "),
        });
    }
    let has_asset_id = seen.contains_key(&Field::AssetId);

    let mut out = CsvInput::default();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|source| CsvError::Csv { file: name.into(), source })?;
        let line = record.position().map_or(0, |p| lines.line_of(p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        out.rows_read += 1;
        let reject = |column: Option<&str>, value: Option<&str>, reason: String| Rejection {
            file: name.into(),
            line,
            column: column.map(str::to_owned),
            value: value.map(str::to_owned),
            reason,
        };
        if record.len() != headers.len() {
            out.rejected.push(reject(
                None,
                None,
                format!("the row has {} cells but the header has {} columns", record.len(), headers.len()),
            ));
            continue;
        }
        let mut sample = DgaSample::default();
        let mut asset_id = None;
        let mut age = None;
        let mut errors = Vec::new();
        for ((cell, field), header) in record.iter().zip(&columns).zip(headers.iter()) {
            match field {
                Some(Field::Gas(gas)) => match cell.parse::<GasReading>() {
                    Ok(reading) => sample.set(*gas, reading),
                    Err(e) => errors.push(reject(Some(header), Some(cell), e.to_string())),
                },
                Some(Field::AssetId) if cell.is_empty() => {
                    errors.push(reject(
                        Some(header),
                        None,
                        "no asset id: the sample cannot be attached to an asset".into(),
                    ));
                }
                Some(Field::AssetId) => asset_id = Some(cell.to_owned()),
                Some(Field::SampledOn) if cell.is_empty() => {}
                Some(Field::SampledOn) => match parse_date(cell) {
                    Some(d) => sample.sampled_on = Some(d),
                    None => errors.push(reject(
                        Some(header),
                        Some(cell),
                        format!("'{cell}' is not a date (use YYYY-MM-DD)"),
                    )),
                },
                Some(Field::AgeYears) if cell.is_empty() => {}
                Some(Field::AgeYears) => match cell.parse::<f64>() {
                    Ok(a) if a.is_finite() && (0.0..=150.0).contains(&a) => age = Some(a),
                    _ => errors.push(reject(
                        Some(header),
                        Some(cell),
                        format!("'{cell}' is not an age in years (0-150)"),
                    )),
                },
                None => {}
            }
        }
        if !errors.is_empty() {
            out.rejected.extend(errors);
            continue;
        }
        // Without an asset id every row is its own asset.
        let slot = match (&asset_id, has_asset_id) {
            (Some(id), true) => *index_of.entry(id.clone()).or_insert_with(|| {
                out.assets.push(AssetRows {
                    asset_id: Some(id.clone()),
                    samples: vec![],
                    lines: vec![],
                    age_years: vec![],
                });
                out.assets.len() - 1
            }),
            _ => {
                out.assets.push(AssetRows { asset_id: None, samples: vec![], lines: vec![], age_years: vec![] });
                out.assets.len() - 1
            }
        };
        let asset = &mut out.assets[slot];
        asset.samples.push(sample);
        asset.lines.push(line);
        asset.age_years.push(age);
    }
    Ok(out)
}

impl CsvInput {
    /// Rows rejected: a row with several bad cells counts once.
    pub fn rows_rejected(&self) -> u64 {
        let mut lines: Vec<u64> = self.rejected.iter().map(|r| r.line).collect();
        lines.dedup();
        lines.len() as u64
    }

    pub fn samples_accepted(&self) -> u64 {
        self.assets.iter().map(|a| a.samples.len() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_by_meaning() {
        assert_eq!(Field::from_header("H2 (ppm)"), Some(Field::Gas(Gas::H2)));
        assert_eq!(Field::from_header("Acetylene [ppm]"), Some(Field::Gas(Gas::C2H2)));
        assert_eq!(Field::from_header("C2H4 ppm"), Some(Field::Gas(Gas::C2H4)));
        assert_eq!(Field::from_header("CO µL/L"), Some(Field::Gas(Gas::CO)));
        assert_eq!(Field::from_header("Asset ID"), Some(Field::AssetId));
        assert_eq!(Field::from_header("sampled_on"), Some(Field::SampledOn));
        assert_eq!(Field::from_header("comment"), None);
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2023, 5, 17);
        for t in ["2023-05-17", "2023/5/17", "2023.05.17", "17.05.2023"] {
            assert_eq!(parse_date(t), d, "{t}");
        }
        assert_eq!(parse_date("2023-02-30"), None);
        assert_eq!(parse_date("05/17/2023"), None);
    }

    #[test]
    fn rows_group_by_asset_and_bad_cells_are_rejected() {
        let csv = "asset_id,sampled_on,H2,CH4,C2H6,C2H4,C2H2,note\n\
                   TR-1,2024-01-01,10,5,5,5,<1,ok\n\
                   TR-2,2024-01-01,10,5,5,5,ND,\n\
                   TR-1,2024-06-01,12,6,5,6,0,\n\
                   TR-3,2024-01-01,-4,abc,5,5,0,\n\
                   \n\
                   ,2024-01-01,1,1,1,1,1,\n\
                   TR-4,2024-13-01,1,1,1,1,1,\n\
                   TR-5,2024-01-01,1,1\n";
        let input = read("f.csv", csv.as_bytes()).unwrap();
        assert_eq!(input.assets.len(), 2);
        assert_eq!(input.assets[0].asset_id.as_deref(), Some("TR-1"));
        assert_eq!(input.assets[0].lines, [2, 4]);
        assert_eq!(input.assets[0].samples[0].c2h2_ppm, GasReading::BelowDetection { limit_ppm: Some(1.0) });
        let r: Vec<(u64, Option<&str>)> = input.rejected.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(r, [(5, Some("H2")), (5, Some("CH4")), (7, Some("asset_id")), (8, Some("sampled_on")), (9, None)]);
        assert_eq!(input.rejected[1].to_string(), "f.csv:5, column 'CH4': 'abc' is not a number");
        // Conservation: rows read = samples accepted + rows rejected (the blank line is not a row).
        assert_eq!(input.rows_read, 7);
        assert_eq!(input.rows_read, input.samples_accepted() + input.rows_rejected());
    }

    #[test]
    fn line_numbers_survive_blank_lines_and_crlf() {
        let csv = "H2,CH4,C2H6,C2H4,C2H2\r\n1,1,1,1,1\r\n\r\n\r\nx,1,1,1,1\r\n";
        let input = read("f.csv", csv.as_bytes()).unwrap();
        assert_eq!(input.assets[0].lines, [2]);
        assert_eq!(input.rejected[0].line, 5);
        let csv = "H2,CH4,C2H6,C2H4,C2H2\n\"1\",1,1,1,1\n\n\n\n1,1,1,1,1\n";
        assert_eq!(read("f.csv", csv.as_bytes()).unwrap().assets[1].lines, [6]);
    }

    #[test]
    fn whole_file_errors() {
        let err = read("f.csv", "H2,CH4,C2H6\n1,2,3\n".as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.csv: the header has no column for C2H4, C2H2 (required: H2, CH4, C2H6, C2H4, C2H2; found: H2, CH4, C2H6)"
        );
        let err = read("f.csv", "H2,Hydrogen,CH4,C2H6,C2H4,C2H2\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("columns 'H2' and 'Hydrogen' both hold H2"), "{err}");
    }
}
