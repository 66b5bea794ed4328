//! Opening the host's gRPC connection to the address a plugin announced.
//!
//! go-plugin dials the target `unused` with a custom dialer, so HTTP/2's `:authority` is `unused`;
//! servers ignore it. TLS, when AutoMTLS or a user configuration is in force, runs inside the
//! dialer with server name `localhost` and ALPN `h2`; the channel itself then speaks plain HTTP/2
//! over that stream. No HTTP/2 keep-alive pings are sent (grpc-go servers answer frequent pings
//! with GOAWAY).

use std::io;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::{TcpStream, UnixStream};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::conn::Conn;
use crate::error::Error;
use crate::handshake::Network;

/// The dial target go-plugin uses; it becomes the HTTP/2 authority.
const TARGET: &str = "http://unused";

/// Connects a gRPC channel to `address` (eagerly, so that a plugin that announced an address
/// nobody listens on fails here with a clear error).
pub async fn connect(
    network: Network,
    address: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Channel, Error> {
    let address = address.to_string();
    let describe = format!("{network}:{address}");
    let connector = tower::service_fn(move |_: Uri| {
        let address = address.clone();
        let tls = tls.clone();
        async move { dial(network, &address, tls).await.map(TokioIo::new) }
    });
    Endpoint::from_static(TARGET)
        .connect_with_connector(connector)
        .await
        .map_err(|e| {
            Error::PluginExited(format!(
                "error connecting to the plugin at {describe}: {}",
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
    let socket = match network {
        Network::Unix => Conn::new(UnixStream::connect(address).await?),
        Network::Tcp => {
            let stream = TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            Conn::new(stream)
        }
    };
    match tls {
        None => Ok(socket),
        Some(config) => {
            let name = ServerName::try_from("localhost").expect("localhost is a valid server name");
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, socket)
                .await?;
            Ok(Conn::new(stream))
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
