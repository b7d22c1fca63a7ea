//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, `BatchInput`): keys ending
//! in `.$` are evaluated (a path into the input, `$$` the context, or an intrinsic), the suffix
//! stripped; everything else is copied.

use serde_json::{Map, Value};

use crate::error::StatesError;
use crate::{intrinsics, path};

pub fn apply(template: &Value, input: &Value, context: &Value) -> Result<Value, StatesError> {
    match template {
        Value::Object(obj) => {
            let mut out = Map::with_capacity(obj.len());
            for (k, v) in obj {
                match k.strip_suffix(".$") {
                    Some(key) => {
                        let expr = v.as_str().ok_or_else(|| {
                            StatesError::runtime(format!("The value of the field '{k}' must be a path or an intrinsic"))
                        })?;
                        let value = if intrinsics::is_intrinsic(expr) {
                            intrinsics::evaluate(expr, input, context)?
                        } else {
                            path::read(expr, input, context)?
                        };
                        out.insert(key.to_owned(), value);
                    }
                    None => {
                        out.insert(k.clone(), apply(v, input, context)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            Ok(Value::Array(items.iter().map(|v| apply(v, input, context)).collect::<Result<_, _>>()?))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
