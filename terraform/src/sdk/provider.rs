//! The provider: its configuration (typed), the client it makes, and what it offers, by type
//! name. [`serve`] runs it as a Terraform provider over both protocol versions.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

use super::action::{Action, AnyAction};
use super::errors::{error, Diagnostics};
use super::function::Function;
use super::listing::{AnyList, ListResource};
use super::reads::{AnyDataSource, AnyEphemeral, DataSource, EphemeralResource};
use super::resource::{AnyResource, Resource};
use super::typed::from_value;
use super::Schema;
use crate::{Diagnostic, Value};

type Configure<C> = Arc<
    dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<C, Diagnostics>> + Send>> + Send + Sync,
>;

/// A Terraform provider built from typed parts; `C` is the client its configuration makes,
/// handed to every resource call.
pub struct Provider<C> {
    pub(crate) name: String,
    pub(crate) schema: Schema,
    configure: Configure<C>,
    client: OnceLock<Arc<C>>,
    pub(crate) resources: BTreeMap<String, Arc<dyn AnyResource<C>>>,
    pub(crate) data_sources: BTreeMap<String, Arc<dyn AnyDataSource<C>>>,
    pub(crate) ephemerals: BTreeMap<String, Arc<dyn AnyEphemeral<C>>>,
    pub(crate) functions: BTreeMap<String, Function>,
    pub(crate) lists: BTreeMap<String, Arc<dyn AnyList<C>>>,
    pub(crate) actions: BTreeMap<String, Arc<dyn AnyAction<C>>>,
    /// Cancelled by Terraform's `StopProvider` (Ctrl-C): calls in flight end at once.
    stop: tokio_util::sync::CancellationToken,
    /// The provider's configuration had unknown values and Terraform allows deferring: reads,
    /// plans and imports are deferred instead of run.
    pub(crate) config_unknown: std::sync::atomic::AtomicBool,
}

impl Provider<()> {
    /// A provider without configuration, called `name` (the prefix of its type names:
    /// `rustfile` serves `rustfile_file`).
    pub fn without_config(name: impl Into<String>) -> Provider<()> {
        Provider::new(name, Schema::new(), |_: serde_json::Value| async { Ok(()) })
    }
}

impl<C: Send + Sync + 'static> Provider<C> {
    /// A provider called `name` whose `provider "<name>" { }` block has `schema`; `configure`
    /// turns that configuration (as the model `M`) into the client.
    pub fn new<M, F, Fut>(name: impl Into<String>, schema: Schema, configure: F) -> Provider<C>
    where
        M: DeserializeOwned + Send + 'static,
        F: Fn(M) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, Diagnostics>> + Send + 'static,
    {
        let ty = schema.value_type();
        let configure = Arc::new(configure);
        Provider {
            name: name.into(),
            schema,
            configure: Arc::new(move |config: Value| {
                let configure = configure.clone();
                let model = from_value::<M>(&config, &ty);
                Box::pin(async move {
                    let model = model.map_err(|e| {
                        vec![Diagnostic::invalid_value("provider configuration", &e)]
                    })?;
                    configure(model).await
                })
            }),
            client: OnceLock::new(),
            resources: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            ephemerals: BTreeMap::new(),
            functions: BTreeMap::new(),
            lists: BTreeMap::new(),
            actions: BTreeMap::new(),
            stop: tokio_util::sync::CancellationToken::new(),
            config_unknown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn type_name(&self, name: &str) -> String {
        format!("{}_{name}", self.name)
    }

    /// Adds resource `<provider>_<name>`.
    pub fn resource(mut self, name: &str, resource: impl Resource<C>) -> Self {
        self.resources
            .insert(self.type_name(name), Arc::new(resource));
        self
    }

    /// Adds data source `<provider>_<name>`.
    pub fn data_source(mut self, name: &str, data_source: impl DataSource<C>) -> Self {
        self.data_sources
            .insert(self.type_name(name), Arc::new(data_source));
        self
    }

    /// Adds ephemeral resource `<provider>_<name>`.
    pub fn ephemeral(mut self, name: &str, ephemeral: impl EphemeralResource<C>) -> Self {
        self.ephemerals
            .insert(self.type_name(name), Arc::new(ephemeral));
        self
    }

    /// Adds list resource `<provider>_<name>`, which lists objects of the managed resource of
    /// the same name.
    pub fn list(mut self, name: &str, list: impl ListResource<C>) -> Self {
        self.lists.insert(self.type_name(name), Arc::new(list));
        self
    }

    /// Adds action `<provider>_<name>`.
    pub fn action(mut self, name: &str, action: impl Action<C>) -> Self {
        self.actions.insert(self.type_name(name), Arc::new(action));
        self
    }

    /// Adds function `provider::<provider>::<name>`.
    pub fn function(mut self, function: Function) -> Self {
        self.functions.insert(function.name.clone(), function);
        self
    }

    /// Every part's schema, with what it is and its type name (the provider's own first).
    fn part_schemas(&self) -> Vec<(&'static str, &str, Schema)> {
        let mut all = vec![("provider", self.name.as_str(), self.schema.clone())];
        all.extend(
            self.resources
                .iter()
                .map(|(n, r)| ("resource", n.as_str(), r.schema())),
        );
        all.extend(
            self.data_sources
                .iter()
                .map(|(n, d)| ("data source", n.as_str(), d.schema())),
        );
        all.extend(
            self.ephemerals
                .iter()
                .map(|(n, e)| ("ephemeral resource", n.as_str(), e.schema())),
        );
        all.extend(
            self.lists
                .iter()
                .map(|(n, l)| ("list resource", n.as_str(), l.schema())),
        );
        all.extend(
            self.actions
                .iter()
                .map(|(n, a)| ("action", n.as_str(), a.schema())),
        );
        all
    }

    /// What Terraform is told when it asks for the schema: a part asking for plan modifiers or
    /// write-only values inside nested attributes or blocks, which the SDK would not apply.
    pub(crate) fn schema_problems(&self) -> Diagnostics {
        let problems = self
            .part_schemas()
            .into_iter()
            .flat_map(|(kind, name, schema)| {
                let problems = schema.top_level_only().into_iter();
                problems.map(move |problem| format!("{kind} {name}: {problem}"))
            });
        problems
            .map(|problem| {
                Diagnostic::error(
                    "Unsupported schema",
                    format!(
                        "{problem}; the SDK applies plan modifiers and write-only values to \
                         top-level attributes only: move the attribute to the top level"
                    ),
                )
            })
            .collect()
    }

    /// Configures the provider (Terraform's `ConfigureProvider`). A configuration with unknown
    /// values, when Terraform allows deferring, is not given to the author: every later read,
    /// plan and import is deferred (`PROVIDER_CONFIG_UNKNOWN`) until a run where it is known.
    pub(crate) async fn configure(&self, config: Value, deferral_allowed: bool) -> Diagnostics {
        if deferral_allowed && !config.is_wholly_known() {
            self.config_unknown
                .store(true, std::sync::atomic::Ordering::SeqCst);
            return Vec::new();
        }
        match (self.configure)(config).await {
            Ok(client) => {
                // A provider is configured once per process; a second configuration keeps the
                // first client, as Terraform never sends one.
                let _ = self.client.set(Arc::new(client));
                Vec::new()
            }
            Err(diagnostics) => diagnostics,
        }
    }

    /// True when this call is to be deferred: the provider's configuration is unknown and the
    /// call's client allows deferring.
    pub(crate) fn defers(&self, deferral_allowed: bool) -> bool {
        deferral_allowed
            && self
                .config_unknown
                .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Runs one call of the author's code, unless Terraform stops the provider first: then the
    /// call is dropped (its future cancelled) and answers a "stopped" diagnostic.
    pub(crate) async fn unless_stopped<T>(
        &self,
        call: impl Future<Output = Result<T, Diagnostics>>,
    ) -> Result<T, Diagnostics> {
        tokio::select! {
            result = call => result,
            _ = self.stop.cancelled() => Err(error(
                "Provider stopped",
                "Terraform asked the provider to stop (an interrupt); the operation was cancelled",
            )),
        }
    }

    /// Terraform's `StopProvider`: cancels every call in flight and every later one.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }

    /// The configured client, or the diagnostic of a call made before configuration.
    pub(crate) fn client(&self) -> Result<Arc<C>, Diagnostics> {
        self.client.get().cloned().ok_or_else(|| {
            error(
                "Provider not configured",
                "Terraform called the provider before configuring it",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::sdk::Attr;

    #[derive(Deserialize)]
    struct Config {
        root: String,
        retries: Option<i64>,
    }

    #[tokio::test]
    async fn the_typed_configuration_makes_the_client_resources_get() {
        let schema = Schema::new()
            .attr(Attr::string("root").required())
            .attr(Attr::number("retries"));
        let provider = Provider::new("t", schema, |c: Config| async move {
            if c.root.is_empty() {
                return Err(error("Empty root", "give the root directory"));
            }
            Ok(format!("{} ({} retries)", c.root, c.retries.unwrap_or(3)))
        });
        assert_eq!(
            provider.client().unwrap_err()[0].summary,
            "Provider not configured"
        );
        let config = Value::object([("root", Value::string("/srv")), ("retries", Value::Null)]);
        assert!(provider.configure(config, false).await.is_empty());
        assert_eq!(*provider.client().unwrap(), "/srv (3 retries)");

        let refused = Provider::new(
            "t",
            Schema::new().attr(Attr::string("root")),
            |c: Config| async move { Ok(c.root) },
        );
        let wrong = Value::object([("root", Value::Null)]);
        let ds = refused.configure(wrong, false).await;
        assert!(ds[0].detail.contains("root"), "{:?}", ds);
    }

    #[test]
    fn modifiers_inside_nested_attributes_are_reported_with_their_path() {
        let rule = vec![
            Attr::string("protocol").default("tcp"),
            Attr::number("port"),
        ];
        let schema = Schema::new().attr(Attr::list_of("rules", rule)).block(
            "note",
            crate::schema::Nesting::List,
            Schema::new().attr(Attr::string("t").write_only()),
        );
        let provider = Provider::without_config("net").ephemeral("thing", Fixed(schema));
        let problems: Vec<String> = provider
            .schema_problems()
            .into_iter()
            .map(|d| d.detail)
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("ephemeral resource net_thing: rules.protocol has a plan modifier"),
            "{problems:?}"
        );
        assert!(problems[1].contains("note.t is write-only"), "{problems:?}");
        assert!(Provider::without_config("net").schema_problems().is_empty());
    }

    /// An ephemeral resource of a given schema.
    struct Fixed(Schema);

    #[derive(serde::Serialize, Deserialize, crate::sdk::Schema)]
    struct Nothing {}

    impl EphemeralResource<()> for Fixed {
        type Model = Nothing;
        fn schema(&self) -> Schema {
            self.0.clone()
        }
        async fn open(&self, _: &(), config: Nothing) -> Result<Nothing, Diagnostics> {
            Ok(config)
        }
    }
}
