//! Choice rules: every comparison operator, And/Or/Not (ASL spec, "Choice Rules").

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::StatesError;
use crate::path;

const OPERATORS: [&str; 38] = [
    "StringEquals",
    "StringEqualsPath",
    "StringLessThan",
    "StringLessThanPath",
    "StringGreaterThan",
    "StringGreaterThanPath",
    "StringLessThanEquals",
    "StringLessThanEqualsPath",
    "StringGreaterThanEquals",
    "StringGreaterThanEqualsPath",
    "StringMatches",
    "NumericEquals",
    "NumericEqualsPath",
    "NumericLessThan",
    "NumericLessThanPath",
    "NumericGreaterThan",
    "NumericGreaterThanPath",
    "NumericLessThanEquals",
    "NumericLessThanEqualsPath",
    "NumericGreaterThanEquals",
    "NumericGreaterThanEqualsPath",
    "BooleanEquals",
    "BooleanEqualsPath",
    "TimestampEquals",
    "TimestampEqualsPath",
    "TimestampLessThan",
    "TimestampLessThanPath",
    "TimestampGreaterThan",
    "TimestampGreaterThanPath",
    "TimestampLessThanEquals",
    "TimestampLessThanEqualsPath",
    "TimestampGreaterThanEquals",
    "TimestampGreaterThanEqualsPath",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
];

/// The operator of a rule (the one comparison key besides `Variable` and `Next`).
fn operator(rule: &serde_json::Map<String, Value>) -> Option<(&str, &Value)> {
    rule.iter().find_map(|(k, v)| (OPERATORS.contains(&k.as_str()) || k == "IsTimestamp").then_some((k.as_str(), v)))
}

/// Checks a rule's shape at load time.
pub fn check(rule: &Value, top: bool) -> Result<(), String> {
    let obj = rule.as_object().ok_or("a choice rule must be an object")?;
    if let Some(list) = obj.get("And").or_else(|| obj.get("Or")) {
        let list = list.as_array().ok_or("And/Or take an array of rules")?;
        return list.iter().try_for_each(|r| check(r, false));
    }
    if let Some(inner) = obj.get("Not") {
        return check(inner, false);
    }
    if !obj.contains_key("Variable") {
        return Err("a comparison needs 'Variable'".into());
    }
    if operator(obj).is_none() {
        let keys: Vec<&str> =
            obj.keys().map(String::as_str).filter(|k| !matches!(*k, "Variable" | "Next" | "Comment")).collect();
        return Err(format!("unsupported comparison operator {keys:?}"));
    }
    if top && !obj.contains_key("Next") {
        return Err("a top-level choice rule needs 'Next'".into());
    }
    Ok(())
}

fn timestamp(v: &Value) -> Option<DateTime<FixedOffset>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

/// Glob with `*` (escape as `\*`), as `StringMatches`.
fn matches_glob(text: &str, pattern: &str) -> bool {
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    parts.last_mut().unwrap_or(&mut String::new()).push(n);
                }
            }
            '*' => parts.push(String::new()),
            c => {
                if let Some(p) = parts.last_mut() {
                    p.push(c);
                }
            }
        }
    }
    if parts.len() == 1 {
        return text == parts[0];
    }
    let (first, last) = (&parts[0], &parts[parts.len() - 1]);
    if !text.starts_with(first.as_str()) || !text.ends_with(last.as_str()) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle.as_str()) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

pub fn evaluate(rule: &Value, input: &Value, context: &Value) -> Result<bool, StatesError> {
    let obj = rule.as_object().ok_or_else(|| StatesError::runtime("a choice rule must be an object"))?;
    if let Some(list) = obj.get("And").and_then(Value::as_array) {
        for r in list {
            if !evaluate(r, input, context)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(list) = obj.get("Or").and_then(Value::as_array) {
        for r in list {
            if evaluate(r, input, context)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(inner) = obj.get("Not") {
        return Ok(!evaluate(inner, input, context)?);
    }
    let var_path =
        obj.get("Variable").and_then(Value::as_str).ok_or_else(|| StatesError::runtime("missing Variable"))?;
    let (op, expected) = operator(obj).ok_or_else(|| StatesError::runtime("missing comparison operator"))?;
    if op == "IsPresent" {
        let present = path::read(var_path, input, context).is_ok();
        return Ok(present == (expected == &Value::Bool(true)));
    }
    let value = path::read(var_path, input, context).map_err(|_| {
        StatesError::runtime(format!(
            "Invalid path '{var_path}': The choice state's condition path references an invalid value."
        ))
    })?;
    let (base, is_path) = match op.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (op, false),
    };
    let expected =
        if is_path { path::read(expected.as_str().unwrap_or("$"), input, context)? } else { expected.clone() };
    let yes = |b: bool| expected == Value::Bool(b);
    Ok(match base {
        "IsNull" => yes(value.is_null()),
        "IsNumeric" => yes(value.is_number()),
        "IsString" => yes(value.is_string()),
        "IsBoolean" => yes(value.is_boolean()),
        "IsTimestamp" => yes(timestamp(&value).is_some()),
        "StringMatches" => match (value.as_str(), expected.as_str()) {
            (Some(v), Some(p)) => matches_glob(v, p),
            _ => false,
        },
        _ if base.starts_with("String") => match (value.as_str(), expected.as_str()) {
            (Some(a), Some(b)) => compare(base.trim_start_matches("String"), a.cmp(b)),
            _ => false,
        },
        _ if base.starts_with("Numeric") => match (value.as_f64(), expected.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| compare(base.trim_start_matches("Numeric"), o)),
            _ => false,
        },
        "BooleanEquals" => match (value.as_bool(), expected.as_bool()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        _ if base.starts_with("Timestamp") => match (timestamp(&value), timestamp(&expected)) {
            (Some(a), Some(b)) => compare(base.trim_start_matches("Timestamp"), a.cmp(&b)),
            _ => false,
        },
        _ => return Err(StatesError::runtime(format!("unsupported operator {op}"))),
    })
}

fn compare(kind: &str, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match kind {
        "Equals" => o == Equal,
        "LessThan" => o == Less,
        "GreaterThan" => o == Greater,
        "LessThanEquals" => o != Greater,
        "GreaterThanEquals" => o != Less,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(rule: Value, input: Value) -> bool {
        evaluate(&rule, &input, &json!({})).unwrap()
    }

    #[test]
    fn operators() {
        let i = json!({"n": 5, "s": "log-2024.txt", "b": true, "t": "2024-01-02T00:00:00Z", "z": null, "m": 7});
        assert!(ev(json!({"Variable": "$.n", "NumericEquals": 5}), i.clone()));
        assert!(ev(json!({"Variable": "$.n", "NumericLessThanPath": "$.m"}), i.clone()));
        assert!(ev(json!({"Variable": "$.n", "NumericGreaterThanEquals": 5}), i.clone()));
        assert!(!ev(json!({"Variable": "$.s", "NumericEquals": 5}), i.clone())); // type mismatch: false
        assert!(ev(json!({"Variable": "$.s", "StringMatches": "log-*.txt"}), i.clone()));
        assert!(!ev(json!({"Variable": "$.s", "StringMatches": "log-\\*.txt"}), i.clone()));
        assert!(ev(json!({"Variable": "$.s", "StringLessThan": "m"}), i.clone()));
        assert!(ev(json!({"Variable": "$.b", "BooleanEquals": true}), i.clone()));
        assert!(ev(json!({"Variable": "$.t", "TimestampLessThan": "2024-01-03T00:00:00+00:00"}), i.clone()));
        assert!(ev(json!({"Variable": "$.t", "IsTimestamp": true}), i.clone()));
        assert!(ev(json!({"Variable": "$.z", "IsNull": true}), i.clone()));
        assert!(ev(json!({"Variable": "$.nope", "IsPresent": false}), i.clone()));
        assert!(ev(
            json!({"And": [{"Variable": "$.n", "IsNumeric": true}, {"Not": {"Variable": "$.s", "IsNumeric": true}}]}),
            i.clone()
        ));
        assert!(ev(
            json!({"Or": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.n", "NumericEquals": 5}]}),
            i.clone()
        ));
        let err = evaluate(&json!({"Variable": "$.nope", "NumericEquals": 1}), &i, &json!({})).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
    }
}
