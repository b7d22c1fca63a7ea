//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, `BatchInput`), compiled
//! once: keys ending in `.$` hold a path into the input, `$$` the context, or an intrinsic, and
//! lose the suffix; everything else is copied.

use serde_json::{Map, Value};

use crate::error::StatesError;
use crate::intrinsics::{self, Intrinsic};
use crate::path::{Ctx, Path};

#[derive(Debug, Clone)]
enum Field {
    Path(Path),
    Intrinsic(Intrinsic),
    Template(Node),
}

#[derive(Debug, Clone)]
enum Node {
    Object(Vec<(String, Field)>),
    Array(Vec<Node>),
    Literal(Value),
}

/// A compiled template.
#[derive(Debug, Clone)]
pub struct Template(Node);

impl Template {
    /// Compiles a template; the error names the field.
    pub fn compile(template: &Value) -> Result<Template, String> {
        Node::compile(template).map(Template)
    }

    /// Applies the template to the state's input and context object.
    pub fn apply(&self, input: &Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
        self.0.apply(input, ctx)
    }

    /// Whether the template is an object whose field `key` is the whole input (`"key.$": "$"`)
    /// and whose other fields are literals: then applying it needs nothing of the input but the
    /// input itself, which a Task can pass on as it holds it (e.g. as text).
    pub fn passes_input_as(&self, key: &str) -> bool {
        match &self.0 {
            Node::Object(fields) => {
                fields.iter().all(|(k, f)| match f {
                    Field::Path(p) => k == key && p.is_root(),
                    Field::Template(Node::Literal(_)) => k != key,
                    _ => false,
                }) && fields.iter().any(|(k, _)| k == key)
            }
            _ => false,
        }
    }

    /// The value of a literal field of an object template (e.g. a Lambda's `FunctionName`).
    pub fn literal_field(&self, key: &str) -> Option<&Value> {
        match &self.0 {
            Node::Object(fields) => fields.iter().find_map(|(k, f)| match f {
                Field::Template(Node::Literal(v)) if k == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }
}

impl Node {
    /// Compiles a template; the error names the field.
    fn compile(template: &Value) -> Result<Node, String> {
        Ok(match template {
            Value::Object(obj) => {
                let mut fields = Vec::with_capacity(obj.len());
                for (k, v) in obj {
                    let field = match k.strip_suffix(".$") {
                        Some(key) => {
                            let expr = v
                                .as_str()
                                .ok_or_else(|| format!("the value of '{k}' must be a path or an intrinsic"))?;
                            let f = if intrinsics::is_intrinsic(expr) {
                                Field::Intrinsic(Intrinsic::parse(expr).map_err(|e| format!("'{k}': {}", e.cause))?)
                            } else {
                                Field::Path(Path::parse(expr).map_err(|e| format!("'{k}': {e}"))?)
                            };
                            (key.to_owned(), f)
                        }
                        None => (k.clone(), Field::Template(Node::compile(v)?)),
                    };
                    fields.push(field);
                }
                Node::Object(fields)
            }
            Value::Array(items) => Node::Array(items.iter().map(Node::compile).collect::<Result<_, _>>()?),
            other => Node::Literal(other.clone()),
        })
    }

    /// Applies the template to the state's input and context object.
    fn apply(&self, input: &Value, ctx: &Ctx<'_>) -> Result<Value, StatesError> {
        Ok(match self {
            Node::Object(fields) => {
                let mut out = Map::new();
                for (k, f) in fields {
                    let v = match f {
                        Field::Path(p) => p.read(input, ctx)?,
                        Field::Intrinsic(i) => i.evaluate(input, ctx)?,
                        Field::Template(t) => t.apply(input, ctx)?,
                    };
                    out.insert(k.clone(), v);
                }
                Value::Object(out)
            }
            Node::Array(items) => Value::Array(items.iter().map(|t| t.apply(input, ctx)).collect::<Result<_, _>>()?),
            Node::Literal(v) => v.clone(),
        })
    }
}

/// Compiles and applies `template` (tests); a template that does not compile is `States.Runtime`.
#[cfg(test)]
fn apply(template: &Value, input: &Value, context: &Value) -> Result<Value, StatesError> {
    Template::compile(template)
        .map_err(|e| StatesError::runtime(format!("The value of the field {e}")))?
        .apply(input, &Ctx::fixed(context.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Only `{literal…, "key.$": "$"}` passes the input on whole.
    #[test]
    fn passes_input_as() {
        let t = |v: Value| Template::compile(&v).unwrap();
        assert!(t(json!({"FunctionName": "f", "Payload.$": "$"})).passes_input_as("Payload"));
        assert!(!t(json!({"FunctionName": "f", "Payload.$": "$.a"})).passes_input_as("Payload"));
        assert!(!t(json!({"FunctionName.$": "$.f", "Payload.$": "$"})).passes_input_as("Payload"));
        assert!(!t(json!({"FunctionName": "f", "Payload": {"a.$": "$"}})).passes_input_as("Payload"));
        assert!(!t(json!({"FunctionName": "f", "Payload.$": "$$"})).passes_input_as("Payload"));
        assert!(!t(json!({"FunctionName": "f"})).passes_input_as("Payload"));
        assert!(!t(json!({"Payload.$": "States.JsonMerge($, $, false)"})).passes_input_as("Payload"));
    }

    /// AWS documentation example (input-output-inputpath-params.html).
    #[test]
    fn parameters_example() {
        let input = json!({"comment": "Example for Parameters.", "product": {"details": {"color": "blue", "size": "small", "material": "cotton"}, "availability": "in stock", "sku": "2317", "cost": "$23"}});
        let template = json!({"comment": "Selecting what I care about.", "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"}});
        assert_eq!(
            apply(&template, &input, &json!({})).unwrap(),
            json!({"comment": "Selecting what I care about.", "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}})
        );
    }

    #[test]
    fn context_and_intrinsics() {
        let ctx = json!({"Execution": {"Name": "run-1"}});
        let t = json!({"name.$": "$$.Execution.Name", "greeting.$": "States.Format('hi {}', $.who)", "list": [{"x.$": "$.who"}]});
        assert_eq!(
            apply(&t, &json!({"who": "sam"}), &ctx).unwrap(),
            json!({"name": "run-1", "greeting": "hi sam", "list": [{"x": "sam"}]})
        );
        assert_eq!(apply(&json!({"x.$": 3}), &json!({}), &ctx).unwrap_err().error, "States.Runtime");
    }
}
