//! The SQLite history store passes the suite every history store passes
//! (`flow::history::conformance`; the DynamoDB store runs it against moto in functions/lambda).

use flow::history::{HistoryStore, HistoryWrite, conformance};
use substation::history_sqlite::SqliteHistory;

#[tokio::test(flavor = "multi_thread")]
async fn the_sqlite_store_passes_the_history_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteHistory::open_in(dir.path()).unwrap();
    conformance::run(&store).await;
    // What was written is there for the next process that opens the folder.
    let again = SqliteHistory::open_in(dir.path()).unwrap();
    assert!(again.asset_ids().await.unwrap().contains(&"T-1".to_owned()));
}

/// Two stores on one file (as two processes have) racing on the same asset: one write wins,
/// the other is told, and the loser's re-read sees the winner's samples.
#[tokio::test(flavor = "multi_thread")]
async fn two_handles_on_one_file_never_lose_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (SqliteHistory::open_in(dir.path()).unwrap(), SqliteHistory::open_in(dir.path()).unwrap());
    let h = conformance::history("T-1", 2);
    let v = a.write(&HistoryWrite { history: h.clone(), expected_version: None, archive: vec![] }).await.unwrap();
    let mut mine = h.clone();
    mine.samples.push(conformance::sample(500, 1.0, "run-b"));
    let mut theirs = h.clone();
    theirs.samples.push(conformance::sample(600, 2.0, "run-c"));
    let (wa, wb) = (
        HistoryWrite { history: mine, expected_version: Some(v), archive: vec![] },
        HistoryWrite { history: theirs, expected_version: Some(v), archive: vec![] },
    );
    let (ra, rb) = tokio::join!(a.write(&wa), b.write(&wb));
    assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(), 1, "{ra:?} {rb:?}");
    let stored = b.read(&["T-1".into()]).await.unwrap().remove("T-1").unwrap();
    assert_eq!(stored.version, v + 1);
    assert_eq!(stored.history.samples.len(), 3);
}
