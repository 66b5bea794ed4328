//! Certificates from the peer: the host's PEM in `PLUGIN_CLIENT_CERT` (read by a plugin) and the
//! plugin's unpadded base64 DER in handshake field 6 (read by a host), and building the pinned
//! TLS configurations from whatever they yield. Nothing panics.
#![no_main]

use go_plugin::handshake::{HandshakeLine, HostExpectations, Protocol};
use go_plugin::tls::{mtls_client_config, mtls_server_config, parse_pem_certificates, Identity};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn own() -> &'static Identity {
    static OWN: OnceLock<Identity> = OnceLock::new();
    OWN.get_or_init(|| Identity::generate().expect("a certificate"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(certs) = parse_pem_certificates(&text) {
        assert!(!certs.is_empty());
        mtls_server_config(own(), certs.clone()).expect("a server config");
        mtls_client_config(own(), certs).expect("a client config");
    }
    let expect = HostExpectations::new(&[1], &[Protocol::Grpc], false);
    let field = text.replace(['|', '\n', '\r'], "");
    if let Ok(HandshakeLine {
        server_cert: Some(der),
        ..
    }) = HandshakeLine::parse(&format!("1|1|unix|/p|grpc|{field}"), &expect)
    {
        mtls_client_config(own(), vec![der.into()]).expect("a client config");
    }
});
