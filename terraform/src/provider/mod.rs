//! A host-side client for a running Terraform provider, in values rather than bytes.
//!
//! [`Provider::connect`] takes the gRPC channel of a provider launched (or reattached) with
//! [`go_plugin::host`] and the negotiated protocol version (5 or 6), and reads the provider's schema
//! once. Every later call names a resource type, data source or function; the client encodes
//! [`Value`]s with that schema's type, and decodes the answers the same way. Error diagnostics
//! fail the call ([`ProviderError::Diagnostics`]); warnings are kept for
//! [`Provider::take_warnings`].
//!
//! The order Terraform calls a provider in (and a host should too): schema → validate provider
//! config → configure → validate resource config → plan → apply → read; destroying is a plan and
//! an apply whose proposed/planned state is null.

mod rpc;

use tonic::transport::Channel;

use super::diagnostic::Diagnostic;
use super::path::{AttributePath, ValueError};
use super::schema::{Function, ProviderSchema, Schema};
use super::value::Value;
use super::{msgpack, Type};
use rpc::Encoded;

/// The largest message the host accepts from a provider: 256 MiB, as Terraform's own client
/// (`maxRecvSize`). A provider cannot make the host buffer more for one answer.
pub const MAX_PROVIDER_MESSAGE: usize = 256 << 20;

/// What went wrong talking to a provider.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The gRPC call failed.
    #[error("provider call {call} failed: {status}")]
    Rpc {
        /// The call.
        call: &'static str,
        /// What gRPC reported.
        status: tonic::Status,
    },
    /// The provider answered with error diagnostics.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Diagnostics(Vec<Diagnostic>),
    /// A value did not fit the schema.
    #[error("{what}: {error}")]
    Value {
        /// Which value.
        what: String,
        /// Where and why.
        error: ValueError,
    },
    /// The provider has no such resource type, data source or function.
    #[error("the provider has no {kind} {name:?}; it has: {known}")]
    Unknown {
        /// "resource type", "data source" or "function".
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The names it does have.
        known: String,
    },
    /// The provider's schema could not be read.
    #[error("the provider's schema is invalid: {0}")]
    Schema(String),
    /// A function returned an error.
    #[error("function {name} failed: {text}")]
    Function {
        /// Function name.
        name: String,
        /// The provider's message.
        text: String,
    },
    /// The negotiated protocol version is not a Terraform one.
    #[error("protocol version {0} is not a Terraform provider protocol (expected 5 or 6)")]
    Version(u32),
}

enum Rpc {
    V5(rpc::v5::Rpc),
    V6(rpc::v6::Rpc),
}

/// Calls the same method on whichever protocol version is in use.
macro_rules! call {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &mut $self.rpc {
            Rpc::V5(r) => r.$method($($arg),*).await,
            Rpc::V6(r) => r.$method($($arg),*).await,
        }
        .map_err(|status| ProviderError::Rpc { call: stringify!($method), status })
    };
}

/// The result of planning a resource change.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The state the provider expects after apply (unknown where it cannot tell yet).
    pub planned_state: Value,
    /// Attributes whose change forces the resource to be replaced.
    pub requires_replace: Vec<AttributePath>,
    /// Provider-private data to hand back to apply.
    pub planned_private: Vec<u8>,
}

/// A resource's state with its provider-private data.
#[derive(Debug, Clone)]
pub struct State {
    /// The resource's attributes (null once destroyed or gone).
    pub value: Value,
    /// Provider-private data to hand back on the next call.
    pub private: Vec<u8>,
}

/// A resource found by import.
#[derive(Debug, Clone)]
pub struct ImportedResource {
    /// Its resource type.
    pub type_name: String,
    /// Its state.
    pub state: State,
}

/// A connected Terraform provider.
pub struct Provider {
    rpc: Rpc,
    version: u32,
    schema: ProviderSchema,
    warnings: Vec<Diagnostic>,
}

impl Provider {
    /// Connects over `channel` with protocol `version` (5 or 6) and reads the schema.
    pub async fn connect(version: u32, channel: Channel) -> Result<Provider, ProviderError> {
        let rpc = match version {
            5 => Rpc::V5(rpc::v5::Rpc::new(channel)),
            6 => Rpc::V6(rpc::v6::Rpc::new(channel)),
            other => return Err(ProviderError::Version(other)),
        };
        let mut provider = Provider {
            rpc,
            version,
            schema: ProviderSchema::default(),
            warnings: Vec::new(),
        };
        let (schema, diagnostics) = call!(provider.get_schema())?;
        provider.check(diagnostics)?;
        provider.schema = schema.map_err(ProviderError::Schema)?;
        Ok(provider)
    }

    /// The protocol version in use (5 or 6).
    pub fn protocol_version(&self) -> u32 {
        self.version
    }

    /// The provider's schema.
    pub fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    /// Warnings the provider returned since the last call of this method.
    pub fn take_warnings(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.warnings)
    }

    /// The schema of a managed resource type.
    pub fn resource_schema(&self, type_name: &str) -> Result<&Schema, ProviderError> {
        self.schema
            .resources
            .get(type_name)
            .ok_or_else(|| unknown("resource type", type_name, self.schema.resources.keys()))
    }

    /// The schema of a data source.
    pub fn data_source_schema(&self, type_name: &str) -> Result<&Schema, ProviderError> {
        self.schema
            .data_sources
            .get(type_name)
            .ok_or_else(|| unknown("data source", type_name, self.schema.data_sources.keys()))
    }

    /// A provider-defined function.
    pub fn function(&self, name: &str) -> Result<&Function, ProviderError> {
        self.schema
            .functions
            .get(name)
            .ok_or_else(|| unknown("function", name, self.schema.functions.keys()))
    }

    /// Validates the provider configuration (`PrepareProviderConfig` / `ValidateProviderConfig`).
    pub async fn validate_provider_config(&mut self, config: &Value) -> Result<(), ProviderError> {
        let config = encode(
            "provider configuration",
            config,
            &self.schema.provider.value_type(),
        )?;
        let diagnostics = call!(self.validate_provider_config(&config))?;
        self.check(diagnostics)
    }

    /// Configures the provider (`Configure` / `ConfigureProvider`).
    pub async fn configure(
        &mut self,
        terraform_version: &str,
        config: &Value,
    ) -> Result<(), ProviderError> {
        let config = encode(
            "provider configuration",
            config,
            &self.schema.provider.value_type(),
        )?;
        let diagnostics = call!(self.configure(terraform_version, &config))?;
        self.check(diagnostics)
    }

    /// Validates a resource configuration.
    pub async fn validate_resource_config(
        &mut self,
        type_name: &str,
        config: &Value,
    ) -> Result<(), ProviderError> {
        let ty = self.resource_schema(type_name)?.value_type();
        let config = encode("configuration", config, &ty)?;
        let diagnostics = call!(self.validate_resource_config(type_name, &config))?;
        self.check(diagnostics)
    }

    /// Validates a data source configuration.
    pub async fn validate_data_source_config(
        &mut self,
        type_name: &str,
        config: &Value,
    ) -> Result<(), ProviderError> {
        let ty = self.data_source_schema(type_name)?.value_type();
        let config = encode("configuration", config, &ty)?;
        let diagnostics = call!(self.validate_data_source_config(type_name, &config))?;
        self.check(diagnostics)
    }

    /// Plans a change from `prior` (null to create) towards `proposed` (null to destroy).
    pub async fn plan_resource_change(
        &mut self,
        type_name: &str,
        prior: &State,
        proposed: &Value,
        config: &Value,
    ) -> Result<Plan, ProviderError> {
        let ty = self.resource_schema(type_name)?.value_type();
        let prior_bytes = encode("prior state", &prior.value, &ty)?;
        let proposed = encode("proposed state", proposed, &ty)?;
        let config = encode("configuration", config, &ty)?;
        let (planned, diagnostics) = call!(self.plan_resource_change(
            type_name,
            &prior_bytes,
            &proposed,
            &config,
            &prior.private
        ))?;
        self.check(diagnostics)?;
        Ok(Plan {
            planned_state: decode("planned state", &planned.state, &ty)?,
            requires_replace: planned.requires_replace,
            planned_private: planned.private,
        })
    }

    /// Applies a planned change; returns the new state (null after a destroy).
    pub async fn apply_resource_change(
        &mut self,
        type_name: &str,
        prior: &State,
        plan: &Plan,
        config: &Value,
    ) -> Result<State, ProviderError> {
        let ty = self.resource_schema(type_name)?.value_type();
        let prior_bytes = encode("prior state", &prior.value, &ty)?;
        let planned = encode("planned state", &plan.planned_state, &ty)?;
        let config = encode("configuration", config, &ty)?;
        let ((state, private), diagnostics) = call!(self.apply_resource_change(
            type_name,
            &prior_bytes,
            &planned,
            &config,
            &plan.planned_private
        ))?;
        self.check(diagnostics)?;
        Ok(State {
            value: decode("new state", &state, &ty)?,
            private,
        })
    }

    /// Refreshes a resource's state; null means the resource is gone.
    pub async fn read_resource(
        &mut self,
        type_name: &str,
        current: &State,
    ) -> Result<State, ProviderError> {
        let ty = self.resource_schema(type_name)?.value_type();
        let current_bytes = encode("current state", &current.value, &ty)?;
        let ((state, private), diagnostics) =
            call!(self.read_resource(type_name, &current_bytes, &current.private))?;
        self.check(diagnostics)?;
        Ok(State {
            value: decode("read state", &state, &ty)?,
            private,
        })
    }

    /// Reads a data source.
    pub async fn read_data_source(
        &mut self,
        type_name: &str,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        let ty = self.data_source_schema(type_name)?.value_type();
        let config = encode("configuration", config, &ty)?;
        let (state, diagnostics) = call!(self.read_data_source(type_name, &config))?;
        self.check(diagnostics)?;
        decode("data source state", &state, &ty)
    }

    /// Imports an existing object by its id.
    pub async fn import_resource_state(
        &mut self,
        type_name: &str,
        id: &str,
    ) -> Result<Vec<ImportedResource>, ProviderError> {
        self.resource_schema(type_name)?;
        let (imported, diagnostics) = call!(self.import_resource_state(type_name, id))?;
        self.check(diagnostics)?;
        imported
            .into_iter()
            .map(|i| {
                let ty = self.resource_schema(&i.type_name)?.value_type();
                Ok(ImportedResource {
                    state: State {
                        value: decode("imported state", &i.state, &ty)?,
                        private: i.private,
                    },
                    type_name: i.type_name,
                })
            })
            .collect()
    }

    /// Upgrades stored JSON state written with schema `version` to the current schema.
    pub async fn upgrade_resource_state(
        &mut self,
        type_name: &str,
        version: i64,
        state_json: &[u8],
    ) -> Result<Value, ProviderError> {
        let ty = self.resource_schema(type_name)?.value_type();
        let (state, diagnostics) =
            call!(self.upgrade_resource_state(type_name, version, state_json))?;
        self.check(diagnostics)?;
        decode("upgraded state", &state, &ty)
    }

    /// Calls a provider-defined function.
    pub async fn call_function(
        &mut self,
        name: &str,
        arguments: &[Value],
    ) -> Result<Value, ProviderError> {
        let function = self.function(name)?.clone();
        let encoded = arguments
            .iter()
            .enumerate()
            .map(|(i, argument)| {
                let parameter = function
                    .parameter(i)
                    .ok_or_else(|| ProviderError::Function {
                        name: name.to_string(),
                        text: format!(
                            "takes {} arguments, {} given",
                            function.parameters.len(),
                            arguments.len()
                        ),
                    })?;
                encode(
                    &format!("argument {}", parameter.name),
                    argument,
                    &parameter.ty,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        match call!(self.call_function(name, encoded))? {
            Ok(result) => decode("function result", &result, &function.return_type),
            Err((text, argument)) => Err(ProviderError::Function {
                name: name.to_string(),
                text: match argument {
                    Some(i) => format!("argument {i}: {text}"),
                    None => text,
                },
            }),
        }
    }

    /// Asks the provider to stop what it is doing (`Stop` / `StopProvider`).
    pub async fn stop(&mut self) -> Result<(), ProviderError> {
        let error = call!(self.stop())?;
        if error.is_empty() {
            Ok(())
        } else {
            Err(ProviderError::Diagnostics(vec![Diagnostic::error(
                "Stop failed",
                error,
            )]))
        }
    }

    /// Keeps warnings; turns error diagnostics into an error.
    fn check(&mut self, diagnostics: Vec<Diagnostic>) -> Result<(), ProviderError> {
        let (errors, warnings): (Vec<_>, Vec<_>) =
            diagnostics.into_iter().partition(Diagnostic::is_error);
        self.warnings.extend(warnings);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ProviderError::Diagnostics(errors))
        }
    }
}

fn unknown<'a>(
    kind: &'static str,
    name: &str,
    known: impl Iterator<Item = &'a String>,
) -> ProviderError {
    ProviderError::Unknown {
        kind,
        name: name.to_string(),
        known: known.map(String::as_str).collect::<Vec<_>>().join(", "),
    }
}

fn encode(what: &str, value: &Value, ty: &Type) -> Result<Vec<u8>, ProviderError> {
    msgpack::encode(value, ty).map_err(|error| ProviderError::Value {
        what: what.to_string(),
        error,
    })
}

fn decode(what: &str, value: &Encoded, ty: &Type) -> Result<Value, ProviderError> {
    super::decode_dynamic_value(&value.msgpack, &value.json, ty).map_err(|error| {
        ProviderError::Value {
            what: what.to_string(),
            error,
        }
    })
}
