//! yamux sessions: many byte streams over one connection (hashicorp/yamux's protocol), as used by
//! go-plugin's multiplexed gRPC broker (PROTOCOL.md §4.7, §5.1) and, later, by net/rpc.
//!
//! The host is the yamux client (odd stream ids), the plugin the server (even ids); the session
//! runs on the plain socket and TLS, when any, runs inside each stream. The session must be polled
//! continuously, so [`start`] spawns a driver task that hands every stream the peer opens to a
//! channel, and returns a [`Control`] for opening streams.
//!
//! tokio-yamux interoperates with hashicorp/yamux where go-plugin needs it (checked against Go
//! hosts and plugins in the cross-tests, and by reading tokio-yamux 0.3.20):
//!
//! * **SYN timing**: opening a stream sends a `WindowUpdate` frame with `SYN` (delta 0) at once,
//!   as Go does, so the peer sees streams that carry no data yet;
//! * **ACK**: a stream the peer opens is acknowledged with `WindowUpdate`/`ACK` as soon as the
//!   session reads its `SYN`;
//! * **windows**: 256 KiB initial and maximum stream window on both sides, updates once half of
//!   the window is used;
//! * **keep-alive**: both send `Ping`/`SYN` every 30 s and answer with `Ping`/`ACK`. The
//!   cross-tests keep a session idle for 45 s (past Go's 30 s keep-alive and 10 s write timeout)
//!   with a Go host and with a Go plugin and use it afterwards, so tokio-yamux answers Go's pings;
//!   that Go answers ours is read from hashicorp/yamux (it echoes every `Ping`/`SYN`).
//!
//! One difference matters to callers: tokio-yamux processes a stream's incoming frames, window
//! updates included, only while the stream is polled — for reading, or by a write that finds room.
//! A writer blocked on a spent send window is not woken by the peer's window update unless
//! something reads the stream. Streams that only carry data out (net/rpc's stdout/stderr streams
//! on the plugin side) are therefore also drained by a reader; found with a 1 MiB transfer to a Go
//! host that stalled ~100 KiB before the end.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_yamux::{Config, Session};
pub use tokio_yamux::{Control, StreamHandle};

/// Which end of the session this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The host: opens odd-numbered streams.
    Client,
    /// The plugin: opens even-numbered streams.
    Server,
}

/// Starts a yamux session on `io`: returns the control (to open streams and close the session) and
/// the streams the peer opens. The session ends when the connection does.
pub fn start<T>(io: T, role: Role) -> (Control, mpsc::UnboundedReceiver<StreamHandle>)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut session = match role {
        Role::Client => Session::new_client(io, Config::default()),
        Role::Server => Session::new_server(io, Config::default()),
    };
    let control = session.control();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(next) = session.next().await {
            match next {
                Ok(stream) => {
                    if tx.send(stream).is_err() {
                        tracing::debug!(target: "go_plugin", "yamux stream opened by the peer after the router went away");
                    }
                }
                Err(e) => {
                    tracing::debug!(target: "go_plugin", error = %e, "yamux session ended");
                    break;
                }
            }
        }
    });
    (control, rx)
}

/// A stream whose reading side is always being polled (see the module docs): a task reads ahead
/// into a small queue, so the peer's window updates reach the writer even while the caller only
/// writes. At most `READ_AHEAD` chunks wait unread; then reading pauses (back-pressure).
#[cfg(feature = "netrpc")]
pub fn pumped(stream: StreamHandle) -> crate::conn::Conn {
    const READ_AHEAD: usize = 16;
    let (mut read, write) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel::<std::io::Result<Vec<u8>>>(READ_AHEAD);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let chunk = tokio::select! {
                n = tokio::io::AsyncReadExt::read(&mut read, &mut buf) => n,
                _ = tx.closed() => return,
            };
            let done = !matches!(chunk, Ok(n) if n > 0);
            if tx.send(chunk.map(|n| buf[..n].to_vec())).await.is_err() || done {
                return;
            }
        }
    });
    crate::conn::Conn::new(Pumped {
        chunks: rx,
        pending: Vec::new(),
        offset: 0,
        eof: false,
        write,
    })
}

/// The reading half fed by the read-ahead task, the writing half as is.
#[cfg(feature = "netrpc")]
struct Pumped {
    chunks: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    offset: usize,
    eof: bool,
    write: tokio::io::WriteHalf<StreamHandle>,
}

#[cfg(feature = "netrpc")]
impl AsyncRead for Pumped {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        loop {
            if self.offset < self.pending.len() {
                let n = buf.remaining().min(self.pending.len() - self.offset);
                let start = self.offset;
                buf.put_slice(&self.pending[start..start + n]);
                self.offset += n;
                return Poll::Ready(Ok(()));
            }
            if self.eof {
                return Poll::Ready(Ok(()));
            }
            match self.chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) if !chunk.is_empty() => {
                    self.pending = chunk;
                    self.offset = 0;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(_) => self.eof = true,
            }
        }
    }
}

#[cfg(feature = "netrpc")]
impl AsyncWrite for Pumped {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.write).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.write).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.write).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn streams_opened_by_either_side_carry_bytes_both_ways() {
        let (a, b) = tokio::io::duplex(1 << 20);
        let (mut host, _host_incoming) = start(a, Role::Client);
        let (mut plugin, mut plugin_incoming) = start(b, Role::Server);
        let mut opened = host.open_stream().await.unwrap();
        opened.write_all(b"ping").await.unwrap();
        let mut accepted = plugin_incoming.recv().await.unwrap();
        let mut buf = [0u8; 4];
        accepted.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        accepted.write_all(b"pong").await.unwrap();
        opened.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
        assert!(plugin.open_stream().await.is_ok());
    }
}
