//! Column headers matched by meaning: symbols, English and Korean names, units in the header.

use dga::Gas;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// A gas concentration.
    Gas(Gas),
    /// The asset id that joins samples to their transformer.
    AssetId,
    /// The asset's name.
    AssetName,
    /// The substation.
    Substation,
    /// The date the oil was drawn.
    SampledOn,
    /// Year of manufacture.
    ManufactureYear,
    /// Year commissioned.
    CommissioningYear,
    /// Age in years.
    AgeYears,
    /// Rated power, MVA (kVA converted).
    RatedMva,
    /// Rated voltage, kV (V converted).
    VoltageKv,
    /// Oil type, e.g. mineral or ester.
    OilType,
    /// Sealed or free-breathing.
    Breathing,
    /// Whether the OLTC's oil communicates with the main tank.
    Oltc,
}

impl Field {
    /// The canonical header, as the template writes it.
    pub fn canonical(self) -> &'static str {
        match self {
            Field::Gas(g) => match g {
                Gas::H2 => "H2 (ppm)",
                Gas::CH4 => "CH4 (ppm)",
                Gas::C2H6 => "C2H6 (ppm)",
                Gas::C2H4 => "C2H4 (ppm)",
                Gas::C2H2 => "C2H2 (ppm)",
                Gas::CO => "CO (ppm)",
                Gas::CO2 => "CO2 (ppm)",
                Gas::O2 => "O2 (ppm)",
                Gas::N2 => "N2 (ppm)",
            },
            Field::AssetId => "Asset ID",
            Field::AssetName => "Asset name",
            Field::Substation => "Substation",
            Field::SampledOn => "Sample date",
            Field::ManufactureYear => "Year of manufacture",
            Field::CommissioningYear => "Year commissioned",
            Field::AgeYears => "Age (years)",
            Field::RatedMva => "Rated power (MVA)",
            Field::VoltageKv => "Rated voltage (kV)",
            Field::OilType => "Oil type",
            Field::Breathing => "Breathing",
            Field::Oltc => "OLTC",
        }
    }

    /// True for a column that describes the transformer rather than one sample (all but the gases
    /// and the sample date).
    pub fn is_asset_field(self) -> bool {
        !matches!(self, Field::Gas(_) | Field::SampledOn)
    }
}

/// Header text without unit and punctuation: lowercase, subscripts as digits, no spaces,
/// underscores, dots or hyphens.
fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '₂' => '2',
            '₄' => '4',
            '₆' => '6',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '.' | '-' | ':' | '#' | '/'))
        .collect()
}

/// Splits `Hydrogen (ppm)`, `H2 [ppm]`, `C2H4 ppm`, `CO µL/L` into the name and the unit text.
fn split_unit(header: &str) -> (&str, Option<&str>) {
    let h = header.trim();
    if let Some(open) = h.find(['(', '[']) {
        let close = h[open..].find([')', ']']).map_or(h.len(), |c| open + c);
        let inner = h[open + 1..close].trim();
        let name = h[..open].trim();
        // "수소(H2)" or "Hydrogen (H2)": the parenthesis names the gas, not a unit.
        if Gas::from_label(inner).is_some() && Gas::from_label(name).is_none() && !name.is_empty() {
            return (name, None);
        }
        return (if name.is_empty() { inner } else { name }, (!name.is_empty()).then_some(inner));
    }
    let lower = h.to_lowercase();
    for unit in ["ppm", "µl/l", "μl/l", "ul/l", "ppb", "mva", "kva", "kv"] {
        if lower.len() > unit.len() && lower.ends_with(unit) {
            let cut = h.len() - unit.len();
            if h.is_char_boundary(cut) && h[..cut].ends_with(' ') {
                return (h[..cut].trim(), Some(&h[cut..]));
            }
        }
    }
    (h, None)
}

/// Multiply a gas value in this unit by the factor to get ppm (µL/L); `Err` for units that
/// cannot be converted without more data (mass units need the gas density).
pub fn gas_unit_factor(unit: Option<&str>) -> Result<f64, String> {
    let Some(unit) = unit else { return Ok(1.0) };
    let u: String = unit.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    match u.as_str() {
        "" | "ppm" | "µl/l" | "μl/l" | "ul/l" | "ppmv" | "vppm" => Ok(1.0),
        "ppb" => Ok(0.001),
        "ml/l" => Ok(1000.0),
        "%" | "vol%" | "%vol" | "%v/v" => Ok(10_000.0),
        _ => Err(format!("the unit '{unit}' cannot be converted to ppm (µL/L); use ppm")),
    }
}

fn gas_by_name(name: &str) -> Option<Gas> {
    if let Some(g) = Gas::from_label(name) {
        return Some(g);
    }
    // Korean names used by Korean utilities and labs.
    Some(match normalize(name).as_str() {
        "수소" => Gas::H2,
        "메탄" => Gas::CH4,
        "에탄" => Gas::C2H6,
        "에틸렌" => Gas::C2H4,
        "아세틸렌" => Gas::C2H2,
        "일산화탄소" => Gas::CO,
        "이산화탄소" => Gas::CO2,
        "산소" => Gas::O2,
        "질소" => Gas::N2,
        // German names, as German labs and Excels write them.
        "wasserstoff" => Gas::H2,
        "methan" => Gas::CH4,
        "ethan" => Gas::C2H6,
        "ethylen" | "ethen" => Gas::C2H4,
        "acetylen" | "ethin" => Gas::C2H2,
        "kohlenmonoxid" => Gas::CO,
        "kohlendioxid" => Gas::CO2,
        "sauerstoff" => Gas::O2,
        "stickstoff" => Gas::N2,
        _ => return None,
    })
}

/// The field a header names, with its unit text, or `None` for a column we do not know.
pub fn recognise(header: &str) -> Option<(Field, Option<String>)> {
    // No header is this long: a long text in the rows searched for the header is not walked.
    if header.len() > 256 {
        return None;
    }
    let (name, unit) = split_unit(header);
    if name.is_empty() {
        return None;
    }
    if let Some(g) = gas_by_name(name) {
        return Some((Field::Gas(g), unit.map(str::to_owned)));
    }
    let key = normalize(name);
    let field = match key.as_str() {
        "assetid" | "asset" | "assetno" | "assetnumber" | "assettag" | "equipmentid" | "equipment" | "equipmentno"
        | "transformerid" | "transformer" | "transformerno" | "unitid" | "tag" | "tagno" | "설비번호" | "변압기"
        | "변압기번호" | "설비코드" => Field::AssetId,
        "assetname" | "name" | "transformername" | "equipmentname" | "description" | "설비명" | "변압기명" => {
            Field::AssetName
        }
        "substation" | "site" | "station" | "location" | "substationname" | "변전소" | "변전소명" | "umspannwerk" => {
            Field::Substation
        }
        "sampledate" | "sampledon" | "samplingdate" | "datesampled" | "date" | "dateofsampling" | "sampled"
        | "samplingday" | "채취일" | "시료채취일" | "채취일자" | "분석일" | "분석일자" | "probenahme"
        | "probenahmedatum" | "entnahmedatum" | "datum" => Field::SampledOn,
        "yearofmanufacture" | "manufactureyear" | "yearmanufactured" | "manufacturingyear" | "manufactured"
        | "yearbuilt" | "제작년도" | "제조년도" | "제작연도" | "제조연도" => Field::ManufactureYear,
        "yearcommissioned" | "commissioningyear" | "commissioned" | "inserviceyear" | "yearinservice"
        | "installationyear" | "준공년도" | "설치년도" => Field::CommissioningYear,
        "age" | "ageyears" | "ageyrs" | "사용년수" => Field::AgeYears,
        "ratedpower" | "ratedmva" | "mva" | "rating" | "power" | "capacity" | "ratedcapacity" | "kva" | "용량" => {
            Field::RatedMva
        }
        "ratedvoltage" | "voltage" | "kv" | "hvvoltage" | "primaryvoltage" | "전압" | "정격전압" => {
            Field::VoltageKv
        }
        "oiltype" | "oil" | "insulatingoil" | "fluid" | "fluidtype" | "절연유" => Field::OilType,
        "breathing" | "preservation" | "oilpreservation" | "conservator" | "sealed" | "breathingtype" => {
            Field::Breathing
        }
        "oltc" | "tapchanger" | "oltccommunicating" => Field::Oltc,
        _ => return None,
    };
    // "kVA" or "kV" given only as the header name count as the unit too.
    let unit = unit.map(str::to_owned).or_else(|| match key.as_str() {
        "kva" => Some("kVA".to_owned()),
        "kv" => Some("kV".to_owned()),
        "mva" => Some("MVA".to_owned()),
        _ => None,
    });
    Some((field, unit))
}

/// How strongly a row looks like a header: gas columns count double (they make a samples sheet);
/// each field counts once however often it repeats.
pub fn header_score(cells: &[String]) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    for c in cells {
        if let Some((f, _)) = recognise(c) {
            seen.insert(f);
        }
    }
    seen.iter().map(|f| if matches!(f, Field::Gas(_)) { 2 } else { 1 }).sum()
}

/// How many different gases a row's cells name (three make a samples header).
pub fn gas_columns(cells: &[String]) -> usize {
    let gases: std::collections::BTreeSet<Field> =
        cells.iter().filter_map(|c| recognise(c)).map(|(f, _)| f).filter(|f| matches!(f, Field::Gas(_))).collect();
    gases.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(h: &str) -> Option<Field> {
        recognise(h).map(|(f, _)| f)
    }

    #[test]
    fn gas_aliases() {
        for h in
            ["H2", "h2", "H₂", "Hydrogen", "Hydrogen (ppm)", "H2 [ppm]", "H2 ppm", "수소", "수소(H2)", "수소 (ppm)"]
        {
            assert_eq!(field(h), Some(Field::Gas(Gas::H2)), "{h}");
        }
        let korean = [
            ("메탄", Gas::CH4),
            ("에탄", Gas::C2H6),
            ("에틸렌", Gas::C2H4),
            ("아세틸렌", Gas::C2H2),
            ("일산화탄소", Gas::CO),
            ("이산화탄소", Gas::CO2),
            ("산소", Gas::O2),
            ("질소", Gas::N2),
        ];
        for (h, g) in korean {
            assert_eq!(field(h), Some(Field::Gas(g)), "{h}");
        }
        assert_eq!(field("C2H2 (µL/L)"), Some(Field::Gas(Gas::C2H2)));
        assert_eq!(field("Wasserstoff (ppm)"), Some(Field::Gas(Gas::H2)));
        assert_eq!(field("Acetylen"), Some(Field::Gas(Gas::C2H2)));
        assert_eq!(field("Probenahmedatum"), Some(Field::SampledOn));
    }

    #[test]
    fn asset_aliases() {
        assert_eq!(field("Asset ID"), Some(Field::AssetId));
        assert_eq!(field("설비번호"), Some(Field::AssetId));
        assert_eq!(field("변압기"), Some(Field::AssetId));
        assert_eq!(field("설비명"), Some(Field::AssetName));
        assert_eq!(field("변전소"), Some(Field::Substation));
        for h in ["채취일", "시료채취일", "분석일", "Sample date", "Date sampled"] {
            assert_eq!(field(h), Some(Field::SampledOn), "{h}");
        }
        assert_eq!(field("제작년도"), Some(Field::ManufactureYear));
        assert_eq!(field("제조년도"), Some(Field::ManufactureYear));
        assert_eq!(recognise("Rated power (kVA)"), Some((Field::RatedMva, Some("kVA".into()))));
        assert_eq!(field("Comment"), None);
    }

    #[test]
    fn units() {
        assert_eq!(gas_unit_factor(None), Ok(1.0));
        assert_eq!(gas_unit_factor(Some("µL/L")), Ok(1.0));
        assert_eq!(gas_unit_factor(Some("ppb")), Ok(0.001));
        assert_eq!(gas_unit_factor(Some("%")), Ok(10_000.0));
        assert!(gas_unit_factor(Some("mg/kg")).unwrap_err().contains("mg/kg"));
        assert_eq!(recognise("H2 (mg/kg)"), Some((Field::Gas(Gas::H2), Some("mg/kg".into()))));
    }

    #[test]
    fn header_rows_score_by_meaning() {
        let title = vec!["Fleet DGA results 2024 — H2 and others".to_owned()];
        let header: Vec<String> = ["Asset", "Date", "H2", "CH4", "C2H6", "C2H4", "C2H2"].map(String::from).to_vec();
        assert!(header_score(&header) > header_score(&title));
        assert_eq!(header_score(&title), 0);
    }
}
