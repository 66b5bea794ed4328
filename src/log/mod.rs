//! Logging across the process boundary, in go-plugin's terms: a plugin writes one hclog JSON
//! object per line on its stderr; the host turns every stderr line back into a log entry.
//!
//! * [`HclogLayer`] — the plugin side: a `tracing-subscriber` layer writing hclog JSON lines.
//! * [`StderrClassifier`] — the host side: go-plugin's rules for classifying a plugin's stderr line
//!   (hclog JSON, `[LEVEL]` prefixes, panics), pure.
//! * The host re-logs each entry as a `tracing` event with the plugin's module as its target and
//!   its key/values as fields (`relog`).

mod hclog_layer;
mod relog;
mod stderr_line;

pub use hclog_layer::{
    format_line, format_timestamp, init, init_host, install_panic_hook, level_name, real_stderr,
    write_real_stderr, HclogLayer, DEFAULT_FILTER, DEFAULT_HOST_FILTER, PLUGIN_LOG_VARIABLE,
};
pub(crate) use relog::relog;
pub use stderr_line::{LogEntry, StderrClassifier, DEFAULT_MAX_JSON_LINE};
