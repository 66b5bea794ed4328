//! cty types: the type system of Terraform values, and its JSON form.
//!
//! Terraform describes every attribute's type in the provider schema as cty's JSON type
//! notation (the `type` bytes of `Schema.Attribute`), and the type of a `dynamic` value travels
//! in the same notation inside the value itself:
//!
//! | type | JSON |
//! | --- | --- |
//! | primitive | `"bool"`, `"number"`, `"string"` |
//! | any type, decided per value | `"dynamic"` |
//! | collections | `["list", T]`, `["set", T]`, `["map", T]` |
//! | structural | `["object", {"name": T, …}]` (optionally a third element `["name", …]` listing optional attributes), `["tuple", [T, …]]` |
//!
//! Optional-attribute markers only matter to type conversion in Terraform core; they do not
//! change how a value is encoded, so they are kept only to print the type back faithfully.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value as Json;

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `bool`
    Bool,
    /// `number` (arbitrary precision)
    Number,
    /// `string`
    String,
    /// `dynamic`: the concrete type travels with each value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`: string keys.
    Map(Box<Type>),
    /// `object({…})`: a fixed set of named attributes.
    Object(ObjectType),
    /// `tuple([…])`: a fixed sequence of element types.
    Tuple(Vec<Type>),
}

/// The attributes of an object type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectType {
    /// Attribute types by name (cty keeps them sorted, and so do we).
    pub attributes: BTreeMap<String, Type>,
    /// Attributes marked optional (used by Terraform core's type conversion only).
    pub optional: BTreeSet<String>,
}

/// Why a type description was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cty type {found}: {reason}")]
pub struct TypeError {
    /// The offending JSON fragment.
    pub found: String,
    /// What was expected instead.
    pub reason: &'static str,
}

impl Type {
    /// An object type from `(name, type)` pairs, with no optional attributes.
    pub fn object<N: Into<String>>(attributes: impl IntoIterator<Item = (N, Type)>) -> Type {
        Type::Object(ObjectType {
            attributes: attributes.into_iter().map(|(n, t)| (n.into(), t)).collect(),
            optional: BTreeSet::new(),
        })
    }

    /// `list(element)`
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// Parses cty's JSON type notation from bytes (the `type` field of a schema attribute).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeError> {
        let json: Json = serde_json::from_slice(bytes).map_err(|_| TypeError {
            found: String::from_utf8_lossy(bytes).chars().take(80).collect(),
            reason: "not JSON",
        })?;
        Type::from_json(&json)
    }

    /// Parses cty's JSON type notation.
    pub fn from_json(json: &Json) -> Result<Type, TypeError> {
        let bad = |reason| TypeError {
            found: json.to_string().chars().take(80).collect(),
            reason,
        };
        match json {
            Json::String(name) => match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad("unknown primitive type")),
            },
            Json::Array(parts) => {
                let kind = parts
                    .first()
                    .and_then(Json::as_str)
                    .ok_or_else(|| bad("a compound type is [kind, ...] with kind a string"))?;
                let inner = parts.get(1).ok_or_else(|| bad("missing element type"))?;
                match (kind, parts.len()) {
                    ("list", 2) => Ok(Type::list(Type::from_json(inner)?)),
                    ("set", 2) => Ok(Type::set(Type::from_json(inner)?)),
                    ("map", 2) => Ok(Type::map(Type::from_json(inner)?)),
                    ("tuple", 2) => {
                        let elements = inner
                            .as_array()
                            .ok_or_else(|| bad("a tuple lists its element types"))?;
                        Ok(Type::Tuple(
                            elements
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    ("object", 2 | 3) => {
                        let fields = inner
                            .as_object()
                            .ok_or_else(|| bad("an object maps attribute names to types"))?;
                        let mut object = ObjectType::default();
                        for (name, ty) in fields {
                            object.attributes.insert(name.clone(), Type::from_json(ty)?);
                        }
                        if let Some(optional) = parts.get(2) {
                            let names = optional
                                .as_array()
                                .ok_or_else(|| bad("optional attributes are a list of names"))?;
                            for name in names {
                                let name = name
                                    .as_str()
                                    .filter(|n| object.attributes.contains_key(*n))
                                    .ok_or_else(|| bad("optional attribute is not an attribute"))?;
                                object.optional.insert(name.to_string());
                            }
                        }
                        Ok(Type::Object(object))
                    }
                    _ => Err(bad("unknown compound type")),
                }
            }
            _ => Err(bad("a type is a string or an array")),
        }
    }

    /// cty's JSON type notation.
    pub fn to_json(&self) -> Json {
        match self {
            Type::Bool => Json::from("bool"),
            Type::Number => Json::from("number"),
            Type::String => Json::from("string"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => serde_json::json!(["list", t.to_json()]),
            Type::Set(t) => serde_json::json!(["set", t.to_json()]),
            Type::Map(t) => serde_json::json!(["map", t.to_json()]),
            Type::Tuple(ts) => {
                serde_json::json!(["tuple", ts.iter().map(Type::to_json).collect::<Vec<_>>()])
            }
            Type::Object(o) => {
                let fields: serde_json::Map<String, Json> = o
                    .attributes
                    .iter()
                    .map(|(n, t)| (n.clone(), t.to_json()))
                    .collect();
                if o.optional.is_empty() {
                    serde_json::json!(["object", fields])
                } else {
                    serde_json::json!(["object", fields, o.optional])
                }
            }
        }
    }
}

/// Terraform's own spelling: `string`, `list(string)`, `object({a = number})`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Type::Object(o) => {
                f.write_str("object({")?;
                for (i, (name, t)) in o.attributes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if o.optional.contains(name) {
                        write!(f, "{name} = optional({t})")?;
                    } else {
                        write!(f, "{name} = {t}")?;
                    }
                }
                f.write_str("})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Type, TypeError> {
        Type::from_json_bytes(text.as_bytes())
    }

    #[test]
    fn primitives_and_collections_round_trip() {
        for text in [
            r#""bool""#,
            r#""number""#,
            r#""string""#,
            r#""dynamic""#,
            r#"["list","string"]"#,
            r#"["set",["map","number"]]"#,
            r#"["tuple",["string","bool"]]"#,
            r#"["object",{"a":"number","b":["list","string"]}]"#,
            r#"["object",{"a":"number","b":"string"},["b"]]"#,
        ] {
            let ty = parse(text).unwrap();
            assert_eq!(ty.to_json().to_string(), text);
        }
    }

    #[test]
    fn display_uses_terraform_spelling() {
        let ty = parse(r#"["object",{"a":["list","string"],"b":"bool"},["b"]]"#).unwrap();
        assert_eq!(
            ty.to_string(),
            "object({a = list(string), b = optional(bool)})"
        );
    }

    #[test]
    fn bad_types_are_rejected_with_the_reason() {
        for (text, reason) in [
            ("nope", "not JSON"),
            (r#""int""#, "unknown primitive type"),
            (r#"["list"]"#, "missing element type"),
            (r#"["list","string","x"]"#, "unknown compound type"),
            (r#"["tuple","string"]"#, "a tuple lists its element types"),
            (
                r#"["object",{"a":"bool"},["b"]]"#,
                "optional attribute is not an attribute",
            ),
            ("7", "a type is a string or an array"),
        ] {
            assert_eq!(parse(text).unwrap_err().reason, reason, "{text}");
        }
    }
}
