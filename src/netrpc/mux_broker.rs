//! net/rpc's broker (go-plugin's `MuxBroker`, PROTOCOL.md §5.5): extra connections are new yamux
//! streams of the session.
//!
//! * `dial(id)`: open a stream, write the id as 4 bytes little-endian, read the same 4 bytes back
//!   (the acceptor's acknowledgement);
//! * every stream the peer opens (beyond the first three) starts with its 4-byte id and is kept
//!   under it for 5 s;
//! * `accept(id)`: wait up to 5 s for that stream, write the id back, use it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::conn::Conn;
use crate::error::{Error, TimedOut};
use crate::mux::{self, Control, StreamHandle};
use crate::rendezvous::Rendezvous;

/// One side's net/rpc broker. Cheap to clone.
#[derive(Clone)]
pub struct MuxBroker {
    inner: Arc<Inner>,
}

struct Inner {
    next_id: AtomicU32,
    control: Control,
    streams: Rendezvous<StreamHandle>,
}

impl std::fmt::Debug for MuxBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MuxBroker").finish_non_exhaustive()
    }
}

impl MuxBroker {
    /// A broker opening streams with `control` and reading the ids of the peer's `incoming`
    /// streams.
    pub fn start(
        control: Control,
        mut incoming: mpsc::UnboundedReceiver<StreamHandle>,
    ) -> MuxBroker {
        let broker = MuxBroker {
            inner: Arc::new(Inner {
                next_id: AtomicU32::new(0),
                control,
                streams: Rendezvous::default(),
            }),
        };
        let weak = Arc::downgrade(&broker.inner);
        tokio::spawn(async move {
            while let Some(mut stream) = incoming.recv().await {
                let weak = weak.clone();
                tokio::spawn(async move {
                    let mut id = [0u8; 4];
                    if stream.read_exact(&mut id).await.is_err() {
                        return;
                    }
                    if let Some(inner) = weak.upgrade() {
                        inner.streams.deliver(u32::from_le_bytes(id), stream);
                    }
                });
            }
        });
        broker
    }

    /// The next unused id of this side (1, 2, 3, …).
    pub fn next_id(&self) -> u32 {
        self.inner.next_id.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Opens a stream to the peer's `accept(id)`.
    pub async fn dial(&self, id: u32) -> Result<Conn, Error> {
        let io = |e| Error::io(format!("dialing broker id {id}"), e);
        let mut stream = self
            .inner
            .control
            .clone()
            .open_stream()
            .await
            .map_err(|e| {
                Error::PluginExited(format!("opening a yamux stream for broker id {id}: {e:?}"))
            })?;
        stream.write_all(&id.to_le_bytes()).await.map_err(io)?;
        let mut ack = [0u8; 4];
        stream.read_exact(&mut ack).await.map_err(io)?;
        let ack = u32::from_le_bytes(ack);
        if ack != id {
            return Err(Error::Handshake(format!("bad ack: {ack} (expected {id})")));
        }
        Ok(mux::pumped(stream))
    }

    /// Serves `server` (methods `Plugin.*`) to the peer's `dial(id)` (go-plugin's
    /// `MuxBroker.AcceptAndServe`); returns at once, the accept and the serving run in the
    /// background.
    pub fn accept_and_serve(&self, id: u32, server: super::RpcServer) {
        let broker = self.clone();
        tokio::spawn(async move {
            match broker.accept(id).await {
                Ok(conn) => {
                    if let Err(e) = server.serve(conn).await {
                        tracing::debug!(target: "go_plugin", error = %e, "brokered net/rpc stream ended");
                    }
                }
                Err(e) => {
                    tracing::error!(target: "go_plugin", error = %e, "plugin acceptAndServe error")
                }
            }
        });
    }

    /// Waits up to 5 s for the peer to dial `id`, acknowledges, and returns the stream.
    pub async fn accept(&self, id: u32) -> Result<Conn, Error> {
        let mut stream = self.inner.streams.take(id).await.ok_or_else(|| {
            Error::timeout(
                TimedOut::BrokerAccept,
                format!("timeout waiting for accept (broker id {id})"),
            )
        })?;
        stream
            .write_all(&id.to_le_bytes())
            .await
            .map_err(|e| Error::io(format!("acknowledging broker id {id}"), e))?;
        Ok(mux::pumped(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mux::{start, Role};

    #[tokio::test]
    async fn dial_and_accept_meet_by_id_with_little_endian_acks() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let (host_control, host_incoming) = start(a, Role::Client);
        let (plugin_control, plugin_incoming) = start(b, Role::Server);
        let host = MuxBroker::start(host_control, host_incoming);
        let plugin = MuxBroker::start(plugin_control, plugin_incoming);
        let id = plugin.next_id();
        assert_eq!(id, 1);
        let (dialed, accepted) = tokio::join!(host.dial(id), plugin.accept(id));
        let (mut dialed, mut accepted) = (dialed.unwrap(), accepted.unwrap());
        dialed.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        accepted.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    }
}
