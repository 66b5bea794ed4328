//! Reattach: connecting a host to a plugin process that is already running.
//!
//! go-plugin's `ReattachConfig` is `{Protocol, ProtocolVersion, Addr, Pid, Test}`. go-plugin itself
//! has no serialization for it; the JSON used here is the one Terraform reads from
//! `TF_REATTACH_PROVIDERS` (one object per provider):
//!
//! ```json
//! {"Protocol":"grpc","ProtocolVersion":6,"Pid":123,"Test":true,
//!  "Addr":{"Network":"unix","String":"/tmp/plugin123456789"}}
//! ```
//!
//! An empty `Protocol` means `netrpc`. `Test: true` marks a plugin served in test mode: the host
//! does not own it, so killing the host's client leaves it running.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::error::Error;
use crate::handshake::{Network, Protocol};

/// Everything a host needs to attach to a running plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReattachConfig {
    /// The plugin's transport.
    pub protocol: Protocol,
    /// The negotiated app version (used by hosts only in test mode).
    pub protocol_version: u32,
    /// Unix socket or TCP.
    pub network: Network,
    /// Socket path or `host:port`.
    pub address: String,
    /// The plugin's process id.
    pub pid: u32,
    /// Served in test mode: the host must not kill it.
    pub test: bool,
}

impl ReattachConfig {
    /// How to reach a plugin that runs already: its transport, address and process id (core
    /// protocol version 0, as go-plugin's `Reattach` leaves it; not in test mode).
    pub fn new(protocol: Protocol, network: Network, address: impl Into<String>, pid: u32) -> Self {
        ReattachConfig {
            protocol,
            protocol_version: 0,
            network,
            address: address.into(),
            pid,
            test: false,
        }
    }

    /// The JSON object (Terraform's `TF_REATTACH_PROVIDERS` entry shape).
    pub fn to_json(&self) -> Value {
        json!({
            "Protocol": self.protocol.as_str(),
            "ProtocolVersion": self.protocol_version,
            "Pid": self.pid,
            "Test": self.test,
            "Addr": { "Network": self.network.as_str(), "String": self.address },
        })
    }

    /// Reads one reattach object; missing `Protocol`, `ProtocolVersion` and `Test` take Go's zero
    /// values (`netrpc`, 0, false).
    pub fn from_json(value: &Value) -> Result<ReattachConfig, Error> {
        let bad = |what: &str| {
            Error::Config(format!("reattach config: {what} (expected {{\"Protocol\":\"grpc\",\"ProtocolVersion\":1,\"Pid\":123,\"Test\":false,\"Addr\":{{\"Network\":\"unix\",\"String\":\"/path\"}}}})"))
        };
        let protocol = match value.get("Protocol").and_then(Value::as_str).unwrap_or("") {
            "" => Protocol::NetRpc,
            p => Protocol::parse(p).ok_or_else(|| bad(&format!("unknown Protocol {p:?}")))?,
        };
        let addr = value.get("Addr").ok_or_else(|| bad("missing Addr"))?;
        let network = addr
            .get("Network")
            .and_then(Value::as_str)
            .and_then(Network::parse)
            .ok_or_else(|| bad("Addr.Network must be \"unix\" or \"tcp\""))?;
        let address = addr
            .get("String")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("missing Addr.String"))?
            .to_string();
        let pid = value
            .get("Pid")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| bad("missing or invalid Pid"))?;
        let protocol_version = value
            .get("ProtocolVersion")
            .map(|v| {
                v.as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| bad("invalid ProtocolVersion"))
            })
            .transpose()?
            .unwrap_or(0);
        let test = value.get("Test").and_then(Value::as_bool).unwrap_or(false);
        Ok(ReattachConfig {
            protocol,
            protocol_version,
            network,
            address,
            pid,
            test,
        })
    }
}

/// Reads Terraform's `TF_REATTACH_PROVIDERS`: a JSON object mapping provider addresses (such as
/// `registry.terraform.io/hashicorp/null`) to reattach objects.
pub fn parse_tf_reattach_providers(text: &str) -> Result<BTreeMap<String, ReattachConfig>, Error> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::Config(format!("TF_REATTACH_PROVIDERS is not valid JSON: {e}")))?;
    let providers = value.as_object().ok_or_else(|| {
        Error::Config(
            "TF_REATTACH_PROVIDERS must be a JSON object of provider address → reattach config"
                .into(),
        )
    })?;
    providers
        .iter()
        .map(|(name, config)| {
            ReattachConfig::from_json(config)
                .map(|c| (name.clone(), c))
                .map_err(|e| Error::Config(format!("TF_REATTACH_PROVIDERS entry {name:?}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReattachConfig {
        ReattachConfig {
            protocol: Protocol::Grpc,
            protocol_version: 6,
            network: Network::Unix,
            address: "/tmp/plugin1".into(),
            pid: 123,
            test: true,
        }
    }

    #[test]
    fn json_uses_terraform_shape() {
        assert_eq!(
            sample().to_json(),
            json!({"Protocol":"grpc","ProtocolVersion":6,"Pid":123,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin1"}})
        );
    }

    #[test]
    fn json_round_trips() {
        assert_eq!(
            ReattachConfig::from_json(&sample().to_json()).unwrap(),
            sample()
        );
    }

    #[test]
    fn empty_protocol_means_netrpc_and_zero_values_default() {
        let c = ReattachConfig::from_json(
            &json!({"Pid": 1, "Addr": {"Network": "tcp", "String": "127.0.0.1:1"}}),
        )
        .unwrap();
        assert_eq!(c.protocol, Protocol::NetRpc);
        assert_eq!(c.protocol_version, 0);
        assert!(!c.test);
    }

    #[test]
    fn terraform_reattach_providers_are_read_by_provider_address() {
        let text = r#"{"registry.terraform.io/hashicorp/null": {"Protocol":"grpc","ProtocolVersion":5,"Pid":42,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin9"}}}"#;
        let providers = parse_tf_reattach_providers(text).unwrap();
        let null = &providers["registry.terraform.io/hashicorp/null"];
        assert_eq!((null.protocol_version, null.pid, null.test), (5, 42, true));
        assert!(parse_tf_reattach_providers("[]")
            .unwrap_err()
            .to_string()
            .contains("JSON object"));
        let err = parse_tf_reattach_providers(r#"{"p": {"Pid": 1}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"p\"") && err.contains("missing Addr"),
            "{err}"
        );
    }

    #[test]
    fn bad_input_names_what_is_wrong() {
        let err = ReattachConfig::from_json(&json!({"Pid": 1}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing Addr"), "{err}");
        let err = ReattachConfig::from_json(
            &json!({"Pid": 1, "Addr": {"Network": "pipe", "String": "x"}}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("Addr.Network"), "{err}");
    }
}
