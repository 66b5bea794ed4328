//! A tiny Terraform: launches a real provider binary (tfplugin5 or tfplugin6, AutoMTLS on as
//! Terraform does) and drives one resource, data source or function through the calls Terraform
//! makes.
//!
//! ```text
//! tf_host schema   <provider>                                 readable schema
//! tf_host apply    <provider> <resource-type> '<json-config>' validate, configure, plan, apply, read
//! tf_host destroy  <provider> <resource-type> '<json-state>'  plan and apply a destroy
//! tf_host import   <provider> <resource-type> <id>            import, then read
//! tf_host data     <provider> <data-source> '<json-config>'   validate and read a data source
//! tf_host call     <provider> <function> '<json-args-array>'  call a provider-defined function
//! ```
//!
//! `<provider>` is the provider's executable, or `--reattach '<TF_REATTACH_PROVIDERS json>'` to
//! use a provider started with `-debug`. Options before the command: `--no-mtls` (plain gRPC),
//! `--provider-config '<json>'` (the provider's own configuration). Results (states, function
//! results) are printed on stdout as JSON; progress and the provider's logs go to stderr.

use std::process::ExitCode;

use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::reattach::parse_tf_reattach_providers;
use go_plugin_terraform::provider::{Plan, State};
use go_plugin_terraform::schema::{Block, ProviderSchema};
use go_plugin_terraform::{self as terraform, json, Provider, Type, Value};
use serde_json::Value as Json;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The Terraform version reported to providers in `ConfigureProvider`.
const TERRAFORM_VERSION: &str = "1.15.5";

const USAGE: &str = "usage: tf_host [--no-mtls] [--provider-config JSON] <command> <provider> ...
  schema   <provider>
  apply    <provider> <resource-type> <json-config>
  destroy  <provider> <resource-type> <json-state>
  import   <provider> <resource-type> <id>
  data     <provider> <data-source> <json-config>
  call     <provider> <function> <json-args-array>
<provider> is a provider executable or --reattach '<TF_REATTACH_PROVIDERS json>'";

struct Options {
    auto_mtls: bool,
    provider_config: Json,
    command: String,
    provider: ProviderSource,
    rest: Vec<String>,
}

enum ProviderSource {
    Binary(String),
    Reattach(String),
}

fn parse_args(mut args: Vec<String>) -> Result<Options> {
    let mut auto_mtls = true;
    let mut provider_config = Json::Object(Default::default());
    loop {
        match args.first().map(String::as_str) {
            Some("--no-mtls") => {
                auto_mtls = false;
                args.remove(0);
            }
            Some("--provider-config") if args.len() > 1 => {
                provider_config = serde_json::from_str(&args[1])
                    .map_err(|e| format!("--provider-config is not JSON: {e}"))?;
                args.drain(..2);
            }
            _ => break,
        }
    }
    if args.len() < 2 {
        return Err(USAGE.into());
    }
    let command = args.remove(0);
    let provider = if args[0] == "--reattach" && args.len() > 1 {
        ProviderSource::Reattach(args.drain(..2).nth(1).unwrap_or_default())
    } else {
        ProviderSource::Binary(args.remove(0))
    };
    Ok(Options {
        auto_mtls,
        provider_config,
        command,
        provider,
        rest: args,
    })
}

/// Launches (or attaches to) the provider and reads its schema.
async fn connect(options: &Options) -> Result<(Host, Provider)> {
    let config = HostConfig::new(terraform::handshake())
        .version(5, ClientSet::new())
        .version(6, ClientSet::new())
        .auto_mtls(options.auto_mtls);
    let config = match &options.provider {
        ProviderSource::Binary(path) => config.command(std::process::Command::new(path)),
        ProviderSource::Reattach(text) => {
            let providers = parse_tf_reattach_providers(text)?;
            let (address, reattach) = providers
                .into_iter()
                .next()
                .ok_or("TF_REATTACH_PROVIDERS names no provider")?;
            eprintln!("attaching to {address}");
            config.reattach(reattach)
        }
    };
    let host = Host::new(config);
    let connection = match host.connection().await {
        Ok(connection) => connection,
        Err(e) => {
            host.kill().await;
            let what = match &options.provider {
                ProviderSource::Binary(path) => format!("{path} is not a Terraform provider"),
                ProviderSource::Reattach(_) => "could not attach to the provider".to_string(),
            };
            return Err(format!("{what}: {e}").into());
        }
    };
    let version = host.negotiated_version();
    let tls = match host.handshake() {
        Some(line) if line.server_cert.is_some() => "AutoMTLS on",
        Some(_) => "no TLS",
        None => "reattached",
    };
    eprintln!("connected: protocol {version}, {tls}");
    match Provider::connect(version, connection.channel()).await {
        Ok(provider) => Ok((host, provider)),
        Err(e) => {
            host.kill().await;
            Err(e.into())
        }
    }
}

async fn configure(provider: &mut Provider, config: &Json) -> Result<()> {
    let ty = provider.schema().provider.value_type();
    let config = json::from_json(config, &ty).map_err(|e| format!("provider config: {e}"))?;
    provider.validate_provider_config(&config).await?;
    provider.configure(TERRAFORM_VERSION, &config).await?;
    Ok(())
}

/// Terraform core's "proposed new state": configuration, with computed attributes the
/// configuration leaves null taken from the prior state (null when creating).
fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    let mut proposed = config.clone();
    for attribute in block.attributes.iter().filter(|a| a.computed) {
        if config.get(&attribute.name).is_none_or(Value::is_null) {
            let prior_value = prior.get(&attribute.name).cloned().unwrap_or(Value::Null);
            proposed.set_attribute(&attribute.name, prior_value);
        }
    }
    proposed
}

async fn apply(provider: &mut Provider, type_name: &str, config_json: &str) -> Result<Json> {
    let schema = provider.resource_schema(type_name)?.clone();
    let config = json::from_json_bytes(config_json.as_bytes(), &schema.value_type())
        .map_err(|e| format!("configuration of {type_name}: {e}"))?;
    provider
        .validate_resource_config(type_name, &config)
        .await?;
    let none = State {
        value: Value::Null,
        private: Vec::new(),
    };
    let proposed = proposed_new(&schema.block, &Value::Null, &config);
    let plan = provider
        .plan_resource_change(type_name, &none, &proposed, &config)
        .await?;
    eprintln!("plan: create {type_name} {}", display(&plan.planned_state));
    let created = provider
        .apply_resource_change(type_name, &none, &plan, &config)
        .await?;
    let read = provider.read_resource(type_name, &created).await?;
    Ok(json::to_json(&read.value)?)
}

async fn destroy(provider: &mut Provider, type_name: &str, state_json: &str) -> Result<Json> {
    let ty = provider.resource_schema(type_name)?.value_type();
    let prior = State {
        value: json::from_json_bytes(state_json.as_bytes(), &ty)
            .map_err(|e| format!("state of {type_name}: {e}"))?,
        private: Vec::new(),
    };
    let plan: Plan = provider
        .plan_resource_change(type_name, &prior, &Value::Null, &Value::Null)
        .await?;
    if !plan.planned_state.is_null() {
        return Err(format!(
            "the provider planned {} for a destroy",
            display(&plan.planned_state)
        )
        .into());
    }
    eprintln!("plan: destroy {type_name}");
    let after = provider
        .apply_resource_change(type_name, &prior, &plan, &Value::Null)
        .await?;
    Ok(json::to_json(&after.value)?)
}

async fn import(provider: &mut Provider, type_name: &str, id: &str) -> Result<Json> {
    let mut states = Vec::new();
    for imported in provider.import_resource_state(type_name, id).await? {
        let read = provider
            .read_resource(&imported.type_name, &imported.state)
            .await?;
        states.push(json::to_json(&read.value)?);
    }
    Ok(Json::Array(states))
}

async fn data(provider: &mut Provider, type_name: &str, config_json: &str) -> Result<Json> {
    let ty = provider.data_source_schema(type_name)?.value_type();
    let config = json::from_json_bytes(config_json.as_bytes(), &ty)
        .map_err(|e| format!("configuration of data source {type_name}: {e}"))?;
    provider
        .validate_data_source_config(type_name, &config)
        .await?;
    Ok(json::to_json(
        &provider.read_data_source(type_name, &config).await?,
    )?)
}

async fn call(provider: &mut Provider, name: &str, args_json: &str) -> Result<Json> {
    let function = provider.function(name)?.clone();
    let Json::Array(args) = serde_json::from_str(args_json)? else {
        return Err("function arguments are a JSON array".into());
    };
    let mut values = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let ty = function
            .parameter(i)
            .map_or(Type::Dynamic, |p| p.ty.clone());
        values.push(json::from_json(arg, &ty).map_err(|e| format!("argument {i}: {e}"))?);
    }
    Ok(json::to_json(
        &provider.call_function(name, &values).await?,
    )?)
}

/// A value as JSON for reading, with unknowns shown as Terraform shows them.
fn display(value: &Value) -> Json {
    match value {
        Value::Unknown { .. } => Json::from("(known after apply)"),
        Value::Object(m) | Value::Map(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), display(v))).collect())
        }
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            Json::Array(items.iter().map(display).collect())
        }
        Value::Dynamic(_, inner) => display(inner),
        known => json::to_json(known).unwrap_or(Json::Null),
    }
}

fn print_block(block: &Block, indent: usize) {
    let pad = " ".repeat(indent);
    for a in &block.attributes {
        let mut flags = Vec::new();
        for (on, flag) in [
            (a.required, "required"),
            (a.optional, "optional"),
            (a.computed, "computed"),
            (a.sensitive, "sensitive"),
        ] {
            if on {
                flags.push(flag);
            }
        }
        println!("{pad}{} {} ({})", a.name, a.ty, flags.join(", "));
    }
    for b in &block.blocks {
        println!("{pad}block {} ({:?}):", b.name, b.nesting);
        print_block(&b.block, indent + 2);
    }
}

fn print_schema(version: u32, schema: &ProviderSchema) {
    println!("protocol {version}");
    println!("provider:");
    print_block(&schema.provider.block, 2);
    for (name, s) in &schema.resources {
        println!("resource {name} (schema version {}):", s.version);
        print_block(&s.block, 2);
    }
    for (name, s) in &schema.data_sources {
        println!("data source {name}:");
        print_block(&s.block, 2);
    }
    for (name, f) in &schema.functions {
        let params: Vec<String> = f
            .parameters
            .iter()
            .map(|p| format!("{} {}", p.name, p.ty))
            .chain(f.variadic.iter().map(|p| format!("{}... {}", p.name, p.ty)))
            .collect();
        println!("function {name}({}) {}", params.join(", "), f.return_type);
    }
}

async fn run(options: &Options, provider: &mut Provider) -> Result<()> {
    let rest: Vec<&str> = options.rest.iter().map(String::as_str).collect();
    if options.command == "schema" {
        print_schema(provider.protocol_version(), provider.schema());
        return Ok(());
    }
    configure(provider, &options.provider_config).await?;
    let result = match (options.command.as_str(), rest.as_slice()) {
        ("apply", [type_name, config]) => apply(provider, type_name, config).await?,
        ("destroy", [type_name, state]) => destroy(provider, type_name, state).await?,
        ("import", [type_name, id]) => import(provider, type_name, id).await?,
        ("data", [type_name, config]) => data(provider, type_name, config).await?,
        ("call", [name, args]) => call(provider, name, args).await?,
        _ => return Err(USAGE.into()),
    };
    for warning in provider.take_warnings() {
        eprintln!("{warning}");
    }
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    go_plugin::log::init_host().ok();
    let options = match parse_args(std::env::args().skip(1).collect()) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = match connect(&options).await {
        Ok((host, mut provider)) => {
            let result = run(&options, &mut provider).await;
            host.kill().await;
            result
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
