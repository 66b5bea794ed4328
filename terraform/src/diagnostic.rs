//! Diagnostics: how providers report errors and warnings about configuration and operations.
//!
//! Every provider call returns a list of diagnostics next to its result; an *error* diagnostic
//! means the call failed (Terraform stops), a *warning* is shown and the run goes on. A
//! diagnostic may point at an attribute ([`AttributePath`]).

use std::fmt;

use super::path::{AttributePath, ValueError};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The operation failed.
    Error,
    /// Shown to the user; the operation went on.
    Warning,
}

/// One error or warning from a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// More detail, possibly several lines.
    pub detail: String,
    /// The attribute it is about, if any.
    pub attribute: Option<AttributePath>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// The same diagnostic, about `attribute`.
    pub fn at(mut self, attribute: AttributePath) -> Diagnostic {
        self.attribute = Some(attribute);
        self
    }

    /// An error diagnostic for a value that does not fit its type, pointing at the attribute.
    pub fn invalid_value(what: &str, error: &ValueError) -> Diagnostic {
        let diagnostic = Diagnostic::error(
            format!("Invalid {what}"),
            format!(
                "{what} does not match the schema at {}: {}",
                error.path, error.message
            ),
        );
        if error.path.0.is_empty() {
            diagnostic
        } else {
            diagnostic.at(error.path.clone())
        }
    }

    /// `true` for an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `Error: summary (at .path): detail`
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        write!(f, "{severity}: {}", self.summary)?;
        if let Some(path) = &self.attribute {
            write!(f, " (at {path})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}
