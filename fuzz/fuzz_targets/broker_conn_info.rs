//! The broker stream as either side reads it: `ConnInfo` announcements and knocks, each decoded
//! from the peer's protobuf bytes and handed to `GrpcBroker::receive`. Nothing panics, and however
//! many announcements arrive (any ids, duplicates, oversized addresses, knocks on a session that is
//! not multiplexed), what the broker keeps stays bounded (libFuzzer's memory limit would report
//! it).
#![no_main]

use std::sync::OnceLock;

use go_plugin::fuzzing::{broker, receive, ConnInfo};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let _guard = runtime().enter();
    let broker = broker();
    // Messages as on the wire: each with a one-byte length, repeated to make floods.
    let Some((&repeat, mut rest)) = data.split_first() else {
        return;
    };
    let mut messages = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        messages.push(&tail[..len]);
        rest = &tail[len..];
    }
    for round in 0..=u32::from(repeat) * 8 {
        for bytes in &messages {
            if let Ok(mut info) = ConnInfo::decode(*bytes) {
                info.service_id = info.service_id.wrapping_add(round);
                receive(&broker, info);
            }
        }
    }
});
