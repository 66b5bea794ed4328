//! Compares two compiled protobuf schemas by their wire facts: package, messages (nested ones by
//! full name), fields (number, name, label, type, type name, oneof, proto3 `optional`,
//! `deprecated`), enums and their values, services and their methods. Comments, file options and
//! declaration order do not count: they never reach the wire.
//!
//! The project writes its own schema files for other projects' protocols (Terraform's, TFLint's);
//! a test compiles the upstream file from the Go module cache and asserts [`differences`] is empty.

use std::collections::BTreeMap;

use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto};

/// Compiles one `.proto` file (with the well-known types) into its file descriptor.
pub fn compile(file: &str, include: &std::path::Path) -> FileDescriptorProto {
    let set = protox::compile([file], [include])
        .unwrap_or_else(|e| panic!("{file} under {} does not compile: {e}", include.display()));
    set.file
        .into_iter()
        .find(|f| f.name() == file)
        .unwrap_or_else(|| panic!("{file} is not in its own descriptor set"))
}

/// Every difference between `ours` and `upstream`, one readable line each; empty when they match.
pub fn differences(ours: &FileDescriptorProto, upstream: &FileDescriptorProto) -> Vec<String> {
    let mut out = Vec::new();
    if ours.package() != upstream.package() {
        out.push(format!(
            "package: ours {:?}, upstream {:?}",
            ours.package(),
            upstream.package()
        ));
    }
    let (our_messages, upstream_messages) = (messages(ours), messages(upstream));
    for (name, theirs) in &upstream_messages {
        match our_messages.get(name) {
            None => out.push(format!("message {name}: missing from ours")),
            Some(mine) => compare_fields(name, mine, theirs, &mut out),
        }
    }
    extra("message", &our_messages, &upstream_messages, &mut out);
    let (our_enums, upstream_enums) = (enums(ours), enums(upstream));
    for (name, theirs) in &upstream_enums {
        match our_enums.get(name) {
            None => out.push(format!("enum {name}: missing from ours")),
            Some(mine) => {
                let values = |e: &EnumDescriptorProto| -> BTreeMap<String, i32> {
                    e.value
                        .iter()
                        .map(|v| (v.name().to_string(), v.number()))
                        .collect()
                };
                if values(mine) != values(theirs) {
                    out.push(format!(
                        "enum {name}: ours {:?}, upstream {:?}",
                        values(mine),
                        values(theirs)
                    ));
                }
            }
        }
    }
    extra("enum", &our_enums, &upstream_enums, &mut out);
    let methods = |f: &FileDescriptorProto| -> BTreeMap<String, String> {
        f.service
            .iter()
            .flat_map(|s| {
                s.method.iter().map(move |m| {
                    let shape = format!(
                        "({}{}) returns ({}{})",
                        if m.client_streaming() { "stream " } else { "" },
                        m.input_type(),
                        if m.server_streaming() { "stream " } else { "" },
                        m.output_type()
                    );
                    (format!("{}.{}", s.name(), m.name()), shape)
                })
            })
            .collect()
    };
    let (our_methods, upstream_methods) = (methods(ours), methods(upstream));
    for (name, theirs) in &upstream_methods {
        match our_methods.get(name) {
            None => out.push(format!("rpc {name}: missing from ours")),
            Some(mine) if mine != theirs => {
                out.push(format!("rpc {name}: ours {mine}, upstream {theirs}"))
            }
            Some(_) => {}
        }
    }
    extra("rpc", &our_methods, &upstream_methods, &mut out);
    out
}

/// One field's wire facts, rendered for comparison.
fn field_facts(message: &DescriptorProto, number: i32) -> Option<String> {
    let field = message.field.iter().find(|f| f.number() == number)?;
    let oneof = field
        .oneof_index
        .filter(|_| !field.proto3_optional())
        .and_then(|i| message.oneof_decl.get(i as usize))
        .map(|o| o.name().to_string());
    Some(format!(
        "{} {:?} {:?} {:?} oneof={:?} optional={} deprecated={}",
        field.name(),
        field.label(),
        field.r#type(),
        field.type_name(),
        oneof,
        field.proto3_optional(),
        field.options.as_ref().is_some_and(|o| o.deprecated()),
    ))
}

fn compare_fields(
    name: &str,
    mine: &DescriptorProto,
    theirs: &DescriptorProto,
    out: &mut Vec<String>,
) {
    let numbers = |m: &DescriptorProto| m.field.iter().map(|f| f.number()).collect::<Vec<_>>();
    let mut all = numbers(mine);
    all.extend(numbers(theirs));
    all.sort_unstable();
    all.dedup();
    for number in all {
        let (a, b) = (field_facts(mine, number), field_facts(theirs, number));
        if a != b {
            out.push(format!(
                "message {name} field {number}: ours {a:?}, upstream {b:?}"
            ));
        }
    }
}

fn extra<T>(
    kind: &str,
    ours: &BTreeMap<String, T>,
    upstream: &BTreeMap<String, T>,
    out: &mut Vec<String>,
) {
    for name in ours.keys().filter(|n| !upstream.contains_key(*n)) {
        out.push(format!("{kind} {name}: only in ours"));
    }
}

/// Every message of the file, nested ones included, by full name (`.pkg.Outer.Inner`).
fn messages(file: &FileDescriptorProto) -> BTreeMap<String, DescriptorProto> {
    fn walk(prefix: &str, list: &[DescriptorProto], out: &mut BTreeMap<String, DescriptorProto>) {
        for m in list {
            let name = format!("{prefix}.{}", m.name());
            walk(&name, &m.nested_type, out);
            out.insert(name, m.clone());
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &format!(".{}", file.package()),
        &file.message_type,
        &mut out,
    );
    out
}

/// Every enum of the file, nested ones included, by full name.
fn enums(file: &FileDescriptorProto) -> BTreeMap<String, EnumDescriptorProto> {
    fn walk(
        prefix: &str,
        list: &[DescriptorProto],
        out: &mut BTreeMap<String, EnumDescriptorProto>,
    ) {
        for m in list {
            let name = format!("{prefix}.{}", m.name());
            for e in &m.enum_type {
                out.insert(format!("{name}.{}", e.name()), e.clone());
            }
            walk(&name, &m.nested_type, out);
        }
    }
    let prefix = format!(".{}", file.package());
    let mut out: BTreeMap<_, _> = file
        .enum_type
        .iter()
        .map(|e| (format!("{prefix}.{}", e.name()), e.clone()))
        .collect();
    walk(&prefix, &file.message_type, &mut out);
    out
}
