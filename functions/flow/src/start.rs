//! From an uploaded object to a Step Functions execution: the run id (= execution name) and the
//! execution input. The trigger Lambda and `substation run` both call this.

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An object that arrived under the upload prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// The bucket.
    pub bucket: String,
    /// The decoded key (S3 notifications deliver it form-URL-encoded: see [`decode_s3_key`]).
    pub key: String,
    /// The object's size, bytes.
    pub size: u64,
    /// The object's ETag, when known.
    #[serde(default)]
    pub etag: Option<String>,
    /// The object's version id, when the bucket is versioned.
    #[serde(default)]
    pub version_id: Option<String>,
    /// When S3 saw the object (the notification's `eventTime`): the run's clock, so re-running a
    /// step writes the same bytes.
    pub event_time: String,
}

/// The Distributed Map's numbers, named as the ASL's `*Path` fields read them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MapInput {
    /// Child executions at once.
    #[serde(rename = "MaxConcurrency")]
    pub max_concurrency: u32,
    /// Most asset items per batch.
    #[serde(rename = "MaxItemsPerBatch")]
    pub max_items_per_batch: u32,
    /// Most bytes of a batch's input (at most 256 KiB, AWS's limit of a child's input).
    #[serde(rename = "MaxInputBytesPerBatch")]
    pub max_input_bytes_per_batch: u32,
    /// The share of failed items, percent, above which the Map fails.
    #[serde(rename = "ToleratedFailurePercentage")]
    pub tolerated_failure_percentage: f64,
}

/// Recorded in every persisted result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The program's version.
    pub program_version: String,
    /// A short hash of the configuration in force.
    pub config_hash: String,
}

/// The state machine's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionInput {
    /// The run id, also the execution name.
    pub run_id: String,
    /// The deployment stage, e.g. `dev` or `prod`.
    pub stage: String,
    /// The upload that started the run.
    pub upload: Upload,
    /// The Distributed Map's tunables for this stage.
    pub map: MapInput,
    /// The program version and configuration hash.
    pub provenance: Provenance,
    /// Whether the run merges with the history of earlier uploads: the parse step then keeps
    /// the samples of assets its assets sheet does not list, for the diagnose step to find in
    /// the history.
    #[serde(default)]
    pub history: bool,
}

/// Whether an upload starts a run.
#[derive(Debug, Clone, PartialEq)]
pub enum StartDecision {
    /// Start an execution with this input.
    Start(Box<ExecutionInput>),
    /// Not a workbook under the upload prefix: nothing to run, and why.
    Ignore(String),
}

/// S3 event keys are form-URL-encoded: `+` is a space, `%xx` a byte of UTF-8.
pub fn decode_s3_key(raw: &str) -> String {
    let plus_as_space = raw.replace('+', " ");
    percent_decode_str(&plus_as_space).decode_utf8_lossy().into_owned()
}

/// Execution names allow 1-80 characters of `0-9A-Za-z-_`.
pub const MAX_NAME_LEN: usize = 80;
const HASH_LEN: usize = 12;

/// A readable, deterministic execution name: the sanitized file name plus a short hash of
/// bucket, key, version (or ETag) and the program's version, e.g. `fleet-2026q3-xlsx-3f9a1c2b7d10`.
/// The same object delivered twice gets the same name, so Step Functions refuses the second
/// start; an upgraded program runs it anew instead of showing an older version's results.
pub fn run_id(bucket: &str, key: &str, version_or_etag: Option<&str>) -> String {
    let file = key.rsplit('/').next().unwrap_or(key);
    let mut stem = String::with_capacity(file.len());
    for c in file.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' };
        if !(c == '-' && stem.ends_with('-')) {
            stem.push(c);
        }
    }
    let stem = stem.trim_matches('-');
    let stem: String = stem.chars().take(MAX_NAME_LEN - HASH_LEN - 1).collect();
    let digest = Sha256::digest(
        format!("{bucket}\n{key}\n{}\n{}", version_or_etag.unwrap_or(""), env!("CARGO_PKG_VERSION")).as_bytes(),
    );
    let hash: String = digest.iter().take(HASH_LEN / 2).map(|b| format!("{b:02x}")).collect();
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() { format!("upload-{hash}") } else { format!("{stem}-{hash}") }
}

/// Decides whether an upload starts a run, and with what input.
pub fn start(
    upload: &Upload,
    stage: &str,
    config: &config::SharedConfig,
) -> Result<StartDecision, config::ConfigError> {
    let stage_config = config.stage(stage)?;
    if !upload.key.starts_with(&config.upload_prefix) {
        return Ok(StartDecision::Ignore(format!("'{}' is not under '{}'", upload.key, config.upload_prefix)));
    }
    if upload.key.ends_with('/') {
        return Ok(StartDecision::Ignore(format!("'{}' is a folder marker", upload.key)));
    }
    // S3 notification filters are case-sensitive: the extension is checked here, case-insensitively.
    let extension = upload.key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if !extension.as_ref().is_some_and(|e| config.workbook_extensions.contains(e)) {
        // Named as the engineer named it: the key's folder is the bucket's business.
        let file = upload.key.rsplit('/').next().unwrap_or(&upload.key);
        return Ok(StartDecision::Ignore(format!(
            "'{file}' is neither a workbook nor a CSV file (expected .{})",
            config.workbook_extensions.join(", .")
        )));
    }
    let m = stage_config.map;
    Ok(StartDecision::Start(Box::new(ExecutionInput {
        run_id: run_id(&upload.bucket, &upload.key, upload.version_id.as_deref().or(upload.etag.as_deref())),
        stage: stage.to_owned(),
        upload: upload.clone(),
        map: MapInput {
            max_concurrency: m.max_concurrency,
            max_items_per_batch: m.max_items_per_batch,
            max_input_bytes_per_batch: m.max_input_bytes_per_batch,
            tolerated_failure_percentage: m.tolerated_failure_percentage,
        },
        provenance: Provenance { program_version: env!("CARGO_PKG_VERSION").to_owned(), config_hash: config.hash() },
        // Every stage names its history table (config/stages.json); a local run may opt out.
        history: true,
    })))
}

/// What an executions service answers to a start (Step Functions' `StartExecution`: a new
/// execution, or `ExecutionAlreadyExists` for a name already used with this input).
#[derive(Debug)]
pub enum StartOutcome<E> {
    /// A new execution began (the engine: and ran to its end).
    Started(E),
    /// An execution of this name exists (running or finished): nothing was started.
    AlreadyExists,
}

/// The port through which every run starts: Step Functions for the trigger Lambda, the
/// in-process engine for `substation run`. Names are the run ids, so a second start of the same
/// upload meets the first.
pub trait Executions: Sync {
    /// What a started execution gives back (an ARN; the engine's result).
    type Execution: Send;
    /// Why the service could not answer.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Starts the execution `name` with `input`.
    fn start(
        &self,
        name: &str,
        input: &ExecutionInput,
    ) -> impl std::future::Future<Output = Result<StartOutcome<Self::Execution>, Self::Error>> + Send;
}

/// How an upload ended at the executions port.
#[derive(Debug)]
pub enum Submitted<E> {
    /// Not a run (not a workbook, not under the prefix): why.
    Ignored(String),
    /// A new execution, with the input it was started with.
    Started {
        /// The execution input (its `run_id` is the execution's name).
        input: Box<ExecutionInput>,
        /// What the service gave back.
        execution: E,
    },
    /// The upload's run already exists: a duplicate event, or a second start of the same bytes.
    AlreadyExists {
        /// The input that was offered.
        input: Box<ExecutionInput>,
    },
}

/// Why an upload could not be submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError<E: std::error::Error + 'static> {
    /// The stage is not configured.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The executions service failed.
    #[error("starting '{name}' failed: {source}")]
    Start {
        /// The execution name.
        name: String,
        /// The service's error.
        #[source]
        source: E,
    },
}

/// Upload → decide → start, written once for the trigger and `substation run`: decides whether
/// the upload is a run ([`start`]), lets the caller adjust the input (the CLI's overrides), and
/// starts it through `executions`.
pub async fn submit<X: Executions>(
    executions: &X,
    upload: &Upload,
    stage: &str,
    config: &config::SharedConfig,
    adjust: impl FnOnce(&mut ExecutionInput),
) -> Result<Submitted<X::Execution>, SubmitError<X::Error>> {
    let mut input = match start(upload, stage, config)? {
        StartDecision::Ignore(why) => return Ok(Submitted::Ignored(why)),
        StartDecision::Start(input) => input,
    };
    adjust(&mut input);
    match executions.start(&input.run_id, &input).await {
        Ok(StartOutcome::Started(execution)) => Ok(Submitted::Started { input, execution }),
        Ok(StartOutcome::AlreadyExists) => Ok(Submitted::AlreadyExists { input }),
        Err(source) => Err(SubmitError::Start { name: input.run_id.clone(), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(key: &str) -> Upload {
        Upload {
            bucket: "b".into(),
            key: key.into(),
            size: 10,
            etag: Some("\"e\"".into()),
            version_id: Some("v1".into()),
            event_time: "2026-11-25T10:00:00.000Z".into(),
        }
    }

    #[test]
    fn names_are_readable_deterministic_and_valid() {
        let a = run_id("b", "uploads/Fleet 2026 Q3.xlsx", Some("v1"));
        assert!(a.starts_with("Fleet-2026-Q3-xlsx-"), "{a}");
        assert_eq!(a, run_id("b", "uploads/Fleet 2026 Q3.xlsx", Some("v1")));
        assert_ne!(a, run_id("b", "uploads/Fleet 2026 Q3.xlsx", Some("v2")));
        assert_ne!(a, run_id("other", "uploads/Fleet 2026 Q3.xlsx", Some("v1")));
        let long = run_id("b", &format!("uploads/{}.xlsx", "변압기".repeat(40) + &"x".repeat(200)), None);
        assert!(long.len() <= MAX_NAME_LEN, "{}", long.len());
        for name in [a, long, run_id("b", "uploads/수소.xlsx", None)] {
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{name}");
            assert!(!name.is_empty() && !name.starts_with('-'));
        }
    }

    #[test]
    fn keys_are_form_url_decoded() {
        assert_eq!(decode_s3_key("uploads/Fleet+2026+Q3.xlsx"), "uploads/Fleet 2026 Q3.xlsx");
        assert_eq!(decode_s3_key("uploads/a%2Bb.xlsx"), "uploads/a+b.xlsx");
        assert_eq!(decode_s3_key("uploads/%EC%88%98%EC%86%8C.xlsx"), "uploads/수소.xlsx");
    }

    #[test]
    fn only_workbooks_under_the_upload_prefix_start_a_run() {
        let c = config::SharedConfig::embedded();
        for key in ["uploads/fleet.xlsx", "uploads/FLEET.XLSX", "uploads/sub/f.Xls", "uploads/f.ods"] {
            assert!(matches!(start(&upload(key), "dev", &c).unwrap(), StartDecision::Start(_)), "{key}");
        }
        for key in ["uploads/notes.txt", "results/x/report.xlsx", "uploads/", "uploads/noext"] {
            assert!(matches!(start(&upload(key), "dev", &c).unwrap(), StartDecision::Ignore(_)), "{key}");
        }
        let StartDecision::Start(input) = start(&upload("uploads/fleet.xlsx"), "prod", &c).unwrap() else { panic!() };
        assert_eq!(input.map.max_concurrency, c.stages["prod"].map.max_concurrency);
        assert_eq!(input.provenance.config_hash, c.hash());
        let json = serde_json::to_value(&*input).unwrap();
        assert_eq!(json["map"]["MaxItemsPerBatch"], c.stages["prod"].map.max_items_per_batch);
        assert!(start(&upload("uploads/fleet.xlsx"), "qa", &c).is_err());
    }

    /// An executions service that remembers names, as Step Functions does.
    #[derive(Default)]
    struct Names(std::sync::Mutex<Vec<String>>);

    impl Executions for Names {
        type Execution = usize;
        type Error = std::io::Error;
        async fn start(&self, name: &str, _input: &ExecutionInput) -> Result<StartOutcome<usize>, std::io::Error> {
            let mut names = self.0.lock().unwrap();
            if names.iter().any(|n| n == name) {
                return Ok(StartOutcome::AlreadyExists);
            }
            names.push(name.to_owned());
            Ok(StartOutcome::Started(names.len()))
        }
    }

    #[tokio::test]
    async fn submit_starts_once_per_upload_version_and_ignores_what_is_not_a_run() {
        let (c, x) = (config::SharedConfig::embedded(), Names::default());
        let first = submit(&x, &upload("uploads/fleet.xlsx"), "dev", &c, |_| {}).await.unwrap();
        assert!(matches!(first, Submitted::Started { execution: 1, .. }), "{first:?}");
        let again = submit(&x, &upload("uploads/fleet.xlsx"), "dev", &c, |_| {}).await.unwrap();
        assert!(matches!(again, Submitted::AlreadyExists { .. }), "{again:?}");
        // A second upload of the same name is another version: another run.
        let mut v2 = upload("uploads/fleet.xlsx");
        v2.version_id = Some("v2".into());
        assert!(matches!(submit(&x, &v2, "dev", &c, |_| {}).await.unwrap(), Submitted::Started { execution: 2, .. }));
        let adjusted =
            submit(&x, &upload("uploads/other.xlsx"), "dev", &c, |i| i.map.max_concurrency = 3).await.unwrap();
        let Submitted::Started { input, .. } = adjusted else { panic!("{adjusted:?}") };
        assert_eq!(input.map.max_concurrency, 3);
        let ignored = submit(&x, &upload("uploads/notes.txt"), "dev", &c, |_| {}).await.unwrap();
        assert!(matches!(ignored, Submitted::Ignored(_)));
        assert_eq!(x.0.lock().unwrap().len(), 3);
        assert!(matches!(submit(&x, &upload("uploads/f.xlsx"), "qa", &c, |_| {}).await, Err(SubmitError::Config(_))));
    }
}
