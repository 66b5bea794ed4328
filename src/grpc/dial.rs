//! Opening gRPC connections: the host's to the address a plugin announced, and either side's to a
//! brokered server (over a socket or a yamux stream).
//!
//! go-plugin dials the target `unused` with a custom dialer, so HTTP/2's `:authority` is `unused`;
//! servers ignore it. TLS, when AutoMTLS or a user configuration is in force, runs inside the
//! dialer with server name `localhost` and ALPN `h2`; the channel itself then speaks plain HTTP/2
//! over that stream. No HTTP/2 keep-alive pings are sent (grpc-go servers answer frequent pings
//! with GOAWAY).

use std::future::Future;
use std::io;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::{TcpStream, UnixStream};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::conn::{Conn, Io};
use crate::error::Error;
use crate::handshake::Network;

/// The dial target go-plugin uses; it becomes the HTTP/2 authority.
const TARGET: &str = "http://unused";

/// The largest HTTP/2 DATA frame this side accepts (`SETTINGS_MAX_FRAME_SIZE`), on channels and on
/// the plugin's and the broker's servers. HTTP/2's default, 16 KiB, splits a 64 KiB message into
/// five frames; with 256 KiB a Rust peer sends it in one, and a Rust host downloads from a Rust
/// plugin about a third faster (bench/ANALYSIS.md). grpc-go sends 16 KiB frames whatever it is
/// offered, so Go peers are unaffected; a frame of 256 KiB holds up other streams of the connection
/// for well under a millisecond.
pub const MAX_FRAME_SIZE: u32 = 256 << 10;

/// Connects a gRPC channel to `address` (eagerly, so that a plugin that announced an address
/// nobody listens on fails here with a clear error).
pub async fn connect(
    network: Network,
    address: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Channel, Error> {
    let address = address.to_string();
    let describe = format!("the plugin at {network}:{address}");
    channel_over(describe, move || {
        let (address, tls) = (address.clone(), tls.clone());
        async move { dial(network, &address, tls).await }
    })
    .await
}

/// Connects a gRPC channel whose connections come from `open` (a socket, a yamux stream, …);
/// `describe` names the peer in errors.
pub async fn channel_over<F, Fut>(describe: String, open: F) -> Result<Channel, Error>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = io::Result<Conn>> + Send + 'static,
{
    let open = Arc::new(open);
    let connector = tower::service_fn(move |_: Uri| {
        let open = open.clone();
        async move { open().await.map(TokioIo::new) }
    });
    Endpoint::from_static(TARGET)
        .max_frame_size(MAX_FRAME_SIZE)
        .connect_with_connector(connector)
        .await
        .map_err(|e| {
            Error::PluginExited(format!(
                "error connecting to {describe}: {}",
                source_chain(&e)
            ))
        })
}

/// One raw connection, TLS-wrapped when configured.
pub async fn dial(
    network: Network,
    address: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> io::Result<Conn> {
    match network {
        Network::Unix => with_tls(UnixStream::connect(address).await?, tls).await,
        Network::Tcp => {
            let stream = TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            with_tls(stream, tls).await
        }
    }
}

/// Wraps a byte stream in TLS as a client (server name `localhost`) when configured.
pub async fn with_tls(io: impl Io, tls: Option<Arc<rustls::ClientConfig>>) -> io::Result<Conn> {
    match tls {
        None => Ok(Conn::new(io)),
        Some(config) => {
            let name = ServerName::try_from("localhost").expect("localhost is a valid server name");
            Ok(Conn::new(
                tokio_rustls::TlsConnector::from(config)
                    .connect(name, io)
                    .await?,
            ))
        }
    }
}

/// An error with its causes, `: `-separated (tonic's transport errors hide the useful part).
pub fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
