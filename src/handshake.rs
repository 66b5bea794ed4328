//! The handshake: the one line a plugin prints on stdout to tell its host where and how to connect,
//! and the negotiation of the application protocol version that precedes it.
//!
//! ```text
//! CORE | APP | NETWORK | ADDRESS | PROTOCOL | SERVER_CERT [ | MUX ]
//!  1   |  3  |  unix   | /tmp/plugin123 | grpc |            <- no AutoMTLS: the line ends in `|`
//! ```
//!
//! * `CORE` is go-plugin's own protocol version, always `1`.
//! * `APP` is the application protocol version the plugin picked from `PLUGIN_PROTOCOL_VERSIONS`
//!   (see [`negotiate_version`]).
//! * `SERVER_CERT` is the plugin's AutoMTLS certificate, DER in base64 *without padding*, and only
//!   when the host asked for AutoMTLS; go-plugin hosts that did not ask crash on a long field 6.
//! * `MUX` exists only when the host set `PLUGIN_MULTIPLEX_GRPC`: hosts before go-plugin v1.6 split
//!   the line into at most six parts and would glue a seventh onto the certificate.
//!
//! Go plugins always print six fields; hosts accept four to seven (four means `netrpc`). Everything
//! here is pure: [`HandshakeLine`] formats the line a plugin prints and parses the line a host reads,
//! with go-plugin's error texts.

use std::fmt;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;

use crate::error::Error;

/// go-plugin's core protocol version; every go-plugin since 2016 speaks `1`.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// A field 6 this long or shorter is ignored by hosts (go-plugin's rule: only a value longer than
/// 50 characters is taken as a certificate).
const MIN_CERT_FIELD_LEN: usize = 50;

/// What host and plugin must agree on before anything else: go-plugin's `HandshakeConfig`.
///
/// The magic cookie is not a security measure; it tells a binary that it was started by a host
/// (and not by a person at a shell), so that it can print a friendly message instead.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeConfig {
    /// The legacy single app protocol version (`HandshakeConfig.ProtocolVersion`).
    pub protocol_version: u32,
    /// Name of the environment variable carrying the cookie, e.g. `BASIC_PLUGIN`.
    pub magic_cookie_key: String,
    /// Value the cookie variable must have, e.g. `hello`.
    pub magic_cookie_value: String,
}

impl HandshakeConfig {
    /// A handshake with the given legacy version and cookie.
    pub fn new(protocol_version: u32, key: impl Into<String>, value: impl Into<String>) -> Self {
        HandshakeConfig {
            protocol_version,
            magic_cookie_key: key.into(),
            magic_cookie_value: value.into(),
        }
    }
}

/// Where the plugin listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Network {
    /// A Unix domain socket; the address is its path.
    Unix,
    /// TCP; the address is `host:port`.
    Tcp,
}

impl Network {
    /// The name used on the wire (`unix` or `tcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Unix => "unix",
            Network::Tcp => "tcp",
        }
    }

    /// Parses `unix` or `tcp`.
    pub fn parse(s: &str) -> Option<Network> {
        match s {
            "unix" => Some(Network::Unix),
            "tcp" => Some(Network::Tcp),
            _ => None,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The RPC transport spoken on the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// Go's `net/rpc` with gob encoding over a yamux session.
    NetRpc,
    /// gRPC over HTTP/2.
    Grpc,
}

impl Protocol {
    /// The name used on the wire (`netrpc` or `grpc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::NetRpc => "netrpc",
            Protocol::Grpc => "grpc",
        }
    }

    /// Parses `netrpc` or `grpc`.
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "netrpc" => Some(Protocol::NetRpc),
            "grpc" => Some(Protocol::Grpc),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One handshake line, as a plugin prints it and a host reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeLine {
    /// The negotiated app protocol version.
    pub app_version: u32,
    /// Unix socket or TCP.
    pub network: Network,
    /// Socket path or `host:port`.
    pub address: String,
    /// The RPC transport.
    pub protocol: Protocol,
    /// The plugin's AutoMTLS certificate (DER), present only when the host sent its own.
    pub server_cert: Option<Vec<u8>>,
    /// Field 7: present only when the host set `PLUGIN_MULTIPLEX_GRPC`.
    pub multiplex: Option<bool>,
}

impl<'a> HostExpectations<'a> {
    /// A host offering `versions`, accepting `protocols`, asking for multiplexing or not.
    pub fn new(versions: &'a [u32], protocols: &'a [Protocol], multiplex: bool) -> Self {
        HostExpectations {
            versions,
            protocols,
            multiplex,
        }
    }
}

/// What a host expects of a handshake line (go-plugin checks these while parsing).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HostExpectations<'a> {
    /// The app protocol versions the host offered.
    pub versions: &'a [u32],
    /// The transports the host accepts.
    pub protocols: &'a [Protocol],
    /// Whether the host asked for gRPC broker multiplexing.
    pub multiplex: bool,
}

impl fmt::Display for HandshakeLine {
    /// The line without its trailing newline, in the shape Go plugins print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cert = self
            .server_cert
            .as_deref()
            .map(|der| STANDARD_NO_PAD.encode(der))
            .unwrap_or_default();
        write!(
            f,
            "{}|{}|{}|{}|{}|{}",
            CORE_PROTOCOL_VERSION,
            self.app_version,
            self.network,
            self.address,
            self.protocol,
            cert
        )?;
        if let Some(mux) = self.multiplex {
            write!(f, "|{mux}")?;
        }
        Ok(())
    }
}

impl HandshakeLine {
    /// A line announcing `address` over `network` for `protocol` at `app_version`, without a
    /// certificate or a multiplexing field (set those fields after).
    pub fn new(
        app_version: u32,
        network: Network,
        address: impl Into<String>,
        protocol: Protocol,
    ) -> Self {
        HandshakeLine {
            app_version,
            network,
            address: address.into(),
            protocol,
            server_cert: None,
            multiplex: None,
        }
    }

    /// Parses and validates a line the way a go-plugin host does, in go-plugin's order and with
    /// its error texts.
    ///
    /// `Unrecognized remote plugin message` errors carry only the line; a host adds its
    /// diagnostics after it.
    pub fn parse(line: &str, expect: &HostExpectations<'_>) -> Result<HandshakeLine, Error> {
        let line = line.trim();
        let parts: Vec<&str> = line.split('|').collect();
        if parts.len() < 4 {
            return Err(Error::Handshake(format!(
                "Unrecognized remote plugin message: {line}"
            )));
        }

        let core: i64 = parts[0].parse().map_err(|e| {
            Error::Handshake(format!(
                "error parsing core protocol version: {}",
                go_atoi_error(parts[0], &e)
            ))
        })?;
        if core != i64::from(CORE_PROTOCOL_VERSION) {
            return Err(Error::Incompatible {
                plugin: parts[0].to_string(),
                host: vec![CORE_PROTOCOL_VERSION],
                message: format!(
                    "incompatible core API version with plugin. Plugin version: {}, Core version: \
                     {}\n\nTo fix this, the plugin usually only needs to be recompiled.\n\
                     Please report this to the plugin author",
                    parts[0], CORE_PROTOCOL_VERSION
                ),
            });
        }

        let app: i64 = parts[1].parse().map_err(|e| {
            Error::Handshake(format!(
                "Error parsing protocol version {:?}: {}",
                parts[1],
                go_atoi_error(parts[1], &e)
            ))
        })?;
        let app_version = u32::try_from(app)
            .ok()
            .filter(|v| expect.versions.contains(v))
            .ok_or_else(|| Error::Incompatible {
                plugin: parts[1].to_string(),
                host: expect.versions.to_vec(),
                message: format!(
                    "incompatible API version with plugin. Plugin version: {}, Client versions: [{}]",
                    app,
                    join(expect.versions.iter())
                ),
            })?;

        let network = Network::parse(parts[2])
            .ok_or_else(|| Error::Handshake(format!("unknown address type: {}", parts[3])))?;
        let address = parts[3].to_string();

        let protocol_text = parts.get(4).copied().unwrap_or("netrpc");
        let protocol = Protocol::parse(protocol_text)
            .filter(|p| expect.protocols.contains(p))
            .ok_or_else(|| {
                Error::Handshake(format!(
                    "unsupported plugin protocol {:?}. Supported: [{}]",
                    protocol_text,
                    join(expect.protocols.iter())
                ))
            })?;

        let server_cert = match parts.get(5) {
            Some(field) if field.len() > MIN_CERT_FIELD_LEN => Some(
                STANDARD_NO_PAD
                    .decode(field)
                    .map_err(|e| Error::Tls(format!("error parsing server cert: {e}")))?,
            ),
            _ => None,
        };

        let multiplex = match parts.get(6) {
            None => None,
            Some(field) => Some(parse_go_bool(field).ok_or_else(|| {
                Error::Handshake(format!(
                    "error parsing {field:?} as a boolean for gRPC broker multiplexing support"
                ))
            })?),
        };
        if expect.multiplex && protocol == Protocol::Grpc && multiplex != Some(true) {
            let hint = if multiplex.is_none() {
                "; for Go plugins, you will need to update the github.com/hashicorp/go-plugin dependency and recompile"
            } else {
                ""
            };
            return Err(Error::Handshake(format!(
                "client requested gRPC broker multiplexing but plugin does not support the feature{hint}"
            )));
        }

        Ok(HandshakeLine {
            app_version,
            network,
            address,
            protocol,
            server_cert,
            multiplex,
        })
    }
}

/// Picks the app protocol version a plugin serves, exactly as go-plugin's plugin side does:
/// the highest version of the plugin's own that the host offered, or, when none matches, the
/// plugin's lowest version (so a legacy host that offers nothing still gets an answer, and a host
/// with no overlap reports the incompatibility itself). `None` only when the plugin has no version.
pub fn negotiate_version(
    host_versions: &[i64],
    plugin_versions: impl IntoIterator<Item = u32>,
) -> Option<u32> {
    let mut ours: Vec<u32> = plugin_versions.into_iter().collect();
    ours.sort_unstable_by(|a, b| b.cmp(a));
    ours.dedup();
    ours.iter()
        .copied()
        .find(|v| host_versions.contains(&i64::from(*v)))
        .or_else(|| ours.last().copied())
}

/// Go's `strconv.ParseBool` syntax.
pub(crate) fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The text of Go's `strconv.Atoi` error, which go-plugin includes in its messages.
fn go_atoi_error(input: &str, err: &std::num::ParseIntError) -> String {
    use std::num::IntErrorKind;
    let reason = match err.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
        _ => "invalid syntax",
    };
    format!("strconv.Atoi: parsing {input:?}: {reason}")
}

/// Go's `%v` of a slice: elements separated by one space.
fn join<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRPC_ONLY: &[Protocol] = &[Protocol::Grpc];

    fn expect(versions: &'static [u32]) -> HostExpectations<'static> {
        HostExpectations {
            versions,
            protocols: &[Protocol::Grpc, Protocol::NetRpc],
            multiplex: false,
        }
    }

    fn line(cert: Option<Vec<u8>>, multiplex: Option<bool>) -> HandshakeLine {
        HandshakeLine {
            app_version: 1,
            network: Network::Unix,
            address: "/tmp/plugin123".into(),
            protocol: Protocol::Grpc,
            server_cert: cert,
            multiplex,
        }
    }

    #[test]
    fn formats_six_fields_with_trailing_bar_without_certificate() {
        assert_eq!(
            line(None, None).to_string(),
            "1|1|unix|/tmp/plugin123|grpc|"
        );
    }

    #[test]
    fn formats_seventh_field_only_when_multiplexing_was_asked() {
        assert_eq!(
            line(None, Some(true)).to_string(),
            "1|1|unix|/tmp/plugin123|grpc||true"
        );
    }

    #[test]
    fn formats_certificate_as_unpadded_standard_base64() {
        // 4 bytes: padded base64 would be "+/+/AA==".
        let text = line(Some(vec![0xfb, 0xff, 0xbf, 0x00]), None).to_string();
        assert_eq!(text, "1|1|unix|/tmp/plugin123|grpc|+/+/AA");
        assert!(!text.contains('='));
    }

    #[test]
    fn parses_what_it_formats() {
        let cert = vec![7u8; 600];
        let original = line(Some(cert), Some(true));
        let exp = HostExpectations {
            multiplex: true,
            ..expect(&[1])
        };
        assert_eq!(
            HandshakeLine::parse(&original.to_string(), &exp).unwrap(),
            original
        );
    }

    #[test]
    fn four_fields_mean_netrpc() {
        let parsed = HandshakeLine::parse("1|1|tcp|:1234\n", &expect(&[1])).unwrap();
        assert_eq!(parsed.protocol, Protocol::NetRpc);
        assert_eq!(parsed.network, Network::Tcp);
        assert_eq!(parsed.address, ":1234");
        assert_eq!(parsed.server_cert, None);
    }

    #[test]
    fn five_fields_and_crlf_are_accepted() {
        let parsed =
            HandshakeLine::parse("1|1|tcp|127.0.0.1:1234|grpc\r\n", &expect(&[1])).unwrap();
        assert_eq!(parsed.protocol, Protocol::Grpc);
    }

    #[test]
    fn short_certificate_fields_are_ignored() {
        let parsed = HandshakeLine::parse("1|1|unix|/p|grpc|short", &expect(&[1])).unwrap();
        assert_eq!(parsed.server_cert, None);
    }

    #[test]
    fn fewer_than_four_fields_is_unrecognized() {
        let err = HandshakeLine::parse("hello world", &expect(&[1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unrecognized remote plugin message: hello world"
        );
    }

    #[test]
    fn wrong_core_version_uses_go_text() {
        let err = HandshakeLine::parse("2|1|unix|/p|grpc|", &expect(&[1])).unwrap_err();
        assert!(err.to_string().starts_with(
            "incompatible core API version with plugin. Plugin version: 2, Core version: 1"
        ));
        let err = HandshakeLine::parse("x|1|unix|/p|grpc|", &expect(&[1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error parsing core protocol version: strconv.Atoi: parsing \"x\": invalid syntax"
        );
    }

    #[test]
    fn version_not_offered_uses_go_text() {
        let err = HandshakeLine::parse("1|5|unix|/p|grpc|", &expect(&[1, 2])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "incompatible API version with plugin. Plugin version: 5, Client versions: [1 2]"
        );
        let err = HandshakeLine::parse("1|v|unix|/p|grpc|", &expect(&[1])).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("Error parsing protocol version \"v\""));
    }

    #[test]
    fn unknown_network_and_protocol_use_go_text() {
        let err = HandshakeLine::parse("1|1|pipe|/p|grpc|", &expect(&[1])).unwrap_err();
        assert_eq!(err.to_string(), "unknown address type: /p");
        let exp = HostExpectations {
            protocols: GRPC_ONLY,
            ..expect(&[1])
        };
        let err = HandshakeLine::parse("1|1|unix|/p|netrpc|", &exp).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported plugin protocol \"netrpc\". Supported: [grpc]"
        );
    }

    #[test]
    fn padded_certificate_is_refused() {
        let padded = base64::engine::general_purpose::STANDARD.encode([1u8; 61]);
        assert!(padded.ends_with('='));
        let err =
            HandshakeLine::parse(&format!("1|1|unix|/p|grpc|{padded}"), &expect(&[1])).unwrap_err();
        assert!(err.to_string().contains("error parsing server cert"));
    }

    #[test]
    fn multiplex_request_needs_a_true_seventh_field() {
        let exp = HostExpectations {
            multiplex: true,
            ..expect(&[1])
        };
        let err = HandshakeLine::parse("1|1|unix|/p|grpc|", &exp).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("update the github.com/hashicorp/go-plugin dependency and recompile"));
        let err = HandshakeLine::parse("1|1|unix|/p|grpc||false", &exp).unwrap_err();
        assert_eq!(
            err.to_string(),
            "client requested gRPC broker multiplexing but plugin does not support the feature"
        );
        let err = HandshakeLine::parse("1|1|unix|/p|grpc||yes", &exp).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error parsing \"yes\" as a boolean for gRPC broker multiplexing support"
        );
        assert_eq!(
            HandshakeLine::parse("1|1|unix|/p|grpc||T", &exp)
                .unwrap()
                .multiplex,
            Some(true)
        );
        // netrpc ignores the request.
        assert!(HandshakeLine::parse("1|1|unix|/p|netrpc|", &exp).is_ok());
    }

    #[test]
    fn negotiation_picks_highest_common_version() {
        assert_eq!(negotiate_version(&[5, 6], [4, 5, 6]), Some(6));
        assert_eq!(negotiate_version(&[6, 5], [5]), Some(5));
        assert_eq!(negotiate_version(&[1, 2, 3], [3, 2]), Some(3));
    }

    #[test]
    fn negotiation_falls_back_to_lowest_version() {
        assert_eq!(negotiate_version(&[], [3, 2]), Some(2));
        assert_eq!(negotiate_version(&[9], [3, 1, 2]), Some(1));
        assert_eq!(negotiate_version(&[1], []), None);
    }
}
