//! The counter plugin of go-plugin's `examples/bidirectional`, in Rust: `Put(key, value,
//! add_server)` dials the host's `AddHelper` through the broker (id `add_server`), asks it for
//! `current + value`, and stores the sum in the file `kv_<key>` as JSON `{"Value":N}`; `Get(key)`
//! returns the stored number. Cookie `BASIC_PLUGIN=hello`, app version 1, plugin `counter`.

use go_plugin::broker::GrpcBroker;
use go_plugin::handshake::HandshakeConfig;
use go_plugin::plugin::{serve, PluginSet, Reflected, ServeConfig};
use go_plugin_schemas::counter::add_helper_client::AddHelperClient;
use go_plugin_schemas::counter::counter_server::{Counter, CounterServer};
use go_plugin_schemas::counter::{
    Empty, GetRequest, GetResponse, PutRequest, SumRequest, FILE_DESCRIPTOR_SET,
};
use tonic::{Request, Response, Status};

struct FileCounter {
    broker: GrpcBroker,
}

fn path(key: &str) -> String {
    format!("kv_{key}")
}

async fn read(key: &str) -> Result<i64, Status> {
    let raw = tokio::fs::read(path(key))
        .await
        .map_err(|e| Status::not_found(format!("reading {}: {e}", path(key))))?;
    let data: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|e| Status::internal(format!("{} is not JSON: {e}", path(key))))?;
    data["Value"]
        .as_i64()
        .ok_or_else(|| Status::internal(format!("{} has no number \"Value\"", path(key))))
}

#[tonic::async_trait]
impl Counter for FileCounter {
    async fn put(&self, request: Request<PutRequest>) -> Result<Response<Empty>, Status> {
        let PutRequest {
            add_server,
            key,
            value,
        } = request.into_inner();
        let channel = self
            .broker
            .dial(add_server)
            .await
            .map_err(|e| Status::unavailable(format!("dialing the host's AddHelper: {e}")))?;
        let current = read(&key).await.unwrap_or(0);
        let sum = AddHelperClient::new(channel)
            .sum(SumRequest {
                a: current,
                b: value,
            })
            .await?
            .into_inner()
            .r;
        tracing::info!(key = %key, current, value, sum, "put");
        let json = serde_json::json!({ "Value": sum }).to_string();
        tokio::fs::write(path(&key), json)
            .await
            .map_err(|e| Status::internal(format!("writing {}: {e}", path(&key))))?;
        Ok(Response::new(Empty {}))
    }

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<GetResponse>, Status> {
        let key = request.into_inner().key;
        Ok(Response::new(GetResponse {
            value: read(&key).await?,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let counter = |broker: &GrpcBroker, routes: &mut tonic::service::RoutesBuilder| {
        routes.add_service(CounterServer::new(FileCounter {
            broker: broker.clone(),
        }));
        Ok(())
    };
    let set = PluginSet::new().plugin("counter", Reflected::new(counter, FILE_DESCRIPTOR_SET));
    serve(ServeConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello")).plugins(set)).await
}
