//! The ruleset side: rules, the set of them, and the `RuleSet` gRPC service TFLint calls.

use std::sync::{Arc, Mutex};

use go_plugin::broker::GrpcBroker;
use go_plugin::plugin::{serve as serve_plugin, PluginSet, ServeConfig};
use go_plugin::tonic::{async_trait, Request, Response, Status};

use crate::enablement::enabled_rules;
use crate::proto::rule_set_server::{RuleSet as RuleSetService, RuleSetServer};
use crate::proto::{
    apply_config, apply_global_config, check, get_config_schema, get_name, get_rule_names,
    get_sdk_version, get_version, get_version_constraint, BodySchema,
};
use crate::runner::Runner;

/// How TFLint reports a rule's issues (its exit code follows the most severe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// `error`
    Error = 1,
    /// `warning`
    Warning = 2,
    /// `notice`
    Notice = 3,
}

/// One rule of a ruleset.
#[async_trait]
pub trait Rule: Send + Sync + 'static {
    /// Its name (`<ruleset>_<what>` by convention), as `.tflint.hcl`'s `rule "<name>"` names it.
    fn name(&self) -> &str;

    /// On unless `.tflint.hcl` says otherwise (default `true`).
    fn enabled_by_default(&self) -> bool {
        true
    }

    /// Its issues' severity.
    fn severity(&self) -> Severity;

    /// A link to its documentation, shown with each issue.
    fn link(&self) -> &str {
        ""
    }

    /// Checks the module through `runner`, emitting issues. An error (a broken rule
    /// configuration, say) aborts the check; TFLint shows it.
    async fn check(&self, runner: &Runner) -> Result<(), String>;
}

/// A ruleset: a name, a version and rules.
pub struct RuleSet {
    name: String,
    version: String,
    constraint: String,
    rules: Vec<Arc<dyn Rule>>,
}

impl RuleSet {
    /// A ruleset called `name` (TFLint finds it as `tflint-ruleset-<name>`) at `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> RuleSet {
        RuleSet {
            name: name.into(),
            version: version.into(),
            constraint: ">= 0.46".into(),
            rules: Vec::new(),
        }
    }

    /// The TFLint versions it accepts (default `>= 0.46`, the plugin protocol's minimum).
    pub fn tflint_constraint(mut self, constraint: impl Into<String>) -> RuleSet {
        self.constraint = constraint.into();
        self
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: impl Rule) -> RuleSet {
        self.rules.push(Arc::new(rule));
        self
    }
}

/// The `RuleSet` service over a ruleset: what `.tflint.hcl` enabled, and the broker to reach
/// TFLint's Runner.
struct Service {
    set: Arc<RuleSet>,
    broker: GrpcBroker,
    enabled: Mutex<Vec<String>>,
}

type Reply<T> = Result<Response<T>, Status>;

#[async_trait]
impl RuleSetService for Service {
    async fn get_name(&self, _: Request<get_name::Request>) -> Reply<get_name::Response> {
        Ok(Response::new(get_name::Response {
            name: self.set.name.clone(),
        }))
    }

    async fn get_version(&self, _: Request<get_version::Request>) -> Reply<get_version::Response> {
        Ok(Response::new(get_version::Response {
            version: self.set.version.clone(),
        }))
    }

    async fn get_version_constraint(
        &self,
        _: Request<get_version_constraint::Request>,
    ) -> Reply<get_version_constraint::Response> {
        Ok(Response::new(get_version_constraint::Response {
            constraint: self.set.constraint.clone(),
        }))
    }

    async fn get_sdk_version(
        &self,
        _: Request<get_sdk_version::Request>,
    ) -> Reply<get_sdk_version::Response> {
        Ok(Response::new(get_sdk_version::Response {
            version: crate::SDK_VERSION.into(),
        }))
    }

    async fn get_rule_names(
        &self,
        _: Request<get_rule_names::Request>,
    ) -> Reply<get_rule_names::Response> {
        let names = self
            .set
            .rules
            .iter()
            .map(|r| r.name().to_string())
            .collect();
        Ok(Response::new(get_rule_names::Response { names }))
    }

    async fn get_config_schema(
        &self,
        _: Request<get_config_schema::Request>,
    ) -> Reply<get_config_schema::Response> {
        // The plugin block takes no settings of its own.
        Ok(Response::new(get_config_schema::Response {
            schema: Some(BodySchema::default()),
        }))
    }

    async fn apply_global_config(
        &self,
        request: Request<apply_global_config::Request>,
    ) -> Reply<apply_global_config::Response> {
        let config = request
            .into_inner()
            .config
            .ok_or_else(|| Status::invalid_argument("config should not be null"))?;
        let rules = self
            .set
            .rules
            .iter()
            .map(|r| (r.name(), r.enabled_by_default()));
        let enabled = enabled_rules(rules, &config)
            .into_iter()
            .map(String::from)
            .collect();
        *self.enabled.lock().unwrap_or_else(|e| e.into_inner()) = enabled;
        Ok(Response::new(apply_global_config::Response {}))
    }

    async fn apply_config(
        &self,
        _: Request<apply_config::Request>,
    ) -> Reply<apply_config::Response> {
        Ok(Response::new(apply_config::Response {}))
    }

    async fn check(&self, request: Request<check::Request>) -> Reply<check::Response> {
        let id = request.into_inner().runner;
        let channel = self
            .broker
            .dial(id)
            .await
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let runner = Runner::new(channel);
        let enabled = self
            .enabled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for rule in self
            .set
            .rules
            .iter()
            .filter(|r| enabled.iter().any(|n| n == r.name()))
        {
            tracing::debug!(rule = rule.name(), "checking");
            rule.check(&runner).await.map_err(|e| {
                Status::aborted(format!("failed to check \"{}\" rule: {e}", rule.name()))
            })?;
        }
        Ok(Response::new(check::Response {}))
    }
}

/// Serves `ruleset` to TFLint (from the plugin's `main`).
pub async fn serve(ruleset: RuleSet) -> Result<(), go_plugin::Error> {
    let set = Arc::new(ruleset);
    let plugins = PluginSet::new()
        .grpc(crate::PLUGIN_NAME, move |broker| {
            RuleSetServer::new(Service {
                set: set.clone(),
                broker,
                enabled: Mutex::new(Vec::new()),
            })
        })
        .reflection(crate::proto::FILE_DESCRIPTOR_SET);
    serve_plugin(ServeConfig::new(crate::handshake()).plugins(plugins)).await
}
