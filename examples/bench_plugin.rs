//! The Rust plugin of `make bench`: serves `bench.Bench` (proto/bench/bench.proto) under the
//! plugin name `bench`, cookie `BENCH_PLUGIN=bench`, app version 1. Its Go twin is
//! `go-testdata/benchplugin`; both do the same work per call:
//!
//! - `Echo` returns the request;
//! - `Download{size, chunk}` streams `size` zero bytes in `chunk`-byte messages;
//! - `Upload` counts the bytes of a stream;
//! - `DialBack{id}` dials the host's broker id, makes one `Echo` over it and returns the
//!   nanoseconds that took.

use std::pin::Pin;
use std::time::Instant;

use go_plugin::broker::GrpcBroker;
use go_plugin::handshake::HandshakeConfig;
use go_plugin::plugin::{serve, PluginSet, ServeConfig};
use go_plugin_schemas::bench::bench_client::BenchClient;
use go_plugin_schemas::bench::bench_server::{Bench, BenchServer};
use go_plugin_schemas::bench::{BrokerId, Count, DownloadRequest, Payload};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// The largest chunk `Download` accepts (gRPC's default message limit is 4 MiB).
const MAX_CHUNK: i32 = 4 << 20;

struct BenchService {
    broker: GrpcBroker,
}

type PayloadStream = Pin<Box<dyn Stream<Item = Result<Payload, Status>> + Send>>;

#[tonic::async_trait]
impl Bench for BenchService {
    async fn echo(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type DownloadStream = PayloadStream;

    async fn download(
        &self,
        request: Request<DownloadRequest>,
    ) -> Result<Response<PayloadStream>, Status> {
        let DownloadRequest { size, chunk } = request.into_inner();
        if size < 0 || !(1..=MAX_CHUNK).contains(&chunk) {
            return Err(Status::invalid_argument(format!(
                "Download needs size >= 0 and 1 <= chunk <= {MAX_CHUNK}, got size {size}, chunk {chunk}"
            )));
        }
        let (size, chunk) = (size as u64, chunk as u64);
        let zeros = vec![0u8; chunk as usize];
        let count = size.div_ceil(chunk);
        let stream = tokio_stream::iter(0..count).map(move |i| {
            let len = chunk.min(size - i * chunk) as usize;
            Ok(Payload {
                value: zeros[..len].to_vec(),
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn upload(
        &self,
        request: Request<Streaming<Payload>>,
    ) -> Result<Response<Count>, Status> {
        let mut incoming = request.into_inner();
        let mut total = 0u64;
        while let Some(payload) = incoming.next().await {
            total += payload?.value.len() as u64;
        }
        Ok(Response::new(Count { value: total }))
    }

    async fn dial_back(&self, request: Request<BrokerId>) -> Result<Response<Count>, Status> {
        let id = request.into_inner().value;
        let start = Instant::now();
        let channel =
            self.broker.dial(id).await.map_err(|e| {
                Status::unavailable(format!("dialing the host's broker id {id}: {e}"))
            })?;
        BenchClient::new(channel)
            .echo(Payload {
                value: b"dial".to_vec(),
            })
            .await?;
        let elapsed = start.elapsed().as_nanos() as u64;
        Ok(Response::new(Count { value: elapsed }))
    }
}

/// A current-thread runtime unless `BENCH_PLUGIN_RT=multi`: on the 2-core machine of
/// bench/RESULTS.md, where host and plugin share the cores, a single-threaded plugin had lower
/// latency, more calls/s and faster streams than `#[tokio::main]`'s multi-thread runtime
/// (bench/ANALYSIS.md).
fn main() -> Result<(), go_plugin::Error> {
    let runtime = match std::env::var("BENCH_PLUGIN_RT").as_deref() {
        Ok("multi") => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
    .map_err(|e| go_plugin::Error::io("starting the tokio runtime", e))?;
    runtime.block_on(plugin())
}

async fn plugin() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let bench = |broker: &GrpcBroker, routes: &mut tonic::service::RoutesBuilder| {
        routes.add_service(BenchServer::new(BenchService {
            broker: broker.clone(),
        }));
        Ok(())
    };
    let set = PluginSet::new().plugin("bench", bench);
    serve(ServeConfig::new(HandshakeConfig::new(1, "BENCH_PLUGIN", "bench")).plugins(set)).await
}
