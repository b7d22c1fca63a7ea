//! JSONPath as AWS evaluates it, compiled once at load time.
//!
//! AWS evaluates paths with Jayway JsonPath (Java), not RFC 9535. The paths a definition
//! almost always uses — `$`, `.member`, `['member']`, `[index]` — are compiled here into steps,
//! with Jayway's reading of them: a dot-notation member name runs to the next `.` or `[`, so
//! `$.foo-bar` names the member `foo-bar`; a quoted name takes `\'` and `\\` escapes; a negative
//! index counts from the end. Those paths are definite: they select one node, or fail. Paths
//! with wildcards, filters, slices, unions or descent go to `serde_json_path` and give the array
//! of their matches.
//!
//! `$$` reads the context object, which is built only when a path reads it ([`Ctx`]).

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::error::StatesError;

/// The context object (`$$`), built on first use: most states never read it.
pub struct Ctx<'a> {
    value: OnceLock<Value>,
    build: Option<Box<dyn Fn() -> Value + Send + Sync + 'a>>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("built", &self.value.get().is_some()).finish()
    }
}

impl<'a> Ctx<'a> {
    /// A context object given as a value.
    pub fn fixed(v: Value) -> Self {
        let value = OnceLock::new();
        let _ = value.set(v);
        Ctx { value, build: None }
    }

    /// A context object built by `f` when first read.
    pub fn lazy(f: impl Fn() -> Value + Send + Sync + 'a) -> Self {
        Ctx { value: OnceLock::new(), build: Some(Box::new(f)) }
    }

    /// The context object.
    pub fn get(&self) -> &Value {
        self.value.get_or_init(|| self.build.as_ref().map(|f| f()).unwrap_or(Value::Null))
    }
}

/// One step of a definite path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Key(String),
    Index(i64),
}

#[derive(Debug, Clone)]
enum Kind {
    Definite(Vec<Step>),
    Query(JsonPath),
}

/// A compiled path.
#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    context: bool,
    kind: Kind,
}

/// Parses the steps of a definite path after its `$`; `None` if it is not one.
fn definite_steps(rest: &str) -> Option<Vec<Step>> {
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
                // `..` (descent), `.*` and names with filter syntax are queries.
                if name.is_empty() || name == "*" || name.contains(['(', ')', '?', '@', '*', ',', ' ']) {
                    return None;
                }
                steps.push(Step::Key(name));
            }
            '[' => match chars.peek().copied() {
                Some(q @ ('\'' | '"')) => {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next()? {
                            '\\' => name.push(chars.next()?),
                            c if c == q => break,
                            c => name.push(c),
                        }
                    }
                    if chars.next()? != ']' {
                        return None;
                    }
                    steps.push(Step::Key(name));
                }
                _ => {
                    let mut inner = String::new();
                    loop {
                        match chars.next()? {
                            ']' => break,
                            c => inner.push(c),
                        }
                    }
                    steps.push(Step::Index(inner.trim().parse().ok()?));
                }
            },
            _ => return None,
        }
    }
    Some(steps)
}

impl Path {
    /// Compiles a path (`$…` or `$$…`); the error says why it is not one.
    pub fn parse(text: &str) -> Result<Path, String> {
        let (context, rest) = match text.strip_prefix("$$") {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('$').ok_or_else(|| format!("'{text}' must start with '$'"))?),
        };
        let kind = match definite_steps(rest) {
            Some(steps) => Kind::Definite(steps),
            None => Kind::Query(
                JsonPath::parse(&format!("${rest}")).map_err(|e| format!("the JSONPath '{text}' is not valid: {e}"))?,
            ),
        };
        Ok(Path { text: text.to_owned(), context, kind })
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `$` itself: the whole input.
    pub fn is_root(&self) -> bool {
        !self.context && matches!(&self.kind, Kind::Definite(s) if s.is_empty())
    }

    fn missing(&self, doc: &Value) -> StatesError {
        StatesError::runtime(format!(
            "The JSONPath '{}' could not be found in the input '{}'",
            self.text,
            crate::compact(doc)
        ))
    }

    fn walk<'v>(steps: &[Step], mut node: &'v Value) -> Option<&'v Value> {
        for step in steps {
            node = match (step, node) {
                (Step::Key(k), Value::Object(o)) => o.get(k)?,
                (Step::Index(i), Value::Array(a)) => {
                    let i = if *i < 0 { a.len().checked_sub(i.unsigned_abs() as usize)? } else { *i as usize };
                    a.get(i)?
                }
                _ => return None,
            };
        }
        Some(node)
    }

    /// The selected node, borrowed when the path is definite.
    pub fn select<'v>(&self, input: &'v Value, ctx: &'v Ctx<'_>) -> Result<Cow<'v, Value>, StatesError> {
        let doc = if self.context { ctx.get() } else { input };
        match &self.kind {
            Kind::Definite(steps) => Self::walk(steps, doc).map(Cow::Borrowed).ok_or_else(|| self.missing(doc)),
            Kind::Query(q) => Ok(Cow::Owned(Value::Array(q.query(doc).all().into_iter().cloned().collect()))),
        }
    }

    /// The selected node, copied.
    pub fn read(&self, input: &Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
        self.select(input, ctx).map(Cow::into_owned)
    }

    /// The selected node, moved out of `input` when the path is a definite input path (no copy).
    pub fn take(&self, input: Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
        let Kind::Definite(steps) = &self.kind else { return self.read(&input, ctx) };
        if self.context {
            return self.read(&input, ctx);
        }
        let mut input = input;
        let mut node = &mut input;
        for step in steps {
            let next = match (step, node) {
                (Step::Key(k), Value::Object(o)) => o.get_mut(k),
                (Step::Index(i), Value::Array(a)) => {
                    let len = a.len();
                    let i = if *i < 0 { len.checked_sub(i.unsigned_abs() as usize) } else { Some(*i as usize) };
                    i.and_then(|i| a.get_mut(i))
                }
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return Err(self.missing(&input)),
            }
        }
        Ok(std::mem::take(node))
    }
}

/// A reference path (`ResultPath`): definite, into the input, never the context.
#[derive(Debug, Clone)]
pub struct ReferencePath {
    text: String,
    steps: Vec<Step>,
}

impl ReferencePath {
    /// Compiles a reference path.
    pub fn parse(text: &str) -> Result<ReferencePath, String> {
        if text.starts_with("$$") {
            return Err("a reference path cannot point into the context object".into());
        }
        let rest = text.strip_prefix('$').ok_or("must start with '$'")?;
        let steps = definite_steps(rest).ok_or_else(|| format!("'{text}' is not a reference path"))?;
        if steps.iter().any(|s| matches!(s, Step::Index(i) if *i < 0)) {
            return Err(format!("'{text}' is not a reference path"));
        }
        Ok(ReferencePath { text: text.to_owned(), steps })
    }

    /// Places `value` at the path in `target`, creating objects on the way. Fails with
    /// `States.ResultPathMatchFailure` when a step meets something that is not an object/array.
    pub fn write(&self, target: Value, value: Value) -> Result<Value, StatesError> {
        if self.steps.is_empty() {
            return Ok(value);
        }
        let mismatch = || {
            StatesError::new(
                "States.ResultPathMatchFailure",
                format!("Unable to apply ResultPath \"{}\" to input", self.text),
            )
        };
        let mut root = target;
        let mut cursor = &mut root;
        let last = self.steps.len() - 1;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Key(k) => {
                    if cursor.is_null() {
                        *cursor = Value::Object(Map::new());
                    }
                    let obj = cursor.as_object_mut().ok_or_else(mismatch)?;
                    if i == last {
                        obj.insert(k.clone(), value);
                        return Ok(root);
                    }
                    cursor = obj.entry(k.clone()).or_insert(Value::Null);
                }
                Step::Index(n) => {
                    let arr = cursor.as_array_mut().ok_or_else(mismatch)?;
                    let slot = arr.get_mut(*n as usize).ok_or_else(mismatch)?;
                    if i == last {
                        *slot = value;
                        return Ok(root);
                    }
                    cursor = slot;
                }
            }
        }
        Ok(root)
    }
}

/// Reads `path` from `input` (`$…`) or from `context` (`$$…`), compiling it first (tests).
#[cfg(test)]
fn read(path: &str, input: &Value, context: &Value) -> Result<Value, StatesError> {
    let p = Path::parse(path).map_err(StatesError::runtime)?;
    p.read(input, &Ctx::fixed(context.clone()))
}

/// Places `value` at `path` in `target` (ResultPath), compiling the path first (tests).
#[cfg(test)]
fn write(target: Value, path: &str, value: Value) -> Result<Value, StatesError> {
    let p = ReferencePath::parse(path).map_err(|e| StatesError::runtime(format!("ResultPath '{path}': {e}")))?;
    p.write(target, value)
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

    #[test]
    fn take_moves_the_node_out() {
        let p = Path::parse("$.Payload").unwrap();
        let ctx = Ctx::fixed(Value::Null);
        assert_eq!(p.take(json!({"Payload": {"x": 1}, "StatusCode": 200}), &ctx).unwrap(), json!({"x": 1}));
        assert_eq!(p.take(json!({"nope": 1}), &ctx).unwrap_err().error, "States.Runtime");
    }

    #[test]
    fn context_is_built_only_when_read() {
        let built = std::sync::atomic::AtomicUsize::new(0);
        let ctx = Ctx::lazy(|| {
            built.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            json!({"State": {"Name": "S"}})
        });
        let input = json!({"a": 1});
        Path::parse("$.a").unwrap().read(&input, &ctx).unwrap();
        assert_eq!(built.load(std::sync::atomic::Ordering::SeqCst), 0);
        for _ in 0..3 {
            assert_eq!(Path::parse("$$.State.Name").unwrap().read(&input, &ctx).unwrap(), json!("S"));
        }
        assert_eq!(built.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
