//! A Rust counterpart of go-plugin's test helper plugin: serves `grpctest.Test` (go-plugin's test
//! suite service) under the plugin name `test` for app versions 1 and 2, with the cookie
//! `TEST_MAGIC_COOKIE=test`. The cross-tests drive it from real Go hosts.
//!
//! * `Double(n)` → `2n`; `Stream` echoes every input;
//! * `Bidirectional(id)` dials the host's PingPong through the broker, then serves its own;
//! * `PrintKV(key, value)` logs "message from plugin" with `key=value` at every level;
//! * `PrintStdio(stdout, stderr)` writes the bytes to the process's stdout and stderr;
//! * `Panic(message)` panics.
//!
//! Arguments: `--netrpc` serves the same plugin over net/rpc (`Plugin.Double`, `Plugin.PrintKV`,
//! `Plugin.PrintStdio`, and `Plugin.Bidirectional` for the MuxBroker ping-pong); `--tcp` listens on TCP; `--tls-dir DIR` serves explicit (non-automatic) TLS with
//! `DIR/cert.pem` and `DIR/key.pem`; `--test-mode` serves in test mode and prints the reattach
//! JSON on stdout instead of a handshake, until its stdin closes.

use std::io::Write;

use go_plugin::broker::GrpcBroker;
use go_plugin::handshake::HandshakeConfig;
use go_plugin::plugin::{serve, serve_test, ListenerKind, PluginSet, Reflected, ServeConfig};
use go_plugin_schemas::grpctest::ping_pong_client::PingPongClient;
use go_plugin_schemas::grpctest::ping_pong_server::{PingPong, PingPongServer};
use go_plugin_schemas::grpctest::print_kv_request::Value;
use go_plugin_schemas::grpctest::test_server::{Test, TestServer};
use go_plugin_schemas::grpctest::*;
use tokio::io::AsyncReadExt;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

struct TestService {
    broker: GrpcBroker,
}

/// Answers "pong" (go-plugin's test PingPong server), served through the broker.
struct PingPongService;

#[tonic::async_trait]
impl PingPong for PingPongService {
    async fn ping(&self, _: Request<PingRequest>) -> Result<Response<PongResponse>, Status> {
        Ok(Response::new(PongResponse { msg: "pong".into() }))
    }
}

type Outputs =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<TestResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Test for TestService {
    async fn double(
        &self,
        request: Request<TestRequest>,
    ) -> Result<Response<TestResponse>, Status> {
        let input = request.into_inner().input;
        Ok(Response::new(TestResponse { output: input * 2 }))
    }

    async fn print_kv(
        &self,
        request: Request<PrintKvRequest>,
    ) -> Result<Response<PrintKvResponse>, Status> {
        let request = request.into_inner();
        let key = request.key.as_str();
        match request.value {
            Some(Value::ValueInt(v)) => log_every_level(key, v),
            Some(Value::ValueString(v)) => log_every_level(key, v.as_str()),
            None => log_every_level(key, ""),
        }
        Ok(Response::new(PrintKvResponse {}))
    }

    /// go-plugin's broker test: dial the host's PingPong under the given id, ping it, then serve
    /// a PingPong of our own under a new id and return that id.
    async fn bidirectional(
        &self,
        request: Request<BidirectionalRequest>,
    ) -> Result<Response<BidirectionalResponse>, Status> {
        let status = |what: &str, e: go_plugin::Error| Status::internal(format!("{what}: {e}"));
        let channel = self
            .broker
            .dial(request.into_inner().id)
            .await
            .map_err(|e| status("server dial error", e))?;
        let pong = PingPongClient::new(channel)
            .ping(PingRequest {})
            .await?
            .into_inner();
        if pong.msg != "pong" {
            return Err(Status::internal("server Bad PingPong"));
        }
        let next_id = self.broker.next_id();
        let routes = tonic::service::Routes::new(PingPongServer::new(PingPongService));
        self.broker
            .accept_and_serve(next_id, routes)
            .await
            .map_err(|e| status("server accept error", e))?;
        Ok(Response::new(BidirectionalResponse { id: next_id }))
    }

    type StreamStream = Outputs;

    async fn stream(
        &self,
        request: Request<Streaming<TestRequest>>,
    ) -> Result<Response<Outputs>, Status> {
        let outputs = request
            .into_inner()
            .map(|r| r.map(|r| TestResponse { output: r.input }));
        Ok(Response::new(Box::pin(outputs)))
    }

    async fn print_stdio(
        &self,
        request: Request<PrintStdioRequest>,
    ) -> Result<Response<()>, Status> {
        let PrintStdioRequest { stdout, stderr } = request.into_inner();
        // Writes to stdout/stderr block while the host drains them: keep them off the async workers.
        let written = tokio::task::spawn_blocking(move || {
            std::io::stdout()
                .write_all(&stdout)
                .and_then(|_| std::io::stdout().flush())
                .and_then(|_| std::io::stderr().write_all(&stderr))
        })
        .await
        .map_err(|e| Status::internal(format!("writing stdio: {e}")))?;
        written.map_err(|e| Status::internal(format!("writing stdio: {e}")))?;
        Ok(Response::new(()))
    }

    async fn panic(&self, request: Request<PanicRequest>) -> Result<Response<()>, Status> {
        panic!("{}", request.into_inner().message);
    }
}

/// One "message from plugin" event per tracing level, with the key/value as a field.
fn log_every_level<V: tracing::Value + Copy>(key: &str, value: V) {
    macro_rules! at {
        ($($level:ident),*) => {$(
            tracing::$level!(key = key, value = value, "message from plugin");
        )*};
    }
    at!(trace, debug, info, warn, error);
}

/// `Plugin.PrintStdio`'s argument over net/rpc (fields matched by name, as gob does).
#[derive(gobwire::Gob, Default)]
struct PrintStdioArgs {
    #[gob(name = "Stdout")]
    stdout: Vec<u8>,
    #[gob(name = "Stderr")]
    stderr: Vec<u8>,
}

/// The same test plugin over net/rpc: `Plugin.Double`, `Plugin.PrintKV`, `Plugin.PrintStdio`.
fn netrpc_test_set() -> PluginSet {
    use go_plugin::netrpc::{Empty, RpcServer};
    use gobwire::Interface;
    use std::collections::HashMap;
    let test = |broker: &go_plugin::netrpc::MuxBroker| {
        let broker = broker.clone();
        Ok(RpcServer::new()
            .method(
                "Plugin.Double",
                |n: i64| async move { Ok::<_, String>(n * 2) },
            )
            .method("Plugin.Bidirectional", move |id: u32| {
                let broker = broker.clone();
                async move {
                    netrpc_ping_pong(&broker, id)
                        .await
                        .map_err(|e| e.to_string())
                }
            })
            .method(
                "Plugin.PrintKV",
                |args: HashMap<String, Option<Interface>>| async move {
                    let key = match args.get("key") {
                        Some(Some(key)) => key.downcast::<String>().map_err(|e| e.to_string())?,
                        _ => return Err("missing \"key\"".to_string()),
                    };
                    match args.get("value") {
                        Some(Some(value)) => match value.downcast::<i64>() {
                            Ok(n) => log_every_level(&key, n),
                            Err(_) => log_every_level(
                                &key,
                                value.downcast::<String>().unwrap_or_default().as_str(),
                            ),
                        },
                        _ => log_every_level(&key, ""),
                    }
                    Ok(Empty {})
                },
            )
            .method("Plugin.PrintStdio", |args: PrintStdioArgs| async move {
                tokio::task::spawn_blocking(move || {
                    std::io::stdout()
                        .write_all(&args.stdout)
                        .and_then(|_| std::io::stdout().flush())
                        .and_then(|_| std::io::stderr().write_all(&args.stderr))
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
                Ok(Empty {})
            }))
    };
    PluginSet::new().netrpc_plugin("test", test)
}

/// net/rpc's broker test: dial the host's `Plugin.Ping` under `id`, then serve one of our own
/// under a new id and return it.
async fn netrpc_ping_pong(
    broker: &go_plugin::netrpc::MuxBroker,
    id: u32,
) -> Result<u32, go_plugin::Error> {
    use go_plugin::netrpc::{RpcClient, RpcServer};
    let host = RpcClient::new(broker.dial(id).await?);
    let pong: String = host.call("Plugin.Ping", &true).await?;
    if pong != "pong" {
        return Err(go_plugin::Error::Rpc(format!(
            "server Bad PingPong: {pong:?}"
        )));
    }
    let next = broker.next_id();
    let ping = RpcServer::new().method("Plugin.Ping", |_: bool| async {
        Ok::<_, String>("pong".to_string())
    });
    broker.accept_and_serve(next, ping);
    Ok(next)
}

fn config() -> Result<ServeConfig, go_plugin::Error> {
    let test = |broker: &GrpcBroker, routes: &mut tonic::service::RoutesBuilder| {
        routes.add_service(TestServer::new(TestService {
            broker: broker.clone(),
        }));
        Ok(())
    };
    let args: Vec<String> = std::env::args().collect();
    let set = if args.iter().any(|a| a == "--netrpc") {
        netrpc_test_set()
    } else {
        PluginSet::new().plugin("test", Reflected::new(test, FILE_DESCRIPTOR_SET))
    };
    let mut config = ServeConfig::new(HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test"))
        .version(1, set.clone())
        .version(2, set);
    if args.iter().any(|a| a == "--tcp") {
        config = config.listener(ListenerKind::Tcp);
    }
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--tls-dir")
        .and_then(|i| args.get(i + 1))
    {
        // The same certificate serves the plugin and, on the host, its brokered servers: the
        // plugin pins it when dialing those.
        let dir = std::path::Path::new(dir);
        config = config.tls(go_plugin::tls::server_config_from_pem_files(
            &dir.join("cert.pem"),
            &dir.join("key.pem"),
        )?);
        let pem = std::fs::read_to_string(dir.join("cert.pem"))
            .map_err(|e| go_plugin::Error::io("reading cert.pem", e))?;
        let pinned = go_plugin::tls::parse_pem_certificates(&pem)?;
        config = config.broker_client_tls(go_plugin::tls::pinned_client_config(pinned)?);
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    if !std::env::args().any(|a| a == "--test-mode") {
        return serve(config()?).await;
    }
    let server = serve_test(config()?).await?;
    println!("{}", server.reattach.to_json());
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    server.stop().await
}
