//! The KV host of go-plugin's `examples/grpc`, in Rust: it launches the plugin given by the shell
//! command in `KV_PLUGIN` and runs `put KEY VALUE` or `get KEY`, over gRPC (`KV_PROTO=grpc`,
//! plugin `kv_grpc`) or net/rpc (`KV_PROTO=netrpc`, plugin `kv`).
//!
//! ```text
//! KV_PROTO=grpc KV_PLUGIN=./plugin-go-grpc kv_host put hello world
//! KV_PROTO=netrpc KV_PLUGIN=./plugin-go-netrpc kv_host get hello
//! ```
//!
//! `KV_AUTO_MTLS=1` turns AutoMTLS on. Errors print `error: ...` and exit 1. The plugin's logs go
//! to stderr through `tracing` (set `RUST_LOG` to choose how much).

use std::collections::HashMap;

use go_plugin::handshake::{HandshakeConfig, Protocol};
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::netrpc::RpcClient;
use go_plugin_schemas::kv::kv_client::KvClient;
use go_plugin_schemas::kv::{GetRequest, PutRequest};
use gobwire::{names, Interface};
use tonic::transport::Channel;

/// The KV store, whichever transport carries it (go-plugin's `shared.KV`).
enum Kv {
    Grpc(KvClient<Channel>),
    NetRpc(RpcClient),
}

impl Kv {
    async fn get(&mut self, key: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        Ok(match self {
            Kv::Grpc(kv) => {
                kv.get(GetRequest { key: key.into() })
                    .await?
                    .into_inner()
                    .value
            }
            Kv::NetRpc(rpc) => rpc.call("Plugin.Get", &key.to_string()).await?,
        })
    }

    async fn put(&mut self, key: &str, value: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
        match self {
            Kv::Grpc(kv) => {
                kv.put(PutRequest {
                    key: key.into(),
                    value: value.to_vec(),
                })
                .await?;
            }
            Kv::NetRpc(rpc) => {
                let args: HashMap<String, Option<Interface>> = HashMap::from([
                    ("key".to_string(), Some(Interface::string(key))),
                    (
                        "value".to_string(),
                        Some(Interface::new(names::BYTES, &value.to_vec())?),
                    ),
                ]);
                let _: Option<Interface> = rpc.call("Plugin.Put", &args).await?;
            }
        }
        Ok(())
    }
}

async fn run(host: &Host, netrpc: bool, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut kv: Kv = host.dispense(if netrpc { "kv" } else { "kv_grpc" }).await?;
    match args {
        [cmd, key] if cmd == "get" => println!("{}", String::from_utf8_lossy(&kv.get(key).await?)),
        [cmd, key, value] if cmd == "put" => kv.put(key, value.as_bytes()).await?,
        _ => {
            return Err(
                format!("please only use 'get KEY' or 'put KEY VALUE', given: {args:?}").into(),
            )
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    go_plugin::log::init_host().ok();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let netrpc = match std::env::var("KV_PROTO").as_deref() {
        Ok("grpc") => false,
        Ok("netrpc") => true,
        _ => {
            println!("must set KV_PROTO to netrpc or grpc");
            std::process::exit(1);
        }
    };
    let Ok(plugin) = std::env::var("KV_PLUGIN") else {
        println!("error: set KV_PLUGIN to the command that starts the plugin");
        std::process::exit(1);
    };
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(plugin);
    let plugins = ClientSet::new()
        .plugin("kv_grpc", |c| Kv::Grpc(KvClient::new(c.channel())))
        .netrpc_plugin("kv", |rpc, _| Kv::NetRpc(rpc));
    let config = HostConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .plugins(plugins)
        .allowed_protocols(&[Protocol::NetRpc, Protocol::Grpc])
        .command(command)
        .auto_mtls(std::env::var("KV_AUTO_MTLS").is_ok_and(|v| v == "1" || v == "true"));
    let host = Host::new(config);
    let result = run(&host, netrpc, &args).await;
    host.kill().await;
    if let Err(e) = result {
        println!("error: {e}");
        std::process::exit(1);
    }
}
