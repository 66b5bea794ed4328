//! Validators: checks of a configured value that Terraform's own type checks cannot make. Each
//! failure is a diagnostic on the attribute's path, so Terraform underlines the right line.
//! Unknown and null values pass (they are checked once known; `required` covers absence).

use std::fmt;
use std::sync::Arc;

use crate::{AttributePath, Diagnostic, Value};

/// `check(value, whole configuration)`: why the value is wrong.
type Check = Arc<dyn Fn(&Value, &Value) -> Result<(), String> + Send + Sync>;

/// One check of an attribute's configured value.
#[derive(Clone)]
pub struct Validator {
    description: String,
    summary: String,
    check: Check,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl Validator {
    /// A check of your own: `check(value, whole configuration)` returns why the value is wrong.
    pub fn custom(
        description: impl Into<String>,
        check: impl Fn(&Value, &Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Validator {
        Validator {
            description: description.into(),
            summary: "Invalid attribute value".into(),
            check: Arc::new(check),
        }
    }

    /// A string of `min..=max` characters (or a list, set or map of that many elements).
    pub fn length(min: usize, max: usize) -> Validator {
        Validator::custom(format!("length between {min} and {max}"), move |v, _| {
            let n = match v {
                Value::String(s) => s.chars().count(),
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => items.len(),
                Value::Map(m) => m.len(),
                _ => return Ok(()),
            };
            if (min..=max).contains(&n) {
                Ok(())
            } else {
                Err(format!(
                    "must have a length between {min} and {max}, got {n}"
                ))
            }
        })
    }

    /// A string matching `pattern` (a regular expression); `what` says in words what it means.
    /// Panics when `pattern` is not a valid regular expression (a bug in the provider).
    pub fn regex(pattern: &str, what: impl Into<String>) -> Validator {
        let regex = regex_lite::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("invalid validator pattern {pattern:?}: {e}"));
        let what = what.into();
        Validator::custom(format!("{what} (matches {pattern})"), move |v, _| match v {
            Value::String(s) if !regex.is_match(s) => Err(format!("must be {what}, got {s:?}")),
            _ => Ok(()),
        })
    }

    /// A string among `allowed`.
    pub fn one_of(allowed: &[&str]) -> Validator {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        Validator::custom(format!("one of {allowed:?}"), move |v, _| match v {
            Value::String(s) if !allowed.contains(s) => {
                Err(format!("must be one of {allowed:?}, got {s:?}"))
            }
            _ => Ok(()),
        })
    }

    /// Not set together with attribute `other` of the same object.
    pub fn conflicts_with(other: &str) -> Validator {
        let other = other.to_string();
        Validator::custom(
            format!("conflicts with {other}"),
            move |_, config| match config.get(&other) {
                Some(v) if !v.is_null() => Err(format!("cannot be set together with {other:?}")),
                _ => Ok(()),
            },
        )
    }

    /// The diagnostic's summary when the check fails (default "Invalid attribute value").
    pub fn summary(mut self, summary: impl Into<String>) -> Validator {
        self.summary = summary.into();
        self
    }

    /// What it checks, in words.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Checks `value` at `path` of `config`; `None` when it passes.
    pub(crate) fn check(
        &self,
        path: &AttributePath,
        value: &Value,
        config: &Value,
    ) -> Option<Diagnostic> {
        if value.is_null() || !value.is_wholly_known() {
            return None;
        }
        (self.check)(value, config).err().map(|why| {
            // `name must ...` for a top-level attribute, `a.b must ...` below it.
            let named = path.to_string();
            let named = named.strip_prefix('.').unwrap_or(&named);
            Diagnostic::error(&self.summary, format!("{named} {why}")).at(path.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(name: &str) -> AttributePath {
        AttributePath::default().attribute(name)
    }

    #[test]
    fn each_validator_names_the_attribute_and_why() {
        let config = Value::object([("a", Value::string("x")), ("b", Value::string("y"))]);
        let d = Validator::length(2, 4)
            .check(&at("a"), &Value::string("x"), &config)
            .unwrap();
        assert_eq!(d.attribute, Some(at("a")));
        assert!(d.detail.contains("between 2 and 4, got 1"), "{}", d.detail);
        assert!(Validator::regex("^/", "an absolute path")
            .check(&at("p"), &Value::string("rel"), &config)
            .unwrap()
            .detail
            .contains("an absolute path"));
        assert!(Validator::regex("^/", "an absolute path")
            .check(&at("p"), &Value::string("/abs"), &config)
            .is_none());
        assert!(Validator::one_of(&["a", "b"])
            .check(&at("m"), &Value::string("c"), &config)
            .is_some());
        assert!(Validator::conflicts_with("b")
            .check(&at("a"), &Value::string("x"), &config)
            .unwrap()
            .detail
            .contains("\"b\""));
    }

    #[test]
    fn unknown_and_null_values_pass() {
        let v = Validator::length(5, 6);
        assert!(v.check(&at("a"), &Value::UNKNOWN, &Value::Null).is_none());
        assert!(v.check(&at("a"), &Value::Null, &Value::Null).is_none());
    }
}
