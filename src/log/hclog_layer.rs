//! Plugin logs in hclog's JSON shape, so that a Go host re-logs them as structured entries.
//!
//! A go-plugin host reads the plugin's stderr line by line. A line that is a JSON object with
//! string values for `@level`, `@message` and `@timestamp` becomes a log entry at that level with
//! the message and every other key as a key/value pair. The host is strict:
//!
//! * `@message`, `@level` and `@timestamp` must be JSON **strings** (a Go host panics otherwise);
//! * `@timestamp` must have **exactly six** fractional digits (`2026-11-24T11:03:01.626247Z`),
//!   otherwise the whole line is treated as plain text;
//! * levels are `trace`, `debug`, `info`, `warn`, `error`.
//!
//! [`HclogLayer`] is a `tracing-subscriber` layer that writes such lines: one JSON object per
//! event, keys sorted as Go's encoder sorts them, the event's fields (and those of the spans it is
//! in) as keys, the event target as `@module`. Lines go to the process's *real* stderr (a
//! duplicate of descriptor 2 taken before [`crate::plugin::serve`] redirects descriptor 2 into the
//! host's stdio stream), each in a single write.
//!
//! The formatting is pure ([`format_line`], [`format_timestamp`]); only [`real_stderr`] touches the
//! process.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// hclog's JSON timestamp: `2006-01-02T15:04:05.000000Z07:00`, here always in UTC.
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The hclog level name of a tracing level.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Formats a UTC time as hclog does, with exactly six fractional digits.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .expect("a UTC time always formats")
}

/// Formats one hclog JSON line (with its trailing newline). `fields` are the user's key/values;
/// a user field may not replace the three keys a Go host depends on.
pub fn format_line(
    level: Level,
    message: &str,
    module: Option<&str>,
    timestamp: &str,
    fields: Map<String, Value>,
) -> String {
    let mut entry = fields;
    entry.insert("@level".into(), Value::from(level_name(level)));
    entry.insert("@message".into(), Value::from(message));
    entry.insert("@timestamp".into(), Value::from(timestamp));
    if let Some(module) = module {
        entry.insert("@module".into(), Value::from(module));
    }
    let mut line = Value::Object(entry).to_string();
    line.push('\n');
    line
}

/// The process's real stderr, duplicated the first time this is called, so that logs keep going
/// to the host's log pipe after descriptor 2 is redirected into the stdio stream. `None` when
/// the process was started with descriptor 2 closed: logs then go nowhere.
pub fn real_stderr() -> Option<&'static Mutex<File>> {
    real_stderr_cell().as_ref().map(|r| &r.file)
}

struct RealStderr {
    file: Mutex<File>,
    /// The same descriptor, for the panic hook when the lock is not to be had.
    fd: RawFd,
}

fn real_stderr_cell() -> &'static Option<RealStderr> {
    static REAL_STDERR: OnceLock<Option<RealStderr>> = OnceLock::new();
    REAL_STDERR.get_or_init(|| {
        let fd: OwnedFd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
        Some(RealStderr {
            fd: fd.as_raw_fd(),
            file: Mutex::new(File::from(fd)),
        })
    })
}

/// Writes one whole line to the real stderr in a single write; errors are ignored (there is
/// nowhere left to report them).
pub fn write_real_stderr(line: &str) {
    if let Some(stderr) = real_stderr() {
        let mut file = stderr.lock().unwrap_or_else(|e| e.into_inner());
        let _ = file.write_all(line.as_bytes());
    }
}

/// [`write_real_stderr`] for the panic hook, which must never block for good: the panicking
/// thread may itself hold the lock (a panic inside a log write). After a short wait for the lock
/// the line is written on the descriptor directly.
fn write_real_stderr_from_panic(line: &str) {
    let Some(stderr) = real_stderr_cell() else {
        return;
    };
    for _ in 0..50 {
        match stderr.file.try_lock() {
            Ok(mut file) => {
                let _ = file.write_all(line.as_bytes());
                return;
            }
            Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                let _ = poisoned.into_inner().write_all(line.as_bytes());
                return;
            }
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
        }
    }
    // SAFETY: the descriptor is owned by the `File` in the static above, which is never dropped;
    // ManuallyDrop keeps this second handle from closing it.
    let mut file = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(stderr.fd) });
    let _ = file.write_all(line.as_bytes());
}

/// The filter [`init`] uses when [`PLUGIN_LOG_VARIABLE`] is not set: everything of the plugin and
/// of this crate down to trace (go-plugin's default: the host decides what to show), the
/// transport libraries only from warn on (their trace output would drown the plugin's).
pub const DEFAULT_FILTER: &str = "trace,h2=warn,hyper=warn,hyper_util=warn,tonic=warn,tower=warn,rustls=warn,tokio_util=warn,tokio_yamux=warn,mio=warn,want=warn,log=warn,loona_hpack=warn";

/// The variable a plugin's [`init`] reads its log filter from (`EnvFilter` syntax, as
/// `RUST_LOG`), `GO_PLUGIN_LOG`. A plugin does not read `RUST_LOG`: it inherits the host's
/// environment, and the host's `RUST_LOG=debug` would otherwise make every plugin send its
/// transport libraries' debug lines too. Set `GO_PLUGIN_LOG` where the host runs to change what
/// its plugins send.
pub const PLUGIN_LOG_VARIABLE: &str = "GO_PLUGIN_LOG";

/// The filter [`init_host`] uses when `RUST_LOG` is not set: the plugins' entries and the host's
/// own down to info (a Go host shows a plugin's info lines too), the transport libraries from
/// warn on.
pub const DEFAULT_HOST_FILTER: &str = "info,h2=warn,hyper=warn,hyper_util=warn,tonic=warn,tower=warn,rustls=warn,tokio_util=warn,tokio_yamux=warn,mio=warn,want=warn,loona_hpack=warn";

/// The filter named by the variable `name`, or `default` when it is unset, empty or invalid
/// (an invalid one is reported on stderr: logging is not up yet).
fn filter_from(name: &str, default: &str) -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => EnvFilter::try_new(&value).unwrap_or_else(|e| {
            eprintln!("{name}={value:?} is not a valid log filter ({e}); using {default:?}");
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    }
}

/// Installs [`HclogLayer`] as the global subscriber of a plugin, filtered by the variable
/// [`PLUGIN_LOG_VARIABLE`] (`GO_PLUGIN_LOG`) or [`DEFAULT_FILTER`]. Returns an error if a global
/// subscriber exists already.
pub fn init() -> Result<(), tracing_subscriber::util::TryInitError> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(HclogLayer::new().with_filter(filter_from(PLUGIN_LOG_VARIABLE, DEFAULT_FILTER)))
        .try_init()
}

/// Logging for a host program, as text on stderr: the crate's own events and every plugin log
/// entry, re-logged with the plugin's module as target (`calc_plugin`, a Go plugin's logger
/// name) and its key/values as fields. Filtered by `RUST_LOG` (e.g.
/// `RUST_LOG=info,calc_plugin=debug`), or [`DEFAULT_HOST_FILTER`]. Returns an error if a global
/// subscriber exists already.
pub fn init_host() -> Result<(), tracing_subscriber::util::TryInitError> {
    use std::io::IsTerminal;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter_from("RUST_LOG", DEFAULT_HOST_FILTER))
        .finish()
        .try_init()
}

/// Makes a panic print `panic: <message>` on the real stderr, where a go-plugin host logs it at
/// error level (like a Go runtime panic), instead of into the redirected stderr.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".into());
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("<unnamed>");
        write_real_stderr_from_panic(&format!(
            "panic: {payload}\n\nthread '{name}' panicked{location}\n"
        ));
    }));
}

/// A tracing layer writing hclog JSON lines to the real stderr. See the module docs.
#[derive(Debug, Default, Clone)]
pub struct HclogLayer {
    module: Option<String>,
}

impl HclogLayer {
    /// A layer that names each entry after its event's target (`@module`).
    pub fn new() -> Self {
        HclogLayer::default()
    }

    /// Uses a fixed `@module` name for every entry instead of the event target.
    pub fn with_module(mut self, name: impl Into<String>) -> Self {
        self.module = Some(name.into());
        self
    }
}

/// The JSON fields recorded for a span, kept in the span's extensions.
struct SpanFields(Map<String, Value>);

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut visitor = JsonVisitor::default();
        attrs.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(visitor.fields));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = JsonVisitor::default();
        values.record(&mut visitor);
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            fields.extend(visitor.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.clone());
                }
            }
        }
        let mut visitor = JsonVisitor {
            fields,
            message: None,
        };
        event.record(&mut visitor);
        let meta = event.metadata();
        let module = self.module.as_deref().unwrap_or(meta.target());
        let line = format_line(
            *meta.level(),
            visitor.message.as_deref().unwrap_or(""),
            Some(module),
            &format_timestamp(OffsetDateTime::now_utc()),
            visitor.fields,
        );
        write_real_stderr(&line);
    }
}

/// Collects tracing fields as JSON values; the `message` field becomes the entry's message.
#[derive(Default)]
struct JsonVisitor {
    fields: Map<String, Value>,
    message: Option<String>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for JsonVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let json = serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| Value::from(value.to_string()));
        self.put(field, json);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamp_has_exactly_six_fractional_digits() {
        assert_eq!(
            format_timestamp(datetime!(2026-11-24 11:03:01.626247891 UTC)),
            "2026-11-24T11:03:01.626247Z"
        );
        assert_eq!(
            format_timestamp(datetime!(2026-01-02 03:04:05 UTC)),
            "2026-01-02T03:04:05.000000Z"
        );
        assert_eq!(
            format_timestamp(datetime!(2026-01-02 03:04:05 +02:00)),
            "2026-01-02T01:04:05.000000Z"
        );
    }

    #[test]
    fn line_has_string_keys_sorted_like_go() {
        let mut fields = Map::new();
        fields.insert("foo".into(), Value::from("bar"));
        fields.insert("count".into(), Value::from(12));
        let line = format_line(
            Level::WARN,
            "hello",
            Some("kv"),
            "2026-01-02T03:04:05.000000Z",
            fields,
        );
        assert_eq!(
            line,
            "{\"@level\":\"warn\",\"@message\":\"hello\",\"@module\":\"kv\",\"@timestamp\":\"2026-01-02T03:04:05.000000Z\",\"count\":12,\"foo\":\"bar\"}\n"
        );
    }

    #[test]
    fn user_fields_cannot_replace_the_keys_a_go_host_reads() {
        let mut fields = Map::new();
        fields.insert("@level".into(), Value::from(3));
        fields.insert("@message".into(), Value::Null);
        let line = format_line(Level::INFO, "m", None, "t", fields);
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["@level"], "info");
        assert_eq!(parsed["@message"], "m");
        assert!(parsed.get("@module").is_none());
    }

    #[test]
    fn every_level_has_its_hclog_name() {
        let names: Vec<_> = [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ]
        .into_iter()
        .map(level_name)
        .collect();
        assert_eq!(names, ["trace", "debug", "info", "warn", "error"]);
    }

    #[test]
    fn visitor_collects_typed_fields_and_the_message() {
        use tracing_subscriber::layer::SubscriberExt;
        type Seen = std::sync::Arc<Mutex<Vec<(Option<String>, Map<String, Value>)>>>;
        let seen = Seen::default();
        struct Capture(Seen);
        impl<S: Subscriber> Layer<S> for Capture {
            fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
                let mut v = JsonVisitor::default();
                event.record(&mut v);
                self.0.lock().unwrap().push((v.message, v.fields));
            }
        }
        let subscriber = tracing_subscriber::registry().with(Capture(seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(n = 12, ok = true, name = "x", ratio = 0.5, dbg = ?vec![1], "hello {}", "world");
        });
        let (message, fields) = seen.lock().unwrap().pop().unwrap();
        assert_eq!(message.as_deref(), Some("hello world"));
        assert_eq!(fields["n"], 12);
        assert_eq!(fields["ok"], true);
        assert_eq!(fields["name"], "x");
        assert_eq!(fields["ratio"], 0.5);
        assert_eq!(fields["dbg"], "[1]");
    }
}
