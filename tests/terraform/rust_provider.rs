//! The Rust host and the Rust provider (`tf_provider`) together, and what the provider answers
//! to a configuration value of the wrong type.

use std::process::Command;
use std::time::Duration;

use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin_terraform as terraform;
use go_plugin_terraform::proto::tfplugin6 as pb;

use super::support::{assert_process_gone, rust_example, short_tempdir};
use super::{tf_host, tf_host_json};

#[test]
fn file_resource_applies_imports_reads_and_destroys() {
    let dir = short_tempdir();
    let path = dir.path().join("managed.txt");
    let path = path.to_str().unwrap();
    let provider = rust_example("tf_provider").display().to_string();
    let config = serde_json::json!({"path": path, "content": "hello"}).to_string();
    let state = tf_host_json(&["apply", &provider, "rustfile_file", &config]);
    assert_eq!(std::fs::read_to_string(path).unwrap(), "hello");
    assert_eq!(state["id"], path);
    assert_eq!(
        state["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    let imported = tf_host_json(&["import", &provider, "rustfile_file", path]);
    assert_eq!(imported[0], state);
    let read = tf_host_json(&[
        "data",
        &provider,
        "rustfile_file",
        &serde_json::json!({"path": path}).to_string(),
    ]);
    assert_eq!(read["content"], "hello");
    let state_text = state.to_string();
    let destroyed = tf_host_json(&["destroy", &provider, "rustfile_file", &state_text]);
    assert_eq!(destroyed, serde_json::Value::Null);
    assert!(!std::path::Path::new(path).exists());
}

#[test]
fn provider_validation_errors_reach_the_host_as_diagnostics() {
    let provider = rust_example("tf_provider").display().to_string();
    let finished = tf_host(&[
        "apply",
        &provider,
        "rustfile_file",
        r#"{"path": "relative.txt", "content": "x"}"#,
    ]);
    assert!(!finished.status.success());
    assert!(
        finished
            .stderr
            .contains("Error: Path must be absolute (at .path)"),
        "{}",
        finished.stderr
    );
}

/// A host that sends `path` as a number (msgpack integer) where the schema says string: the
/// provider must answer with a diagnostic on `.path`, and keep serving.
#[tokio::test]
async fn wrong_typed_value_gets_a_diagnostic_not_a_crash() {
    let config = HostConfig::new(terraform::handshake())
        .version(6, ClientSet::new())
        .auto_mtls(true)
        .command(Command::new(rust_example("tf_provider")));
    let host = Host::new(config);
    let channel = host.connection().await.expect("provider starts").channel();
    let mut client = pb::provider_client::ProviderClient::new(channel);
    // {"content": "x", "id": nil, "path": 5, "sha256": nil}
    let mut msgpack = vec![0x84, 0xa7];
    msgpack.extend(b"content");
    msgpack.extend([0xa1, b'x', 0xa2, b'i', b'd', 0xc0, 0xa4]);
    msgpack.extend(b"path");
    msgpack.extend([0x05, 0xa6]);
    msgpack.extend(b"sha256");
    msgpack.push(0xc0);
    let request = pb::validate_resource_config::Request {
        type_name: "rustfile_file".into(),
        config: Some(pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        }),
        client_capabilities: None,
    };
    let response = client
        .validate_resource_config(request)
        .await
        .expect("the provider answers")
        .into_inner();
    let [diagnostic] = response.diagnostics.as_slice() else {
        panic!("expected one diagnostic: {:?}", response.diagnostics)
    };
    assert_eq!(diagnostic.severity, pb::diagnostic::Severity::Error as i32);
    assert_eq!(diagnostic.summary, "Invalid configuration");
    assert!(
        diagnostic
            .detail
            .contains(".path: expected string, got msgpack integer"),
        "{diagnostic:?}"
    );
    let step = &diagnostic.attribute.as_ref().unwrap().steps[0];
    assert_eq!(
        step.selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "path".into()
        ))
    );
    // Still serving.
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("the provider still answers");
    let pid = host.reattach_config().expect("started").pid;
    host.kill().await;
    assert_process_gone(pid, Duration::from_secs(5));
}
