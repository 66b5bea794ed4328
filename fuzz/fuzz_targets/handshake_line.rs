//! The handshake line a host reads from a plugin's stdout (`HandshakeLine::parse`): any text is
//! refused or accepted without panicking, and an accepted line formats to a line that parses to
//! the same value.
#![no_main]

use go_plugin::handshake::{HandshakeLine, HostExpectations, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for multiplex in [false, true] {
        let expect = HostExpectations::new(
            &[1, 2, 5, 6],
            &[Protocol::Grpc, Protocol::NetRpc],
            multiplex,
        );
        if let Ok(line) = HandshakeLine::parse(&text, &expect) {
            let again =
                HandshakeLine::parse(&line.to_string(), &expect).expect("a formatted line parses");
            assert_eq!(again, line);
        }
    }
});
