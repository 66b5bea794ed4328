//! Exiting with the host: a plugin whose host dies (SIGKILL, crash) must not keep running.
//!
//! A Go host never signals its plugins except the final SIGKILL, so a plugin watches its parent:
//! when the process is re-parented (its parent pid changes, typically to init or a subreaper), the
//! host is gone and the plugin shuts down as if asked to. The parent pid is checked twice a
//! second.
//!
//! The plugin does not set `PR_SET_PDEATHSIG` on itself: the signal fires when the parent
//! *thread* that forked exits, and Go hosts fork from whichever OS thread runs the goroutine,
//! threads that may exit while the host lives on — the plugin would be killed under a healthy
//! host. A Rust host sets it from the other side, forking from a thread that lives as long as
//! the host (`host::death_signal`); [`super::serve`] treats the resulting SIGTERM as a Shutdown
//! request. Under a Rust host a plugin therefore has both.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often the parent pid is checked.
const INTERVAL: Duration = Duration::from_millis(500);

/// Cancels `shutdown` once this process's parent changes.
pub fn exit_with_parent(shutdown: CancellationToken) {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = shutdown.cancelled() => return,
            }
            // SAFETY: as above.
            if unsafe { libc::getppid() } != parent {
                tracing::warn!(target: "go_plugin", parent, "the host process is gone; shutting down");
                shutdown.cancel();
                return;
            }
        }
    });
}
