//! What an execution runs with: the clock, the handlers Task states call, the object storage
//! behind the Distributed Map's ItemReader and ResultWriter, and the execution history (recorded
//! when asked for, always counted against AWS's limit).

use std::future::Future;
use std::io::BufRead;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::StatesError;

/// A boxed, sendable future (handlers, storage, clocks).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// 256 KiB: the largest execution input and state input or output AWS accepts
/// (States.DataLimitExceeded; shared/reference/aws-step-functions.md, quotas).
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// 25,000: the most events one execution's history may hold; AWS fails the execution when it
/// would record more (Step Functions quotas, "Maximum execution history size").
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// Time, injectable: tests run real Retry blocks and Wait states on a virtual clock.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// Waits `d`.
    fn sleep(&self, d: Duration) -> BoxFuture<()>;
}

/// A clock that advances instantly when asked to sleep, recording every sleep.
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<DateTime<Utc>>,
    sleeps: Mutex<Vec<Duration>>,
}

impl VirtualClock {
    /// A clock that starts at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        VirtualClock { now: Mutex::new(start), sleeps: Mutex::new(Vec::new()) }
    }

    /// Every sleep so far (Retry intervals, Wait states).
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|n| *n).unwrap_or_default()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<()> {
        if let (Ok(mut now), Ok(mut sleeps)) = (self.now.lock(), self.sleeps.lock()) {
            *now += chrono::Duration::from_std(d).unwrap_or_default();
            sleeps.push(d);
        }
        Box::pin(async {})
    }
}

/// The wall clock (for `substation run` and `substation states run`).
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A handler's failure, as a Lambda function reports one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerError {
    /// The error name Retry and Catch match.
    #[serde(rename = "errorType")]
    pub error_type: String,
    /// The message.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

/// What a Task hands its function: a value, or — when the engine holds the input as JSON text
/// and the Task passes it on whole (a Distributed Map child's batch, built from the item lines) —
/// that text, as a Lambda function receives it. A function that reads the event into its own
/// types does so straight from the text, without a `Value` tree in between.
#[derive(Debug, Clone)]
pub enum Event {
    /// A value.
    Value(Value),
    /// Compact JSON text, already checked to be JSON.
    Json(Arc<str>),
}

impl Event {
    /// The event as a value.
    pub fn into_value(self) -> Result<Value, serde_json::Error> {
        match self {
            Event::Value(v) => Ok(v),
            Event::Json(text) => serde_json::from_str(&text),
        }
    }

    /// The event read into `T`, from the text when it is text.
    pub fn deserialize<T: serde::de::DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        match self {
            Event::Value(v) => serde_json::from_value(v),
            Event::Json(text) => serde_json::from_str(&text),
        }
    }

    /// The event as compact JSON text (history events).
    pub(crate) fn text(&self) -> String {
        match self {
            Event::Value(v) => crate::compact(v),
            Event::Json(text) => text.to_string(),
        }
    }
}

/// A function a Task state can invoke, as a Lambda handler.
pub type Handler = Arc<dyn Fn(Event) -> BoxFuture<Result<Value, HandlerError>> + Send + Sync>;

/// Wraps an async function of a value as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
{
    Arc::new(move |e: Event| match e.into_value() {
        Ok(v) => Box::pin(f(v)),
        // Unreachable in practice: the engine checks text events are JSON when it reads them.
        Err(err) => Box::pin(std::future::ready(Err(HandlerError {
            error_type: "States.Runtime".into(),
            error_message: format!("the event is not JSON: {err}"),
        }))),
    })
}

/// Wraps an async function of an [`Event`] as a [`Handler`]: for functions that read the event
/// into their own types (`Event::deserialize`) and so gain from text events.
pub fn event_handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
{
    Arc::new(move |e| Box::pin(f(e)))
}

/// Why the storage failed (the ItemReader and ResultWriter report it as
/// `States.ItemReaderFailed` / `States.ResultWriterFailed` with this text as the cause).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// No object at the key.
    #[error("NoSuchKey: {key}")]
    NotFound {
        /// The key.
        key: String,
    },
    /// Anything else, as the store says it.
    #[error("{0}")]
    Failed(String),
}

impl From<String> for StorageError {
    fn from(s: String) -> Self {
        StorageError::Failed(s)
    }
}

/// A reader over an object's bytes, line by line.
pub type ObjectReader = Box<dyn BufRead + Send>;

/// Object storage behind ItemReader and ResultWriter: one port, with a typed error.
pub trait Storage: Send + Sync {
    /// The object's bytes.
    fn get(&self, bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, StorageError>>;
    /// Writes the object.
    fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), StorageError>>;
    /// A reader over the object, for line-by-line reading of large JSONL item files. The default
    /// reads the whole object; a store that can stream (a file) overrides it.
    fn open(&self, bucket: &str, key: &str) -> BoxFuture<Result<ObjectReader, StorageError>> {
        let get = self.get(bucket, key);
        Box::pin(async move { get.await.map(|b| Box::new(std::io::Cursor::new(b)) as ObjectReader) })
    }
}

/// Shared storage.
pub type SharedStorage = Arc<dyn Storage>;

/// Storage in memory, one bucket (the bucket name is ignored): for tests and one-off runs.
#[derive(Debug, Default)]
pub struct MemoryStorage(Mutex<std::collections::HashMap<String, Vec<u8>>>);

impl MemoryStorage {
    /// Stores an object.
    pub fn insert(&self, key: &str, body: impl Into<Vec<u8>>) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key.to_owned(), body.into());
        }
    }

    /// Every object, by key.
    pub fn objects(&self) -> std::collections::HashMap<String, Vec<u8>> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Storage for MemoryStorage {
    fn get(&self, _bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, StorageError>> {
        let r = self
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(key).cloned())
            .ok_or_else(|| StorageError::NotFound { key: key.to_owned() });
        Box::pin(async move { r })
    }

    fn put(&self, _bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), StorageError>> {
        self.insert(key, body);
        Box::pin(async { Ok(()) })
    }
}

/// One history event, named as AWS names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// 1, 2, 3, … in the order they happened.
    pub id: u64,
    /// When, ISO 8601 with milliseconds.
    pub timestamp: String,
    /// AWS's event type, e.g. `TaskStateEntered`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's details.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

/// An execution's history: every event counted (AWS's limit applies whether or not anyone looks),
/// the events themselves built only when recording.
pub(crate) struct History {
    record: bool,
    count: AtomicU64,
    events: Mutex<Vec<HistoryEvent>>,
}

impl History {
    pub(crate) fn new(record: bool) -> Self {
        History { record, count: AtomicU64::new(0), events: Mutex::new(Vec::new()) }
    }

    /// Counts an event; builds and keeps it when recording (`details` is not called otherwise).
    pub(crate) fn event(&self, clock: &dyn Clock, event_type: &str, details: impl FnOnce() -> Value) {
        let id = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if self.record
            && let Ok(mut events) = self.events.lock()
        {
            events.push(HistoryEvent {
                id,
                timestamp: clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
                event_type: event_type.to_owned(),
                details: details(),
            });
        }
    }

    /// Counts a state's event (`<Type><suffix>`, e.g. `TaskStateEntered`); the name is joined
    /// only when recording.
    pub(crate) fn state_event(
        &self,
        clock: &dyn Clock,
        type_name: &str,
        suffix: &str,
        details: impl FnOnce() -> Value,
    ) {
        if self.record {
            self.event(clock, &format!("{type_name}{suffix}"), details);
        } else {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events so far.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Fails when the history has outgrown AWS's limit (checked before every state).
    pub(crate) fn check_limit(&self) -> Result<(), StatesError> {
        if self.count() > MAX_HISTORY_EVENTS {
            return Err(StatesError::history_limit());
        }
        Ok(())
    }

    pub(crate) fn into_events(self) -> Vec<HistoryEvent> {
        self.events.into_inner().unwrap_or_default()
    }
}

/// How long handlers ran: the time during which at least one handler was running, so that the
/// engine's own time is the wall time minus this (children run concurrently).
#[derive(Debug, Default)]
pub(crate) struct BusyClock {
    inner: Mutex<(usize, Option<Instant>, Duration)>,
}

impl BusyClock {
    pub(crate) fn enter(&self) {
        if let Ok(mut g) = self.inner.lock() {
            if g.0 == 0 {
                g.1 = Some(Instant::now());
            }
            g.0 += 1;
        }
    }

    pub(crate) fn leave(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.0 = g.0.saturating_sub(1);
            if g.0 == 0
                && let Some(since) = g.1.take()
            {
                g.2 += since.elapsed();
            }
        }
    }

    /// Busy time so far, including a handler still running.
    pub(crate) fn busy(&self) -> Duration {
        self.inner.lock().map(|g| g.2 + g.1.map(|s| s.elapsed()).unwrap_or_default()).unwrap_or_default()
    }
}

/// Leaves the busy clock when dropped (a handler future cancelled by a timeout leaves too).
pub(crate) struct BusyGuard<'a>(pub(crate) &'a BusyClock);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// The deepest nesting of arrays and objects a state's output may have. AWS's Java JSON
/// parser (Jackson) refuses documents nested deeper than 1,000 levels by default; that AWS
/// keeps this default is UNCONFIRMED. Without a limit, a state looping through a Parallel
/// nests its output one level per turn until anything walking it overflows the stack.
pub const MAX_NESTING: usize = 1_000;

/// Whether a value nests deeper than `max`, measured without recursion.
pub(crate) fn nests_deeper_than(v: &Value, max: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(v, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

/// Counts the bytes of a value's compact JSON without building the text, stopping past `limit`.
fn counted(v: &Value, limit: usize) -> usize {
    struct Counter {
        n: usize,
        limit: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.n += buf.len();
            if self.n > self.limit {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Counter { n: 0, limit };
    let _ = serde_json::to_writer(&mut c, v);
    c.n
}

/// Whether a value's compact JSON is longer than `limit` bytes.
pub(crate) fn exceeds(v: &Value, limit: usize) -> bool {
    counted(v, limit) > limit
}

/// A value's compact JSON size, bytes.
pub(crate) fn json_len(v: &Value) -> usize {
    counted(v, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_without_building_the_text() {
        let v = json!({"a": [1, 2, "ü"], "b": null});
        assert_eq!(json_len(&v), crate::compact(&v).len());
        assert!(!exceeds(&v, crate::compact(&v).len()));
        assert!(exceeds(&v, crate::compact(&v).len() - 1));
    }

    #[test]
    fn nesting_is_measured_without_recursion() {
        let mut v = json!(1);
        for _ in 0..5_000 {
            v = Value::Array(vec![v]);
        }
        assert!(nests_deeper_than(&v, MAX_NESTING));
        assert!(!nests_deeper_than(&json!({"a": [[1]]}), 3));
        assert!(nests_deeper_than(&json!({"a": [[1]]}), 2));
        // Dropping it must not recurse 5,000 frames deep either.
        std::mem::forget(v);
    }

    #[test]
    fn history_counts_without_recording() {
        let clock = SystemClock;
        let h = History::new(false);
        let mut built = false;
        h.event(&clock, "X", || {
            built = true;
            Value::Null
        });
        assert_eq!((h.count(), built), (1, false));
        assert!(h.into_events().is_empty());
    }
}
