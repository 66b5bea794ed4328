//! Provider schemas, independent of the protocol version they arrived in.
//!
//! A provider describes its configuration, each resource type and each data source as a *block*:
//! attributes (each with a cty type, and required/optional/computed flags) and nested blocks
//! (with a nesting mode). The value Terraform exchanges for a block is an object holding every
//! attribute and every nested block, so [`Block::value_type`] is the type every `DynamicValue` of
//! that resource is encoded with. Protocol 6 adds *nested attributes* (an attribute whose type is
//! an object, or a collection of objects, described attribute by attribute); they are folded into
//! the attribute's [`Type`] when the schema is read.

use std::collections::BTreeMap;

use super::cty_type::Type;

/// Everything a provider declares (`GetProviderSchema`).
#[derive(Debug, Clone, Default)]
pub struct ProviderSchema {
    /// The provider's own configuration block.
    pub provider: Schema,
    /// Managed resource types by name (`random_id`, …).
    pub resources: BTreeMap<String, Schema>,
    /// Data sources by name.
    pub data_sources: BTreeMap<String, Schema>,
    /// Provider-defined functions by name.
    pub functions: BTreeMap<String, Function>,
}

/// A versioned block schema.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Schema version (state written with an older one must be upgraded).
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Attributes, in the provider's order.
    pub attributes: Vec<Attribute>,
    /// Nested block types.
    pub blocks: Vec<NestedBlock>,
    /// Human-readable description.
    pub description: String,
}

/// One attribute of a block.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Its type (for nested attributes, the object or collection of objects they describe).
    pub ty: Type,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// The provider may set it.
    pub computed: bool,
    /// Hidden in Terraform's output.
    pub sensitive: bool,
    /// Human-readable description.
    pub description: String,
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, as an object (null when absent).
    Single,
    /// Exactly one, as an object whose attributes are null when absent.
    Group,
    /// An ordered list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects, keyed by block label.
    Map,
}

/// A nested block type.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// Block type name.
    pub name: String,
    /// How it repeats.
    pub nesting: Nesting,
    /// Its content.
    pub block: Block,
    /// Minimum number of blocks (0 = no limit).
    pub min_items: i64,
    /// Maximum number of blocks (0 = no limit).
    pub max_items: i64,
}

/// A provider-defined function.
#[derive(Debug, Clone)]
pub struct Function {
    /// Positional parameters.
    pub parameters: Vec<Parameter>,
    /// The parameter that repeats after the positional ones, if any.
    pub variadic: Option<Parameter>,
    /// Type of the result.
    pub return_type: Type,
    /// One-line summary.
    pub summary: String,
}

/// A function parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Parameter name.
    pub name: String,
    /// Parameter type.
    pub ty: Type,
    /// Null may be passed.
    pub allow_null: bool,
    /// Unknown may be passed.
    pub allow_unknown: bool,
}

impl Block {
    /// The object type of this block's values: every attribute and every nested block.
    pub fn value_type(&self) -> Type {
        let attributes = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()));
        let blocks = self.blocks.iter().map(|b| {
            let object = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single | Nesting::Group => object,
                Nesting::List => Type::list(object),
                Nesting::Set => Type::set(object),
                Nesting::Map => Type::map(object),
            };
            (b.name.clone(), ty)
        });
        Type::object(attributes.chain(blocks))
    }

    /// The attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Schema {
    /// The object type of this schema's values.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

impl Function {
    /// The type of argument `index` (the variadic parameter's beyond the positional ones).
    pub fn parameter(&self, index: usize) -> Option<&Parameter> {
        self.parameters.get(index).or(self.variadic.as_ref())
    }
}

/// A nesting mode number from the protocol (`Schema.NestedBlock.NestingMode`).
pub fn nesting_from_proto(mode: i32) -> Option<Nesting> {
    match mode {
        1 => Some(Nesting::Single),
        2 => Some(Nesting::List),
        3 => Some(Nesting::Set),
        4 => Some(Nesting::Map),
        5 => Some(Nesting::Group),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(name: &str, ty: Type) -> Attribute {
        Attribute {
            name: name.into(),
            ty,
            required: false,
            optional: true,
            computed: false,
            sensitive: false,
            description: String::new(),
        }
    }

    #[test]
    fn block_values_hold_attributes_and_nested_blocks() {
        let rule = Block {
            attributes: vec![attribute("port", Type::Number)],
            ..Block::default()
        };
        let block = Block {
            attributes: vec![attribute("name", Type::String)],
            blocks: vec![
                NestedBlock {
                    name: "rule".into(),
                    nesting: Nesting::List,
                    block: rule.clone(),
                    min_items: 0,
                    max_items: 0,
                },
                NestedBlock {
                    name: "timeouts".into(),
                    nesting: Nesting::Single,
                    block: rule,
                    min_items: 0,
                    max_items: 1,
                },
            ],
            description: String::new(),
        };
        assert_eq!(
            block.value_type().to_string(),
            "object({name = string, rule = list(object({port = number})), timeouts = object({port = number})})"
        );
    }
}
