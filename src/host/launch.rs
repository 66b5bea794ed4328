//! Starting the plugin process and reading its handshake (go-plugin's `Start`, PROTOCOL.md §1, §2.4,
//! §6.2, §7.1).
//!
//! The plugin gets the host's stdin; its stdout and stderr are pipes. Three background tasks run
//! for the life of the process:
//!
//! * **stdout**: the first line (at most 64 KiB) goes to [`Launched::first_line`]; everything after
//!   it is read and thrown away, so the plugin never blocks on a full pipe;
//! * **stderr**: each line goes raw to the user's stderr sink, whole whatever its length, and,
//!   interpreted by [`StderrClassifier`], to `tracing` (and the user's log hook), one entry per
//!   16 MiB: an endless line never grows the host's memory without bound;
//! * **exit watcher**: owns the child, reaps it, publishes its exit status, and is the only one
//!   that kills it (on request), so a pid is never signalled after it was reaped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

use super::checksum::VerifiedExecutable;
use super::config::{LogHook, Sink};
use super::exec_verified::exec_verified;
use crate::error::{Error, TimedOut};
use crate::log::StderrClassifier;

/// go-plugin's text after "Unrecognized remote plugin message" (the runner's diagnosis).
const DIAGNOSIS: &str =
    "This usually means\n  the plugin was not compiled for this architecture,\n  \
the plugin is missing dynamic-link libraries necessary to run,\n  \
the plugin is not executable by this process due to file permissions, or\n  \
the plugin failed to negotiate the initial go-plugin protocol handshake\n";

/// How many of the plugin's last stderr lines a crash report quotes, and how much of each.
const TAIL_LINES: usize = 20;
const TAIL_LINE: usize = 4096;

/// The longest first stdout line read (go-plugin's scanner stops at 64 KiB; a handshake line with
/// a certificate is about 1 KiB): an endless line must not be buffered until the start timeout.
const MAX_FIRST_LINE: usize = 64 << 10;

/// The longest stderr line logged as one entry; longer lines become several entries.
const MAX_LINE: usize = 16 << 20;

/// How a launched process ended.
#[derive(Clone, Debug)]
pub enum Ended {
    /// Its exit status.
    Status(ExitStatus),
    /// Waiting for it failed: it is gone (or unreachable), its status unknown. Never reported as
    /// a status, least of all as success.
    WaitFailed(String),
}

impl Ended {
    /// The exit status, when known.
    pub fn status(&self) -> Option<ExitStatus> {
        match self {
            Ended::Status(status) => Some(*status),
            Ended::WaitFailed(_) => None,
        }
    }
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Status(status) => write!(f, "{status}"),
            Ended::WaitFailed(e) => write!(f, "exit status unknown: waiting for it failed: {e}"),
        }
    }
}

/// A running plugin process.
#[derive(Debug)]
pub struct Launched {
    /// The process id.
    pub pid: u32,
    /// The first stdout line, or `None` when stdout closed before one arrived.
    pub first_line: oneshot::Receiver<Option<String>>,
    /// The process: `None` while it runs, then how it ended.
    pub exit: watch::Receiver<Option<Ended>>,
    kill: mpsc::UnboundedSender<()>,
    tail: Arc<Mutex<VecDeque<String>>>,
    /// The process leads a process group of its own (see [`prepare_command`]).
    own_group: bool,
}

/// Where the plugin's stderr goes.
#[derive(Clone)]
pub struct StderrOutputs {
    /// The plugin's name for log entries (base name of the executable).
    pub name: String,
    /// Raw pass-through of every line (go-plugin's `ClientConfig.Stderr`).
    pub raw: Option<Sink>,
    /// Called with every interpreted line.
    pub hook: Option<LogHook>,
    /// Lines longer than this are not parsed as hclog JSON ([`StderrClassifier`]).
    pub max_json_line: usize,
}

impl Launched {
    /// Asks the exit watcher to SIGKILL the process, and its process group when it leads one
    /// (no-op once it has exited).
    pub fn kill(&self) {
        let _ = self.kill.send(());
    }

    /// SIGKILLs what is left of the plugin's process group once the plugin itself has exited:
    /// children it started (a shell's plugin, a wrapper's helpers). A group id stays reserved
    /// while any member lives, so this reaches only the plugin's own descendants; when none is
    /// left the call finds no group and does nothing.
    pub fn kill_group_remnants(&self) {
        if self.own_group && self.pid != 0 {
            signal_group(self.pid);
        }
    }

    /// Waits until the process has exited: its status, or `None` when it is not known.
    pub async fn wait(&self) -> Option<ExitStatus> {
        let mut exit = self.exit.clone();
        loop {
            if let Some(ended) = &*exit.borrow_and_update() {
                return ended.status();
            }
            if exit.changed().await.is_err() {
                // The watcher is gone without a status (its runtime is shutting down).
                return None;
            }
        }
    }

    /// The plugin's last stderr lines, for error messages.
    pub fn stderr_tail(&self) -> Vec<String> {
        self.tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// Spawns `command` (stdout and stderr piped, stdin inherited; on Linux it dies with this process,
/// see [`super::death_signal`]) and starts the background tasks.
pub async fn launch(
    mut command: Command,
    outputs: StderrOutputs,
    own_group: bool,
) -> Result<Launched, Error> {
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let program = format!("{:?}", command.as_std().get_program());
    let mut child = super::death_signal::spawn(command)
        .await
        .map_err(|e| Error::io(format!("starting plugin {program}"), e))?;
    let pid = child.id().unwrap_or(0);
    tracing::debug!(target: "go_plugin", path = %program, pid, "plugin started");

    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (line_tx, first_line) = oneshot::channel();
    tokio::spawn(read_stdout(stdout, line_tx));
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let stderr_done = tokio::spawn(pump_stderr(stderr, outputs, tail.clone()));

    let (exit_tx, exit) = watch::channel(None);
    let (kill, kill_rx) = mpsc::unbounded_channel();
    tokio::spawn(watch_exit(
        child,
        (kill_rx, own_group),
        exit_tx,
        stderr_done,
        tail.clone(),
    ));
    Ok(Launched {
        pid,
        first_line,
        exit,
        kill,
        tail,
        own_group,
    })
}

async fn read_stdout(stdout: impl AsyncRead + Unpin, first: oneshot::Sender<Option<String>>) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    let mut limited = (&mut reader).take(MAX_FIRST_LINE as u64);
    let got = matches!(limited.read_until(b'\n', &mut line).await, Ok(n) if n > 0);
    let text = if line.len() == MAX_FIRST_LINE && !line.ends_with(b"\n") {
        // No handshake is this long: say so instead of buffering an endless line.
        let start = String::from_utf8_lossy(&line[..80]).into_owned();
        format!("{start}… (no end of line in the first {MAX_FIRST_LINE} bytes)")
    } else {
        String::from_utf8_lossy(&line).into_owned()
    };
    let _ = first.send(got.then_some(text));
    // Drain the rest so the plugin never blocks on a full pipe.
    let mut sink = tokio::io::sink();
    let _ = tokio::io::copy(&mut reader, &mut sink).await;
}

async fn pump_stderr(
    stderr: impl AsyncRead + Unpin,
    outputs: StderrOutputs,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    let mut reader = BufReader::new(stderr);
    let mut classifier = StderrClassifier::new().with_max_json_line(outputs.max_json_line);
    let mut said_too_long = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        // A longer line is logged in pieces of MAX_LINE bytes (go-plugin: 64 KiB) and passed
        // through whole.
        let piece = line.len() == MAX_LINE && !line.ends_with(b"\n");
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        if let Some(raw) = &outputs.raw {
            // Byte for byte, each line ended by one newline (as go-plugin's pass-through).
            let mut raw = raw.lock().unwrap_or_else(|e| e.into_inner());
            let end: &[u8] = if piece { b"" } else { b"\n" };
            let _ = raw.write_all(bytes).and_then(|_| raw.write_all(end));
        }
        let text = String::from_utf8_lossy(bytes).into_owned();
        if !said_too_long && classifier.too_long_for_json(&text) && text.starts_with(['{', '[']) {
            said_too_long = true;
            tracing::warn!(target: "go_plugin", plugin = %outputs.name, bytes = text.len(), limit = outputs.max_json_line, "plugin stderr line longer than the limit for hclog JSON: passed on as text (HostConfig::max_log_json_line; said once per plugin)");
        }
        let entry = classifier.classify(&text);
        crate::log::relog(&outputs.name, &entry);
        if let Some(hook) = &outputs.hook {
            hook(&outputs.name, &entry);
        }
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(shortened(text));
    }
}

/// A line for the crash report: at most [`TAIL_LINE`] bytes.
fn shortened(mut text: String) -> String {
    if text.len() > TAIL_LINE {
        let mut end = TAIL_LINE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

async fn watch_exit(
    mut child: Child,
    (mut kill, own_group): (mpsc::UnboundedReceiver<()>, bool),
    exit: watch::Sender<Option<Ended>>,
    stderr_done: tokio::task::JoinHandle<()>,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    let (status, killed) = tokio::select! {
        status = child.wait() => (status, false),
        _ = kill.recv() => {
            // The group first, while the unreaped leader still reserves its id.
            if let (true, Some(pid)) = (own_group, child.id()) {
                signal_group(pid);
            }
            let _ = child.start_kill();
            (child.wait().await, true)
        }
    };
    let ended = match status {
        Ok(status) => Ended::Status(status),
        Err(e) => Ended::WaitFailed(e.to_string()),
    };
    // Let the stderr pump finish the last lines (bounded: a grandchild may hold the pipe open).
    let _ = tokio::time::timeout(std::time::Duration::from_millis(200), stderr_done).await;
    let status = &ended;
    if ended.status().is_some_and(|s| s.success()) || killed {
        tracing::info!(target: "go_plugin", %status, killed, "plugin process exited");
    } else {
        // A crash: say how it ended and what it said last.
        let last_stderr = tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        tracing::error!(target: "go_plugin", %status, last_stderr, "plugin process exited");
    }
    let _ = exit.send(Some(ended));
}

/// Waits for the first stdout line, the process exit or the start timeout, whichever comes first.
pub(crate) async fn wait_for_handshake(
    process: &mut Launched,
    timeout: Duration,
    program: &Path,
) -> Result<String, Error> {
    tracing::debug!(target: "go_plugin", plugin = %program.display(), "waiting for RPC address");
    let exit = process.exit.clone();
    let exited = move || {
        let mut exit = exit.clone();
        async move {
            let _ = exit.wait_for(Option::is_some).await;
        }
    };
    tokio::select! {
        line = &mut process.first_line => match line {
            Ok(Some(line)) => Ok(line),
            _ => {
                // stdout closed without a line: usually the plugin is exiting. Give the exit a
                // moment, so that the error says how it ended and what it wrote to stderr.
                if tokio::time::timeout(Duration::from_secs(1), exited()).await.is_ok() {
                    return Err(exited_before_connect(process));
                }
                Err(with_diagnosis(
                    Error::Handshake("Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout".into()),
                    program,
                ))
            }
        },
        _ = exited() => {
            // A plugin may print its line and exit at once: the line is then still in the pipe.
            if let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_millis(500), &mut process.first_line).await {
                return Ok(line);
            }
            Err(exited_before_connect(process))
        }
        _ = tokio::time::sleep(timeout) => Err(Error::timeout(TimedOut::Start, "timeout while waiting for plugin to start")),
    }
}

/// go-plugin's "plugin exited before we could connect", with the exit status and the plugin's
/// last stderr lines (its own explanation, usually).
fn exited_before_connect(process: &Launched) -> Error {
    let status = process.exit.borrow().as_ref().and_then(Ended::status);
    Error::ExitedBeforeConnect {
        status,
        last_stderr: process.stderr_tail(),
    }
}

/// Adds go-plugin's diagnosis to "Unrecognized remote plugin message" errors.
pub(crate) fn with_diagnosis(error: Error, program: &Path) -> Error {
    match error {
        Error::Handshake(message) if message.starts_with("Unrecognized remote plugin message") => {
            let mode = std::fs::metadata(program)
                .map(|m| {
                    format!(
                        "{:o}",
                        std::os::unix::fs::PermissionsExt::mode(&m.permissions())
                    )
                })
                .unwrap_or_else(|e| e.to_string());
            Error::Handshake(format!(
                "{message}\n{DIAGNOSIS}\nAdditional notes about plugin:\n  Path: {}\n  Mode: {mode}\n",
                program.display()
            ))
        }
        other => other,
    }
}

/// SIGKILL to the process group `pgid`.
fn signal_group(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid > 1 {
        // SAFETY: kill(2) with a negative id signals the process group the host created for its
        // plugin (see `Launched::kill_group_remnants` on why the id is still that group's).
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
}

/// go-plugin's variables a host sets only in some configurations. Inherited from the host's own
/// environment (a host that is itself a plugin, say a Rust host inside a Terraform provider),
/// they would configure the plugin for a host it does not talk to, so they are removed unless
/// this host sets them or the command sets them explicitly.
const INHERITED_PLUGIN_VARIABLES: [&str; 7] = [
    crate::env::CLIENT_CERT,
    crate::env::MULTIPLEX_GRPC,
    crate::env::UNIX_SOCKET_DIR,
    crate::env::UNIX_SOCKET_GROUP,
    crate::env::PROTOCOL_VERSIONS,
    crate::env::MIN_PORT,
    crate::env::MAX_PORT,
];

/// The command with the environment contract applied (go-plugin's variables win), in a process
/// group of its own when `own_group` (see [`Launched::kill_group_remnants`]).
pub(crate) fn prepare_command(
    mut command: std::process::Command,
    skip_host_env: bool,
    vars: Vec<(String, String)>,
    own_group: bool,
    verified: Option<VerifiedExecutable>,
) -> Result<tokio::process::Command, Error> {
    for name in INHERITED_PLUGIN_VARIABLES {
        let set_by_command = command.get_envs().any(|(k, _)| k == name);
        if !set_by_command && !vars.iter().any(|(k, _)| k == name) {
            command.env_remove(name);
        }
    }
    if own_group {
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
    }
    if skip_host_env {
        let own: Vec<_> = command
            .get_envs()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
            .collect();
        command.env_clear();
        command.envs(own);
    }
    command.envs(vars);
    if let Some(verified) = verified {
        exec_verified(&mut command, verified)?;
    }
    Ok(tokio::process::Command::from(command))
}

/// The executable `command` will run, found as its `exec` finds it: a path containing `/` as
/// given, relative to the command's current directory when it has one; a bare name looked up
/// in the command's `PATH` (its own when it sets one, else the host's), relative entries again
/// from the command's current directory. A name found nowhere is returned as given.
pub(crate) fn resolve_program(command: &std::process::Command) -> PathBuf {
    let program = Path::new(command.get_program());
    let from_cwd = |path: &Path| match command.get_current_dir() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    };
    if program.as_os_str().as_encoded_bytes().contains(&b'/') {
        return from_cwd(program);
    }
    let own_path = command
        .get_envs()
        .find(|(k, _)| *k == "PATH")
        .map(|(_, v)| v.map(|v| v.to_owned()));
    let path = match own_path {
        Some(set) => set,
        None => std::env::var_os("PATH"),
    };
    path.and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| from_cwd(&d.join(program)))
            .find(|p| p.is_file())
    })
    .unwrap_or_else(|| program.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn a_failed_wait_is_never_a_status_least_of_all_success() {
        let failed = Ended::WaitFailed("No child processes (os error 10)".into());
        assert_eq!(failed.status(), None);
        assert_eq!(
            failed.to_string(),
            "exit status unknown: waiting for it failed: No child processes (os error 10)"
        );
        let exited = Ended::Status(ExitStatus::from_raw(3 << 8));
        assert_eq!(exited.status().and_then(|s| s.code()), Some(3));
        assert_eq!(exited.to_string(), "exit status: 3");
    }
}
