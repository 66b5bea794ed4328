//! The host of go-plugin's `examples/bidirectional`, in Rust: it launches the plugin given by the
//! shell command in `COUNTER_PLUGIN` and runs `put KEY N` (the plugin adds N to the stored value
//! by calling back into this host's `AddHelper`, served through the broker) or `get KEY`.
//!
//! ```text
//! COUNTER_PLUGIN=./plugin-go-grpc counter_host put x 3
//! COUNTER_PLUGIN=./plugin-go-grpc counter_host get x
//! ```

use go_plugin::handshake::HandshakeConfig;
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin_schemas::counter::add_helper_server::{AddHelper, AddHelperServer};
use go_plugin_schemas::counter::counter_client::CounterClient;
use go_plugin_schemas::counter::{GetRequest, PutRequest, SumRequest, SumResponse};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// The host's side of the callback: adds two numbers.
struct Adder;

#[tonic::async_trait]
impl AddHelper for Adder {
    async fn sum(&self, request: Request<SumRequest>) -> Result<Response<SumResponse>, Status> {
        let SumRequest { a, b } = request.into_inner();
        Ok(Response::new(SumResponse { r: a + b }))
    }
}

async fn run(host: &Host, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut counter: CounterClient<Channel> = host.dispense("counter").await?;
    match args {
        [cmd, key] if cmd == "get" => {
            let value = counter
                .get(GetRequest { key: key.clone() })
                .await?
                .into_inner()
                .value;
            println!("{value}");
        }
        [cmd, key, value] if cmd == "put" => {
            let value: i64 = value.parse()?;
            let broker = host.connection().await?.broker().clone();
            let add_server = broker.next_id();
            broker
                .accept_and_serve(
                    add_server,
                    tonic::service::Routes::new(AddHelperServer::new(Adder)),
                )
                .await?;
            let request = PutRequest {
                add_server,
                key: key.clone(),
                value,
            };
            counter.put(request).await?;
        }
        _ => return Err("Please only use 'get' or 'put'".into()),
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    go_plugin::log::init_host().ok();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(std::env::var("COUNTER_PLUGIN").unwrap_or_default());
    let plugins = ClientSet::new().plugin("counter", |c| CounterClient::new(c.channel()));
    let config = HostConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .plugins(plugins)
        .command(command);
    let host = Host::new(config);
    let result = run(&host, &args).await;
    host.kill().await;
    if let Err(e) = result {
        println!("Error: {e}");
        std::process::exit(1);
    }
}
