//! A plugin's stderr as the host reads it (`StderrClassifier::classify`, one call per line, with
//! the panic state carried across lines): hclog JSON, `[LEVEL]` prefixes, panics and anything
//! else. Nothing panics; a line that is not a JSON object keeps its text whole.
#![no_main]

use go_plugin::log::StderrClassifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut classifier = StderrClassifier::new();
    for line in text.split('\n') {
        let entry = classifier.classify(line);
        let _ = entry.fields_text();
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !matches!(serde_json::from_str(line), Ok(serde_json::Value::Object(_))) {
            assert_eq!(entry.message, line);
        }
    }
});
