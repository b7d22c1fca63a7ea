//! `substation states run`: run any definition the local engine supports.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use engine::{Executor, HandlerError, StateMachine, SystemClock, handler};
use serde_json::{Value, json};

use crate::exit;

/// Work with state machine definitions locally.
#[derive(Debug, Subcommand)]
pub enum StatesCommand {
    Run(RunArgs),
}

/// Run a state machine definition in process, with AWS's semantics.
#[derive(Debug, Args)]
#[command(
    long_about = "Run an Amazon States Language definition in process, with AWS's processing order, Retry, \
        Catch and error names. Supported: Pass, Task, Choice, Wait, Succeed, Fail, Parallel, inline Map and \
        Distributed Map (ItemReader of JSON, JSONL or CSV objects, ItemSelector, ItemBatcher, tolerated \
        failures, ResultWriter with WriterConfig), JSONPath as AWS reads it (Jayway) and the intrinsic \
        functions. The Distributed Map reads and writes objects in --store, a folder laid out like a bucket \
        (the bucket name is ignored). AWS's limits apply: 256 KiB per input and state output, 25,000 history \
        events per execution, and the ranges AWS validates for Wait, Retry and TimeoutSeconds. Anything \
        else (JSONata, variables, other service integrations) is refused before the run, naming the state \
        and field.\n\n\
        Task states call built-in handlers, by `\"Resource\": \"local:<name>\"`, by a Lambda ARN whose function \
        name is <name>, or by `arn:aws:states:::lambda:invoke` with `\"FunctionName\": \"<name>\"`:\n  \
        echo           returns its input\n  \
        fail           fails with the payload's errorType and errorMessage\n  \
        dga-diagnose   diagnoses a DGA sample ({\"h2_ppm\": 120, ...}) and returns the diagnosis record",
    after_help = "Exit codes: 0 the execution succeeded (its output on stdout); 1 it failed (Error and Cause on \
        stderr); 2 the definition or input was refused."
)]
pub struct RunArgs {
    /// The definition (.asl.json).
    definition: PathBuf,
    /// The execution input: JSON text, or @FILE to read it from a file.
    #[arg(long, default_value = "{}")]
    input: String,
    /// The execution's name.
    #[arg(long, default_value = "local-run")]
    name: String,
    /// A definition substitution, NAME=VALUE (for `${NAME}`); repeatable.
    #[arg(long = "sub", value_name = "NAME=VALUE")]
    substitutions: Vec<String>,
    /// Print the execution history (one JSON event per line) on stderr.
    #[arg(long)]
    history: bool,
    /// The folder the Distributed Map's ItemReader and ResultWriter use, laid out like a bucket.
    #[arg(long, value_name = "DIR", default_value = ".")]
    store: PathBuf,
}

fn builtins(exec: &mut Executor) {
    exec.register("echo", handler(|v: Value| async move { Ok(v) }));
    exec.register(
        "fail",
        handler(|v: Value| async move {
            Err(HandlerError {
                error_type: v["errorType"].as_str().unwrap_or("Failed").to_owned(),
                error_message: v["errorMessage"].as_str().unwrap_or("").to_owned(),
            })
        }),
    );
    exec.register(
        "dga-diagnose",
        handler(|v: Value| async move {
            let invalid = |e: String| HandlerError { error_type: "InputInvalid".into(), error_message: e };
            let sample: dga::DgaSample = serde_json::from_value(v).map_err(|e| invalid(e.to_string()))?;
            let d = dga::diagnose_asset(
                std::slice::from_ref(&sample),
                &dga::AssetInfo::default(),
                &dga::Thresholds::default(),
            )
            .map_err(|e| invalid(e.to_string()))?;
            let history = vec![dga::HistorySample { sample, origin: dga::SampleOrigin::default() }];
            serde_json::to_value(dga::DiagnosisRecord::new(None, None, d, history)).map_err(|e| invalid(e.to_string()))
        }),
    );
}

pub fn run(cmd: &StatesCommand) -> anyhow::Result<u8> {
    let StatesCommand::Run(args) = cmd;
    let text = std::fs::read_to_string(&args.definition)
        .with_context(|| format!("cannot read {}", args.definition.display()))?;
    let input_text = match args.input.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?,
        None => args.input.clone(),
    };
    let input: Value = serde_json::from_str(&input_text).context("--input is not valid JSON")?;
    let mut subs = BTreeMap::new();
    for s in &args.substitutions {
        let (k, v) = s.split_once('=').with_context(|| format!("--sub '{s}' is not NAME=VALUE"))?;
        subs.insert(k.to_owned(), v.to_owned());
    }
    let name = args.definition.file_stem().map_or("local".into(), |s| s.to_string_lossy().replace('.', "-"));
    let machine = StateMachine::load(&name, &text, &subs)
        .with_context(|| format!("{} cannot run locally", args.definition.display()))?;
    let store = Arc::new(flow::LocalStore::new(&args.store));
    let mut exec = Executor::new(Arc::new(SystemClock))
        .record_history(args.history)
        .with_storage(Arc::new(substation::local_workflow::LocalStorage(store)));
    builtins(&mut exec);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    let result = runtime.block_on(exec.start(&machine, &args.name, input));
    let result = match result {
        Ok(r) => r,
        Err(e) => anyhow::bail!("cannot start the execution: {}: {}", e.error, e.cause),
    };
    if args.history {
        let mut err = std::io::stderr().lock();
        for e in &result.history {
            writeln!(err, "{}", serde_json::to_string(e)?)?;
        }
    }
    match (&result.output, &result.error) {
        (Some(out), _) => {
            crate::print_out(&(serde_json::to_string_pretty(out)? + "\n"))?;
            Ok(exit::OK)
        }
        (None, Some(e)) => {
            eprintln!("execution failed: {}", e.error);
            eprintln!("cause: {}", e.cause);
            let json = json!({"Error": e.error, "Cause": e.cause});
            eprintln!("{json}");
            Ok(exit::EXECUTION_FAILED)
        }
        (None, None) => Ok(exit::ERROR),
    }
}
