//! The stream of accepted connections handed to the gRPC server: plain sockets, or TLS sessions
//! when AutoMTLS or a user TLS configuration is in force.
//!
//! TLS handshakes run in their own tasks so that one slow or hostile peer cannot hold up the
//! accept loop; a failed handshake (for instance a host presenting the wrong client certificate)
//! is logged and the connection dropped.

use std::io;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

use crate::conn::{Conn, Io};
use crate::plugin::listener::PluginListener;

/// Accepts connections from `listener` until the returned stream is dropped.
pub fn incoming(
    listener: Arc<PluginListener>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> ReceiverStream<Result<Conn, io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted: io::Result<Box<dyn Io>> = tokio::select! {
                conn = accept(&listener) => conn,
                _ = tx.closed() => return,
            };
            let socket = match accepted {
                Ok(socket) => socket,
                Err(e) => {
                    tracing::debug!(target: "go_plugin", error = %e, "accept failed");
                    continue;
                }
            };
            let tx = tx.clone();
            match &acceptor {
                None => {
                    let _ = tx.send(Ok(Conn::new(socket))).await;
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(socket).await {
                            Ok(tls) => {
                                let _ = tx.send(Ok(Conn::new(tls))).await;
                            }
                            Err(e) => {
                                tracing::warn!(target: "go_plugin", error = %e, "TLS handshake with host failed")
                            }
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

async fn accept(listener: &PluginListener) -> io::Result<Box<dyn Io>> {
    Ok(match listener {
        PluginListener::Unix(l, _) => Box::new(l.accept().await?.0),
        PluginListener::Tcp(l) => {
            let (stream, _) = l.accept().await?;
            stream.set_nodelay(true)?;
            Box::new(stream)
        }
    })
}
