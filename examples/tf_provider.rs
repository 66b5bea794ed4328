//! A Terraform provider in Rust (protocol 6), served with this crate's plugin side: real
//! Terraform launches it like any Go provider.
//!
//! Provider `rustfile` (source address `registry.terraform.io/gopluginrs/rustfile`):
//!
//! - resource `rustfile_file`: writes `content` to the absolute `path`; computes `id` (the path)
//!   and `sha256` (of the content). Changing `path` replaces the resource; import by path.
//! - data source `rustfile_file`: reads the file at `path` (`content`, `sha256`, `id`).
//!
//! Run by Terraform (via `dev_overrides`), or with `-debug` to serve in test mode and print a
//! `TF_REATTACH_PROVIDERS` line (until Ctrl-C), as providers built with HashiCorp's SDKs do.

use std::collections::BTreeMap;

use go_plugin::plugin::{serve, serve_test, PluginSet, Reflected, ServeConfig};
use go_plugin_terraform::proto::tfplugin6 as pb;
use go_plugin_terraform::{
    self as terraform, json, msgpack, AttributePath, Diagnostic, Type, Value,
};
use pb::provider_server::{Provider, ProviderServer};
use tonic::{Request, Response, Status};

/// The address Terraform knows this provider by.
const ADDRESS: &str = "registry.terraform.io/gopluginrs/rustfile";

type Reply<T> = Result<Response<T>, Status>;

#[derive(Default)]
struct FileProvider;

/// (name, cty type, required, optional, computed)
const FILE_ATTRIBUTES: &[(&str, &str, bool, bool, bool)] = &[
    ("path", "string", true, false, false),
    ("content", "string", true, false, false),
    ("id", "string", false, false, true),
    ("sha256", "string", false, false, true),
];
const DATA_ATTRIBUTES: &[(&str, &str, bool, bool, bool)] = &[
    ("path", "string", true, false, false),
    ("content", "string", false, false, true),
    ("id", "string", false, false, true),
    ("sha256", "string", false, false, true),
];

fn schema(attributes: &[(&str, &str, bool, bool, bool)]) -> pb::Schema {
    let attributes = attributes
        .iter()
        .map(
            |&(name, ty, required, optional, computed)| pb::schema::Attribute {
                name: name.to_string(),
                r#type: format!("{ty:?}").into_bytes(),
                required,
                optional,
                computed,
                ..Default::default()
            },
        )
        .collect();
    pb::Schema {
        version: 0,
        block: Some(pb::schema::Block {
            attributes,
            ..Default::default()
        }),
    }
}

fn value_type(attributes: &[(&str, &str, bool, bool, bool)]) -> Type {
    Type::object(attributes.iter().map(|&(name, ..)| (name, Type::String)))
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn diagnostic(d: Diagnostic) -> pb::Diagnostic {
    let is_error = d.is_error();
    let attribute = d.attribute.map(|path| pb::AttributePath {
        steps: path
            .0
            .into_iter()
            .map(|step| {
                use pb::attribute_path::step::Selector;
                use terraform::Step;
                pb::attribute_path::Step {
                    selector: Some(match step {
                        Step::Attribute(name) => Selector::AttributeName(name),
                        Step::Key(key) => Selector::ElementKeyString(key),
                        Step::Index(i) => Selector::ElementKeyInt(i),
                    }),
                }
            })
            .collect(),
    });
    pb::Diagnostic {
        severity: if is_error {
            pb::diagnostic::Severity::Error
        } else {
            pb::diagnostic::Severity::Warning
        } as i32,
        summary: d.summary,
        detail: d.detail,
        attribute,
    }
}

fn decode(
    what: &str,
    value: Option<&pb::DynamicValue>,
    ty: &Type,
) -> Result<Value, pb::Diagnostic> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = terraform::decode_dynamic_value(&value.msgpack, &value.json, ty);
    decoded.map_err(|e| diagnostic(Diagnostic::invalid_value(what, &e)))
}

fn encode(value: &Value, ty: &Type) -> Result<Option<pb::DynamicValue>, Status> {
    let msgpack = msgpack::encode(value, ty).map_err(|e| Status::internal(e.to_string()))?;
    Ok(Some(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    }))
}

/// The configuration checks Terraform cannot do from the schema alone.
fn validate_path(config: &Value) -> Vec<pb::Diagnostic> {
    match config.get("path").and_then(Value::as_str) {
        Some(path) if !path.starts_with('/') => vec![diagnostic(
            Diagnostic::error(
                "Path must be absolute",
                format!("{path:?} is relative; give the full path of the file to manage."),
            )
            .at(AttributePath::default().attribute("path")),
        )],
        _ => Vec::new(),
    }
}

/// The state of the file at `path` as it is on disk, or `None` if it does not exist.
fn file_state(path: &str) -> std::io::Result<Option<Value>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(Value::object([
            ("path", Value::string(path)),
            ("content", Value::string(String::from_utf8_lossy(&bytes))),
            ("id", Value::string(path)),
            ("sha256", Value::string(sha256_hex(&bytes))),
        ]))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn io_error(action: &str, path: &str, e: std::io::Error) -> pb::Diagnostic {
    diagnostic(Diagnostic::error(
        format!("Could not {action} {path}"),
        e.to_string(),
    ))
}

#[tonic::async_trait]
impl Provider for FileProvider {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Reply<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            resources: vec![pb::get_metadata::ResourceMetadata {
                type_name: "rustfile_file".into(),
            }],
            data_sources: vec![pb::get_metadata::DataSourceMetadata {
                type_name: "rustfile_file".into(),
            }],
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Reply<pb::get_provider_schema::Response> {
        tracing::debug!("schema requested");
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema(&[])),
            resource_schemas: [("rustfile_file".to_string(), schema(FILE_ATTRIBUTES))].into(),
            data_source_schemas: [("rustfile_file".to_string(), schema(DATA_ATTRIBUTES))].into(),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        _: Request<pb::validate_provider_config::Request>,
    ) -> Reply<pb::validate_provider_config::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Reply<pb::configure_provider::Response> {
        let version = &request.get_ref().terraform_version;
        tracing::info!(terraform_version = %version, "provider configured");
        Ok(Response::new(Default::default()))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Reply<pb::validate_resource_config::Response> {
        let r = request.into_inner();
        let diagnostics = match decode(
            "configuration",
            r.config.as_ref(),
            &value_type(FILE_ATTRIBUTES),
        ) {
            Ok(config) => validate_path(&config),
            Err(d) => vec![d],
        };
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Reply<pb::validate_data_resource_config::Response> {
        let r = request.into_inner();
        let diagnostics = match decode(
            "configuration",
            r.config.as_ref(),
            &value_type(DATA_ATTRIBUTES),
        ) {
            Ok(config) => validate_path(&config),
            Err(d) => vec![d],
        };
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics,
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Reply<pb::upgrade_resource_state::Response> {
        let r = request.into_inner();
        let ty = value_type(FILE_ATTRIBUTES);
        let raw = r.raw_state.unwrap_or_default();
        let mut response = pb::upgrade_resource_state::Response::default();
        match json::from_json_bytes(&raw.json, &ty) {
            Ok(state) => response.upgraded_state = encode(&state, &ty)?,
            Err(e) => response
                .diagnostics
                .push(diagnostic(Diagnostic::invalid_value("stored state", &e))),
        }
        Ok(Response::new(response))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Reply<pb::plan_resource_change::Response> {
        let r = request.into_inner();
        let ty = value_type(FILE_ATTRIBUTES);
        let mut response = pb::plan_resource_change::Response::default();
        let values = (
            decode("prior state", r.prior_state.as_ref(), &ty),
            decode("proposed state", r.proposed_new_state.as_ref(), &ty),
        );
        let (prior, proposed) = match values {
            (Ok(prior), Ok(proposed)) => (prior, proposed),
            (Err(d), _) | (_, Err(d)) => {
                response.diagnostics.push(d);
                return Ok(Response::new(response));
            }
        };
        let mut planned = proposed.clone();
        if !proposed.is_null() {
            let path = proposed.get("path").cloned().unwrap_or(Value::Null);
            let content = proposed.get("content").cloned().unwrap_or(Value::Null);
            planned.set_attribute(
                "id",
                if path.is_unknown() {
                    Value::UNKNOWN
                } else {
                    path.clone()
                },
            );
            let sha256 = match content.as_str() {
                Some(text) => Value::string(sha256_hex(text.as_bytes())),
                None => Value::UNKNOWN,
            };
            planned.set_attribute("sha256", sha256);
            if !prior.is_null() && prior.get("path") != Some(&path) {
                response.requires_replace.push(pb::AttributePath {
                    steps: vec![pb::attribute_path::Step {
                        selector: Some(pb::attribute_path::step::Selector::AttributeName(
                            "path".into(),
                        )),
                    }],
                });
            }
            let path = path.as_str().unwrap_or("(known after apply)");
            tracing::debug!(path, known = planned.is_wholly_known(), "planned file");
        }
        response.planned_state = encode(&planned, &ty)?;
        response.planned_private = r.prior_private;
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Reply<pb::apply_resource_change::Response> {
        let r = request.into_inner();
        let ty = value_type(FILE_ATTRIBUTES);
        let mut response = pb::apply_resource_change::Response::default();
        let values = (
            decode("prior state", r.prior_state.as_ref(), &ty),
            decode("planned state", r.planned_state.as_ref(), &ty),
        );
        let (prior, planned) = match values {
            (Ok(prior), Ok(planned)) => (prior, planned),
            (Err(d), _) | (_, Err(d)) => {
                response.diagnostics.push(d);
                return Ok(Response::new(response));
            }
        };
        if planned.is_null() {
            let path = prior
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match std::fs::remove_file(path) {
                Ok(()) => tracing::info!(path, "deleted file"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(path, "file was already gone")
                }
                Err(e) => response.diagnostics.push(io_error("delete", path, e)),
            }
            response.new_state = encode(&Value::Null, &ty)?;
            return Ok(Response::new(response));
        }
        let path = planned
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let content = planned
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match std::fs::write(path, content) {
            Ok(()) => {
                tracing::info!(path, bytes = content.len(), "wrote file");
                let mut state = planned.clone();
                state.set_attribute("id", Value::string(path));
                state.set_attribute("sha256", Value::string(sha256_hex(content.as_bytes())));
                response.new_state = encode(&state, &ty)?;
            }
            Err(e) => {
                response.diagnostics.push(io_error("write", path, e));
                response.new_state = encode(&prior, &ty)?;
            }
        }
        Ok(Response::new(response))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Reply<pb::read_resource::Response> {
        let r = request.into_inner();
        let ty = value_type(FILE_ATTRIBUTES);
        let mut response = pb::read_resource::Response {
            private: r.private,
            ..Default::default()
        };
        let current = match decode("current state", r.current_state.as_ref(), &ty) {
            Ok(current) => current,
            Err(d) => {
                response.diagnostics.push(d);
                return Ok(Response::new(response));
            }
        };
        let path = current
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let state = match file_state(path) {
            Ok(Some(state)) => state,
            Ok(None) => {
                tracing::warn!(path, "file is gone; removing it from state");
                Value::Null
            }
            Err(e) => {
                response.diagnostics.push(io_error("read", path, e));
                current
            }
        };
        response.new_state = encode(&state, &ty)?;
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Reply<pb::import_resource_state::Response> {
        let r = request.into_inner();
        let ty = value_type(FILE_ATTRIBUTES);
        let mut response = pb::import_resource_state::Response::default();
        match file_state(&r.id) {
            Ok(Some(state)) => {
                response
                    .imported_resources
                    .push(pb::import_resource_state::ImportedResource {
                        type_name: r.type_name,
                        state: encode(&state, &ty)?,
                        ..Default::default()
                    })
            }
            Ok(None) => response.diagnostics.push(diagnostic(Diagnostic::error(
                "Cannot import a missing file",
                format!(
                    "no file at {:?}; the import id is the file's absolute path",
                    r.id
                ),
            ))),
            Err(e) => response.diagnostics.push(io_error("read", &r.id, e)),
        }
        Ok(Response::new(response))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Reply<pb::read_data_source::Response> {
        let r = request.into_inner();
        let ty = value_type(DATA_ATTRIBUTES);
        let mut response = pb::read_data_source::Response::default();
        let config = match decode("configuration", r.config.as_ref(), &ty) {
            Ok(config) => config,
            Err(d) => {
                response.diagnostics.push(d);
                return Ok(Response::new(response));
            }
        };
        let path = config
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match file_state(path) {
            Ok(Some(state)) => response.state = encode(&state, &ty)?,
            Ok(None) => response.diagnostics.push(diagnostic(Diagnostic::error(
                "File not found",
                format!("no file at {path:?}"),
            ))),
            Err(e) => response.diagnostics.push(io_error("read", path, e)),
        }
        Ok(Response::new(response))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Reply<pb::stop_provider::Response> {
        Ok(Response::new(Default::default()))
    }
}

fn config() -> ServeConfig {
    let provider = |_: &_, routes: &mut tonic::service::RoutesBuilder| {
        routes.add_service(ProviderServer::new(FileProvider));
        Ok(())
    };
    let plugins = PluginSet::new().plugin(
        terraform::PLUGIN_NAME,
        Reflected::new(provider, pb::FILE_DESCRIPTOR_SET),
    );
    ServeConfig::new(terraform::handshake()).version(6, plugins)
}

/// `-debug`: serve in test mode and print how to attach Terraform, like SDK-built providers.
async fn serve_debug() -> Result<(), go_plugin::Error> {
    let server = serve_test(config()).await?;
    let providers: BTreeMap<&str, _> = [(ADDRESS, server.reattach.to_json())].into();
    let line = serde_json::to_string(&providers).expect("JSON of a map");
    println!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment \
         variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{line}'\n"
    );
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    if std::env::args()
        .skip(1)
        .any(|a| a == "-debug" || a == "--debug")
    {
        return serve_debug().await;
    }
    serve(config()).await
}
