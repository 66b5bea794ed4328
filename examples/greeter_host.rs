//! The host of go-plugin's `examples/basic`, in Rust: it launches `./plugin/greeter` (a net/rpc
//! plugin), dispenses `greeter` and prints what `Plugin.Greet` answers ("Hello!").

use go_plugin::handshake::{HandshakeConfig, Protocol};
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::netrpc::RpcClient;

/// The greeter as the host sees it: `Greet` is `Plugin.Greet` over net/rpc.
struct Greeter(RpcClient);

impl Greeter {
    async fn greet(&self) -> Result<String, go_plugin::Error> {
        // go-plugin's example passes a pointer to a nil interface{} as the argument.
        self.0
            .call("Plugin.Greet", &None::<gobwire::Interface>)
            .await
    }
}

#[tokio::main]
async fn main() {
    go_plugin::log::init_host().ok();
    let plugins = ClientSet::new().netrpc_plugin("greeter", |rpc, _| Greeter(rpc));
    let config = HostConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .plugins(plugins)
        .allowed_protocols(&[Protocol::NetRpc])
        .command(std::process::Command::new("./plugin/greeter"));
    let host = Host::new(config);
    let greeting = match host.dispense::<Greeter>("greeter").await {
        Ok(greeter) => greeter.greet().await,
        Err(e) => Err(e),
    };
    host.kill().await;
    match greeting {
        Ok(greeting) => println!("{greeting}"),
        Err(e) => {
            println!("error: {e}");
            std::process::exit(1);
        }
    }
}
