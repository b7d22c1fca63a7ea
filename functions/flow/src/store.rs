//! The object store the steps work over: get, put, list. The local-folder store lays keys out
//! exactly like the bucket; the S3 store (Lambdas) implements the same trait.

use std::future::Future;
use std::path::{Component, Path, PathBuf};

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// No object at this key.
    #[error("object '{key}' does not exist")]
    NotFound {
        /// The key.
        key: String,
    },
    /// The store could not read or write the object.
    #[error("storage unavailable for '{key}': {message}")]
    Unavailable {
        /// The key (or the listed prefix).
        key: String,
        /// The underlying error.
        message: String,
    },
    /// The key cannot name an object (empty, absolute, or with `.` or `..` segments).
    #[error("'{key}' is not a valid object key: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Why it is refused.
        reason: String,
    },
}

/// An object written part by part, never held whole (S3: a multipart upload; a folder: a file
/// renamed into place). Nothing is visible at the key until [`ObjectWriter::finish`].
pub trait ObjectWriter: Send {
    /// Appends bytes.
    fn write(&mut self, chunk: &[u8]) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Completes the object.
    fn finish(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A small port: what the steps need from S3 and nothing more.
pub trait ObjectStore: Send + Sync {
    /// The store's part-by-part writer (owning what it needs: it borrows nothing).
    type Writer: ObjectWriter;
    /// Starts writing the object at `key` part by part.
    fn writer(&self, key: &str) -> impl Future<Output = Result<Self::Writer, StoreError>> + Send;
    /// Appends the object at `key` to a writer: read and written by default; a store that can
    /// copy without reading (a folder: the kernel copies) does.
    fn copy_into(&self, key: &str, writer: &mut Self::Writer) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let bytes = self.get(key).await?;
            writer.write(&bytes).await
        }
    }
    /// The object's bytes.
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;
    /// Writes the object, replacing any object at that key.
    fn put(&self, key: &str, body: Vec<u8>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Keys under `prefix`, sorted.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
}

/// A folder laid out like the bucket: key `runs/x/assets.jsonl` is `<root>/runs/x/assets.jsonl`.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at this folder.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    /// The folder the store is rooted at.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A buffered reader over the object's file, for reading large objects line by line.
    pub fn reader(&self, key: &str) -> Result<std::io::BufReader<std::fs::File>, StoreError> {
        let path = self.path(key)?;
        match std::fs::File::open(&path) {
            Ok(f) => Ok(std::io::BufReader::with_capacity(1 << 16, f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound { key: key.to_owned() }),
            Err(e) => Err(unavailable(key, &e)),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidKey { key: key.to_owned(), reason: reason.to_owned() };
        if key.is_empty() || key.starts_with('/') {
            return Err(invalid("empty or absolute"));
        }
        let rel = Path::new(key);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(invalid("must not contain '.' or '..' segments"));
        }
        Ok(self.root.join(rel))
    }
}

fn unavailable(key: &str, e: &std::io::Error) -> StoreError {
    StoreError::Unavailable { key: key.to_owned(), message: e.to_string() }
}

/// A file under the store's folder, renamed into place when finished. Its writes are plain
/// buffered file writes: a local disk answers at once.
#[derive(Debug)]
pub struct LocalWriter {
    file: std::io::BufWriter<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
    key: String,
}

impl ObjectWriter for LocalWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        use std::io::Write;
        self.file.write_all(chunk).map_err(|e| unavailable(&self.key, &e))
    }

    async fn finish(mut self) -> Result<(), StoreError> {
        use std::io::Write;
        self.file.flush().map_err(|e| unavailable(&self.key, &e))?;
        tokio::fs::rename(&self.tmp, &self.path).await.map_err(|e| unavailable(&self.key, &e))
    }
}

fn partial_path(path: &Path) -> PathBuf {
    path.with_extension(format!(
        "{}.partial",
        path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default()
    ))
}

impl ObjectStore for LocalStore {
    type Writer = LocalWriter;

    async fn writer(&self, key: &str) -> Result<LocalWriter, StoreError> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| unavailable(key, &e))?;
        }
        let tmp = partial_path(&path);
        let file = std::fs::File::create(&tmp).map_err(|e| unavailable(key, &e))?;
        Ok(LocalWriter { file: std::io::BufWriter::with_capacity(1 << 20, file), tmp, path, key: key.to_owned() })
    }

    /// File to file in the kernel (copy_file_range), never through a buffer of ours.
    fn copy_into(&self, key: &str, writer: &mut LocalWriter) -> impl Future<Output = Result<(), StoreError>> + Send {
        use std::io::Write;
        let copied = (|| {
            let mut source = match std::fs::File::open(self.path(key)?) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(StoreError::NotFound { key: key.to_owned() });
                }
                Err(e) => return Err(unavailable(key, &e)),
            };
            writer.file.flush().map_err(|e| unavailable(&writer.key, &e))?;
            std::io::copy(&mut source, writer.file.get_mut()).map(|_| ()).map_err(|e| unavailable(key, &e))
        })();
        std::future::ready(copied)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound { key: key.to_owned() }),
            Err(e) => Err(unavailable(key, &e)),
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| unavailable(key, &e))?;
        }
        // Write then rename, so a reader never sees half an object (as with S3).
        let tmp = partial_path(&path);
        tokio::fs::write(&tmp, body).await.map_err(|e| unavailable(key, &e))?;
        tokio::fs::rename(&tmp, &path).await.map_err(|e| unavailable(key, &e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Walk from the deepest folder the prefix names.
        let dir_part = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        let start = if dir_part.is_empty() { self.root.clone() } else { self.path(dir_part)? };
        let mut keys = Vec::new();
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(unavailable(prefix, &e)),
            };
            while let Some(entry) = entries.next_entry().await.map_err(|e| unavailable(prefix, &e))? {
                let path = entry.path();
                let file_type = entry.file_type().await.map_err(|e| unavailable(prefix, &e))?;
                if file_type.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                    if key.starts_with(prefix) && !key.ends_with(".partial") {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_writer_shows_nothing_until_finished() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let mut w = store.writer("results/r/diagnoses.jsonl").await.unwrap();
        w.write(b"{\"a\":1}\n").await.unwrap();
        store.put("runs/r/part.jsonl", b"{\"b\":1}\n".to_vec()).await.unwrap();
        store.copy_into("runs/r/part.jsonl", &mut w).await.unwrap();
        w.write(b"{\"a\":2}\n").await.unwrap();
        assert!(matches!(store.get("results/r/diagnoses.jsonl").await, Err(StoreError::NotFound { .. })));
        assert!(store.list("results/").await.unwrap().is_empty(), "the partial file is not listed");
        w.finish().await.unwrap();
        assert_eq!(store.get("results/r/diagnoses.jsonl").await.unwrap(), b"{\"a\":1}\n{\"b\":1}\n{\"a\":2}\n");
    }

    #[tokio::test]
    async fn put_get_list_and_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        store.put("runs/a/assets.jsonl", b"x".to_vec()).await.unwrap();
        store.put("runs/a/diagnoses/2.jsonl", b"y".to_vec()).await.unwrap();
        store.put("runs/b/assets.jsonl", b"z".to_vec()).await.unwrap();
        assert_eq!(store.get("runs/a/assets.jsonl").await.unwrap(), b"x");
        assert_eq!(store.list("runs/a/").await.unwrap(), ["runs/a/assets.jsonl", "runs/a/diagnoses/2.jsonl"]);
        assert_eq!(store.list("runs/").await.unwrap().len(), 3);
        assert_eq!(store.list("runs/a/diag").await.unwrap(), ["runs/a/diagnoses/2.jsonl"]);
        assert_eq!(store.list("nothing/").await.unwrap(), Vec::<String>::new());
        assert_eq!(store.get("runs/a/missing").await, Err(StoreError::NotFound { key: "runs/a/missing".into() }));
        assert!(matches!(store.get("../etc/passwd").await, Err(StoreError::InvalidKey { .. })));
        // Overwrite replaces, as S3 does.
        store.put("runs/a/assets.jsonl", b"x2".to_vec()).await.unwrap();
        assert_eq!(store.get("runs/a/assets.jsonl").await.unwrap(), b"x2");
    }
}
