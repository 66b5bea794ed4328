//! AutoMTLS: throw-away certificates and TLS configurations that trust exactly one peer.
//!
//! With AutoMTLS each side makes a fresh self-signed certificate at start-up. The host passes its
//! certificate to the plugin as PEM in `PLUGIN_CLIENT_CERT`; the plugin answers with its own as
//! unpadded base64 DER in handshake field 6. Each side then trusts exactly that one certificate:
//! the plugin requires the host's as a client certificate, the host accepts only the plugin's as
//! the server certificate.
//!
//! go-plugin's certificates are ECDSA P-521 / SHA-512, `CA:TRUE`, used as leaf certificates.
//! webpki refuses a CA certificate as an end entity, so this module uses a *pinning* verifier: the
//! peer must present the very certificate received out of band (byte-equal DER), and the handshake
//! signature is checked with that certificate's key. Certificates made here mirror Go's
//! (`CA:TRUE`, SAN `localhost`, client and server auth, 30 years) on the P-256 curve, which Go
//! peers accept (they pin, they do not demand a curve) and which is fast to generate; the crypto
//! provider of AutoMTLS is in [`provider`] (why: start-up time).
//!
//! gRPC over TLS negotiates ALPN `h2`: grpc-go 1.67 and later refuse TLS connections without it.

use std::fmt;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::error::Error;

mod provider;
pub use provider::automtls_provider;

/// ALPN protocol id of HTTP/2, required by grpc-go on TLS connections.
pub const ALPN_H2: &[u8] = b"h2";

/// Adds ALPN `h2` to a user's list of protocols when it is missing (first when the list was
/// empty, last otherwise, so the user's preference order stays).
pub fn with_alpn_h2(protocols: &mut Vec<Vec<u8>>) {
    if !protocols.iter().any(|p| p == ALPN_H2) {
        protocols.push(ALPN_H2.to_vec());
    }
}

/// Validity of an AutoMTLS certificate, as go-plugin sets it: 262 980 hours (≈ 30 years).
const VALIDITY_HOURS: i64 = 262_980;

/// A certificate with its private key, as used by one side of AutoMTLS.
#[non_exhaustive]
pub struct Identity {
    /// The certificate (DER).
    pub cert: CertificateDer<'static>,
    /// The private key (PKCS#8 DER); only [`Identity::key_pem`] hands it out.
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            cert: self.cert.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Identity {
    /// Never prints key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("cert_len", &self.cert.len())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Makes a fresh certificate shaped like go-plugin's AutoMTLS certificates.
    pub fn generate() -> Result<Identity, Error> {
        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(tls_err("generating a P-256 key"))?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])
            .map_err(tls_err("certificate parameters"))?;
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::hours(VALIDITY_HOURS);
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        params.use_authority_key_identifier_extension = false;
        let cert = params
            .self_signed(&key_pair)
            .map_err(tls_err("self-signing the certificate"))?;
        Ok(Identity {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(key_pair.serialize_der().into()),
        })
    }

    /// The certificate as PEM, as a host puts it in `PLUGIN_CLIENT_CERT`.
    pub fn cert_pem(&self) -> String {
        pem("CERTIFICATE", &self.cert)
    }

    /// The private key as PKCS#8 PEM (`PRIVATE KEY`), for writing to a key file.
    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", self.key.secret_der())
    }
}

/// PEM text: 64-column base64 between BEGIN/END lines, with a final newline.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// A TLS server configuration from PEM files (non-automatic TLS, go-plugin's `TLSProvider`):
/// no client certificate required, ALPN `h2`. To require one, see
/// [`server_config_requiring_client_certs`].
pub fn server_config_from_pem_files(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<rustls::ServerConfig, Error> {
    let (certs, key) = read_cert_and_key(cert, key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err("TLS versions"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_err("loading the certificate"))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(config)
}

/// A TLS server configuration from PEM files that **requires** a client certificate signed by
/// one of the CA certificates in `client_ca` (go-plugin's `TLSProvider` with
/// `ClientAuth: RequireAndVerifyClientCert`); ALPN `h2`. A host without such a certificate is
/// refused during the handshake.
pub fn server_config_requiring_client_certs(
    cert: &std::path::Path,
    key: &std::path::Path,
    client_ca: &std::path::Path,
) -> Result<rustls::ServerConfig, Error> {
    let (certs, key) = read_cert_and_key(cert, key)?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in read_certs(client_ca)? {
        roots
            .add(ca)
            .map_err(|e| Error::Tls(format!("a CA certificate in {}: {e}", client_ca.display())))?;
    }
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| Error::Tls(format!("client certificate verification: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err("TLS versions"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(tls_err("loading the certificate"))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(config)
}

fn read_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::Tls(format!("reading certificates from {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Tls(format!("no certificate in {}", path.display())));
    }
    Ok(certs)
}

type CertAndKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn read_cert_and_key(cert: &std::path::Path, key: &std::path::Path) -> Result<CertAndKey, Error> {
    let certs = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Error::Tls(format!(
            "reading the private key from {}: {e}",
            key.display()
        ))
    })?;
    Ok((certs, key))
}

/// A TLS client configuration that trusts exactly `trusted` (pinned, CA flag ignored), without a
/// client certificate, ALPN `h2`: explicit TLS towards a plugin with a self-signed certificate.
pub fn pinned_client_config(
    trusted: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, Error> {
    pinned_client(trusted, None, provider())
}

/// A client configuration pinning `trusted`, presenting `own` when given, ALPN `h2`.
fn pinned_client(
    trusted: Vec<CertificateDer<'static>>,
    own: Option<&Identity>,
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ClientConfig, Error> {
    let verifier = Arc::new(PinnedVerifier::new(trusted, provider.clone()));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err("TLS versions"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match own {
        Some(own) => builder
            .with_client_auth_cert(vec![own.cert.clone()], own.key.clone_key())
            .map_err(tls_err("loading the client certificate"))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(config)
}

/// Every `CERTIFICATE` block of a PEM text (go-plugin loads them all into the trusted pool).
pub fn parse_pem_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(Error::Tls(
            "client cert provided but failed to parse: PLUGIN_CLIENT_CERT holds no PEM CERTIFICATE block".into(),
        ));
    }
    Ok(certs)
}

/// The crypto provider of explicit TLS (configurations the user supplies or loads from PEM
/// files): aws-lc-rs. AutoMTLS uses [`automtls_provider`].
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The AutoMTLS configuration of whichever side accepts a connection (the plugin on its main
/// listener; either side on a brokered one): present `own`, require a client certificate equal to
/// one of `trusted`, ALPN `h2`.
pub fn mtls_server_config(
    own: &Identity,
    trusted: Vec<CertificateDer<'static>>,
) -> Result<rustls::ServerConfig, Error> {
    let provider = automtls_provider();
    let verifier = Arc::new(PinnedVerifier::new(trusted, provider.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err("TLS versions"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![own.cert.clone()], own.key.clone_key())
        .map_err(tls_err("loading the plugin certificate"))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(config)
}

/// The AutoMTLS configuration of whichever side dials (the host on the main connection; either
/// side on a brokered one): present `own`, accept only a server certificate equal to one of
/// `trusted`, ALPN `h2`.
pub fn mtls_client_config(
    own: &Identity,
    trusted: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, Error> {
    pinned_client(trusted, Some(own), automtls_provider())
}

/// Accepts exactly the certificates it was given (byte-equal), whatever their CA flag, and checks
/// the handshake signature with the presented certificate's key.
#[derive(Debug)]
pub struct PinnedVerifier {
    trusted: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl PinnedVerifier {
    /// A verifier trusting exactly `trusted`.
    pub fn new(trusted: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Self {
        PinnedVerifier { trusted, provider }
    }

    fn check(&self, presented: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if self
            .trusted
            .iter()
            .any(|t| t.as_ref() == presented.as_ref())
        {
            Ok(())
        } else {
            Err(rustls::Error::General(
                "peer certificate is not the one announced for AutoMTLS (pinned certificate mismatch)".into(),
            ))
        }
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|_| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ClientCertVerifier for PinnedVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|_| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A random positive 128-bit serial number, like Go's `rand.Int(rand.Reader, 2^128)`.
fn random_serial() -> [u8; 16] {
    let mut serial = [0u8; 16];
    automtls_provider()
        .secure_random
        .fill(&mut serial)
        .expect("the system random source works");
    serial[0] &= 0x7f;
    serial
}

fn tls_err<E: fmt::Display>(what: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Tls(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_round_trips_through_pem() {
        let id = Identity::generate().unwrap();
        let pem = id.cert_pem();
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----\n")
                && pem.ends_with("-----END CERTIFICATE-----\n")
        );
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(parse_pem_certificates(&pem).unwrap(), vec![id.cert.clone()]);
    }

    /// A CA, and a client certificate it signed (key as PKCS#8 DER).
    fn ca_and_client() -> (rcgen::Certificate, rcgen::Certificate, KeyPair) {
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let client_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut client_params = CertificateParams::new(vec!["host".to_string()]).unwrap();
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params.signed_by(&client_key, &issuer).unwrap();
        (ca, client, client_key)
    }

    /// Whether a TLS handshake between the two configurations succeeds.
    async fn handshake(server: rustls::ServerConfig, client: rustls::ClientConfig) -> bool {
        let (a, b) = tokio::io::duplex(1 << 16);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let name = ServerName::try_from("localhost").unwrap();
        let (accepted, connected) = tokio::join!(acceptor.accept(b), connector.connect(name, a));
        match (accepted, connected) {
            (Ok(_), Ok(mut stream)) => {
                // TLS 1.3: a refused client certificate shows on the client's first read.
                use tokio::io::AsyncReadExt;
                let mut byte = [0u8; 1];
                !matches!(
                    tokio::time::timeout(
                        std::time::Duration::from_millis(200),
                        stream.read(&mut byte)
                    )
                    .await,
                    Ok(Err(_))
                )
            }
            _ => false,
        }
    }

    #[tokio::test]
    async fn a_server_config_with_a_client_ca_requires_a_certificate_it_signed() {
        let server_id = Identity::generate().unwrap();
        let (ca, client, client_key) = ca_and_client();
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("cert.pem"), server_id.cert_pem()).unwrap();
        std::fs::write(path("key.pem"), server_id.key_pem()).unwrap();
        std::fs::write(path("ca.pem"), ca.pem()).unwrap();
        let server = || {
            server_config_requiring_client_certs(
                &path("cert.pem"),
                &path("key.pem"),
                &path("ca.pem"),
            )
            .unwrap()
        };
        let with_cert = pinned_client(
            vec![server_id.cert.clone()],
            Some(&Identity {
                cert: client.der().clone(),
                key: PrivateKeyDer::Pkcs8(client_key.serialize_der().into()),
            }),
            provider(),
        )
        .unwrap();
        assert!(
            handshake(server(), with_cert).await,
            "a client the CA signed"
        );
        let without = pinned_client_config(vec![server_id.cert.clone()]).unwrap();
        assert!(
            !handshake(server(), without).await,
            "a client without a certificate"
        );
        let stranger = Identity::generate().unwrap();
        let wrong =
            pinned_client(vec![server_id.cert.clone()], Some(&stranger), provider()).unwrap();
        assert!(
            !handshake(server(), wrong).await,
            "a client the CA did not sign"
        );
    }

    #[test]
    fn key_and_certificate_files_load_as_a_server_config() {
        let id = Identity::generate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, id.cert_pem()).unwrap();
        std::fs::write(&key, id.key_pem()).unwrap();
        let config = server_config_from_pem_files(&cert, &key).unwrap();
        assert_eq!(config.alpn_protocols, vec![ALPN_H2.to_vec()]);
        let err = server_config_from_pem_files(&key, &key)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("key.pem") || err.contains("certificate"),
            "{err}"
        );
    }

    #[test]
    fn garbage_pem_is_a_clear_error() {
        let err = parse_pem_certificates("not a certificate").unwrap_err();
        assert!(err.to_string().contains("PLUGIN_CLIENT_CERT"));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let id = Identity::generate().unwrap();
        assert!(!format!("{id:?}").contains("key:"));
    }

    #[test]
    fn pinned_verifier_accepts_only_the_announced_certificate() {
        let a = Identity::generate().unwrap();
        let b = Identity::generate().unwrap();
        let verifier = PinnedVerifier::new(vec![a.cert.clone()], provider());
        assert!(verifier.check(&a.cert).is_ok());
        assert!(verifier.check(&b.cert).is_err());
    }

    #[tokio::test]
    async fn mutual_tls_between_pinned_configs_negotiates_h2() {
        let host = Identity::generate().unwrap();
        let plugin = Identity::generate().unwrap();
        let server = mtls_server_config(&plugin, vec![host.cert.clone()]).unwrap();
        let client = mtls_client_config(&host, vec![plugin.cert.clone()]).unwrap();
        let (a, b) = tokio::io::duplex(64 * 1024);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let name = ServerName::try_from("localhost").unwrap();
        let (s, c) = tokio::join!(acceptor.accept(a), connector.connect(name, b));
        let (s, c) = (s.unwrap(), c.unwrap());
        assert_eq!(c.get_ref().1.alpn_protocol(), Some(ALPN_H2));
        assert_eq!(s.get_ref().1.alpn_protocol(), Some(ALPN_H2));
    }

    #[tokio::test]
    async fn a_different_client_certificate_is_refused() {
        let host = Identity::generate().unwrap();
        let stranger = Identity::generate().unwrap();
        let plugin = Identity::generate().unwrap();
        let server = mtls_server_config(&plugin, vec![host.cert.clone()]).unwrap();
        let client = mtls_client_config(&stranger, vec![plugin.cert.clone()]).unwrap();
        let (a, b) = tokio::io::duplex(64 * 1024);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let name = ServerName::try_from("localhost").unwrap();
        let (s, _c) = tokio::join!(acceptor.accept(a), connector.connect(name, b));
        assert!(s.is_err());
    }
}
