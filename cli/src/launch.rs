//! Starting (or attaching to) the plugin with the library's host side, and turning start failures
//! into advice.
//!
//! The handshake a go-plugin binary needs from its host:
//!
//! ```text
//! env  <COOKIE_KEY>=<COOKIE_VALUE>        from --cookie, --preset, or guessed from the binary
//!      PLUGIN_PROTOCOL_VERSIONS=5,6      from --versions or the preset (else 1)
//!      PLUGIN_CLIENT_CERT=<pem>          AutoMTLS, unless --no-mtls
//! ```
//!
//! A wrong cookie makes the plugin print go-plugin's "This binary is a plugin…" and exit 1; that
//! text (kept from the plugin's stderr) is what tells a wrong cookie apart from a crash.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use go_plugin::handshake::{HandshakeConfig, Protocol};
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::log::LogEntry;
use go_plugin::reattach::{parse_tf_reattach_providers, ReattachConfig};
use tracing::Level;

use crate::args::LaunchOpts;
use crate::presets::{self, Preset};
use crate::render;

/// go-plugin's text for a binary started without its cookie.
const NOT_A_HOST: &str = "This binary is a plugin";

/// How many of the plugin's stderr lines an error quotes.
const TAIL: usize = 12;

/// A started or attached plugin.
pub struct Session {
    /// The library's host.
    pub host: Host,
    /// The executable, when launched.
    pub binary: Option<PathBuf>,
    /// The versions offered.
    pub versions: Vec<u32>,
    /// The cookie key sent (for messages).
    pub cookie_key: String,
    /// Whether AutoMTLS was asked for.
    pub auto_mtls: bool,
    /// Attached with `--reattach` (then the plugin is not ours to stop).
    pub reattached: bool,
    /// Whether the plugin's log lines are shown.
    pub logs_shown: bool,
}

impl Session {
    /// Stops a launched plugin (Shutdown, grace, kill); leaves a reattached one running.
    pub async fn close(self) {
        if !self.reattached {
            self.host.kill().await;
        }
    }

    /// A short name for messages.
    pub fn name(&self) -> String {
        match &self.binary {
            Some(b) => b
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| b.display().to_string()),
            None => "the reattached plugin".into(),
        }
    }
}

/// The plugin's log level threshold from -v/-q (`None`: no plugin logs).
pub fn plugin_log_level(verbose: u8, quiet: bool) -> Option<Level> {
    match (quiet, verbose) {
        (true, _) => None,
        (false, 0) => Some(Level::INFO),
        (false, 1) => Some(Level::DEBUG),
        (false, _) => Some(Level::TRACE),
    }
}

/// The cookie and versions to use: `--cookie`/`--preset`, else the preset whose key the binary
/// names.
fn handshake(
    opts: &LaunchOpts,
    binary: Option<&Path>,
) -> Result<((String, String), Vec<u32>), String> {
    let preset: Option<&Preset> = match (&opts.cookie, opts.preset, binary) {
        (_, Some(p), _) => Some(p),
        (Some(_), None, _) => None,
        (None, None, None) => None,
        (None, None, Some(binary)) => {
            let found = presets::detect(binary);
            match found.as_slice() {
                [one] => {
                    render::note(&format!(
                        "using --preset {} (the binary names the cookie variable {}); pass --preset or --cookie to choose",
                        one.name, one.key
                    ));
                    Some(*one)
                }
                [] => {
                    return Err(format!(
                        "which magic cookie does {} expect? go-plugin binaries only start when their host sets it.\n\
                         Pass --cookie KEY=VALUE (from the plugin's HandshakeConfig) or --preset {}.",
                        binary.display(),
                        presets::names()
                    ))
                }
                many => {
                    return Err(format!(
                        "{} names several known cookie variables ({}); choose with --preset {}",
                        binary.display(),
                        many.iter().map(|p| p.key).collect::<Vec<_>>().join(", "),
                        many.iter().map(|p| p.name).collect::<Vec<_>>().join("|")
                    ))
                }
            }
        }
    };
    let cookie = match (&opts.cookie, preset) {
        (Some(c), _) => c.clone(),
        (None, Some(p)) => (p.key.to_string(), p.value.to_string()),
        (None, None) => ("GOPLUGIN_NO_COOKIE".into(), String::new()),
    };
    let versions = if !opts.versions.is_empty() {
        opts.versions.clone()
    } else if let Some(p) = preset {
        p.versions.to_vec()
    } else {
        vec![1]
    };
    Ok((cookie, versions))
}

/// The plugin's recent stderr lines, kept for error messages.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<Vec<String>>>);

impl Tail {
    fn push(&self, entry: &LogEntry) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == TAIL {
            lines.remove(0);
        }
        lines.push(entry.message.clone());
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Launches `binary` with `args`, or attaches to `reattach`, and waits for the handshake.
pub async fn start(
    opts: &LaunchOpts,
    binary: Option<&Path>,
    args: &[String],
    reattach: Option<&str>,
    log_level: Option<Level>,
) -> Result<Session, String> {
    if let Some(binary) = binary {
        check_executable(binary)?;
    }
    let (cookie, versions) = handshake(opts, binary)?;
    let tail = Tail::default();
    let hook_tail = tail.clone();
    let mut config = HostConfig::new(HandshakeConfig::new(
        versions[0],
        cookie.0.clone(),
        cookie.1.clone(),
    ))
    .allowed_protocols(&[Protocol::Grpc, Protocol::NetRpc])
    .start_timeout(Duration::from_secs(opts.timeout))
    .sync_stdout(std::io::stderr())
    .sync_stderr(std::io::stderr())
    .on_log(move |name, entry| {
        hook_tail.push(entry);
        if log_level.is_some_and(|l| entry.level <= l) {
            render::log_line(name, entry);
        }
    });
    for v in &versions {
        config = config.version(*v, ClientSet::new());
    }
    let reattached = reattach.is_some();
    let auto_mtls = !opts.no_mtls && !reattached;
    config = match (binary, reattach) {
        (_, Some(text)) => config.reattach(parse_reattach(text)?),
        (Some(binary), None) => {
            let mut command = std::process::Command::new(binary);
            command.args(args).envs(opts.env.iter().cloned());
            config
                .command(command)
                .auto_mtls(auto_mtls)
                .multiplex(opts.mux)
        }
        (None, None) => return Err("give the plugin BINARY or --reattach CONFIG".into()),
    };
    let host = Host::new(config);
    if let Err(e) = host.start().await {
        host.kill().await;
        return Err(explain_start_failure(
            &e.to_string(),
            binary,
            &cookie,
            &versions,
            &tail.lines(),
        ));
    }
    Ok(Session {
        host,
        binary: binary.map(Path::to_path_buf),
        versions,
        cookie_key: cookie.0,
        auto_mtls,
        reattached,
        logs_shown: log_level.is_some(),
    })
}

fn check_executable(binary: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(binary).map_err(|e| {
        format!(
            "cannot use plugin {}: {e}\nGive the path to the plugin executable (e.g. ./terraform-provider-time).",
            binary.display()
        )
    })?;
    if !meta.is_file() {
        return Err(format!(
            "{} is not a file; give the path to the plugin executable",
            binary.display()
        ));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "{} is not executable; try `chmod +x {}`",
            binary.display(),
            binary.display()
        ));
    }
    Ok(())
}

/// A ReattachConfig object, or a TF_REATTACH_PROVIDERS map with exactly one entry.
pub fn parse_reattach(text: &str) -> Result<ReattachConfig, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!("--reattach is not JSON ({e}); paste the line `goplugin serve-reattach` printed")
    })?;
    if value.get("Addr").is_some() {
        return ReattachConfig::from_json(&value).map_err(|e| e.to_string());
    }
    let providers = parse_tf_reattach_providers(text).map_err(|e| e.to_string())?;
    let mut entries = providers.into_iter();
    match (entries.next(), entries.next()) {
        (Some((_, config)), None) => Ok(config),
        (None, _) => Err("--reattach: TF_REATTACH_PROVIDERS has no provider in it".into()),
        (Some((first, _)), Some((second, _))) => Err(format!(
            "--reattach: TF_REATTACH_PROVIDERS names several providers ({first}, {second}, …); \
             pass one entry's object instead"
        )),
    }
}

/// Advice for a plugin that did not start.
fn explain_start_failure(
    error: &str,
    binary: Option<&Path>,
    cookie: &(String, String),
    versions: &[u32],
    stderr: &[String],
) -> String {
    let name = binary
        .map(|b| b.display().to_string())
        .unwrap_or_else(|| "the plugin".into());
    if stderr.iter().any(|l| l.contains(NOT_A_HOST)) {
        let value = if cookie.1.chars().count() > 16 {
            format!("{}…", cookie.1.chars().take(12).collect::<String>())
        } else {
            cookie.1.clone()
        };
        let detected = binary.map(presets::detect).unwrap_or_default();
        let other: Vec<_> = detected.iter().filter(|p| p.key != cookie.0).collect();
        let suggestion = if let Some(p) = other.first() {
            format!("try --preset {} (the binary names {})", p.name, p.key)
        } else if detected.iter().any(|p| p.key == cookie.0) {
            format!(
                "the binary does name {}: check its value (--cookie {}=VALUE)",
                cookie.0, cookie.0
            )
        } else {
            let untried: Vec<&str> = presets::PRESETS
                .iter()
                .filter(|p| p.key != cookie.0)
                .map(|p| p.name)
                .collect();
            format!(
                "try --preset {}, or --cookie KEY=VALUE from the plugin's HandshakeConfig",
                untried.join("|")
            )
        };
        return format!(
            "this binary expects a different magic cookie; {suggestion}.\n\
             Started with {}={value}, {name} printed go-plugin's \"This binary is a plugin. \
             These are not meant to be executed directly.\" and exited.",
            cookie.0
        );
    }
    let offered = versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let hint = if error.contains("incompatible API version") {
        let theirs = error
            .split("Plugin version: ")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .unwrap_or("N");
        format!("\nThe plugin speaks app protocol {theirs} but was offered {offered}: try --versions {theirs}.")
    } else if error.contains("AutoMTLS") {
        "\nThis plugin cannot do AutoMTLS: add --no-mtls.".into()
    } else if error.contains("multiplexing") {
        "\nThis plugin cannot multiplex: leave out --mux.".into()
    } else if error.contains("timeout while waiting") {
        "\nThe plugin printed no handshake line in time: is it a go-plugin binary? (--timeout SECONDS waits longer)".into()
    } else if error.contains("Unrecognized remote plugin message") {
        "\nThe plugin's first stdout line is not a go-plugin handshake: is it a go-plugin binary, and does it need arguments (after --)?".into()
    } else if error.contains("reattachment process not found") {
        "\nThe reattach config points at a plugin that is not running any more: start it again with `goplugin serve-reattach`.".into()
    } else {
        String::new()
    };
    let mut message = format!("{name} did not start: {error}{hint}");
    let quoted: Vec<_> = stderr
        .iter()
        .filter(|l| !error.contains(l.as_str()))
        .collect();
    if !quoted.is_empty() {
        message.push_str("\nIts last stderr lines:");
        for line in quoted {
            message.push_str(&format!("\n  {line}"));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_cookie_is_explained_with_a_preset_to_try() {
        let text = explain_start_failure(
            "plugin exited before we could connect",
            None,
            &("TF_PLUGIN_MAGIC_COOKIE".into(), "x".into()),
            &[5],
            &["This binary is a plugin. These are not meant to be executed directly.".into()],
        );
        assert!(
            text.starts_with(
                "this binary expects a different magic cookie; try --preset nomad|vault"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_incompatible_version_suggests_the_plugins_own() {
        let text = explain_start_failure(
            "incompatible API version with plugin. Plugin version: 5, Client versions: [1]",
            None,
            &("K".into(), "V".into()),
            &[1],
            &[],
        );
        assert!(text.contains("try --versions 5"), "{text}");
    }

    #[test]
    fn reattach_takes_an_object_or_a_single_provider_map() {
        let object = r#"{"Protocol":"grpc","ProtocolVersion":5,"Pid":7,"Test":true,"Addr":{"Network":"unix","String":"/tmp/p"}}"#;
        let one = parse_reattach(object).unwrap();
        assert_eq!((one.pid, one.address.as_str()), (7, "/tmp/p"));
        let map = format!(r#"{{"registry.terraform.io/hashicorp/time":{object}}}"#);
        assert_eq!(parse_reattach(&map).unwrap(), one);
        let two = format!(r#"{{"a":{object},"b":{object}}}"#);
        assert!(parse_reattach(&two)
            .unwrap_err()
            .contains("several providers"));
        assert!(parse_reattach("nope").unwrap_err().contains("not JSON"));
    }
}
