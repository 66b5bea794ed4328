//! A host's HTTP/2 bytes as the plugin side reads them (`AuthorityNormaliser::push`): any bytes,
//! delivered in any chunks. Nothing panics, memory stays bounded, the output does not depend on
//! how the input was split, and bytes that do not start with the HTTP/2 preface pass unchanged.
#![no_main]

use go_plugin::fuzzing::AuthorityNormaliser;
use libfuzzer_sys::fuzz_target;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    // Half the inputs get the preface, so that frames are reached.
    let mut input = Vec::new();
    if step & 1 == 1 {
        input.extend_from_slice(PREFACE);
    }
    input.extend_from_slice(body);

    let mut whole = Vec::new();
    let whole_ok = AuthorityNormaliser::default()
        .push(&input, &mut whole)
        .is_ok();

    let mut chunked = Vec::new();
    let mut normaliser = AuthorityNormaliser::default();
    let mut chunked_ok = true;
    for chunk in input.chunks(usize::from(step >> 1) + 1) {
        if normaliser.push(chunk, &mut chunked).is_err() {
            chunked_ok = false;
            break;
        }
    }
    assert_eq!(whole_ok, chunked_ok);
    if whole_ok {
        assert_eq!(whole, chunked);
    }
    if !input.starts_with(&PREFACE[..input.len().min(PREFACE.len())]) {
        assert_eq!(whole, input);
    }
});
