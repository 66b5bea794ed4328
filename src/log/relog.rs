//! The host re-logs each plugin log entry as a `tracing` event that looks like one of its own: the
//! plugin's module (hclog's `@module`: a Go logger's name, a Rust plugin's event target) as the
//! event's **target**, and each of the entry's key/values as a **field** of its own, so that
//! `RUST_LOG=info,calc_plugin=debug` filters by module and a formatter prints `a=2 b=3`.
//!
//! `tracing` wants targets and field names known at compile time (its macros make one static
//! *callsite* per call). Entries from a plugin are only known at run time, so this module makes
//! callsites at run time: one per distinct (module, level, field names), leaked once and kept in
//! a table, as a macro's static would be. A plugin chooses those strings, so the table is bounded
//! ([`MAX_CALLSITES`], [`MAX_FIELDS`], [`MAX_NAME`]); an entry that does not fit is re-logged as
//! before, under target `go_plugin::plugin` with its key/values in one `fields` text.
//!
//! What `tracing` cannot carry: field values are `tracing` values (a string, an integer, a float,
//! a bool); a JSON object or array from the plugin is passed as its JSON text.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;
use tracing::callsite::{Callsite, Identifier};
use tracing::field::{Field, FieldSet};
use tracing::metadata::{Kind, LevelFilter};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata};

use super::LogEntry;
use crate::lock::lock;

/// The most distinct (module, level, field names) shapes given a callsite of their own.
pub const MAX_CALLSITES: usize = 1024;
/// The most fields of one entry (its own key/values and `plugin`, `timestamp`, `message`).
pub const MAX_FIELDS: usize = 32;
/// The longest module or key name taken as a target or a field name.
pub const MAX_NAME: usize = 128;

/// The fields every re-logged entry has, before the plugin's own.
const FIXED: [&str; 3] = ["message", "plugin", "timestamp"];
/// Where entries without a module, or that do not fit, are re-logged.
pub const FALLBACK_TARGET: &str = "go_plugin::plugin";

/// Re-logs `entry` of plugin `plugin` (see the module docs).
pub fn relog(plugin: &str, entry: &LogEntry) {
    if LevelFilter::current() < entry.level {
        return;
    }
    let shape = Shape::of(entry);
    match shape.as_ref().and_then(callsite) {
        Some(callsite) => dispatch(callsite, plugin, entry),
        None => fallback(plugin, entry),
    }
}

/// What a callsite is made for: the target, the level and the plugin's field names in order.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Shape {
    target: String,
    level: Level,
    keys: Vec<String>,
}

impl Shape {
    /// The shape of `entry`, or `None` when it has no module or does not fit the bounds.
    fn of(entry: &LogEntry) -> Option<Shape> {
        let target = entry.fields.iter().find_map(|(k, v)| match v {
            Value::String(module) if k == "@module" => Some(module.clone()),
            _ => None,
        })?;
        let mut keys: Vec<String> = Vec::new();
        for (key, _) in &entry.fields {
            if key != "@module" && !FIXED.contains(&key.as_str()) && !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        let fits = !target.is_empty()
            && target.len() <= MAX_NAME
            && keys.len() + FIXED.len() <= MAX_FIELDS
            && keys.iter().all(|k| k.len() <= MAX_NAME);
        fits.then_some(Shape {
            target,
            level: entry.level,
            keys,
        })
    }
}

/// A callsite made at run time: leaked once per shape, so `'static` like a macro's.
struct DynamicCallsite {
    metadata: OnceLock<Metadata<'static>>,
}

impl Callsite for DynamicCallsite {
    fn set_interest(&self, _: Interest) {
        // Asked again at every entry (`Dispatch::enabled`): entries are few next to a host's own.
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.metadata.get().expect("set before registration")
    }
}

/// The callsite of `shape`: made and registered the first time, `None` once the table is full.
fn callsite(shape: &Shape) -> Option<&'static DynamicCallsite> {
    static TABLE: OnceLock<Mutex<HashMap<Shape, &'static DynamicCallsite>>> = OnceLock::new();
    let mut table = lock(TABLE.get_or_init(Default::default));
    if let Some(callsite) = table.get(shape) {
        return Some(callsite);
    }
    if table.len() >= MAX_CALLSITES {
        return None;
    }
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let names: Vec<&'static str> = FIXED
        .iter()
        .copied()
        .chain(shape.keys.iter().map(|k| leak(k)))
        .collect();
    let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
    let callsite: &'static DynamicCallsite = Box::leak(Box::new(DynamicCallsite {
        metadata: OnceLock::new(),
    }));
    let target = leak(&shape.target);
    let _ = callsite.metadata.set(Metadata::new(
        "plugin log entry",
        target,
        shape.level,
        None,
        None,
        None,
        FieldSet::new(names, Identifier(callsite)),
        Kind::EVENT,
    ));
    tracing::callsite::register(callsite);
    table.insert(shape.clone(), callsite);
    Some(callsite)
}

/// One field value as `tracing` records it.
enum FieldValue<'a> {
    Str(&'a str),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Json(String),
}

impl<'a> FieldValue<'a> {
    fn of(value: &'a Value) -> FieldValue<'a> {
        match value {
            Value::String(s) => FieldValue::Str(s),
            Value::Bool(b) => FieldValue::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => FieldValue::I64(i),
                (_, Some(u), _) => FieldValue::U64(u),
                (_, _, Some(f)) => FieldValue::F64(f),
                _ => FieldValue::Json(n.to_string()),
            },
            other => FieldValue::Json(other.to_string()),
        }
    }

    fn as_value(&self) -> &dyn tracing::Value {
        match self {
            FieldValue::Str(s) => s,
            FieldValue::I64(i) => i,
            FieldValue::U64(u) => u,
            FieldValue::F64(f) => f,
            FieldValue::Bool(b) => b,
            FieldValue::Json(text) => text,
        }
    }
}

fn dispatch(callsite: &'static DynamicCallsite, plugin: &str, entry: &LogEntry) {
    let metadata = callsite.metadata();
    tracing::dispatcher::get_default(|dispatch| {
        if !dispatch.enabled(metadata) {
            return;
        }
        let fields = metadata.fields();
        let message = format_args!("{}", entry.message);
        let timestamp = entry.timestamp.as_deref().unwrap_or("");
        // The plugin's values, in the order of the callsite's fields after the fixed ones.
        let values: Vec<(Field, FieldValue<'_>)> = entry
            .fields
            .iter()
            .filter_map(|(k, v)| Some((fields.field(k)?, FieldValue::of(v))))
            .filter(|(field, _)| field.index() >= FIXED.len())
            .collect();
        let [message_field, plugin_field, timestamp_field] = FIXED.map(|name| {
            fields
                .field(name)
                .expect("fixed fields are in every callsite")
        });
        // `tracing` takes a fixed-size array: unused slots repeat a field with no value.
        let mut slots: [(&Field, Option<&dyn tracing::Value>); MAX_FIELDS] =
            [(&message_field, None); MAX_FIELDS];
        slots[0] = (&message_field, Some(&message));
        slots[1] = (&plugin_field, Some(&plugin));
        slots[2] = (&timestamp_field, Some(&timestamp));
        let mut seen = Vec::with_capacity(values.len());
        for (slot, (field, value)) in slots[FIXED.len()..].iter_mut().zip(&values) {
            if seen.contains(&field.index()) {
                continue; // a key the plugin repeated: its first value
            }
            seen.push(field.index());
            *slot = (field, Some(value.as_value()));
        }
        let values = fields.value_set(&slots);
        dispatch.event(&Event::new(metadata, &values));
    });
}

/// Re-logs under [`FALLBACK_TARGET`] with the key/values in one `fields` text.
fn fallback(plugin: &str, entry: &LogEntry) {
    let fields = entry.fields_text();
    let timestamp = entry.timestamp.as_deref().unwrap_or("");
    macro_rules! at {
        ($level:expr) => {
            tracing::event!(target: FALLBACK_TARGET, $level, plugin, fields = %fields, timestamp, "{}", entry.message)
        };
    }
    match entry.level {
        Level::TRACE => at!(Level::TRACE),
        Level::DEBUG => at!(Level::DEBUG),
        Level::INFO => at!(Level::INFO),
        Level::WARN => at!(Level::WARN),
        Level::ERROR => at!(Level::ERROR),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::Visit;
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::{EnvFilter, Layer};

    use super::*;

    /// One event seen: (target, level, fields as `name=value`).
    type SeenEvent = (String, Level, Vec<String>);

    /// Every event seen.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<SeenEvent>>>);

    struct Fields(Vec<String>);
    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push(format!("{}={value:?}", field.name()));
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            let m = event.metadata();
            lock(&self.0).push((m.target().into(), *m.level(), fields.0));
        }
    }

    fn entry(level: Level, fields: &[(&str, Value)]) -> LogEntry {
        LogEntry {
            level,
            message: "adding".into(),
            timestamp: Some("2026-12-04T08:14:32.976676Z".into()),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    fn seen_with(filter: &str, entries: &[LogEntry]) -> Vec<SeenEvent> {
        let seen = Seen::default();
        let subscriber =
            tracing_subscriber::registry().with(seen.clone().with_filter(EnvFilter::new(filter)));
        tracing::subscriber::with_default(subscriber, || {
            for e in entries {
                relog("calc", e);
            }
        });
        let out = lock(&seen.0).clone();
        out
    }

    #[test]
    fn the_module_is_the_target_and_each_key_a_field() {
        let e = entry(
            Level::INFO,
            &[
                ("@module", "calc-plugin".into()),
                ("a", 2.into()),
                ("b", Value::from("x")),
                ("ok", true.into()),
                ("ratio", 0.5.into()),
                ("list", serde_json::json!([1, 2])),
            ],
        );
        let seen = seen_with("trace", &[e]);
        assert_eq!(seen.len(), 1);
        let (target, level, fields) = &seen[0];
        assert_eq!((target.as_str(), *level), ("calc-plugin", Level::INFO));
        assert_eq!(
            fields,
            &[
                "message=adding",
                "plugin=\"calc\"",
                "timestamp=\"2026-12-04T08:14:32.976676Z\"",
                "a=2",
                "b=\"x\"",
                "ok=true",
                "ratio=0.5",
                "list=\"[1,2]\"",
            ]
        );
    }

    #[test]
    fn filters_by_the_plugins_module() {
        let module = |m: &str, level| entry(level, &[("@module", m.into())]);
        let seen = seen_with(
            "warn,calc_plugin=debug",
            &[
                module("calc_plugin", Level::DEBUG),
                module("calc_plugin", Level::TRACE),
                module("other", Level::INFO),
                module("other", Level::WARN),
            ],
        );
        let got: Vec<(&str, Level)> = seen.iter().map(|(t, l, _)| (t.as_str(), *l)).collect();
        assert_eq!(got, [("calc_plugin", Level::DEBUG), ("other", Level::WARN)]);
    }

    #[test]
    fn an_entry_without_a_module_or_over_the_bounds_keeps_the_fallback() {
        let plain = entry(Level::WARN, &[("a", 1.into())]);
        let long_module = entry(Level::WARN, &[("@module", "m".repeat(MAX_NAME + 1).into())]);
        let many: Vec<(String, Value)> = (0..MAX_FIELDS)
            .map(|i| (format!("k{i}"), Value::from(i)))
            .chain([("@module".to_string(), Value::from("many"))])
            .collect();
        let mut too_many = entry(Level::WARN, &[]);
        too_many.fields = many;
        let seen = seen_with("trace", &[plain, long_module, too_many]);
        assert_eq!(seen.len(), 3);
        for (target, _, fields) in &seen {
            assert_eq!(target, FALLBACK_TARGET);
            assert!(
                fields.iter().any(|f| f.starts_with("fields=")),
                "{fields:?}"
            );
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_first_value() {
        let e = entry(
            Level::INFO,
            &[("@module", "rep".into()), ("k", 1.into()), ("k", 2.into())],
        );
        let seen = seen_with("trace", &[e]);
        assert_eq!(seen[0].2.iter().filter(|f| f.starts_with("k=")).count(), 1);
        assert!(seen[0].2.contains(&"k=1".to_string()), "{:?}", seen[0].2);
    }
}
