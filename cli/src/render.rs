//! Terminal output: colours (only on a terminal, never with `NO_COLOR`), the plugin's log lines
//! and protobuf message shapes.
//!
//! Plugin logs reach the host as stderr lines that the library already interprets (hclog JSON,
//! `[LEVEL]` prefixes, panics) into [`LogEntry`]s; here each becomes one line on our stderr:
//!
//! ```text
//!   INFO plugin-go-grpc: starting  address=/tmp/plugin123
//! ```

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use go_plugin::log::LogEntry;
use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};
use tracing::Level;

/// Whether stdout and stderr get ANSI colours.
fn colours(stderr: bool) -> bool {
    static OUT: OnceLock<(bool, bool)> = OnceLock::new();
    let (out, err) = *OUT.get_or_init(|| {
        let allowed = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        (
            allowed && std::io::stdout().is_terminal(),
            allowed && std::io::stderr().is_terminal(),
        )
    });
    if stderr {
        err
    } else {
        out
    }
}

/// ANSI styles.
#[derive(Clone, Copy, Debug)]
pub enum Style {
    /// Headings.
    Bold,
    /// Secondary text.
    Dim,
    /// Good news.
    Green,
    /// Warnings.
    Yellow,
    /// Errors.
    Red,
    /// Names.
    Cyan,
    /// Debug logs.
    Blue,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Cyan => "36",
            Style::Blue => "34",
        }
    }
}

/// `text` with terminal control characters shown as escapes (`\u{1b}`): text a plugin supplies
/// (log lines, names, addresses, error messages) cannot move the cursor, retitle the window or
/// hide what was printed. Newlines and tabs stay.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if control(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` as one POSIX shell word: single-quoted, with each `'` written as `'\''`, so a path or
/// JSON from a plugin can be pasted into a shell as printed and never runs anything.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `text` in `style` for stdout.
pub fn paint(style: Style, text: &str) -> String {
    paint_if(colours(false), style, text)
}

/// `text` in `style` for stderr.
pub fn epaint(style: Style, text: &str) -> String {
    paint_if(colours(true), style, text)
}

fn paint_if(on: bool, style: Style, text: &str) -> String {
    let text = printable(text);
    if on {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    } else {
        text.to_string()
    }
}

/// Prints an error (and hints) the way every subcommand reports failure.
pub fn error(message: &str) {
    let message = printable(message);
    let mut lines = message.lines();
    let first = lines.next().unwrap_or("");
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {first}", epaint(Style::Red, "error:"));
    for line in lines {
        let _ = writeln!(err, "  {line}");
    }
}

/// A note on stderr (what goplugin decided for the user).
pub fn note(message: &str) {
    eprintln!("{} {}", epaint(Style::Dim, "note:"), printable(message));
}

/// One plugin log line on stderr, coloured by level.
pub fn log_line(plugin: &str, entry: &LogEntry) {
    let (style, name) = match entry.level {
        Level::TRACE => (Style::Dim, "TRACE"),
        Level::DEBUG => (Style::Blue, "DEBUG"),
        Level::INFO => (Style::Green, " INFO"),
        Level::WARN => (Style::Yellow, " WARN"),
        Level::ERROR => (Style::Red, "ERROR"),
    };
    let fields = entry.fields_text();
    let line = format!(
        "{} {} {}{}",
        epaint(style, name),
        epaint(Style::Dim, &format!("{plugin}:")),
        printable(&entry.message),
        if fields.is_empty() {
            String::new()
        } else {
            format!("  {}", epaint(Style::Dim, &fields))
        }
    );
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A type's name as a reader of `package` would write it: relative inside the package, full
/// outside it.
pub fn type_name(full: &str, package: &str) -> String {
    match full.strip_prefix(package) {
        Some(rest) if !package.is_empty() && rest.starts_with('.') => rest[1..].to_string(),
        _ => full.to_string(),
    }
}

/// A field's type: `string`, `repeated Diagnostic`, `map<string, Schema>`, `optional bool`.
pub fn field_type(field: &FieldDescriptor, package: &str) -> String {
    if field.is_map() {
        if let Kind::Message(entry) = field.kind() {
            let key = entry.map_entry_key_field();
            let value = entry.map_entry_value_field();
            return format!(
                "map<{}, {}>",
                kind_name(&key.kind(), package),
                kind_name(&value.kind(), package)
            );
        }
    }
    let kind = kind_name(&field.kind(), package);
    if field.is_list() {
        format!("repeated {kind}")
    } else if field.supports_presence()
        && field.cardinality() == Cardinality::Optional
        && field.containing_oneof().is_none()
        && !matches!(field.kind(), Kind::Message(_))
    {
        format!("optional {kind}")
    } else {
        kind
    }
}

fn kind_name(kind: &Kind, package: &str) -> String {
    match kind {
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Message(m) => type_name(m.full_name(), package),
        Kind::Enum(e) => type_name(e.full_name(), package),
    }
}

/// The fields of a message, one level deep: `{ key: string, value: bytes }`.
pub fn shape(message: &MessageDescriptor, package: &str) -> Vec<String> {
    message
        .fields()
        .map(|f| format!("{}: {}", f.name(), field_type(&f, package)))
        .collect()
}

/// `Get(GetRequest) → GetResponse`, with `stream` on streaming sides.
pub fn signature(method: &MethodDescriptor, package: &str) -> String {
    let side = |streaming: bool, m: MessageDescriptor| {
        format!(
            "{}{}",
            if streaming { "stream " } else { "" },
            type_name(m.full_name(), package)
        )
    };
    format!(
        "{}({}) → {}",
        method.name(),
        side(method.is_client_streaming(), method.input()),
        side(method.is_server_streaming(), method.output())
    )
}

/// `label { a: x, b: y }` wrapped to `width` columns, continuation lines indented under the
/// first field.
pub fn wrapped_shape(label: &str, fields: &[String], indent: usize, width: usize) -> String {
    if fields.is_empty() {
        return format!("{:indent$}{label} {{}}", "");
    }
    let start = format!("{:indent$}{label} {{ ", "");
    let hang = start.chars().count();
    let mut out = start;
    let mut column = hang;
    for (i, field) in fields.iter().enumerate() {
        let piece = if i + 1 == fields.len() {
            format!("{field} }}")
        } else {
            format!("{field},")
        };
        let len = piece.chars().count();
        if column > hang && column + 1 + len > width {
            out.push('\n');
            out.push_str(&" ".repeat(hang));
            column = hang;
        } else if column > hang {
            out.push(' ');
            column += 1;
        }
        out.push_str(&piece);
        column += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_a_plugin_are_shown_escaped() {
        assert_eq!(printable("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            printable("a\u{1b}]0;pwned\u{7}b\rc\u{9b}"),
            "a\\u{1b}]0;pwned\\u{7}b\\u{d}c\\u{9b}"
        );
    }

    #[test]
    fn shell_words_survive_quotes_and_dollars() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's $(rm -rf ~)"), r"'it'\''s $(rm -rf ~)'");
    }

    #[test]
    fn names_inside_the_package_are_relative() {
        assert_eq!(
            type_name("tfplugin5.GetProviderSchema.Request", "tfplugin5"),
            "GetProviderSchema.Request"
        );
        assert_eq!(
            type_name("google.protobuf.Empty", "tfplugin5"),
            "google.protobuf.Empty"
        );
        assert_eq!(type_name("tfplugin55.X", "tfplugin5"), "tfplugin55.X");
        assert_eq!(type_name("Top", ""), "Top");
    }

    #[test]
    fn shapes_wrap_under_their_first_field() {
        let fields: Vec<String> = ["a: string", "bb: bytes", "ccc: repeated Diagnostic"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(wrapped_shape("in", &[], 2, 80), "  in {}");
        assert_eq!(
            wrapped_shape("in", &fields, 2, 80),
            "  in { a: string, bb: bytes, ccc: repeated Diagnostic }"
        );
        assert_eq!(
            wrapped_shape("in", &fields, 2, 30),
            "  in { a: string, bb: bytes,\n       ccc: repeated Diagnostic }"
        );
    }

    #[test]
    fn shapes_of_the_kv_messages() {
        let pool =
            prost_reflect::DescriptorPool::decode(go_plugin_schemas::kv::FILE_DESCRIPTOR_SET)
                .unwrap();
        let put = pool.get_message_by_name("proto.PutRequest").unwrap();
        assert_eq!(shape(&put, "proto"), ["key: string", "value: bytes"]);
        let service = pool.get_service_by_name("proto.KV").unwrap();
        let get = service.methods().find(|m| m.name() == "Get").unwrap();
        assert_eq!(signature(&get, "proto"), "Get(GetRequest) → GetResponse");
    }
}
