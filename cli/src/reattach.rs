//! `goplugin serve-reattach`: start a plugin once and let other hosts attach to it.
//!
//! go-plugin's `ReattachConfig` (`{Protocol, ProtocolVersion, Addr, Pid, Test}`) is all a host
//! needs to use a running plugin; Terraform reads it per provider from `TF_REATTACH_PROVIDERS`.
//! The plugin is started without AutoMTLS (an attaching host has no way to learn the
//! certificates) and the config is printed with `Test: true`, so that attaching hosts leave the
//! plugin running when they finish. It stops on Ctrl-C or SIGTERM (or when it exits by itself).
//!
//! ```text
//! $ goplugin serve-reattach ./terraform-provider-time
//! goplugin inspect --reattach '{"Protocol":"grpc","ProtocolVersion":5,…}'
//! export TF_REATTACH_PROVIDERS='{"registry.terraform.io/hashicorp/time":{…}}'
//! ```

use std::path::Path;

use crate::args::ServeArgs;
use crate::launch::Session;
use crate::render::{self, paint, shell_quote, Style};

/// The provider address Terraform would use for `terraform-provider-<name>[_v1.2.3]`.
pub fn provider_address(binary: &Path) -> Option<String> {
    let file = binary.file_name()?.to_str()?;
    let name = file.strip_prefix("terraform-provider-")?;
    let name = name.split('_').next()?;
    (!name.is_empty()).then(|| format!("registry.terraform.io/hashicorp/{name}"))
}

/// Prints the reattach lines and waits for Ctrl-C or the plugin's exit.
pub async fn run(session: &Session, args: &ServeArgs) -> Result<(), String> {
    let host = &session.host;
    let mut config = host
        .reattach_config()
        .ok_or("the plugin started but gave no address to reattach to")?;
    config.protocol_version = host.negotiated_version();
    config.test = true;
    let object = config.to_json().to_string();
    let name = session.name();
    let terraform = args
        .provider_address
        .clone()
        .or_else(|| provider_address(&args.binary));

    let comment = |s: &str| println!("{}", paint(Style::Dim, &format!("# {s}")));
    comment(&format!(
        "{name} is running (pid {}, {} on {} {}, app protocol {}); Ctrl-C stops it.",
        config.pid, config.protocol, config.network, config.address, config.protocol_version
    ));
    comment("Attach with goplugin:");
    println!("goplugin inspect --reattach {}", shell_quote(&object));
    if let Some(address) = &terraform {
        let providers = serde_json::json!({ address.as_str(): config.to_json() }).to_string();
        comment("Attach with Terraform (debug a provider: terraform plan/apply use this one):");
        println!("export TF_REATTACH_PROVIDERS={}", shell_quote(&providers));
    } else {
        comment("For Terraform, set TF_REATTACH_PROVIDERS to {\"<provider address>\": <the object above>} (--provider-address ADDRESS prints it).");
    }

    let exited = host.exited_token();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot wait for SIGTERM: {e}"))?;
    tokio::select! {
        signal = tokio::signal::ctrl_c() => {
            signal.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
            render::note(&format!("stopping {name}"));
            Ok(())
        }
        _ = terminate.recv() => {
            render::note(&format!("terminated: stopping {name}"));
            Ok(())
        }
        _ = exited.cancelled() => Err(format!(
            "{name} exited by itself ({})",
            host.exit_status().map(|s| s.to_string()).unwrap_or_else(|| "status unknown".into())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_provider_names_become_registry_addresses() {
        assert_eq!(
            provider_address(Path::new("/x/terraform-provider-time")).as_deref(),
            Some("registry.terraform.io/hashicorp/time")
        );
        assert_eq!(
            provider_address(Path::new("terraform-provider-null_v3.2.4_x5")).as_deref(),
            Some("registry.terraform.io/hashicorp/null")
        );
        assert_eq!(provider_address(Path::new("kv_plugin")), None);
    }
}
