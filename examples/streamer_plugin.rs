//! The streamer plugin of go-plugin's `examples/streaming`, in Rust: `Configure(path, chunk_size)`,
//! then `Write` streams bytes into the file at `path` and `Read` streams the file back in chunks of
//! `chunk_size` bytes. Cookie `BASIC_PLUGIN=hello`, app version 1, plugin `streamer`.
//!
//! go-plugin's example host runs it as `./plugin/streamer`.

use std::sync::{Arc, Mutex};

use go_plugin::handshake::HandshakeConfig;
use go_plugin::plugin::{serve, PluginSet, Reflected, ServeConfig};
use go_plugin_schemas::streamer::streamer_service_server::{
    StreamerService, StreamerServiceServer,
};
use go_plugin_schemas::streamer::{configure, read, write, FILE_DESCRIPTOR_SET};
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

/// The file and chunk size chosen by `Configure`.
#[derive(Default, Clone)]
struct FileStreamer {
    target: Arc<Mutex<(String, usize)>>,
}

impl FileStreamer {
    fn target(&self) -> Result<(String, usize), Status> {
        let (path, chunk) = self.target.lock().unwrap().clone();
        if path.is_empty() {
            return Err(Status::failed_precondition(
                "call Configure with a path first",
            ));
        }
        Ok((path, chunk.max(1)))
    }
}

type ChunkStream =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<read::ResponseChunk, Status>> + Send>>;

#[tonic::async_trait]
impl StreamerService for FileStreamer {
    async fn configure(
        &self,
        request: Request<configure::Request>,
    ) -> Result<Response<configure::Response>, Status> {
        let configure::Request { path, chunk_size } = request.into_inner();
        tracing::debug!(path = %path, chunk_size, "FileStreamer: Configure");
        *self.target.lock().unwrap() = (path, usize::try_from(chunk_size).unwrap_or(1));
        Ok(Response::new(configure::Response {}))
    }

    type ReadStream = ChunkStream;

    async fn read(
        &self,
        _request: Request<read::Request>,
    ) -> Result<Response<ChunkStream>, Status> {
        let (path, chunk) = self.target()?;
        tracing::debug!(path = %path, "FileStreamer: Read");
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| Status::not_found(format!("reading {path}: {e}")))?;
        let chunks: Vec<_> = bytes
            .chunks(chunk)
            .map(|c| {
                Ok(read::ResponseChunk {
                    read_bytes: c.to_vec(),
                })
            })
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }

    async fn write(
        &self,
        request: Request<Streaming<write::RequestChunk>>,
    ) -> Result<Response<write::Response>, Status> {
        let (path, _) = self.target()?;
        tracing::debug!(path = %path, "FileStreamer: Write");
        let mut incoming = request.into_inner();
        let mut contents = Vec::new();
        while let Some(chunk) = incoming.next().await {
            contents.extend_from_slice(&chunk?.bytes_to_write);
        }
        tokio::fs::write(&path, &contents)
            .await
            .map_err(|e| Status::internal(format!("writing {path}: {e}")))?;
        tracing::debug!(path = %path, bytes_written = contents.len(), "FileStreamer: Write finished");
        Ok(Response::new(write::Response {}))
    }
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let streamer = FileStreamer::default();
    let plugin = move |_: &_, routes: &mut tonic::service::RoutesBuilder| {
        routes.add_service(StreamerServiceServer::new(streamer.clone()));
        Ok(())
    };
    let set = PluginSet::new().plugin("streamer", Reflected::new(plugin, FILE_DESCRIPTOR_SET));
    serve(ServeConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello")).plugins(set)).await
}
