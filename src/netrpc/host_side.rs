//! The host's end of a net/rpc plugin connection (PROTOCOL.md §5.2–§5.4): a yamux client session
//! on the (possibly TLS-wrapped) socket, whose first three streams the host opens in order —
//! control (net/rpc), the plugin's stdout, the plugin's stderr. Later streams belong to the
//! [`MuxBroker`]. Dispensing is an RPC that returns a broker id; the plugin's object is then
//! served on that brokered stream under the service name `Plugin`.

use std::sync::Arc;

use tokio::io::AsyncReadExt;

use super::{Empty, MuxBroker, RpcClient};
use crate::error::Error;
use crate::grpc::dial::dial;
use crate::handshake::Network;
use crate::host::config::Sink;
use crate::mux::{self, Role, StreamHandle};

/// A connected net/rpc plugin.
#[derive(Clone, Debug)]
pub struct NetRpcSession {
    control: RpcClient,
    broker: MuxBroker,
}

impl NetRpcSession {
    /// Connects and opens the control, stdout and stderr streams; the latter two are copied to
    /// the sinks.
    pub async fn connect(
        network: Network,
        address: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        stdout: Option<Sink>,
        stderr: Option<Sink>,
    ) -> Result<NetRpcSession, Error> {
        let raw = dial(network, address, tls).await.map_err(|e| {
            Error::PluginExited(format!(
                "error connecting to the plugin at {network}:{address}: {e}"
            ))
        })?;
        let (control, incoming) = mux::start(raw, Role::Client);
        let open = |what: &'static str| {
            let mut control = control.clone();
            async move {
                control
                    .open_stream()
                    .await
                    .map_err(|e| Error::PluginExited(format!("opening the {what} stream: {e:?}")))
            }
        };
        let control_stream = open("control").await?;
        let stdout_stream = open("stdout").await?;
        let stderr_stream = open("stderr").await?;
        copy_to_sink(stdout_stream, stdout);
        copy_to_sink(stderr_stream, stderr);
        Ok(NetRpcSession {
            control: RpcClient::new(mux::pumped(control_stream)),
            broker: MuxBroker::start(control, incoming),
        })
    }

    /// `Control.Ping`.
    pub async fn ping(&self) -> Result<(), Error> {
        self.control
            .call::<bool, Empty>("Control.Ping", &true)
            .await
            .map(|_| ())
    }

    /// `Control.Quit`: the plugin exits (often before its reply is written).
    pub async fn quit(&self) -> Result<(), Error> {
        self.control
            .call::<bool, Empty>("Control.Quit", &true)
            .await
            .map(|_| ())
    }

    /// `Dispenser.Dispense(name)`, then a net/rpc client on the brokered stream it names.
    pub async fn dispense(&self, name: &str) -> Result<RpcClient, Error> {
        let id: u32 = self
            .control
            .call("Dispenser.Dispense", &name.to_string())
            .await?;
        Ok(RpcClient::new(self.broker.dial(id).await?))
    }

    /// The host's broker.
    pub fn broker(&self) -> &MuxBroker {
        &self.broker
    }
}

/// Copies a plugin output stream to the sink (or drops it) until the stream ends.
fn copy_to_sink(mut stream: StreamHandle, sink: Option<Sink>) {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Some(sink) = &sink {
                        let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
                        let _ = sink.write_all(&buf[..n]).and_then(|_| sink.flush());
                    }
                }
            }
        }
    });
}
