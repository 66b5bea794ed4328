//! What `#[schema(...)]`, doc comments and serde's attributes say about the struct and each
//! field: parsed here into plain values, with an error at the offending token for anything
//! misspelt or contradictory.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, ExprArray, ExprLit, Field, Lit, LitStr, Type};

/// The struct's options.
#[derive(Default)]
pub struct StructOptions {
    pub version: Option<Expr>,
    pub identity: Vec<LitStr>,
    pub deprecated: Option<Expr>,
    pub description: String,
}

/// Whether configuration sets the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

/// One field's options.
pub struct FieldOptions {
    /// The attribute's name (serde's name of the field).
    pub name: String,
    pub skip: bool,
    /// A nested block rather than an attribute.
    pub block: bool,
    pub kind: Kind,
    /// Builder calls after the kind, in the order written (`sensitive()`, `default(..)`, ...).
    pub calls: Vec<TokenStream>,
    pub description: String,
}

/// A doc comment's text: each line without the one space rustdoc puts after `///`.
fn docs(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').unwrap_or(&line).to_string())
        .collect();
    lines.join("\n").trim().to_string()
}

pub fn struct_options(attrs: &[Attribute]) -> syn::Result<StructOptions> {
    let mut options = StructOptions {
        description: docs(attrs),
        ..StructOptions::default()
    };
    for attr in attrs {
        if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    return Err(meta.error(
                        "derive(Schema) names attributes after the fields; rename them one by one \
                         with #[serde(rename = \"...\")] instead of rename_all",
                    ));
                }
                skip_value(&meta)
            })?;
        }
        if !attr.path().is_ident("schema") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("version") {
                options.version = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("deprecated") {
                options.deprecated = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("identity") {
                options.identity = match meta.value()?.parse::<Expr>()? {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) => vec![s],
                    Expr::Array(ExprArray { elems, .. }) => elems
                        .into_iter()
                        .map(|e| match e {
                            Expr::Lit(ExprLit {
                                lit: Lit::Str(s), ..
                            }) => Ok(s),
                            other => Err(syn::Error::new_spanned(
                                other,
                                "identity attributes are named by strings",
                            )),
                        })
                        .collect::<syn::Result<_>>()?,
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "identity = \"attribute\" or identity = [\"a\", \"b\"]",
                        ))
                    }
                };
            } else {
                return Err(meta.error(
                    "unknown struct option; #[schema(...)] on a struct takes version, identity \
                     and deprecated",
                ));
            }
            Ok(())
        })?;
    }
    Ok(options)
}

/// Skips a serde option's value, if it has one (`rename = "x"`, `default`, `with = "m"`).
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

/// `true` for `Option<...>` (written as such: an alias hides it).
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

const UNKNOWN_FIELD_OPTION: &str = "unknown field option; #[schema(...)] on a field takes \
    required, optional, computed, sensitive, write_only, deprecated = \"..\", requires_replace, \
    use_state_for_unknown, default = .., validate = .., block and skip";

pub fn field_options(field: &Field) -> syn::Result<FieldOptions> {
    let ident = field.ident.as_ref().expect("named fields only");
    let mut name = ident.to_string().trim_start_matches("r#").to_string();
    let (mut skip, mut block) = (false, false);
    let (mut required, mut optional, mut computed, mut defaulted) = (false, false, false, false);
    let mut calls = Vec::new();
    for attr in &field.attrs {
        if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") && meta.input.peek(syn::Token![=]) {
                    name = meta.value()?.parse::<LitStr>()?.value();
                    return Ok(());
                }
                if meta.path.is_ident("rename") {
                    return Err(meta.error(
                        "an attribute has one name: use #[serde(rename = \"...\")] with \
                         derive(Schema)",
                    ));
                }
                if meta.path.is_ident("flatten") {
                    return Err(meta.error(
                        "derive(Schema) does not follow serde's flatten: declare the fields \
                         here, or build the schema with Schema::new()",
                    ));
                }
                if meta.path.is_ident("skip") {
                    skip = true;
                }
                skip_value(&meta)
            })?;
        }
        if !attr.path().is_ident("schema") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            // The option's own identifier: the builder method of the same name, at its span.
            let Some(method) = meta.path.get_ident().cloned() else {
                return Err(meta.error(UNKNOWN_FIELD_OPTION));
            };
            let word = method.to_string();
            match word.as_str() {
                "skip" => skip = true,
                "block" => block = true,
                "required" => required = true,
                "optional" => optional = true,
                "computed" => computed = true,
                "sensitive" | "write_only" | "requires_replace" | "use_state_for_unknown" => {
                    calls.push(quote!(.#method()));
                }
                "deprecated" | "default" | "validate" => {
                    let value: Expr = meta.value()?.parse()?;
                    defaulted |= word == "default";
                    calls.push(quote!(.#method(#value)));
                }
                _ => return Err(meta.error(UNKNOWN_FIELD_OPTION)),
            }
            Ok(())
        })?;
    }
    if block && (required || optional || computed || !calls.is_empty()) {
        return Err(syn::Error::new_spanned(
            ident,
            "a block takes no other options: the attributes of its model say theirs",
        ));
    }
    let kind = match (required, optional, computed) {
        (true, false, false) if defaulted => {
            return Err(syn::Error::new_spanned(
                ident,
                "a default makes the attribute optional and computed; drop `required`",
            ))
        }
        (true, false, false) => Kind::Required,
        (true, _, _) => {
            return Err(syn::Error::new_spanned(
                ident,
                "`required` cannot go with `optional` or `computed`",
            ))
        }
        (false, true, true) => Kind::OptionalComputed,
        (false, false, true) => Kind::Computed,
        (false, true, false) => Kind::Optional,
        (false, false, false) if is_option(&field.ty) => Kind::Optional,
        (false, false, false) => Kind::Required,
    };
    Ok(FieldOptions {
        name,
        skip,
        block,
        kind,
        calls,
        description: docs(&field.attrs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn field(f: Field) -> syn::Result<FieldOptions> {
        field_options(&f)
    }

    #[test]
    fn the_kind_follows_the_type_unless_said() {
        let named = |f: syn::FieldsNamed| f.named.into_iter().next().unwrap();
        let plain = named(parse_quote!({ a: String }));
        let option = named(parse_quote!({ a: Option<String> }));
        let computed = named(parse_quote!({ #[schema(computed)] a: Option<String> }));
        let both = named(parse_quote!({ #[schema(optional, computed)] a: String }));
        assert_eq!(field(plain).unwrap().kind, Kind::Required);
        assert_eq!(field(option).unwrap().kind, Kind::Optional);
        assert_eq!(field(computed).unwrap().kind, Kind::Computed);
        assert_eq!(field(both).unwrap().kind, Kind::OptionalComputed);
    }

    #[test]
    fn serde_names_and_docs_are_followed() {
        let f: syn::FieldsNamed = parse_quote!({
            /// First line.
            ///
            ///   indented
            #[serde(default, rename = "type")]
            kind: String
        });
        let options = field(f.named.into_iter().next().unwrap()).unwrap();
        assert_eq!(options.name, "type");
        assert_eq!(options.description, "First line.\n\n  indented");
    }

    #[test]
    fn contradictions_and_misspellings_are_errors_that_say_what_to_write() {
        let named = |f: syn::FieldsNamed| f.named.into_iter().next().unwrap();
        let cases = [
            (
                named(parse_quote!({ #[schema(required, computed)] a: String })),
                "cannot go with",
            ),
            (
                named(parse_quote!({ #[schema(required, default = 1)] a: i64 })),
                "drop `required`",
            ),
            (
                named(parse_quote!({ #[schema(sensitve)] a: String })),
                "takes required",
            ),
            (
                named(parse_quote!({ #[schema(block, optional)] a: Vec<Note> })),
                "a block takes no other options",
            ),
            (
                named(parse_quote!({ #[serde(flatten)] a: Inner })),
                "does not follow serde's flatten",
            ),
            (
                named(parse_quote!({ #[serde(rename(serialize = "b"))] a: String })),
                "an attribute has one name",
            ),
        ];
        for (f, expected) in cases {
            let message = field(f).err().unwrap().to_string();
            assert!(message.contains(expected), "{message}");
        }
        let renamed: syn::DeriveInput = parse_quote! {
            #[serde(rename_all = "camelCase")]
            struct S { a: String }
        };
        let message = struct_options(&renamed.attrs).err().unwrap().to_string();
        assert!(message.contains("one by one"), "{message}");
    }
}
