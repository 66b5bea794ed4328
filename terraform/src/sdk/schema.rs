//! Schemas written next to the model struct, with a builder: the author names attributes and
//! their kinds, never cty type JSON.
//!
//! ```
//! use go_plugin_terraform::sdk::{Attr, Schema, Validator};
//! let file = Schema::new()
//!     .version(1)
//!     .attr(Attr::string("path").required().requires_replace().validate(Validator::regex("^/", "an absolute path")))
//!     .attr(Attr::string("content").required().description("What the file holds, **verbatim**."))
//!     .attr(Attr::string("id").computed().use_state_for_unknown());
//! assert_eq!(file.attribute("path").unwrap().name, "path");
//! ```

use crate::schema as wire;
use crate::{Type, Value};

use super::validate::Validator;

/// How a plan treats one attribute (terraform-plugin-framework's plan modifiers).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Modifier {
    /// A change of this attribute replaces the resource (destroy, then create).
    RequiresReplace,
    /// A computed value that does not change after create: keep the prior state's value instead of
    /// planning it as unknown.
    UseStateForUnknown,
    /// The value when the configuration leaves the attribute out (optional + computed).
    Default(Value),
}

/// One attribute of a schema.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Attr {
    /// Its name.
    pub name: String,
    /// Its cty type.
    pub ty: Type,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (when optional too: when the configuration leaves it out).
    pub computed: bool,
    /// Hidden in Terraform's output.
    pub sensitive: bool,
    /// Taken from configuration at apply, never kept in plan or state (Terraform 1.11+).
    pub write_only: bool,
    /// `Some(message)` when deprecated.
    pub deprecated: Option<String>,
    /// Markdown description.
    pub description: String,
    /// Plan modifiers.
    pub modifiers: Vec<Modifier>,
    /// Configuration validators.
    pub validators: Vec<Validator>,
    /// For a nested attribute ([`Attr::object`], [`Attr::list_of`], ...): how it nests and the
    /// attributes of each object.
    pub nested: Option<(wire::Nesting, Vec<Attr>)>,
}

impl Attr {
    /// An attribute of type `ty`; optional until said otherwise.
    pub fn new(name: impl Into<String>, ty: Type) -> Attr {
        Attr {
            name: name.into(),
            ty,
            required: false,
            optional: true,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: None,
            description: String::new(),
            modifiers: Vec::new(),
            validators: Vec::new(),
            nested: None,
        }
    }

    /// A nested attribute: `nesting` objects of `attributes` (protocol 6's nested attributes;
    /// over protocol 5 an attribute of the equivalent object type, its optional attributes
    /// marked optional).
    pub fn nested(name: impl Into<String>, nesting: wire::Nesting, attributes: Vec<Attr>) -> Attr {
        let object = Type::Object(crate::ObjectType {
            attributes: attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
            optional: attributes
                .iter()
                .filter(|a| !a.required)
                .map(|a| a.name.clone())
                .collect(),
        });
        let ty = match nesting {
            wire::Nesting::List => Type::list(object),
            wire::Nesting::Set => Type::set(object),
            wire::Nesting::Map => Type::map(object),
            wire::Nesting::Single | wire::Nesting::Group => object,
        };
        let mut attr = Attr::new(name, ty);
        attr.nested = Some((nesting, attributes));
        attr
    }

    /// A single nested object of `attributes`.
    pub fn object(name: impl Into<String>, attributes: Vec<Attr>) -> Attr {
        Attr::nested(name, wire::Nesting::Single, attributes)
    }

    /// A list of nested objects of `attributes`.
    pub fn list_of(name: impl Into<String>, attributes: Vec<Attr>) -> Attr {
        Attr::nested(name, wire::Nesting::List, attributes)
    }

    /// A set of nested objects of `attributes`.
    pub fn set_of(name: impl Into<String>, attributes: Vec<Attr>) -> Attr {
        Attr::nested(name, wire::Nesting::Set, attributes)
    }

    /// A map of nested objects of `attributes`.
    pub fn map_of(name: impl Into<String>, attributes: Vec<Attr>) -> Attr {
        Attr::nested(name, wire::Nesting::Map, attributes)
    }

    /// A `string` attribute.
    pub fn string(name: impl Into<String>) -> Attr {
        Attr::new(name, Type::String)
    }

    /// A `number` attribute.
    pub fn number(name: impl Into<String>) -> Attr {
        Attr::new(name, Type::Number)
    }

    /// A `bool` attribute.
    pub fn bool(name: impl Into<String>) -> Attr {
        Attr::new(name, Type::Bool)
    }

    /// A `list(element)` attribute.
    pub fn list(name: impl Into<String>, element: Type) -> Attr {
        Attr::new(name, Type::list(element))
    }

    /// A `set(element)` attribute.
    pub fn set(name: impl Into<String>, element: Type) -> Attr {
        Attr::new(name, Type::set(element))
    }

    /// A `map(element)` attribute.
    pub fn map(name: impl Into<String>, element: Type) -> Attr {
        Attr::new(name, Type::map(element))
    }

    /// Must be set in configuration.
    pub fn required(mut self) -> Attr {
        (self.required, self.optional, self.computed) = (true, false, false);
        self
    }

    /// May be set in configuration (the default).
    pub fn optional(mut self) -> Attr {
        (self.required, self.optional) = (false, true);
        self
    }

    /// Set by the provider only.
    pub fn computed(mut self) -> Attr {
        (self.required, self.optional, self.computed) = (false, false, true);
        self
    }

    /// Set by configuration, or by the provider when configuration leaves it out.
    pub fn optional_computed(mut self) -> Attr {
        (self.required, self.optional, self.computed) = (false, true, true);
        self
    }

    /// Hidden in Terraform's output.
    pub fn sensitive(mut self) -> Attr {
        self.sensitive = true;
        self
    }

    /// Write-only: the provider sees it at apply, Terraform never stores it (Terraform 1.11+).
    pub fn write_only(mut self) -> Attr {
        self.write_only = true;
        self
    }

    /// Deprecated, with what to use instead.
    pub fn deprecated(mut self, message: impl Into<String>) -> Attr {
        self.deprecated = Some(message.into());
        self
    }

    /// A Markdown description (shown by `terraform providers schema`, docs generators).
    pub fn description(mut self, markdown: impl Into<String>) -> Attr {
        self.description = markdown.into();
        self
    }

    /// Changing it replaces the resource.
    pub fn requires_replace(mut self) -> Attr {
        self.modifiers.push(Modifier::RequiresReplace);
        self
    }

    /// Keeps the prior state's value instead of planning unknown.
    pub fn use_state_for_unknown(mut self) -> Attr {
        self.modifiers.push(Modifier::UseStateForUnknown);
        self
    }

    /// The value when configuration leaves it out (makes it optional and computed).
    pub fn default(mut self, value: impl Into<Value>) -> Attr {
        self = self.optional_computed();
        self.modifiers.push(Modifier::Default(value.into()));
        self
    }

    /// Checks its configured value.
    pub fn validate(mut self, validator: Validator) -> Attr {
        self.validators.push(validator);
        self
    }

    fn has(&self, wanted: fn(&Modifier) -> bool) -> bool {
        self.modifiers.iter().any(wanted)
    }

    pub(crate) fn requires_replacement(&self) -> bool {
        self.has(|m| matches!(m, Modifier::RequiresReplace))
    }

    pub(crate) fn keeps_state_for_unknown(&self) -> bool {
        self.has(|m| matches!(m, Modifier::UseStateForUnknown))
    }

    pub(crate) fn default_value(&self) -> Option<&Value> {
        self.modifiers.iter().find_map(|m| match m {
            Modifier::Default(v) => Some(v),
            _ => None,
        })
    }
}

/// A repeated or single nested block (`block "name" { ... }` in configuration).
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// Its name.
    pub name: String,
    /// How it repeats.
    pub nesting: wire::Nesting,
    /// What each block holds.
    pub schema: Schema,
}

/// The schema of a resource, data source, ephemeral resource, list resource, action or of the
/// provider itself.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// The state's schema version (resources; see state upgrades).
    pub version: i64,
    /// Attributes, in order.
    pub attrs: Vec<Attr>,
    /// Nested blocks.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// `Some(message)` when deprecated.
    pub deprecated: Option<String>,
    /// The attributes that identify a resource's object (its resource identity, Terraform 1.12+):
    /// what `import` blocks may give instead of an id and what list resources return.
    pub identity: Vec<String>,
}

impl Schema {
    /// An empty schema, version 0.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// The state's schema version.
    pub fn version(mut self, version: i64) -> Schema {
        self.version = version;
        self
    }

    /// Adds an attribute.
    pub fn attr(mut self, attr: Attr) -> Schema {
        self.attrs.push(attr);
        self
    }

    /// Adds a nested block, `list` (any number), `set` or `single` (see [`wire::Nesting`]).
    pub fn block(
        mut self,
        name: impl Into<String>,
        nesting: wire::Nesting,
        schema: Schema,
    ) -> Schema {
        self.blocks.push(NestedBlock {
            name: name.into(),
            nesting,
            schema,
        });
        self
    }

    /// A Markdown description.
    pub fn description(mut self, markdown: impl Into<String>) -> Schema {
        self.description = markdown.into();
        self
    }

    /// Names the attributes that identify the object (each must be an attribute of this schema,
    /// known once the object exists): Terraform stores them as the resource's identity.
    pub fn identity(mut self, attributes: &[&str]) -> Schema {
        self.identity = attributes.iter().map(|a| a.to_string()).collect();
        self
    }

    /// The cty type of the identity (an object of the identity attributes).
    pub(crate) fn identity_type(&self) -> Type {
        Type::object(self.identity.iter().map(|name| {
            let ty = self
                .attribute(name)
                .map(|a| a.ty.clone())
                .unwrap_or(Type::Dynamic);
            (name.clone(), ty)
        }))
    }

    /// The identity of the object `state`, when the schema has one, the object exists and its
    /// identity attributes are known.
    pub(crate) fn identity_of(&self, state: &Value) -> Option<Value> {
        if self.identity.is_empty() || state.is_null() {
            return None;
        }
        let identity = Value::object(self.identity.iter().map(|name| {
            (
                name.clone(),
                state.get(name).cloned().unwrap_or(Value::Null),
            )
        }));
        identity.is_wholly_known().then_some(identity)
    }

    /// Marks the whole resource deprecated.
    pub fn deprecated(mut self, message: impl Into<String>) -> Schema {
        self.deprecated = Some(message.into());
        self
    }

    /// What this schema asks of attributes inside nested attributes and blocks that the SDK
    /// applies to top-level attributes only (plan modifiers, write-only): one line each, by path.
    pub(crate) fn top_level_only(&self) -> Vec<String> {
        let mut found = Vec::new();
        for attr in &self.attrs {
            if let Some((_, nested)) = &attr.nested {
                inner_top_level_only(&attr.name, nested, &[], &mut found);
            }
        }
        for block in &self.blocks {
            let schema = &block.schema;
            inner_top_level_only(&block.name, &schema.attrs, &schema.blocks, &mut found);
        }
        found
    }

    /// The attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// The cty type of a value of this schema.
    pub fn value_type(&self) -> Type {
        self.to_wire().block.value_type()
    }

    /// The schema as the protocol-neutral description both protocol versions encode.
    pub(crate) fn to_wire(&self) -> wire::Schema {
        wire::Schema {
            version: self.version,
            block: self.to_wire_block(),
        }
    }

    fn to_wire_block(&self) -> wire::Block {
        wire::Block {
            attributes: self
                .attrs
                .iter()
                .map(|a| wire::Attribute {
                    name: a.name.clone(),
                    ty: a.ty.clone(),
                    required: a.required,
                    optional: a.optional,
                    computed: a.computed,
                    sensitive: a.sensitive,
                    description: a.description.clone(),
                })
                .collect(),
            blocks: self
                .blocks
                .iter()
                .map(|b| wire::NestedBlock {
                    name: b.name.clone(),
                    nesting: b.nesting,
                    block: b.schema.to_wire_block(),
                    min_items: 0,
                    max_items: if b.nesting == wire::Nesting::Single {
                        1
                    } else {
                        0
                    },
                })
                .collect(),
            description: self.description.clone(),
        }
    }
}

fn inner_top_level_only(at: &str, attrs: &[Attr], blocks: &[NestedBlock], found: &mut Vec<String>) {
    for attr in attrs {
        let path = format!("{at}.{}", attr.name);
        if !attr.modifiers.is_empty() {
            found.push(format!(
                "{path} has a plan modifier (requires_replace, use_state_for_unknown or default)"
            ));
        }
        if attr.write_only {
            found.push(format!("{path} is write-only"));
        }
        if let Some((_, nested)) = &attr.nested {
            inner_top_level_only(&path, nested, &[], found);
        }
    }
    for block in blocks {
        let path = format!("{at}.{}", block.name);
        inner_top_level_only(&path, &block.schema.attrs, &block.schema.blocks, found);
    }
}
