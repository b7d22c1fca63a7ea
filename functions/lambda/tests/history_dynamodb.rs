//! The DynamoDB history store passes the suite every history store passes
//! (`flow::history::conformance`; the SQLite store runs it in the CLI's tests), against moto's
//! DynamoDB on loopback: conditional writes, BatchGetItem past 100 keys, the archive chunks.

use flow::history::conformance;
use lambda::DynamoHistory;
use lambda::testing::Moto;

#[tokio::test]
async fn the_dynamodb_store_passes_the_history_suite() {
    let moto = Moto::start();
    let client = moto.history_table("substation-test-history").await;
    let store = DynamoHistory::new(client, "substation-test-history");
    conformance::run(&store).await;
}

/// Two writers that read the same version, as two Lambdas racing on one transformer.
#[tokio::test]
async fn a_lost_race_is_a_conflict_never_a_lost_sample() {
    let moto = Moto::start();
    let client = moto.history_table("race").await;
    conformance::lost_race(&DynamoHistory::new(client.clone(), "race"), &DynamoHistory::new(client, "race")).await;
}
