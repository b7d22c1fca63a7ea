//! `results/<run>/report.html`, from the same pass over the batches as the other results:
//! the pass keeps the table's rows (the worst [`ReportLimits::table_rows`], trimmed as they
//! come, so memory is bounded whatever the fleet) and where each kept asset's line is; the
//! page is then written in order — overview and table, one section per asset given a page
//! (its line read again from its batch, only those), the rejected rows and the legend.

use std::collections::{BTreeMap, HashMap};

use report::html::{self, ActFirstRow, Nameplate, Overview, RejectedRow, ReportLimits, SubstationTally, TableRow};
use workbook::RowError;

use super::summary::ActFirst;
use crate::diagnose::{AssetMeta, DiagnosedDigest, DiagnosisLine};
use crate::error::FlowError;
use crate::store::{ObjectStore, ObjectWriter};

/// Where an asset's diagnosis line is: the batch (its index in the pass) and the line's index
/// in the batch's lines file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct LineAt {
    pub batch: usize,
    pub line: usize,
}

struct Kept {
    priority: f64,
    energy: u8,
    order: usize,
    row: TableRow,
    at: LineAt,
}

/// The HTML report's share of the pass.
pub(super) struct HtmlPass {
    limits: ReportLimits,
    kept: Vec<Kept>,
    seen: usize,
    substations: HashMap<String, [u64; 3]>,
}

impl HtmlPass {
    pub fn new(limits: ReportLimits) -> Self {
        HtmlPass { limits, kept: Vec::new(), seen: 0, substations: HashMap::new() }
    }

    /// One diagnosed asset, whose line is at `at`.
    pub fn add(&mut self, d: &DiagnosedDigest, at: LineAt) {
        let r = &d.report;
        let status = r.status.clamp(1, 3);
        self.substations.entry(r.substation.clone().unwrap_or_default()).or_default()[usize::from(status - 1)] += 1;
        self.kept.push(Kept {
            priority: r.priority,
            energy: d.fault_energy,
            order: self.seen,
            row: TableRow {
                asset_id: r.asset_id.clone(),
                name: r.name.clone().unwrap_or_default(),
                substation: r.substation.clone().unwrap_or_default(),
                status: r.status,
                fault: r.fault_label.clone(),
                confidence: r.confidence.clone(),
                priority: r.priority,
                latest_sampled_on: r.latest_sampled_on,
                reason: d.first_reason_short.clone().unwrap_or_default(),
            },
            at,
        });
        self.seen += 1;
        if self.kept.len() >= 2 * self.limits.table_rows.max(1) {
            self.trim();
        }
    }

    /// Worst first (workbook::write::worst_first); only the table's worth is kept.
    fn trim(&mut self) {
        self.kept.sort_by(|a, b| {
            workbook::write::worst_first((a.priority, a.energy, a.order), (b.priority, b.energy, b.order))
        });
        self.kept.truncate(self.limits.table_rows);
    }

    /// Writes the page. `lines_keys[i]` is batch `i`'s lines file; `overview` has the run's
    /// counts (the substations and the totals are filled in here).
    pub async fn write<S: ObjectStore>(
        mut self,
        store: &S,
        key: &str,
        mut overview: Overview,
        lines_keys: &[String],
        rejected: &[RowError],
    ) -> Result<(), FlowError> {
        self.trim();
        let mut subs: Vec<SubstationTally> =
            self.substations.drain().map(|(substation, by_status)| SubstationTally { substation, by_status }).collect();
        subs.sort_by(|a, b| {
            (b.by_status[2], b.by_status[1], b.by_status[0])
                .cmp(&(a.by_status[2], a.by_status[1], a.by_status[0]))
                .then(a.substation.cmp(&b.substation))
        });
        overview.by_substation = subs;
        overview.assets_diagnosed = self.seen as u64;
        let sections = self.kept.len().min(self.limits.sections);
        let rows: Vec<TableRow> = self.kept.iter().map(|k| k.row.clone()).collect();
        let mut w = store.writer(key).await?;
        w.write(html::head(&overview, &rows, sections).as_bytes()).await?;
        drop(rows);
        // The pages: each batch holding a kept asset is read once more, its kept lines taken
        // (at most `limits.sections` of them, a bounded amount), and the pages rendered on
        // every core, written in the batches' order.
        let mut wanted: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for k in self.kept.iter().take(sections) {
            wanted.entry(k.at.batch).or_default().push(k.at.line);
        }
        let mut picked: Vec<(String, usize, Vec<u8>)> = Vec::with_capacity(sections);
        for (batch, mut lines) in wanted {
            let Some(lines_key) = lines_keys.get(batch) else { continue };
            lines.sort_unstable();
            let bytes = store.get(lines_key).await?;
            let mut next = lines.iter().peekable();
            for (i, line) in crate::jsonl::lines(&bytes).enumerate() {
                if next.peek() != Some(&&i) {
                    continue;
                }
                next.next();
                picked.push((lines_key.clone(), i, line.to_vec()));
                if next.peek().is_none() {
                    break;
                }
            }
        }
        // In groups, so that a few pages' memory is reused rather than all held at once.
        for group in picked.chunks(PAGES_PER_GROUP) {
            for page in render_pages(group)? {
                w.write(page.as_bytes()).await?;
            }
        }
        drop(picked);
        let listed: Vec<RejectedRow> = rejected.iter().take(self.limits.rejected_rows).map(rejected_row).collect();
        w.write(html::tail(&listed, rejected.len() as u64).as_bytes()).await?;
        Ok(w.finish().await?)
    }
}

/// Pages rendered at a time (about 2 MB of text).
const PAGES_PER_GROUP: usize = 64;

/// Each picked line's page, rendered on every core, in the given order.
fn render_pages(picked: &[(String, usize, Vec<u8>)]) -> Result<Vec<String>, FlowError> {
    let render = |(key, i, line): &(String, usize, Vec<u8>)| -> Result<String, FlowError> {
        let d: DiagnosisLine = serde_json::from_slice(line)
            .map_err(|e| FlowError::Report(format!("{key}: line {} is not a diagnosis: {e}", i + 1)))?;
        let rows: Vec<String> = d.sample_rows.iter().map(|r| format!("{} row {}", r.sheet, r.row)).collect();
        Ok(html::section(&d.record, &nameplate(&d.asset), &rows))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(picked.len().max(1));
    let chunk = picked.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            picked.chunks(chunk).map(|c| scope.spawn(move || c.iter().map(render).collect::<Vec<_>>())).collect();
        let mut out = Vec::with_capacity(picked.len());
        for w in workers {
            for page in w.join().map_err(|_| FlowError::Report("a page's renderer panicked".into()))? {
                out.push(page?);
            }
        }
        Ok(out)
    })
}

/// The nameplate as a section lists it.
fn nameplate(a: &AssetMeta) -> Nameplate {
    let mut fields = Vec::new();
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            fields.push((k.to_owned(), v));
        }
    };
    add("Substation", a.substation.clone());
    add("Year of manufacture", a.manufacture_year.map(|y| y.to_string()));
    add("Age at the latest sample", a.age_years.map(|y| format!("{y:.0} years")));
    add("Rated power", a.rated_mva.map(|v| format!("{} MVA", html::number(v))));
    add("Rated voltage", a.voltage_kv.map(|v| format!("{} kV", html::number(v))));
    add(
        "Oil preservation",
        a.breathing.map(|b| match b {
            workbook::Breathing::Sealed => "sealed".to_owned(),
            workbook::Breathing::FreeBreathing => "free-breathing".to_owned(),
        }),
    );
    Nameplate { name: a.name.clone(), fields }
}

fn rejected_row(e: &RowError) -> RejectedRow {
    RejectedRow {
        sheet: e.sheet.clone(),
        row: e.row,
        column: e.column_label(),
        value: e.value.clone().unwrap_or_default(),
        reason: e.reason.clone(),
    }
}

/// The act-first list as the overview shows it.
pub(super) fn act_first_rows(list: &[ActFirst]) -> Vec<ActFirstRow> {
    list.iter()
        .map(|a| ActFirstRow {
            asset_id: a.asset_id.clone(),
            status: a.status,
            fault: if a.refinements.is_empty() {
                a.fault.clone()
            } else {
                format!("{} ({})", a.fault, a.refinements.join(", "))
            },
            priority: a.priority,
            confidence: a.confidence.clone().unwrap_or_default(),
            reason: a.first_reason.clone().or_else(|| a.first_reason_short.clone()).unwrap_or_default(),
        })
        .collect()
}

/// A rejected run's page: the overview says why; there is no table.
pub(super) async fn write_rejected<S: ObjectStore>(store: &S, key: &str, overview: Overview) -> Result<(), FlowError> {
    let mut page = html::head(&overview, &[], 0);
    page.push_str(&html::tail(&[], 0));
    Ok(store.put(key, page.into_bytes()).await?)
}
