//! The KV plugin of go-plugin's `examples/grpc`, in Rust.
//!
//! `Put(key, value)` writes the file `kv_<key>` in the working directory with the value followed by
//! "\n\nWritten from plugin-rust"; `Get(key)` returns that file's bytes. Served as app version 1
//! (plugin `kv_grpc` over gRPC, or plugin `kv` over net/rpc when `KV_PROTO=netrpc`, for
//! `examples/grpc`), version 2 (`kv` over net/rpc) and version 3 (`kv` over gRPC, for
//! `examples/negotiated`), with the cookie `BASIC_PLUGIN=hello`.
//!
//! Try it with go-plugin's example host:
//! `KV_PROTO=grpc KV_PLUGIN=./target/debug/examples/kv_plugin kv-host put hello world`.

use std::collections::HashMap;

use go_plugin::handshake::HandshakeConfig;
use go_plugin::netrpc::RpcServer;
use go_plugin::plugin::{serve, PluginSet, Reflected, ServeConfig};
use go_plugin_schemas::kv::kv_server::{Kv, KvServer};
use go_plugin_schemas::kv::{Empty, GetRequest, GetResponse, PutRequest, FILE_DESCRIPTOR_SET};
use gobwire::Interface;
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

/// The same store over net/rpc, as go-plugin's `plugin-go-netrpc`: `Plugin.Put` takes
/// `map[string]interface{}{"key": string, "value": []byte}`, `Plugin.Get` a key string.
fn netrpc_kv_set() -> PluginSet {
    let kv = |_: &_| {
        Ok(RpcServer::new()
            .method(
                "Plugin.Put",
                |args: HashMap<String, Option<Interface>>| async move {
                    let key: String = field(&args, "key")?;
                    let value: Vec<u8> = field(&args, "value")?;
                    FileKv
                        .put(Request::new(PutRequest { key, value }))
                        .await
                        .map_err(|s| s.message().to_string())?;
                    Ok(None::<Interface>)
                },
            )
            .method("Plugin.Get", |key: String| async move {
                let response = FileKv.get(Request::new(GetRequest { key })).await;
                response
                    .map(|r| r.into_inner().value)
                    .map_err(|s| s.message().to_string())
            }))
    };
    PluginSet::new().netrpc_plugin("kv", kv)
}

/// A field of go-plugin's `map[string]interface{}` arguments.
fn field<T: gobwire::Decode + Default>(
    args: &HashMap<String, Option<Interface>>,
    name: &str,
) -> Result<T, String> {
    let value = args
        .get(name)
        .and_then(Option::as_ref)
        .ok_or_else(|| format!("missing {name:?} in the arguments"))?;
    value
        .downcast()
        .map_err(|e| format!("argument {name:?}: {e}"))
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
    // go-plugin's example hosts pass KV_PROTO on to their plugin: version 1 is served with the
    // transport it names (the Go example ships one binary per transport).
    let v1 = match std::env::var("KV_PROTO").as_deref() {
        Ok("netrpc") => netrpc_kv_set(),
        _ => kv_set("kv_grpc"),
    };
    let config = ServeConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .version(1, v1)
        .version(2, netrpc_kv_set())
        .version(3, kv_set("kv"));
    serve(config).await
}
