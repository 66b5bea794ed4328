//! What a provider author implements: resources, data sources and ephemeral resources over their
//! own model types, each given the provider's configured client `C`.
//!
//! The SDK does the protocol's part around each call: decoding and encoding values, validators,
//! plan modifiers (requires-replace, use-state-for-unknown, defaults), unknowns for computed
//! attributes, write-only attributes taken from configuration and kept out of plan and state,
//! state upgrades, and errors as diagnostics.
//!
//! In a model handed to an author, computed attributes the configuration leaves out are
//! [`MaybeUnknown::Unknown`](super::MaybeUnknown) (in a plan, in a data source's configuration),
//! and write-only attributes hold their configured value.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::async_trait;

pub use super::errors::{error, Diagnostics};
use super::plan::{self, Planned};
use super::typed::{from_value, to_value};
use super::HasSchema;
use super::Schema;
use crate::schema::Nesting;
use crate::{AttributePath, Diagnostic, Type, Value};

/// A managed resource (`resource "<provider>_<name>" "..." { }`).
///
/// Write its methods as `async fn` (no macro needed); the futures must be `Send`.
pub trait Resource<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// Its configuration, plan and state (`#[derive(Schema)]` gives it its schema).
    type Model: Serialize + DeserializeOwned + HasSchema + Send;

    /// Its schema: the model's, unless overridden.
    fn schema(&self) -> Schema {
        Self::Model::schema()
    }

    /// Refines the plan the SDK made (defaults, unknown computed values, modifiers): fill in what
    /// is already known (a hash of known content, say). `prior` is `None` for a create. The
    /// default keeps the plan.
    fn modify_plan(
        &self,
        _prior: Option<&Self::Model>,
        plan: Self::Model,
    ) -> Result<Self::Model, Diagnostics> {
        Ok(plan)
    }

    /// Creates it as planned; returns the state (every value known).
    fn create(
        &self,
        client: &C,
        plan: Self::Model,
    ) -> impl Future<Output = Result<Self::Model, Diagnostics>> + Send;

    /// Reads it back; `None` when it no longer exists (Terraform then plans to create it).
    fn read(
        &self,
        client: &C,
        state: Self::Model,
    ) -> impl Future<Output = Result<Option<Self::Model>, Diagnostics>> + Send;

    /// Updates it in place from `prior` to `plan`; returns the new state.
    fn update(
        &self,
        client: &C,
        prior: Self::Model,
        plan: Self::Model,
    ) -> impl Future<Output = Result<Self::Model, Diagnostics>> + Send;

    /// Deletes it.
    fn delete(
        &self,
        client: &C,
        state: Self::Model,
    ) -> impl Future<Output = Result<(), Diagnostics>> + Send;

    /// The state of an existing object from its import id (`terraform import`, `import` blocks,
    /// by id or by identity); Terraform reads it back before planning.
    ///
    /// The default serves a resource whose identity ([`Schema::identity`]) is one string
    /// attribute: it hands [`Resource::read`] a model with that attribute set to the id, its
    /// optional fields null (`None`) and the others unknown (`MaybeUnknown::Unknown`), and
    /// imports what `read` finds. Override it when reading needs more than the identity.
    fn import(
        &self,
        client: &C,
        id: &str,
    ) -> impl Future<Output = Result<Self::Model, Diagnostics>> + Send {
        let identified = identified::<Self::Model>(&self.schema(), id);
        async move {
            let missing = || {
                error(
                    "Cannot import a missing object",
                    format!("nothing has id {id:?}"),
                )
            };
            self.read(client, identified?).await?.ok_or_else(missing)
        }
    }

    /// The state of an object of another resource type (`source_type`, of provider
    /// `source_provider`), as its stored JSON, taken over by this type (a `moved` block across
    /// types, Terraform 1.8+); `None` when this type does not take over that one (the default).
    fn move_state(
        &self,
        _source_provider: &str,
        _source_type: &str,
        _state: serde_json::Value,
    ) -> Option<Result<Self::Model, Diagnostics>> {
        None
    }

    /// The state stored by schema version `version` (older than the schema's), as its JSON,
    /// brought to the current model. The default reads that JSON as the model, so serde's
    /// `#[serde(alias = "old_name")]` carries a renamed attribute over and `#[serde(default)]` an
    /// added one; override it for anything else.
    fn upgrade(&self, version: i64, state: serde_json::Value) -> Result<Self::Model, Diagnostics> {
        serde_json::from_value(state).map_err(|e| {
            error(
                "Unsupported state version",
                format!(
                    "a state of schema version {version} does not fit the resource's model ({e}): \
                     upgrade it in Resource::upgrade"
                ),
            )
        })
    }
}

/// A data source (`data "<provider>_<name>" "..." { }`).
pub trait DataSource<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// Its configuration and result.
    type Model: Serialize + DeserializeOwned + HasSchema + Send;

    /// Its schema: the model's, unless overridden.
    fn schema(&self) -> Schema {
        Self::Model::schema()
    }

    /// Reads it: the configuration with its computed attributes filled in.
    fn read(
        &self,
        client: &C,
        config: Self::Model,
    ) -> impl Future<Output = Result<Self::Model, Diagnostics>> + Send;
}

/// An ephemeral resource (`ephemeral "<provider>_<name>" "..." { }`, Terraform 1.10+): a value
/// made for one run, never stored in plan or state.
pub trait EphemeralResource<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// Its configuration and result.
    type Model: Serialize + DeserializeOwned + HasSchema + Send;

    /// Its schema: the model's, unless overridden.
    fn schema(&self) -> Schema {
        Self::Model::schema()
    }

    /// Opens it: the configuration with its computed attributes filled in.
    fn open(
        &self,
        client: &C,
        config: Self::Model,
    ) -> impl Future<Output = Result<Self::Model, Diagnostics>> + Send;

    /// How often Terraform renews it while it is in use (a lease, a token): `None` (the default)
    /// for never.
    fn renew_every(&self) -> Option<std::time::Duration> {
        None
    }

    /// Renews what [`EphemeralResource::open`] returned (`opened`).
    fn renew(
        &self,
        _client: &C,
        _opened: Self::Model,
    ) -> impl Future<Output = Result<(), Diagnostics>> + Send {
        async { Ok(()) }
    }

    /// Closes what [`EphemeralResource::open`] returned, once Terraform is done with it.
    fn close(
        &self,
        _client: &C,
        _opened: Self::Model,
    ) -> impl Future<Output = Result<(), Diagnostics>> + Send {
        async { Ok(()) }
    }
}

/// A configuration value as a model: computed attributes it leaves out become unknown, as they
/// are not known from configuration.
fn config_model<M: DeserializeOwned>(schema: &Schema, config: &Value) -> Result<M, Diagnostics> {
    let mut config = config.clone();
    for attr in schema.attrs.iter().filter(|a| a.computed) {
        if config.get(&attr.name).is_some_and(Value::is_null) {
            config.set_attribute(&attr.name, Value::UNKNOWN);
        }
    }
    model(schema, &config, "configuration")
}

/// Where an import by id starts: the model of the object whose one identity attribute is `id`,
/// its optional attributes null, the others unknown (list and set blocks empty).
fn identified<M: DeserializeOwned>(schema: &Schema, id: &str) -> Result<M, Diagnostics> {
    let unsupported = |why: &str| {
        error(
            "Import not supported",
            format!("this resource type cannot be imported: {why}"),
        )
    };
    let identity = match schema.identity.as_slice() {
        [name] => schema.attribute(name).filter(|a| a.ty == Type::String),
        _ => None,
    };
    let Some(identity) = identity else {
        return Err(unsupported(
            "import by id needs Resource::import, or an identity of one string attribute",
        ));
    };
    let attrs = schema.attrs.iter().map(|a| {
        let value = match () {
            _ if a.name == identity.name => Value::string(id),
            _ if a.optional => Value::Null,
            _ => Value::UNKNOWN,
        };
        (a.name.clone(), value)
    });
    let blocks = schema.blocks.iter().map(|b| {
        let empty = match b.nesting {
            Nesting::List => Value::List(Vec::new()),
            Nesting::Set => Value::Set(Vec::new()),
            Nesting::Map => Value::Map(Default::default()),
            Nesting::Single | Nesting::Group => Value::Null,
        };
        (b.name.clone(), empty)
    });
    let partial = Value::object(attrs.chain(blocks));
    model(schema, &partial, "import").map_err(|ds| {
        let why = ds
            .iter()
            .map(|d| d.detail.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        unsupported(&format!(
            "the SDK imports by reading an object of which only {:?} is known, and the model \
             cannot hold that ({why}): make the other fields MaybeUnknown or Option, or implement \
             Resource::import",
            identity.name
        ))
    })
}

fn model<M: DeserializeOwned>(
    schema: &Schema,
    value: &Value,
    what: &str,
) -> Result<M, Diagnostics> {
    from_value(value, &schema.value_type()).map_err(|e| vec![Diagnostic::invalid_value(what, &e)])
}

fn value<M: Serialize>(schema: &Schema, model: &M, what: &str) -> Result<Value, Diagnostics> {
    to_value(model, &schema.value_type()).map_err(|e| {
        vec![Diagnostic::error(
            format!("Provider returned an invalid {what}"),
            e.to_string(),
        )]
    })
}

/// A state as Terraform must store it: write-only attributes null, nothing unknown.
fn stored(schema: &Schema, mut state: Value, what: &str) -> Result<Value, Diagnostics> {
    for attr in schema.attrs.iter().filter(|a| a.write_only) {
        state.set_attribute(&attr.name, Value::Null);
    }
    if !state.is_wholly_known() {
        return Err(error(
            format!("Provider returned an unknown value in the {what}"),
            "every attribute must be known after apply: set each MaybeUnknown field",
        ));
    }
    Ok(state)
}

/// The checks every configuration gets: each attribute's validators.
pub(crate) fn validate(schema: &Schema, config: &Value) -> Diagnostics {
    schema
        .attrs
        .iter()
        .flat_map(|attr| {
            let path = AttributePath::default().attribute(&attr.name);
            let value = config.get(&attr.name).cloned().unwrap_or(Value::Null);
            attr.validators
                .iter()
                .filter_map(|v| v.check(&path, &value, config))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A resource over values: what the protocol servers call.
#[async_trait]
pub(crate) trait AnyResource<C>: Send + Sync {
    fn schema(&self) -> Schema;
    async fn read(&self, client: &C, state: &Value) -> Result<Value, Diagnostics>;
    fn plan(&self, prior: &Value, proposed: &Value, config: &Value)
        -> Result<Planned, Diagnostics>;
    async fn apply(
        &self,
        client: &C,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> Result<Value, Diagnostics>;
    async fn import(&self, client: &C, id: &str) -> Result<Value, Diagnostics>;
    fn upgrade(&self, version: i64, state: serde_json::Value) -> Result<Value, Diagnostics>;
    fn move_state(
        &self,
        provider: &str,
        ty: &str,
        state: serde_json::Value,
    ) -> Result<Value, Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync + 'static, R: Resource<C>> AnyResource<C> for R {
    fn schema(&self) -> Schema {
        Resource::schema(self)
    }

    async fn read(&self, client: &C, state: &Value) -> Result<Value, Diagnostics> {
        let schema = Resource::schema(self);
        let current: R::Model = model(&schema, state, "state")?;
        match Resource::read(self, client, current).await? {
            Some(now) => stored(&schema, value(&schema, &now, "state")?, "state"),
            None => Ok(Value::Null),
        }
    }

    fn plan(
        &self,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> Result<Planned, Diagnostics> {
        let schema = Resource::schema(self);
        let mut planned = plan::plan(&schema, prior, proposed, config);
        if planned.state.is_null() {
            return Ok(planned);
        }
        let prior_model: Option<R::Model> = if prior.is_null() {
            None
        } else {
            Some(model(&schema, prior, "prior state")?)
        };
        let plan_model: R::Model = model(&schema, &planned.state, "plan")?;
        let modified = self.modify_plan(prior_model.as_ref(), plan_model)?;
        let mut state = value(&schema, &modified, "plan")?;
        // Write-only values never enter a plan, whatever the model holds.
        for attr in schema.attrs.iter().filter(|a| a.write_only) {
            state.set_attribute(&attr.name, Value::Null);
        }
        planned.state = state;
        Ok(planned)
    }

    async fn apply(
        &self,
        client: &C,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> Result<Value, Diagnostics> {
        let schema = Resource::schema(self);
        if planned.is_null() {
            let state: R::Model = model(&schema, prior, "prior state")?;
            self.delete(client, state).await?;
            return Ok(Value::Null);
        }
        // Write-only values come from configuration: plans never hold them.
        let mut planned = planned.clone();
        for attr in schema.attrs.iter().filter(|a| a.write_only) {
            planned.set_attribute(
                &attr.name,
                config.get(&attr.name).cloned().unwrap_or(Value::Null),
            );
        }
        let plan: R::Model = model(&schema, &planned, "plan")?;
        let state = if prior.is_null() {
            self.create(client, plan).await?
        } else {
            let prior: R::Model = model(&schema, prior, "prior state")?;
            self.update(client, prior, plan).await?
        };
        stored(&schema, value(&schema, &state, "state")?, "new state")
    }

    async fn import(&self, client: &C, id: &str) -> Result<Value, Diagnostics> {
        let schema = Resource::schema(self);
        let state = Resource::import(self, client, id).await?;
        stored(
            &schema,
            value(&schema, &state, "imported state")?,
            "imported state",
        )
    }

    fn move_state(
        &self,
        provider: &str,
        ty: &str,
        state: serde_json::Value,
    ) -> Result<Value, Diagnostics> {
        let schema = Resource::schema(self);
        let moved = Resource::move_state(self, provider, ty, state).unwrap_or_else(|| {
            Err(error(
                "Unsupported move",
                format!("this resource type cannot take over the state of {ty} ({provider})"),
            ))
        })?;
        stored(
            &schema,
            value(&schema, &moved, "moved state")?,
            "moved state",
        )
    }

    fn upgrade(&self, version: i64, state: serde_json::Value) -> Result<Value, Diagnostics> {
        let schema = Resource::schema(self);
        let upgraded = Resource::upgrade(self, version, state)?;
        stored(
            &schema,
            value(&schema, &upgraded, "upgraded state")?,
            "upgraded state",
        )
    }
}

/// A data source over values.
#[async_trait]
pub(crate) trait AnyDataSource<C>: Send + Sync {
    fn schema(&self) -> Schema;
    async fn read(&self, client: &C, config: &Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync + 'static, D: DataSource<C>> AnyDataSource<C> for D {
    fn schema(&self) -> Schema {
        DataSource::schema(self)
    }

    async fn read(&self, client: &C, config: &Value) -> Result<Value, Diagnostics> {
        let schema = DataSource::schema(self);
        let result = DataSource::read(self, client, config_model(&schema, config)?).await?;
        stored(&schema, value(&schema, &result, "result")?, "result")
    }
}

/// An ephemeral resource over values. What `open` returned travels in Terraform's `private`
/// bytes (its JSON; Terraform keeps them in memory only) to `renew` and `close`.
#[async_trait]
pub(crate) trait AnyEphemeral<C>: Send + Sync {
    fn schema(&self) -> Schema;
    /// The result and the private bytes (the result's JSON).
    async fn open(&self, client: &C, config: &Value) -> Result<(Value, Vec<u8>), Diagnostics>;
    fn renew_every(&self) -> Option<std::time::Duration>;
    async fn renew(&self, client: &C, private: &[u8]) -> Result<(), Diagnostics>;
    async fn close(&self, client: &C, private: &[u8]) -> Result<(), Diagnostics>;
}

fn opened<M: DeserializeOwned>(private: &[u8]) -> Result<M, Diagnostics> {
    serde_json::from_slice(private).map_err(|e| {
        error(
            "Unreadable ephemeral resource",
            format!("what open returned cannot be read back: {e}"),
        )
    })
}

#[async_trait]
impl<C: Send + Sync + 'static, E: EphemeralResource<C>> AnyEphemeral<C> for E {
    fn schema(&self) -> Schema {
        EphemeralResource::schema(self)
    }

    async fn open(&self, client: &C, config: &Value) -> Result<(Value, Vec<u8>), Diagnostics> {
        let schema = EphemeralResource::schema(self);
        let opened = EphemeralResource::open(self, client, config_model(&schema, config)?).await?;
        let result = value(&schema, &opened, "result")?;
        if !result.is_wholly_known() {
            return Err(error(
                "Provider returned an unknown value",
                "every attribute of an ephemeral result must be known",
            ));
        }
        let private =
            serde_json::to_vec(&opened).map_err(|e| error("Unencodable result", e.to_string()))?;
        Ok((result, private))
    }

    fn renew_every(&self) -> Option<std::time::Duration> {
        EphemeralResource::renew_every(self)
    }

    async fn renew(&self, client: &C, private: &[u8]) -> Result<(), Diagnostics> {
        EphemeralResource::renew(self, client, opened(private)?).await
    }

    async fn close(&self, client: &C, private: &[u8]) -> Result<(), Diagnostics> {
        EphemeralResource::close(self, client, opened(private)?).await
    }
}

/// One object a list resource found: a name for people, and the object as the managed
/// resource's model (its identity is taken from it).
#[derive(Debug, Clone)]
pub struct Listed<M> {
    /// How `terraform query` shows it.
    pub display_name: String,
    /// The object, as the managed resource of the same type name would hold it in state.
    pub object: M,
}

impl<M> Listed<M> {
    /// `object`, shown as `display_name`.
    pub fn new(display_name: impl Into<String>, object: M) -> Listed<M> {
        Listed {
            display_name: display_name.into(),
            object,
        }
    }
}

/// A list resource (`list "<provider>_<name>" "..." { config { } }` in `.tfquery.hcl`,
/// `terraform query`, Terraform 1.14+): finds existing objects of the managed resource of the
/// same type name, which must declare an identity ([`Schema::identity`]).
pub trait ListResource<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// The `config` block's model.
    type Config: DeserializeOwned + HasSchema + Send;
    /// The managed resource's model.
    type Object: Serialize + Send;

    /// The `config` block's schema: the model's, unless overridden.
    fn schema(&self) -> Schema {
        Self::Config::schema()
    }

    /// The objects matching `config`.
    fn list(
        &self,
        client: &C,
        config: Self::Config,
    ) -> impl Future<Output = Result<Vec<Listed<Self::Object>>, Diagnostics>> + Send;
}

/// Where an action reports progress while it runs (Terraform prints each message).
#[derive(Clone, Debug)]
pub struct Progress(tokio::sync::mpsc::UnboundedSender<String>);

impl Progress {
    pub(crate) fn new() -> (Progress, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Progress(tx), rx)
    }

    /// Reports `message`.
    pub fn report(&self, message: impl Into<String>) {
        let _ = self.0.send(message.into());
    }
}

/// An action (`action "<provider>_<name>" "..." { config { } }`, invoked with
/// `terraform apply -invoke=action.<type>.<label>` or a resource's `action_trigger`, Terraform
/// 1.14+): an operation outside state.
pub trait Action<C: Send + Sync + 'static>: Send + Sync + 'static {
    /// The `config` block's model.
    type Config: DeserializeOwned + HasSchema + Send;

    /// The `config` block's schema: the model's, unless overridden.
    fn schema(&self) -> Schema {
        Self::Config::schema()
    }

    /// Runs it, reporting progress.
    fn invoke(
        &self,
        client: &C,
        config: Self::Config,
        progress: Progress,
    ) -> impl Future<Output = Result<(), Diagnostics>> + Send;
}

/// A list resource over values: (display name, object value) pairs.
#[async_trait]
pub(crate) trait AnyList<C>: Send + Sync {
    fn schema(&self) -> Schema;
    async fn list(
        &self,
        client: &C,
        config: &Value,
        object_schema: &Schema,
    ) -> Result<Vec<(String, Value)>, Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync + 'static, L: ListResource<C>> AnyList<C> for L {
    fn schema(&self) -> Schema {
        ListResource::schema(self)
    }

    async fn list(
        &self,
        client: &C,
        config: &Value,
        object_schema: &Schema,
    ) -> Result<Vec<(String, Value)>, Diagnostics> {
        let schema = ListResource::schema(self);
        let config: L::Config = config_model(&schema, config)?;
        ListResource::list(self, client, config)
            .await?
            .into_iter()
            .map(|item| {
                let object = stored(
                    object_schema,
                    value(object_schema, &item.object, "object")?,
                    "listed object",
                )?;
                Ok((item.display_name, object))
            })
            .collect()
    }
}

/// An action over values.
#[async_trait]
pub(crate) trait AnyAction<C>: Send + Sync {
    fn schema(&self) -> Schema;
    async fn invoke(
        &self,
        client: &C,
        config: &Value,
        progress: Progress,
    ) -> Result<(), Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync + 'static, A: Action<C>> AnyAction<C> for A {
    fn schema(&self) -> Schema {
        Action::schema(self)
    }

    async fn invoke(
        &self,
        client: &C,
        config: &Value,
        progress: Progress,
    ) -> Result<(), Diagnostics> {
        let config: A::Config = config_model(&Action::schema(self), config)?;
        Action::invoke(self, client, config, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::MaybeUnknown;
    use serde::Deserialize;

    /// A note stored at `key`; version 1 renamed `title` to `key`.
    #[derive(Serialize, Deserialize, crate::sdk::Schema)]
    #[schema(version = 1, identity = "key")]
    struct Note {
        #[serde(alias = "title")]
        key: String,
        text: MaybeUnknown<String>,
        tag: Option<String>,
    }

    /// Notes that exist: `a` holds "hello".
    struct Notes;

    impl Resource<()> for Notes {
        type Model = Note;
        async fn create(&self, _: &(), plan: Note) -> Result<Note, Diagnostics> {
            Ok(plan)
        }
        async fn read(&self, _: &(), state: Note) -> Result<Option<Note>, Diagnostics> {
            assert!(state.text.is_unknown() && state.tag.is_none());
            let text = "hello".to_string().into();
            Ok((state.key == "a").then_some(Note { text, ..state }))
        }
        async fn update(&self, _: &(), _: Note, plan: Note) -> Result<Note, Diagnostics> {
            Ok(plan)
        }
        async fn delete(&self, _: &(), _: Note) -> Result<(), Diagnostics> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_default_import_reads_the_object_its_identity_names() {
        let imported = AnyResource::import(&Notes, &(), "a").await.unwrap();
        assert_eq!(imported.get("text"), Some(&Value::string("hello")));
        assert_eq!(imported.get("tag"), Some(&Value::Null));
        let missing = AnyResource::import(&Notes, &(), "b").await.unwrap_err();
        assert_eq!(missing[0].summary, "Cannot import a missing object");
        assert!(missing[0].detail.contains("\"b\""), "{}", missing[0].detail);
    }

    #[test]
    fn import_by_id_without_a_usable_identity_says_what_to_implement() {
        #[derive(Deserialize)]
        struct Strict {
            _key: String,
            _text: String,
        }
        let schema = Schema::new()
            .attr(crate::sdk::Attr::string("key").required())
            .attr(crate::sdk::Attr::string("text").required());
        let none = identified::<Strict>(&schema, "a").err().unwrap();
        assert!(
            none[0].detail.contains("Resource::import"),
            "{}",
            none[0].detail
        );
        let unreadable = identified::<Strict>(&schema.identity(&["key"]), "a")
            .err()
            .unwrap();
        assert!(
            unreadable[0].detail.contains("MaybeUnknown or Option"),
            "{}",
            unreadable[0].detail
        );
    }

    #[test]
    fn the_default_upgrade_reads_old_state_through_serde() {
        let old = serde_json::json!({ "title": "a", "text": "hi", "tag": null });
        let upgraded = AnyResource::upgrade(&Notes, 0, old).unwrap();
        assert_eq!(upgraded.get("key"), Some(&Value::string("a")));
        let unfit = AnyResource::upgrade(&Notes, 0, serde_json::json!({ "text": "hi" }));
        let detail = &unfit.unwrap_err()[0].detail;
        assert!(detail.contains("missing field `key`"), "{detail}");
    }
}
