//! Every number a diagnosis compares against, in one table, with defaults and their sources.
//!
//! Source tags `[S#]` and confidence marks (CONFIRMED-n / SINGLE / UNCONFIRMED) refer to
//! docs/sources.md. Numbers marked SINGLE or UNCONFIRMED are kept here (not in
//! the method modules) so that a utility can override them without a rebuild: the CLI and the
//! Lambdas read the same JSON override file through [`Thresholds::with_overrides`]. Geometry that
//! four sources agree on (the Duval zones, the Rogers and IEC ratio tables) lives in the method
//! modules beside the clause it comes from.

use serde::{Deserialize, Serialize};

use crate::gas::Gas;

/// The environment variable naming a JSON file of threshold overrides; the CLI (`--thresholds`)
/// and the Lambdas read the same file the same way, through [`Thresholds::with_overrides`].
pub const THRESHOLDS_ENV: &str = "SUBSTATION_DGA_THRESHOLDS";

/// Values for the seven gases of IEEE C57.104-2019 Tables 1-4 (and IEC 60599 Annex A).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasTable<T> {
    /// Hydrogen.
    #[serde(rename = "H2")]
    pub h2: T,
    /// Methane.
    #[serde(rename = "CH4")]
    pub ch4: T,
    /// Ethane.
    #[serde(rename = "C2H6")]
    pub c2h6: T,
    /// Ethylene.
    #[serde(rename = "C2H4")]
    pub c2h4: T,
    /// Acetylene.
    #[serde(rename = "C2H2")]
    pub c2h2: T,
    /// Carbon monoxide.
    #[serde(rename = "CO")]
    pub co: T,
    /// Carbon dioxide.
    #[serde(rename = "CO2")]
    pub co2: T,
}

impl<T: Copy> GasTable<T> {
    /// `None` for O2 and N2, which these tables do not rate.
    pub fn get(&self, gas: Gas) -> Option<T> {
        Some(match gas {
            Gas::H2 => self.h2,
            Gas::CH4 => self.ch4,
            Gas::C2H6 => self.c2h6,
            Gas::C2H4 => self.c2h4,
            Gas::C2H2 => self.c2h2,
            Gas::CO => self.co,
            Gas::CO2 => self.co2,
            Gas::O2 | Gas::N2 => return None,
        })
    }
}

/// Columns of IEEE C57.104-2019 Tables 1 and 2: `[unknown age, 1-9 y, 10-30 y, >30 y]`.
pub type AgeColumns = [f64; 4];

/// A table with one set of columns for O2/N2 <= 0.2 and one for O2/N2 > 0.2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByOxygen<T> {
    /// O2/N2 <= 0.2 ("sealed / low oxygen").
    pub low_oxygen: T,
    /// O2/N2 > 0.2 ("free-breathing / air-saturated"), also used when O2/N2 is unknown.
    pub high_oxygen: T,
}

/// IEEE C57.104-2019 limits: Tables 1-4 and the least-squares rate window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ieee2019Thresholds {
    /// O2/N2 at or below this uses the low-oxygen columns. 0.2, CONFIRMED-4 [S1][S5][S6][S7].
    pub low_oxygen_max_o2_n2: f64,
    /// Table 1, 90th percentile ppm. CONFIRMED-2 [S1][S5] cell by cell.
    pub table_1_90th_percentile_ppm: ByOxygen<GasTable<AgeColumns>>,
    /// Table 2, 95th percentile ppm. CONFIRMED-2 [S1][S5] cell by cell.
    pub table_2_95th_percentile_ppm: ByOxygen<GasTable<AgeColumns>>,
    /// Table 3, 95th percentile of the sample-to-sample increase, ppm. SINGLE [S5] (four cells
    /// CONFIRMED-2 with [S2]). C2H2 is "any increase": 0 here, see `c2h2_increase_tolerance_ppm`.
    pub table_3_delta_ppm: ByOxygen<GasTable<f64>>,
    /// Table 4, 95th percentile rates for a 4-9 month window, ppm/year. SINGLE [S5].
    pub table_4_rate_4_to_9_months_ppm_per_year: ByOxygen<GasTable<f64>>,
    /// Table 4, 95th percentile rates for a 10-24 month window, ppm/year. SINGLE [S5]; the
    /// low-oxygen column CONFIRMED-2 with [S2].
    pub table_4_rate_10_to_24_months_ppm_per_year: ByOxygen<GasTable<f64>>,
    /// Acetylene is "any increase" (Table 3) and "any increasing rate" (Table 4) [S5][S6]. An
    /// increase counts only above this lab repeatability: the rise since the previous sample
    /// (Table 3), or the least-squares rise over the rate window, rate × span (Table 4). Project
    /// choice suggested by the reference (1.4), not a number from the standard; 0 reads the
    /// standard literally (then a 0.3 ppm reading after "<0.5" is status 3).
    pub c2h2_increase_tolerance_ppm: f64,
    /// The least-squares rate window takes the 3 to 6 most recent samples spanning 4 to 24
    /// months (CONFIRMED-3): the fewest samples, 3.
    pub rate_min_samples: usize,
    /// The most samples the window takes: 6.
    pub rate_max_samples: usize,
    /// The window's shortest span, whole calendar months: 4.
    pub rate_min_span_months: u32,
    /// The window's longest span, whole calendar months: 24.
    pub rate_max_span_months: u32,
    /// Spans up to this many whole calendar months use the 4-9 month column [S5].
    pub rate_short_window_max_months: u32,
}

/// IEEE C57.104-2008 limits: the four conditions (Table 1) and the TDCG rate bands (Table 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ieee2008Thresholds {
    /// Table 1: upper limits of conditions 1, 2 and 3 per gas, ppm (above the third is
    /// condition 4). CONFIRMED-3 [S1][S7][S9].
    pub condition_upper_limits_ppm: GasTable<[f64; 3]>,
    /// Table 1: upper limits of conditions 1, 2 and 3 for TDCG, ppm. CONFIRMED-3.
    pub tdcg_condition_upper_limits_ppm: [f64; 3],
    /// Table 3 TDCG rate bands, ppm/day: below the first is "< 10", above the second "> 30".
    /// Corroborated by [S10][S11] only.
    pub tdcg_rate_bands_ppm_per_day: [f64; 2],
    /// Table 3 sampling intervals, `[condition 1..4][rate < 10, 10-30, > 30]`. UNCONFIRMED
    /// (recollection of the 2008 text): shown as guidance, never used in a decision.
    pub sampling_intervals: [[String; 3]; 4],
}

/// The Doernenburg method's L1 limits, ppm (IEEE C57.104-2008 Table 2). SINGLE [S1] plus
/// recollection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoernenburgThresholds {
    /// L1 for H2, ppm.
    pub l1_h2_ppm: f64,
    /// L1 for CH4, ppm.
    pub l1_ch4_ppm: f64,
    /// L1 for CO, ppm.
    pub l1_co_ppm: f64,
    /// L1 for C2H2, ppm.
    pub l1_c2h2_ppm: f64,
    /// L1 for C2H4, ppm.
    pub l1_c2h4_ppm: f64,
    /// L1 for C2H6, ppm.
    pub l1_c2h6_ppm: f64,
}

/// IEC 60599 values: Annex A typical concentrations and rates, the Table 1 reading, and the
/// auxiliary ratios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Iec60599Thresholds {
    /// Annex A 90 % typical concentrations, power transformers without a communicating OLTC, ppm.
    /// Upper ends of the ranges, CONFIRMED-2 [S1][S3]; each utility should choose its own value
    /// inside the range.
    pub typical_ppm: GasTable<f64>,
    /// C2H2 typical concentration when the OLTC communicates with the main tank; upper end of
    /// the range, CONFIRMED-2 [S1][S3] (S3 attaches it to the wrong flag).
    pub typical_c2h2_communicating_oltc_ppm: f64,
    /// Annex A 90 % typical rates of increase, upper ends of the ranges, ppm/year. SINGLE [S3].
    pub typical_rate_ppm_per_year: GasTable<f64>,
    /// C2H2 typical rate with a communicating OLTC, ppm/year. SINGLE [S3].
    pub typical_c2h2_rate_communicating_oltc_ppm_per_year: f64,
    /// When set, PD and T1 also require C2H2/C2H4 below this (S2's reading of Figure B.1: 0.01).
    /// Default: C2H2/C2H4 is "not significant" for PD and T1, as [S1] reads Table 1.
    pub pd_t1_max_c2h2_c2h4: Option<f64>,
    /// Clause 5.x auxiliary ratios, SINGLE [S3]: CO2/CO below this suggests paper involvement.
    pub co2_co_paper_max: f64,
    /// CO2/CO above this with CO2 above `co2_oxidation_min_ppm`: mild paper overheating/oxidation.
    pub co2_co_oxidation_min: f64,
    /// CO2 above this, ppm, with CO2/CO above `co2_co_oxidation_min`: mild paper overheating/oxidation.
    pub co2_oxidation_min_ppm: f64,
    /// O2/N2 below this in a free-breathing unit: excessive oxygen consumption.
    pub o2_n2_consumption_max: f64,
    /// C2H2/H2 above this in the main tank: suspect contamination from the OLTC compartment.
    pub c2h2_h2_oltc_contamination_min: f64,
}

/// Duval triangle boundaries on which the sources disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuvalThresholds {
    /// Triangle 5: %C2H6 boundary between PD/O and S. 14 per IEEE 2019 Table D.4 as transcribed
    /// by [S2]; [S1] and [S3] use 15.
    pub triangle_5_stray_gassing_min_c2h6_pct: f64,
}

/// Analytical detection limits S per gas, ppm, substituted for lower values before ratios
/// (IEC 60599 clause 6.1 / IEC 60567). SINGLE [S3]; the IEC 60567 values are UNCONFIRMED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionLimits {
    /// Hydrogen, ppm.
    #[serde(rename = "H2")]
    pub h2: f64,
    /// Methane, ppm.
    #[serde(rename = "CH4")]
    pub ch4: f64,
    /// Ethane, ppm.
    #[serde(rename = "C2H6")]
    pub c2h6: f64,
    /// Ethylene, ppm.
    #[serde(rename = "C2H4")]
    pub c2h4: f64,
    /// Acetylene, ppm.
    #[serde(rename = "C2H2")]
    pub c2h2: f64,
    /// Carbon monoxide, ppm.
    #[serde(rename = "CO")]
    pub co: f64,
    /// Carbon dioxide, ppm.
    #[serde(rename = "CO2")]
    pub co2: f64,
    /// Oxygen, ppm.
    #[serde(rename = "O2")]
    pub o2: f64,
    /// Nitrogen, ppm.
    #[serde(rename = "N2")]
    pub n2: f64,
}

impl DetectionLimits {
    /// The detection limit of one gas, ppm.
    pub fn get(&self, gas: Gas) -> f64 {
        match gas {
            Gas::H2 => self.h2,
            Gas::CH4 => self.ch4,
            Gas::C2H6 => self.c2h6,
            Gas::C2H4 => self.c2h4,
            Gas::C2H2 => self.c2h2,
            Gas::CO => self.co,
            Gas::CO2 => self.co2,
            Gas::O2 => self.o2,
            Gas::N2 => self.n2,
        }
    }
}

/// The asset diagnosis's own numbers: measurement uncertainty and the confidence gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombinedThresholds {
    /// One standard deviation of a lab result, as a share of the reading: 0.15. IEC 60567's
    /// accuracy requirement and CIGRE's inter-laboratory comparisons put typical laboratory
    /// accuracy at about ±15 % well above the detection limit (docs/sources.md [U1][U2];
    /// UNCONFIRMED against the texts), so it is configurable.
    pub relative_uncertainty: f64,
    /// The standard deviation never falls below this, ppm: 1. Near the detection limit the
    /// error is absolute, not relative (docs/sources.md [U3]; UNCONFIRMED, configurable).
    pub uncertainty_floor_ppm: f64,
    /// A below-detection result with a stated limit (`<0.5`) is read as 0 ppm with a standard
    /// deviation of the limit divided by this: 3, because a limit of detection is three
    /// standard deviations of the blank (IUPAC; docs/sources.md [U4]). Without a stated limit
    /// the floor applies.
    pub detection_limit_sigmas: f64,
    /// `high` confidence needs at least this probability for the verdict (and a cross-check that
    /// gives the same code, and none that contradicts it). Project choice.
    pub high_confidence_min_probability: f64,
    /// `medium` confidence needs at least this probability. Project choice.
    pub medium_confidence_min_probability: f64,
}

/// Recommended actions per IEEE C57.104-2019 status (clause 6, as paraphrased by [S5]). The
/// standard's resampling intervals were not found in any source: none are invented here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    /// The action at status 1.
    pub status_1: String,
    /// The action at status 2.
    pub status_2: String,
    /// The action at status 3.
    pub status_3: String,
}

/// The whole table. `Thresholds::default()` is the reference's recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Analytical detection limits, ppm, substituted for lower values in ratios.
    pub detection_limits_ppm: DetectionLimits,
    /// IEEE C57.104-2019: Tables 1-4 and the rate window.
    pub ieee_c57_104_2019: Ieee2019Thresholds,
    /// IEEE C57.104-2008: the conditions and the TDCG rate bands.
    pub ieee_c57_104_2008: Ieee2008Thresholds,
    /// Doernenburg: the L1 limits.
    pub doernenburg: DoernenburgThresholds,
    /// IEC 60599: typical values and auxiliary ratios.
    pub iec_60599: Iec60599Thresholds,
    /// Duval triangle boundaries.
    pub duval: DuvalThresholds,
    /// Measurement uncertainty and the confidence gates.
    pub combined: CombinedThresholds,
    /// Recommended actions by IEEE C57.104-2019 status.
    pub actions: Actions,
}

/// Why an override file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ThresholdsError {
    /// The file is not valid JSON.
    #[error("threshold overrides are not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The top level is not a JSON object.
    #[error("threshold overrides must be a JSON object at the top level")]
    NotAnObject,
    /// A key or value is refused: unknown, of the wrong type, or out of range.
    #[error("threshold '{path}': {message}")]
    Field {
        /// Where, as a dotted path, e.g. `combined.relative_uncertainty`.
        path: String,
        /// Why it is refused.
        message: String,
    },
}

fn gas_table<T>(values: [T; 7]) -> GasTable<T> {
    let [h2, ch4, c2h6, c2h4, c2h2, co, co2] = values;
    GasTable { h2, ch4, c2h6, c2h4, c2h2, co, co2 }
}

impl Default for Thresholds {
    fn default() -> Self {
        // Row order of every table below: H2, CH4, C2H6, C2H4, C2H2, CO, CO2.
        let ieee_2019 = Ieee2019Thresholds {
            low_oxygen_max_o2_n2: 0.2,
            // sources.md §1.2 (Table 1).
            table_1_90th_percentile_ppm: ByOxygen {
                low_oxygen: gas_table([
                    [80.0, 75.0, 75.0, 100.0],
                    [90.0, 45.0, 90.0, 110.0],
                    [90.0, 30.0, 90.0, 150.0],
                    [50.0, 20.0, 50.0, 90.0],
                    [1.0, 1.0, 1.0, 1.0],
                    [900.0, 900.0, 900.0, 900.0],
                    [9000.0, 5000.0, 10000.0, 10000.0],
                ]),
                high_oxygen: gas_table([
                    [40.0, 40.0, 40.0, 40.0],
                    [20.0, 20.0, 20.0, 20.0],
                    [15.0, 15.0, 15.0, 15.0],
                    [50.0, 25.0, 60.0, 60.0],
                    [2.0, 2.0, 2.0, 2.0],
                    [500.0, 500.0, 500.0, 500.0],
                    [5000.0, 3500.0, 5500.0, 5500.0],
                ]),
            },
            // sources.md §1.3 (Table 2). The CH4 high-oxygen 60/30 cells are as printed in
            // both [S1] and [S5].
            table_2_95th_percentile_ppm: ByOxygen {
                low_oxygen: gas_table([
                    [200.0, 200.0, 200.0, 200.0],
                    [150.0, 100.0, 150.0, 200.0],
                    [175.0, 70.0, 175.0, 250.0],
                    [100.0, 40.0, 95.0, 175.0],
                    [2.0, 2.0, 2.0, 4.0],
                    [1100.0, 1100.0, 1100.0, 1100.0],
                    [12500.0, 7000.0, 14000.0, 14000.0],
                ]),
                high_oxygen: gas_table([
                    [90.0, 90.0, 90.0, 90.0],
                    [50.0, 60.0, 60.0, 30.0],
                    [40.0, 30.0, 40.0, 40.0],
                    [100.0, 80.0, 125.0, 125.0],
                    [7.0, 7.0, 7.0, 7.0],
                    [600.0, 600.0, 600.0, 600.0],
                    [7000.0, 5000.0, 8000.0, 8000.0],
                ]),
            },
            // sources.md §1.4 (Table 3).
            table_3_delta_ppm: ByOxygen {
                low_oxygen: gas_table([40.0, 30.0, 25.0, 20.0, 0.0, 250.0, 2500.0]),
                high_oxygen: gas_table([25.0, 10.0, 7.0, 20.0, 0.0, 175.0, 1750.0]),
            },
            // sources.md §1.5 (Table 4).
            table_4_rate_4_to_9_months_ppm_per_year: ByOxygen {
                low_oxygen: gas_table([50.0, 15.0, 15.0, 10.0, 0.0, 200.0, 1750.0]),
                high_oxygen: gas_table([25.0, 4.0, 3.0, 7.0, 0.0, 100.0, 1000.0]),
            },
            table_4_rate_10_to_24_months_ppm_per_year: ByOxygen {
                low_oxygen: gas_table([20.0, 10.0, 9.0, 7.0, 0.0, 100.0, 1000.0]),
                high_oxygen: gas_table([10.0, 3.0, 2.0, 5.0, 0.0, 80.0, 800.0]),
            },
            c2h2_increase_tolerance_ppm: 0.5,
            rate_min_samples: 3,
            rate_max_samples: 6,
            rate_min_span_months: 4,
            rate_max_span_months: 24,
            rate_short_window_max_months: 9,
        };
        let s = |t: &str| t.to_owned();
        let ieee_2008 = Ieee2008Thresholds {
            // sources.md §2.1; CO2 exactly 2500 is condition 1.
            condition_upper_limits_ppm: gas_table([
                [100.0, 700.0, 1800.0],
                [120.0, 400.0, 1000.0],
                [65.0, 100.0, 150.0],
                [50.0, 100.0, 200.0],
                [1.0, 9.0, 35.0],
                [350.0, 570.0, 1400.0],
                [2500.0, 4000.0, 10000.0],
            ]),
            tdcg_condition_upper_limits_ppm: [720.0, 1920.0, 4630.0],
            tdcg_rate_bands_ppm_per_day: [10.0, 30.0],
            sampling_intervals: [
                [s("annual (6-monthly for EHV units)"), s("quarterly"), s("monthly")],
                [s("quarterly"), s("monthly"), s("monthly")],
                [s("monthly"), s("weekly"), s("weekly")],
                [s("weekly"), s("daily"), s("daily")],
            ],
        };
        Thresholds {
            detection_limits_ppm: DetectionLimits {
                h2: 2.0,
                ch4: 0.1,
                c2h6: 0.1,
                c2h4: 0.1,
                c2h2: 0.1,
                co: 5.0,
                co2: 10.0,
                o2: 500.0,
                n2: 2000.0,
            },
            ieee_c57_104_2019: ieee_2019,
            ieee_c57_104_2008: ieee_2008,
            doernenburg: DoernenburgThresholds {
                l1_h2_ppm: 100.0,
                l1_ch4_ppm: 120.0,
                l1_co_ppm: 350.0,
                l1_c2h2_ppm: 1.0,
                l1_c2h4_ppm: 50.0,
                l1_c2h6_ppm: 65.0,
            },
            iec_60599: Iec60599Thresholds {
                typical_ppm: gas_table([150.0, 130.0, 90.0, 280.0, 20.0, 600.0, 14000.0]),
                typical_c2h2_communicating_oltc_ppm: 280.0,
                typical_rate_ppm_per_year: gas_table([132.0, 120.0, 90.0, 146.0, 4.0, 1060.0, 10000.0]),
                typical_c2h2_rate_communicating_oltc_ppm_per_year: 37.0,
                pd_t1_max_c2h2_c2h4: None,
                co2_co_paper_max: 3.0,
                co2_co_oxidation_min: 10.0,
                co2_oxidation_min_ppm: 10000.0,
                o2_n2_consumption_max: 0.3,
                c2h2_h2_oltc_contamination_min: 2.0,
            },
            duval: DuvalThresholds { triangle_5_stray_gassing_min_c2h6_pct: 14.0 },
            combined: CombinedThresholds {
                relative_uncertainty: 0.15,
                uncertainty_floor_ppm: 1.0,
                detection_limit_sigmas: 3.0,
                high_confidence_min_probability: 0.9,
                medium_confidence_min_probability: 0.6,
            },
            actions: Actions {
                status_1: s("Continue normal operation; sample at the routine DGA interval."),
                status_2: s("Investigate the probable cause; increase the sampling frequency; consider an on-line \
                     DGA monitor; take a confirmation sample and establish a multi-point rate (at least 3 samples)."),
                status_3: s("Increase surveillance now: confirm with a new sample, carry out additional transformer \
                     tests, and consult the manufacturer or a DGA expert."),
            },
        }
    }
}

impl Thresholds {
    /// The defaults with a partial JSON override merged in: only the keys present change, e.g.
    /// `{"iec_60599": {"typical_ppm": {"H2": 100}}}`. Unknown keys are refused (a typo must not
    /// silently leave a default in force), and so are negative or non-finite numbers.
    pub fn with_overrides(json: &str) -> Result<Thresholds, ThresholdsError> {
        let overrides: serde_json::Value = serde_json::from_str(json).map_err(ThresholdsError::Json)?;
        if !overrides.is_object() {
            return Err(ThresholdsError::NotAnObject);
        }
        let mut merged = serde_json::to_value(Thresholds::default()).map_err(ThresholdsError::Json)?;
        merge(&mut merged, overrides);
        let thresholds: Thresholds = serde_path_to_error::deserialize(merged)
            .map_err(|e| ThresholdsError::Field { path: e.path().to_string(), message: e.inner().to_string() })?;
        thresholds.validate()?;
        Ok(thresholds)
    }

    /// Every number must be finite and non-negative; detection limits must be positive (they are
    /// the denominators' floor); the rate window must make sense.
    pub fn validate(&self) -> Result<(), ThresholdsError> {
        let value = serde_json::to_value(self).map_err(ThresholdsError::Json)?;
        check_numbers(&value, &mut String::new())?;
        for gas in Gas::ALL {
            if self.detection_limits_ppm.get(gas) <= 0.0 {
                return Err(ThresholdsError::Field {
                    path: format!("detection_limits_ppm.{gas}"),
                    message: "must be greater than 0 ppm".into(),
                });
            }
        }
        let c = &self.combined;
        if !(0.0..=1.0).contains(&c.relative_uncertainty) {
            return Err(ThresholdsError::Field {
                path: "combined.relative_uncertainty".into(),
                message: "must be a share between 0 and 1 (0.15 is ±15 %)".into(),
            });
        }
        if c.detection_limit_sigmas <= 0.0 {
            return Err(ThresholdsError::Field {
                path: "combined.detection_limit_sigmas".into(),
                message: "must be greater than 0 (3: a detection limit is three standard deviations)".into(),
            });
        }
        if !(0.0 < c.medium_confidence_min_probability
            && c.medium_confidence_min_probability <= c.high_confidence_min_probability
            && c.high_confidence_min_probability <= 1.0)
        {
            return Err(ThresholdsError::Field {
                path: "combined.high_confidence_min_probability".into(),
                message: "need 0 < medium_confidence_min_probability <= high_confidence_min_probability <= 1".into(),
            });
        }
        let c1 = &self.ieee_c57_104_2008.condition_upper_limits_ppm;
        for gas in Gas::IEEE_2019 {
            if c1.get(gas).is_some_and(|limits| limits[0] <= 0.0) {
                return Err(ThresholdsError::Field {
                    path: format!("ieee_c57_104_2008.condition_upper_limits_ppm.{gas}"),
                    message: "the condition-1 limit must be greater than 0 ppm".into(),
                });
            }
        }
        let t = &self.ieee_c57_104_2019;
        if t.rate_min_samples < 2 || t.rate_max_samples < t.rate_min_samples {
            return Err(ThresholdsError::Field {
                path: "ieee_c57_104_2019.rate_min_samples".into(),
                message: "need 2 <= rate_min_samples <= rate_max_samples".into(),
            });
        }
        if t.rate_max_span_months < t.rate_min_span_months {
            return Err(ThresholdsError::Field {
                path: "ieee_c57_104_2019.rate_max_span_months".into(),
                message: "must not be below rate_min_span_months".into(),
            });
        }
        Ok(())
    }
}

fn merge(base: &mut serde_json::Value, overrides: serde_json::Value) {
    match (base, overrides) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overrides)) => {
            for (key, value) in overrides {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

fn check_numbers(value: &serde_json::Value, path: &mut String) -> Result<(), ThresholdsError> {
    match value {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(()),
            _ => {
                Err(ThresholdsError::Field { path: path.clone(), message: format!("{n} must be a finite number >= 0") })
            }
        },
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                check_numbers(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_numbers(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let defaults = Thresholds::default();
        defaults.validate().unwrap();
        let json = serde_json::to_string(&defaults).unwrap();
        assert_eq!(Thresholds::with_overrides(&json).unwrap(), defaults);
        assert_eq!(Thresholds::with_overrides("{}").unwrap(), defaults);
    }

    #[test]
    fn partial_override_changes_only_its_keys() {
        let t = Thresholds::with_overrides(r#"{"iec_60599": {"typical_ppm": {"H2": 100}}}"#).unwrap();
        assert_eq!(t.iec_60599.typical_ppm.h2, 100.0);
        assert_eq!(t.iec_60599.typical_ppm.ch4, 130.0);
        assert_eq!(t.ieee_c57_104_2019, Thresholds::default().ieee_c57_104_2019);
    }

    #[test]
    fn refuses_typos_negative_and_zero_limits() {
        let err = Thresholds::with_overrides(r#"{"iec_60599": {"typical_pmm": {}}}"#).unwrap_err();
        assert!(err.to_string().contains("typical_pmm"), "{err}");
        let err = Thresholds::with_overrides(r#"{"iec_60599": {"typical_ppm": {"H2": -1}}}"#).unwrap_err();
        assert!(err.to_string().contains("iec_60599.typical_ppm.H2"), "{err}");
        let err = Thresholds::with_overrides(r#"{"detection_limits_ppm": {"CH4": 0}}"#).unwrap_err();
        assert!(err.to_string().contains("detection_limits_ppm.CH4"), "{err}");
        assert!(matches!(Thresholds::with_overrides("[1]"), Err(ThresholdsError::NotAnObject)));
        assert!(matches!(Thresholds::with_overrides("{"), Err(ThresholdsError::Json(_))));
    }
}
