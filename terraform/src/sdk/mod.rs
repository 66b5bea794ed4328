//! A provider SDK: Terraform providers written as typed resources, data sources, ephemeral
//! resources and functions, served over protocol 6 and protocol 5 from the same code.
//!
//! ```text
//! Provider::new("rustfile", schema, configure)       the provider block → your client C
//!   .resource("file", FileResource)                  impl Resource<C>   (CRUD, import, upgrade)
//!   .data_source("file", FileData)                   impl DataSource<C>
//!   .ephemeral("token", Token)                       impl EphemeralResource<C>
//!   .function(Function::new("sha256", ...))          typed arguments and result
//!   .list("file", FileList)                          impl ListResource<C> (`terraform query`)
//!   .action("touch", Touch)                          impl Action<C>       (`-invoke=action...`)
//! serve(provider)                                    tfplugin6 + tfplugin5, `-debug` mode
//! ```
//!
//! Each part has a `serde` model (`Option<T>` for null, [`MaybeUnknown<T>`] for values only apply
//! will know) whose [`Schema`](struct@Schema) [`#[derive(Schema)]`](derive@Schema) writes from
//! its fields, types and doc comments ([`HasSchema`]: required / optional / computed, sensitive,
//! write-only, deprecated, plan modifiers, [`Validator`]s; nested models are nested attributes);
//! the [`Attr`] builder says the same by hand. The parts' methods are plain `async fn`s. The SDK
//! plans (defaults, unknown computed values, use-state-for-unknown, requires-replace), validates,
//! keeps write-only values out of plan and state, imports by identity and upgrades old states
//! through serde unless told otherwise, and turns every error into a diagnostic on its attribute
//! ([`OrError`] for any error type).

mod action;
mod bridge;
mod errors;
mod function;
mod listing;
mod model;
mod plan;
mod provider;
mod reads;
mod resource;
mod schema;
mod server;
mod typed;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use go_plugin::plugin::{serve as serve_plugin, serve_test, PluginSet, ServeConfig};

pub use action::{Action, Progress};
pub use errors::{error, Diagnostics, OrError};
pub use function::{Function, FunctionError};
pub use go_plugin_terraform_derive::Schema;
pub use listing::{ListResource, Listed};
pub use model::{AttrType, HasSchema};
pub use provider::Provider;
pub use reads::{DataSource, EphemeralResource};
pub use resource::Resource;
pub use schema::{Attr, Modifier, NestedBlock, Schema};
pub use typed::{from_value, to_value, MaybeUnknown};
pub use validate::Validator;

use server::Server;

/// Serves `provider` to Terraform over protocols 6 and 5 (Terraform picks 6). With `-debug` on
/// the command line it serves in debug mode instead: it prints the `TF_REATTACH_PROVIDERS` value
/// for `address` (e.g. `registry.terraform.io/you/name`) and serves until Ctrl-C.
pub async fn serve<C: Send + Sync + 'static>(
    address: &str,
    provider: Provider<C>,
) -> Result<(), go_plugin::Error> {
    serve_protocols(address, provider, &[5, 6]).await
}

/// [`serve`], offering only the protocol versions in `protocols` (5, 6).
pub async fn serve_protocols<C: Send + Sync + 'static>(
    address: &str,
    provider: Provider<C>,
    protocols: &[u32],
) -> Result<(), go_plugin::Error> {
    let config = serve_config(provider, protocols);
    if std::env::args()
        .skip(1)
        .any(|a| a == "-debug" || a == "--debug")
    {
        let server = serve_test(config).await?;
        let providers: BTreeMap<&str, _> = [(address, server.reattach.to_json())].into();
        let line = serde_json::to_string(&providers).expect("JSON of a map");
        println!(
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment \
             variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{line}'\n"
        );
        let _ = tokio::signal::ctrl_c().await;
        return server.stop().await;
    }
    serve_plugin(config).await
}

fn serve_config<C: Send + Sync + 'static>(provider: Provider<C>, protocols: &[u32]) -> ServeConfig {
    let provider = Arc::new(provider);
    let mut config = ServeConfig::new(crate::handshake());
    if protocols.contains(&6) {
        let server = Server(provider.clone());
        let set = PluginSet::new()
            .grpc(crate::PLUGIN_NAME, move |_| {
                crate::proto::tfplugin6::provider_server::ProviderServer::new(server.clone())
            })
            .reflection(crate::proto::tfplugin6::FILE_DESCRIPTOR_SET);
        config = config.version(6, set);
    }
    if protocols.contains(&5) {
        let server = Server(provider);
        let set = PluginSet::new()
            .grpc(crate::PLUGIN_NAME, move |_| {
                crate::proto::tfplugin5::provider_server::ProviderServer::new(server.clone())
            })
            .reflection(crate::proto::tfplugin5::FILE_DESCRIPTOR_SET);
        config = config.version(5, set);
    }
    config
}
