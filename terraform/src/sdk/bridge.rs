//! Between the protocol's values and the author's models, for every part: configurations,
//! plans and states decoded into models and models encoded back, with the checks each crossing
//! needs (computed attributes unknown in configurations, write-only values never stored,
//! nothing unknown in a state, validators).

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errors::{error, Diagnostics};
use super::typed::{from_value, to_value};
use super::{Attr, NestedBlock, Schema};
use crate::{AttributePath, Diagnostic, Value};

/// A configuration value as a model: computed attributes it leaves out become unknown, as they
/// are not known from configuration.
pub(crate) fn config_model<M: DeserializeOwned>(
    schema: &Schema,
    config: &Value,
) -> Result<M, Diagnostics> {
    let mut config = config.clone();
    for attr in schema.attrs.iter().filter(|a| a.computed) {
        if config.get(&attr.name).is_some_and(Value::is_null) {
            config.set_attribute(&attr.name, Value::UNKNOWN);
        }
    }
    model(schema, &config, "configuration")
}

pub(crate) fn model<M: DeserializeOwned>(
    schema: &Schema,
    value: &Value,
    what: &str,
) -> Result<M, Diagnostics> {
    from_value(value, &schema.value_type()).map_err(|e| vec![Diagnostic::invalid_value(what, &e)])
}

pub(crate) fn value<M: Serialize>(
    schema: &Schema,
    model: &M,
    what: &str,
) -> Result<Value, Diagnostics> {
    to_value(model, &schema.value_type()).map_err(|e| {
        vec![Diagnostic::error(
            format!("Provider returned an invalid {what}"),
            e.to_string(),
        )]
    })
}

/// A state as Terraform must store it: write-only attributes null, nothing unknown.
pub(crate) fn stored(schema: &Schema, mut state: Value, what: &str) -> Result<Value, Diagnostics> {
    for attr in schema.attrs.iter().filter(|a| a.write_only) {
        state.set_attribute(&attr.name, Value::Null);
    }
    if !state.is_wholly_known() {
        return Err(error(
            format!("Provider returned an unknown value in the {what}"),
            "every attribute must be known after apply: set each MaybeUnknown field",
        ));
    }
    Ok(state)
}

/// The checks every configuration gets: each attribute's validators, in nested attributes and
/// nested blocks too (each nested object checked as a configuration of its own).
pub(crate) fn validate(schema: &Schema, config: &Value) -> Diagnostics {
    let mut found = Vec::new();
    check_object(
        &schema.attrs,
        &schema.blocks,
        &AttributePath::default(),
        config,
        &mut found,
    );
    found
}

fn check_object(
    attrs: &[Attr],
    blocks: &[NestedBlock],
    at: &AttributePath,
    object: &Value,
    found: &mut Diagnostics,
) {
    for attr in attrs {
        let path = at.attribute(&attr.name);
        let value = object.get(&attr.name).unwrap_or(&Value::Null);
        found.extend(
            attr.validators
                .iter()
                .filter_map(|v| v.check(&path, value, object)),
        );
        if let Some((_, nested)) = &attr.nested {
            for (element_path, element) in elements(&path, value) {
                check_object(nested, &[], &element_path, element, found);
            }
        }
    }
    for block in blocks {
        let path = at.attribute(&block.name);
        let value = object.get(&block.name).unwrap_or(&Value::Null);
        for (element_path, element) in elements(&path, value) {
            let nested = &block.schema;
            check_object(&nested.attrs, &nested.blocks, &element_path, element, found);
        }
    }
}

/// The objects a nested value holds, each with its path: the object itself, a list's by index,
/// a map's by key; a set's elements have no path of their own and take the set's. Null and
/// unknown values hold none yet.
fn elements<'a>(path: &AttributePath, value: &'a Value) -> Vec<(AttributePath, &'a Value)> {
    match value {
        Value::Object(_) => vec![(path.clone(), value)],
        Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (path.index(i), v))
            .collect(),
        Value::Set(items) => items.iter().map(|v| (path.clone(), v)).collect(),
        Value::Map(entries) => entries.iter().map(|(k, v)| (path.key(k), v)).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Nesting;
    use crate::sdk::Validator;

    #[test]
    fn validators_inside_nested_attributes_and_blocks_name_their_element() {
        let port = || {
            Attr::number("port").validate(Validator::custom("small", |v, _| match v {
                Value::Number(n) if n.to_string().len() > 2 => Err("must be below 100".into()),
                _ => Ok(()),
            }))
        };
        let schema = Schema::new()
            .attr(Attr::list_of("rules", vec![port()]))
            .attr(Attr::map_of("named", vec![port()]))
            .block("note", Nesting::List, Schema::new().attr(port()));
        let rule = |p: i64| Value::object([("port", Value::from(p))]);
        let config = Value::object([
            ("rules", Value::List(vec![rule(1), rule(443)])),
            (
                "named",
                Value::Map([("web".to_string(), rule(8080))].into()),
            ),
            ("note", Value::List(vec![rule(999)])),
        ]);
        let found = validate(&schema, &config);
        let paths: Vec<String> = found.iter().map(|d| d.detail.clone()).collect();
        assert_eq!(
            paths,
            [
                "rules[1].port must be below 100",
                "named[\"web\"].port must be below 100",
                "note[0].port must be below 100",
            ]
        );
        assert_eq!(
            found[0].attribute,
            Some(
                AttributePath::default()
                    .attribute("rules")
                    .index(1)
                    .attribute("port")
            )
        );
    }
}
