//! Real Terraform (1.15.5) through a provider's whole life with `tf_provider`, which is built on
//! the SDK of `go-plugin-terraform`, once over protocol 6 and once over protocol 5
//! (`RUSTFILE_PROTOCOL`): a validator's diagnostic on its attribute, plan, apply, an empty second
//! plan, an in-place update, a replacement forced by requires-replace, an `import` block, a
//! function call in an output, an ephemeral value fed to a write-only attribute and absent from
//! state, `terraform query` on the list resource, an action invoked, destroy; and a state written
//! by schema version 0 upgraded.

use super::real_terraform::{assert_exit, assert_negotiated, Over, Workspace};

const PROVIDER: &str = r#"terraform {
  required_providers {
    rustfile = { source = "gopluginrs/rustfile" }
  }
}
"#;

/// The configuration: `main` (content `content`, at `main_name`) whose write-only secret comes
/// from an ephemeral read of `seed.txt`, `imported` (an existing file, by an `import` block), and
/// an output calling the provider's function.
fn config(ws: &Workspace, main_name: &str, content: &str) -> String {
    format!(
        r#"{PROVIDER}
ephemeral "rustfile_content" "seed" {{
  path = "{seed}"
}}
resource "rustfile_file" "main" {{
  path    = "{main}"
  content = "{content}"
  secret  = ephemeral.rustfile_content.seed.content
}}
import {{
  to = rustfile_file.imported
  id = "{existing}"
}}
resource "rustfile_file" "imported" {{
  path    = "{existing}"
  content = "was here before"
}}
output "hash" {{ value = provider::rustfile::sha256("abc") }}
action "rustfile_touch" "mark" {{
  config {{
    path = "{marker}"
  }}
}}
"#,
        marker = ws.path("listed/marker").display(),
        seed = ws.path("seed.txt").display(),
        main = ws.path(main_name).display(),
        existing = ws.path("existing.txt").display(),
    )
}

fn lifecycle(protocol: &'static str) {
    let ws = Over::new("tf_provider", "rustfile", protocol);
    let secret = "s3cret from an ephemeral read";
    std::fs::write(ws.path("seed.txt"), secret).unwrap();
    std::fs::write(ws.path("existing.txt"), "was here before").unwrap();

    // A validator's diagnostic names the attribute and its line.
    ws.configure(&format!(
        "{PROVIDER}resource \"rustfile_file\" \"bad\" {{\n  path    = \"relative.txt\"\n  content = \"x\"\n}}\n"
    ));
    let validate = ws.terraform(&["validate"], &[]);
    assert_exit(&validate, 1);
    assert!(
        validate.stderr.contains("Error: Path must be absolute"),
        "{}",
        validate.stderr
    );
    assert!(
        validate.stderr.contains("with rustfile_file.bad,"),
        "{}",
        validate.stderr
    );
    assert!(
        validate.stderr.contains("path    = \"relative.txt\""),
        "{}",
        validate.stderr
    );

    // Plan and apply: one to import, one to add; the function's result in an output.
    ws.configure(&config(&ws, "a.txt", "one"));
    let plan = ws.terraform(&["plan"], &[]);
    assert_exit(&plan, 0);
    assert!(
        plan.stdout
            .contains("Plan: 1 to import, 1 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let apply = ws.terraform(&["apply", "-auto-approve"], &[("TF_LOG", "DEBUG")]);
    assert_exit(&apply, 0);
    assert_negotiated(&apply, protocol);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 1 imported, 1 added"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains(
            "hash = \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""
        ),
        "{}",
        apply.stdout
    );
    assert_eq!(std::fs::read_to_string(ws.path("a.txt")).unwrap(), "one");
    // The ephemeral value reached the write-only attribute, and neither is in the state.
    assert_eq!(
        std::fs::read_to_string(ws.path("a.txt.secret")).unwrap(),
        secret
    );
    let state = std::fs::read_to_string(ws.path("config/terraform.tfstate")).unwrap();
    assert!(
        !state.contains(secret),
        "the secret landed in state:\n{state}"
    );
    assert!(state.contains("\"secret\": null"), "{state}");

    let again = ws.terraform(&["plan", "-detailed-exitcode"], &[]);
    assert_exit(&again, 0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // In-place update.
    ws.configure(&config(&ws, "a.txt", "two"));
    let update = ws.terraform(&["apply", "-auto-approve"], &[]);
    assert_exit(&update, 0);
    assert!(
        update
            .stdout
            .contains("Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        update.stdout
    );
    assert!(
        update.stdout.contains("~ content = \"one\" -> \"two\""),
        "{}",
        update.stdout
    );
    assert_eq!(std::fs::read_to_string(ws.path("a.txt")).unwrap(), "two");

    // A new path forces a replacement.
    ws.configure(&config(&ws, "b.txt", "two"));
    let replace = ws.terraform(&["apply", "-auto-approve"], &[]);
    assert_exit(&replace, 0);
    assert!(
        replace.stdout.contains("# forces replacement"),
        "{}",
        replace.stdout
    );
    assert!(
        replace
            .stdout
            .contains("Resources: 1 added, 0 changed, 1 destroyed."),
        "{}",
        replace.stdout
    );
    assert!(!ws.path("a.txt").exists() && ws.path("b.txt").exists());

    let destroy = ws.terraform(&["destroy", "-auto-approve"], &[]);
    assert_exit(&destroy, 0);
    assert!(
        destroy
            .stdout
            .contains("Destroy complete! Resources: 2 destroyed."),
        "{}",
        destroy.stdout
    );
    assert!(!ws.path("b.txt").exists() && !ws.path("b.txt.secret").exists());
    assert!(!ws.path("existing.txt").exists());
}

#[test]
fn terraform_runs_the_sdk_provider_through_its_life_over_protocol_6() {
    lifecycle("6");
}

#[test]
fn terraform_runs_the_sdk_provider_through_its_life_over_protocol_5() {
    lifecycle("5");
}

/// A state stored by schema version 0 (`filename` for the path) is upgraded by the provider: the
/// plan after it sees the same file and has nothing to do.
#[test]
fn terraform_upgrades_a_state_of_schema_version_0() {
    for protocol in ["6", "5"] {
        let ws = Over::new("tf_provider", "rustfile", protocol);
        let file = ws.path("old.txt").display().to_string();
        std::fs::write(&file, "kept").unwrap();
        let sha = "8d1e1fa3c6a7b1a46efd7c4ee32d6f1ec0e5a1b9e84f6fb3c3efa05f65b0d0bd";
        ws.configure(&format!(
            "{PROVIDER}resource \"rustfile_file\" \"old\" {{\n  path    = \"{file}\"\n  content = \"kept\"\n}}\n"
        ));
        let state = serde_json::json!({
            "version": 4,
            "terraform_version": "1.15.5",
            "serial": 1,
            "lineage": "00000000-0000-0000-0000-000000000000",
            "outputs": {},
            "resources": [{
                "mode": "managed",
                "type": "rustfile_file",
                "name": "old",
                "provider": "provider[\"registry.terraform.io/gopluginrs/rustfile\"]",
                "instances": [{
                    "schema_version": 0,
                    "attributes": { "filename": file, "content": "kept", "id": file, "sha256": sha },
                    "sensitive_attributes": []
                }]
            }],
            "check_results": null
        });
        std::fs::write(ws.path("config/terraform.tfstate"), state.to_string()).unwrap();
        let plan = ws.terraform(&["plan", "-detailed-exitcode"], &[]);
        assert_exit(&plan, 0);
        assert!(
            plan.stdout.contains("No changes."),
            "protocol {protocol}: {}",
            plan.stdout
        );
        // Written back by a refresh-only apply: the state now has version 1's shape.
        let refresh = ws.terraform(&["apply", "-refresh-only", "-auto-approve"], &[]);
        assert_exit(&refresh, 0);
        let state = std::fs::read_to_string(ws.path("config/terraform.tfstate")).unwrap();
        assert!(state.contains("\"schema_version\": 1"), "{state}");
        assert!(state.contains(&format!("\"path\": \"{file}\"")), "{state}");
        assert!(!state.contains("filename"), "{state}");
    }
}

/// A `moved` block across resource types: a `terraform_data` whose input describes a file is
/// taken over by `rustfile_file` (MoveResourceState), with nothing left to change.
#[test]
fn terraform_moves_a_terraform_data_to_a_rustfile_file() {
    for protocol in ["6", "5"] {
        let ws = Over::new("tf_provider", "rustfile", protocol);
        let file = ws.path("moved.txt").display().to_string();
        std::fs::write(&file, "hi").unwrap();
        ws.configure(&format!(
            "{PROVIDER}resource \"terraform_data\" \"f\" {{\n  input = {{ path = \"{file}\", content = \"hi\" }}\n}}\n"
        ));
        assert_exit(&ws.terraform(&["apply", "-auto-approve"], &[]), 0);
        ws.configure(&format!(
            "{PROVIDER}moved {{\n  from = terraform_data.f\n  to   = rustfile_file.f\n}}\nresource \"rustfile_file\" \"f\" {{\n  path    = \"{file}\"\n  content = \"hi\"\n}}\n"
        ));
        let apply = ws.terraform(&["apply", "-auto-approve"], &[]);
        assert_exit(&apply, 0);
        assert!(
            apply
                .stdout
                .contains("terraform_data.f has moved to rustfile_file.f"),
            "protocol {protocol}: {}",
            apply.stdout
        );
        assert!(
            apply
                .stdout
                .contains("Resources: 0 added, 0 changed, 0 destroyed."),
            "protocol {protocol}: {}",
            apply.stdout
        );
        let state = std::fs::read_to_string(ws.path("config/terraform.tfstate")).unwrap();
        assert!(state.contains("\"type\": \"rustfile_file\""), "{state}");
        assert!(!state.contains("terraform_data"), "{state}");
    }
}
