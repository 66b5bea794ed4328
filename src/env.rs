//! The environment contract between host and plugin (go-plugin passes everything through
//! environment variables of the plugin process).
//!
//! | variable | set by the host | meaning for the plugin |
//! | --- | --- | --- |
//! | `<MagicCookieKey>` | always | must equal the cookie value, else "This binary is a plugin…" and exit 1 |
//! | `PLUGIN_MIN_PORT`, `PLUGIN_MAX_PORT` | always (`10000`, `25000`) | TCP port range (TCP listeners only) |
//! | `PLUGIN_PROTOCOL_VERSIONS` | always | app versions the host accepts, `5,6`, any order, may be empty |
//! | `PLUGIN_MULTIPLEX_GRPC` | when the host wants broker multiplexing | any non-empty value adds handshake field 7 |
//! | `PLUGIN_CLIENT_CERT` | with AutoMTLS | the host's certificate as PEM |
//! | `PLUGIN_UNIX_SOCKET_DIR` | with a custom runner | the directory for every socket the plugin creates |
//! | `PLUGIN_UNIX_SOCKET_GROUP` | when a socket group is configured | group name or gid; sockets become 0660 |
//!
//! This module is pure: it reads through a lookup function, so tests pass a map and
//! [`PluginEnv::from_process`] passes `std::env::var`.

use std::path::PathBuf;

use crate::error::Error;
use crate::handshake::{parse_go_bool, HandshakeConfig};

/// `PLUGIN_MIN_PORT`: lowest TCP port a plugin may listen on.
pub const MIN_PORT: &str = "PLUGIN_MIN_PORT";
/// `PLUGIN_MAX_PORT`: highest TCP port a plugin may listen on.
pub const MAX_PORT: &str = "PLUGIN_MAX_PORT";
/// `PLUGIN_PROTOCOL_VERSIONS`: the app versions the host accepts, comma-separated.
pub const PROTOCOL_VERSIONS: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// `PLUGIN_MULTIPLEX_GRPC`: the host asks for gRPC broker multiplexing.
pub const MULTIPLEX_GRPC: &str = "PLUGIN_MULTIPLEX_GRPC";
/// `PLUGIN_CLIENT_CERT`: the host's AutoMTLS certificate (PEM).
pub const CLIENT_CERT: &str = "PLUGIN_CLIENT_CERT";
/// `PLUGIN_UNIX_SOCKET_DIR`: where the plugin must create its sockets.
pub const UNIX_SOCKET_DIR: &str = "PLUGIN_UNIX_SOCKET_DIR";
/// `PLUGIN_UNIX_SOCKET_GROUP`: the group that must own the plugin's sockets.
pub const UNIX_SOCKET_GROUP: &str = "PLUGIN_UNIX_SOCKET_GROUP";

/// go-plugin's text when a plugin is started without the right cookie (printed on stderr, exit 1).
pub const NOT_STARTED_BY_HOST: &str =
    "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically\n";

/// go-plugin's text when the plugin's own handshake configuration has no cookie.
pub const MISCONFIGURED_COOKIE: &str =
    "Misconfigured ServeConfig given to serve this plugin: no magic cookie\n\
key or value was set. Please notify the plugin author and report\n\
this as a bug.\n";

/// A Unix group given by name or by number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Group {
    /// A group name to look up.
    Name(String),
    /// A numeric group id.
    Id(u32),
}

impl Group {
    /// Go's rule: a value that parses as a number is a gid, anything else a name.
    pub fn parse(s: &str) -> Group {
        s.parse()
            .map(Group::Id)
            .unwrap_or_else(|_| Group::Name(s.to_string()))
    }
}

/// Everything a plugin reads from its environment, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginEnv {
    /// Raw `PLUGIN_MIN_PORT` (parsed only when a TCP listener is needed, as Go does).
    pub min_port: Option<String>,
    /// Raw `PLUGIN_MAX_PORT`.
    pub max_port: Option<String>,
    /// The versions of `PLUGIN_PROTOCOL_VERSIONS` that parsed.
    pub host_versions: Vec<i64>,
    /// Entries of `PLUGIN_PROTOCOL_VERSIONS` that did not parse (Go warns and skips them).
    pub invalid_versions: Vec<String>,
    /// `PLUGIN_MULTIPLEX_GRPC` was set to a non-empty value (answer with handshake field 7).
    pub multiplex_announce: bool,
    /// `PLUGIN_MULTIPLEX_GRPC` parses as true (actually run the multiplexed broker).
    pub multiplex_enable: bool,
    /// `PLUGIN_CLIENT_CERT`, the host's certificate (PEM), when AutoMTLS is on.
    pub client_cert_pem: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`.
    pub unix_socket_dir: Option<PathBuf>,
    /// `PLUGIN_UNIX_SOCKET_GROUP`.
    pub unix_socket_group: Option<Group>,
}

impl PluginEnv {
    /// Reads the environment of this process.
    pub fn from_process() -> PluginEnv {
        PluginEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the contract through `lookup`; an empty value counts as unset, as in Go.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> PluginEnv {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let (host_versions, invalid_versions) =
            parse_versions(&get(PROTOCOL_VERSIONS).unwrap_or_default());
        let multiplex = get(MULTIPLEX_GRPC);
        PluginEnv {
            min_port: get(MIN_PORT),
            max_port: get(MAX_PORT),
            host_versions,
            invalid_versions,
            multiplex_announce: multiplex.is_some(),
            multiplex_enable: multiplex
                .as_deref()
                .and_then(parse_go_bool)
                .unwrap_or(false),
            client_cert_pem: get(CLIENT_CERT),
            unix_socket_dir: get(UNIX_SOCKET_DIR).map(PathBuf::from),
            unix_socket_group: get(UNIX_SOCKET_GROUP).map(|g| Group::parse(&g)),
        }
    }

    /// The TCP port range, with go-plugin's error texts; both unset → `0..=0` (any free port).
    pub fn port_range(&self) -> Result<(u16, u16), Error> {
        let min = parse_port(MIN_PORT, self.min_port.as_deref())?;
        let max = parse_port(MAX_PORT, self.max_port.as_deref())?;
        if min > max {
            return Err(Error::Env(format!(
                "{MIN_PORT} value of {min} is greater than {MAX_PORT} value of {max}"
            )));
        }
        Ok((min, max))
    }
}

/// What a host passes to a plugin it launches, beyond its own environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostEnv {
    /// The cookie variable and value.
    pub cookie: (String, String),
    /// The app versions the host accepts (`PLUGIN_PROTOCOL_VERSIONS`).
    pub versions: Vec<u32>,
    /// TCP port range; go-plugin's defaults are 10000 and 25000.
    pub ports: (u16, u16),
    /// Ask for gRPC broker multiplexing (`PLUGIN_MULTIPLEX_GRPC=true`).
    pub multiplex: bool,
    /// The host's AutoMTLS certificate (PEM) for `PLUGIN_CLIENT_CERT`.
    pub client_cert_pem: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_GROUP`.
    pub socket_group: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`.
    pub socket_dir: Option<PathBuf>,
}

impl HostEnv {
    /// The variables in go-plugin's order (cookie, ports, versions, then the optional ones); set
    /// after the rest of the plugin's environment so that they win.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            (self.cookie.0.clone(), self.cookie.1.clone()),
            (MIN_PORT.to_string(), self.ports.0.to_string()),
            (MAX_PORT.to_string(), self.ports.1.to_string()),
            (
                PROTOCOL_VERSIONS.to_string(),
                format_versions(&self.versions),
            ),
        ];
        if self.multiplex {
            vars.push((MULTIPLEX_GRPC.to_string(), "true".to_string()));
        }
        if let Some(pem) = &self.client_cert_pem {
            vars.push((CLIENT_CERT.to_string(), pem.clone()));
        }
        if let Some(group) = &self.socket_group {
            vars.push((UNIX_SOCKET_GROUP.to_string(), group.clone()));
        }
        if let Some(dir) = &self.socket_dir {
            vars.push((UNIX_SOCKET_DIR.to_string(), dir.display().to_string()));
        }
        vars
    }
}

/// Checks the magic cookie the way go-plugin's `Serve` does; the error's text is what must be
/// printed on stderr before exiting with status 1.
pub fn check_cookie(
    config: &HandshakeConfig,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), Error> {
    if config.magic_cookie_key.is_empty() || config.magic_cookie_value.is_empty() {
        return Err(Error::Cookie(MISCONFIGURED_COOKIE.to_string()));
    }
    if lookup(&config.magic_cookie_key).unwrap_or_default() != config.magic_cookie_value {
        return Err(Error::Cookie(NOT_STARTED_BY_HOST.to_string()));
    }
    Ok(())
}

/// Splits `PLUGIN_PROTOCOL_VERSIONS` like Go: every comma-separated entry parsed as a decimal
/// integer; entries that do not parse are returned separately.
pub fn parse_versions(value: &str) -> (Vec<i64>, Vec<String>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    if value.is_empty() {
        return (good, bad);
    }
    for entry in value.split(',') {
        match entry.parse() {
            Ok(v) => good.push(v),
            Err(_) => bad.push(entry.to_string()),
        }
    }
    (good, bad)
}

/// Formats the versions a host accepts for `PLUGIN_PROTOCOL_VERSIONS`.
pub fn format_versions(versions: &[u32]) -> String {
    versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_port(name: &str, value: Option<&str>) -> Result<u16, Error> {
    match value {
        None => Ok(0),
        Some(v) => v.parse().map_err(|e| {
            Error::Env(format!(
                "couldn't get value from {name}: {e} (expected a port number 0-65535, got {v:?})"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> PluginEnv {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PluginEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn reads_the_variables_a_go_host_sets() {
        let e = env(&[
            (MIN_PORT, "10000"),
            (MAX_PORT, "25000"),
            (PROTOCOL_VERSIONS, "5,6"),
            (CLIENT_CERT, "-----BEGIN CERTIFICATE-----\n"),
            (UNIX_SOCKET_DIR, "/tmp/plugin-dir1"),
            (UNIX_SOCKET_GROUP, "staff"),
        ]);
        assert_eq!(e.port_range().unwrap(), (10000, 25000));
        assert_eq!(e.host_versions, vec![5, 6]);
        assert!(e.invalid_versions.is_empty());
        assert!(!e.multiplex_announce);
        assert!(e.client_cert_pem.is_some());
        assert_eq!(e.unix_socket_dir, Some(PathBuf::from("/tmp/plugin-dir1")));
        assert_eq!(e.unix_socket_group, Some(Group::Name("staff".into())));
    }

    #[test]
    fn empty_environment_means_nothing_requested() {
        let e = env(&[]);
        assert_eq!(e, PluginEnv::default());
        assert_eq!(e.port_range().unwrap(), (0, 0));
    }

    #[test]
    fn invalid_versions_are_skipped_and_reported() {
        assert_eq!(parse_versions("1,x,3"), (vec![1, 3], vec!["x".to_string()]));
        assert_eq!(parse_versions(""), (vec![], vec![]));
        assert_eq!(parse_versions(" 1"), (vec![], vec![" 1".to_string()]));
        assert_eq!(format_versions(&[5, 6]), "5,6");
    }

    #[test]
    fn bad_ports_say_which_variable() {
        let e = env(&[(MIN_PORT, "abc")]);
        assert!(e
            .port_range()
            .unwrap_err()
            .to_string()
            .starts_with("couldn't get value from PLUGIN_MIN_PORT"));
        let e = env(&[(MIN_PORT, "20"), (MAX_PORT, "10")]);
        assert_eq!(
            e.port_range().unwrap_err().to_string(),
            "PLUGIN_MIN_PORT value of 20 is greater than PLUGIN_MAX_PORT value of 10"
        );
    }

    #[test]
    fn multiplex_is_announced_for_any_value_but_enabled_only_for_true() {
        let e = env(&[(MULTIPLEX_GRPC, "yes")]);
        assert!(e.multiplex_announce && !e.multiplex_enable);
        let e = env(&[(MULTIPLEX_GRPC, "true")]);
        assert!(e.multiplex_announce && e.multiplex_enable);
    }

    #[test]
    fn host_variables_follow_go_plugin_and_are_read_back_by_a_plugin() {
        let host = HostEnv {
            cookie: ("BASIC_PLUGIN".into(), "hello".into()),
            versions: vec![5, 6],
            ports: (10000, 25000),
            multiplex: true,
            client_cert_pem: Some("PEM".into()),
            socket_group: Some("staff".into()),
            socket_dir: Some(PathBuf::from("/tmp/d")),
        };
        let vars = host.variables();
        assert_eq!(vars[0], ("BASIC_PLUGIN".into(), "hello".into()));
        assert_eq!(vars[3], (PROTOCOL_VERSIONS.into(), "5,6".into()));
        let map: HashMap<_, _> = vars.into_iter().collect();
        let plugin = PluginEnv::from_lookup(|k| map.get(k).cloned());
        assert_eq!(plugin.port_range().unwrap(), (10000, 25000));
        assert_eq!(plugin.host_versions, vec![5, 6]);
        assert!(plugin.multiplex_enable && plugin.multiplex_announce);
        assert_eq!(plugin.client_cert_pem.as_deref(), Some("PEM"));
        assert_eq!(plugin.unix_socket_group, Some(Group::Name("staff".into())));
        assert_eq!(plugin.unix_socket_dir, Some(PathBuf::from("/tmp/d")));
        let minimal = HostEnv {
            cookie: ("K".into(), "V".into()),
            ..HostEnv::default()
        }
        .variables();
        assert_eq!(minimal.len(), 4);
    }

    #[test]
    fn groups_are_names_or_numbers() {
        assert_eq!(Group::parse("1000"), Group::Id(1000));
        assert_eq!(Group::parse("wheel"), Group::Name("wheel".into()));
    }

    #[test]
    fn cookie_check_uses_go_texts() {
        let config = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
        assert!(check_cookie(&config, |_| Some("hello".into())).is_ok());
        assert_eq!(
            check_cookie(&config, |_| None).unwrap_err().to_string(),
            NOT_STARTED_BY_HOST
        );
        assert_eq!(
            check_cookie(&config, |_| Some("bye".into()))
                .unwrap_err()
                .to_string(),
            NOT_STARTED_BY_HOST
        );
        let empty = HandshakeConfig::new(1, "", "");
        assert_eq!(
            check_cookie(&empty, |_| None).unwrap_err().to_string(),
            MISCONFIGURED_COOKIE
        );
    }
}
