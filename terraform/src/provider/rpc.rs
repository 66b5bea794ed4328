//! The raw calls of `tfplugin5.Provider` and `tfplugin6.Provider`, behind one set of Rust types.
//!
//! The two protocol versions carry the same messages for everything a host does with a provider;
//! only some call and message names differ (`GetSchema` / `GetProviderSchema`, `Configure` /
//! `ConfigureProvider`, `PrepareProviderConfig` / `ValidateProviderConfig`, …), and protocol 6
//! adds nested attributes to the schema. The same code is therefore generated for both versions
//! by [`tfplugin_rpc!`], with the differing names as arguments. Values stay encoded here
//! ([`Encoded`]); the caller decodes them against the schema.

use tonic::transport::Channel;
use tonic::Status;

use crate::cty_type::Type;
use crate::diagnostic::{Diagnostic, Severity};
use crate::path::{AttributePath, Step};
use crate::schema::{self, ProviderSchema};

/// A `DynamicValue` as received: msgpack, or (rarely) JSON.
#[derive(Debug, Clone, Default)]
pub(crate) struct Encoded {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

/// A schema that could not be read.
pub(crate) type SchemaError = String;

pub(crate) struct Planned {
    pub state: Encoded,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
}

pub(crate) struct Imported {
    pub type_name: String,
    pub state: Encoded,
    pub private: Vec<u8>,
}

/// How one protocol version spells an attribute's type.
trait AttributeType {
    fn attribute_type(&self) -> Result<Type, SchemaError>;
}

fn parse_type(name: &str, bytes: &[u8]) -> Result<Type, SchemaError> {
    Type::from_json_bytes(bytes).map_err(|e| format!("attribute {name:?}: {e}"))
}

impl AttributeType for crate::proto::tfplugin5::schema::Attribute {
    fn attribute_type(&self) -> Result<Type, SchemaError> {
        parse_type(&self.name, &self.r#type)
    }
}

impl AttributeType for crate::proto::tfplugin6::schema::Attribute {
    fn attribute_type(&self) -> Result<Type, SchemaError> {
        use crate::proto::tfplugin6::schema::object::NestingMode;
        let Some(nested) = &self.nested_type else {
            return parse_type(&self.name, &self.r#type);
        };
        let attributes = nested
            .attributes
            .iter()
            .map(|a| Ok((a.name.clone(), a.attribute_type()?)))
            .collect::<Result<Vec<_>, SchemaError>>()?;
        let object = Type::object(attributes);
        match NestingMode::try_from(nested.nesting) {
            Ok(NestingMode::Single) => Ok(object),
            Ok(NestingMode::List) => Ok(Type::list(object)),
            Ok(NestingMode::Set) => Ok(Type::set(object)),
            Ok(NestingMode::Map) => Ok(Type::map(object)),
            _ => Err(format!("attribute {:?}: invalid nesting mode", self.name)),
        }
    }
}

fn path_from_steps(steps: impl IntoIterator<Item = Option<Step>>) -> AttributePath {
    AttributePath(steps.into_iter().flatten().collect())
}

macro_rules! tfplugin_rpc {
    (
        $version:ident, $pb:ident,
        get_schema: $get_schema:ident,
        validate_provider: $validate_provider:ident / $validate_provider_msg:ident,
        validate_resource: $validate_resource:ident / $validate_resource_msg:ident,
        validate_data_source: $validate_data:ident / $validate_data_msg:ident,
        configure: $configure:ident / $configure_msg:ident,
        stop: $stop:ident / $stop_msg:ident $(,)?
    ) => {
        /// The calls of this protocol version.
        pub(crate) mod $version {
            use super::*;
            use crate::proto::$pb as pb;
            use pb::provider_client::ProviderClient;

            pub(crate) struct Rpc(ProviderClient<Channel>);

            fn dynamic(value: &[u8]) -> Option<pb::DynamicValue> {
                Some(pb::DynamicValue {
                    msgpack: value.to_vec(),
                    json: Vec::new(),
                })
            }

            fn encoded(value: Option<pb::DynamicValue>) -> Encoded {
                let value = value.unwrap_or_default();
                Encoded {
                    msgpack: value.msgpack,
                    json: value.json,
                }
            }

            fn path(path: pb::AttributePath) -> AttributePath {
                use pb::attribute_path::step::Selector;
                path_from_steps(path.steps.into_iter().map(|step| {
                    Some(match step.selector? {
                        Selector::AttributeName(name) => Step::Attribute(name),
                        Selector::ElementKeyString(key) => Step::Key(key),
                        Selector::ElementKeyInt(index) => Step::Index(index),
                    })
                }))
            }

            fn diagnostics(list: Vec<pb::Diagnostic>) -> Vec<Diagnostic> {
                use pb::diagnostic::Severity as S;
                list.into_iter()
                    .map(|d| Diagnostic {
                        severity: match S::try_from(d.severity) {
                            Ok(S::Warning) => Severity::Warning,
                            _ => Severity::Error,
                        },
                        summary: d.summary,
                        detail: d.detail,
                        attribute: d.attribute.map(path).filter(|p| !p.0.is_empty()),
                    })
                    .collect()
            }

            fn block(b: pb::schema::Block) -> Result<schema::Block, SchemaError> {
                let attributes = b
                    .attributes
                    .into_iter()
                    .map(|a| {
                        Ok(schema::Attribute {
                            ty: a.attribute_type()?,
                            name: a.name,
                            required: a.required,
                            optional: a.optional,
                            computed: a.computed,
                            sensitive: a.sensitive,
                            description: a.description,
                        })
                    })
                    .collect::<Result<_, SchemaError>>()?;
                let blocks = b
                    .block_types
                    .into_iter()
                    .map(|n| {
                        Ok(schema::NestedBlock {
                            nesting: schema::nesting_from_proto(n.nesting).ok_or_else(|| {
                                format!("block {:?}: invalid nesting mode", n.type_name)
                            })?,
                            block: block(n.block.unwrap_or_default())?,
                            name: n.type_name,
                            min_items: n.min_items,
                            max_items: n.max_items,
                        })
                    })
                    .collect::<Result<_, SchemaError>>()?;
                Ok(schema::Block {
                    attributes,
                    blocks,
                    description: b.description,
                })
            }

            fn schema(s: Option<pb::Schema>) -> Result<schema::Schema, SchemaError> {
                let s = s.unwrap_or_default();
                Ok(schema::Schema {
                    version: s.version,
                    block: block(s.block.unwrap_or_default())?,
                })
            }

            fn parameter(p: pb::function::Parameter) -> Result<schema::Parameter, SchemaError> {
                Ok(schema::Parameter {
                    ty: parse_type(&p.name, &p.r#type)?,
                    name: p.name,
                    allow_null: p.allow_null_value,
                    allow_unknown: p.allow_unknown_values,
                })
            }

            fn function(name: &str, f: pb::Function) -> Result<schema::Function, SchemaError> {
                Ok(schema::Function {
                    parameters: f
                        .parameters
                        .into_iter()
                        .map(parameter)
                        .collect::<Result<_, _>>()?,
                    variadic: f.variadic_parameter.map(parameter).transpose()?,
                    return_type: parse_type(name, &f.r#return.unwrap_or_default().r#type)?,
                    summary: f.summary,
                })
            }

            impl Rpc {
                pub(crate) fn new(channel: Channel) -> Rpc {
                    Rpc(ProviderClient::new(channel)
                        .max_decoding_message_size(crate::provider::MAX_PROVIDER_MESSAGE)
                        .max_encoding_message_size(usize::MAX))
                }

                pub(crate) async fn get_schema(
                    &mut self,
                ) -> Result<(Result<ProviderSchema, SchemaError>, Vec<Diagnostic>), Status>
                {
                    let r = self
                        .0
                        .$get_schema(pb::get_provider_schema::Request {})
                        .await?
                        .into_inner();
                    let read = || -> Result<ProviderSchema, SchemaError> {
                        let schemas = |map: std::collections::HashMap<String, pb::Schema>| {
                            map.into_iter()
                                .map(|(name, s)| Ok((name, schema(Some(s))?)))
                                .collect::<Result<_, SchemaError>>()
                        };
                        Ok(ProviderSchema {
                            provider: schema(r.provider)?,
                            resources: schemas(r.resource_schemas)?,
                            data_sources: schemas(r.data_source_schemas)?,
                            functions: r
                                .functions
                                .into_iter()
                                .map(|(name, f)| Ok((name.clone(), function(&name, f)?)))
                                .collect::<Result<_, SchemaError>>()?,
                        })
                    };
                    let schema = read();
                    Ok((schema, diagnostics(r.diagnostics)))
                }

                pub(crate) async fn validate_provider_config(
                    &mut self,
                    config: &[u8],
                ) -> Result<Vec<Diagnostic>, Status> {
                    let request = pb::$validate_provider_msg::Request {
                        config: dynamic(config),
                    };
                    let r = self.0.$validate_provider(request).await?.into_inner();
                    Ok(diagnostics(r.diagnostics))
                }

                pub(crate) async fn configure(
                    &mut self,
                    terraform_version: &str,
                    config: &[u8],
                ) -> Result<Vec<Diagnostic>, Status> {
                    let request = pb::$configure_msg::Request {
                        terraform_version: terraform_version.to_string(),
                        config: dynamic(config),
                        client_capabilities: None,
                    };
                    let r = self.0.$configure(request).await?.into_inner();
                    Ok(diagnostics(r.diagnostics))
                }

                pub(crate) async fn validate_resource_config(
                    &mut self,
                    type_name: &str,
                    config: &[u8],
                ) -> Result<Vec<Diagnostic>, Status> {
                    let request = pb::$validate_resource_msg::Request {
                        type_name: type_name.to_string(),
                        config: dynamic(config),
                        client_capabilities: None,
                    };
                    let r = self.0.$validate_resource(request).await?.into_inner();
                    Ok(diagnostics(r.diagnostics))
                }

                pub(crate) async fn validate_data_source_config(
                    &mut self,
                    type_name: &str,
                    config: &[u8],
                ) -> Result<Vec<Diagnostic>, Status> {
                    let request = pb::$validate_data_msg::Request {
                        type_name: type_name.to_string(),
                        config: dynamic(config),
                    };
                    let r = self.0.$validate_data(request).await?.into_inner();
                    Ok(diagnostics(r.diagnostics))
                }

                pub(crate) async fn plan_resource_change(
                    &mut self,
                    type_name: &str,
                    prior_state: &[u8],
                    proposed_new_state: &[u8],
                    config: &[u8],
                    prior_private: &[u8],
                ) -> Result<(Planned, Vec<Diagnostic>), Status> {
                    let request = pb::plan_resource_change::Request {
                        type_name: type_name.to_string(),
                        prior_state: dynamic(prior_state),
                        proposed_new_state: dynamic(proposed_new_state),
                        config: dynamic(config),
                        prior_private: prior_private.to_vec(),
                        ..Default::default()
                    };
                    let r = self.0.plan_resource_change(request).await?.into_inner();
                    let planned = Planned {
                        state: encoded(r.planned_state),
                        requires_replace: r.requires_replace.into_iter().map(path).collect(),
                        private: r.planned_private,
                    };
                    Ok((planned, diagnostics(r.diagnostics)))
                }

                pub(crate) async fn apply_resource_change(
                    &mut self,
                    type_name: &str,
                    prior_state: &[u8],
                    planned_state: &[u8],
                    config: &[u8],
                    planned_private: &[u8],
                ) -> Result<((Encoded, Vec<u8>), Vec<Diagnostic>), Status> {
                    let request = pb::apply_resource_change::Request {
                        type_name: type_name.to_string(),
                        prior_state: dynamic(prior_state),
                        planned_state: dynamic(planned_state),
                        config: dynamic(config),
                        planned_private: planned_private.to_vec(),
                        ..Default::default()
                    };
                    let r = self.0.apply_resource_change(request).await?.into_inner();
                    Ok((
                        (encoded(r.new_state), r.private),
                        diagnostics(r.diagnostics),
                    ))
                }

                pub(crate) async fn read_resource(
                    &mut self,
                    type_name: &str,
                    current_state: &[u8],
                    private: &[u8],
                ) -> Result<((Encoded, Vec<u8>), Vec<Diagnostic>), Status> {
                    let request = pb::read_resource::Request {
                        type_name: type_name.to_string(),
                        current_state: dynamic(current_state),
                        private: private.to_vec(),
                        ..Default::default()
                    };
                    let r = self.0.read_resource(request).await?.into_inner();
                    Ok((
                        (encoded(r.new_state), r.private),
                        diagnostics(r.diagnostics),
                    ))
                }

                pub(crate) async fn read_data_source(
                    &mut self,
                    type_name: &str,
                    config: &[u8],
                ) -> Result<(Encoded, Vec<Diagnostic>), Status> {
                    let request = pb::read_data_source::Request {
                        type_name: type_name.to_string(),
                        config: dynamic(config),
                        ..Default::default()
                    };
                    let r = self.0.read_data_source(request).await?.into_inner();
                    Ok((encoded(r.state), diagnostics(r.diagnostics)))
                }

                pub(crate) async fn import_resource_state(
                    &mut self,
                    type_name: &str,
                    id: &str,
                ) -> Result<(Vec<Imported>, Vec<Diagnostic>), Status> {
                    let request = pb::import_resource_state::Request {
                        type_name: type_name.to_string(),
                        id: id.to_string(),
                        ..Default::default()
                    };
                    let r = self.0.import_resource_state(request).await?.into_inner();
                    let imported = r
                        .imported_resources
                        .into_iter()
                        .map(|i| Imported {
                            type_name: i.type_name,
                            state: encoded(i.state),
                            private: i.private,
                        })
                        .collect();
                    Ok((imported, diagnostics(r.diagnostics)))
                }

                pub(crate) async fn upgrade_resource_state(
                    &mut self,
                    type_name: &str,
                    version: i64,
                    json: &[u8],
                ) -> Result<(Encoded, Vec<Diagnostic>), Status> {
                    let request = pb::upgrade_resource_state::Request {
                        type_name: type_name.to_string(),
                        version,
                        raw_state: Some(pb::RawState {
                            json: json.to_vec(),
                            flatmap: Default::default(),
                        }),
                    };
                    let r = self.0.upgrade_resource_state(request).await?.into_inner();
                    Ok((encoded(r.upgraded_state), diagnostics(r.diagnostics)))
                }

                pub(crate) async fn call_function(
                    &mut self,
                    name: &str,
                    arguments: Vec<Vec<u8>>,
                ) -> Result<Result<Encoded, (String, Option<i64>)>, Status> {
                    let request = pb::call_function::Request {
                        name: name.to_string(),
                        arguments: arguments.iter().filter_map(|a| dynamic(a)).collect(),
                    };
                    let r = self.0.call_function(request).await?.into_inner();
                    Ok(match r.error {
                        Some(e) => Err((e.text, e.function_argument)),
                        None => Ok(encoded(r.result)),
                    })
                }

                pub(crate) async fn stop(&mut self) -> Result<String, Status> {
                    let r = self.0.$stop(pb::$stop_msg::Request {}).await?.into_inner();
                    Ok(r.error)
                }
            }
        }
    };
}

tfplugin_rpc!(
    v5, tfplugin5,
    get_schema: get_schema,
    validate_provider: prepare_provider_config / prepare_provider_config,
    validate_resource: validate_resource_type_config / validate_resource_type_config,
    validate_data_source: validate_data_source_config / validate_data_source_config,
    configure: configure / configure,
    stop: stop / stop,
);

tfplugin_rpc!(
    v6, tfplugin6,
    get_schema: get_provider_schema,
    validate_provider: validate_provider_config / validate_provider_config,
    validate_resource: validate_resource_config / validate_resource_config,
    validate_data_source: validate_data_resource_config / validate_data_resource_config,
    configure: configure_provider / configure_provider,
    stop: stop_provider / stop_provider,
);
