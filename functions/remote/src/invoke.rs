//! The engine's Task handlers as calls of real Lambda functions through the Invoke API
//! (`POST /2015-03-31/functions/<name>/invocations`), and the Invoke API's answers mapped to
//! the errors Step Functions' Retry and Catch see.
//!
//! Two servers answer a function's error differently:
//! - AWS Lambda: HTTP 200 with the header `X-Amz-Function-Error: Unhandled` (or `Handled`) and the
//!   runtime's error document as the payload, `{"errorType": …, "errorMessage": …}`
//!   (shared/reference/aws-step-functions.md §3.2: Error = `errorType`, Cause = that document).
//! - `cargo lambda watch`: HTTP 500 with the same document as the body (toolchain.md), which the
//!   SDK reports as a service error without a code.
//!
//! Both become the function's `errorType` and `errorMessage`. Anything else the service says is
//! `Lambda.<its code>` (`Lambda.ResourceNotFoundException`, `Lambda.TooManyRequestsException`,
//! …), and a request that never got an answer is `Lambda.SdkClientException`, as Step Functions
//! names them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use engine::{Event, Handler, HandlerError};
use serde::Serialize;
use serde_json::Value;

/// Calls of one function: how many, and how long they took as the caller saw them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FunctionCalls {
    /// Invoke requests sent (retries included).
    pub invocations: u64,
    /// Of them, answered with a function error.
    pub function_errors: u64,
    /// Wall time of every call, summed, ms (the function's duration plus the Invoke API's).
    pub duration_ms: u64,
}

/// The Lambda functions a state machine's Tasks call, by function name.
#[derive(Debug, Clone)]
pub struct LambdaFunctions {
    client: aws_sdk_lambda::Client,
    calls: Arc<Mutex<BTreeMap<String, FunctionCalls>>>,
}

impl LambdaFunctions {
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        LambdaFunctions { client, calls: Arc::default() }
    }

    /// Every function's calls so far.
    pub fn calls(&self) -> BTreeMap<String, FunctionCalls> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// A handler that invokes `function` synchronously with the Task's event as the payload
    /// (the text itself when the engine holds it as text) and answers its payload.
    pub fn handler(&self, function: &str) -> Handler {
        let (functions, function) = (self.clone(), function.to_owned());
        engine::event_handler(move |event: Event| {
            let (functions, function) = (functions.clone(), function.clone());
            async move { functions.invoke(&function, event).await }
        })
    }

    /// One synchronous invocation.
    pub async fn invoke(&self, function: &str, event: Event) -> Result<Value, HandlerError> {
        let payload = match event {
            Event::Json(text) => text.as_bytes().to_vec(),
            Event::Value(v) => serde_json::to_vec(&v).map_err(|e| runtime_error(e.to_string()))?,
        };
        let started = Instant::now();
        let sent = self.client.invoke().function_name(function).payload(Blob::new(payload)).send().await;
        let answer = match sent {
            Ok(out) => {
                let payload = out.payload().map(|p| p.as_ref()).unwrap_or_default();
                answer(out.status_code(), out.function_error(), payload)
            }
            Err(SdkError::ServiceError(ctx)) => {
                let raw = ctx.raw();
                let body = raw.body().bytes().unwrap_or_default();
                match function_error_document(body) {
                    // cargo lambda watch: the function's error as a 500.
                    Some(e) if raw.status().as_u16() == 500 => Err(e),
                    _ => Err(HandlerError {
                        error_type: format!("Lambda.{}", ctx.err().code().unwrap_or("ServiceException")),
                        error_message: ctx.err().message().unwrap_or_default().to_owned(),
                    }),
                }
            }
            Err(other) => Err(HandlerError {
                error_type: "Lambda.SdkClientException".into(),
                error_message: format!("Unable to execute HTTP request: {}", error_chain(&other)),
            }),
        };
        if let Ok(mut calls) = self.calls.lock() {
            let c = calls.entry(function.to_owned()).or_default();
            c.invocations += 1;
            c.function_errors += u64::from(answer.is_err());
            c.duration_ms += started.elapsed().as_millis() as u64;
        }
        answer
    }
}

fn runtime_error(message: String) -> HandlerError {
    HandlerError { error_type: "States.Runtime".into(), error_message: message }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The runtime's error document, `{"errorType": …, "errorMessage": …}`, when the body is one.
fn function_error_document(body: &[u8]) -> Option<HandlerError> {
    #[derive(serde::Deserialize)]
    struct Document {
        #[serde(rename = "errorType")]
        error_type: String,
        #[serde(rename = "errorMessage", default)]
        error_message: String,
    }
    let d: Document = serde_json::from_slice(body).ok()?;
    Some(HandlerError { error_type: d.error_type, error_message: d.error_message })
}

/// A 2xx answer of the Invoke API: the payload, or — with `X-Amz-Function-Error` — the
/// function's error. A function error whose payload is not an error document is
/// `Lambda.Unknown` (the name Step Functions gives an unhandled error it cannot read).
pub fn answer(status: i32, function_error: Option<&str>, payload: &[u8]) -> Result<Value, HandlerError> {
    if function_error.is_some() {
        return Err(function_error_document(payload).unwrap_or_else(|| HandlerError {
            error_type: "Lambda.Unknown".into(),
            error_message: String::from_utf8_lossy(payload).into_owned(),
        }));
    }
    if !(200..300).contains(&status) {
        return Err(HandlerError {
            error_type: "Lambda.AWSLambdaException".into(),
            error_message: format!("status code {status}"),
        });
    }
    if payload.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(payload)
        .map_err(|e| runtime_error(format!("the function's response is not JSON ({e}): {}", lossy_prefix(payload))))
}

fn lossy_prefix(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_payload_is_the_result() {
        assert_eq!(answer(200, None, br#"{"assets":3}"#), Ok(json!({"assets": 3})));
        assert_eq!(answer(200, None, b""), Ok(Value::Null));
    }

    /// AWS's function-error form (shared/reference/aws-step-functions.md §3.2, from AWS-recorded
    /// snapshots): 200, `X-Amz-Function-Error: Unhandled`, the error document as the payload.
    #[test]
    fn the_function_error_form_is_the_functions_error_type_and_message() {
        let doc = br#"{"errorType":"WorkbookInvalid","errorMessage":"no gas columns"}"#;
        let e = answer(200, Some("Unhandled"), doc).unwrap_err();
        assert_eq!((e.error_type.as_str(), e.error_message.as_str()), ("WorkbookInvalid", "no gas columns"));
        // A Python-style document with requestId and stackTrace reads the same.
        let doc = br#"{"errorMessage":"x","errorType":"Exception","requestId":"r","stackTrace":["a"]}"#;
        assert_eq!(answer(200, Some("Handled"), doc).unwrap_err().error_type, "Exception");
        // Not a document: Lambda.Unknown with the payload as the message.
        let e = answer(200, Some("Unhandled"), b"segfault").unwrap_err();
        assert_eq!((e.error_type.as_str(), e.error_message.as_str()), ("Lambda.Unknown", "segfault"));
    }

    #[test]
    fn a_response_that_is_not_json_is_a_runtime_error() {
        let e = answer(200, None, b"<html>").unwrap_err();
        assert_eq!(e.error_type, "States.Runtime");
        assert!(e.error_message.contains("<html>"), "{}", e.error_message);
    }
}
