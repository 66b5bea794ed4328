//! Known go-plugin handshakes: the magic cookie and app protocol versions each well-known host
//! sends, so that `--preset terraform` replaces copying a 64-character cookie out of Go source.
//!
//! A go-plugin binary only starts when its host sets the cookie variable to the exact value
//! (otherwise it prints "This binary is a plugin…" and exits 1). The cookie's *key* is a string
//! inside the binary, so [`detect`] can also guess the preset by looking for the keys in the
//! executable's bytes.

use std::path::Path;

/// One host's handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// The `--preset` name.
    pub name: &'static str,
    /// Who uses it (shown by `goplugin presets`).
    pub what: &'static str,
    /// The cookie variable.
    pub key: &'static str,
    /// Its value.
    pub value: &'static str,
    /// The app protocol versions the host offers (`PLUGIN_PROTOCOL_VERSIONS`).
    pub versions: &'static [u32],
}

/// Every preset, in `--preset` order.
pub const PRESETS: &[Preset] = &[
    // hashicorp/terraform internal/plugin/serve.go (Handshake) and
    // hashicorp/terraform-plugin-go tfprotov5/tf5server, tfprotov6/tf6server: Terraform offers
    // protocol 5 (tfplugin5) and 6 (tfplugin6).
    Preset {
        name: "terraform",
        what: "Terraform and OpenTofu providers (tfplugin5, tfplugin6)",
        key: "TF_PLUGIN_MAGIC_COOKIE",
        value: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        versions: &[5, 6],
    },
    // hashicorp/nomad plugins/base/plugin.go (Handshake, ProtocolVersion 1: drivers and devices;
    // Nomad's executor uses 2 with the same cookie).
    Preset {
        name: "nomad",
        what: "Nomad task drivers and device plugins",
        key: "NOMAD_PLUGIN_MAGIC_COOKIE",
        value: "e4327c2e01eabfd75a8a67adb114fb34a757d57eee7728d857a8cec6e91a7255",
        versions: &[1, 2],
    },
    // hashicorp/vault sdk/plugin/serve.go (HandshakeConfig; VersionedPlugins 3, 4 and 5, the last
    // for multiplexed backends).
    Preset {
        name: "vault",
        what: "Vault secrets, auth and database plugins",
        key: "VAULT_BACKEND_PLUGIN",
        value: "6669da05-b1c8-4f49-97d9-c8e5bed98e20",
        versions: &[3, 4, 5],
    },
    // terraform-linters/tflint-plugin-sdk plugin/internal/host2plugin/plugin.go (handshakeConfig,
    // ProtocolVersion 11 since SDK v0.16).
    Preset {
        name: "tflint",
        what: "TFLint rulesets",
        key: "TFLINT_RULESET_PLUGIN",
        value: "5adSn1bX8nrDfgBqiAqqEkC6OE1h3iD8SqbMc5UUONx8x3xCF0KlPDsBRNDjoYDP",
        versions: &[11],
    },
    // vmware-tanzu/velero pkg/plugin/framework/handshake.go (Handshake, ProtocolVersion 2).
    Preset {
        name: "velero",
        what: "Velero object store, snapshotter and item action plugins",
        key: "VELERO_PLUGIN",
        value: "hello",
        versions: &[2],
    },
    // hashicorp/go-plugin examples/grpc/shared/interface.go (Handshake), also this crate's
    // kv_plugin and counter_plugin.
    Preset {
        name: "examples",
        what: "go-plugin's examples (KV, counter) and this crate's example plugins",
        key: "BASIC_PLUGIN",
        value: "hello",
        versions: &[1],
    },
];

/// The preset called `name`.
pub fn by_name(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names, for messages: `terraform|nomad|…`.
pub fn names() -> String {
    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join("|")
}

/// What every preset's key contains: one pass over the executable finds its occurrences, and
/// each is checked against the keys around it (binaries are tens of megabytes).
const KEY_PART: &str = "_PLUGIN";

/// The presets whose cookie key occurs in the executable (usually exactly one for a go-plugin
/// binary; none when the key is built at run time). Unreadable files give none.
pub fn detect(executable: &Path) -> Vec<&'static Preset> {
    let Ok(bytes) = std::fs::read(executable) else {
        return Vec::new();
    };
    let mut found = vec![false; PRESETS.len()];
    for at in memchr::memmem::find_iter(&bytes, KEY_PART.as_bytes()) {
        for (i, preset) in PRESETS.iter().enumerate() {
            let Some(offset) = preset.key.find(KEY_PART) else {
                continue;
            };
            let start = at.wrapping_sub(offset);
            if start <= at
                && bytes.get(start..start + preset.key.len()) == Some(preset.key.as_bytes())
            {
                found[i] = true;
            }
        }
    }
    PRESETS
        .iter()
        .zip(found)
        .filter(|(p, seen)| {
            *seen
                || (!p.key.contains(KEY_PART)
                    && memchr::memmem::find(&bytes, p.key.as_bytes()).is_some())
        })
        .map(|(p, _)| p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_preset_has_a_version() {
        for (i, p) in PRESETS.iter().enumerate() {
            assert!(!p.versions.is_empty(), "{}", p.name);
            assert!(PRESETS[i + 1..].iter().all(|q| q.name != p.name));
            assert_eq!(by_name(p.name), Some(p));
        }
        assert!(by_name("nope").is_none());
    }

    #[test]
    fn a_file_mentioning_a_key_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bin");
        std::fs::write(&file, b"\0\0xxVELERO_PLUGINyy\0").unwrap();
        let found: Vec<_> = detect(&file).iter().map(|p| p.name).collect();
        assert_eq!(found, ["velero"]);
        assert!(detect(&dir.path().join("missing")).is_empty());
    }
}
