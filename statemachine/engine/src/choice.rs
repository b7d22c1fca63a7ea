//! Choice rules: every comparison operator, And/Or/Not (ASL spec, "Choice Rules").

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::StatesError;
use crate::path::{Ctx, Path};

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

/// A compiled choice rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Every rule holds.
    And(Vec<Rule>),
    /// Some rule holds.
    Or(Vec<Rule>),
    /// The rule does not hold.
    Not(Box<Rule>),
    /// A comparison of `Variable` with a value or (for `…Path` operators) a path.
    Compare {
        /// The `Variable` path.
        variable: Path,
        /// The operator without its `Path` suffix, e.g. `NumericLessThan`.
        base: String,
        /// The operator as written (for messages).
        op: String,
        /// The operand.
        operand: Operand,
    },
}

/// What a comparison compares with.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A value given in the rule.
    Value(Value),
    /// A path (`…Path` operators).
    Path(Path),
}

impl Rule {
    /// Compiles a checked rule.
    pub fn compile(rule: &Value) -> Result<Rule, String> {
        check(rule, false)?;
        Self::build(rule)
    }

    fn build(rule: &Value) -> Result<Rule, String> {
        let obj = rule.as_object().ok_or("a choice rule must be an object")?;
        if let Some(list) = obj.get("And").and_then(Value::as_array) {
            return Ok(Rule::And(list.iter().map(Self::build).collect::<Result<_, _>>()?));
        }
        if let Some(list) = obj.get("Or").and_then(Value::as_array) {
            return Ok(Rule::Or(list.iter().map(Self::build).collect::<Result<_, _>>()?));
        }
        if let Some(inner) = obj.get("Not") {
            return Ok(Rule::Not(Box::new(Self::build(inner)?)));
        }
        let variable = obj.get("Variable").and_then(Value::as_str).ok_or("'Variable' must be a path")?;
        let variable = Path::parse(variable)?;
        let (op, expected) = operator(obj).ok_or("missing comparison operator")?;
        let (base, is_path) = match op.strip_suffix("Path") {
            Some(b) if op != "IsPresent" => (b, true),
            _ => (op, false),
        };
        let operand = if is_path {
            Operand::Path(Path::parse(expected.as_str().ok_or_else(|| format!("{op} takes a path"))?)?)
        } else {
            Operand::Value(expected.clone())
        };
        Ok(Rule::Compare { variable, base: base.to_owned(), op: op.to_owned(), operand })
    }

    /// Evaluates the rule against the state's effective input.
    pub fn evaluate(&self, input: &Value, ctx: &Ctx<'_>) -> Result<bool, StatesError> {
        let (variable, base, operand) = match self {
            Rule::And(list) => {
                for r in list {
                    if !r.evaluate(input, ctx)? {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            Rule::Or(list) => {
                for r in list {
                    if r.evaluate(input, ctx)? {
                        return Ok(true);
                    }
                }
                return Ok(false);
            }
            Rule::Not(inner) => return Ok(!inner.evaluate(input, ctx)?),
            Rule::Compare { variable, base, operand, .. } => (variable, base.as_str(), operand),
        };
        if base == "IsPresent" {
            let present = variable.select(input, ctx).is_ok();
            return Ok(matches!(operand, Operand::Value(Value::Bool(b)) if *b == present));
        }
        let value = variable.select(input, ctx).map_err(|_| {
            StatesError::runtime(format!(
                "Invalid path '{}': The choice state's condition path references an invalid value.",
                variable.text()
            ))
        })?;
        let expected = match operand {
            Operand::Value(v) => std::borrow::Cow::Borrowed(v),
            Operand::Path(p) => p.select(input, ctx)?,
        };
        let (value, expected) = (&*value, &*expected);
        let yes = |b: bool| expected == &Value::Bool(b);
        Ok(match base {
            "IsNull" => yes(value.is_null()),
            "IsNumeric" => yes(value.is_number()),
            "IsString" => yes(value.is_string()),
            "IsBoolean" => yes(value.is_boolean()),
            "IsTimestamp" => yes(timestamp(value).is_some()),
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
            _ if base.starts_with("Timestamp") => match (timestamp(value), timestamp(expected)) {
                (Some(a), Some(b)) => compare(base.trim_start_matches("Timestamp"), a.cmp(&b)),
                _ => false,
            },
            _ => return Err(StatesError::runtime(format!("unsupported operator {base}"))),
        })
    }
}

/// Compiles and evaluates `rule` (tests).
#[cfg(test)]
fn evaluate(rule: &Value, input: &Value, context: &Value) -> Result<bool, StatesError> {
    let rule = Rule::compile(rule).map_err(StatesError::runtime)?;
    rule.evaluate(input, &Ctx::fixed(context.clone()))
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
