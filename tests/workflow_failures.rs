//! The real state machine with injected handler failures, on a virtual clock: transient errors
//! go through the definition's own Retry blocks and succeed; a poison batch lands in FAILED and
//! in the summary, the run succeeding under the tolerance and taking the partial path above it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use engine::{Executor, HandlerError, StateMachine, VirtualClock, handler};
use flow::aggregate::{RunStatus, Summary};
use flow::start::{ExecutionInput, StartDecision, Upload};
use flow::{LocalStore, ObjectStore};
use indicatif::ProgressBar;
use serde_json::Value;
use substation::local_workflow::{self, DEFINITION, Steps};

/// How the diagnose handler misbehaves.
#[derive(Clone, Copy)]
enum Fault {
    /// The first N calls fail with StorageUnavailable (retried by the definition).
    Transient(u32),
    /// Any batch holding this asset fails with a non-retried error.
    Poison(&'static str),
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<LocalStore>,
    clock: Arc<VirtualClock>,
    exec: Executor,
    machine: StateMachine,
    input: ExecutionInput,
    calls: Arc<AtomicU32>,
}

async fn setup(fault: Fault, tolerated_pct: f64) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path()));
    let config = Arc::new(config::SharedConfig::embedded());
    let opts = workbook::sample::SampleOptions {
        assets: 40,
        samples_per_asset: 3,
        seed: 2,
        with_mistakes: false,
        ..Default::default()
    };
    let bytes = workbook::sample::write_fleet(&opts).unwrap();
    let upload = Upload {
        bucket: "local".into(),
        key: "uploads/fleet.xlsx".into(),
        size: bytes.len() as u64,
        etag: Some("e".into()),
        version_id: None,
        event_time: "2026-11-25T10:00:00.000Z".into(),
    };
    store.put(&upload.key, bytes).await.unwrap();
    let StartDecision::Start(input) = flow::start::start(&upload, "dev", &config).unwrap() else { panic!() };
    let mut input = *input;
    input.map.max_items_per_batch = 5;
    input.map.tolerated_failure_percentage = tolerated_pct;

    let clock = Arc::new(VirtualClock::new(chrono::Utc::now()));
    let steps = Steps {
        store: store.clone(),
        config: config.clone(),
        thresholds: Arc::new(dga::Thresholds::default()),
        history: None,
    };
    let mut exec = steps.executor(clock.clone(), ProgressBar::hidden());
    // The real diagnose step, behind the fault.
    let calls = Arc::new(AtomicU32::new(0));
    let (diagnose, n) = (steps.diagnose(ProgressBar::hidden()), calls.clone());
    exec.register(
        "diagnose",
        handler(move |p: Value| {
            let (diagnose, n) = (diagnose.clone(), n.clone());
            async move {
                let call = n.fetch_add(1, Ordering::SeqCst);
                match fault {
                    Fault::Transient(k) if call < k => {
                        return Err(HandlerError {
                            error_type: "StorageUnavailable".into(),
                            error_message: "SlowDown".into(),
                        });
                    }
                    Fault::Poison(id)
                        if p["Items"].as_array().is_some_and(|items| items.iter().any(|i| i["asset_id"] == id)) =>
                    {
                        return Err(HandlerError {
                            error_type: "Poison".into(),
                            error_message: format!("{id} breaks the batch"),
                        });
                    }
                    _ => {}
                }
                diagnose(engine::Event::Value(p)).await
            }
        }),
    );
    let machine = StateMachine::load("bulk-upload", DEFINITION, &local_workflow::substitutions(&config)).unwrap();
    Setup { _dir: dir, store, clock, exec, machine, input, calls }
}

async fn summary(s: &Setup) -> Summary {
    let key = format!("results/{}/summary.json", s.input.run_id);
    serde_json::from_slice(&s.store.get(&key).await.unwrap()).unwrap()
}

#[tokio::test]
async fn transient_errors_are_retried_by_the_definition_and_succeed() {
    let s = setup(Fault::Transient(2), 0.0).await;
    let r = s.exec.start(&s.machine, &s.input.run_id, serde_json::to_value(&s.input).unwrap()).await.unwrap();
    assert_eq!(r.status, "SUCCEEDED", "{:?}", r.error);
    // 40 assets in batches of 5: 8 children, 2 extra attempts.
    assert_eq!(s.calls.load(Ordering::SeqCst), 10);
    // The StorageUnavailable retrier's own waits: 1 s then 2 s, with FULL jitter (at most that).
    let sleeps = s.clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0].as_secs_f64() <= 1.0 && sleeps[1].as_secs_f64() <= 2.0, "{sleeps:?}");
    let sm = summary(&s).await;
    assert_eq!((sm.status, sm.counts.diagnosed, sm.counts.failed), (RunStatus::Complete, 40, 0));
}

#[tokio::test]
async fn a_poison_batch_under_the_tolerance_is_reported_and_the_run_succeeds() {
    let s = setup(Fault::Poison("TR-00007"), 20.0).await;
    let r = s.exec.start(&s.machine, &s.input.run_id, serde_json::to_value(&s.input).unwrap()).await.unwrap();
    assert_eq!(r.status, "SUCCEEDED", "{:?}", r.error);
    let sm = summary(&s).await;
    assert_eq!(
        (sm.status, sm.counts.diagnosed, sm.counts.failed, sm.counts.not_started),
        (RunStatus::Complete, 35, 5, 0)
    );
    assert!(
        sm.failures.iter().any(|f| f.asset_id.as_deref() == Some("TR-00007") && f.error.contains("Poison")),
        "{:?}",
        sm.failures
    );
}

#[tokio::test]
async fn above_the_tolerance_the_run_takes_the_partial_path_and_fails() {
    let s = setup(Fault::Poison("TR-00007"), 0.0).await;
    let r = s.exec.start(&s.machine, &s.input.run_id, serde_json::to_value(&s.input).unwrap()).await.unwrap();
    assert_eq!(r.status, "FAILED");
    assert_eq!(r.error.unwrap().error, "States.ExceedToleratedFailureThreshold");
    let sm = summary(&s).await;
    assert_eq!(sm.status, RunStatus::Incomplete);
    assert!(
        sm.counts.failed >= 5 && sm.counts.diagnosed + sm.counts.failed + sm.counts.not_started == 40,
        "{:?}",
        sm.counts
    );
    let states: Vec<&str> = r
        .history
        .iter()
        .filter(|e| e.event_type.ends_with("StateEntered"))
        .filter_map(|e| e.details["name"].as_str())
        .collect();
    assert_eq!(states, ["ParseWorkbook", "DiagnoseAssets", "PersistPartialResults", "DiagnosisIncomplete"]);
}

fn steps_of(s: &Setup) -> Steps {
    Steps {
        store: s.store.clone(),
        config: Arc::new(config::SharedConfig::embedded()),
        thresholds: Arc::new(dga::Thresholds::default()),
        history: None,
    }
}

fn states_entered(r: &engine::ExecutionResult) -> Vec<String> {
    r.history
        .iter()
        .filter(|e| e.event_type.ends_with("StateEntered"))
        .filter_map(|e| e.details["name"].as_str().map(str::to_owned))
        .collect()
}

/// The aggregate failing (after its retries) is caught: a summary says so, counts every asset
/// as failed, and the execution fails with the aggregate's error (issue 14).
#[tokio::test]
async fn a_failing_aggregate_still_leaves_a_summary_that_says_so() {
    let mut s = setup(Fault::Transient(0), 0.0).await;
    let aggregate = steps_of(&s).aggregate(ProgressBar::hidden());
    s.exec.register(
        "aggregate",
        handler(move |p: Value| {
            let aggregate = aggregate.clone();
            async move {
                if p["mode"] == "complete" {
                    return Err(HandlerError { error_type: "ReportFailed".into(), error_message: "disk full".into() });
                }
                aggregate(engine::Event::Value(p)).await
            }
        }),
    );
    let r = s.exec.start(&s.machine, &s.input.run_id, serde_json::to_value(&s.input).unwrap()).await.unwrap();
    assert_eq!(r.status, "FAILED");
    assert_eq!(r.error.as_ref().unwrap().error, "ReportFailed");
    assert_eq!(states_entered(&r), ["ParseWorkbook", "DiagnoseAssets", "Aggregate", "PersistFailure", "ResultsFailed"]);
    let sm = summary(&s).await;
    assert_eq!(sm.status, RunStatus::Incomplete);
    let reason = sm.reason.unwrap();
    assert!(reason.contains("ReportFailed: disk full") && reason.contains("rejected"), "{reason}");
    let c = &sm.counts;
    assert_eq!((c.assets, c.diagnosed, c.failed, c.not_started), (40, 0, 40, 0));
    assert_eq!(c.rows_read, c.samples_accepted + c.rows_rejected + c.rows_skipped);
}

/// The parse step dying (out of memory, a timeout: no WorkbookInvalid) still ends in a
/// rejection summary that says how.
#[tokio::test]
async fn a_parse_step_that_dies_still_leaves_a_rejection_summary() {
    let mut s = setup(Fault::Transient(0), 0.0).await;
    s.exec.register(
        "parse",
        handler(|_p: Value| async move {
            Err(HandlerError {
                error_type: "Runtime.ExitError".into(),
                error_message: "Runtime exited with error: signal: killed".into(),
            })
        }),
    );
    let r = s.exec.start(&s.machine, &s.input.run_id, serde_json::to_value(&s.input).unwrap()).await.unwrap();
    assert_eq!(r.status, "FAILED");
    assert_eq!(r.error.as_ref().unwrap().error, "Runtime.ExitError");
    assert_eq!(states_entered(&r), ["ParseWorkbook", "PersistRejection", "WorkbookRejected"]);
    let sm = summary(&s).await;
    assert_eq!(sm.status, RunStatus::Rejected);
    assert!(sm.reason.as_deref().unwrap().contains("signal: killed"), "{:?}", sm.reason);
    assert_eq!(sm.error.as_deref(), Some("Runtime.ExitError"));
}
