//! JSON Lines, read and written the one way every step does it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::FlowError;

/// The non-blank lines.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace))
}

/// Every line as a `T`; the error names the object's key.
pub fn read<T: DeserializeOwned>(bytes: &[u8], key: &str) -> Result<Vec<T>, FlowError> {
    lines(bytes)
        .map(|l| serde_json::from_slice(l).map_err(|e| FlowError::InputInvalid(format!("{key}: {e}"))))
        .collect()
}

/// Appends `v` as one line.
pub fn push<T: Serialize>(out: &mut Vec<u8>, v: &T) -> Result<(), FlowError> {
    serde_json::to_writer(&mut *out, v).map_err(|e| FlowError::InputInvalid(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}

/// Every row as one line.
pub fn write<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>, FlowError> {
    let mut out = Vec::new();
    for r in rows {
        push(&mut out, &r)?;
    }
    Ok(out)
}
