//! `plugin.GRPCBroker`: the stream over which the two processes announce extra connections.
//!
//! A go-plugin host calls `StartStream` right after connecting and keeps it open for the life of
//! the client; both directions carry `ConnInfo{service_id, network, address}` announcements (and,
//! in multiplexed mode, knocks). Ids are counted per side from 1.
//!
//! This file holds the plugin's end of the stream: it accepts the host's stream, keeps it open
//! until shutdown, and parks the host's announcements for the broker. [`GrpcBroker`] is the handle
//! a plugin's services receive; so far it hands out ids ([`GrpcBroker::next_id`]).
//! `accept_and_serve` and `dial` (and the multiplexed mode) are the subject of the broker issue.

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::plugin::grpc_broker_server::{GrpcBroker as GrpcBrokerService, GrpcBrokerServer};
use crate::proto::plugin::ConnInfo;

/// A side's broker: hands out connection ids (go-plugin's `GRPCBroker`).
#[derive(Clone, Debug, Default)]
pub struct GrpcBroker {
    next_id: Arc<AtomicU32>,
}

impl GrpcBroker {
    /// A broker whose first id is 1.
    pub fn new() -> Self {
        GrpcBroker::default()
    }

    /// The next unused id of this side (1, 2, 3, …), as go-plugin's `NextId`.
    pub fn next_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// The plugin's end of `StartStream`.
#[derive(Clone, Debug)]
pub struct BrokerStreamService {
    shutdown: CancellationToken,
}

impl BrokerStreamService {
    /// Keeps host streams open until `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        BrokerStreamService { shutdown }
    }

    /// The tonic service.
    pub fn into_service(self) -> GrpcBrokerServer<Self> {
        GrpcBrokerServer::new(self)
    }
}

type ConnInfoStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<ConnInfo, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcBrokerService for BrokerStreamService {
    type StartStreamStream = ConnInfoStream;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<ConnInfoStream>, Status> {
        let mut incoming = request.into_inner();
        // The sender is held by the task below: the response stream stays open until shutdown
        // or until the host closes its side.
        let (tx, rx) = mpsc::channel::<Result<ConnInfo, Status>>(1);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let _keep_open = tx;
            loop {
                tokio::select! {
                    message = incoming.next() => match message {
                        Some(Ok(info)) => tracing::trace!(
                            target: "go_plugin",
                            service_id = info.service_id,
                            network = %info.network,
                            address = %info.address,
                            "broker announcement from host"
                        ),
                        _ => break,
                    },
                    _ = shutdown.cancelled() => break,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one_and_are_shared_by_clones() {
        let broker = GrpcBroker::new();
        let clone = broker.clone();
        assert_eq!(broker.next_id(), 1);
        assert_eq!(clone.next_id(), 2);
        assert_eq!(broker.next_id(), 3);
    }
}
