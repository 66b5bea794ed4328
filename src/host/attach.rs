//! Reattached plugins: processes this host did not start (go-plugin's `Reattach`, PROTOCOL.md §7.7).
//!
//! There is no handshake: the address and protocol come from the [`crate::reattach::ReattachConfig`].
//! An [`AttachedProcess`] tells whether the plugin is still there (polled every second) and stops
//! it; the default, [`PidProcess`], uses the pid (signal 0, SIGKILL). A custom one is go-plugin's
//! `ReattachFunc`: plugins in containers, sandboxes or other machines. A plugin served in test mode
//! is not owned by the host, so killing the host's side leaves it running.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long a killed reattached plugin may take to exit after Shutdown before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A plugin process the host attached to (go-plugin's `AttachedRunner`).
pub trait AttachedProcess: Send + Sync + 'static {
    /// Whether the plugin still runs.
    fn alive(&self) -> bool;
    /// Stops it for good (after a graceful shutdown request was given its chance).
    fn kill(&self);
}

impl std::fmt::Debug for dyn AttachedProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachedProcess")
    }
}

/// The default attached process: a local pid.
#[derive(Clone, Copy, Debug)]
pub struct PidProcess(pub u32);

impl AttachedProcess for PidProcess {
    fn alive(&self) -> bool {
        pid_alive(self.0)
    }

    fn kill(&self) {
        if let Ok(pid) = i32::try_from(self.0) {
            // SAFETY: plain kill(2) of the pid this host was told it owns.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Cancels `exited` once the process is gone (checked every second).
pub(crate) fn watch(process: Arc<dyn AttachedProcess>, exited: CancellationToken) {
    tokio::spawn(async move {
        while process.alive() {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = exited.cancelled() => return,
            }
        }
        tracing::debug!(target: "go_plugin", "reattached plugin process exited");
        exited.cancel();
    });
}

/// True while a process with this pid exists and is not a zombie.
pub(crate) fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence and permission.
    let exists = raw > 0 && unsafe { libc::kill(raw, 0) } == 0;
    exists && !is_zombie(pid)
}

/// A process that has exited but was not reaped yet (Linux `/proc`; elsewhere never).
#[cfg(not(target_os = "linux"))]
fn is_zombie(_pid: u32) -> bool {
    false
}

/// A process that has exited but was not reaped yet (Linux `/proc`; elsewhere never).
#[cfg(target_os = "linux")]
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Waits for an owned reattached plugin to exit after Shutdown, else kills it.
pub(crate) async fn stop(process: Arc<dyn AttachedProcess>, exited: &CancellationToken) {
    let deadline = tokio::time::Instant::now() + EXIT_GRACE;
    while process.alive() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if process.alive() {
        tracing::warn!(target: "go_plugin", "plugin failed to exit gracefully");
        process.kill();
    }
    exited.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_is_alive_and_a_reaped_one_is_not() {
        assert!(pid_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid));
        assert!(!pid_alive(0));
    }
}
