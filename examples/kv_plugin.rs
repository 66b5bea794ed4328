//! The KV plugin of go-plugin's `examples/grpc`, in Rust.
//!
//! `Put(key, value)` writes the file `kv_<key>` in the working directory with the value followed by
//! "\n\nWritten from plugin-rust"; `Get(key)` returns that file's bytes. Served over gRPC as app
//! version 1 (plugin `kv_grpc`, for `examples/grpc`) and version 3 (plugin `kv`, for
//! `examples/negotiated`), with the cookie `BASIC_PLUGIN=hello`.
//!
//! Try it with go-plugin's example host:
//! `KV_PROTO=grpc KV_PLUGIN=./target/debug/examples/kv_plugin kv-host put hello world`.

use go_plugin::handshake::HandshakeConfig;
use go_plugin::plugin::{serve, PluginSet, Reflected, ServeConfig};
use go_plugin::proto::kv::kv_server::{Kv, KvServer};
use go_plugin::proto::kv::{Empty, GetRequest, GetResponse, PutRequest, FILE_DESCRIPTOR_SET};
use tonic::{Request, Response, Status};

/// Keys are files `kv_<key>` in the working directory.
struct FileKv;

fn path(key: &str) -> String {
    format!("kv_{key}")
}

#[tonic::async_trait]
impl Kv for FileKv {
    async fn get(&self, request: Request<GetRequest>) -> Result<Response<GetResponse>, Status> {
        let key = request.into_inner().key;
        tracing::info!(key = %key, "get");
        let value = tokio::fs::read(path(&key))
            .await
            .map_err(|e| Status::not_found(format!("reading {}: {e}", path(&key))))?;
        Ok(Response::new(GetResponse { value }))
    }

    async fn put(&self, request: Request<PutRequest>) -> Result<Response<Empty>, Status> {
        let PutRequest { key, value } = request.into_inner();
        tracing::info!(key = %key, bytes = value.len(), "put");
        let mut contents = value;
        contents.extend_from_slice(b"\n\nWritten from plugin-rust");
        tokio::fs::write(path(&key), contents)
            .await
            .map_err(|e| Status::internal(format!("writing {}: {e}", path(&key))))?;
        Ok(Response::new(Empty {}))
    }
}

fn kv_set(name: &str) -> PluginSet {
    let kv = |_: &_, routes: &mut tonic::service::RoutesBuilder| {
        routes.add_service(KvServer::new(FileKv));
        Ok(())
    };
    PluginSet::new().plugin(name, Reflected::new(kv, FILE_DESCRIPTOR_SET))
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let config = ServeConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .version(1, kv_set("kv_grpc"))
        .version(3, kv_set("kv"));
    serve(config).await
}
