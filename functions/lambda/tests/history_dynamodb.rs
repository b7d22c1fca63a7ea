//! The DynamoDB history store passes the suite every history store passes
//! (`flow::history::conformance`; the SQLite store runs it in the CLI's tests), against moto's
//! DynamoDB on loopback: conditional writes, BatchGetItem past 100 keys, the archive chunks.

use flow::history::{HistoryStore, HistoryWrite, conformance};
use lambda::DynamoHistory;
use lambda::testing::Moto;

#[tokio::test]
async fn the_dynamodb_store_passes_the_history_suite() {
    let moto = Moto::start();
    let client = moto.history_table("substation-test-history").await;
    let store = DynamoHistory::new(client, "substation-test-history");
    conformance::run(&store).await;
}

/// Two writers that read the same version: one wins, the loser is told and the winner's samples
/// are what is stored, as a second Lambda racing on the same transformer would see it.
#[tokio::test]
async fn a_lost_race_is_a_conflict_never_a_lost_sample() {
    let moto = Moto::start();
    let client = moto.history_table("race").await;
    let (a, b) = (DynamoHistory::new(client.clone(), "race"), DynamoHistory::new(client, "race"));
    let h = conformance::history("T-1", 2);
    let v = a.write(&HistoryWrite { history: h.clone(), expected_version: None, archive: vec![] }).await.unwrap();
    let mut mine = h.clone();
    mine.samples.push(conformance::sample(500, 1.0, "run-b"));
    let mut theirs = h.clone();
    theirs.samples.push(conformance::sample(600, 2.0, "run-c"));
    let (wa, wb) = (
        HistoryWrite { history: mine, expected_version: Some(v), archive: vec![conformance::sample(-9, 1.0, "run-b")] },
        HistoryWrite { history: theirs, expected_version: Some(v), archive: vec![] },
    );
    let (ra, rb) = tokio::join!(a.write(&wa), b.write(&wb));
    assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(), 1, "{ra:?} {rb:?}");
    let stored = b.read(&["T-1".into()]).await.unwrap().remove("T-1").unwrap();
    assert_eq!(stored.version, v + 1);
    let winner = if ra.is_ok() { &wa } else { &wb };
    assert_eq!(stored.history, winner.history);
    // Only the winner's archive chunk is referenced.
    assert_eq!(a.archived("T-1").await.unwrap(), winner.archive);
}
