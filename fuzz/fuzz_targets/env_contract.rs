//! The environment contract a plugin reads (`PluginEnv::from_lookup`, the cookie check, the port
//! range, `PLUGIN_PROTOCOL_VERSIONS`): the input is split at NUL bytes into one value per
//! variable. Nothing panics, and versions a host formats parse back to themselves.
#![no_main]

use std::collections::HashMap;

use go_plugin::fuzzing::*;
use go_plugin::handshake::HandshakeConfig;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    MIN_PORT,
    MAX_PORT,
    PROTOCOL_VERSIONS,
    MULTIPLEX_GRPC,
    CLIENT_CERT,
    UNIX_SOCKET_DIR,
    UNIX_SOCKET_GROUP,
    "FUZZ_COOKIE",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let vars: HashMap<&str, &str> = NAMES.iter().copied().zip(text.split('\0')).collect();
    let lookup = |name: &str| vars.get(name).map(|v| v.to_string());
    let env = PluginEnv::from_lookup(lookup);
    if let Ok((min, max)) = env.port_range() {
        assert!(min <= max);
    }
    let _ = check_cookie(&HandshakeConfig::new(1, "FUZZ_COOKIE", "value"), lookup);
    if let Some(group) = vars.get(UNIX_SOCKET_GROUP) {
        let _ = Group::parse(group);
    }
    let ours: Vec<u32> = env
        .host_versions
        .iter()
        .filter_map(|v| u32::try_from(*v).ok())
        .collect();
    let (back, bad) = parse_versions(&format_versions(&ours));
    assert!(bad.is_empty());
    assert_eq!(back, ours.iter().map(|v| i64::from(*v)).collect::<Vec<_>>());
});
