//! `#[derive(Schema)]`: the Terraform schema of a model struct of `go-plugin-terraform`'s provider
//! SDK, written from the struct's fields. Documented where users meet it:
//! `go_plugin_terraform::sdk::Schema`.
//!
//! The expansion is a chain of the SDK's own builder calls (`Schema::new().attr(...)`), so the
//! derived schema and a hand-built one are the same thing; each field's attribute comes from its
//! type's `AttrType` impl, which is how a field of another derived struct becomes a nested
//! attribute. The struct also gets an `AttrType` impl of its own, as a single nested object (or,
//! under `#[schema(block)]`, a single nested block).

mod options;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use options::{field_options, struct_options, Kind};

/// Writes `HasSchema` (the Terraform schema) and `AttrType` for a model struct: see
/// `go_plugin_terraform::sdk::HasSchema` for the options.
#[proc_macro_derive(Schema, attributes(schema))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => return Err(not_a_struct(input)),
        },
        _ => return Err(not_a_struct(input)),
    };
    let sdk = quote!(::go_plugin_terraform::sdk);
    let nesting = quote!(::go_plugin_terraform::schema::Nesting);
    let options = struct_options(&input.attrs)?;
    let mut names = Vec::new();
    let mut attrs = Vec::new();
    let mut blocks = Vec::new();
    for field in fields {
        let field_options = field_options(field)?;
        if field_options.skip {
            continue;
        }
        let ty = &field.ty;
        let name = &field_options.name;
        if field_options.block {
            blocks.push(quote!(.block_of::<#ty>(#name)));
            continue;
        }
        let kind = match field_options.kind {
            Kind::Required => quote!(.required()),
            Kind::Optional => quote!(.optional()),
            Kind::Computed => quote!(.computed()),
            Kind::OptionalComputed => quote!(.optional_computed()),
        };
        let calls = &field_options.calls;
        let description = (!field_options.description.is_empty()).then(|| {
            let text = &field_options.description;
            quote!(.description(#text))
        });
        attrs.push(quote! {
            .attr(<#ty as #sdk::AttrType>::attr(#name) #kind #(#calls)* #description)
        });
        names.push(field_options.name);
    }
    for attribute in &options.identity {
        if !names.contains(&attribute.value()) {
            return Err(syn::Error::new_spanned(
                attribute,
                format!(
                    "no attribute {:?} to identify the object by",
                    attribute.value()
                ),
            ));
        }
    }
    let version = options.version.map(|v| quote!(.version(#v)));
    let deprecated = options.deprecated.map(|d| quote!(.deprecated(#d)));
    let description = (!options.description.is_empty()).then(|| {
        let text = &options.description;
        quote!(.description(#text))
    });
    let identity = (!options.identity.is_empty()).then(|| {
        let names = &options.identity;
        quote!(.identity(&[#(#names),*]))
    });
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #sdk::HasSchema for #ident #ty_generics #where_clause {
            fn schema() -> #sdk::Schema {
                #sdk::Schema::new()
                    #version #description #deprecated #(#attrs)* #(#blocks)* #identity
            }
        }
        impl #impl_generics #sdk::AttrType for #ident #ty_generics #where_clause {
            fn attr(name: &str) -> #sdk::Attr {
                #sdk::Attr::object(name, <Self as #sdk::HasSchema>::schema().attrs)
            }
            fn block() -> ::core::option::Option<(#nesting, #sdk::Schema)> {
                ::core::option::Option::Some((
                    #nesting::Single,
                    <Self as #sdk::HasSchema>::schema(),
                ))
            }
        }
    })
}

fn not_a_struct(input: &DeriveInput) -> syn::Error {
    syn::Error::new_spanned(
        &input.ident,
        "derive(Schema) needs a struct with named fields: each field is an attribute",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn an_identity_must_name_an_attribute() {
        let input: DeriveInput = parse_quote! {
            #[schema(identity = "pth")]
            struct File { path: String }
        };
        let message = expand(&input).err().unwrap().to_string();
        assert!(message.contains("no attribute \"pth\""), "{message}");
    }

    #[test]
    fn only_structs_with_named_fields() {
        let input: DeriveInput = parse_quote!(
            struct Pair(String, String);
        );
        let message = expand(&input).err().unwrap().to_string();
        assert!(message.contains("named fields"), "{message}");
    }

    #[test]
    fn attributes_are_builder_calls_in_field_order() {
        let input: DeriveInput = parse_quote! {
            /// Doc.
            #[schema(version = 1)]
            struct File {
                #[schema(requires_replace)]
                path: String,
                #[schema(computed)]
                id: Option<String>,
            }
        };
        let code = expand(&input).unwrap().to_string();
        let path = code.find("attr (\"path\")").expect(&code);
        let id = code.find("attr (\"id\")").expect(&code);
        assert!(path < id, "{code}");
        assert!(
            code.contains(". required () . requires_replace ()"),
            "{code}"
        );
        assert!(code.contains(". version (1)"), "{code}");
    }
}
