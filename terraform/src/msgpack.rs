//! The msgpack form of Terraform values (`DynamicValue.msgpack`), as cty encodes it.
//!
//! | value | msgpack |
//! | --- | --- |
//! | null (any type) | `nil` |
//! | unknown | extension type 0 with one zero byte (`d4 00 00`) |
//! | refined unknown | extension type 12 whose payload is a map of refinements (kept raw) |
//! | bool, string | bool, str (bin is accepted when reading) |
//! | number | int when it fits an int64, float64 when exact, else its decimal text as str |
//! | list, set, tuple | array |
//! | map | map with string keys, sorted |
//! | object | map of **every** attribute of the type, sorted by name (missing ones read as null) |
//! | `dynamic` | a 2-array `[type JSON as bytes, value encoded with that type]`; unknown and null stay bare |
//!
//! Reading goes through `rmpv` (which caps pre-allocation by what the input really holds) and then
//! checks the tree against the type; every mismatch names the attribute path.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::cty_type::Type;
use super::path::{AttributePath, ValueError};
use super::value::{Number, Value};

/// msgpack extension type of a plain unknown value.
const UNKNOWN_EXT: i8 = 0;
/// msgpack extension type of an unknown value with refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// Nesting deeper than this is refused (schemas nest a handful of levels).
const MAX_DEPTH: usize = 256;

/// Decodes `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let root = AttributePath::default();
    let mut reader = bytes;
    let tree = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH)
        .map_err(|e| ValueError::at(&root, format!("not a msgpack value: {e}")))?;
    if !reader.is_empty() {
        return Err(ValueError::at(
            &root,
            format!("{} bytes left after the msgpack value", reader.len()),
        ));
    }
    from_tree(&tree, ty, &root)
}

/// Encodes `value` as type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let tree = to_tree(value, ty, &AttributePath::default())?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &tree).expect("writing to a Vec cannot fail");
    Ok(out)
}

fn kind(tree: &Mp) -> &'static str {
    match tree {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) => "integer",
        Mp::F32(_) | Mp::F64(_) => "float",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(..) => "extension",
    }
}

fn from_tree(tree: &Mp, ty: &Type, path: &AttributePath) -> Result<Value, ValueError> {
    let mismatch = || ValueError::at(path, format!("expected {ty}, got msgpack {}", kind(tree)));
    match (tree, ty) {
        (Mp::Nil, _) => Ok(Value::Null),
        (Mp::Ext(UNKNOWN_EXT, _), _) => Ok(Value::UNKNOWN),
        (Mp::Ext(REFINED_UNKNOWN_EXT, payload), _) => Ok(Value::Unknown {
            refinements: Some(payload.clone()),
        }),
        (_, Type::Dynamic) => dynamic_from_tree(tree, path),
        (Mp::Boolean(b), Type::Bool) => Ok(Value::Bool(*b)),
        (Mp::String(_) | Mp::Binary(_), Type::String) => Ok(Value::String(text(tree, path)?)),
        (Mp::Integer(i), Type::Number) => Ok(Value::Number(match (i.as_i64(), i.as_u64()) {
            (Some(n), _) => Number::Int(n),
            (None, Some(n)) => Number::Uint(n),
            _ => return Err(mismatch()),
        })),
        (Mp::F32(x), Type::Number) => Ok(Value::Number(Number::Float(f64::from(*x)))),
        (Mp::F64(x), Type::Number) => Ok(Value::Number(Number::Float(*x))),
        (Mp::String(_), Type::Number) => {
            let digits = text(tree, path)?;
            Number::parse(&digits)
                .map(Value::Number)
                .ok_or_else(|| ValueError::at(path, format!("{digits:?} is not a number")))
        }
        (Mp::Array(items), Type::List(element)) => Ok(Value::List(elements(items, element, path)?)),
        (Mp::Array(items), Type::Set(element)) => Ok(Value::Set(elements(items, element, path)?)),
        (Mp::Array(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(ValueError::at(
                    path,
                    format!("tuple of {} elements, got {}", types.len(), items.len()),
                ));
            }
            let values = items.iter().zip(types).enumerate();
            Ok(Value::Tuple(
                values
                    .map(|(i, (item, t))| from_tree(item, t, &path.index(i)))
                    .collect::<Result<_, _>>()?,
            ))
        }
        (Mp::Map(entries), Type::Map(element)) => {
            let mut map = BTreeMap::new();
            for (key, item) in entries {
                let key = text(key, path)?;
                let value = from_tree(item, element, &path.key(&key))?;
                map.insert(key, value);
            }
            Ok(Value::Map(map))
        }
        (Mp::Map(entries), Type::Object(object)) => {
            let mut attributes = BTreeMap::new();
            for (key, item) in entries {
                let name = text(key, path)?;
                let Some(attribute_type) = object.attributes.get(&name) else {
                    return Err(ValueError::at(
                        path,
                        format!("unsupported attribute {name:?}"),
                    ));
                };
                let value = from_tree(item, attribute_type, &path.attribute(&name))?;
                attributes.insert(name, value);
            }
            for name in object.attributes.keys() {
                attributes.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(attributes))
        }
        _ => Err(mismatch()),
    }
}

fn text(tree: &Mp, path: &AttributePath) -> Result<String, ValueError> {
    let bytes = match tree {
        Mp::String(s) => s.as_bytes(),
        Mp::Binary(b) => b.as_slice(),
        other => {
            return Err(ValueError::at(
                path,
                format!("expected a string, got msgpack {}", kind(other)),
            ))
        }
    };
    String::from_utf8(bytes.to_vec()).map_err(|_| ValueError::at(path, "string is not UTF-8"))
}

fn elements(items: &[Mp], element: &Type, path: &AttributePath) -> Result<Vec<Value>, ValueError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| from_tree(item, element, &path.index(i)))
        .collect()
}

fn dynamic_from_tree(tree: &Mp, path: &AttributePath) -> Result<Value, ValueError> {
    let Mp::Array(pair) = tree else {
        return Err(ValueError::at(
            path,
            format!(
                "a dynamic value is [type, value], got msgpack {}",
                kind(tree)
            ),
        ));
    };
    let [type_json, inner] = pair.as_slice() else {
        return Err(ValueError::at(path, "a dynamic value is [type, value]"));
    };
    let type_bytes = match type_json {
        Mp::String(s) => s.as_bytes(),
        Mp::Binary(b) => b.as_slice(),
        _ => {
            return Err(ValueError::at(
                path,
                "the type of a dynamic value is JSON text",
            ))
        }
    };
    let ty = Type::from_json_bytes(type_bytes).map_err(|e| ValueError::at(path, e.to_string()))?;
    let value = from_tree(inner, &ty, path)?;
    Ok(Value::Dynamic(ty, Box::new(value)))
}

fn to_tree(value: &Value, ty: &Type, path: &AttributePath) -> Result<Mp, ValueError> {
    let mismatch = || ValueError::at(path, format!("a {} value cannot be a {ty}", name(value)));
    Ok(match (value, ty) {
        (Value::Null, _) => Mp::Nil,
        (Value::Unknown { refinements: None }, _) => Mp::Ext(UNKNOWN_EXT, vec![0]),
        (
            Value::Unknown {
                refinements: Some(payload),
            },
            _,
        ) => Mp::Ext(REFINED_UNKNOWN_EXT, payload.clone()),
        (Value::Dynamic(inner_type, inner), Type::Dynamic) => {
            dynamic_pair(inner, inner_type, path)?
        }
        (Value::Dynamic(_, inner), _) => to_tree(inner, ty, path)?,
        (_, Type::Dynamic) => dynamic_pair(value, &implied_type(value), path)?,
        (Value::Bool(b), Type::Bool) => Mp::Boolean(*b),
        (Value::String(s), Type::String) => Mp::from(s.as_str()),
        (Value::Number(n), Type::Number) => number_tree(n),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            Mp::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_tree(item, element, &path.index(i)))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Tuple(items), Type::Tuple(types)) if items.len() == types.len() => Mp::Array(
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, t))| to_tree(item, t, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Map(entries), Type::Map(element)) => Mp::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((Mp::from(k.as_str()), to_tree(v, element, &path.key(k))?)))
                .collect::<Result<_, ValueError>>()?,
        ),
        (Value::Object(attributes), Type::Object(object)) => {
            if let Some(extra) = attributes
                .keys()
                .find(|k| !object.attributes.contains_key(*k))
            {
                return Err(ValueError::at(
                    path,
                    format!("unsupported attribute {extra:?}"),
                ));
            }
            Mp::Map(
                object
                    .attributes
                    .iter()
                    .map(|(name, t)| {
                        let v = attributes.get(name).unwrap_or(&Value::Null);
                        Ok((
                            Mp::from(name.as_str()),
                            to_tree(v, t, &path.attribute(name))?,
                        ))
                    })
                    .collect::<Result<_, ValueError>>()?,
            )
        }
        _ => return Err(mismatch()),
    })
}

fn dynamic_pair(value: &Value, ty: &Type, path: &AttributePath) -> Result<Mp, ValueError> {
    if value.is_null() || value.is_unknown() {
        return to_tree(value, ty, path);
    }
    let type_json = ty.to_json().to_string().into_bytes();
    Ok(Mp::Array(vec![
        Mp::Binary(type_json),
        to_tree(value, ty, path)?,
    ]))
}

fn number_tree(n: &Number) -> Mp {
    match n {
        Number::Int(i) => Mp::from(*i),
        Number::Uint(u) => Mp::from(*u),
        Number::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e18 => Mp::from(*x as i64),
        Number::Float(x) => Mp::F64(*x),
        Number::Decimal(text) => Mp::from(text.as_str()),
    }
}

fn name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown { .. } => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Dynamic(..) => "dynamic",
    }
}

/// The type a value implies by itself, for values stored under a `dynamic` type without one:
/// collections take the type of their first element (`dynamic` when empty).
pub fn implied_type(value: &Value) -> Type {
    let first = |items: &[Value]| items.first().map_or(Type::Dynamic, implied_type);
    match value {
        Value::Null | Value::Unknown { .. } => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::list(first(items)),
        Value::Set(items) => Type::set(first(items)),
        Value::Map(entries) => {
            Type::map(entries.values().next().map_or(Type::Dynamic, implied_type))
        }
        Value::Object(attributes) => {
            Type::object(attributes.iter().map(|(k, v)| (k.clone(), implied_type(v))))
        }
        Value::Tuple(items) => Type::Tuple(items.iter().map(implied_type).collect()),
        Value::Dynamic(ty, _) => ty.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn resource_type() -> Type {
        Type::object([
            ("id", Type::String),
            ("size", Type::Number),
            ("tags", Type::map(Type::String)),
        ])
    }

    #[test]
    fn objects_carry_every_attribute_sorted() {
        let value = Value::object([("size", Value::int(8)), ("id", Value::UNKNOWN)]);
        let bytes = encode(&value, &resource_type()).unwrap();
        // {"id": unknown, "size": 8, "tags": nil}
        assert_eq!(hex(&bytes), "83a26964d40000a473697a6508a474616773c0");
        let back = decode(&bytes, &resource_type()).unwrap();
        assert_eq!(back.get("tags"), Some(&Value::Null));
        assert!(back.get("id").unwrap().is_unknown());
        assert_eq!(back.get("size").unwrap().as_i64(), Some(8));
    }

    #[test]
    fn numbers_use_int_float_or_decimal_text() {
        for (number, encoded) in [
            (Number::Int(-1), "ff"),
            (Number::Float(1.5), "cb3ff8000000000000"),
            (Number::Float(2.0), "02"),
            (Number::Decimal("1.25e400".into()), "a8312e3235653430"),
        ] {
            let bytes = encode(&Value::Number(number.clone()), &Type::Number).unwrap();
            assert!(
                hex(&bytes).starts_with(encoded),
                "{number:?}: {}",
                hex(&bytes)
            );
        }
        let big = decode(&[0xa3, b'1', b'e', b'9'], &Type::Number).unwrap();
        assert_eq!(big, Value::Number(Number::Decimal("1e9".into())));
    }

    #[test]
    fn refined_unknowns_are_passed_back_unchanged() {
        // ext 12 (refinements), payload {1: false} = "not null"
        let bytes = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        let value = decode(&bytes, &Type::String).unwrap();
        assert!(value.is_unknown());
        assert_eq!(encode(&value, &Type::String).unwrap(), bytes);
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let value = Value::List(vec![Value::string("a")]);
        let bytes = encode(&value, &Type::Dynamic).unwrap();
        let decoded = decode(&bytes, &Type::Dynamic).unwrap();
        assert_eq!(
            decoded,
            Value::Dynamic(Type::list(Type::String), Box::new(value.clone()))
        );
        assert_eq!(encode(&decoded, &Type::Dynamic).unwrap(), bytes);
        assert_eq!(encode(&Value::Null, &Type::Dynamic).unwrap(), [0xc0]);
    }

    #[test]
    fn sets_tuples_and_maps_round_trip() {
        let ty = Type::object([
            ("s", Type::set(Type::Bool)),
            ("t", Type::Tuple(vec![Type::String, Type::Number])),
            ("m", Type::map(Type::list(Type::Number))),
        ]);
        let value = Value::object([
            ("s", Value::Set(vec![Value::Bool(true), Value::Bool(false)])),
            ("t", Value::Tuple(vec![Value::string("x"), Value::int(1)])),
            (
                "m",
                Value::Map([("k".to_string(), Value::List(vec![Value::int(2)]))].into()),
            ),
        ]);
        let bytes = encode(&value, &ty).unwrap();
        assert_eq!(decode(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn mismatches_name_the_attribute() {
        // {"size": "big"} where size is a number
        let bytes = [0x81, 0xa4, b's', b'i', b'z', b'e', 0xa3, b'b', b'i', b'g'];
        let err = decode(&bytes, &resource_type()).unwrap_err();
        assert_eq!(err.to_string(), r#".size: "big" is not a number"#);
        // {"path": 5} where path is unknown to the type
        let bytes = [0x81, 0xa4, b'p', b'a', b't', b'h', 0x05];
        let err = decode(&bytes, &resource_type()).unwrap_err();
        assert_eq!(err.to_string(), r#"(root): unsupported attribute "path""#);
        let err = decode(&[0x05], &Type::String).unwrap_err();
        assert_eq!(
            err.to_string(),
            "(root): expected string, got msgpack integer"
        );
        let err = encode(&Value::int(1), &Type::String).unwrap_err();
        assert_eq!(err.to_string(), "(root): a number value cannot be a string");
    }

    #[test]
    fn truncated_and_trailing_bytes_are_errors() {
        assert!(decode(&[0x92, 0x01], &Type::list(Type::Number)).is_err());
        assert!(decode(&[0x01, 0x02], &Type::Number).is_err());
        assert!(decode(&[], &Type::Number).is_err());
        // An array claiming 4 billion elements in 5 bytes must fail, not allocate.
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::Bool)).is_err());
    }
}
