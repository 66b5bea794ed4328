//! The host's ends of go-plugin's internal services: the broker and stdio streams it opens right
//! after connecting, `Shutdown` when it kills the plugin, and `Ping` (PROTOCOL.md §4.3–§4.5).

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::config::Sink;
use crate::error::Error;
use crate::grpc::broker::GrpcBroker;
use crate::proto::plugin::grpc_broker_client::GrpcBrokerClient;
use crate::proto::plugin::grpc_controller_client::GrpcControllerClient;
use crate::proto::plugin::grpc_stdio_client::GrpcStdioClient;
use crate::proto::plugin::stdio_data::Channel as StdioChannel;
use crate::proto::plugin::{ConnInfo, Empty};

/// How long `kill` waits for the Shutdown reply (go-plugin waits forever; a wedged plugin must not
/// wedge the host).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens `GRPCBroker.StartStream` in the background: `announcements` (the host broker's) go to
/// the plugin, the plugin's go to `broker`. A plugin without a broker is tolerated.
///
/// Nothing here waits for the plugin: grpc-go sends a stream's response headers only with its
/// first message, so awaiting them would block until the plugin has something to announce.
pub fn start_broker_stream(
    channel: Channel,
    announcements: mpsc::UnboundedReceiver<ConnInfo>,
    broker: GrpcBroker,
) {
    tokio::spawn(async move {
        let outgoing = UnboundedReceiverStream::new(announcements);
        let mut incoming = match GrpcBrokerClient::new(channel).start_stream(outgoing).await {
            Ok(response) => response.into_inner(),
            Err(status) if ended_by_shutdown(&status) => return,
            Err(status) => {
                tracing::debug!(target: "go_plugin", error = %status, "broker stream not available");
                return;
            }
        };
        while let Some(Ok(info)) = incoming.next().await {
            broker.receive(info);
        }
    });
}

/// Opens `GRPCStdio.StreamStdio` in the background and copies what arrives to the sinks until the
/// stream ends. A plugin without the service (go-plugin before v1.1, minimal plugins) is tolerated.
pub fn start_stdio_stream(channel: Channel, stdout: Option<Sink>, stderr: Option<Sink>) {
    tokio::spawn(async move {
        let mut stream = match GrpcStdioClient::new(channel).stream_stdio(()).await {
            Ok(response) => response.into_inner(),
            Err(status) if matches!(status.code(), Code::Unimplemented | Code::Unavailable) => {
                tracing::warn!(target: "go_plugin", "stdio service not available, stdout/stderr syncing unavailable");
                return;
            }
            // The plugin shut down (its server closes the connection) before it had output.
            Err(status) if ended_by_shutdown(&status) => return,
            Err(status) => {
                tracing::debug!(target: "go_plugin", error = %status, "stdio stream ended before it opened");
                return;
            }
        };
        loop {
            match stream.message().await {
                Ok(Some(data)) => {
                    let sink = match StdioChannel::try_from(data.channel) {
                        Ok(StdioChannel::Stdout) => &stdout,
                        Ok(StdioChannel::Stderr) => &stderr,
                        _ => {
                            tracing::warn!(target: "go_plugin", channel = data.channel, "unknown channel, dropping");
                            continue;
                        }
                    };
                    if let Some(sink) = sink {
                        let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
                        let _ = sink.write_all(&data.data).and_then(|_| sink.flush());
                    }
                }
                Ok(None) => break,
                Err(status) => {
                    if !matches!(
                        status.code(),
                        Code::Unavailable | Code::Cancelled | Code::Unimplemented | Code::Unknown
                    ) {
                        tracing::error!(target: "go_plugin", error = %status, "error receiving data");
                    }
                    break;
                }
            }
        }
        tracing::debug!(target: "go_plugin", "received EOF, stopping recv loop");
    });
}

/// Asks the plugin to shut down; the answer does not matter (the plugin may close the connection
/// before replying).
pub async fn shutdown(channel: Channel) {
    let mut controller = GrpcControllerClient::new(channel);
    match tokio::time::timeout(SHUTDOWN_TIMEOUT, controller.shutdown(Empty {})).await {
        // A Go plugin exits inside the call, before its reply: the usual answer.
        Ok(Err(status)) if ended_by_shutdown(&status) => {}
        Ok(Err(status)) => {
            tracing::debug!(target: "go_plugin", error = %status, "shutdown call ended")
        }
        _ => {}
    }
}

/// How a call fails when the plugin's process or server goes away under it (a broken pipe, a
/// reset, a GOAWAY): the normal end of a plugin that is being shut down, not worth a log line.
fn ended_by_shutdown(status: &Status) -> bool {
    use std::error::Error as _;
    match status.code() {
        Code::Cancelled => true,
        Code::Unknown | Code::Unavailable => {
            let mut source = status.source();
            while let Some(error) = source {
                if error.is::<tonic::transport::Error>() || error.is::<std::io::Error>() {
                    return true;
                }
                source = error.source();
            }
            false
        }
        _ => false,
    }
}

/// Makes one call (the health of `plugin`) on a new connection, so that a connection that cannot
/// carry calls fails at connect, saying what probably went wrong, instead of at the first call of
/// the user's client with a bare HTTP/2 error. Any answer of the plugin's, even an error, passes;
/// only a failure of the connection itself does not. `tls` tells whether the host spoke TLS.
pub async fn check_connection(channel: Channel, describe: &str, tls: bool) -> Result<(), Error> {
    let Err(status) = ping(channel).await.map_err(|e| match e {
        Error::Status(status) => status,
        other => tonic::Status::unknown(other.to_string()),
    }) else {
        return Ok(());
    };
    if !matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Internal | Code::Cancelled
    ) {
        return Ok(());
    }
    let hint = if tls {
        "if the plugin does not speak TLS, turn TLS/AutoMTLS off for it"
    } else {
        "if the plugin expects TLS, configure TLS or AutoMTLS on the host"
    };
    Err(Error::PluginExited(format!(
        "error connecting to the plugin at {describe}: the first call failed: {}; {hint}",
        crate::grpc::dial::source_chain(&status)
    )))
}

/// go-plugin's Ping: the health of service `plugin`.
pub async fn ping(channel: Channel) -> Result<(), Error> {
    let request = tonic_health::pb::HealthCheckRequest {
        service: "plugin".into(),
    };
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(request)
        .await?;
    Ok(())
}
