//! The stream of accepted connections handed to a gRPC server: sockets from a listener or yamux
//! streams from a multiplexed session, each wrapped in TLS when AutoMTLS or a user TLS
//! configuration is in force.
//!
//! Every connection's incoming bytes pass through [`NormalisedAuthority`], so that requests whose
//! `:authority` is a socket path (gRPC C-core, grpc-java hosts) are served as grpc-go serves them.
//!
//! TLS handshakes run in their own tasks so that one slow or hostile peer cannot hold up the
//! others, each within 10 s and at most 64 at once; a failed or timed-out handshake (for instance
//! a host presenting the wrong client certificate, or a peer that sends nothing) is logged and the
//! connection dropped.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
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
        let mut backoff = AcceptBackoff::default();
        loop {
            let accepted = tokio::select! {
                conn = accept(&listener) => conn,
                _ = raw_tx.closed() => return,
            };
            match accepted {
                Ok(socket) => {
                    backoff.reset();
                    if raw_tx.send(socket).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let pause = backoff.next();
                    tracing::warn!(target: "go_plugin", error = %e, retry_in = ?pause, "accept failed");
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = raw_tx.closed() => return,
                    }
                }
            }
        }
    });
    with_tls(raw_rx, tls)
}

/// The pause after a failed accept (EMFILE, ENFILE, ENOBUFS: errors that repeat at once until
/// something else frees a resource): 5 ms, doubling up to 1 s, as Go's `net/http` server waits;
/// back to 5 ms after a success. Without it the accept loop would spin a core.
#[derive(Debug, Default)]
struct AcceptBackoff {
    last: Option<Duration>,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn next(&mut self) -> Duration {
        let pause = self
            .last
            .map_or(Self::FIRST, |last| (last * 2).min(Self::MAX));
        self.last = Some(pause);
        pause
    }

    fn reset(&mut self) {
        self.last = None;
    }
}

/// How long a peer has to complete its TLS handshake: a peer that connects and sends nothing must
/// not hold a task and a socket for ever.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS handshakes in progress at once; accepting waits while this many are.
const MAX_HANDSHAKES_IN_FLIGHT: usize = 64;

/// Wraps each connection from `raw` in TLS (when configured) for a gRPC server.
pub fn with_tls<T: Io>(
    mut raw: mpsc::Receiver<T>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Incoming {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(TlsAcceptor::from);
    let in_flight = Arc::new(Semaphore::new(MAX_HANDSHAKES_IN_FLIGHT));
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
                    let Ok(permit) = in_flight.clone().acquire_owned().await else {
                        return;
                    };
                    let (acceptor, tx) = (acceptor.clone(), tx.clone());
                    tokio::spawn(async move {
                        let handshake =
                            tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(socket))
                                .await;
                        drop(permit);
                        match handshake {
                            Ok(Ok(tls)) => {
                                let _ = tx.send(Ok(Conn::new(NormalisedAuthority::new(tls)))).await;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(target: "go_plugin", error = %e, "TLS handshake with the peer failed")
                            }
                            Err(_) => tracing::warn!(
                                target: "go_plugin",
                                "TLS handshake with the peer did not finish within {TLS_HANDSHAKE_TIMEOUT:?}; connection closed"
                            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{mtls_server_config, Identity};
    use tokio::io::AsyncReadExt;

    #[test]
    fn accept_backoff_doubles_from_5_ms_to_1_s_and_resets() {
        let mut backoff = AcceptBackoff::default();
        let pauses: Vec<u64> = (0..10).map(|_| backoff.next().as_millis() as u64).collect();
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_starts_its_tls_handshake_is_dropped_after_the_timeout() {
        let (own, host) = (Identity::generate().unwrap(), Identity::generate().unwrap());
        let tls = Arc::new(mtls_server_config(&own, vec![host.cert.clone()]).unwrap());
        let (raw_tx, raw_rx) = mpsc::channel(1);
        let _incoming = with_tls(raw_rx, Some(tls));
        let (server_side, mut peer) = tokio::io::duplex(1024);
        raw_tx.send(server_side).await.unwrap();
        let mut buf = [0u8; 16];
        // Nothing is closed before the timeout...
        let early = tokio::time::timeout(
            TLS_HANDSHAKE_TIMEOUT - Duration::from_secs(1),
            peer.read(&mut buf),
        )
        .await;
        assert!(early.is_err(), "closed before the timeout: {early:?}");
        // ...and the connection is gone after it.
        let late = tokio::time::timeout(Duration::from_secs(2), peer.read(&mut buf)).await;
        assert!(
            matches!(late, Ok(Ok(0))),
            "still open after the timeout: {late:?}"
        );
    }
}
