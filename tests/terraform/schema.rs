//! The project's own tfplugin5/6 schema files (`terraform/proto`) against upstream's, from the
//! terraform-plugin-go module that `make go-subjects` links into `target/go`: every message, field,
//! enum value and method must match, so the Rust provider and host speak exactly what Terraform and
//! its SDKs speak.

#[path = "../support/schema_diff.rs"]
mod schema_diff;

use std::path::{Path, PathBuf};

use super::support::go_subject;

/// (our file under `terraform/proto/`, upstream's file inside the terraform-plugin-go module)
const SCHEMAS: [(&str, &str, &str); 2] = [
    (
        "tfplugin5.proto",
        "tfprotov5/internal/tfplugin5",
        "tfplugin5.proto",
    ),
    (
        "tfplugin6.proto",
        "tfprotov6/internal/tfplugin6",
        "tfplugin6.proto",
    ),
];

fn ours(file: &str) -> prost_types::FileDescriptorProto {
    schema_diff::compile(
        file,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("terraform/proto"),
    )
}

fn upstream(dir: &str, file: &str) -> prost_types::FileDescriptorProto {
    let module: PathBuf = go_subject("terraform-plugin-go-src");
    schema_diff::compile(file, &module.join(dir))
}

#[test]
fn our_tfplugin_schemas_match_terraform_plugin_go_field_by_field() {
    for (mine, dir, theirs) in SCHEMAS {
        let differences = schema_diff::differences(&ours(mine), &upstream(dir, theirs));
        assert!(
            differences.is_empty(),
            "terraform/proto/{mine} differs from terraform-plugin-go's {theirs}:\n  {}",
            differences.join("\n  ")
        );
    }
}

#[test]
fn the_comparison_reports_a_changed_field_number_a_renamed_field_and_a_missing_method() {
    let (mine, dir, theirs) = SCHEMAS[1];
    let mut changed = ours(mine);
    let message = changed
        .message_type
        .iter_mut()
        .find(|m| m.name() == "DynamicValue")
        .expect("DynamicValue in tfplugin6");
    message.field[0].number = Some(7);
    message.field[1].name = Some("jason".into());
    changed.service[0].method.pop();
    let differences = schema_diff::differences(&changed, &upstream(dir, theirs));
    let text = differences.join("\n");
    assert!(
        text.contains("message .tfplugin6.DynamicValue field 1"),
        "{text}"
    );
    assert!(
        text.contains("message .tfplugin6.DynamicValue field 7"),
        "{text}"
    );
    assert!(text.contains("jason"), "{text}");
    assert!(text.contains("missing from ours"), "{text}");
}
