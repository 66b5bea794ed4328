//! Plugins die with their host (Linux): the kernel sends a plugin `SIGTERM` when the host process
//! ends, however it ends (SIGKILL, a crash, an `exit` that skipped [`super::Host::kill`]).
//! go-plugin has nothing like it; its users report orphaned plugins (hashicorp/go-plugin#10,
//! #210).
//!
//! `prctl(PR_SET_PDEATHSIG)`, called in the child between fork and exec, asks for a signal when
//! the parent dies — but "parent" means the *thread* that forked, not the process. If that thread
//! ends while the host lives on, the plugin is signalled by mistake. Tokio's threads come and go
//! (blocking-pool threads end after 10 s idle, `block_in_place` moves a worker's core to a new
//! thread, a runtime can live on a thread that ends), so forking on them would be unsafe. Plugins
//! are therefore forked by one dedicated thread that lives as long as the process and does
//! nothing else. The child checks right after `prctl` that its parent is still the host, in case
//! the host died between fork and `prctl`.
//!
//! `SIGTERM` rather than `SIGKILL`: a Rust plugin ([`crate::plugin::serve`]) treats it as a
//! Shutdown request and removes its socket; a Go plugin ends at once (Go's default action for
//! SIGTERM), as it would with SIGKILL. A plugin that ignores SIGTERM outlives a killed host; Rust
//! plugins also watch their parent pid, which covers Go hosts as well. (A host that `exec`s
//! another program ends the spawner thread too, so its plugins get the signal, as if it exited.)
//!
//! Elsewhere than on Linux commands are spawned as they are.

use std::io;

use tokio::process::{Child, Command};

/// Spawns `command`; on Linux the process gets SIGTERM when this process dies.
pub(super) async fn spawn(command: Command) -> io::Result<Child> {
    #[cfg(target_os = "linux")]
    {
        linux::spawn(command).await
    }
    #[cfg(not(target_os = "linux"))]
    {
        let mut command = command;
        command.spawn()
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::sync::mpsc;
    use std::sync::OnceLock;

    use tokio::process::{Child, Command};
    use tokio::sync::oneshot;

    type Job = Box<dyn FnOnce() + Send>;

    /// Runs `command.spawn()` on the spawner thread, inside the caller's runtime.
    pub(super) async fn spawn(mut command: Command) -> io::Result<Child> {
        let Some(spawner) = spawner() else {
            // No thread could be started: spawn here, without the death signal.
            return command.spawn();
        };
        let runtime = tokio::runtime::Handle::current();
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _runtime = runtime.enter();
            with_death_signal(&mut command);
            let _ = tx.send(command.spawn());
        });
        spawner
            .send(job)
            .map_err(|_| io::Error::other("the plugin spawner thread is gone"))?;
        rx.await
            .map_err(|_| io::Error::other("spawning the plugin panicked"))?
    }

    /// The spawner thread's queue; `None` when the thread could not be started.
    fn spawner() -> Option<&'static mpsc::Sender<Job>> {
        static SPAWNER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
        SPAWNER
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel::<Job>();
                let thread = std::thread::Builder::new()
                    .name("go-plugin-spawner".into())
                    .spawn(move || {
                        // Lives as long as the process: the sender is never dropped.
                        for job in rx {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                    });
                thread.ok().map(|_| tx)
            })
            .as_ref()
    }

    /// Asks the kernel for SIGTERM to the child when its parent thread (the spawner) ends.
    fn with_death_signal(command: &mut Command) {
        let host = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs in the child between fork and exec; it makes two system calls
        // and builds errors without allocating, all async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != host {
                    // The host died between fork and prctl.
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
}
