//! Config, plan and state as the author's own `serde` types.
//!
//! Terraform sends a resource's values as cty values: known, **null** (an optional attribute left
//! out) or **unknown** (a value only apply will tell). In a model struct:
//!
//! | cty | field type |
//! | --- | --- |
//! | known `string`/`number`/`bool` | `String`, `i64`/`f64`, `bool` |
//! | null or known | `Option<T>` |
//! | unknown or known (a computed attribute during plan) | [`MaybeUnknown<T>`] |
//! | null, unknown or known | `Option<MaybeUnknown<T>>` |
//! | `list`/`set`, `map`, `object` or a nested block | `Vec<T>`, `BTreeMap<String, T>`, a struct |
//!
//! The bridge goes through `serde_json`: an unknown value travels as an object with a single key
//! no schema can have ([`UNKNOWN_MARKER`]), which [`MaybeUnknown`] recognises; anywhere else it
//! fails with an error naming the attribute and what type to give the field.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

use crate::{AttributePath, Number, Type, Value, ValueError};

/// The key of the JSON object that stands for an unknown value (a NUL byte cannot start an
/// attribute name in Terraform).
pub(crate) const UNKNOWN_MARKER: &str = "\u{0}unknown";

/// A value that may not be known until apply: what a computed attribute holds during plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MaybeUnknown<T> {
    /// Known: the value itself.
    Known(T),
    /// Known only after apply.
    #[default]
    Unknown,
}

impl<T> MaybeUnknown<T> {
    /// The value, if known.
    pub fn known(&self) -> Option<&T> {
        match self {
            MaybeUnknown::Known(v) => Some(v),
            MaybeUnknown::Unknown => None,
        }
    }

    /// `true` when unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, MaybeUnknown::Unknown)
    }
}

impl<T> From<T> for MaybeUnknown<T> {
    fn from(value: T) -> Self {
        MaybeUnknown::Known(value)
    }
}

fn unknown_json() -> Json {
    Json::Object(
        [(UNKNOWN_MARKER.to_string(), Json::Bool(true))]
            .into_iter()
            .collect(),
    )
}

fn is_unknown_json(json: &Json) -> bool {
    matches!(json, Json::Object(m) if m.len() == 1 && m.contains_key(UNKNOWN_MARKER))
}

impl<T: Serialize> Serialize for MaybeUnknown<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MaybeUnknown::Known(v) => v.serialize(serializer),
            MaybeUnknown::Unknown => unknown_json().serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for MaybeUnknown<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(deserializer)?;
        if is_unknown_json(&json) {
            return Ok(MaybeUnknown::Unknown);
        }
        T::deserialize(json)
            .map(MaybeUnknown::Known)
            .map_err(serde::de::Error::custom)
    }
}

/// The cty value of type `ty` as the model type `T`.
pub fn from_value<T: DeserializeOwned>(value: &Value, ty: &Type) -> Result<T, ValueError> {
    let json = to_json(value, ty, &AttributePath::default())?;
    let unknowns = unknown_paths(&json, "");
    serde_json::from_value(json).map_err(|e| {
        let mut message = e.to_string();
        if message.starts_with("invalid type: map") && !unknowns.is_empty() {
            message = format!(
                "{message}: unknown until apply here: {}; a field that can hold an unknown value \
                 must be a MaybeUnknown<T>",
                unknowns.join(", ")
            );
        }
        ValueError::at(&AttributePath::default(), message)
    })
}

/// Where `json` holds unknowns (dotted paths).
fn unknown_paths(json: &Json, at: &str) -> Vec<String> {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match json {
        _ if is_unknown_json(json) => vec![if at.is_empty() {
            "(the value)".into()
        } else {
            at.to_string()
        }],
        Json::Object(m) => m
            .iter()
            .flat_map(|(k, v)| unknown_paths(v, &join(k)))
            .collect(),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| unknown_paths(v, &join(&i.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

/// The model `model` as a cty value of type `ty` (attributes the model leaves out are null).
pub fn to_value<T: Serialize>(model: &T, ty: &Type) -> Result<Value, ValueError> {
    let json = serde_json::to_value(model)
        .map_err(|e| ValueError::at(&AttributePath::default(), e.to_string()))?;
    from_json(&json, ty, &AttributePath::default())
}

/// A cty value as JSON for serde, unknowns as the marker.
fn to_json(value: &Value, ty: &Type, path: &AttributePath) -> Result<Json, ValueError> {
    Ok(match (value, ty) {
        (Value::Null, _) => Json::Null,
        (Value::Unknown { .. }, _) => unknown_json(),
        (Value::Dynamic(inner_ty, inner), _) => to_json(inner, inner_ty, path)?,
        (Value::Bool(b), _) => Json::Bool(*b),
        (Value::String(s), _) => Json::String(s.clone()),
        (Value::Number(n), _) => number_json(n, path)?,
        (Value::List(items) | Value::Set(items), Type::List(elem) | Type::Set(elem)) => {
            Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| to_json(v, elem, &path.index(i)))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Tuple(items), Type::Tuple(types)) => Json::Array(
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (v, t))| to_json(v, t, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Map(entries), Type::Map(elem)) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v, elem, &path.key(k))?)))
                .collect::<Result<_, ValueError>>()?,
        ),
        (Value::Object(attrs), Type::Object(object)) => Json::Object(
            attrs
                .iter()
                .map(|(k, v)| {
                    let attr_ty = object.attributes.get(k).unwrap_or(&Type::Dynamic);
                    Ok((k.clone(), to_json(v, attr_ty, &path.attribute(k))?))
                })
                .collect::<Result<_, ValueError>>()?,
        ),
        (value, Type::Dynamic) => crate::json::to_json(value)?,
        (value, ty) => {
            return Err(ValueError::at(
                path,
                format!("a value of the wrong kind for type {ty}: {value:?}"),
            ))
        }
    })
}

fn number_json(n: &Number, path: &AttributePath) -> Result<Json, ValueError> {
    Ok(match n {
        Number::Int(i) => Json::from(*i),
        Number::Uint(u) => Json::from(*u),
        Number::Float(f) => Json::from(*f),
        Number::Decimal(text) => {
            let f: f64 = text
                .parse()
                .map_err(|_| ValueError::at(path, format!("number {text} is not a decimal")))?;
            Json::from(f)
        }
    })
}

/// JSON from serde as a cty value of type `ty`.
fn from_json(json: &Json, ty: &Type, path: &AttributePath) -> Result<Value, ValueError> {
    if is_unknown_json(json) {
        return Ok(Value::UNKNOWN);
    }
    if json.is_null() {
        return Ok(Value::Null);
    }
    let wrong = || {
        ValueError::at(
            path,
            format!("the model gives {json} where the schema has type {ty}"),
        )
    };
    Ok(match ty {
        Type::Bool => Value::Bool(json.as_bool().ok_or_else(wrong)?),
        Type::String => Value::String(json.as_str().ok_or_else(wrong)?.to_string()),
        Type::Number => Value::Number(match json {
            Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Number::Int(i),
                (_, Some(u), _) => Number::Uint(u),
                (_, _, Some(f)) => Number::Float(f),
                _ => Number::Decimal(n.to_string()),
            },
            _ => return Err(wrong()),
        }),
        Type::List(elem) | Type::Set(elem) => {
            let items = json
                .as_array()
                .ok_or_else(wrong)?
                .iter()
                .enumerate()
                .map(|(i, item)| from_json(item, elem, &path.index(i)))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            }
        }
        Type::Tuple(types) => {
            let items = json.as_array().ok_or_else(wrong)?;
            if items.len() != types.len() {
                return Err(wrong());
            }
            Value::Tuple(
                items
                    .iter()
                    .zip(types)
                    .enumerate()
                    .map(|(i, (item, t))| from_json(item, t, &path.index(i)))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(elem) => Value::Map(
            json.as_object()
                .ok_or_else(wrong)?
                .iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, elem, &path.key(k))?)))
                .collect::<Result<BTreeMap<_, _>, ValueError>>()?,
        ),
        Type::Object(object) => {
            let fields = json.as_object().ok_or_else(wrong)?;
            if let Some(extra) = fields.keys().find(|k| !object.attributes.contains_key(*k)) {
                return Err(ValueError::at(
                    path,
                    format!("the model has a field {extra:?} the schema does not declare"),
                ));
            }
            Value::Object(
                object
                    .attributes
                    .iter()
                    .map(|(name, attr_ty)| {
                        let value = match fields.get(name) {
                            Some(v) => from_json(v, attr_ty, &path.attribute(name))?,
                            None => Value::Null,
                        };
                        Ok((name.clone(), value))
                    })
                    .collect::<Result<_, ValueError>>()?,
            )
        }
        Type::Dynamic => crate::json::from_json(json, &Type::Dynamic)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct File {
        path: String,
        content: Option<String>,
        sha256: MaybeUnknown<String>,
        tags: Option<BTreeMap<String, String>>,
        sizes: Vec<i64>,
    }

    fn ty() -> Type {
        Type::object([
            ("path", Type::String),
            ("content", Type::String),
            ("sha256", Type::String),
            ("tags", Type::map(Type::String)),
            ("sizes", Type::set(Type::Number)),
        ])
    }

    #[test]
    fn a_planned_value_with_an_unknown_and_a_null_round_trips() {
        let value = Value::object([
            ("path", Value::string("/tmp/x")),
            ("content", Value::Null),
            ("sha256", Value::UNKNOWN),
            ("tags", Value::Null),
            ("sizes", Value::Set(vec![Value::int(1), Value::int(2)])),
        ]);
        let file: File = from_value(&value, &ty()).unwrap();
        assert_eq!(
            file,
            File {
                path: "/tmp/x".into(),
                content: None,
                sha256: MaybeUnknown::Unknown,
                tags: None,
                sizes: vec![1, 2],
            }
        );
        assert_eq!(to_value(&file, &ty()).unwrap(), value);
    }

    #[test]
    fn an_unknown_where_the_field_cannot_hold_one_names_the_fix() {
        let value = Value::object([
            ("path", Value::UNKNOWN),
            ("content", Value::Null),
            ("sha256", Value::UNKNOWN),
            ("tags", Value::Null),
            ("sizes", Value::Set(vec![])),
        ]);
        let err = from_value::<File>(&value, &ty()).unwrap_err().to_string();
        assert!(err.contains("MaybeUnknown"), "{err}");
        assert!(
            err.contains("unknown until apply here: path, sha256"),
            "{err}"
        );
    }

    #[test]
    fn a_model_field_the_schema_lacks_is_an_error_naming_it() {
        #[derive(Serialize)]
        struct Extra {
            path: String,
            colour: String,
        }
        let err = to_value(
            &Extra {
                path: "p".into(),
                colour: "red".into(),
            },
            &ty(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("colour"), "{err}");
    }
}
