//! Attribute paths (`.rules[0].name`) and the path-carrying error of the value codecs.
//!
//! Terraform points at the part of a value a diagnostic is about with an `AttributePath`: steps of
//! attribute names, string keys (maps) and integer indices (lists, tuples). Decoding errors carry
//! the same path so that a provider can turn them into a diagnostic on the right attribute.

use std::fmt;

/// One step into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object attribute.
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list or tuple index (sets are indexed by arrival order).
    Index(i64),
}

/// A path from the top of a value to a part of it; empty means the whole value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttributePath(pub Vec<Step>);

impl AttributePath {
    /// This path extended by one step.
    pub fn join(&self, step: Step) -> AttributePath {
        let mut steps = self.0.clone();
        steps.push(step);
        AttributePath(steps)
    }

    /// This path extended by an attribute name.
    pub fn attribute(&self, name: &str) -> AttributePath {
        self.join(Step::Attribute(name.to_string()))
    }

    /// This path extended by a list index.
    pub fn index(&self, index: usize) -> AttributePath {
        self.join(Step::Index(index as i64))
    }

    /// This path extended by a map key.
    pub fn key(&self, key: &str) -> AttributePath {
        self.join(Step::Key(key.to_string()))
    }
}

/// Terraform's notation: `.a.b[0]["k"]`; the whole value prints as `(root)`.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for step in &self.0 {
            match step {
                Step::Attribute(name) => write!(f, ".{name}")?,
                Step::Key(key) => write!(f, "[{key:?}]")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A value that does not fit its type, or bytes that are not a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ValueError {
    /// Where in the value.
    pub path: AttributePath,
    /// What is wrong there.
    pub message: String,
}

impl ValueError {
    /// An error at `path`.
    pub fn at(path: &AttributePath, message: impl Into<String>) -> ValueError {
        ValueError {
            path: path.clone(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_terraform() {
        let path = AttributePath::default()
            .attribute("rules")
            .index(0)
            .key("a b");
        assert_eq!(path.to_string(), r#".rules[0]["a b"]"#);
        assert_eq!(AttributePath::default().to_string(), "(root)");
    }
}
