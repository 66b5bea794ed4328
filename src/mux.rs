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
