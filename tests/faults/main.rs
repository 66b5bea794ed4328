//! The fault suite: a host facing plugins that fail in every way go-plugin users have reported
//! (crashes, garbage, hangs, TLS confusion, orphaned processes, lost long lines, floods).
//!
//! Each case runs one named mode of `examples/fault_plugin.rs` (go-plugin's "helper process
//! re-run as named faulty plugins") and asserts three things:
//!
//! 1. a clear error (the text names what went wrong),
//! 2. no hang (every case runs under a deadline),
//! 3. nothing leaked afterwards: every process the case started (each writes its pid to the case's
//!    pid directory) is gone and reaped, this test process has no more file descriptors than
//!    before, and the directory the plugins were given as `TMPDIR` (where sockets and socket
//!    directories go) is empty.
//!
//! Descriptor counts are per process, so the cases run one at a time (a shared lock); they stay
//! parallel-safe with every other test binary.
//!
//! - `startup`: before and instead of the handshake (exits, garbage, endless and half lines, an
//!   address nobody listens on), a checksum mismatch, an overlong socket path;
//! - `crashes`: crashes in the middle of a call and of a stream, a plugin that ignores Shutdown,
//!   a host that is killed;
//! - `output`: long log, stderr and stdout lines, stdout floods;
//! - `ownership`: the plugin's whole process tree ends on kill; inherited go-plugin variables and
//!   a command's environment values stay with the host;
//! - `resources`: a plugin out of file descriptors waits instead of spinning, then recovers;
//! - `security`: TLS confusion and AutoMTLS pinning both ways, socket directory permissions, no
//!   certificate or key material in logs.

#[path = "../support/features.rs"]
mod features;
#[path = "../support/mod.rs"]
mod support;

mod crashes;
mod output;
mod ownership;
mod resources;
mod security;
mod startup;

use std::collections::BTreeMap;
use std::future::Future;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use go_plugin::handshake::{HandshakeConfig, HandshakeLine, HostExpectations, Protocol};
use go_plugin::host::{sha256_file, ClientSet, Host, HostConfig, UnixSocketConfig};
use go_plugin::log::LogEntry;
use go_plugin::tls::{mtls_client_config, pinned_client_config, Identity};
use go_plugin::Error;
use go_plugin_schemas::grpctest::test_client::TestClient;
use go_plugin_schemas::grpctest::TestRequest;
use std::os::unix::process::ExitStatusExt;
use support::*;
use tonic::transport::Channel;

/// Length of the fault plugin's long lines (10 MiB); the text is built by [`long_line`].
const LONG_LINE: usize = 10 << 20;

/// One case at a time (descriptor counts are per process).
static SERIAL: Mutex<()> = Mutex::new(());

/// A case's surroundings: its own directories, and the lock that keeps other cases out.
struct Case {
    _serial: std::sync::MutexGuard<'static, ()>,
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = short_tempdir();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        std::fs::create_dir(dir.path().join("pids")).unwrap();
        Case {
            _serial: serial,
            dir,
        }
    }

    /// The plugins' `TMPDIR`: their sockets and socket directories; empty once the case is over.
    fn tmp(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    /// A path for markers the plugins write (outside [`Case::tmp`]).
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `fault_plugin <mode>` with this case's `TMPDIR` and pid directory.
    fn command(&self, mode: &str) -> Command {
        self.command_of(&rust_example("fault_plugin"), mode)
    }

    /// [`Case::command`] of a copy of the fault plugin at `program`.
    fn command_of(&self, program: &Path, mode: &str) -> Command {
        let mut command = Command::new(program);
        command
            .arg(mode)
            .env_remove("RUST_LOG") // the plugin's default filter: the cases read its logs
            .env("TMPDIR", self.tmp())
            .env("FAULT_PID_DIR", self.dir.path().join("pids"))
            .env("FAULT_DONE_FILE", self.file("done"));
        command
    }

    /// `sh -c <script>` with the fault plugin as `$0` and this case's environment (as go-plugin's
    /// example hosts start plugins through a shell); arguments added to it follow as `$1`, ….
    fn shell(&self, script: &str) -> Command {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(script)
            .arg(rust_example("fault_plugin"))
            .env_remove("RUST_LOG")
            .env("TMPDIR", self.tmp())
            .env("FAULT_PID_DIR", self.dir.path().join("pids"))
            .env("FAULT_DONE_FILE", self.file("done"));
        command
    }

    /// A host for `fault_plugin <mode>` with the `test` plugin.
    fn host(&self, mode: &str) -> HostConfig {
        self.host_for(self.command(mode))
    }

    fn host_for(&self, command: Command) -> HostConfig {
        HostConfig::new(handshake())
            .plugins(ClientSet::new().plugin("test", |c| TestClient::new(c.channel())))
            .command(command)
            .start_timeout(Duration::from_secs(20))
    }

    /// Every process of this case (each wrote its pid).
    fn pids(&self) -> Vec<u32> {
        std::fs::read_dir(self.dir.path().join("pids"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect()
    }

    /// Runs `body` on a runtime of its own under `limit`, then checks, while that runtime still
    /// runs, that nothing was left behind.
    fn run(&self, limit: Duration, body: impl Future<Output = ()>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let fds = open_fds();
            if tokio::time::timeout(limit, body).await.is_err() {
                self.kill_all();
                panic!("the case hung: not finished within {limit:?}");
            }
            self.assert_nothing_left(&fds).await;
        });
    }

    fn kill_all(&self) {
        for pid in self.pids() {
            if process_alive(pid) {
                // SAFETY: kill(2) of a process this case started.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
    }

    async fn assert_nothing_left(&self, fds: &BTreeMap<String, String>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let leaks = self.leaks(fds);
            if leaks.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                self.kill_all();
                panic!("leaked:\n{}", leaks.join("\n"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn leaks(&self, fds: &BTreeMap<String, String>) -> Vec<String> {
        let mut leaks = Vec::new();
        for pid in self.pids() {
            if process_alive(pid) {
                leaks.push(format!("process {pid} still runs"));
            } else if parent_of(pid) == Some(std::process::id()) {
                leaks.push(format!("process {pid} exited but was never reaped"));
            }
        }
        for (fd, target) in open_fds() {
            if fds.get(&fd) != Some(&target) {
                leaks.push(format!("file descriptor {fd} -> {target}"));
            }
        }
        for entry in std::fs::read_dir(self.tmp()).unwrap().flatten() {
            leaks.push(format!("{} in TMPDIR", entry.path().display()));
        }
        leaks
    }
}

impl Drop for Case {
    /// A failed case leaves nothing running either.
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// This process's open descriptors and what they point at (but the one reading them).
fn open_fds() -> BTreeMap<String, String> {
    let reading = format!("/proc/{}/fd", std::process::id());
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t != Path::new(&reading)))
        .filter_map(|e| {
            let target = std::fs::read_link(e.path()).ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                target.display().to_string(),
            ))
        })
        .collect()
}

/// The parent pid of a process (zombies included), `None` once it is gone.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn handshake() -> HandshakeConfig {
    HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test")
}

/// The fault plugin's long line (the same text as `examples/fault_plugin.rs` builds).
fn long_line() -> String {
    pattern(LONG_LINE)
}

/// `len` bytes of letters in a fixed pattern with the offset every 1000 bytes, so that any lost,
/// doubled or reordered piece shows.
fn pattern(len: usize) -> String {
    let mut line = String::with_capacity(len + 16);
    while line.len() < len {
        let next = format!("<{}>", line.len());
        line.push_str(&next);
        let letters = (0..(1000 - next.len())).map(|i| char::from(b'a' + (i % 26) as u8));
        line.extend(letters);
    }
    line.truncate(len);
    line
}

/// Collects the plugin's interpreted log entries.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<LogEntry>>>);

impl Logs {
    fn hook(&self) -> impl Fn(&str, &LogEntry) + Send + Sync + 'static {
        let entries = self.0.clone();
        move |_, entry| entries.lock().unwrap().push(entry.clone())
    }
    fn any(&self, pred: impl Fn(&LogEntry) -> bool) -> bool {
        self.0.lock().unwrap().iter().any(pred)
    }
}

/// Waits until `pred` holds, failing after `limit`.
async fn eventually(limit: Duration, what: &str, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Captures everything the host logs, until the guard is dropped (a case's runtime runs all its
/// tasks on the case's thread).
fn capture_host_log() -> (Buffer, tracing::subscriber::DefaultGuard) {
    let log = Buffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (log, tracing::subscriber::set_default(subscriber))
}

/// The host's report of a crash: an error entry with the exit status.
fn assert_crash_reported(log: &Buffer) {
    let log = String::from_utf8_lossy(&log.bytes()).into_owned();
    let report = log
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("plugin process exited"))
        .unwrap_or_else(|| panic!("no crash report in the host log:\n{log}"));
    assert_contains(report, "SIGABRT");
}

fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} not in:\n{text}");
}
