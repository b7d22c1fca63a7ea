//! JSONPath as ASL uses it: reads through serde_json_path (RFC 9535), `$$` for the context
//! object, and reference paths (`ResultPath`) written by hand.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::error::StatesError;

/// True for a path that names one node (no wildcard, filter, slice, union or descent).
pub fn is_definite(path: &str) -> bool {
    !(path.contains('*') || path.contains("..") || path.contains('?') || path.contains(':') || path.contains(','))
}

/// Reads `path` from `input` (`$...`) or from `context` (`$$...`). A definite path must match
/// exactly one node; an indefinite one returns the array of its matches.
pub fn read(path: &str, input: &Value, context: &Value) -> Result<Value, StatesError> {
    let (doc, path_in_doc) = match path.strip_prefix("$$") {
        Some(rest) => (context, format!("${rest}")),
        None => (input, path.to_owned()),
    };
    let parsed = JsonPath::parse(&path_in_doc)
        .map_err(|e| StatesError::runtime(format!("The JSONPath '{path}' is not valid: {e}")))?;
    let nodes = parsed.query(doc);
    if is_definite(path) {
        match nodes.exactly_one() {
            Ok(v) => Ok(v.clone()),
            Err(_) => Err(StatesError::runtime(format!(
                "The JSONPath '{path}' could not be found in the input '{}'",
                crate::compact(doc)
            ))),
        }
    } else {
        Ok(Value::Array(nodes.all().into_iter().cloned().collect()))
    }
}

/// One step of a reference path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_reference(path: &str) -> Result<Vec<Step>, String> {
    let rest = path.strip_prefix('$').ok_or("must start with '$'")?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    name.push(n);
                    chars.next();
                }
                if name.is_empty() {
                    return Err("empty name".into());
                }
                steps.push(Step::Key(name));
            }
            '[' => {
                let mut inner = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    inner.push(n);
                }
                let inner = inner.trim();
                if let Some(q) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                    steps.push(Step::Key(q.to_owned()));
                } else if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    steps.push(Step::Key(q.to_owned()));
                } else {
                    steps.push(Step::Index(inner.parse().map_err(|_| format!("'[{inner}]' is not a reference step"))?));
                }
            }
            other => return Err(format!("unexpected '{other}'")),
        }
    }
    Ok(steps)
}

/// Checks a `ResultPath` at load time.
pub fn check_reference(path: &str) -> Result<(), String> {
    if path.starts_with("$$") {
        return Err("a reference path cannot point into the context object".into());
    }
    parse_reference(path).map(|_| ())
}

/// Places `value` at `path` in `target` (ResultPath), creating objects on the way. Fails with
/// `States.ResultPathMatchFailure` when a step meets something that is not an object/array.
pub fn write(target: Value, path: &str, value: Value) -> Result<Value, StatesError> {
    let steps = parse_reference(path).map_err(|e| StatesError::runtime(format!("ResultPath '{path}': {e}")))?;
    if steps.is_empty() {
        return Ok(value);
    }
    let mut root = target;
    let mismatch =
        || StatesError::new("States.ResultPathMatchFailure", format!("Unable to apply ResultPath \"{path}\" to input"));
    let mut cursor = &mut root;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        match step {
            Step::Key(k) => {
                if cursor.is_null() {
                    *cursor = Value::Object(Map::new());
                }
                let obj = cursor.as_object_mut().ok_or_else(mismatch)?;
                if last {
                    obj.insert(k.clone(), value);
                    return Ok(root);
                }
                cursor = obj.entry(k.clone()).or_insert(Value::Null);
            }
            Step::Index(n) => {
                let arr = cursor.as_array_mut().ok_or_else(mismatch)?;
                let slot = arr.get_mut(*n).ok_or_else(mismatch)?;
                if last {
                    *slot = value;
                    return Ok(root);
                }
                cursor = slot;
            }
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads() {
        let input = json!({"a": {"b": [1, 2, {"c": 3}]}, "items": [{"n": 1}, {"n": 2}]});
        let ctx = json!({"Execution": {"Name": "x"}});
        assert_eq!(read("$", &input, &ctx).unwrap(), input);
        assert_eq!(read("$.a.b[2].c", &input, &ctx).unwrap(), json!(3));
        assert_eq!(read("$$.Execution.Name", &input, &ctx).unwrap(), json!("x"));
        assert_eq!(read("$.items[*].n", &input, &ctx).unwrap(), json!([1, 2]));
        assert_eq!(read("$.items[?(@.n > 1)]", &input, &ctx).unwrap(), json!([{"n": 2}]));
        assert_eq!(read("$.missing", &input, &ctx).unwrap_err().error, "States.Runtime");
    }

    #[test]
    fn writes() {
        assert_eq!(write(json!({"a": 1}), "$", json!(2)).unwrap(), json!(2));
        assert_eq!(write(json!({"a": 1}), "$.b.c", json!(2)).unwrap(), json!({"a": 1, "b": {"c": 2}}));
        assert_eq!(write(json!({"a": [0, 1]}), "$.a[1]", json!(9)).unwrap(), json!({"a": [0, 9]}));
        assert_eq!(write(json!({"a": 1}), "$['x y']", json!(2)).unwrap(), json!({"a": 1, "x y": 2}));
        assert_eq!(write(json!({"a": 1}), "$.a.b", json!(2)).unwrap_err().error, "States.ResultPathMatchFailure");
    }
}
