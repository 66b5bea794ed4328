//! Between the protocol's values and the author's models, for every part: configurations,
//! plans and states decoded into models and models encoded back, with the checks each crossing
//! needs (computed attributes unknown in configurations, write-only values never stored,
//! nothing unknown in a state, validators).

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errors::{error, Diagnostics};
use super::typed::{from_value, to_value};
use super::Schema;
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

/// The checks every configuration gets: each attribute's validators.
pub(crate) fn validate(schema: &Schema, config: &Value) -> Diagnostics {
    schema
        .attrs
        .iter()
        .flat_map(|attr| {
            let path = AttributePath::default().attribute(&attr.name);
            let value = config.get(&attr.name).cloned().unwrap_or(Value::Null);
            attr.validators
                .iter()
                .filter_map(|v| v.check(&path, &value, config))
                .collect::<Vec<_>>()
        })
        .collect()
}
