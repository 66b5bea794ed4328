//! Planning a resource change from Terraform's proposed new state, as terraform-plugin-framework
//! does, pure:
//!
//! 1. a null proposal is a destroy: the plan is null;
//! 2. write-only attributes are planned null (Terraform never stores them), defaults fill what the
//!    configuration leaves out;
//! 3. when the resource changes (a create, or any difference from the prior state), every
//!    computed attribute the configuration leaves out becomes unknown, except those marked
//!    use-state-for-unknown, which keep the prior state's value;
//! 4. a requires-replace attribute whose planned value differs from the prior state's makes the
//!    change a replacement.

use super::Schema;
use crate::{AttributePath, Value};

/// A planned change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    /// The planned state (null for a destroy).
    pub state: Value,
    /// The attributes whose change forces a replacement.
    pub requires_replace: Vec<AttributePath>,
}

pub(crate) fn plan(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> Planned {
    if proposed.is_null() {
        return Planned {
            state: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    let configured = |name: &str| config.get(name).is_some_and(|v| !v.is_null());
    let mut planned = proposed.clone();
    for attr in &schema.attrs {
        if attr.write_only {
            planned.set_attribute(&attr.name, Value::Null);
        } else if let Some(default) = attr.default_value().filter(|_| !configured(&attr.name)) {
            planned.set_attribute(&attr.name, default.clone());
        }
    }
    if prior.is_null() || &planned != prior {
        for attr in schema.attrs.iter().filter(|a| a.computed) {
            if configured(&attr.name) || attr.default_value().is_some() {
                continue;
            }
            let kept = prior
                .get(&attr.name)
                .filter(|_| attr.keeps_state_for_unknown() && !prior.is_null())
                .cloned();
            planned.set_attribute(&attr.name, kept.unwrap_or(Value::UNKNOWN));
        }
    }
    let requires_replace = if prior.is_null() {
        Vec::new()
    } else {
        schema
            .attrs
            .iter()
            .filter(|a| a.requires_replacement() && planned.get(&a.name) != prior.get(&a.name))
            .map(|a| AttributePath::default().attribute(&a.name))
            .collect()
    };
    Planned {
        state: planned,
        requires_replace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::Attr;

    fn schema() -> Schema {
        Schema::new()
            .attr(Attr::string("path").required().requires_replace())
            .attr(Attr::string("content").required())
            .attr(Attr::string("mode").default("0644"))
            .attr(Attr::string("secret").optional().write_only())
            .attr(Attr::string("id").computed().use_state_for_unknown())
            .attr(Attr::string("sha256").computed())
    }

    fn object(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::object(
            ["path", "content", "mode", "secret", "id", "sha256"].map(|n| (n, Value::Null)),
        );
        for (k, val) in pairs {
            v.set_attribute(k, val.clone());
        }
        v
    }

    /// The state after `path = "/a"`, `content = "x"` was applied.
    fn applied() -> Value {
        object(&[
            ("path", "/a".into()),
            ("content", "x".into()),
            ("mode", "0644".into()),
            ("id", "/a".into()),
            ("sha256", "h".into()),
        ])
    }

    #[test]
    fn a_create_plans_defaults_unknown_computed_and_no_write_only_value() {
        let config = object(&[
            ("path", "/a".into()),
            ("content", "x".into()),
            ("secret", "s3cret".into()),
        ]);
        let planned = plan(&schema(), &Value::Null, &config, &config);
        assert_eq!(
            planned.state,
            object(&[
                ("path", "/a".into()),
                ("content", "x".into()),
                ("mode", "0644".into()),
                ("id", Value::UNKNOWN),
                ("sha256", Value::UNKNOWN),
            ])
        );
        assert!(planned.requires_replace.is_empty());
    }

    #[test]
    fn no_change_plans_the_prior_state() {
        let prior = applied();
        let config = object(&[
            ("path", "/a".into()),
            ("content", "x".into()),
            ("secret", "s".into()),
        ]);
        // Terraform proposes the prior computed values where the configuration has none.
        let planned = plan(&schema(), &prior, &prior, &config);
        assert_eq!(planned.state, prior);
    }

    #[test]
    fn an_update_keeps_use_state_values_and_marks_the_rest_unknown() {
        let prior = applied();
        let mut proposed = prior.clone();
        proposed.set_attribute("content", "y".into());
        let config = object(&[("path", "/a".into()), ("content", "y".into())]);
        let planned = plan(&schema(), &prior, &proposed, &config);
        assert_eq!(planned.state.get("id"), Some(&Value::string("/a")));
        assert_eq!(planned.state.get("sha256"), Some(&Value::UNKNOWN));
        assert!(planned.requires_replace.is_empty());
    }

    #[test]
    fn a_changed_requires_replace_attribute_is_a_replacement() {
        let prior = applied();
        let mut proposed = prior.clone();
        proposed.set_attribute("path", "/b".into());
        let config = object(&[("path", "/b".into()), ("content", "x".into())]);
        let planned = plan(&schema(), &prior, &proposed, &config);
        assert_eq!(
            planned.requires_replace,
            vec![AttributePath::default().attribute("path")]
        );
    }

    #[test]
    fn a_null_proposal_is_a_destroy() {
        let prior = object(&[("path", "/a".into())]);
        let planned = plan(&schema(), &prior, &Value::Null, &Value::Null);
        assert_eq!(planned.state, Value::Null);
    }
}
