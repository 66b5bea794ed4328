//! Reattach configurations from untrusted text: Terraform's `TF_REATTACH_PROVIDERS` and single
//! reattach objects. Nothing panics, and what is read writes back to JSON that reads the same.
#![no_main]

use go_plugin::reattach::{parse_tf_reattach_providers, ReattachConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(providers) = parse_tf_reattach_providers(&text) {
        for config in providers.values() {
            assert_eq!(
                &ReattachConfig::from_json(&config.to_json()).unwrap(),
                config
            );
        }
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        if let Ok(config) = ReattachConfig::from_json(&value) {
            assert_eq!(
                ReattachConfig::from_json(&config.to_json()).unwrap(),
                config
            );
        }
    }
});
