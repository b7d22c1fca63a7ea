//! Every code a reader meets, with its meaning: one table for the reports (the results
//! workbook's Legend sheet), kept in step with docs/legend.md by a test.

use crate::diagnosis::refinement_meaning;
use crate::fault::FaultCode;

/// One line of the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegendEntry {
    /// What the code is: `Status`, `Fault`, `Refinement`, `Confidence` or `Priority`.
    pub kind: &'static str,
    /// The code as the results show it.
    pub code: &'static str,
    /// What it means.
    pub meaning: &'static str,
}

/// The fault codes the combined verdict uses (IEC 60599 / Duval Triangle 1).
pub const FAULTS: [FaultCode; 9] = [
    FaultCode::PD,
    FaultCode::D1,
    FaultCode::D2,
    FaultCode::T1,
    FaultCode::T2,
    FaultCode::T3,
    FaultCode::DT,
    FaultCode::Normal,
    FaultCode::Undetermined,
];

/// The sub-zones the refining methods add beside the fault.
pub const REFINEMENTS: [FaultCode; 4] = [FaultCode::S, FaultCode::O, FaultCode::C, FaultCode::T3H];

/// The whole legend, in reading order.
pub fn entries() -> Vec<LegendEntry> {
    let e = |kind, code, meaning| LegendEntry { kind, code, meaning };
    let mut out = vec![
        e("Status", "1", "IEEE C57.104-2019 status 1: low gas levels, no sign of active gassing; routine sampling"),
        e("Status", "2", "status 2: elevated levels or possible gassing; investigate, sample more often, confirm"),
        e("Status", "3", "status 3: high levels or active gas generation; act now, confirm, test, consult"),
    ];
    for f in FAULTS {
        let meaning = match f {
            FaultCode::Undetermined => "no zone or ratio row matches (not the lab's input marker ND, 'not detected')",
            other => other.meaning(),
        };
        out.push(e("Fault", f.code(), meaning));
    }
    for r in REFINEMENTS {
        out.push(e("Refinement", r.code(), refinement_meaning(r)));
    }
    out.extend([
        e("Confidence", "high", "holds for 90 % of readings within the lab's uncertainty, and a cross-check gives the same code"),
        e("Confidence", "medium", "holds for 60 %, and confirmed or not contradicted by a cross-check"),
        e("Confidence", "low", "near a zone boundary, or contradicted"),
        e(
            "Priority",
            "0-300",
            "100 per status above 1, plus up to 50 for how far the worst gas is above its Table 1 level and up to 50 for how fast it rises against its Table 4 rate",
        ),
    ]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_legend_names_every_code() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/legend.md")).unwrap();
        for entry in entries() {
            if entry.kind == "Fault" || entry.kind == "Refinement" {
                assert!(doc.contains(&format!("`{}`", entry.code)), "docs/legend.md lacks `{}`", entry.code);
            }
            assert!(!entry.meaning.is_empty(), "{entry:?}");
        }
    }
}
