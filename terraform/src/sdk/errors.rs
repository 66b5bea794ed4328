//! Errors as Terraform shows them: a failed call returns [`Diagnostics`], each with a summary
//! (the headline) and a detail. [`error`] makes one; [`OrError::or_error`] turns any error into
//! one, so `?` works on `std::io`, HTTP clients and the like inside a resource.

use crate::Diagnostic;

/// What a failed call returns: Terraform shows each.
pub type Diagnostics = Vec<Diagnostic>;

/// One error diagnostic.
pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostics {
    vec![Diagnostic::error(summary, detail)]
}

/// Any error as an error diagnostic: `std::fs::write(path, c).or_error("Could not write")?`.
pub trait OrError<T> {
    /// The error as a diagnostic with this summary and the error's message as its detail.
    fn or_error(self, summary: impl Into<String>) -> Result<T, Diagnostics>;
}

impl<T, E: std::fmt::Display> OrError<T> for Result<T, E> {
    fn or_error(self, summary: impl Into<String>) -> Result<T, Diagnostics> {
        self.map_err(|e| error(summary, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_becomes_its_detail_under_the_summary() {
        let failed: Result<(), std::io::Error> = Err(std::io::ErrorKind::NotFound.into());
        let diagnostics = failed.or_error("Could not read /x").unwrap_err();
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].summary, "Could not read /x");
        assert_eq!(diagnostics[0].detail, "entity not found");
    }
}
