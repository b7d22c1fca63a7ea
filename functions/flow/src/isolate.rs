//! The formats calamine reads whole (legacy .xls and any OLE container, .ods, .xlsb) are read in
//! a child process of the same binary, with an address-space limit (`setrlimit(RLIMIT_AS)`) and a
//! deadline. A file that declares terabytes makes an allocation fail in the child, which stops
//! (Rust aborts on a failed allocation); the step answers `InputTooLarge` and goes on. xlsx and
//! xlsm stream, bounded as they go, and are read in process.
//!
//! A binary opts in by calling [`serve_if_child`] first thing in `main` (the CLI and the parse
//! Lambda do); a process that did not (a test harness) reads every format in process.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workbook::{Limits, ParsedWorkbook, WorkbookError};

/// Set in the child's environment: read a workbook from stdin.
const CHILD_ENV: &str = "SUBSTATION_WORKBOOK_READER";
/// The child's limits and file name, as JSON.
const REQUEST_ENV: &str = "SUBSTATION_WORKBOOK_READER_REQUEST";

static CAN_SERVE: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    file: String,
    limits: Limits,
}

/// The child's answer: what the read in process would have returned.
type Answer = Result<ParsedWorkbook, WorkbookError>;

/// In the reader child: reads the workbook on stdin under the memory limit, writes the answer on
/// stdout, and exits. Anywhere else: records that this binary can be the child, and returns.
pub fn serve_if_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        CAN_SERVE.store(true, Ordering::Relaxed);
        return;
    }
    let request: Request = match std::env::var(REQUEST_ENV).ok().and_then(|r| serde_json::from_str(&r).ok()) {
        Some(r) => r,
        None => std::process::exit(3),
    };
    if std::env::var_os(CHILD_ENV).is_some_and(|v| v == "1") {
        // Set the limit, then start this program again under it: the allocator reserves its
        // address space as the program starts, so a limit set later would count that reserve
        // (mimalloc's is 1 GiB) and leave nothing. exec keeps the limit, stdin and stdout.
        let limit = rustix::process::Rlimit {
            current: Some(request.limits.reader_memory_bytes),
            maximum: Some(request.limits.reader_memory_bytes),
        };
        if rustix::process::setrlimit(rustix::process::Resource::As, limit).is_err() {
            std::process::exit(4);
        }
        use std::os::unix::process::CommandExt;
        let Ok(exe) = std::env::current_exe() else { std::process::exit(4) };
        let error = Command::new(exe).env(CHILD_ENV, "2").exec();
        eprintln!("cannot start the limited reader: {error}");
        std::process::exit(4);
    }
    let mut bytes = Vec::new();
    if std::io::stdin().read_to_end(&mut bytes).is_err() {
        std::process::exit(5);
    }
    let answer: Answer = workbook::read::read_workbook_keeping_unlisted(&bytes, &request.file, &request.limits);
    drop(bytes);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer(&mut out, &answer).is_ok() && out.flush().is_ok();
    std::process::exit(if written { 0 } else { 6 });
}

/// Reads a workbook as [`workbook::read::read_workbook_keeping_unlisted`] does (the caller decides
/// about unlisted assets: `ParsedWorkbook::reject_unlisted`); the formats calamine reads whole
/// are read in the child (see the module), within `limits.reader_memory_bytes` and
/// `reader_seconds`.
pub fn read_workbook(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedWorkbook, WorkbookError> {
    if !workbook::read_whole(bytes) || !CAN_SERVE.load(Ordering::Relaxed) {
        return workbook::read::read_workbook_keeping_unlisted(bytes, file, limits);
    }
    let too_large = |reason: String| WorkbookError::TooLarge { file: file.to_owned(), reason };
    let failed = |what: String| WorkbookError::Invalid { file: file.to_owned(), reason: what };
    let exe = std::env::current_exe().map_err(|e| failed(format!("cannot start the workbook reader: {e}")))?;
    let request = serde_json::to_string(&Request { file: file.to_owned(), limits: limits.clone() })
        .map_err(|e| failed(e.to_string()))?;
    use std::os::unix::process::CommandExt;
    // Its own process group: a Ctrl-C typed in the terminal (SIGINT to the foreground group) is
    // for the parent (`substation watch` finishes the run in progress), not for the reader, which
    // would otherwise die mid-read and have a good workbook reported as too large. It ends by
    // itself: its time and memory limits, or a closed pipe when the parent is gone.
    let mut child = Command::new(exe)
        .process_group(0)
        .env(CHILD_ENV, "1")
        .env(REQUEST_ENV, request)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("cannot start the workbook reader: {e}")))?;
    let (mut stdin, mut stdout) = (child.stdin.take(), child.stdout.take());
    let answer = std::thread::scope(|s| {
        // The child may stop before it has read everything: a broken pipe is its answer.
        s.spawn(move || stdin.as_mut().map(|w| w.write_all(bytes)));
        let reader = s.spawn(move || {
            let mut out = Vec::new();
            stdout.as_mut().map(|r| r.read_to_end(&mut out));
            out
        });
        let deadline = Duration::from_secs(limits.reader_seconds);
        let status = match wait_timeout::ChildExt::wait_timeout(&mut child, deadline) {
            Ok(Some(status)) => Ok(status),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(too_large(format!("reading it takes more than {} s (the limit)", limits.reader_seconds)))
            }
            Err(e) => Err(failed(format!("the workbook reader was lost: {e}"))),
        };
        (status, reader.join().unwrap_or_default())
    });
    let (status, out) = answer;
    let status = status?;
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        return Err(too_large(format!(
            "reading it needs more than {} MB of memory, or the file is damaged (the reader stopped{})",
            limits.reader_memory_bytes >> 20,
            status.signal().map(|s| format!(" on signal {s}")).unwrap_or_else(|| format!(" with {status}"))
        )));
    }
    serde_json::from_slice::<Answer>(&out)
        .unwrap_or_else(|e| Err(failed(format!("the workbook reader's answer is not valid: {e}"))))
}
