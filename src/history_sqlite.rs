//! The history store on this machine: an SQLite database in the `--out` folder
//! (`history.sqlite3`), in WAL mode, so two `substation run`s into the same folder read while the
//! other writes and never lose a sample. Writes are conditional on the version read, as the
//! DynamoDB store's are; a write waits up to 30 s for another process's write to end.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flow::history::{AssetHistory, HistoryError, HistoryStore, HistoryWrite, Stored, StoredSample};
use rusqlite::{Connection, TransactionBehavior, params};

/// The database's file name in the `--out` folder.
pub const HISTORY_FILE: &str = "history.sqlite3";

/// Ids per `IN (…)` of a read (far below SQLite's 32,766 parameters).
const READ_CHUNK: usize = 500;

/// The SQLite history store.
#[derive(Debug, Clone)]
pub struct SqliteHistory {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// Open connections, reused (a connection serves one operation at a time).
    idle: Mutex<Vec<Connection>>,
    /// One writer of this process at a time: SQLite has one write lock, and a writer that finds
    /// it taken sleeps in its busy handler (1 ms, 2 ms, … 100 ms), where waiting here wakes as
    /// soon as the other batch commits. Another process's writer still meets the busy timeout.
    writing: Mutex<()>,
}

fn unavailable(path: &Path, e: impl std::fmt::Display) -> HistoryError {
    HistoryError::Unavailable(format!("{}: {e}", path.display()))
}

impl SqliteHistory {
    /// Opens (creating if needed) the history of the folder `out`.
    pub fn open_in(out: &Path) -> Result<SqliteHistory, HistoryError> {
        std::fs::create_dir_all(out).map_err(|e| unavailable(out, e))?;
        let store = SqliteHistory {
            inner: Arc::new(Inner {
                path: out.join(HISTORY_FILE),
                idle: Mutex::new(Vec::new()),
                writing: Mutex::new(()),
            }),
        };
        let conn = store.inner.connect()?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS assets (
                 asset_id TEXT PRIMARY KEY NOT NULL,
                 version INTEGER NOT NULL,
                 doc TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS archive (
                 asset_id TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 doc TEXT NOT NULL,
                 PRIMARY KEY (asset_id, seq)
             );",
        )
        .map_err(|e| unavailable(&store.inner.path, e))?;
        store.inner.give_back(conn);
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with a connection on a blocking thread (SQLite waits on another process's lock).
    async fn with<T: Send + 'static>(
        &self,
        write: bool,
        f: impl FnOnce(&mut Connection) -> Result<T, HistoryError> + Send + 'static,
    ) -> Result<T, HistoryError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.take()?;
            // A poisoned lock only means another writer panicked: its transaction rolled back.
            let _writing = write.then(|| inner.writing.lock().unwrap_or_else(|p| p.into_inner()));
            let out = f(&mut conn);
            inner.give_back(conn);
            out
        })
        .await
        .map_err(|e| HistoryError::Unavailable(format!("the history's thread: {e}")))?
    }
}

impl Inner {
    fn connect(&self) -> Result<Connection, HistoryError> {
        let conn = Connection::open(&self.path).map_err(|e| unavailable(&self.path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| unavailable(&self.path, e))?;
        // WAL: readers never block the writer, two processes share the file safely.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| unavailable(&self.path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| unavailable(&self.path, e))?;
        Ok(conn)
    }

    fn take(&self) -> Result<Connection, HistoryError> {
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        match idle {
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut v) = self.idle.lock() {
            v.push(conn);
        }
    }
}

fn corrupt(asset_id: &str, e: impl std::fmt::Display) -> HistoryError {
    HistoryError::Corrupt { asset_id: asset_id.to_owned(), message: e.to_string() }
}

/// One write, serialized before it reaches the database thread.
struct Row {
    asset_id: String,
    expected: Option<u64>,
    doc: String,
    archive: Vec<String>,
}

fn row(w: &HistoryWrite) -> Result<Row, HistoryError> {
    let id = &w.history.asset_id;
    Ok(Row {
        asset_id: id.clone(),
        expected: w.expected_version,
        doc: serde_json::to_string(&w.history).map_err(|e| corrupt(id, e))?,
        archive: w.archive.iter().map(serde_json::to_string).collect::<Result<_, _>>().map_err(|e| corrupt(id, e))?,
    })
}

/// Each write conditional on its own, in one transaction (one fsync for the batch).
fn write_rows(
    conn: &mut Connection,
    path: &Path,
    rows: &[Row],
) -> Result<Vec<Result<u64, HistoryError>>, HistoryError> {
    let e = |e| unavailable(path, e);
    // IMMEDIATE: the write lock is taken at the start (waiting for another process's), so the
    // transaction never fails half way on a lock upgrade.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let changed = match r.expected {
            None => tx
                .prepare_cached(
                    "INSERT INTO assets (asset_id, version, doc) VALUES (?1, 1, ?2) ON CONFLICT (asset_id) DO NOTHING",
                )
                .and_then(|mut st| st.execute(params![r.asset_id, r.doc]))
                .map_err(e)?,
            Some(v) => tx
                .prepare_cached(
                    "UPDATE assets SET version = version + 1, doc = ?2 WHERE asset_id = ?1 AND version = ?3",
                )
                .and_then(|mut st| st.execute(params![r.asset_id, r.doc, v as i64]))
                .map_err(e)?,
        };
        if changed == 0 {
            out.push(Err(HistoryError::Conflict { asset_id: r.asset_id.clone() }));
            continue;
        }
        if !r.archive.is_empty() {
            let next: i64 = tx
                .query_row("SELECT coalesce(max(seq), 0) + 1 FROM archive WHERE asset_id = ?1", [&r.asset_id], |x| {
                    x.get(0)
                })
                .map_err(e)?;
            for (i, doc) in r.archive.iter().enumerate() {
                tx.prepare_cached("INSERT INTO archive (asset_id, seq, doc) VALUES (?1, ?2, ?3)")
                    .and_then(|mut st| st.execute(params![r.asset_id, next + i as i64, doc]))
                    .map_err(e)?;
            }
        }
        out.push(Ok(r.expected.map_or(1, |v| v + 1)));
    }
    tx.commit().map_err(e)?;
    Ok(out)
}

impl HistoryStore for SqliteHistory {
    async fn read(&self, asset_ids: &[String]) -> Result<HashMap<String, Stored>, HistoryError> {
        let ids = asset_ids.to_vec();
        let path = self.inner.path.clone();
        self.with(false, move |conn| {
            let mut out = HashMap::with_capacity(ids.len());
            for chunk in ids.chunks(READ_CHUNK) {
                let marks = vec!["?"; chunk.len()].join(",");
                let sql = format!("SELECT asset_id, version, doc FROM assets WHERE asset_id IN ({marks})");
                let mut stmt = conn.prepare_cached(&sql).map_err(|e| unavailable(&path, e))?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(chunk), |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                    })
                    .map_err(|e| unavailable(&path, e))?;
                for r in rows {
                    let (id, version, doc) = r.map_err(|e| unavailable(&path, e))?;
                    let history: AssetHistory = serde_json::from_str(&doc).map_err(|e| corrupt(&id, e))?;
                    out.insert(id, Stored { history, version: version as u64 });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn write(&self, write: &HistoryWrite) -> Result<u64, HistoryError> {
        let r = row(write)?;
        let path = self.inner.path.clone();
        let mut out = self.with(true, move |conn| write_rows(conn, &path, &[r])).await?;
        out.pop().unwrap_or_else(|| Err(HistoryError::Unavailable("no answer to a write".into())))
    }

    async fn write_all(&self, writes: &[HistoryWrite]) -> Vec<Result<u64, HistoryError>> {
        let rows: Result<Vec<Row>, HistoryError> = writes.iter().map(row).collect();
        let rows = match rows {
            Ok(r) => r,
            Err(e) => return writes.iter().map(|_| Err(e.clone())).collect(),
        };
        if rows.is_empty() {
            return Vec::new();
        }
        let path = self.inner.path.clone();
        match self.with(true, move |conn| write_rows(conn, &path, &rows)).await {
            Ok(out) => out,
            Err(e) => writes.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    async fn asset_ids(&self) -> Result<Vec<String>, HistoryError> {
        let path = self.inner.path.clone();
        self.with(false, move |conn| {
            let mut stmt =
                conn.prepare("SELECT asset_id FROM assets ORDER BY asset_id").map_err(|e| unavailable(&path, e))?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| unavailable(&path, e))?;
            ids.collect::<Result<Vec<_>, _>>().map_err(|e| unavailable(&path, e))
        })
        .await
    }

    async fn archived(&self, asset_id: &str) -> Result<Vec<StoredSample>, HistoryError> {
        let (id, path) = (asset_id.to_owned(), self.inner.path.clone());
        self.with(false, move |conn| {
            let mut stmt = conn
                .prepare("SELECT doc FROM archive WHERE asset_id = ?1 ORDER BY seq")
                .map_err(|e| unavailable(&path, e))?;
            let docs = stmt.query_map([&id], |r| r.get::<_, String>(0)).map_err(|e| unavailable(&path, e))?;
            let mut out = Vec::new();
            for d in docs {
                let d = d.map_err(|e| unavailable(&path, e))?;
                out.push(serde_json::from_str(&d).map_err(|e| corrupt(&id, e))?);
            }
            Ok(out)
        })
        .await
    }
}

/// Whether the folder has a history (without creating one).
pub fn exists_in(out: &Path) -> bool {
    out.join(HISTORY_FILE).is_file()
}
