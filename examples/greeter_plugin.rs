//! The greeter plugin of go-plugin's `examples/basic`, in Rust, over net/rpc: `Plugin.Greet`
//! answers "Hello!" and logs through tracing. Cookie `BASIC_PLUGIN=hello`, app version 1, plugin
//! `greeter`. go-plugin's example host runs it as `./plugin/greeter`.

use go_plugin::handshake::HandshakeConfig;
use go_plugin::netrpc::RpcServer;
use go_plugin::plugin::{serve, PluginSet, ServeConfig};

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let greeter = |_: &_| {
        // The Go host passes a pointer to a nil interface{} as the argument.
        Ok(
            RpcServer::new().method("Plugin.Greet", |_: Option<gobwire::Interface>| async {
                tracing::debug!(foo = "bar", "message from GreeterHello.Greet");
                Ok::<_, String>("Hello!".to_string())
            }),
        )
    };
    let set = PluginSet::new().netrpc_plugin("greeter", greeter);
    serve(ServeConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello")).plugins(set)).await
}
