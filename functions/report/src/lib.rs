//! What an engineer looks at, from the diagnosis records: plots as SVG ([`plot`]) and the
//! self-contained `report.html` ([`html`]). Pure: plain data in, text out; no I/O.

pub mod html;
pub mod plot;
