//! The SQLite history store passes the suite every history store passes
//! (`flow::history::conformance`; the DynamoDB store runs it against moto in functions/lambda).

use flow::history::{HistoryStore, conformance};
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

/// Two stores on one file (as two processes have) racing on the same asset.
#[tokio::test(flavor = "multi_thread")]
async fn two_handles_on_one_file_never_lose_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (SqliteHistory::open_in(dir.path()).unwrap(), SqliteHistory::open_in(dir.path()).unwrap());
    conformance::lost_race(&a, &b).await;
}
