//! `goplugin inspect`: what a plugin is, as its host sees it.
//!
//! 1. the handshake line (core and app version, network, address, transport, TLS, multiplexing);
//! 2. the health of service `plugin` (go-plugin's `Ping`);
//! 3. through gRPC reflection, every service with its methods and the fields of their request
//!    and response messages (`--brief`: methods only); go-plugin's own services (broker, controller, stdio, health,
//!    reflection) are listed on one line at the end.

use go_plugin::handshake::{HandshakeLine, Protocol, CORE_PROTOCOL_VERSION};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::launch::Session;
use crate::reflect::Reflection;
use crate::render::{self, paint, printable, Style};

/// Width the message shapes wrap at.
const WIDTH: usize = 100;

/// True for go-plugin's own services (every plugin has them).
fn internal(service: &str) -> bool {
    service.starts_with("plugin.GRPC")
        || service.starts_with("grpc.health.")
        || service.starts_with("grpc.reflection.")
}

/// Prints the report; the plugin keeps running until the caller closes the session.
pub async fn run(session: &Session, brief: bool) -> Result<(), String> {
    let host = &session.host;
    let heading = |s: &str| println!("{}", paint(Style::Bold, s));
    let row = |k: &str, v: String| println!("  {:<14}{}", paint(Style::Dim, k), printable(&v));

    heading("plugin");
    match (&session.binary, host.reattach_config()) {
        (Some(binary), Some(r)) => row(
            "executable",
            format!("{} (pid {})", binary.display(), r.pid),
        ),
        (None, Some(r)) => row(
            "reattached",
            format!(
                "pid {}{}",
                r.pid,
                if r.test {
                    ", test mode (left running)"
                } else {
                    ""
                }
            ),
        ),
        _ => {}
    }

    heading("handshake");
    let protocol = host.protocol().await.unwrap_or(Protocol::Grpc);
    match host.handshake() {
        Some(line) => handshake_rows(session, &line, row),
        None => {
            if let Some(r) = host.reattach_config() {
                row("core protocol", format!("{CORE_PROTOCOL_VERSION}"));
                let version = host.negotiated_version();
                row(
                    "app protocol",
                    if version == 0 {
                        "unknown (reattached: no handshake)".into()
                    } else {
                        format!("{version} (from the reattach config)")
                    },
                );
                row("network", format!("{} {}", r.network, r.address));
                row("protocol", r.protocol.to_string());
                row(
                    "TLS",
                    "none (reattached plugins are reached in plaintext)".into(),
                );
            }
        }
    }

    heading("health");
    if protocol == Protocol::NetRpc {
        match host.ping().await {
            Ok(()) => row("Control.Ping", paint(Style::Green, "ok")),
            Err(e) => row("Control.Ping", paint(Style::Red, &e.to_string())),
        }
        println!(
            "\n{}",
            paint(
                Style::Dim,
                "net/rpc plugins have no reflection: their methods (Plugin.<Name>) cannot be listed."
            )
        );
        return Ok(());
    }
    let channel = host
        .connection()
        .await
        .map_err(|e| format!("cannot connect to the plugin: {e}"))?
        .channel();
    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await;
    match health {
        Ok(answer) => {
            let status = answer.into_inner().status();
            let text = status.as_str_name();
            let style = if text == "SERVING" {
                Style::Green
            } else {
                Style::Yellow
            };
            row("plugin", paint(style, text));
        }
        Err(status) => row(
            "plugin",
            paint(
                Style::Red,
                &format!("{:?}: {}", status.code(), status.message()),
            ),
        ),
    }

    let mut reflection = Reflection::new(channel);
    let services = match reflection.list_services().await {
        Ok(services) => services,
        Err(e) => {
            println!(
                "\n{}",
                paint(Style::Yellow, &format!("services unknown: {e}"))
            );
            return Ok(());
        }
    };
    let (own, internals): (Vec<String>, Vec<String>) =
        services.into_iter().partition(|s| !internal(s));
    let (pool, failed) = reflection.pool_for(&own).await?;
    heading("services (gRPC reflection)");
    if own.is_empty() {
        println!("  {}", paint(Style::Dim, "none besides go-plugin's own"));
    }
    for name in &own {
        let Some(service) = pool.get_service_by_name(name) else {
            let reason = failed
                .iter()
                .find(|(s, _)| s == name)
                .map(|(_, r)| r.as_str())
                .unwrap_or("no descriptor");
            println!(
                "  {}  {}",
                paint(Style::Cyan, name),
                paint(Style::Dim, &format!("(methods unknown: {reason})"))
            );
            continue;
        };
        let package = service.package_name().to_string();
        let count = service.methods().len();
        println!(
            "  {}  {}",
            paint(Style::Cyan, name),
            paint(
                Style::Dim,
                &format!("{count} method{}", if count == 1 { "" } else { "s" })
            )
        );
        for method in service.methods() {
            println!(
                "    {}",
                paint(Style::Bold, &render::signature(&method, &package))
            );
            if brief {
                continue;
            }
            let input = render::shape(&method.input(), &package);
            let output = render::shape(&method.output(), &package);
            println!(
                "{}",
                paint(Style::Dim, &render::wrapped_shape("in ", &input, 8, WIDTH))
            );
            println!(
                "{}",
                paint(Style::Dim, &render::wrapped_shape("out", &output, 8, WIDTH))
            );
        }
    }
    heading("go-plugin internals");
    let line = render::wrapped_shape("", &internals, 0, WIDTH);
    let line = line.trim_start_matches(" { ").trim_end_matches(" }");
    for part in line.lines() {
        println!("  {}", paint(Style::Dim, part.trim_start()));
    }
    Ok(())
}

fn handshake_rows(session: &Session, line: &HandshakeLine, row: impl Fn(&str, String)) {
    row("line", paint(Style::Dim, &abbreviated(line)));
    row("core protocol", format!("{CORE_PROTOCOL_VERSION}"));
    let offered = session
        .versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    row(
        "app protocol",
        format!(
            "{} (offered {offered}, cookie {})",
            line.app_version, session.cookie_key
        ),
    );
    row("network", format!("{} {}", line.network, line.address));
    row("protocol", line.protocol.to_string());
    row(
        "TLS",
        match &line.server_cert {
            Some(der) => format!(
                "AutoMTLS, plugin certificate sha256:{} pinned",
                fingerprint(der)
            ),
            None if session.auto_mtls => "none: the plugin sent no certificate".into(),
            None => "none (--no-mtls)".into(),
        },
    );
    row(
        "multiplexing",
        match line.multiplex {
            Some(true) => "yes (one yamux session)".into(),
            Some(false) => "no (the plugin declined)".into(),
            None => "not asked (--mux asks)".into(),
        },
    );
}

/// The handshake line with the certificate shortened.
fn abbreviated(line: &HandshakeLine) -> String {
    let text = line.to_string();
    let mut fields: Vec<String> = text.split('|').map(str::to_string).collect();
    if let Some(cert) = fields.get_mut(5) {
        if cert.len() > 16 {
            *cert = format!("{}…", &cert[..12]);
        }
    }
    fields.join("|")
}

/// The first 8 bytes of the SHA-256 of a certificate, in hex.
fn fingerprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
