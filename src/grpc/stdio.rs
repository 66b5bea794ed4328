//! `plugin.GRPCStdio`: the plugin's stdout and stderr, streamed to the host.
//!
//! After the handshake a plugin's stdout and stderr are pipes (see
//! [`crate::plugin::stdio_capture`]); what is written to them travels to the host as `StdioData`
//! messages (`channel` STDOUT = 1 or STDERR = 2, `data` never empty, at most 1024 bytes, in
//! write order per channel) on the one `StreamStdio` call the host makes right after connecting.
//! The host writes them to its `SyncStdout`/`SyncStderr`.
//!
//! Nothing is dropped: chunks wait in a small bounded queue until a stream takes them, and when the
//! queue is full the writer blocks (as in go-plugin). One stream consumes at a time; a later call
//! (a reattached host) takes over when the earlier stream ends.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, Mutex};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::proto::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::plugin::stdio_data::Channel;
use crate::proto::plugin::StdioData;

/// Largest `data` of one message, as in go-plugin.
pub const CHUNK_SIZE: usize = 1024;

/// The chunks read from the plugin's redirected stdout and stderr.
#[derive(Debug)]
pub struct StdioSource {
    /// Chunks of stdout.
    pub stdout: mpsc::Receiver<Vec<u8>>,
    /// Chunks of stderr.
    pub stderr: mpsc::Receiver<Vec<u8>>,
}

/// The plugin side of `plugin.GRPCStdio`.
#[derive(Clone, Debug)]
pub struct StdioService {
    source: Arc<Mutex<StdioSource>>,
    shutdown: CancellationToken,
}

impl StdioService {
    /// Streams `source` to whichever host asks; ends open streams when `shutdown` is cancelled.
    pub fn new(source: StdioSource, shutdown: CancellationToken) -> Self {
        StdioService {
            source: Arc::new(Mutex::new(source)),
            shutdown,
        }
    }

    /// The tonic service.
    pub fn into_service(self) -> GrpcStdioServer<Self> {
        GrpcStdioServer::new(self)
    }
}

type StdioStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for StdioService {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(&self, _request: Request<()>) -> Result<Response<StdioStream>, Status> {
        let (tx, rx) = mpsc::channel(4);
        let source = self.source.clone();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = forward(source, &tx) => {}
                _ = shutdown.cancelled() => {}
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Moves chunks from the source to one stream until the stream goes away or both pipes close.
/// A chunk is taken from the source only once there is room to send it, so none is lost when the
/// host disconnects.
async fn forward(source: Arc<Mutex<StdioSource>>, tx: &mpsc::Sender<Result<StdioData, Status>>) {
    let mut source = source.lock().await;
    let StdioSource { stdout, stderr } = &mut *source;
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        let Ok(permit) = tx.reserve().await else {
            return;
        };
        let (channel, data) = tokio::select! {
            chunk = stdout.recv(), if out_open => match chunk {
                Some(data) => (Channel::Stdout, data),
                None => { out_open = false; continue }
            },
            chunk = stderr.recv(), if err_open => match chunk {
                Some(data) => (Channel::Stderr, data),
                None => { err_open = false; continue }
            },
            _ = tx.closed() => return,
        };
        permit.send(Ok(StdioData {
            channel: channel as i32,
            data,
        }));
    }
}
