//! IEEE C57.104-2019: gas levels (Tables 1 and 2), sample-to-sample increase (Table 3),
//! least-squares generation rate (Table 4) and the DGA Status 1/2/3 of Figure 2.

use std::borrow::Cow;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::gas::{DgaSample, Gas};
use crate::thresholds::{ByOxygen, GasTable, Ieee2019Thresholds};

/// DGA Status of IEEE C57.104-2019 clause 6 (serialized as the integer 1, 2 or 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ieee2019Status {
    /// Low gas levels, no sign of active gassing.
    One,
    /// Elevated levels or possible gassing, below alarm.
    Two,
    /// High levels or active gas generation.
    Three,
}

impl Ieee2019Status {
    /// The status as the integer 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            Ieee2019Status::One => 1,
            Ieee2019Status::Two => 2,
            Ieee2019Status::Three => 3,
        }
    }
}

impl Serialize for Ieee2019Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for Ieee2019Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u8::deserialize(d)? {
            1 => Ok(Ieee2019Status::One),
            2 => Ok(Ieee2019Status::Two),
            3 => Ok(Ieee2019Status::Three),
            n => Err(serde::de::Error::custom(format!("DGA status {n} is not 1, 2 or 3"))),
        }
    }
}

impl fmt::Display for Ieee2019Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// The column set chosen by the latest sample's O2/N2 ratio (clause 6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OxygenColumn {
    /// O2/N2 <= 0.2.
    LowOxygen,
    /// O2/N2 > 0.2, or unknown (the more conservative limits).
    HighOxygen,
}

impl OxygenColumn {
    fn pick<T>(self, table: &ByOxygen<T>) -> &T {
        match self {
            OxygenColumn::LowOxygen => &table.low_oxygen,
            OxygenColumn::HighOxygen => &table.high_oxygen,
        }
    }

    /// The column set as a report shows it: `O2/N2 <= 0.2` or `O2/N2 > 0.2`.
    pub fn label(self) -> &'static str {
        match self {
            OxygenColumn::LowOxygen => "O2/N2 <= 0.2",
            OxygenColumn::HighOxygen => "O2/N2 > 0.2",
        }
    }
}

/// Transformer age groups of Tables 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgeGroup {
    /// Age not known.
    #[serde(rename = "unknown")]
    Unknown,
    /// Also the first year of service (age 0), which the tables do not list.
    #[serde(rename = "1-9")]
    OneToNine,
    /// 10 to 30 years, inclusive.
    #[serde(rename = "10-30")]
    TenToThirty,
    /// Over 30 years.
    #[serde(rename = ">30")]
    OverThirty,
}

impl AgeGroup {
    /// Edges as [S1]: below 10 years, 10 to 30 inclusive, above 30.
    pub fn of(age_years: Option<f64>) -> AgeGroup {
        match age_years {
            Some(a) if (0.0..10.0).contains(&a) => AgeGroup::OneToNine,
            Some(a) if a.is_finite() && (10.0..=30.0).contains(&a) => AgeGroup::TenToThirty,
            Some(a) if a.is_finite() && a > 30.0 => AgeGroup::OverThirty,
            _ => AgeGroup::Unknown,
        }
    }

    fn column(self) -> usize {
        match self {
            AgeGroup::Unknown => 0,
            AgeGroup::OneToNine => 1,
            AgeGroup::TenToThirty => 2,
            AgeGroup::OverThirty => 3,
        }
    }

    /// The age group as a report shows it, e.g. `age 10-30 years`.
    pub fn label(self) -> &'static str {
        match self {
            AgeGroup::Unknown => "age unknown",
            AgeGroup::OneToNine => "age 1-9 years",
            AgeGroup::TenToThirty => "age 10-30 years",
            AgeGroup::OverThirty => "age over 30 years",
        }
    }
}

/// Which table a reason refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ieee2019Table {
    /// Table 1: 90th percentile concentration.
    Table1,
    /// Table 2: 95th percentile concentration.
    Table2,
    /// Table 3: 95th percentile increase from the previous sample.
    Table3,
    /// Table 4: 95th percentile generation rate.
    Table4,
}

/// One exceedance: which gas, which table, value against limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReason {
    /// The gas.
    pub gas: Gas,
    /// The table whose limit it exceeds.
    pub table: Ieee2019Table,
    /// The value compared: ppm, ppm increase or ppm/year (see `unit`).
    pub value: f64,
    /// The limit it exceeds, in the same unit.
    pub limit: f64,
    /// `ppm`, `ppm increase` or `ppm/year`.
    pub unit: Cow<'static, str>,
    /// The exceedance in a sentence, with the table and the columns used.
    pub text: String,
}

/// The least-squares window used for Table 4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateWindow {
    /// How many samples the window holds.
    pub samples: usize,
    /// Date of the window's first sample.
    pub first_sampled_on: NaiveDate,
    /// Date of the window's last sample.
    pub last_sampled_on: NaiveDate,
    /// Whole calendar months between the first and last sample of the window.
    pub span_months: u32,
    /// `"4-9 months"` or `"10-24 months"`: the Table 4 column.
    pub period: Cow<'static, str>,
}

/// One gas's IEEE C57.104-2019 status and the values behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GasStatus {
    /// The gas.
    pub gas: Gas,
    /// The status this gas alone gives (Figure 2).
    pub status: Ieee2019Status,
    /// Its level in the latest sample, ppm.
    pub ppm: f64,
    /// Increase since the previous sample (negative for a decrease).
    pub delta_ppm: Option<f64>,
    /// Least-squares generation rate over the rate window, ppm/year; `None` without a window.
    pub rate_ppm_per_year: Option<f64>,
    /// The limits this gas was compared against (the asset's O2/N2 column and age group).
    pub limits: GasLimits,
    /// The latest reading above which this gas alone would put the asset at status 2 (Table 1,
    /// Table 3 from the previous sample, Table 4 through the fitted rate), all other samples as
    /// they are; what the measurement-uncertainty probabilities compare against.
    pub status_2_above_ppm: f64,
    /// The same for status 3 (Table 2, Table 4).
    pub status_3_above_ppm: f64,
}

/// One gas's limits from Tables 1-4 as they apply to this asset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GasLimits {
    /// Table 1, 90th percentile, ppm.
    pub table_1_ppm: f64,
    /// Table 2, 95th percentile, ppm.
    pub table_2_ppm: f64,
    /// Table 3 increase since the previous sample, ppm (C2H2: the lab repeatability); `None`
    /// with a single sample.
    pub table_3_ppm: Option<f64>,
    /// Table 4 rate for the window used, ppm/year (C2H2: the repeatability over the window);
    /// `None` without a rate window.
    pub table_4_ppm_per_year: Option<f64>,
}

/// The IEEE C57.104-2019 assessment of one asset's sample history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ieee2019Assessment {
    /// The worst per-gas status ([S2]: "worst gas wins").
    pub status: Ieee2019Status,
    /// The O2/N2 column set used (clause 6.1.1).
    pub oxygen_column: OxygenColumn,
    /// The latest sample's O2/N2; `None` when O2 or N2 is unknown.
    pub o2_n2_ratio: Option<f64>,
    /// The age group whose column is used (Tables 1 and 2).
    pub age_group: AgeGroup,
    /// The number of samples assessed.
    pub samples: usize,
    /// The Table 4 least-squares window; `None` when no rate could be computed.
    pub rate_window: Option<RateWindow>,
    /// Each rated gas's status; gases not measured are left out.
    pub gases: Vec<GasStatus>,
    /// Every exceedance, worst first (Tables 2 and 4, then 1 and 3; then by value / limit).
    pub reasons: Vec<StatusReason>,
    /// Data caveats: unknown O2/N2, no rate, gases not measured, large decreases.
    pub notes: Vec<String>,
}

fn limit_of(table: &GasTable<f64>, gas: Gas) -> f64 {
    table.get(gas).unwrap_or(f64::INFINITY)
}

/// Whole calendar months from `a` to `b` ([S5]: 2024-01-15 → 2024-05-14 is 3 months).
pub fn whole_months(a: NaiveDate, b: NaiveDate) -> i64 {
    let months = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month()) - i64::from(a.month());
    if b.day() < a.day() { months - 1 } else { months }
}

/// Picks the Table 4 window from a dated history (oldest first): the most recent 3-6 samples,
/// dropping the oldest while the span exceeds 24 months (sources.md §1.5 steps 1-2).
pub fn rate_window<'a>(history: &'a [DgaSample], t: &Ieee2019Thresholds) -> Result<&'a [DgaSample], String> {
    if history.len() < t.rate_min_samples {
        return Err(format!(
            "no generation rate (Table 4): {} sample(s), at least {} needed",
            history.len(),
            t.rate_min_samples
        ));
    }
    if history.iter().any(|s| s.sampled_on.is_none()) {
        return Err("no generation rate (Table 4): some samples have no date".into());
    }
    let mut window = &history[history.len().saturating_sub(t.rate_max_samples)..];
    let span = |w: &[DgaSample]| match (w.first().and_then(|s| s.sampled_on), w.last().and_then(|s| s.sampled_on)) {
        (Some(a), Some(b)) => whole_months(a, b),
        _ => 0,
    };
    while span(window) > i64::from(t.rate_max_span_months) && window.len() > t.rate_min_samples {
        window = &window[1..];
    }
    let months = span(window);
    if months > i64::from(t.rate_max_span_months) {
        return Err(format!(
            "no generation rate (Table 4): the last {} samples span {months} months, more than {}",
            window.len(),
            t.rate_max_span_months
        ));
    }
    if months < i64::from(t.rate_min_span_months) {
        return Err(format!(
            "no generation rate (Table 4): the last {} samples span {months} months, less than {}",
            window.len(),
            t.rate_min_span_months
        ));
    }
    Ok(window)
}

/// Ordinary least-squares slope of ppm against days since the first sample, × 365 (ppm/year).
/// `None` if a sample lacks the gas or a date, or all dates coincide.
pub fn least_squares_rate_ppm_per_year(window: &[DgaSample], gas: Gas) -> Option<f64> {
    let first = window.first()?.sampled_on?;
    let n = window.len() as f64;
    let mut points = Vec::with_capacity(window.len());
    for s in window {
        points.push(((s.sampled_on? - first).num_days() as f64, s.level(gas)?));
    }
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_y)).sum();
    Some(sxy / sxx * 365.0)
}

/// How much the least-squares rate (ppm/year) rises per ppm of the latest reading: the latest
/// sample's weight in the slope, `(t_n - mean t) / Sxx` × 365. `None` when all dates coincide.
pub fn latest_weight_per_year(window: &[DgaSample]) -> Option<f64> {
    let first = window.first()?.sampled_on?;
    let days: Vec<f64> =
        window.iter().map(|s| Some((s.sampled_on? - first).num_days() as f64)).collect::<Option<_>>()?;
    let mean = days.iter().sum::<f64>() / days.len() as f64;
    let sxx: f64 = days.iter().map(|d| (d - mean).powi(2)).sum();
    let w = (days.last()? - mean) / sxx * 365.0;
    (sxx > 0.0 && w > 0.0).then_some(w)
}

/// Status of one asset from its history, oldest sample first (the caller orders it).
pub fn assess(history: &[DgaSample], age_years: Option<f64>, t: &Ieee2019Thresholds) -> Option<Ieee2019Assessment> {
    let latest = history.last()?;
    let previous = history.len().checked_sub(2).map(|i| &history[i]);
    let mut notes = Vec::new();

    let o2_n2_ratio = match (latest.level(Gas::O2), latest.level(Gas::N2)) {
        (Some(o2), Some(n2)) if n2 > 0.0 => Some(o2 / n2).filter(|r| r.is_finite()),
        _ => None,
    };
    let oxygen_column = match o2_n2_ratio {
        Some(r) if r <= t.low_oxygen_max_o2_n2 => OxygenColumn::LowOxygen,
        Some(_) => OxygenColumn::HighOxygen,
        None => {
            // Two of three implementations fall back to the > 0.2 column (sources.md §1.1).
            notes.push(
                "O2/N2 unknown (O2 or N2 not measured, or N2 below detection): the O2/N2 > 0.2 limits are used"
                    .to_owned(),
            );
            OxygenColumn::HighOxygen
        }
    };
    let age_group = AgeGroup::of(age_years);
    let col = age_group.column();

    let window = match rate_window(history, t) {
        Ok(w) => Some(w),
        Err(why) => {
            if history.len() > 1 {
                notes.push(why);
            }
            None
        }
    };
    let rate_window = window.and_then(|w| {
        let (first, last) = (w.first()?.sampled_on?, w.last()?.sampled_on?);
        let span_months = u32::try_from(whole_months(first, last)).ok()?;
        let period = if span_months <= t.rate_short_window_max_months { "4-9 months" } else { "10-24 months" };
        Some(RateWindow {
            samples: w.len(),
            first_sampled_on: first,
            last_sampled_on: last,
            span_months,
            period: period.into(),
        })
    });
    let rate_table = rate_window.as_ref().map(|rw| {
        let table = if rw.period == "4-9 months" {
            &t.table_4_rate_4_to_9_months_ppm_per_year
        } else {
            &t.table_4_rate_10_to_24_months_ppm_per_year
        };
        oxygen_column.pick(table)
    });

    let table_1 = oxygen_column.pick(&t.table_1_90th_percentile_ppm);
    let table_2 = oxygen_column.pick(&t.table_2_95th_percentile_ppm);
    let table_3 = oxygen_column.pick(&t.table_3_delta_ppm);
    let context = format!("{}, {}", oxygen_column.label(), age_group.label());

    let mut gases = Vec::with_capacity(7);
    let mut reasons = Vec::new();
    let mut not_measured = Vec::new();
    for gas in Gas::IEEE_2019 {
        let Some(ppm) = latest.level(gas) else {
            not_measured.push(gas.symbol());
            continue;
        };
        let l1 = table_1.get(gas).map_or(f64::INFINITY, |c| c[col]);
        let l2 = table_2.get(gas).map_or(f64::INFINITY, |c| c[col]);
        let t1_exceeded = ppm > l1;
        let t2_exceeded = ppm > l2;
        if t2_exceeded {
            reasons.push(reason(gas, Ieee2019Table::Table2, ppm, l2, "ppm", &context));
        } else if t1_exceeded {
            reasons.push(reason(gas, Ieee2019Table::Table1, ppm, l1, "ppm", &context));
        }

        // A previous "<5" may have been up to 5 ppm: the increase shown is at least ppm - 5.
        let delta_ppm = previous.and_then(|p| {
            let before = match p.get(gas) {
                crate::GasReading::BelowDetection { limit_ppm: Some(limit) } => limit,
                other => other.level_ppm()?,
            };
            Some(ppm - before)
        });
        let mut t3_exceeded = false;
        let (mut status_2_above_ppm, mut status_3_above_ppm) = (l1, l2);
        let mut limits = GasLimits { table_1_ppm: l1, table_2_ppm: l2, table_3_ppm: None, table_4_ppm_per_year: None };
        if let Some(delta) = delta_ppm {
            // C2H2 is "any increase": its table value is 0, plus the analytical tolerance.
            let tolerance = if gas == Gas::C2H2 { t.c2h2_increase_tolerance_ppm } else { 0.0 };
            let l3 = limit_of(table_3, gas) + tolerance;
            status_2_above_ppm = status_2_above_ppm.min(ppm - delta + l3);
            limits.table_3_ppm = Some(l3);
            if delta > l3 {
                t3_exceeded = true;
                reasons.push(reason(gas, Ieee2019Table::Table3, delta, l3, "ppm increase", oxygen_column.label()));
            } else if -delta > l3.max(f64::MIN_POSITIVE) && gas != Gas::C2H2 {
                notes.push(format!(
                    "{gas} fell by {:.1} ppm since the previous sample (degassing, oil change or a sampling problem?)",
                    -delta
                ));
            }
        }

        let rate_ppm_per_year = window.and_then(|w| least_squares_rate_ppm_per_year(w, gas));
        let mut t4_exceeded = false;
        if let (Some(rate), Some(table), Some(rw)) = (rate_ppm_per_year, rate_table, rate_window.as_ref()) {
            // C2H2: "any increasing rate", i.e. a fitted rise over the window above the tolerance.
            let tolerance = if gas == Gas::C2H2 {
                let years = (rw.last_sampled_on - rw.first_sampled_on).num_days().max(1) as f64 / 365.0;
                t.c2h2_increase_tolerance_ppm / years
            } else {
                0.0
            };
            let l4 = limit_of(table, gas) + tolerance;
            limits.table_4_ppm_per_year = Some(l4);
            // The fitted rate is linear in the latest reading, with a positive weight.
            if let Some(w) = window.and_then(latest_weight_per_year) {
                let above = ppm + (l4 - rate) / w;
                status_2_above_ppm = status_2_above_ppm.min(above);
                status_3_above_ppm = status_3_above_ppm.min(above);
            }
            if rate > l4 {
                t4_exceeded = true;
                let ctx = format!("{}, {} window of {} samples", oxygen_column.label(), rw.period, rw.samples);
                reasons.push(reason(gas, Ieee2019Table::Table4, rate, l4, "ppm/year", &ctx));
            }
        }

        // Figure 2: status 1 when within Table 1 with no abnormal increase or rate; status 3
        // when above Table 2 or above the Table 4 rate; otherwise status 2.
        let status = if !t1_exceeded && !t3_exceeded && !t4_exceeded {
            Ieee2019Status::One
        } else if t2_exceeded || t4_exceeded {
            Ieee2019Status::Three
        } else {
            Ieee2019Status::Two
        };
        gases.push(GasStatus {
            gas,
            status,
            ppm,
            delta_ppm,
            rate_ppm_per_year,
            limits,
            status_2_above_ppm,
            status_3_above_ppm,
        });
    }
    if !not_measured.is_empty() {
        notes.push(format!("not measured, so not rated: {}", not_measured.join(", ")));
    }
    let status = gases.iter().map(|g| g.status).max().unwrap_or(Ieee2019Status::One);
    // Worst first: Table 2/4 before Table 1/3, then by how far the limit is exceeded.
    reasons.sort_by(|a, b| severity(b.table).cmp(&severity(a.table)).then(exceedance(b).total_cmp(&exceedance(a))));
    Some(Ieee2019Assessment {
        status,
        oxygen_column,
        o2_n2_ratio,
        age_group,
        samples: history.len(),
        rate_window,
        gases,
        reasons,
        notes,
    })
}

fn exceedance(r: &StatusReason) -> f64 {
    if r.limit > 0.0 { r.value / r.limit } else { f64::INFINITY }
}

fn severity(table: Ieee2019Table) -> u8 {
    match table {
        Ieee2019Table::Table2 | Ieee2019Table::Table4 => 2,
        Ieee2019Table::Table1 | Ieee2019Table::Table3 => 1,
    }
}

fn reason(gas: Gas, table: Ieee2019Table, value: f64, limit: f64, unit: &'static str, context: &str) -> StatusReason {
    // One buffer for the whole sentence: reasons are built for every exceeding gas of every asset.
    let mut text = String::with_capacity(160 + context.len());
    text.push_str(gas.symbol());
    // C2H2 has no tabulated increase or rate: "any increase" counts above the lab's repeatability
    // (`c2h2_increase_tolerance_ppm`), so the limit shown is that tolerance, not a percentile.
    let (before, middle, after) = match (table, gas) {
        (Ieee2019Table::Table1, _) => (" ", " ppm is above its 90th-percentile level of ", " ppm"),
        (Ieee2019Table::Table2, _) => (" ", " ppm is above its 95th-percentile level of ", " ppm"),
        (Ieee2019Table::Table3, Gas::C2H2) => (
            " rose by ",
            " ppm since the previous sample; any increase beyond the lab repeatability of ",
            " ppm counts",
        ),
        (Ieee2019Table::Table3, _) => {
            (" rose by ", " ppm since the previous sample, more than the 95th-percentile increase of ", " ppm")
        }
        (Ieee2019Table::Table4, Gas::C2H2) => (
            " is rising at ",
            " ppm/year; any increasing rate beyond the lab repeatability (",
            " ppm/year over this window) counts",
        ),
        (Ieee2019Table::Table4, _) => {
            (" is generated at ", " ppm/year, faster than the 95th-percentile rate of ", " ppm/year")
        }
    };
    text.push_str(before);
    write_num(&mut text, value);
    text.push_str(middle);
    write_num(&mut text, limit);
    text.push_str(after);
    text.push_str(" (IEEE C57.104-2019 ");
    text.push_str(table.title());
    text.push_str(", ");
    text.push_str(context);
    text.push(')');
    StatusReason { gas, table, value, limit, unit: unit.into(), text }
}

impl StatusReason {
    /// `C2H2 60 > 2 ppm (Table 2)`: the reason in a table cell. Table numbers are spelled out so
    /// that they never read like the fault codes T1-T3.
    pub fn short(&self) -> String {
        let what = match self.table {
            Ieee2019Table::Table1 | Ieee2019Table::Table2 => "",
            Ieee2019Table::Table3 => " rise",
            Ieee2019Table::Table4 => " rate",
        };
        let mut s = String::with_capacity(48);
        s.push_str(self.gas.symbol());
        s.push_str(what);
        s.push(' ');
        write_num(&mut s, self.value);
        s.push_str(" > ");
        write_num(&mut s, self.limit);
        s.push(' ');
        s.push_str(&self.unit);
        s.push_str(" (");
        s.push_str(self.table.title());
        s.push(')');
        s
    }
}

impl Ieee2019Table {
    /// "Table 1" … "Table 4", as the standard numbers them.
    pub fn title(self) -> &'static str {
        match self {
            Ieee2019Table::Table1 => "Table 1",
            Ieee2019Table::Table2 => "Table 2",
            Ieee2019Table::Table3 => "Table 3",
            Ieee2019Table::Table4 => "Table 4",
        }
    }
}

/// Numbers as an engineer writes them: no trailing zeros, one decimal for fractions.
pub fn fmt_num(v: f64) -> String {
    let mut s = String::with_capacity(12);
    write_num(&mut s, v);
    s
}

/// [`fmt_num`] into a buffer. Fixed-point through integers: `{:.1}` goes through exact float
/// formatting (big-number arithmetic), which was a tenth of a whole diagnosis.
pub fn write_num(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    let decimals: u32 = if (v - v.round()).abs() < 1e-9 {
        0
    } else if v.abs() < 10.0 {
        2
    } else {
        1
    };
    let unit = 10u64.pow(decimals);
    let scaled = (v * unit as f64).round_ties_even();
    if !scaled.is_finite() || scaled.abs() >= 9.0e15 {
        let _ = write!(out, "{v:.prec$}", prec = decimals as usize);
        return;
    }
    let n = scaled as i64;
    if n < 0 {
        out.push('-');
    }
    let n = n.unsigned_abs();
    let _ = write!(out, "{}", n / unit);
    if decimals > 0 {
        let _ = write!(out, ".{:0width$}", n % unit, width = decimals as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Thresholds;

    fn t() -> Ieee2019Thresholds {
        Thresholds::default().ieee_c57_104_2019
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A sealed-unit sample (O2/N2 = 0.05) with every gas low.
    fn quiet() -> DgaSample {
        DgaSample::default()
            .with(Gas::H2, 10.0)
            .with(Gas::CH4, 5.0)
            .with(Gas::C2H6, 5.0)
            .with(Gas::C2H4, 5.0)
            .with(Gas::C2H2, 0.0)
            .with(Gas::CO, 100.0)
            .with(Gas::CO2, 1000.0)
            .with(Gas::O2, 2000.0)
            .with(Gas::N2, 40000.0)
    }

    #[test]
    fn a_short_reason_spells_the_table_out() {
        let a = assess(&[quiet().with(Gas::H2, 81.0)], None, &t()).unwrap();
        assert_eq!(a.reasons[0].short(), "H2 81 > 80 ppm (Table 1)");
    }

    #[test]
    fn numbers_as_an_engineer_writes_them() {
        for v in [0.0, 1.0, 2.5, 0.125, 9.994, 9.996, 10.04, 101.56, 1234.5, -3.25, -0.001, 7e6, 1e20] {
            let want = if (v - f64::round(v)).abs() < 1e-9 {
                format!("{v:.0}")
            } else if f64::abs(v) < 10.0 {
                format!("{v:.2}")
            } else {
                format!("{v:.1}")
            };
            // Ties round to even, as `{:.N}` does for exactly representable halves (0.125). A value
            // a hair below a tie in binary (101.55) may round up here: no engineer would mind.
            assert_eq!(fmt_num(v).trim_start_matches('-'), want.trim_start_matches('-'), "{v}");
        }
    }

    #[test]
    fn one_sample_uses_tables_1_and_2() {
        let a = assess(&[quiet()], None, &t()).unwrap();
        assert_eq!(
            (a.status, a.oxygen_column, a.age_group),
            (Ieee2019Status::One, OxygenColumn::LowOxygen, AgeGroup::Unknown)
        );
        assert!(a.reasons.is_empty() && a.rate_window.is_none());
        // H2 81 > 80 (Table 1, sealed, unknown age) but <= 200 (Table 2): status 2.
        let a = assess(&[quiet().with(Gas::H2, 81.0)], None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::Two);
        assert_eq!((a.reasons[0].gas, a.reasons[0].table, a.reasons[0].limit), (Gas::H2, Ieee2019Table::Table1, 80.0));
        assert!(
            a.reasons[0].text.contains(
                "H2 81 ppm is above its 90th-percentile level of 80 ppm (IEEE C57.104-2019 Table 1, O2/N2 <= 0.2, age unknown)"
            ),
            "{}",
            a.reasons[0].text
        );
        // Exactly the limit is not an exceedance (strictly greater, [S1][S5][S6]).
        assert_eq!(assess(&[quiet().with(Gas::H2, 80.0)], None, &t()).unwrap().status, Ieee2019Status::One);
        // C2H2 2.5 > 2 (Table 2): status 3.
        let a = assess(&[quiet().with(Gas::C2H2, 2.5)], None, &t()).unwrap();
        assert_eq!((a.status, a.reasons[0].table), (Ieee2019Status::Three, Ieee2019Table::Table2));
    }

    #[test]
    fn columns_follow_o2_n2_and_age() {
        // Same H2 of 50 ppm: within the sealed limit 75 (1-9 years), above the air-breathing 40.
        let sealed = quiet().with(Gas::H2, 50.0);
        assert_eq!(assess(std::slice::from_ref(&sealed), Some(5.0), &t()).unwrap().status, Ieee2019Status::One);
        let breathing = sealed.clone().with(Gas::O2, 20000.0);
        let a = assess(&[breathing], Some(5.0), &t()).unwrap();
        assert_eq!((a.oxygen_column, a.status), (OxygenColumn::HighOxygen, Ieee2019Status::Two));
        // O2/N2 exactly 0.2 is the low-oxygen column.
        let edge = sealed.clone().with(Gas::O2, 8000.0);
        assert_eq!(assess(&[edge], Some(5.0), &t()).unwrap().oxygen_column, OxygenColumn::LowOxygen);
        // Unknown O2/N2: the conservative high-oxygen column, with a note.
        let mut unknown = sealed.clone();
        unknown.o2_ppm = crate::GasReading::NotMeasured;
        let a = assess(&[unknown], Some(5.0), &t()).unwrap();
        assert_eq!(a.oxygen_column, OxygenColumn::HighOxygen);
        assert!(a.notes.iter().any(|n| n.contains("O2/N2 unknown")));
        // C2H6 of 100 ppm in a sealed unit: > 90 (age unknown, 10-30), <= 150 (> 30 years).
        let s = quiet().with(Gas::C2H6, 100.0);
        assert_eq!(assess(std::slice::from_ref(&s), Some(20.0), &t()).unwrap().status, Ieee2019Status::Two);
        assert_eq!(assess(std::slice::from_ref(&s), Some(31.0), &t()).unwrap().status, Ieee2019Status::One);
        assert_eq!(AgeGroup::of(Some(0.0)), AgeGroup::OneToNine);
        assert_eq!(AgeGroup::of(Some(9.9)), AgeGroup::OneToNine);
        assert_eq!(AgeGroup::of(Some(30.0)), AgeGroup::TenToThirty);
        assert_eq!(AgeGroup::of(Some(f64::NAN)), AgeGroup::Unknown);
    }

    #[test]
    fn two_samples_add_the_delta_table() {
        let before = quiet().with(Gas::C2H4, 10.0).on(d(2024, 1, 1));
        // +25 ppm C2H4 (> 20): status 2 although the level 35 is within Table 1 (50).
        let after = quiet().with(Gas::C2H4, 35.0).on(d(2024, 2, 1));
        let a = assess(&[before.clone(), after], None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::Two);
        assert_eq!(a.reasons[0].table, Ieee2019Table::Table3);
        assert_eq!(a.gases.iter().find(|g| g.gas == Gas::C2H4).unwrap().delta_ppm, Some(25.0));
        // A decrease never raises the status, it is noted.
        let after = quiet().with(Gas::C2H4, 5.0).with(Gas::H2, 10.0).on(d(2024, 2, 1));
        let before_high = before.clone().with(Gas::H2, 90.0);
        let a = assess(&[before_high, after], None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::One);
        assert!(a.notes.iter().any(|n| n.contains("H2 fell by 80.0 ppm")), "{:?}", a.notes);
        // A previous "<5" counts as up to 5 ppm: 3 ppm now shows no increase.
        let mut was_below = before.clone();
        was_below.c2h2_ppm = crate::GasReading::BelowDetection { limit_ppm: Some(5.0) };
        let a = assess(&[was_below, quiet().with(Gas::C2H2, 3.0)], None, &t()).unwrap();
        assert_eq!(a.gases.iter().find(|g| g.gas == Gas::C2H2).unwrap().delta_ppm, Some(-2.0));
        assert!(!a.reasons.iter().any(|r| r.table == Ieee2019Table::Table3));
        // C2H2: any increase above the 0.5 ppm analytical tolerance.
        let a = assess(&[before.clone(), quiet().with(Gas::C2H2, 0.4)], None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::One);
        let a = assess(&[before, quiet().with(Gas::C2H2, 0.8)], None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::Two);
    }

    #[test]
    fn whole_calendar_months() {
        assert_eq!(whole_months(d(2024, 1, 15), d(2024, 5, 14)), 3);
        assert_eq!(whole_months(d(2024, 1, 15), d(2024, 5, 15)), 4);
        assert_eq!(whole_months(d(2023, 11, 30), d(2025, 11, 30)), 24);
    }

    #[test]
    fn least_squares_not_two_points() {
        // H2 10, 40, 20 at 0, 6, 12 months: two-point first-to-last rate would be 10/year,
        // last-two 20/half-year = 40/year; the least-squares rate is 10 ppm/year.
        let w = [
            quiet().with(Gas::H2, 10.0).on(d(2023, 1, 1)),
            quiet().with(Gas::H2, 40.0).on(d(2023, 7, 2)),
            quiet().with(Gas::H2, 20.0).on(d(2024, 1, 1)),
        ];
        let days = [0.0, 182.0, 365.0];
        let ys = [10.0, 40.0, 20.0];
        let (mt, my) = (days.iter().sum::<f64>() / 3.0, ys.iter().sum::<f64>() / 3.0);
        let sxy: f64 = days.iter().zip(ys).map(|(t, y)| (t - mt) * (y - my)).sum();
        let sxx: f64 = days.iter().map(|t| (t - mt).powi(2)).sum();
        let expected = sxy / sxx * 365.0;
        let rate = least_squares_rate_ppm_per_year(&w, Gas::H2).unwrap();
        assert!((rate - expected).abs() < 1e-9 && (rate - 10.0).abs() < 0.1, "{rate} vs {expected}");
    }

    #[test]
    fn three_samples_add_the_rate_table() {
        // CH4 rising 5 → 8 → 11 ppm over 12 months: 6 ppm/year, 10-24 month sealed limit 10.
        let ok = [
            quiet().with(Gas::CH4, 5.0).on(d(2023, 1, 1)),
            quiet().with(Gas::CH4, 8.0).on(d(2023, 7, 2)),
            quiet().with(Gas::CH4, 11.0).on(d(2024, 1, 1)),
        ];
        let a = assess(&ok, None, &t()).unwrap();
        let rw = a.rate_window.clone().unwrap();
        assert_eq!((rw.samples, rw.span_months, rw.period.as_ref()), (3, 12, "10-24 months"));
        assert_eq!(a.status, Ieee2019Status::One);
        // 5 → 15 → 25 ppm: 20 ppm/year > 10 → status 3 although every level is within Table 1
        // and each step (+10) is within Table 3 (30).
        let fast = [
            quiet().with(Gas::CH4, 5.0).on(d(2023, 1, 1)),
            quiet().with(Gas::CH4, 15.0).on(d(2023, 7, 2)),
            quiet().with(Gas::CH4, 25.0).on(d(2024, 1, 1)),
        ];
        let a = assess(&fast, None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::Three);
        assert_eq!((a.reasons[0].gas, a.reasons[0].table, a.reasons[0].limit), (Gas::CH4, Ieee2019Table::Table4, 10.0));
        // Same gases over 6 months: the 4-9 month column (limit 15).
        let short = [
            quiet().with(Gas::CH4, 5.0).on(d(2023, 1, 1)),
            quiet().with(Gas::CH4, 8.0).on(d(2023, 4, 1)),
            quiet().with(Gas::CH4, 11.0).on(d(2023, 7, 1)),
        ];
        let a = assess(&short, None, &t()).unwrap();
        assert_eq!(a.rate_window.unwrap().period, "4-9 months");
        assert_eq!(a.status, Ieee2019Status::One); // about 12 ppm/year, within 15
    }

    #[test]
    fn acetylene_any_increasing_rate_beyond_lab_repeatability() {
        let dates = [d(2023, 1, 1), d(2023, 7, 2), d(2024, 1, 1)];
        let at = |ppm: [f64; 3]| -> Vec<DgaSample> {
            dates.iter().zip(ppm).map(|(day, v)| quiet().with(Gas::C2H2, v).on(*day)).collect()
        };
        // "<0.5", "<0.5", 0.3: a fitted rise of about 0.3 ppm is lab noise.
        assert_eq!(assess(&at([0.0, 0.0, 0.3]), None, &t()).unwrap().status, Ieee2019Status::One);
        // 0 → 0.4 → 0.8: each step within 0.5 ppm, but a steady 0.8 ppm/year rise: status 3.
        let a = assess(&at([0.0, 0.4, 0.8]), None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::Three);
        assert_eq!((a.reasons[0].gas, a.reasons[0].table), (Gas::C2H2, Ieee2019Table::Table4));
        // A literal reading of the standard (tolerance 0) flags the noise too.
        let literal = Ieee2019Thresholds { c2h2_increase_tolerance_ppm: 0.0, ..t() };
        assert_eq!(assess(&at([0.0, 0.0, 0.3]), None, &literal).unwrap().status, Ieee2019Status::Three);
    }

    #[test]
    fn six_samples_and_window_rules() {
        // Eight quarterly samples: the window is the last six (15 months).
        let hist: Vec<DgaSample> = (0..8)
            .map(|i| quiet().with(Gas::H2, 10.0 + f64::from(i)).on(d(2022 + (i as i32 * 3) / 12, 1 + (i * 3) % 12, 1)))
            .collect();
        let a = assess(&hist, None, &t()).unwrap();
        let rw = a.rate_window.unwrap();
        assert_eq!((rw.samples, rw.span_months, rw.first_sampled_on), (6, 15, d(2022, 7, 1)));
        // H2 rises 1 ppm per quarter: ~4 ppm/year.
        let rate = a.gases[0].rate_ppm_per_year.unwrap();
        assert!((rate - 4.0).abs() < 0.1, "{rate}");
        // Yearly samples: six span 60 months, dropping the oldest stops at three (24 months).
        let yearly: Vec<DgaSample> = (0..6).map(|i| quiet().on(d(2019 + i, 3, 1))).collect();
        let w = rate_window(&yearly, &t()).unwrap();
        assert_eq!((w.len(), w[0].sampled_on), (3, Some(d(2022, 3, 1))));
        // Three samples within 3 months: too short for a rate.
        let close: Vec<DgaSample> = (0..3).map(|i| quiet().on(d(2024, 1 + i, 1))).collect();
        assert!(rate_window(&close, &t()).unwrap_err().contains("less than 4"));
        // Three samples 13 months apart each: even three span more than 24 months.
        let sparse = [quiet().on(d(2020, 1, 1)), quiet().on(d(2021, 2, 1)), quiet().on(d(2022, 3, 1))];
        assert!(rate_window(&sparse, &t()).unwrap_err().contains("more than 24"));
        let undated = [quiet(), quiet(), quiet()];
        assert!(rate_window(&undated, &t()).unwrap_err().contains("no date"));
    }

    #[test]
    fn below_detection_counts_as_zero_for_levels() {
        let mut s = quiet();
        s.c2h2_ppm = crate::GasReading::BelowDetection { limit_ppm: Some(5.0) };
        let a = assess(&[s], None, &t()).unwrap();
        assert_eq!(a.status, Ieee2019Status::One);
        let mut s = quiet();
        s.co_ppm = crate::GasReading::NotMeasured;
        s.co2_ppm = crate::GasReading::NotMeasured;
        let a = assess(&[s], None, &t()).unwrap();
        assert_eq!(a.gases.len(), 5);
        assert!(a.notes.iter().any(|n| n.contains("not measured, so not rated: CO, CO2")));
    }
}
