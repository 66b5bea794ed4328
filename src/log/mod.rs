//! Logging across the process boundary, in go-plugin's terms: a plugin writes one hclog JSON
//! object per line on its stderr; the host turns every stderr line back into a log entry.
//!
//! * [`HclogLayer`] — the plugin side: a `tracing-subscriber` layer writing hclog JSON lines.
//! * [`StderrClassifier`] — the host side: go-plugin's rules for classifying a plugin's stderr line
//!   (hclog JSON, `[LEVEL]` prefixes, panics), pure.

mod hclog_layer;
mod stderr_line;

pub use hclog_layer::{
    format_line, format_timestamp, init, init_host, install_panic_hook, level_name, real_stderr,
    write_real_stderr, HclogLayer, DEFAULT_FILTER,
};
pub use stderr_line::{LogEntry, StderrClassifier, DEFAULT_MAX_JSON_LINE};
