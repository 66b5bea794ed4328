//! A net/rpc byte stream as either side reads it: gob messages framed by their length prefix
//! (ours, `netrpc::gob_stream`), decoded by gobwire into net/rpc request and response headers and
//! the bodies go-plugin's net/rpc plugins use. Nothing panics, and a length prefix alone never
//! allocates its length (libFuzzer's malloc limit would report it).
#![no_main]

use std::collections::HashMap;

use futures_util::FutureExt;
use go_plugin::fuzzing::{GobReader, Request, Response};
use gobwire::{Dynamic, Interface};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let mut reader = GobReader::new(stream);
    // A slice never makes a read wait, so every future completes on its first poll.
    for _ in 0..64 {
        let step = match selector % 4 {
            0 => reader
                .read::<Request>()
                .now_or_never()
                .map(|r| r.map(|v| v.is_some())),
            1 => reader
                .read::<Response>()
                .now_or_never()
                .map(|r| r.map(|v| v.is_some())),
            2 => reader
                .read::<HashMap<String, Option<Interface>>>()
                .now_or_never()
                .map(|r| r.map(|v| v.is_some())),
            _ => reader
                .read::<Dynamic>()
                .now_or_never()
                .map(|r| r.map(|v| v.is_some())),
        };
        match step.expect("reading a slice never waits") {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
});
