//! The JSON form of Terraform values: stored state (`RawState.json`, which `UpgradeResourceState`
//! hands to a provider), `DynamicValue.json`, and the configuration a user types on a command line.
//!
//! cty's JSON mapping: null is `null`; bools, numbers and strings are themselves; lists, sets and
//! tuples are arrays; maps and objects are JSON objects (missing object attributes read as null);
//! a value of type `dynamic` is `{"value": …, "type": <type JSON>}`. Unknown values have no JSON
//! form. Reading converts primitives the way Terraform converts configuration (`5` or `true`
//! where a string is expected become `"5"` and `"true"`; a numeric string where a number is
//! expected becomes that number); anything else that does not fit is an error naming the path.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::cty_type::Type;
use super::msgpack::implied_type;
use super::path::{AttributePath, ValueError};
use super::value::{Number, Value};

/// Reads `json` as a value of type `ty`.
pub fn from_json(json: &Json, ty: &Type) -> Result<Value, ValueError> {
    read(json, ty, &AttributePath::default())
}

/// Reads JSON text as a value of type `ty`.
pub fn from_json_bytes(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| ValueError::at(&AttributePath::default(), format!("not JSON: {e}")))?;
    from_json(&json, ty)
}

/// Writes a wholly known value as JSON (a `dynamic` value as `{"value", "type"}`).
pub fn to_json(value: &Value) -> Result<Json, ValueError> {
    write(value, &AttributePath::default())
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn read(json: &Json, ty: &Type, path: &AttributePath) -> Result<Value, ValueError> {
    let mismatch = || ValueError::at(path, format!("expected {ty}, got JSON {}", json_kind(json)));
    match (json, ty) {
        (Json::Null, _) => Ok(Value::Null),
        (_, Type::Dynamic) => read_dynamic(json, path),
        (Json::Bool(b), Type::Bool) => Ok(Value::Bool(*b)),
        (Json::String(s), Type::Bool) => match s.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(mismatch()),
        },
        (Json::String(s), Type::String) => Ok(Value::String(s.clone())),
        (Json::Number(n), Type::String) => Ok(Value::String(n.to_string())),
        (Json::Bool(b), Type::String) => Ok(Value::String(b.to_string())),
        (Json::Number(n), Type::Number) => Ok(Value::Number(json_number(n))),
        (Json::String(s), Type::Number) => Number::parse(s)
            .map(Value::Number)
            .ok_or_else(|| ValueError::at(path, format!("{s:?} is not a number"))),
        (Json::Array(items), Type::List(element)) => {
            Ok(Value::List(read_all(items, element, path)?))
        }
        (Json::Array(items), Type::Set(element)) => Ok(Value::Set(read_all(items, element, path)?)),
        (Json::Array(items), Type::Tuple(types)) if items.len() == types.len() => Ok(Value::Tuple(
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, t))| read(item, t, &path.index(i)))
                .collect::<Result<_, _>>()?,
        )),
        (Json::Object(entries), Type::Map(element)) => Ok(Value::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), read(v, element, &path.key(k))?)))
                .collect::<Result<_, ValueError>>()?,
        )),
        (Json::Object(entries), Type::Object(object)) => {
            let mut attributes = BTreeMap::new();
            for (name, item) in entries {
                let Some(attribute_type) = object.attributes.get(name) else {
                    let known: Vec<&str> = object.attributes.keys().map(String::as_str).collect();
                    return Err(ValueError::at(
                        path,
                        format!(
                            "unsupported attribute {name:?} (expected one of: {})",
                            known.join(", ")
                        ),
                    ));
                };
                attributes.insert(
                    name.clone(),
                    read(item, attribute_type, &path.attribute(name))?,
                );
            }
            for name in object.attributes.keys() {
                attributes.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(attributes))
        }
        _ => Err(mismatch()),
    }
}

fn read_all(
    items: &[Json],
    element: &Type,
    path: &AttributePath,
) -> Result<Vec<Value>, ValueError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item, element, &path.index(i)))
        .collect()
}

fn json_number(n: &serde_json::Number) -> Number {
    if let Some(i) = n.as_i64() {
        Number::Int(i)
    } else if let Some(u) = n.as_u64() {
        Number::Uint(u)
    } else {
        Number::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// `{"value": …, "type": …}`, or (for typed-in configuration) any JSON, typed by its shape.
fn read_dynamic(json: &Json, path: &AttributePath) -> Result<Value, ValueError> {
    if let Json::Object(entries) = json {
        if let (2, Some(value), Some(type_json)) =
            (entries.len(), entries.get("value"), entries.get("type"))
        {
            let ty = Type::from_json(type_json).map_err(|e| ValueError::at(path, e.to_string()))?;
            let inner = read(value, &ty, path)?;
            return Ok(Value::Dynamic(ty, Box::new(inner)));
        }
    }
    let value = read(json, &shape_type(json), path)?;
    Ok(Value::Dynamic(implied_type(&value), Box::new(value)))
}

/// The type JSON text implies: arrays are tuples, objects are objects.
fn shape_type(json: &Json) -> Type {
    match json {
        Json::Null => Type::Dynamic,
        Json::Bool(_) => Type::Bool,
        Json::Number(_) => Type::Number,
        Json::String(_) => Type::String,
        Json::Array(items) => Type::Tuple(items.iter().map(shape_type).collect()),
        Json::Object(entries) => {
            Type::object(entries.iter().map(|(k, v)| (k.clone(), shape_type(v))))
        }
    }
}

fn write(value: &Value, path: &AttributePath) -> Result<Json, ValueError> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Unknown { .. } => {
            return Err(ValueError::at(path, "an unknown value has no JSON form"))
        }
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Number(n) => match n {
            Number::Int(i) => Json::from(*i),
            Number::Uint(u) => Json::from(*u),
            Number::Float(x) => serde_json::Number::from_f64(*x)
                .map(Json::Number)
                .ok_or_else(|| ValueError::at(path, "not a finite number"))?,
            Number::Decimal(text) => serde_json::from_str(text)
                .map_err(|_| ValueError::at(path, format!("{text:?} is not a JSON number")))?,
        },
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| write(item, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) | Value::Object(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), write(v, &path.attribute(k))?)))
                .collect::<Result<_, ValueError>>()?,
        ),
        Value::Dynamic(ty, inner) => {
            serde_json::json!({"value": write(inner, path)?, "type": ty.to_json()})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file_type() -> Type {
        Type::object([
            ("path", Type::String),
            ("size", Type::Number),
            ("tags", Type::set(Type::String)),
            ("extra", Type::Dynamic),
        ])
    }

    #[test]
    fn state_json_round_trips() {
        let state = json!({
            "path": "/tmp/x",
            "size": 3,
            "tags": ["a", "b"],
            "extra": {"value": ["x", 1], "type": ["tuple", ["string", "number"]]}
        });
        let value = from_json(&state, &file_type()).unwrap();
        assert_eq!(value.get("size").unwrap().as_i64(), Some(3));
        assert_eq!(to_json(&value).unwrap(), state);
    }

    #[test]
    fn missing_attributes_are_null_and_primitives_convert() {
        let value = from_json(&json!({"path": 5, "size": "7"}), &file_type()).unwrap();
        assert_eq!(value.get("path").unwrap().as_str(), Some("5"));
        assert_eq!(value.get("size").unwrap().as_i64(), Some(7));
        assert_eq!(value.get("tags"), Some(&Value::Null));
    }

    #[test]
    fn typed_in_dynamic_values_get_their_shape() {
        let value = from_json(&json!({"extra": {"a": [1, "x"]}}), &file_type()).unwrap();
        let Some(Value::Dynamic(ty, _)) = value.get("extra") else {
            panic!("not dynamic: {value:?}")
        };
        assert_eq!(ty.to_string(), "object({a = tuple([number, string])})");
    }

    #[test]
    fn mismatches_name_the_path() {
        let err = from_json(&json!({"tags": [["nested"]]}), &file_type()).unwrap_err();
        assert_eq!(err.to_string(), ".tags[0]: expected string, got JSON array");
        let err = from_json(&json!({"nope": 1}), &file_type()).unwrap_err();
        assert!(
            err.to_string().contains(
                r#"unsupported attribute "nope" (expected one of: extra, path, size, tags)"#
            ),
            "{err}"
        );
        let err = to_json(&Value::object([("a", Value::UNKNOWN)])).unwrap_err();
        assert_eq!(err.to_string(), ".a: an unknown value has no JSON form");
    }
}
