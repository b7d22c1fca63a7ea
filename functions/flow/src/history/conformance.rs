//! The behaviour every [`HistoryStore`] adapter must have, as one suite: the SQLite store runs it
//! in the CLI's tests, the DynamoDB store against moto's server in `functions/lambda`'s. Each
//! check panics with what differed.

use chrono::NaiveDate;
use dga::{DgaSample, GasReading};

use super::{AssetHistory, HISTORY_SCHEMA_VERSION, HistoryError, HistoryStore, HistoryWrite, SampleSource};
use super::{LastDiagnosis, StoredMeta, StoredSample};

/// A sample of `day` days after 2020-01-01 with hydrogen `h2_ppm`, from `run_id`.
pub fn sample(day: i64, h2_ppm: f64, run_id: &str) -> StoredSample {
    let date = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(day);
    StoredSample {
        sample: DgaSample {
            sampled_on: Some(date),
            h2_ppm: GasReading::Measured(h2_ppm),
            ch4_ppm: GasReading::Measured(3.0),
            c2h2_ppm: GasReading::BelowDetection { limit_ppm: Some(0.5) },
            ..DgaSample::default()
        },
        lab_sample_id: None,
        source: SampleSource {
            run_id: run_id.into(),
            file: "fleet.xlsx".into(),
            sheet: "Samples".into(),
            row: 2 + day as u32,
        },
    }
}

/// A history of `n` samples.
pub fn history(asset_id: &str, n: i64) -> AssetHistory {
    AssetHistory {
        schema_version: HISTORY_SCHEMA_VERSION,
        asset_id: asset_id.into(),
        meta: StoredMeta { substation: Some("North".into()), manufacture_year: Some(1998), ..StoredMeta::default() },
        samples: (0..n).map(|d| sample(d * 90, 10.0 + d as f64, "run-a")).collect(),
        archived_samples: 0,
        last_diagnosis: Some(LastDiagnosis {
            run_id: "run-a".into(),
            status: 1,
            fault: "N".into(),
            latest_sample: None,
        }),
    }
}

fn new(h: AssetHistory) -> HistoryWrite {
    HistoryWrite { history: h, expected_version: None, archive: Vec::new() }
}

/// Runs every check on an empty store.
pub async fn run<H: HistoryStore>(store: &H) {
    empty_reads(store).await;
    writes_are_conditional(store).await;
    many_writes_answer_one_by_one(store).await;
    archives_accumulate(store).await;
    reads_of_many_assets(store).await;
    ids_are_kept_as_written(store).await;
}

/// Two handles on one store (two processes, two Lambdas) that read the same version race to
/// write the same asset: one wins, the loser is told, the winner's history (and only its archive)
/// is what is stored.
pub async fn lost_race<H: HistoryStore>(a: &H, b: &H) {
    let h = history("R-1", 2);
    let v = a.write(&new(h.clone())).await.unwrap();
    let mut mine = h.clone();
    mine.samples.push(sample(500, 1.0, "run-b"));
    let mut theirs = h.clone();
    theirs.samples.push(sample(600, 2.0, "run-c"));
    let (wa, wb) = (
        HistoryWrite { history: mine, expected_version: Some(v), archive: vec![sample(-9, 1.0, "run-b")] },
        HistoryWrite { history: theirs, expected_version: Some(v), archive: vec![] },
    );
    let (ra, rb) = tokio::join!(a.write(&wa), b.write(&wb));
    assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(), 1, "{ra:?} {rb:?}");
    let stored = b.read(&["R-1".into()]).await.unwrap().remove("R-1").unwrap();
    assert_eq!(stored.version, v + 1);
    let winner = if ra.is_ok() { &wa } else { &wb };
    assert_eq!(stored.history, winner.history);
    assert_eq!(a.archived("R-1").await.unwrap(), winner.archive, "only the winner's archive is referenced");
}

async fn empty_reads<H: HistoryStore>(store: &H) {
    let read = store.read(&["nobody".into()]).await.unwrap();
    assert!(read.is_empty(), "an unknown asset has no history: {read:?}");
    assert!(store.read(&[]).await.unwrap().is_empty());
    assert!(store.archived("nobody").await.unwrap().is_empty());
}

async fn writes_are_conditional<H: HistoryStore>(store: &H) {
    let h = history("T-1", 3);
    let v1 = store.write(&new(h.clone())).await.unwrap();
    let read = store.read(&["T-1".into()]).await.unwrap();
    assert_eq!(read["T-1"].history, h, "what is read is what was written");
    assert_eq!(read["T-1"].version, v1);
    // A second "new" write of the same asset lost the race.
    assert_eq!(store.write(&new(h.clone())).await, Err(HistoryError::Conflict { asset_id: "T-1".into() }));
    let mut h2 = h.clone();
    h2.samples.push(sample(400, 50.0, "run-b"));
    let v2 =
        store.write(&HistoryWrite { history: h2.clone(), expected_version: Some(v1), archive: vec![] }).await.unwrap();
    assert!(v2 > v1, "a write moves the version on: {v1} -> {v2}");
    // A writer that read v1 lost to the one above: nothing of it is stored.
    let stale = HistoryWrite { history: h.clone(), expected_version: Some(v1), archive: vec![] };
    assert_eq!(store.write(&stale).await, Err(HistoryError::Conflict { asset_id: "T-1".into() }));
    assert_eq!(store.read(&["T-1".into()]).await.unwrap()["T-1"].history, h2);
}

async fn many_writes_answer_one_by_one<H: HistoryStore>(store: &H) {
    let v = store.read(&["T-1".into()]).await.unwrap()["T-1"].version;
    let writes = vec![
        new(history("M-1", 1)),
        HistoryWrite { history: history("T-1", 5), expected_version: Some(v + 7), archive: vec![] },
        new(history("M-2", 2)),
    ];
    let out = store.write_all(&writes).await;
    assert_eq!(out.len(), 3);
    assert!(out[0].is_ok() && out[2].is_ok(), "{out:?}");
    assert_eq!(out[1], Err(HistoryError::Conflict { asset_id: "T-1".into() }));
    let read = store.read(&["M-1".into(), "M-2".into(), "T-1".into()]).await.unwrap();
    assert_eq!(read.len(), 3);
    assert_eq!(read["T-1"].history.samples.len(), 4, "the conflicting write changed nothing");
}

async fn archives_accumulate<H: HistoryStore>(store: &H) {
    let mut h = history("A-1", 2);
    let first = vec![sample(-200, 1.0, "run-0"), sample(-100, 2.0, "run-0")];
    h.archived_samples = 2;
    let v = store
        .write(&HistoryWrite { history: h.clone(), expected_version: None, archive: first.clone() })
        .await
        .unwrap();
    let second = vec![sample(0, 10.0, "run-a")];
    h.samples.remove(0);
    h.archived_samples = 3;
    store
        .write(&HistoryWrite { history: h.clone(), expected_version: Some(v), archive: second.clone() })
        .await
        .unwrap();
    let archived = store.archived("A-1").await.unwrap();
    assert_eq!(archived, [first, second].concat(), "the archive keeps every moved sample, oldest first");
    assert_eq!(store.read(&["A-1".into()]).await.unwrap()["A-1"].history.archived_samples, 3);
}

async fn reads_of_many_assets<H: HistoryStore>(store: &H) {
    // More than one DynamoDB BatchGetItem (100 keys) and one SQLite statement's parameters.
    let ids: Vec<String> = (0..250).map(|i| format!("B-{i:03}")).collect();
    let writes: Vec<HistoryWrite> = ids.iter().map(|id| new(history(id, 2))).collect();
    assert!(store.write_all(&writes).await.iter().all(Result::is_ok));
    let mut asked = ids.clone();
    asked.push("nobody".into());
    let read = store.read(&asked).await.unwrap();
    assert_eq!(read.len(), 250);
    assert!(ids.iter().all(|id| read[id].history.asset_id == *id));
    let all = store.asset_ids().await.unwrap();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert!(ids.iter().all(|id| all.contains(id)) && all.contains(&"T-1".to_owned()));
}

async fn ids_are_kept_as_written<H: HistoryStore>(store: &H) {
    let odd = "TR 7/ä 'north' #2";
    store.write(&new(history(odd, 1))).await.unwrap();
    assert_eq!(store.read(&[odd.into()]).await.unwrap()[odd].history.asset_id, odd);
    assert!(store.read(&["tr 7/ä 'north' #2".into()]).await.unwrap().is_empty(), "ids are case-sensitive");
}
