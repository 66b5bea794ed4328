//! The crypto provider of AutoMTLS: fast to start in a default build.
//!
//! Terraform starts every provider with AutoMTLS, several times per run, so the first handshake's
//! cost is what users of a Rust provider or host feel. Two costs dominated it with the aws-lc-rs
//! provider alone:
//!
//! - **Seeding aws-lc's generator.** The first time a process asks aws-lc for randomness (a key,
//!   a serial number, a TLS random), a default build seeds its generator from CPU jitter: about
//!   40–50 ms per process (aws-lc-rs #1140, aws-lc #3180). `AWS_LC_SYS_NO_JITTER_ENTROPY=1` at
//!   build time removes it, but a user who simply depends on this crate does not set it.
//! - **P-521 key generation** for the process's own certificate.
//!
//! So AutoMTLS uses rustls's *ring* provider — randomness straight from the operating system,
//! key exchange, cipher suites, and signing with our own key — and keeps aws-lc-rs for one job
//! only: verifying handshake signatures. Go's AutoMTLS certificates are ECDSA P-521 / SHA-512,
//! which *ring* cannot verify; verification needs no randomness, so it never triggers aws-lc's
//! seeding. Our own certificate is P-256: go-plugin pins the exact certificate it was given and
//! does not demand a curve, and real Go hosts and plugins accept it (the cross-tests with AutoMTLS
//! in both directions, and real Terraform, run on it).
//!
//! Every AutoMTLS property stays as it was: pinned certificates in both directions, mutual
//! authentication, TLS 1.2 and 1.3 only, ALPN `h2`. What *ring* lacks is the hybrid post-quantum
//! key exchange `X25519MLKEM768`; AutoMTLS keys live for one process on a local socket, so the
//! classical X25519 exchange is kept. Explicit TLS configured by the user (`HostConfig::tls`,
//! `ServeConfig::tls`) keeps the aws-lc-rs provider ([`super::provider`]).

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

/// The AutoMTLS provider: *ring* for randomness, key exchange, ciphers and signing; aws-lc-rs for
/// signature verification (P-521 from Go peers). Built once per process.
pub fn automtls_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            Arc::new(CryptoProvider {
                signature_verification_algorithms: rustls::crypto::aws_lc_rs::default_provider()
                    .signature_verification_algorithms,
                ..rustls::crypto::ring::default_provider()
            })
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::SignatureScheme;

    #[test]
    fn verifies_go_certificates_p521_signatures_and_signs_with_ring() {
        let provider = automtls_provider();
        let schemes = provider
            .signature_verification_algorithms
            .supported_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256));
        assert!(!provider.kx_groups.is_empty());
    }
}
