//! Redirecting the plugin's stdout and stderr into the host's stdio stream.
//!
//! A go-plugin plugin prints its handshake on the real stdout and from then on everything it
//! writes to stdout and stderr reaches the host through `plugin.GRPCStdio` (see
//! [`crate::grpc::stdio`]), while its logs keep going to the real stderr. Here descriptors 1 and 2
//! are pointed at two pipes (so that `println!`, `eprintln!`, C code and child processes are all
//! captured), after keeping duplicates of the real ones: the real stdout carries the handshake line
//! and nothing else; the real stderr carries logs ([`crate::log::real_stderr`]).
//!
//! The redirect happens before the handshake is printed, so stray output of the plugin's own start-up
//! cannot corrupt the handshake line either. The pipes are read with non-blocking I/O in chunks of up
//! to 1024 bytes; when nobody drains them, writers block, as in go-plugin.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::grpc::stdio::{StdioSource, CHUNK_SIZE};

/// Chunks that may wait for the host per channel before writers start to block.
const QUEUED_CHUNKS: usize = 64;

/// The result of [`redirect_stdio`].
#[derive(Debug)]
pub struct Captured {
    /// The real stdout, where only the handshake line is written.
    pub real_stdout: File,
    /// What the process writes to descriptors 1 and 2 from now on.
    pub source: StdioSource,
}

/// Points descriptors 1 and 2 at pipes read by background tasks. Must run inside a Tokio runtime.
pub fn redirect_stdio() -> Result<Captured, Error> {
    // Keep the real stderr for logs before descriptor 2 changes.
    let _ = crate::log::real_stderr();
    let _ = io::stdout().flush();
    let real_stdout = File::from(dup(1).map_err(|e| Error::io("duplicating stdout", e))?);
    let stdout = redirect(1).map_err(|e| Error::io("redirecting stdout", e))?;
    let stderr = redirect(2).map_err(|e| Error::io("redirecting stderr", e))?;
    Ok(Captured {
        real_stdout,
        source: StdioSource { stdout, stderr },
    })
}

/// Replaces descriptor `target` with the write end of a new pipe and returns the chunks read from it.
fn redirect(target: i32) -> io::Result<mpsc::Receiver<Vec<u8>>> {
    let (read_end, write_end) = pipe_cloexec()?;
    // SAFETY: both descriptors are valid; dup2 atomically replaces `target`.
    if unsafe { libc::dup2(write_end.as_raw_fd(), target) } < 0 {
        return Err(io::Error::last_os_error());
    }
    drop(write_end);
    let mut reader = pipe::Receiver::from_owned_fd(read_end)?;
    let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
    tokio::spawn(async move {
        let mut buf = vec![0u8; CHUNK_SIZE];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    Ok(rx)
}

/// A pipe whose ends are closed on exec (`std::io::pipe` sets `O_CLOEXEC` on every platform;
/// `pipe2` is Linux- and BSD-only).
fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read_end, write_end) = io::pipe()?;
    Ok((OwnedFd::from(read_end), OwnedFd::from(write_end)))
}

fn dup(fd: i32) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor of this process returns a new descriptor or -1.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` is a freshly duplicated descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}
