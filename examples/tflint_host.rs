//! A TFLint host in Rust, the part that asks a ruleset who it is: launches the ruleset plugin at
//! the given path as TFLint does (cookie `TFLINT_RULESET_PLUGIN`, protocol 11, gRPC) and prints
//! `name=`, `version=`, `sdk_version=` and `rules=` (comma-separated) lines.
//!
//! ```text
//! tflint_host ./tflint-ruleset-terraform
//! ```

use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin_tflint::proto::rule_set_client::RuleSetClient;
use go_plugin_tflint::proto::{get_name, get_rule_names, get_sdk_version, get_version};

async fn run(host: &Host) -> Result<(), Box<dyn std::error::Error>> {
    let mut ruleset: RuleSetClient<_> = host.client(go_plugin_tflint::PLUGIN_NAME).await?;
    let name = ruleset
        .get_name(get_name::Request {})
        .await?
        .into_inner()
        .name;
    let version = ruleset
        .get_version(get_version::Request {})
        .await?
        .into_inner()
        .version;
    let sdk = ruleset
        .get_sdk_version(get_sdk_version::Request {})
        .await?
        .into_inner()
        .version;
    let rules = ruleset
        .get_rule_names(get_rule_names::Request {})
        .await?
        .into_inner()
        .names;
    println!(
        "name={name}\nversion={version}\nsdk_version={sdk}\nrules={}",
        rules.join(",")
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    go_plugin::log::init_host().ok();
    let Some(path) = std::env::args().nth(1) else {
        println!("usage: tflint_host PATH-TO-RULESET-PLUGIN");
        std::process::exit(2);
    };
    let config = HostConfig::new(go_plugin_tflint::handshake())
        .plugins(ClientSet::new().grpc(go_plugin_tflint::PLUGIN_NAME))
        .command(std::process::Command::new(path));
    let host = Host::new(config);
    let result = run(&host).await;
    host.kill().await;
    if let Err(e) = result {
        println!("error: {e}");
        std::process::exit(1);
    }
}
