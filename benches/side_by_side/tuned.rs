//! The tuned build beside the default one, in the same run.
//!
//! The tables of the report measure the **default build**: release binaries built with no special
//! environment, which is what a user who adds this crate gets. The **tuned build**
//! (`target/bench-tuned`, built by `make bench` with `AWS_LC_SYS_NO_JITTER_ENTROPY=1`) turns off
//! aws-lc's CPU-jitter seeding of its random generator, which used to cost 40–50 ms at the first
//! AutoMTLS handshake of every process. Each round also measures AutoMTLS start → first call of
//! the tuned Rust programs in every pairing with a Rust side, so the report can show how far the
//! default build is from the tuned one (src/tls/provider.rs is why they should now agree).

use std::collections::BTreeMap;

use crate::runner::{Programs, Workload};
use crate::summary::{Config, Pairing, GO_RUST, RUST_GO, RUST_RUST};

/// The pairings with a Rust side: the ones a build setting can change.
pub const PAIRINGS: [Pairing; 3] = [RUST_GO, GO_RUST, RUST_RUST];

/// Only start-up matters here: launches, and the least of everything else.
pub fn workload(main: &Workload) -> Workload {
    Workload {
        launches: main.launches,
        warmup: 1,
        unary: 10,
        payload: main.payload,
        concurrency: 1,
        concurrent_ms: 10,
        download_mib: 1,
        upload_mib: 1,
        chunk_kib: main.chunk_kib,
        dials: 1,
    }
}

/// One round of the tuned build: AutoMTLS start-up times per pairing.
pub fn measure(
    programs: &Programs,
    workload: &Workload,
) -> Result<BTreeMap<Pairing, Vec<f64>>, String> {
    let mut out = BTreeMap::new();
    for pairing in PAIRINGS {
        let sample = programs.run(
            Config {
                pairing,
                mtls: true,
            },
            workload,
        )?;
        eprintln!(
            "            tuned {:<8} mTLS  start {:>6.1} ms",
            pairing.short(),
            crate::summary::median(&sample.start_ms)
        );
        out.insert(pairing, sample.start_ms);
    }
    Ok(out)
}
