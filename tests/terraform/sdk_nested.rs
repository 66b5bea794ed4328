//! Real Terraform (1.15.5) with `tf_nested` (provider `rustjson`), whose resource holds nested
//! attributes (list, set, single, map) and nested blocks, all from `#[derive(Schema)]` models:
//! a validator's diagnostic on an element of a nested list, apply (the file holds what was
//! configured), an empty second plan, an in-place update inside a nested object, destroy; over
//! protocol 6 (nested attributes) and over protocol 5 (object types).

use super::real_terraform::{assert_exit, assert_negotiated, Over, Workspace};

fn config(ws: &Workspace, second_port: u32, email: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    rustjson = {{ source = "gopluginrs/rustjson" }}
  }}
}}
resource "rustjson_document" "doc" {{
  path = "{path}"
  rules = [
    {{ port = 443, protocol = "tcp" }},
    {{ port = {second_port}, protocol = "udp" }},
  ]
  sources  = [{{ cidr = "10.0.0.0/8" }}, {{ cidr = "192.168.0.0/16" }}]
  owner    = {{ name = "ops", email = "{email}" }}
  deputies = {{ night = {{ name = "owl" }} }}
  labels   = {{ team = "net" }}
  note {{
    text = "first"
  }}
  note {{
    text = "second"
  }}
}}
output "second_port" {{ value = rustjson_document.doc.rules[1].port }}
"#,
        path = ws.path("doc.json").display(),
    )
}

fn nested(protocol: &'static str) {
    let ws = Over::new("tf_nested", "rustjson", protocol);
    let log = [("TF_LOG", "DEBUG")];

    // A validator inside a nested list names the element.
    ws.configure(&config(&ws, 70000, "ops@example.com"));
    let validate = ws.terraform(&["validate"], &[]);
    assert_exit(&validate, 1);
    for expected in [
        "Error: Invalid attribute value",
        "with rustjson_document.doc,",
        "rules[1].port must be a port from 1 to 65535, got 70000",
    ] {
        assert!(validate.stderr.contains(expected), "{}", validate.stderr);
    }

    // Apply: the file holds every nested value as configured.
    ws.configure(&config(&ws, 53, "ops@example.com"));
    let apply = ws.terraform(&["apply", "-auto-approve"], &log);
    assert_exit(&apply, 0);
    assert_negotiated(&apply, protocol);
    assert!(
        apply.stdout.contains("Apply complete! Resources: 1 added"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("second_port = 53"),
        "{}",
        apply.stdout
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.path("doc.json")).unwrap()).unwrap();
    assert_eq!(
        written,
        serde_json::json!({
            "path": ws.path("doc.json").display().to_string(),
            "rules": [{ "port": 443, "protocol": "tcp" }, { "port": 53, "protocol": "udp" }],
            "sources": [{ "cidr": "10.0.0.0/8" }, { "cidr": "192.168.0.0/16" }],
            "owner": { "name": "ops", "email": "ops@example.com" },
            "deputies": { "night": { "name": "owl", "email": null } },
            "labels": { "team": "net" },
            "note": [{ "text": "first" }, { "text": "second" }],
        })
    );

    // Nothing left to do.
    let plan = ws.terraform(&["plan", "-detailed-exitcode"], &[]);
    assert_exit(&plan, 0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);

    // A change inside a nested object is an update in place.
    ws.configure(&config(&ws, 53, "night@example.com"));
    let update = ws.terraform(&["apply", "-auto-approve"], &[]);
    assert_exit(&update, 0);
    assert!(
        update
            .stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        update.stdout
    );
    let written = std::fs::read_to_string(ws.path("doc.json")).unwrap();
    assert!(written.contains("night@example.com"), "{written}");

    let destroy = ws.terraform(&["destroy", "-auto-approve"], &[]);
    assert_exit(&destroy, 0);
    assert!(!ws.path("doc.json").exists());
}

#[test]
fn terraform_runs_nested_attributes_and_blocks_over_protocol_6() {
    nested("6");
}

#[test]
fn terraform_runs_nested_attributes_and_blocks_over_protocol_5() {
    nested("5");
}
