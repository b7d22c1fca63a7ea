//! The object store the steps work over: get, put, list. The local-folder store lays keys out
//! exactly like the bucket; the S3 store (Lambdas) implements the same trait.

use std::future::Future;
use std::path::{Path, PathBuf};

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

/// An object store's writer sends an object in parts of this size (the S3 store: a multipart
/// upload once an object outgrows one part). S3 requires every part but the last to be at least
/// 5 MiB; parts of 8 MiB keep a 10,000-part upload above 80 GB.
pub const PART_BYTES: usize = 8 << 20;

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
    /// The bytes of one version of the object (S3: `GetObject` with `versionId`), never the
    /// latest: a run reads exactly the upload it was started for, even after a second upload of
    /// the same name.
    fn get_version(&self, key: &str, version_id: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;
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

    /// Stores an upload as S3 does in a versioned bucket: the bytes as a version of `key` (under
    /// `.versions/<key>/<version id>`) and as the latest at `key`, one file linked twice. The
    /// version id is the content's hash (`version_id`), so the same bytes are one version.
    pub fn put_upload(&self, key: &str, body: &[u8]) -> Result<String, StoreError> {
        let path = self.path(key)?;
        let version_id = version_id(body);
        let version = self.version_path(key, &version_id)?;
        let dir = version.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| unavailable(key, &e))?;
        if !std::fs::symlink_metadata(&version).is_ok_and(|m| m.is_file()) {
            let mut tmp = temp_file(dir).map_err(|e| unavailable(key, &e))?;
            std::io::Write::write_all(&mut tmp, body).map_err(|e| unavailable(key, &e))?;
            tmp.persist(&version).map_err(|e| unavailable(key, &e.error))?;
        }
        // The latest: a fresh link renamed over the key, so a reader of the key sees one whole
        // version or the other.
        let parent = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(parent).map_err(|e| unavailable(key, &e))?;
        let link = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .make_in(parent, |p| std::fs::hard_link(&version, p))
            .map_err(|e| unavailable(key, &e))?;
        let link_path = link.path().to_owned();
        link.persist(&path).map_err(|e| unavailable(key, &e.error))?;
        // rename(2) of a link onto another link of the same file does nothing, leaving the temp
        // name: remove it (it is this writer's own, random name).
        let _ = std::fs::remove_file(&link_path);
        Ok(version_id)
    }

    fn version_path(&self, key: &str, version_id: &str) -> Result<PathBuf, StoreError> {
        if version_id.is_empty() || !version_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(StoreError::InvalidKey { key: key.to_owned(), reason: format!("version id '{version_id}'") });
        }
        Ok(self.path(&format!("{VERSIONS_DIR}/{key}"))?.join(version_id))
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidKey { key: key.to_owned(), reason: reason.to_owned() };
        if key.is_empty() || key.starts_with('/') {
            return Err(invalid("empty or absolute"));
        }
        // Segment by segment (Path::components would drop a "." in the middle silently).
        if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(invalid("must not contain empty, '.' or '..' segments"));
        }
        Ok(self.root.join(key))
    }
}

fn unavailable(key: &str, e: &std::io::Error) -> StoreError {
    StoreError::Unavailable { key: key.to_owned(), message: e.to_string() }
}

/// Where the local store keeps the versions of uploads (a folder no key of the layout uses).
const VERSIONS_DIR: &str = ".versions";
/// Temp files are `.tmp-<random>.partial` beside their key: unique per writer, short whatever the
/// key's length (a 255-byte name still fits), and not listed.
const TEMP_PREFIX: &str = ".tmp-";
const TEMP_SUFFIX: &str = ".partial";

/// The local version id of an upload: its content's SHA-256, 32 hex digits.
pub fn version_id(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(body).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A new temp file in `dir`, created with O_CREAT|O_EXCL under a random name: a name that exists
/// (a planted symlink included) is never opened, so a write never lands outside the folder.
fn temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX).tempfile_in(dir)
}

fn is_temp(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// A file under the store's folder, renamed into place when finished. Its writes are plain
/// buffered file writes: a local disk answers at once.
#[derive(Debug)]
pub struct LocalWriter {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
    key: String,
}

impl ObjectWriter for LocalWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        use std::io::Write;
        self.file.write_all(chunk).map_err(|e| unavailable(&self.key, &e))
    }

    async fn finish(self) -> Result<(), StoreError> {
        let tmp = self.file.into_inner().map_err(|e| unavailable(&self.key, e.error()))?;
        // rename(2) replaces whatever is at the key, a symlink included, and follows nothing.
        tmp.persist(&self.path).map(|_| ()).map_err(|e| unavailable(&self.key, &e.error))
    }
}

impl ObjectStore for LocalStore {
    type Writer = LocalWriter;

    async fn writer(&self, key: &str) -> Result<LocalWriter, StoreError> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| unavailable(key, &e))?;
        }
        let file = temp_file(path.parent().unwrap_or(&self.root)).map_err(|e| unavailable(key, &e))?;
        Ok(LocalWriter { file: std::io::BufWriter::with_capacity(1 << 20, file), path, key: key.to_owned() })
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
            std::io::copy(&mut source, writer.file.get_mut().as_file_mut())
                .map(|_| ())
                .map_err(|e| unavailable(key, &e))
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

    async fn get_version(&self, key: &str, version_id: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.version_path(key, version_id)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NotFound { key: format!("{key} (version {version_id})") })
            }
            Err(e) => Err(unavailable(key, &e)),
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| unavailable(key, &e))?;
        }
        // Write a unique temp file then rename, so a reader never sees half an object (as with
        // S3), and two writers of one key never share a temp file.
        let mut tmp = temp_file(path.parent().unwrap_or(&self.root)).map_err(|e| unavailable(key, &e))?;
        std::io::Write::write_all(&mut tmp, &body).map_err(|e| unavailable(key, &e))?;
        tmp.persist(&path).map(|_| ()).map_err(|e| unavailable(key, &e.error))
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
                let hidden = entry.file_name().to_str().is_some_and(|n| is_temp(n) || n == VERSIONS_DIR);
                if hidden {
                    continue;
                }
                if file_type.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                    if key.starts_with(prefix) {
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

    /// A symlink planted at every name a writer might use is never followed: the write lands at
    /// the key, and the link's target outside the folder is untouched.
    #[tokio::test]
    async fn planted_symlinks_are_never_followed() {
        let (dir, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let victim = outside.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let store = LocalStore::new(dir.path());
        let folder = dir.path().join("results/r");
        std::fs::create_dir_all(&folder).unwrap();
        // The old predictable temp name, the key itself, and a spread of temp-like names.
        for name in ["summary.json.partial", "summary.json", ".tmp-.partial", ".tmp-aaaaaa.partial"] {
            std::os::unix::fs::symlink(&victim, folder.join(name)).unwrap();
        }
        store.put("results/r/summary.json", b"{}".to_vec()).await.unwrap();
        let mut w = store.writer("results/r/summary.json").await.unwrap();
        w.write(b"{\"a\":1}").await.unwrap();
        w.finish().await.unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(folder.join("summary.json")).unwrap().file_type().is_symlink());
        assert_eq!(store.get("results/r/summary.json").await.unwrap(), b"{\"a\":1}");
        // An upload's version and latest link too.
        std::os::unix::fs::symlink(&victim, dir.path().join("results/r/up.xlsx")).unwrap();
        store.put_upload("results/r/up.xlsx", b"bytes").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    #[tokio::test]
    async fn writers_of_one_key_at_once_never_share_a_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(LocalStore::new(dir.path()));
        let writers: Vec<_> = (0..16u8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut w = store.writer("k/x.jsonl").await?;
                    w.write(&vec![b'a' + i; 100_000]).await?;
                    w.finish().await?;
                    store.put("k/y.json", vec![b'a' + i; 100_000]).await
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap().unwrap();
        }
        for key in ["k/x.jsonl", "k/y.json"] {
            let body = store.get(key).await.unwrap();
            assert_eq!(body.len(), 100_000);
            assert!(body.iter().all(|b| *b == body[0]), "{key} mixes two writers' bytes");
        }
        assert_eq!(store.list("k/").await.unwrap(), ["k/x.jsonl", "k/y.json"], "no temp file is left or listed");
    }

    #[tokio::test]
    async fn names_of_255_bytes_and_names_of_dots_work() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let long = format!("uploads/{}.xlsx", "n".repeat(250));
        for key in [long.as_str(), "dots/...", "uploads/.../....xlsx"] {
            store.put(key, b"v".to_vec()).await.unwrap();
            assert_eq!(store.get(key).await.unwrap(), b"v", "{key}");
            let version = store.put_upload(key, b"w").unwrap();
            assert_eq!(store.get_version(key, &version).await.unwrap(), b"w", "{key}");
        }
        for key in ["uploads/./x", "uploads/../x", "uploads/.."] {
            assert!(matches!(store.put(key, vec![]).await, Err(StoreError::InvalidKey { .. })), "{key}");
        }
    }

    /// As in a versioned bucket: every upload of a name stays readable by its version, and the
    /// key holds the latest.
    #[tokio::test]
    async fn uploads_keep_every_version_readable() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let v1 = store.put_upload("uploads/fleet.xlsx", b"first").unwrap();
        assert_eq!(v1, store.put_upload("uploads/fleet.xlsx", b"first").unwrap(), "the same bytes, the same version");
        let v2 = store.put_upload("uploads/fleet.xlsx", b"second").unwrap();
        assert_ne!(v1, v2);
        assert_eq!(v1, store.put_upload("uploads/fleet.xlsx", b"first").unwrap());
        assert_eq!(store.get("uploads/fleet.xlsx").await.unwrap(), b"first", "the latest upload");
        assert_eq!(store.get_version("uploads/fleet.xlsx", &v2).await.unwrap(), b"second");
        assert!(matches!(store.get_version("uploads/fleet.xlsx", "nope").await, Err(StoreError::NotFound { .. })));
        assert!(matches!(store.get_version("uploads/fleet.xlsx", "../x").await, Err(StoreError::InvalidKey { .. })));
        assert_eq!(store.list("").await.unwrap(), ["uploads/fleet.xlsx"], "versions and temp links are not keys");
        let names = std::fs::read_dir(dir.path().join("uploads")).unwrap().count();
        assert_eq!(names, 1, "a re-upload of the same bytes leaves no temp link behind");
    }
}
