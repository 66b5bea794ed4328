//! Schemas from types: `#[derive(Schema)]` writes a model struct's [`Schema`](struct@Schema)
//! from its fields ([`HasSchema`]), and [`AttrType`] says what attribute each Rust type makes, so
//! a derived struct is also a nested attribute of another.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{Attr, MaybeUnknown, Schema};
use crate::schema::Nesting;
use crate::Type;

/// A model type with a schema: what `#[derive(Schema)]` implements.
///
/// Each field is an attribute named as serde names it (`#[serde(rename)]` is followed); its type
/// gives the attribute's cty type through [`AttrType`]; its doc comment is the Markdown
/// description. What the type cannot say is said in `#[schema(...)]`:
///
/// | on a field | |
/// |---|---|
/// | (nothing) | required, or optional when the field is an `Option` |
/// | `required`, `optional`, `computed` | said outright (`optional, computed` together) |
/// | `sensitive`, `write_only`, `deprecated = "why"` | as [`Attr`]'s methods of those names |
/// | `requires_replace`, `use_state_for_unknown`, `default = expr` | plan modifiers |
/// | `validate = expr` (repeatable) | a [`Validator`](super::Validator) |
/// | `block` | a nested block instead of a nested attribute ([`Schema::block_of`]) |
/// | `skip` | not an attribute (serde's `skip` also skips) |
///
/// On the struct: `version = 1`, `identity = "path"` (or `["a", "b"]`), `deprecated = "why"`;
/// its doc comment describes the whole schema.
///
/// A field whose type derives `Schema` too is a nested attribute: one object, or a list, set or
/// map of them as a `Vec`, `BTreeSet` or `BTreeMap<String, _>` (protocol 6's nested attributes;
/// object types over protocol 5); with `#[schema(block)]`, nested blocks of the same shapes.
///
/// ```
/// use go_plugin_terraform::sdk::{MaybeUnknown, Schema, Validator};
/// use serde::{Deserialize, Serialize};
///
/// /// A file.
/// #[derive(Serialize, Deserialize, Schema)]
/// #[schema(version = 1, identity = "path")]
/// struct File {
///     /// Where it is.
///     #[schema(requires_replace, validate = Validator::regex("^/", "an absolute path"))]
///     path: String,
///     /// What it holds.
///     content: MaybeUnknown<String>,
///     #[schema(computed, use_state_for_unknown)]
///     id: MaybeUnknown<String>,
///     #[schema(sensitive, write_only)]
///     secret: Option<String>,
/// }
///
/// let schema = Schema::of::<File>();
/// assert_eq!(schema.version, 1);
/// assert!(schema.attribute("path").unwrap().required);
/// assert!(schema.attribute("id").unwrap().computed);
/// assert!(schema.attribute("secret").unwrap().write_only);
/// assert_eq!(schema.attribute("content").unwrap().description, "What it holds.");
/// ```
pub trait HasSchema {
    /// The schema of a value of this type.
    fn schema() -> Schema;
}

impl Schema {
    /// The schema of the model type `M` (`#[derive(Schema)]`).
    pub fn of<M: HasSchema>() -> Schema {
        M::schema()
    }
}

/// A Rust type as an attribute: its cty type, or, for a type that derives `Schema`, a nested
/// attribute. `Option`, [`MaybeUnknown`] and `Box` are their inner type's attribute.
pub trait AttrType {
    /// An attribute called `name` holding this type; optional until said otherwise.
    fn attr(name: &str) -> Attr;

    /// As nested blocks (`#[schema(block)]`): how they repeat and what each holds; `None` for a
    /// type that is not a model (the default).
    fn block() -> Option<(Nesting, Schema)> {
        None
    }
}

impl Schema {
    /// Adds the nested block `name` a field of type `T` holds: one model (`Option` or not), or a
    /// list, set or map of them (`Vec`, `BTreeSet`, `BTreeMap<String, _>`: blocks by label).
    /// Panics when `T` holds no model (a bug in the provider: the field is not a block).
    pub fn block_of<T: AttrType>(self, name: &str) -> Schema {
        let (nesting, schema) = T::block().unwrap_or_else(|| {
            panic!("{name} is marked a block, but its type holds no #[derive(Schema)] model")
        });
        self.block(name, nesting, schema)
    }
}

macro_rules! primitive {
    ($ty:expr => $($rust:ty),+) => {
        $(impl AttrType for $rust {
            fn attr(name: &str) -> Attr {
                Attr::new(name, $ty)
            }
        })+
    };
}

primitive!(Type::String => String, Box<str>, std::path::PathBuf);
primitive!(Type::Bool => bool);
primitive!(Type::Number => i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);
primitive!(Type::Dynamic => serde_json::Value);

macro_rules! wrapper {
    ($($wrapper:ident),+) => {
        $(impl<T: AttrType> AttrType for $wrapper<T> {
            fn attr(name: &str) -> Attr {
                T::attr(name)
            }
            fn block() -> Option<(Nesting, Schema)> {
                T::block()
            }
        })+
    };
}

wrapper!(Option, MaybeUnknown, Box);

/// A collection of `T`: nested objects when `T` is one, else a collection type of `T`'s type.
fn collection<T: AttrType>(name: &str, nesting: Nesting, of: fn(Type) -> Type) -> Attr {
    let element = T::attr(name);
    match element.nested {
        Some((Nesting::Single, attributes)) => Attr::nested(name, nesting, attributes),
        _ => Attr::new(name, of(element.ty)),
    }
}

/// Blocks of `T`, repeated as `nesting`: only when one `T` is a single model.
fn blocks<T: AttrType>(nesting: Nesting) -> Option<(Nesting, Schema)> {
    match T::block() {
        Some((Nesting::Single, schema)) => Some((nesting, schema)),
        _ => None,
    }
}

impl<T: AttrType> AttrType for Vec<T> {
    fn attr(name: &str) -> Attr {
        collection::<T>(name, Nesting::List, Type::list)
    }
    fn block() -> Option<(Nesting, Schema)> {
        blocks::<T>(Nesting::List)
    }
}

macro_rules! collections {
    ($nesting:ident, $of:path => $($rust:ty),+) => {
        $(impl<T: AttrType> AttrType for $rust {
            fn attr(name: &str) -> Attr {
                collection::<T>(name, Nesting::$nesting, $of)
            }
            fn block() -> Option<(Nesting, Schema)> {
                blocks::<T>(Nesting::$nesting)
            }
        })+
    };
}

collections!(Set, Type::set => BTreeSet<T>, HashSet<T>);
collections!(Map, Type::map => BTreeMap<String, T>, HashMap<String, T>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::{MaybeUnknown as Maybe, Validator};
    use serde::{Deserialize, Serialize};

    /// A rule.
    #[derive(Serialize, Deserialize, crate::sdk::Schema)]
    struct Rule {
        port: u16,
        #[schema(optional, computed, default = "tcp")]
        protocol: Option<Maybe<String>>,
    }

    #[derive(Serialize, Deserialize, crate::sdk::Schema)]
    struct Note {
        text: String,
    }

    /// A firewall.
    #[derive(Serialize, Deserialize, crate::sdk::Schema)]
    #[schema(version = 2, identity = ["name"], deprecated = "use firewall_v2")]
    struct Firewall {
        /// Its **name**.
        ///
        /// Unique.
        #[schema(requires_replace, validate = Validator::length(1, 8))]
        name: String,
        #[serde(rename = "labels")]
        tags: BTreeMap<String, String>,
        rules: Vec<Rule>,
        main: Option<Rule>,
        #[schema(computed, use_state_for_unknown)]
        id: Maybe<String>,
        #[schema(sensitive, write_only, deprecated = "use token")]
        password: Option<String>,
        #[schema(block)]
        notes: Vec<Note>,
        #[schema(block)]
        limits: Option<Note>,
        #[serde(skip)]
        _cache: Vec<u8>,
        #[schema(skip)]
        #[serde(skip)]
        _note: String,
    }

    fn note() -> Schema {
        Schema::new().attr(Attr::string("text").required())
    }

    fn builder() -> Schema {
        let rule = [
            Attr::number("port").required(),
            Attr::string("protocol").optional_computed().default("tcp"),
        ];
        Schema::new()
            .version(2)
            .description("A firewall.")
            .deprecated("use firewall_v2")
            .attr(
                Attr::string("name")
                    .required()
                    .requires_replace()
                    .validate(Validator::length(1, 8))
                    .description("Its **name**.\n\nUnique."),
            )
            .attr(Attr::map("labels", Type::String).required())
            .attr(Attr::list_of("rules", rule.to_vec()).required())
            .attr(Attr::object("main", rule.to_vec()).optional())
            .attr(Attr::string("id").computed().use_state_for_unknown())
            .attr(
                Attr::string("password")
                    .optional()
                    .sensitive()
                    .write_only()
                    .deprecated("use token"),
            )
            .block("notes", Nesting::List, note())
            .block("limits", Nesting::Single, note())
            .identity(&["name"])
    }

    #[test]
    fn the_derived_schema_is_the_one_the_builder_writes() {
        assert_eq!(
            format!("{:#?}", Schema::of::<Firewall>()),
            format!("{:#?}", builder())
        );
    }

    #[test]
    #[should_panic(expected = "tags is marked a block, but its type holds no")]
    fn a_block_of_no_model_is_a_bug_said_by_name() {
        let _ = Schema::new().block_of::<Vec<String>>("tags");
    }

    #[test]
    fn a_nested_model_is_a_nested_attribute_and_its_type() {
        let schema = Schema::of::<Firewall>();
        let rules = schema.attribute("rules").unwrap();
        assert_eq!(rules.nested.as_ref().unwrap().0, Nesting::List);
        assert_eq!(
            <Vec<u8>>::attr("bytes").ty,
            Type::list(Type::Number),
            "a list of a primitive is a list type"
        );
    }
}
