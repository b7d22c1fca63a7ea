//! `substation submit` and `status` as an engineer runs them against a deployed stack — here a
//! stack on moto's server (loopback: CloudFormation outputs, a versioned bucket, the state
//! machine), with the test playing the trigger: it starts the execution from the uploaded
//! object exactly as the trigger Lambda does (`flow::start::submit` through the Step Functions
//! port). moto's ListMapRuns answers no Map Run, so the views here have none (the Map Run's
//! counts are tested with recorded responses in functions/remote/tests/deployed.rs).
//! Built with the `aws` feature; scripts/rehearse runs it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use remote::DynamoHistory;
use remote::testing::{BUCKET, HISTORY_TABLE, MotoStack, STATE_MACHINE_ARN as SM, StepFunctions};
use serde_json::Value;

/// A stack on moto, a folder with a generated fleet, and the CLI pointed at them.
struct Setup {
    stack: MotoStack,
    dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    file: std::path::PathBuf,
}

impl Setup {
    /// With the stack deployed, or not.
    fn new(deployed: bool) -> Setup {
        let stack = MotoStack::start();
        let rt = tokio::runtime::Runtime::new().unwrap();
        if deployed {
            rt.block_on(stack.deploy());
        }
        let dir = tempfile::tempdir().unwrap();
        let file = fleet(dir.path());
        Setup { stack, dir, rt, file }
    }

    /// The CLI with the standard AWS chain pointed at moto: test credentials, no profile files.
    fn cli(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_substation"));
        c.env("AWS_ENDPOINT_URL", &self.stack.moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "AKIDSUBSTATIONTEST")
            .env("AWS_SECRET_ACCESS_KEY", "substation-test-secret")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOME", self.dir.path())
            .env_remove("AWS_PROFILE")
            .env_remove(dga::THRESHOLDS_ENV);
        c
    }

    /// `submit FILE --stage dev --follow` started in the background, then the trigger's part
    /// played; the execution's ARN.
    fn submit_and_trigger(&self, extra: &[&str]) -> (std::process::Child, String) {
        let child = self
            .cli()
            .arg("submit")
            .arg(&self.file)
            .args(["--stage", "dev", "--follow"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let execution = self.rt.block_on(play_the_trigger(&self.stack.clients, "uploads/fleet Q4.xlsx"));
        (child, execution)
    }
}

/// The trigger's part: once the workbook is in the bucket, start its execution as the trigger
/// Lambda does, from the object's key, version and ETag.
async fn play_the_trigger(c: &remote::Clients, key: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let head = loop {
        if let Ok(h) = c.s3.head_object().bucket(BUCKET).key(key).send().await {
            break h;
        }
        assert!(Instant::now() < deadline, "{key} was not uploaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let upload = flow::start::Upload {
        bucket: BUCKET.into(),
        key: key.into(),
        size: head.content_length().unwrap_or_default() as u64,
        etag: head.e_tag().map(str::to_owned),
        version_id: head.version_id().map(str::to_owned),
        event_time: "2026-12-03T08:00:00.000Z".into(),
    };
    let sfn = StepFunctions::new(c.sfn.clone(), SM);
    let config = config::SharedConfig::embedded();
    match flow::start::submit(&sfn, &upload, "dev", &config, |_| {}).await.unwrap() {
        flow::start::Submitted::Started { execution, .. } => execution,
        other => panic!("not started: {other:?}"),
    }
}

fn fleet(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("fleet Q4.xlsx");
    let ok = Command::new(env!("CARGO_BIN_EXE_substation"))
        .args(["sample", "--assets", "30", "--seed", "4", "-o"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(ok.success());
    file
}

#[test]
fn submit_follows_the_run_it_started_to_its_end_and_shows_the_summary() {
    let t = Setup::new(true);
    let c = &t.stack.clients;

    // The summary the aggregate would write, from the same workbook run in process.
    let local = Command::new(env!("CARGO_BIN_EXE_substation"))
        .arg("run")
        .arg(&t.file)
        .arg("--out")
        .arg(t.dir.path().join("local"))
        .args(["--json", "--no-history"])
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&local.stdout).unwrap();

    let (child, execution) = t.submit_and_trigger(&["--json"]);
    let run_id = execution.rsplit(':').next().unwrap().to_owned();
    // The aggregate writes the summary; the run then ends (moto's executions never finish on
    // their own: it is stopped, so it ends ABORTED).
    t.rt.block_on(async {
        let key = format!("results/{run_id}/summary.json");
        // As the aggregate writes it: named by this run.
        let text = summary.to_string().replace(summary["run_id"].as_str().unwrap(), &run_id);
        c.s3.put_object().bucket(BUCKET).key(key).body(text.into_bytes().into()).send().await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        c.sfn.stop_execution().execution_arn(&execution).send().await.unwrap();
    });
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "an aborted run exits 1: {stderr}");
    let view: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    assert_eq!(view["run_id"], run_id.as_str(), "the trigger's run is the one followed");
    assert_eq!(view["execution_arn"], execution.as_str());
    assert_eq!(view["status"], "ABORTED");
    assert_eq!(view["summary"]["counts"], summary["counts"]);
    assert!(view["console"].as_str().unwrap().ends_with(&execution));

    // `status` shows the same run, by its id, as a person reads it.
    let out = t.cli().args(["status", &run_id, "--stage", "dev"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains(&format!("Run {run_id}: ABORTED")), "{text}");
    assert!(text.contains(&format!("results: s3://{BUCKET}/results/{run_id}/")), "{text}");
    assert!(text.contains("rows read"), "{text}");
}

#[test]
fn ctrl_c_stops_following_not_the_run() {
    let t = Setup::new(true);
    let (child, execution) = t.submit_and_trigger(&[]);
    std::thread::sleep(Duration::from_secs(3));
    #[allow(unsafe_code)]
    // SAFETY: kill(2) with a child's pid and SIGINT, as a terminal's Ctrl-C sends it.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped following: the run goes on"), "{stderr}");
    let status = t.rt.block_on(t.stack.clients.sfn.describe_execution().execution_arn(&execution).send()).unwrap();
    assert_eq!(status.status().as_str(), "RUNNING", "the run itself was not stopped");

    // Without --follow, a running run exits 3.
    let run_id = execution.rsplit(':').next().unwrap();
    let out = t.cli().args(["status", run_id, "--stage", "dev", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn no_stack_and_not_a_workbook_are_said_plainly() {
    let t = Setup::new(false);
    let out = t.cli().arg("submit").arg(&t.file).args(["--stage", "dev"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("no stack Substation-dev: deploy it first"), "{stderr}");

    t.rt.block_on(t.stack.deploy());
    let notes = t.dir.path().join("notes.txt");
    std::fs::write(&notes, "not a workbook").unwrap();
    let out = t.cli().arg("submit").arg(&notes).args(["--stage", "dev"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("'notes.txt' is neither a workbook nor a CSV file (expected .xlsx"), "{stderr}");
}

/// `history show / forget` and `rediagnose` with `--stage`: the deployed stage's table (found by
/// the stack's `HistoryTableName` output), here on moto's DynamoDB, written by the diagnose
/// Lambda's own on-demand code.
#[test]
fn the_history_commands_look_after_a_stages_table() {
    let t = Setup::new(true);
    let c = &t.stack.clients;
    t.rt.block_on(async {
        DynamoHistory::create_table(&c.dynamodb, HISTORY_TABLE).await.unwrap();
        let store = DynamoHistory::new(c.dynamodb.clone(), HISTORY_TABLE);
        let mut request: flow::on_demand::AssetRequest =
            serde_json::from_str(include_str!("fixtures/events/asset-request.json")).unwrap();
        request.new_asset = true;
        let config = config::SharedConfig::embedded();
        flow::on_demand::diagnose_one(&store, &request, &dga::Thresholds::default(), &config).await.unwrap();
    });

    let out = t.cli().args(["history", "show", "TR-001", "--stage", "dev", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["asset_id"], "TR-001");
    assert_eq!(h["samples"].as_array().unwrap().len(), 1);
    let run = h["samples"][0]["source"]["run_id"].as_str().unwrap().to_owned();

    let out = t.cli().args(["rediagnose", "--stage", "dev"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Rediagnosed 1 stored assets"), "{text}");

    let out = t.cli().args(["history", "forget", &run, "--stage", "dev"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("forgot 1 samples of run {run} from 1 assets in the history of stage dev")),
        "{stderr}"
    );
    let out = t.cli().args(["history", "show", "TR-001", "--stage", "dev", "--json"]).output().unwrap();
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["samples"].as_array().unwrap().len(), 0);
}
