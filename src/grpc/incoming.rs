//! The stream of accepted connections handed to a gRPC server: sockets from a listener or yamux
//! streams from a multiplexed session, each wrapped in TLS when AutoMTLS or a user TLS
//! configuration is in force.
//!
//! Every connection's incoming bytes pass through [`NormalisedAuthority`], so that requests whose
//! `:authority` is a socket path (gRPC C-core, grpc-java hosts) are served as grpc-go serves them.
//!
//! TLS handshakes run in their own tasks so that one slow or hostile peer cannot hold up the
//! others; a failed handshake (for instance a host presenting the wrong client certificate) is
//! logged and the connection dropped.

use std::io;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

use super::authority::NormalisedAuthority;
use crate::conn::{Conn, Io};
use crate::plugin::listener::PluginListener;

/// Accepted connections, ready for `serve_with_incoming`.
pub type Incoming = ReceiverStream<Result<Conn, io::Error>>;

/// Accepts connections from `listener` until the returned stream is dropped.
pub fn incoming(listener: Arc<PluginListener>, tls: Option<Arc<rustls::ServerConfig>>) -> Incoming {
    let (raw_tx, raw_rx) = mpsc::channel::<Box<dyn Io>>(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                conn = accept(&listener) => conn,
                _ = raw_tx.closed() => return,
            };
            match accepted {
                Ok(socket) => {
                    if raw_tx.send(socket).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::debug!(target: "go_plugin", error = %e, "accept failed"),
            }
        }
    });
    with_tls(raw_rx, tls)
}

/// Wraps each connection from `raw` in TLS (when configured) for a gRPC server.
pub fn with_tls<T: Io>(
    mut raw: mpsc::Receiver<T>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Incoming {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let socket = tokio::select! {
                socket = raw.recv() => match socket {
                    Some(socket) => socket,
                    None => return,
                },
                _ = tx.closed() => return,
            };
            match &acceptor {
                None => {
                    let _ = tx
                        .send(Ok(Conn::new(NormalisedAuthority::new(socket))))
                        .await;
                }
                Some(acceptor) => {
                    let (acceptor, tx) = (acceptor.clone(), tx.clone());
                    tokio::spawn(async move {
                        match acceptor.accept(socket).await {
                            Ok(tls) => {
                                let _ = tx.send(Ok(Conn::new(NormalisedAuthority::new(tls)))).await;
                            }
                            Err(e) => {
                                tracing::warn!(target: "go_plugin", error = %e, "TLS handshake with the peer failed")
                            }
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// Accepts one connection.
pub async fn accept(listener: &PluginListener) -> io::Result<Box<dyn Io>> {
    Ok(match listener {
        PluginListener::Unix(l, _) => Box::new(l.accept().await?.0),
        PluginListener::Tcp(l) => {
            let (stream, _) = l.accept().await?;
            stream.set_nodelay(true)?;
            Box::new(stream)
        }
    })
}
