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
use remote::testing::{Moto, StepFunctions, aws_sdk_s3};
use remote::{Clients, Endpoints};
use serde_json::Value;

const SM_NAME: &str = "substation-dev-bulk-upload";
const SM: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:substation-dev-bulk-upload";
const BUCKET: &str = "substation-dev-123456789012-us-east-1";
const HISTORY_TABLE: &str = "substation-dev-history";

fn clients(moto: &Moto) -> Clients {
    let e = moto.endpoint.clone();
    Clients::loopback(&Endpoints { lambda: e.clone(), s3: e.clone(), sfn: e.clone(), dynamodb: e }, "substation-test")
}

/// The stack `Substation-dev` on moto: its outputs, its bucket (versioned) and state machine.
async fn deploy(c: &Clients) {
    c.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let on = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    c.s3.put_bucket_versioning().bucket(BUCKET).versioning_configuration(on).send().await.unwrap();
    let sm = c
        .sfn
        .create_state_machine()
        .name(SM_NAME)
        .definition(include_str!("../statemachine/bulk-upload.asl.json"))
        .role_arn("arn:aws:iam::123456789012:role/substation-dev-states")
        .send()
        .await
        .unwrap();
    assert_eq!(sm.state_machine_arn(), SM);
    let template = serde_json::json!({
        "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "BucketName": {"Value": BUCKET},
            "StateMachineArn": {"Value": SM},
            "HistoryTableName": {"Value": HISTORY_TABLE}
        }
    });
    c.cloudformation
        .create_stack()
        .stack_name("Substation-dev")
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
}

/// The CLI with the standard AWS chain pointed at moto: test credentials, no profile files.
fn substation(moto: &Moto, home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_substation"));
    c.env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIDSUBSTATIONTEST")
        .env("AWS_SECRET_ACCESS_KEY", "substation-test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home)
        .env_remove("AWS_PROFILE")
        .env_remove(dga::THRESHOLDS_ENV);
    c
}

/// The trigger's part: once the workbook is in the bucket, start its execution as the trigger
/// Lambda does, from the object's key, version and ETag.
async fn play_the_trigger(c: &Clients, key: &str) -> String {
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
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = clients(&moto);
    rt.block_on(deploy(&c));
    let file = fleet(dir.path());

    // The summary the aggregate would write, from the same workbook run in process.
    let local = Command::new(env!("CARGO_BIN_EXE_substation"))
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("local"))
        .args(["--json", "--no-history"])
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&local.stdout).unwrap();

    let child = substation(&moto, dir.path())
        .arg("submit")
        .arg(&file)
        .args(["--stage", "dev", "--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let execution = rt.block_on(play_the_trigger(&c, "uploads/fleet Q4.xlsx"));
    let run_id = execution.rsplit(':').next().unwrap().to_owned();
    // The aggregate writes the summary; the run then ends (moto's executions never finish on
    // their own: it is stopped, so it ends ABORTED).
    rt.block_on(async {
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
    let out = substation(&moto, dir.path()).args(["status", &run_id, "--stage", "dev"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains(&format!("Run {run_id}: ABORTED")), "{text}");
    assert!(text.contains(&format!("results: s3://{BUCKET}/results/{run_id}/")), "{text}");
    assert!(text.contains("rows read"), "{text}");
}

#[test]
fn ctrl_c_stops_following_not_the_run() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = clients(&moto);
    rt.block_on(deploy(&c));
    let file = fleet(dir.path());
    let child = substation(&moto, dir.path())
        .arg("submit")
        .arg(&file)
        .args(["--stage", "dev", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let execution = rt.block_on(play_the_trigger(&c, "uploads/fleet Q4.xlsx"));
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
    let status = rt.block_on(c.sfn.describe_execution().execution_arn(&execution).send()).unwrap();
    assert_eq!(status.status().as_str(), "RUNNING", "the run itself was not stopped");

    // Without --follow, a running run exits 3.
    let run_id = execution.rsplit(':').next().unwrap();
    let out = substation(&moto, dir.path()).args(["status", run_id, "--stage", "dev", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn no_stack_and_not_a_workbook_are_said_plainly() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let file = fleet(dir.path());
    let out = substation(&moto, dir.path()).arg("submit").arg(&file).args(["--stage", "dev"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("no stack Substation-dev: deploy it first"), "{stderr}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(deploy(&clients(&moto)));
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a workbook").unwrap();
    let out = substation(&moto, dir.path()).arg("submit").arg(&notes).args(["--stage", "dev"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("is not a workbook"), "{stderr}");
}

/// `history show / forget` and `rediagnose` with `--stage`: the deployed stage's table (found by
/// the stack's `HistoryTableName` output), here on moto's DynamoDB, written by the diagnose
/// Lambda's own on-demand code.
#[test]
fn the_history_commands_look_after_a_stages_table() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = clients(&moto);
    rt.block_on(async {
        deploy(&c).await;
        DynamoHistory::create_table(&c.dynamodb, HISTORY_TABLE).await.unwrap();
        let store = DynamoHistory::new(c.dynamodb.clone(), HISTORY_TABLE);
        let mut request: flow::on_demand::AssetRequest =
            serde_json::from_str(include_str!("fixtures/events/asset-request.json")).unwrap();
        request.new_asset = true;
        let config = config::SharedConfig::embedded();
        flow::on_demand::diagnose_one(&store, &request, &dga::Thresholds::default(), &config).await.unwrap();
    });

    let out =
        substation(&moto, dir.path()).args(["history", "show", "TR-001", "--stage", "dev", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["asset_id"], "TR-001");
    assert_eq!(h["samples"].as_array().unwrap().len(), 1);
    let run = h["samples"][0]["source"]["run_id"].as_str().unwrap().to_owned();

    let out = substation(&moto, dir.path()).args(["rediagnose", "--stage", "dev"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Rediagnosed 1 stored assets"), "{text}");

    let out = substation(&moto, dir.path()).args(["history", "forget", &run, "--stage", "dev"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("forgot 1 samples of run {run} from 1 assets in the history of stage dev")),
        "{stderr}"
    );
    let out =
        substation(&moto, dir.path()).args(["history", "show", "TR-001", "--stage", "dev", "--json"]).output().unwrap();
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["samples"].as_array().unwrap().len(), 0);
}
