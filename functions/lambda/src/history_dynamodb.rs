//! The history store on AWS: one DynamoDB table per stage (config/stages.json names it), one item
//! per asset, written with a condition on its version so that two uploads that touch the same
//! transformer at once never lose a sample: the loser is told (`Conflict`), re-reads and merges
//! again.
//!
//! An asset's item: `asset_id` (the key), `kind` = `asset`, `version` (a number), `doc` (the
//! `AssetHistory` as JSON; at most `history.max_item_bytes`, under DynamoDB's 400 KB), and
//! `archive_chunks` (a string set of its archive chunks' keys). Samples past the cap go to an archive
//! chunk, an item of its own (`<asset_id>#archive#<version>#<token>`, `kind` = `archive`),
//! written before the asset's item references it: a chunk of a write that lost is never
//! referenced, so it is never read.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use flow::history::{AssetHistory, HistoryError, HistoryStore, HistoryWrite, Stored, StoredSample};

/// Overrides the stage's table name (tests, a rehearsal against a local endpoint).
pub const HISTORY_TABLE_ENV: &str = "HISTORY_TABLE";

/// The asset item's string set of its archive chunks' keys.
const ARCHIVE_ATTRIBUTE: &str = "archive_chunks";

use flow::history::{BATCH_GET_KEYS, WRITES_IN_FLIGHT};
/// Rounds of BatchGetItem's unprocessed keys before the read is unavailable.
const UNPROCESSED_ROUNDS: u32 = 8;

/// The DynamoDB history store.
#[derive(Debug, Clone)]
pub struct DynamoHistory {
    client: Client,
    table: String,
}

fn unavailable<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    what: &str,
    e: SdkError<E, R>,
) -> HistoryError {
    let detail = match e.as_service_error() {
        Some(s) => format!("{}: {}", s.code().unwrap_or("error"), s.message().unwrap_or_default()),
        None => format!("{e:?}"),
    };
    HistoryError::Unavailable(format!("DynamoDB {what}: {detail}"))
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn key(id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("asset_id".to_owned(), s(id))])
}

impl DynamoHistory {
    /// Creates the table as the CDK app does (key `asset_id`, on demand): for the rehearsal and
    /// tests, where no stack made it.
    pub async fn create_table(client: &Client, name: &str) -> Result<(), String> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let key = AttributeDefinition::builder()
            .attribute_name("asset_id")
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| e.to_string())?;
        let schema = KeySchemaElement::builder()
            .attribute_name("asset_id")
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| e.to_string())?;
        client
            .create_table()
            .table_name(name)
            .attribute_definitions(key)
            .key_schema(schema)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}").chars().take(600).collect())
    }

    /// The store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoHistory { client, table: table.into() }
    }

    /// From the Lambda environment: the stage's table (`HISTORY_TABLE` overrides it).
    pub async fn from_env(config: &config::SharedConfig) -> Result<Self, lambda_runtime::Error> {
        let stage = std::env::var(crate::STAGE_ENV).unwrap_or_else(|_| "dev".into());
        let table = match std::env::var(HISTORY_TABLE_ENV) {
            Ok(t) => t,
            Err(_) => config.stage(&stage)?.history.table_name.clone(),
        };
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(DynamoHistory::new(Client::new(&aws), table))
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Items by key, every unprocessed key asked again.
    async fn batch_get(&self, ids: &[String]) -> Result<Vec<HashMap<String, AttributeValue>>, HistoryError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_GET_KEYS) {
            let mut keys = KeysAndAttributes::builder().consistent_read(true);
            let mut seen = std::collections::HashSet::new();
            for id in chunk.iter().filter(|id| seen.insert(id.as_str())) {
                keys = keys.keys(key(id));
            }
            let mut pending = Some(keys.build().map_err(|e| HistoryError::Unavailable(e.to_string()))?);
            let mut rounds = 0;
            while let Some(keys) = pending.take() {
                rounds += 1;
                if rounds > UNPROCESSED_ROUNDS {
                    return Err(HistoryError::Unavailable("DynamoDB left keys unprocessed: throttled".into()));
                }
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| unavailable("BatchGetItem", e))?;
                if let Some(mut r) = answer.responses {
                    out.extend(r.remove(&self.table).unwrap_or_default());
                }
                pending =
                    answer.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
                if pending.is_some() {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << rounds.min(5))).await;
                }
            }
        }
        Ok(out)
    }
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str, id: &str) -> Result<&'a str, HistoryError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(HistoryError::Corrupt { asset_id: id.to_owned(), message: format!("no string attribute '{name}'") }),
    }
}

/// The version number a chunk key carries (`<id>#archive#<version>#<token>`), for ordering.
fn chunk_version(chunk: &str) -> u64 {
    chunk.rsplit('#').nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

impl HistoryStore for DynamoHistory {
    async fn read(&self, asset_ids: &[String]) -> Result<HashMap<String, Stored>, HistoryError> {
        let mut out = HashMap::with_capacity(asset_ids.len());
        for item in self.batch_get(asset_ids).await? {
            let id = text(&item, "asset_id", "?")?.to_owned();
            let version = match item.get("version") {
                Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
                _ => None,
            }
            .ok_or_else(|| HistoryError::Corrupt { asset_id: id.clone(), message: "no version".into() })?;
            let history: AssetHistory = serde_json::from_str(text(&item, "doc", &id)?)
                .map_err(|e| HistoryError::Corrupt { asset_id: id.clone(), message: e.to_string() })?;
            out.insert(id, Stored { history, version });
        }
        Ok(out)
    }

    async fn write(&self, write: &HistoryWrite) -> Result<u64, HistoryError> {
        let id = &write.history.asset_id;
        let corrupt = |e: serde_json::Error| HistoryError::Corrupt { asset_id: id.clone(), message: e.to_string() };
        let doc = serde_json::to_string(&write.history).map_err(corrupt)?;
        let next = write.expected_version.map_or(1, |v| v + 1);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .expression_attribute_names("#v", "version")
            .expression_attribute_names("#k", "kind")
            .expression_attribute_names("#d", "doc")
            .expression_attribute_values(":doc", s(doc))
            .expression_attribute_values(":next", AttributeValue::N(next.to_string()))
            .expression_attribute_values(":asset", s("asset"));
        update = match write.expected_version {
            None => update.condition_expression("attribute_not_exists(asset_id)"),
            Some(v) => update
                .condition_expression("#v = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
        };
        let mut set = "SET #d = :doc, #v = :next, #k = :asset".to_owned();
        if !write.archive.is_empty() {
            // The chunk first: the asset's item refers to it only if this write wins.
            let token: String = {
                use std::hash::{BuildHasher, RandomState};
                format!("{:016x}", RandomState::new().hash_one(std::time::SystemTime::now()))
            };
            let chunk = format!("{id}#archive#{next}#{token}");
            let samples = serde_json::to_string(&write.archive).map_err(corrupt)?;
            self.client
                .put_item()
                .table_name(&self.table)
                .item("asset_id", s(&chunk))
                .item("kind", s("archive"))
                .item("doc", s(samples))
                .send()
                .await
                .map_err(|e| unavailable("PutItem", e))?;
            set.push_str(" ADD #a :chunk");
            update = update
                .expression_attribute_names("#a", ARCHIVE_ATTRIBUTE)
                .expression_attribute_values(":chunk", AttributeValue::Ss(vec![chunk]));
        }
        match update.update_expression(set).send().await {
            Ok(_) => Ok(next),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception,
                ) =>
            {
                Err(HistoryError::Conflict { asset_id: id.clone() })
            }
            Err(e) => Err(unavailable("UpdateItem", e)),
        }
    }

    async fn write_all(&self, writes: &[HistoryWrite]) -> Vec<Result<u64, HistoryError>> {
        // Each write is conditional on its own (TransactWriteItems would fail them all together):
        // several in flight, answered in order.
        let mut out = Vec::with_capacity(writes.len());
        for chunk in writes.chunks(WRITES_IN_FLIGHT) {
            let mut in_flight = Vec::with_capacity(chunk.len());
            for w in chunk {
                in_flight.push(self.write(w));
            }
            out.extend(futures_util::future::join_all(in_flight).await);
        }
        out
    }

    async fn asset_ids(&self) -> Result<Vec<String>, HistoryError> {
        let mut ids = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("#k = :asset")
            .expression_attribute_names("#k", "kind")
            .expression_attribute_values(":asset", s("asset"))
            .projection_expression("asset_id")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable("Scan", e))?;
            for item in page.items.unwrap_or_default() {
                ids.push(text(&item, "asset_id", "?")?.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    async fn archived(&self, asset_id: &str) -> Result<Vec<StoredSample>, HistoryError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(asset_id)))
            .consistent_read(true)
            .projection_expression("#a")
            .expression_attribute_names("#a", ARCHIVE_ATTRIBUTE)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?
            .item;
        let mut chunks = match item.as_ref().and_then(|i| i.get(ARCHIVE_ATTRIBUTE)) {
            Some(AttributeValue::Ss(c)) => c.clone(),
            _ => return Ok(Vec::new()),
        };
        chunks.sort_by_key(|c| chunk_version(c));
        let mut by_key: HashMap<String, Vec<StoredSample>> = HashMap::new();
        for item in self.batch_get(&chunks).await? {
            let k = text(&item, "asset_id", asset_id)?.to_owned();
            let samples = serde_json::from_str(text(&item, "doc", asset_id)?)
                .map_err(|e| HistoryError::Corrupt { asset_id: asset_id.to_owned(), message: e.to_string() })?;
            by_key.insert(k, samples);
        }
        Ok(chunks.iter().flat_map(|c| by_key.remove(c).unwrap_or_default()).collect())
    }
}
