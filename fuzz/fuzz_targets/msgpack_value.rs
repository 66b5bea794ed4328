//! Terraform `DynamicValue` msgpack as a host or provider reads it (`terraform::msgpack::decode`):
//! against the `dynamic` type (whose values carry their own type as JSON, so type parsing is
//! fuzzed too) and a few fixed schema types picked by the first byte. Nothing panics; a decoded
//! value encodes again.
#![no_main]

use go_plugin_terraform::msgpack::{decode, encode};
use go_plugin_terraform::Type;
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 6] = [
    r#""dynamic""#,
    r#""string""#,
    r#"["list","number"]"#,
    r#"["map",["set","bool"]]"#,
    r#"["object",{"id":"string","n":"number","tags":["map","string"],"any":"dynamic"}]"#,
    r#"["tuple",["string",["list","dynamic"]]]"#,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let ty = Type::from_json_bytes(TYPES[usize::from(selector) % TYPES.len()].as_bytes())
        .expect("a valid type");
    if let Ok(value) = decode(bytes, &ty) {
        let _ = encode(&value, &ty);
    }
});
