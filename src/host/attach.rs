//! Reattached plugins: processes this host did not start (go-plugin's `Reattach`, PROTOCOL.md §7.7).
//!
//! There is no handshake: the address and protocol come from the [`crate::reattach::ReattachConfig`].
//! Liveness is the pid (signal 0), polled every second; a plugin served in test mode is not owned
//! by the host, so killing the host's side leaves it running.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long a killed reattached plugin may take to exit after Shutdown before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Cancels `exited` once the process `pid` is gone (checked every second).
pub(crate) fn watch_pid(pid: u32, exited: CancellationToken) {
    tokio::spawn(async move {
        while pid_alive(pid) {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = exited.cancelled() => return,
            }
        }
        tracing::debug!(target: "go_plugin", pid, "reattached plugin process exited");
        exited.cancel();
    });
}

/// True while a process with this pid exists (signal 0).
pub(crate) fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence and permission.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

/// Waits for a reattached (owned) plugin to exit after Shutdown, else kills it by pid.
pub(crate) async fn kill_reattached(pid: u32, exited: &CancellationToken) {
    let deadline = tokio::time::Instant::now() + EXIT_GRACE;
    while pid_alive(pid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if pid_alive(pid) {
        tracing::warn!(target: "go_plugin", "plugin failed to exit gracefully");
        // SAFETY: plain kill(2) of the pid this host was told it owns.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    exited.cancel();
}
