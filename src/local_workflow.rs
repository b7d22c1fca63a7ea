//! The bulk-upload workflow on this machine: the engine's handlers for the state machine's three
//! Lambda tasks (the same `flow` steps the Lambdas run), over a local folder laid out like the
//! bucket, with the definition substitutions that name them.

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::runtime::ObjectReader;
use engine::{BoxFuture, Clock, Event, Executor, Handler, HandlerError, Storage, StorageError, event_handler, handler};
use flow::aggregate::AggregateRequest;
use flow::diagnose::BatchEnvelope;
use flow::start::ExecutionInput;
use flow::{LocalStore, ObjectStore};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// The state machine CDK deploys, built into the binary.
pub const DEFINITION: &str = include_str!("../statemachine/bulk-upload.asl.json");
/// The bucket name the local run uses (the folder is the bucket).
pub const LOCAL_BUCKET: &str = "local";

/// The engine's ItemReader/ResultWriter storage over the local folder (one bucket).
#[derive(Debug)]
pub struct LocalStorage(pub Arc<LocalStore>);

fn storage_error(e: flow::StoreError) -> StorageError {
    match e {
        flow::StoreError::NotFound { key } => StorageError::NotFound { key },
        other => StorageError::Failed(other.to_string()),
    }
}

impl Storage for LocalStorage {
    fn get(&self, _bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, StorageError>> {
        let (store, key) = (self.0.clone(), key.to_owned());
        Box::pin(async move { store.get(&key).await.map_err(storage_error) })
    }

    fn put(&self, _bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), StorageError>> {
        let (store, key) = (self.0.clone(), key.to_owned());
        Box::pin(async move { store.put(&key, body).await.map_err(storage_error) })
    }

    /// The item file streams from disk, line by line.
    fn open(&self, _bucket: &str, key: &str) -> BoxFuture<Result<ObjectReader, StorageError>> {
        let r = self.0.reader(key).map(|r| Box::new(r) as ObjectReader).map_err(storage_error);
        Box::pin(async move { r })
    }
}

fn step_error(e: flow::FlowError) -> HandlerError {
    HandlerError { error_type: e.error_type().to_owned(), error_message: e.to_string() }
}

fn input_error(e: serde_json::Error) -> HandlerError {
    HandlerError { error_type: "InputInvalid".into(), error_message: e.to_string() }
}

/// The names the deployed stack substitutes; here they name the in-process handlers.
pub fn substitutions(config: &config::SharedConfig) -> BTreeMap<String, String> {
    config.substitution_values(LOCAL_BUCKET)
}

/// What the three steps run with.
#[derive(Debug, Clone)]
pub struct Steps {
    pub store: Arc<LocalStore>,
    pub config: Arc<config::SharedConfig>,
    pub thresholds: Arc<dga::Thresholds>,
    /// The history of earlier uploads in the folder (`history.sqlite3`), when the run keeps one.
    pub history: Option<crate::history_sqlite::SqliteHistory>,
}

impl Steps {
    /// An executor with the three steps registered and the folder as its storage. `progress`
    /// learns the number of assets from parse and advances with every diagnosed batch.
    pub fn executor(&self, clock: Arc<dyn Clock>, progress: ProgressBar) -> Executor {
        let mut exec = Executor::new(clock).with_storage(Arc::new(LocalStorage(self.store.clone())));
        exec.register("parse", self.parse(progress.clone()));
        exec.register("diagnose", self.diagnose(progress.clone()));
        exec.register("aggregate", self.aggregate(progress));
        exec
    }

    pub fn parse(&self, progress: ProgressBar) -> Handler {
        let steps = self.clone();
        handler(move |payload: Value| {
            let (s, p) = (steps.clone(), progress.clone());
            async move {
                let input: ExecutionInput = serde_json::from_value(payload).map_err(input_error)?;
                let out = flow::parse::parse(&*s.store, &input, &s.config).await.map_err(step_error)?;
                p.set_style(phase_style("diagnosing"));
                p.set_length(out.counts.assets);
                serde_json::to_value(out).map_err(input_error)
            }
        })
    }

    pub fn diagnose(&self, progress: ProgressBar) -> Handler {
        let steps = self.clone();
        // The batch arrives as the text the engine built from the item lines, and is read
        // straight into the envelope, as the Lambda reads its event.
        event_handler(move |event: Event| {
            let (s, p) = (steps.clone(), progress.clone());
            async move {
                let envelope: BatchEnvelope = event.deserialize().map_err(input_error)?;
                let out = match &s.history {
                    Some(h) => {
                        flow::diagnose::diagnose_batch_with_history(&*s.store, h, &envelope, &s.thresholds, &s.config)
                            .await
                    }
                    None => flow::diagnose::diagnose_batch(&*s.store, &envelope, &s.thresholds, &s.config).await,
                }
                .map_err(step_error)?;
                p.inc(out.assets as u64);
                serde_json::to_value(out).map_err(input_error)
            }
        })
    }

    pub fn aggregate(&self, progress: ProgressBar) -> Handler {
        let steps = self.clone();
        handler(move |payload: Value| {
            let (s, p) = (steps.clone(), progress.clone());
            async move {
                p.set_style(phase_style("writing"));
                p.set_message("the results (report.html, report.xlsx, diagnoses.jsonl)");
                let request: AggregateRequest = serde_json::from_value(payload).map_err(input_error)?;
                let out = flow::aggregate::aggregate(&*s.store, &request, &s.config).await.map_err(step_error)?;
                serde_json::to_value(out).map_err(input_error)
            }
        })
    }
}

/// The progress line of a run's phase: `reading` (a spinner and the file), `diagnosing` (a bar
/// over the assets), `writing` (a spinner and what is written).
pub fn phase_style(phase: &str) -> ProgressStyle {
    let template = match phase {
        "diagnosing" => "{spinner} diagnosing {pos}/{len} assets [{bar:30}] {elapsed}".to_owned(),
        other => format!("{{spinner}} {other} {{msg}} {{elapsed}}"),
    };
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}

/// The executions port on the in-process engine, for `substation run`. A run id is claimed with
/// an exclusive lock on `<out>/.locks/<run id>.lock` that the operating system drops when the
/// process ends, however it ends (kill -9 included), so a claim is never stale. While one process
/// holds it, a second start of the same run answers "already exists"; so does a start of a run
/// whose summary is written.
#[derive(Debug)]
pub struct LocalExecutions {
    pub steps: Steps,
    pub machine: engine::StateMachine,
    pub executor: Executor,
}

/// A run this process started and ran to its end, with its claim (held until dropped).
#[derive(Debug)]
pub struct LocalExecution {
    pub result: engine::ExecutionResult,
    _claim: std::fs::File,
}

/// Why the engine could not start a run.
#[derive(Debug, thiserror::Error)]
pub enum LocalStartError {
    #[error("cannot claim the run in {path}: {source}")]
    Claim { path: std::path::PathBuf, source: std::io::Error },
    #[error("the input is not JSON: {0}")]
    Input(#[from] serde_json::Error),
    #[error("{}: {}", .0.error, .0.cause)]
    Engine(engine::StatesError),
}

const LOCKS_DIR: &str = ".locks";

impl LocalExecutions {
    fn lock_path(&self, name: &str) -> std::path::PathBuf {
        self.steps.store.root().join(LOCKS_DIR).join(format!("{name}.lock"))
    }

    fn lock_file(&self, name: &str) -> Result<std::fs::File, LocalStartError> {
        let path = self.lock_path(name);
        let claim = |source| LocalStartError::Claim { path: path.clone(), source };
        std::fs::create_dir_all(path.parent().unwrap_or(&path)).map_err(claim)?;
        // Never truncated or written: the lock is the file's flock, not its content.
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(claim)
    }

    /// Blocks until no process holds the run `name` (it finished, failed or died).
    pub fn wait(&self, name: &str) -> Result<(), LocalStartError> {
        let file = self.lock_file(name)?;
        file.lock_shared().map_err(|source| LocalStartError::Claim { path: self.lock_path(name), source })
    }

    fn summary_exists(&self, name: &str) -> bool {
        let key = flow::layout::RunLayout::new(name, &self.steps.config).summary();
        self.steps.store.root().join(key).is_file()
    }
}

impl flow::start::Executions for LocalExecutions {
    type Execution = LocalExecution;
    type Error = LocalStartError;

    async fn start(
        &self,
        name: &str,
        input: &ExecutionInput,
    ) -> Result<flow::start::StartOutcome<LocalExecution>, LocalStartError> {
        use flow::start::StartOutcome;
        let file = self.lock_file(name)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(StartOutcome::AlreadyExists),
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(LocalStartError::Claim { path: self.lock_path(name), source });
            }
        }
        // Claimed: a run that has its summary is done (as Step Functions keeps a finished
        // execution's name); one without it never finished, and runs again from the start.
        if self.summary_exists(name) {
            return Ok(StartOutcome::AlreadyExists);
        }
        let result = self
            .executor
            .start(&self.machine, name, serde_json::to_value(input)?)
            .await
            .map_err(LocalStartError::Engine)?;
        Ok(StartOutcome::Started(LocalExecution { result, _claim: file }))
    }
}
