//! The project's own TFLint plugin schema (`tflint/proto/tflint.proto`) against
//! tflint-plugin-sdk v0.25.0's, from the module `make go-subjects` links into `target/go`: every
//! message, field, enum value and method must match.

#[path = "../support/schema_diff.rs"]
mod schema_diff;

use std::path::Path;

use super::support::go_subject;

fn ours() -> prost_types::FileDescriptorProto {
    schema_diff::compile(
        "tflint.proto",
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tflint/proto"),
    )
}

fn upstream() -> prost_types::FileDescriptorProto {
    let module = go_subject("tflint-plugin-sdk-src");
    schema_diff::compile("tflint.proto", &module.join("plugin/internal/proto"))
}

#[test]
fn our_tflint_schema_matches_the_plugin_sdks_field_by_field() {
    let differences = schema_diff::differences(&ours(), &upstream());
    assert!(
        differences.is_empty(),
        "tflint/proto/tflint.proto differs from tflint-plugin-sdk's:\n  {}",
        differences.join("\n  ")
    );
}

#[test]
fn the_comparison_reports_a_changed_field_number() {
    let mut changed = ours();
    let range = changed
        .message_type
        .iter_mut()
        .find(|m| m.name() == "Range")
        .expect("Range in tflint.proto");
    range.field[0].number = Some(9);
    let text = schema_diff::differences(&changed, &upstream()).join("\n");
    assert!(text.contains("message .proto.Range field 1"), "{text}");
    assert!(text.contains("message .proto.Range field 9"), "{text}");
}
