//! The host's reading of a plugin's stderr, line by line (go-plugin's `logStderr`).
//!
//! Each line becomes one [`LogEntry`]:
//!
//! 1. a JSON object whose `@level` is `trace`/`debug`/`info`/`warn`/`error` (any case) → that level,
//!    `@message` as the message, `@timestamp` kept, every other key (`@module` and `@caller`
//!    included) as a field;
//! 2. a JSON object without such a level, or any other JSON, → the raw line at debug;
//! 3. text starting with `[TRACE]`, `[DEBUG]`, `[INFO]`, `[WARN]` or `[ERROR]` → that level;
//! 4. text starting with `panic: ` or `fatal error: ` → error, and every later plain line too (the
//!    stack trace that follows);
//! 5. anything else → debug.
//!
//! Where go-plugin would crash or lose data this reading is lenient: a non-string `@message`,
//! `@level` or `@timestamp` (a Go host panics) and a timestamp without six fractional digits (a Go
//! host treats the line as text) make the line plain text; lines of any length stay whole.

use serde_json::{Map, Value};
use tracing::Level;

/// One plugin log line, interpreted.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LogEntry {
    /// The level the host logs it at.
    pub level: Level,
    /// The message (the whole line when it was not structured).
    pub message: String,
    /// The plugin's own `@timestamp`, when the line had one.
    pub timestamp: Option<String>,
    /// The structured key/values, in the order the plugin wrote them.
    pub fields: Vec<(String, Value)>,
}

impl LogEntry {
    fn plain(level: Level, line: &str) -> LogEntry {
        LogEntry {
            level,
            message: line.to_string(),
            timestamp: None,
            fields: Vec::new(),
        }
    }

    /// The fields as `key=value` pairs separated by spaces (hclog's text rendering).
    pub fn fields_text(&self) -> String {
        self.fields
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The longest line parsed as hclog JSON by default: 64 KiB, go-plugin's piece size. Parsing
/// costs memory in proportion to the line (a 16 MiB `[0,0,0,…]` is millions of values), so
/// longer lines are taken as text.
pub const DEFAULT_MAX_JSON_LINE: usize = 64 << 10;

/// Classifies stderr lines one after the other; remembers whether a panic is being printed.
#[derive(Debug)]
pub struct StderrClassifier {
    in_panic: bool,
    max_json: usize,
}

impl Default for StderrClassifier {
    fn default() -> Self {
        StderrClassifier {
            in_panic: false,
            max_json: DEFAULT_MAX_JSON_LINE,
        }
    }
}

impl StderrClassifier {
    /// A classifier at the start of a plugin's stderr.
    pub fn new() -> Self {
        StderrClassifier::default()
    }

    /// Parses lines as hclog JSON only up to `bytes` long (default [`DEFAULT_MAX_JSON_LINE`]);
    /// longer lines are classified as text.
    pub fn with_max_json_line(mut self, bytes: usize) -> Self {
        self.max_json = bytes;
        self
    }

    /// Whether `line` is too long to be parsed as JSON.
    pub fn too_long_for_json(&self, line: &str) -> bool {
        line.len() > self.max_json
    }

    /// Interprets one line (without its line terminator; a trailing `\r` is removed).
    pub fn classify(&mut self, line: &str) -> LogEntry {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.too_long_for_json(line) {
            return self.text(line);
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => match structured(object) {
                Some(entry) => entry,
                None if is_hclog_shaped(line) => self.text(line),
                None => LogEntry::plain(Level::DEBUG, line),
            },
            Ok(_) => LogEntry::plain(Level::DEBUG, line),
            Err(_) => self.text(line),
        }
    }

    fn text(&mut self, line: &str) -> LogEntry {
        const PREFIXES: [(&str, Level); 5] = [
            ("[TRACE]", Level::TRACE),
            ("[DEBUG]", Level::DEBUG),
            ("[INFO]", Level::INFO),
            ("[WARN]", Level::WARN),
            ("[ERROR]", Level::ERROR),
        ];
        if let Some((_, level)) = PREFIXES.iter().find(|(p, _)| line.starts_with(p)) {
            return LogEntry::plain(*level, line);
        }
        if line.starts_with("panic: ") || line.starts_with("fatal error: ") {
            self.in_panic = true;
        }
        LogEntry::plain(
            if self.in_panic {
                Level::ERROR
            } else {
                Level::DEBUG
            },
            line,
        )
    }
}

/// An object a Go host would treat as not-JSON (bad timestamp) or crash on (non-string keys):
/// read it as text instead.
fn is_hclog_shaped(line: &str) -> bool {
    line.contains("\"@timestamp\"") || line.contains("\"@message\"") || line.contains("\"@level\"")
}

/// The entry of an hclog JSON object, or `None` when it has no usable level or its hclog keys
/// are malformed.
fn structured(mut object: Map<String, Value>) -> Option<LogEntry> {
    let mut take_string = |key: &str| -> Result<Option<String>, ()> {
        match object.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(()),
        }
    };
    let message = take_string("@message").ok()?;
    let level = take_string("@level").ok()?;
    let timestamp = take_string("@timestamp").ok()?;
    if timestamp.as_deref().is_some_and(|t| !valid_timestamp(t)) {
        return None;
    }
    let level = match level?.to_ascii_lowercase().as_str() {
        "trace" => Level::TRACE,
        "debug" => Level::DEBUG,
        "info" => Level::INFO,
        "warn" => Level::WARN,
        "error" => Level::ERROR,
        _ => return None,
    };
    Some(LogEntry {
        level,
        message: message.unwrap_or_default(),
        timestamp,
        fields: object.into_iter().collect(),
    })
}

/// `2006-01-02T15:04:05.000000Z07:00`: six fractional digits, then `Z` or `±hh:mm`.
fn valid_timestamp(t: &str) -> bool {
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let base = b.len() >= 27
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..26);
    base && match &b[26..] {
        b"Z" => true,
        [sign, h1, h2, b':', m1, m2] => {
            (*sign == b'+' || *sign == b'-') && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_longer_than_the_limit_is_text_and_a_shorter_one_is_parsed() {
        let entry = r#"{"@level":"info","@message":"hi"}"#;
        let mut small = StderrClassifier::new().with_max_json_line(entry.len() - 1);
        assert_eq!(small.classify(entry).message, entry);
        assert_eq!(StderrClassifier::new().classify(entry).message, "hi");
        let bomb = format!("[{}0]", "0,".repeat(DEFAULT_MAX_JSON_LINE));
        assert_eq!(StderrClassifier::new().classify(&bomb).message, bomb);
    }

    fn classify(line: &str) -> LogEntry {
        StderrClassifier::new().classify(line)
    }

    #[test]
    fn hclog_json_becomes_a_structured_entry() {
        let e = classify(
            r#"{"@level":"debug","@message":"message from plugin","@timestamp":"2026-11-24T11:03:01.626247Z","foo":"bar","@module":"kv"}"#,
        );
        assert_eq!(e.level, Level::DEBUG);
        assert_eq!(e.message, "message from plugin");
        assert_eq!(e.timestamp.as_deref(), Some("2026-11-24T11:03:01.626247Z"));
        assert!(e.fields.contains(&("foo".into(), Value::from("bar"))));
        assert!(e.fields.contains(&("@module".into(), Value::from("kv"))));
    }

    #[test]
    fn level_is_case_insensitive_and_numbers_stay_numbers() {
        let e = classify(r#"{"@level":"WARN","@message":"m","foo":12}"#);
        assert_eq!(e.level, Level::WARN);
        assert_eq!(e.fields_text(), "foo=12");
    }

    #[test]
    fn non_hclog_json_is_logged_verbatim_at_debug() {
        for line in [
            r#"["HELLO"]"#,
            "12345",
            r#"{"a":1}"#,
            r#"{"@level":"fatal","@message":"x"}"#,
        ] {
            let e = classify(line);
            assert_eq!((e.level, e.message.as_str()), (Level::DEBUG, line));
        }
    }

    #[test]
    fn malformed_hclog_keys_make_the_line_text_instead_of_crashing() {
        let e = classify(r#"{"@level":"info","@message":5}"#);
        assert_eq!(
            (e.level, e.message.as_str()),
            (Level::DEBUG, r#"{"@level":"info","@message":5}"#)
        );
        let e =
            classify(r#"{"@level":"info","@message":"m","@timestamp":"2026-11-24T11:03:01.62Z"}"#);
        assert!(e.fields.is_empty() && e.level == Level::DEBUG);
    }

    #[test]
    fn timestamps_need_six_digits_and_a_zone() {
        assert!(valid_timestamp("2026-11-24T11:03:01.626247Z"));
        assert!(valid_timestamp("2026-11-24T11:03:01.626247+02:00"));
        assert!(!valid_timestamp("2026-11-24T11:03:01.626Z"));
        assert!(!valid_timestamp("2026-11-24T11:03:01.6262471Z"));
        assert!(!valid_timestamp("2026-11-24 11:03:01.626247Z"));
    }

    #[test]
    fn text_prefixes_set_the_level() {
        assert_eq!(classify("[WARN] careful").level, Level::WARN);
        assert_eq!(classify("[ERROR] bad").level, Level::ERROR);
        assert_eq!(classify("[TRACE] x").level, Level::TRACE);
        assert_eq!(classify(" [WARN] not at column 0").level, Level::DEBUG);
        assert_eq!(classify("plain words").level, Level::DEBUG);
    }

    #[test]
    fn a_panic_turns_the_rest_of_the_text_to_error() {
        let mut c = StderrClassifier::new();
        assert_eq!(c.classify("before").level, Level::DEBUG);
        assert_eq!(c.classify("panic: invalid foo bar").level, Level::ERROR);
        assert_eq!(c.classify("goroutine 1 [running]:").level, Level::ERROR);
        assert_eq!(
            c.classify(r#"{"@level":"info","@message":"json still parsed"}"#)
                .level,
            Level::INFO
        );
        let mut c = StderrClassifier::new();
        assert_eq!(c.classify("fatal error: out of memory").level, Level::ERROR);
    }

    #[test]
    fn crlf_is_stripped() {
        assert_eq!(classify("[INFO] x\r").message, "[INFO] x");
    }
}
