//! The engine's ItemReader / ResultWriter storage on S3: any bucket the state machine names.

use aws_sdk_s3::Client;
use engine::{BoxFuture, Storage, StorageError};
use flow::{ObjectStore, StoreError};
use lambda::S3Store;

/// S3 behind the Distributed Map's ItemReader and ResultWriter.
#[derive(Debug, Clone)]
pub struct S3Storage(pub Client);

fn storage_error(e: StoreError) -> StorageError {
    match e {
        StoreError::NotFound { key } => StorageError::NotFound { key },
        other => StorageError::Failed(other.to_string()),
    }
}

impl Storage for S3Storage {
    fn get(&self, bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, StorageError>> {
        let (store, key) = (S3Store::new(self.0.clone(), bucket), key.to_owned());
        Box::pin(async move { store.get(&key).await.map_err(storage_error) })
    }

    fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), StorageError>> {
        let (store, key) = (S3Store::new(self.0.clone(), bucket), key.to_owned());
        Box::pin(async move { store.put(&key, body).await.map_err(storage_error) })
    }
}
