//! Terraform values (cty values): what a `DynamicValue` holds once decoded against its type.
//!
//! A value is always read and written *against a type* (the schema's), because the wire forms do
//! not say which attributes an object has or whether an array is a list, a set or a tuple. Two
//! states exist besides ordinary values: **null** (the attribute is not set) and **unknown** (it
//! will only be known after apply). Terraform may *refine* an unknown (e.g. "not null", "a string
//! starting with `https://`"); refinements are kept as the raw bytes Terraform sent so that a
//! value can be passed back unchanged.

use std::collections::BTreeMap;

use super::cty_type::Type;

/// A Terraform value. Objects and maps are keyed by name; sets keep the order they arrived in.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// Not known until apply. `refinements` holds Terraform's encoded refinements, if any.
    Unknown {
        /// msgpack payload of the refinements extension (type 12), or `None` for a plain unknown.
        refinements: Option<Vec<u8>>,
    },
    /// `bool`
    Bool(bool),
    /// `number`
    Number(Number),
    /// `string`
    String(String),
    /// `list(T)`
    List(Vec<Value>),
    /// `set(T)`
    Set(Vec<Value>),
    /// `map(T)`
    Map(BTreeMap<String, Value>),
    /// `object({…})`: every attribute of the type is present (null when unset).
    Object(BTreeMap<String, Value>),
    /// `tuple([…])`
    Tuple(Vec<Value>),
    /// A value whose schema type is `dynamic`, with the concrete type it arrived with.
    Dynamic(Type, Box<Value>),
}

/// A cty number: integers and floats as Go encodes them, anything else as decimal text.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    /// Fits in an `i64`.
    Int(i64),
    /// A `u64` above `i64::MAX`.
    Uint(u64),
    /// Exactly representable as an `f64`.
    Float(f64),
    /// Arbitrary precision, in decimal notation (how msgpack carries numbers that fit nothing else).
    Decimal(String),
}

impl Value {
    /// A plain unknown value.
    pub const UNKNOWN: Value = Value::Unknown { refinements: None };

    /// A string value.
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    /// An integer value.
    pub fn int(n: i64) -> Value {
        Value::Number(Number::Int(n))
    }

    /// An object value from `(name, value)` pairs.
    pub fn object<N: Into<String>>(attributes: impl IntoIterator<Item = (N, Value)>) -> Value {
        Value::Object(attributes.into_iter().map(|(n, v)| (n.into(), v)).collect())
    }

    /// An object of the given type with every attribute null.
    pub fn null_object(ty: &Type) -> Value {
        match ty {
            Type::Object(o) => Value::Object(
                o.attributes
                    .keys()
                    .map(|name| (name.clone(), Value::Null))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }

    /// `true` for [`Value::Null`] (also inside a [`Value::Dynamic`]).
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic(_, v) => v.is_null(),
            _ => false,
        }
    }

    /// `true` when the value is unknown at the top level.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown { .. } => true,
            Value::Dynamic(_, v) => v.is_unknown(),
            _ => false,
        }
    }

    /// `true` when neither the value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown { .. } => false,
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// An attribute of an object value (`None` for a missing attribute or a non-object).
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name),
            Value::Dynamic(_, v) => v.get(name),
            _ => None,
        }
    }

    /// The text of a known string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Dynamic(_, v) => v.as_str(),
            _ => None,
        }
    }

    /// The value of a known number that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(Number::Int(n)) => Some(*n),
            Value::Number(Number::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                Some(*f as i64)
            }
            Value::Dynamic(_, v) => v.as_i64(),
            _ => None,
        }
    }

    /// Sets an attribute of an object value; does nothing to other values.
    pub fn set_attribute(&mut self, name: &str, value: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), value);
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::string(text)
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(n) => write!(f, "{n}"),
            Number::Uint(n) => write!(f, "{n}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Decimal(text) => f.write_str(text),
        }
    }
}

impl Number {
    /// Parses decimal text as cty does for numbers carried as strings, choosing the narrowest
    /// form. `None` when the text is not a decimal number.
    pub fn parse(text: &str) -> Option<Number> {
        if let Ok(n) = text.parse::<i64>() {
            return Some(Number::Int(n));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Some(Number::Uint(n));
        }
        let is_decimal = !text.is_empty()
            && text
                .trim_start_matches(['-', '+'])
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
            && text.chars().any(|c| c.is_ascii_digit());
        if !is_decimal {
            return None;
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && x.to_string() == text => Some(Number::Float(x)),
            // Exact text beyond f64 (more digits, or out of range) stays decimal text.
            Ok(_) => Some(Number::Decimal(text.to_string())),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_the_narrowest_form() {
        assert_eq!(Number::parse("42"), Some(Number::Int(42)));
        assert_eq!(
            Number::parse("18446744073709551615"),
            Some(Number::Uint(u64::MAX))
        );
        assert_eq!(Number::parse("1.5"), Some(Number::Float(1.5)));
        assert_eq!(
            Number::parse("0.10000000000000000000001"),
            Some(Number::Decimal("0.10000000000000000000001".into()))
        );
        assert_eq!(Number::parse("abc"), None);
        assert_eq!(Number::parse(""), None);
        assert_eq!(Number::parse("inf"), None);
    }

    #[test]
    fn known_ness_looks_inside_collections() {
        let v = Value::object([("a", Value::List(vec![Value::int(1), Value::UNKNOWN]))]);
        assert!(!v.is_wholly_known());
        assert!(!v.is_unknown());
        assert!(Value::object([("a", Value::Null)]).is_wholly_known());
    }

    #[test]
    fn null_object_has_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::Bool)]);
        assert_eq!(
            Value::null_object(&ty),
            Value::object([("a", Value::Null), ("b", Value::Null)])
        );
    }
}
