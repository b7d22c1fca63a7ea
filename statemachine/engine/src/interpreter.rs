//! Running executions: the executor (handlers, clock, storage, names used), one run per
//! execution (its history and context object), and the loop every set of states runs — enter,
//! run the state, check the size, exit, transition.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::definition::{StateMachine, States};
use crate::error::StatesError;
use crate::path::Ctx;
use crate::runtime::{
    BusyClock, Clock, Event, Handler, History, HistoryEvent, MAX_NESTING, MAX_PAYLOAD_BYTES, SharedStorage, exceeds,
    nests_deeper_than,
};
use crate::{compact, states};

/// How long one top-level state took, and how much of it was spent inside handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTiming {
    /// The state's name.
    pub name: String,
    /// Wall time from entering to leaving the state.
    pub wall: Duration,
    /// Time during which at least one handler was running, within the state.
    pub in_handlers: Duration,
    /// Process CPU time (all threads) spent within the state, when the executor has a CPU clock
    /// ([`Executor::with_cpu_clock`]).
    pub cpu: Option<Duration>,
}

/// Figures of one execution, for benchmarks and `--timings`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionStats {
    /// Wall time of the whole execution.
    pub wall: Duration,
    /// Time during which at least one handler was running.
    pub in_handlers: Duration,
    /// History events of the execution itself (child executions count their own).
    pub events: u64,
    /// Every top-level state run, in order (AWS bills one state transition for each).
    pub states: Vec<StateTiming>,
    /// Distributed Map child executions started (AWS bills one transition each, and an EXPRESS
    /// child its request and duration).
    pub child_executions: u64,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionResult {
    /// The execution's name.
    pub name: String,
    /// `SUCCEEDED` or `FAILED`.
    pub status: &'static str,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error, when it failed.
    pub error: Option<StatesError>,
    /// The history, when recorded ([`Executor::record_history`]); empty otherwise.
    pub history: Vec<HistoryEvent>,
    /// Timings and counts.
    #[serde(skip)]
    pub stats: ExecutionStats,
}

/// What every run of an executor shares.
pub(crate) struct Shared {
    pub handlers: HashMap<String, Handler>,
    pub clock: Arc<dyn Clock>,
    pub storage: Option<SharedStorage>,
    pub arn_prefix: String,
    pub account: String,
    pub record_history: bool,
    pub busy: BusyClock,
    pub result_files: crate::distributed::ResultFileNames,
    pub cpu_clock: Option<CpuClock>,
    /// Distributed Map children started, at every depth.
    pub children_started: std::sync::atomic::AtomicU64,
}

/// Reads the process's CPU time (user + system, all threads).
pub type CpuClock = fn() -> Option<Duration>;

impl Shared {
    pub(crate) fn handler_names(&self) -> Vec<String> {
        sorted_names(&self.handlers)
    }
}

fn sorted_names(handlers: &HashMap<String, Handler>) -> Vec<String> {
    let mut n: Vec<String> = handlers.keys().cloned().collect();
    n.sort();
    n
}

/// Runs executions of state machines: the handlers, the clock, the storage behind ItemReader
/// and ResultWriter, the names already used.
pub struct Executor {
    handlers: HashMap<String, Handler>,
    clock: Arc<dyn Clock>,
    storage: Option<SharedStorage>,
    names: Mutex<HashSet<String>>,
    account: String,
    region: String,
    record_history: bool,
    result_files: crate::distributed::ResultFileNames,
    cpu_clock: Option<CpuClock>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor").field("handlers", &self.handlers.keys().collect::<Vec<_>>()).finish()
    }
}

/// AWS execution names: 1-80 characters of `0-9A-Za-z-_`.
pub fn check_execution_name(name: &str) -> Result<(), StatesError> {
    if name.is_empty() || name.len() > 80 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(StatesError::new(
            "InvalidName",
            format!("Invalid Name: '{name}' (1-80 characters of 0-9A-Za-z-_)"),
        ));
    }
    Ok(())
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One execution: its identity (what the context object shows), its history, the timings of its
/// top-level states.
pub(crate) struct Run {
    pub shared: Arc<Shared>,
    pub history: History,
    pub execution_id: String,
    pub name: String,
    pub input: Arc<Value>,
    pub start_time: String,
    pub role_arn: Option<String>,
    pub state_machine_id: String,
    pub state_machine_name: String,
    timings: Option<Mutex<Vec<StateTiming>>>,
}

impl Run {
    /// A Distributed Map child: its own execution, history and context.
    pub(crate) fn child(&self, sm_arn: &str, sm_name: &str, name: &str, input: Arc<Value>) -> Run {
        let shared = self.shared.clone();
        Run {
            execution_id: format!("{}:execution:{sm_name}:{name}", shared.arn_prefix),
            name: name.to_owned(),
            input,
            start_time: timestamp(shared.clock.now()),
            role_arn: None,
            state_machine_id: sm_arn.to_owned(),
            state_machine_name: sm_name.to_owned(),
            history: History::new(shared.record_history),
            timings: None,
            shared,
        }
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.shared.clock.as_ref()
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Counts an event; builds its details only when the history is recorded.
    pub(crate) fn event(&self, event_type: &str, details: impl FnOnce() -> Value) {
        self.history.event(self.clock(), event_type, details);
    }

    /// The context object of a state (built only if a `$$` path reads it).
    pub(crate) fn context<'a>(
        &'a self,
        state: &'a str,
        entered: DateTime<Utc>,
        retry_count: u32,
        map_item: Option<(usize, &'a Value)>,
    ) -> Ctx<'a> {
        Ctx::lazy(move || {
            let mut execution = json!({
                "Id": self.execution_id,
                "Input": *self.input,
                "Name": self.name,
                "StartTime": self.start_time,
                "RedriveCount": 0,
            });
            if let Some(role) = &self.role_arn {
                execution["RoleArn"] = json!(role);
            }
            let mut ctx = json!({
                "Execution": execution,
                "StateMachine": {"Id": self.state_machine_id, "Name": self.state_machine_name},
                "State": {"Name": state, "EnteredTime": timestamp(entered), "RetryCount": retry_count},
            });
            if let Some((index, value)) = map_item {
                ctx["Map"] = json!({"Item": {"Index": index, "Value": value}});
            }
            ctx
        })
    }
}

pub(crate) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs a set of states from its start to its end.
pub(crate) fn run_states<'a>(run: &'a Run, states: &'a States, input: Event) -> BoxFut<'a, Result<Value, StatesError>> {
    Box::pin(async move {
        let mut current = states.start_at.as_str();
        let mut raw = input;
        loop {
            run.history.check_limit()?;
            let state = states
                .states
                .get(current)
                .ok_or_else(|| StatesError::runtime(format!("no state named '{current}'")))?;
            let (started, busy_before) = (Instant::now(), run.shared.busy.busy());
            let cpu_before = run.timings.as_ref().and(run.shared.cpu_clock).and_then(|c| c());
            run.history.state_event(
                run.clock(),
                state.type_name,
                "StateEntered",
                || json!({"name": current, "input": raw.text()}),
            );
            let (output, next) = states::run(run, state, raw).await?;
            if nests_deeper_than(&output, MAX_NESTING) {
                // Not dropped: a value this deep would overflow the stack on the way down.
                std::mem::forget(output);
                return Err(StatesError::runtime(format!(
                    "The state/task '{}' returned a result nested deeper than {MAX_NESTING} levels",
                    state.name
                )));
            }
            if exceeds(&output, MAX_PAYLOAD_BYTES) {
                return Err(StatesError::data_limit(&state.name));
            }
            run.history.state_event(
                run.clock(),
                state.type_name,
                "StateExited",
                || json!({"name": current, "output": compact(&output)}),
            );
            if let Some(t) = &run.timings
                && let Ok(mut t) = t.lock()
            {
                t.push(StateTiming {
                    name: state.name.clone(),
                    wall: started.elapsed(),
                    in_handlers: run.shared.busy.busy().saturating_sub(busy_before),
                    cpu: cpu_before.zip(run.shared.cpu_clock.and_then(|c| c())).map(|(a, b)| b.saturating_sub(a)),
                });
            }
            match next {
                Some(n) => {
                    current = n;
                    raw = Event::Value(output);
                }
                None => return Ok(output),
            }
        }
    })
}

impl Executor {
    /// An executor on this clock, with no handlers and no storage; it records histories.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Executor {
            handlers: HashMap::new(),
            clock,
            storage: None,
            names: Mutex::new(HashSet::new()),
            account: "123456789012".into(),
            region: "local".into(),
            record_history: true,
            result_files: crate::distributed::ResultFileNames::default(),
            cpu_clock: None,
        }
    }

    /// A clock of the process's CPU time, read at every top-level state's entry and exit so that
    /// [`StateTiming::cpu`] shows how many cores a state kept busy.
    pub fn with_cpu_clock(mut self, clock: CpuClock) -> Self {
        self.cpu_clock = Some(clock);
        self
    }

    /// Registers a handler under the name a Task's `FunctionName` or Lambda ARN resolves to (the
    /// function name: the last `:`-segment of an ARN) or a `local:<name>` resource.
    pub fn register(&mut self, name: &str, h: Handler) {
        self.handlers.insert(name.to_owned(), h);
    }

    /// The object store the Distributed Map's ItemReader and ResultWriter use.
    pub fn with_storage(mut self, storage: SharedStorage) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Whether executions keep their history events (on by default). Off, the events are only
    /// counted — AWS's 25,000-event limit still applies — and nothing is serialized for them.
    pub fn record_history(mut self, record: bool) -> Self {
        self.record_history = record;
        self
    }

    /// The names of the ResultWriter's files in JSONL form, which AWS does not document
    /// (UNCONFIRMED; [`crate::distributed::ResultFileNames`]).
    pub fn with_result_file_names(mut self, names: crate::distributed::ResultFileNames) -> Self {
        self.result_files = names;
        self
    }

    /// The registered handlers' names, sorted.
    pub fn handler_names(&self) -> Vec<String> {
        sorted_names(&self.handlers)
    }

    /// Starts and runs an execution to its end. A name used before is `ExecutionAlreadyExists`;
    /// an input over 256 KiB is `States.DataLimitExceeded`, as StartExecution refuses it.
    pub async fn start(
        &self,
        machine: &StateMachine,
        name: &str,
        input: Value,
    ) -> Result<ExecutionResult, StatesError> {
        check_execution_name(name)?;
        if exceeds(&input, MAX_PAYLOAD_BYTES) {
            return Err(StatesError::new(
                "States.DataLimitExceeded",
                format!("The execution input exceeds the maximum of {MAX_PAYLOAD_BYTES} bytes"),
            ));
        }
        if let Ok(mut names) = self.names.lock()
            && !names.insert(format!("{}/{name}", machine.name))
        {
            return Err(StatesError::new("ExecutionAlreadyExists", format!("Execution Already Exists: '{name}'")));
        }
        let arn_prefix = format!("arn:aws:states:{}:{}", self.region, self.account);
        let shared = Arc::new(Shared {
            handlers: self.handlers.clone(),
            clock: self.clock.clone(),
            storage: self.storage.clone(),
            arn_prefix: arn_prefix.clone(),
            account: self.account.clone(),
            record_history: self.record_history,
            busy: BusyClock::default(),
            result_files: self.result_files.clone(),
            cpu_clock: self.cpu_clock,
            children_started: Default::default(),
        });
        let started = Instant::now();
        let run = Run {
            execution_id: format!("{arn_prefix}:execution:{}:{name}", machine.name),
            name: name.to_owned(),
            input: Arc::new(input),
            start_time: timestamp(self.clock.now()),
            role_arn: Some(format!("arn:aws:iam::{}:role/local", shared.account)),
            state_machine_id: format!("{arn_prefix}:stateMachine:{}", machine.name),
            state_machine_name: machine.name.clone(),
            history: History::new(self.record_history),
            timings: Some(Mutex::new(Vec::new())),
            shared: shared.clone(),
        };
        run.event("ExecutionStarted", || json!({"input": compact(&run.input)}));
        let input = (*run.input).clone();
        let outcome = run_states(&run, &machine.root, Event::Value(input)).await;
        let (status, output, error) = match outcome {
            Ok(out) => {
                run.event("ExecutionSucceeded", || json!({"output": compact(&out)}));
                ("SUCCEEDED", Some(out), None)
            }
            Err(e) => {
                run.event("ExecutionFailed", || json!({"error": e.error, "cause": e.cause}));
                ("FAILED", None, Some(e))
            }
        };
        let stats = ExecutionStats {
            wall: started.elapsed(),
            in_handlers: shared.busy.busy(),
            events: run.history.count(),
            states: run.timings.as_ref().and_then(|t| t.lock().ok().map(|t| t.clone())).unwrap_or_default(),
            child_executions: shared.children_started.load(std::sync::atomic::Ordering::Relaxed),
        };
        let history = run.history.into_events();
        Ok(ExecutionResult { name: name.to_owned(), status, output, error, history, stats })
    }
}
