//! The KV host of go-plugin's `examples/grpc`, in Rust: it launches the plugin given by the shell
//! command in `KV_PLUGIN`, dispenses `kv_grpc` and runs `put KEY VALUE` or `get KEY`.
//!
//! ```text
//! KV_PROTO=grpc KV_PLUGIN=./plugin-go-grpc kv_host put hello world
//! KV_PROTO=grpc KV_PLUGIN=./plugin-go-grpc kv_host get hello
//! ```
//!
//! `KV_AUTO_MTLS=1` turns AutoMTLS on. Errors print `error: ...` and exit 1. The plugin's logs go
//! to stderr through `tracing` (set `RUST_LOG` to choose how much).

use go_plugin::handshake::HandshakeConfig;
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::proto::kv::kv_client::KvClient;
use go_plugin::proto::kv::{GetRequest, PutRequest};
use tonic::transport::Channel;

async fn run(host: &Host, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var("KV_PROTO").as_deref() != Ok("grpc") {
        return Err("set KV_PROTO=grpc (this host speaks gRPC)".into());
    }
    let mut kv: KvClient<Channel> = host.dispense("kv_grpc").await?;
    match args {
        [cmd, key] if cmd == "get" => {
            let value = kv
                .get(GetRequest { key: key.clone() })
                .await?
                .into_inner()
                .value;
            println!("{}", String::from_utf8_lossy(&value));
        }
        [cmd, key, value] if cmd == "put" => {
            let request = PutRequest {
                key: key.clone(),
                value: value.clone().into_bytes(),
            };
            kv.put(request).await?;
        }
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
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Ok(plugin) = std::env::var("KV_PLUGIN") else {
        println!("error: set KV_PLUGIN to the command that starts the plugin");
        std::process::exit(1);
    };
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(plugin);
    let plugins = ClientSet::new().plugin("kv_grpc", |c| KvClient::new(c.channel()));
    let config = HostConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .plugins(plugins)
        .command(command)
        .auto_mtls(std::env::var("KV_AUTO_MTLS").is_ok_and(|v| v == "1" || v == "true"));
    let host = Host::new(config);
    let result = run(&host, &args).await;
    host.kill().await;
    if let Err(e) = result {
        println!("error: {e}");
        std::process::exit(1);
    }
}
