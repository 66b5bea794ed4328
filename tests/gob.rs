//! gob compatibility with Go, both directions (the net/rpc codec is the `gobwire` crate): Go's
//! encoder writes a corpus (go-testdata/gobcorpus) that Rust decodes to the expected values, and
//! what Rust encodes for the same values Go decodes and compares (`gobcorpus decode`).

#[path = "support/features.rs"]
mod features;
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gobwire::{Decode, Encode, Encoder, Gob, Interface, StreamDecoder};
use support::*;

#[derive(Gob, Debug, Default, Clone, PartialEq)]
struct Inner {
    #[gob(name = "Name")]
    name: String,
    #[gob(name = "Count")]
    count: i64,
}

#[derive(Gob, Debug, Default, PartialEq)]
struct Outer {
    #[gob(name = "Flag")]
    flag: bool,
    #[gob(name = "Neg")]
    neg: i64,
    #[gob(name = "Big")]
    big: u64,
    #[gob(name = "Ratio")]
    ratio: f64,
    #[gob(name = "Text")]
    text: String,
    #[gob(name = "Raw")]
    raw: Vec<u8>,
    #[gob(name = "Numbers")]
    numbers: Vec<i64>,
    #[gob(name = "Words")]
    words: Vec<String>,
    #[gob(name = "Triple")]
    triple: [i64; 3],
    #[gob(name = "Counts")]
    counts: HashMap<String, i64>,
    #[gob(name = "Nested")]
    nested: Inner,
    #[gob(name = "Pointer")]
    pointer: Option<Box<Inner>>,
    #[gob(name = "Any")]
    any: Option<Interface>,
    #[gob(name = "None")]
    none: Option<Interface>,
}

fn outer() -> Outer {
    Outer {
        flag: true,
        neg: -7,
        big: 1 << 63,
        ratio: -0.5,
        text: "t".into(),
        raw: b"raw".to_vec(),
        numbers: vec![3, 2, 1],
        words: vec!["x".into(), "y".into()],
        triple: [7, 8, 9],
        counts: HashMap::from([("a".into(), 1)]),
        nested: Inner {
            name: "in".into(),
            count: 2,
        },
        pointer: Some(Box::new(Inner {
            name: "ptr".into(),
            count: 3,
        })),
        any: Some(
            Interface::new(
                "main.Inner",
                &Inner {
                    name: "any".into(),
                    count: 4,
                },
            )
            .unwrap(),
        ),
        none: None,
    }
}

fn any_map() -> HashMap<String, Option<Interface>> {
    HashMap::from([
        ("key".into(), Some(Interface::string("k"))),
        (
            "value".into(),
            Some(Interface::new(gobwire::names::BYTES, &b"v".to_vec()).unwrap()),
        ),
        ("n".into(), Some(Interface::int(42))),
    ])
}

/// Decodes Go's stream for `case` and compares; writes Rust's encoding of `expected` for Go.
fn check<T: Decode + Encode + Default + PartialEq + std::fmt::Debug>(
    dir: &Path,
    case: &str,
    expected: T,
) {
    let file = std::fs::File::open(dir.join(format!("{case}.go.gob"))).unwrap();
    let decoded: T = StreamDecoder::new(file)
        .decode()
        .unwrap()
        .unwrap_or_else(|| panic!("{case}: empty"));
    assert_eq!(
        decoded, expected,
        "{case}: Go's encoding decoded differently"
    );
    let bytes = Encoder::new().encode(&expected).unwrap();
    std::fs::write(dir.join(format!("{case}.rust.gob")), bytes).unwrap();
}

#[test]
fn gob_corpus_round_trips_between_go_and_rust() {
    let dir = short_tempdir();
    let corpus = go_subject("bin/gobcorpus");
    let mut encode = Command::new(&corpus);
    encode.args(["encode", dir.path().to_str().unwrap()]);
    run(encode, Duration::from_secs(30)).assert_success();

    let d = dir.path();
    check(d, "bool", true);
    check(d, "int", -123_456_789i64);
    check(d, "uint", 1u64 << 40);
    check(d, "float", 17.25f64);
    check(d, "string", "héllo, gob".to_string());
    check(d, "bytes", vec![0u8, 1, 2, 255]);
    check(d, "ints", vec![1i64, -2, 300]);
    check(
        d,
        "strings",
        vec!["a".to_string(), String::new(), "c".to_string()],
    );
    check(
        d,
        "map",
        HashMap::from([("one".to_string(), 1i64), ("two".to_string(), 2)]),
    );
    check(d, "anymap", any_map());
    check(d, "outer", outer());

    let mut decode = Command::new(&corpus);
    decode.args(["decode", d.to_str().unwrap()]);
    let done = run(decode, Duration::from_secs(30));
    assert!(
        done.status.success(),
        "Go could not decode Rust's encoding:\n{}",
        done.stdout
    );
}
