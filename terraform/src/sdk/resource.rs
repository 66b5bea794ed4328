//! Managed resources: what an author implements ([`Resource`]) over their own model type, given
//! the provider's configured client `C`, and the value-level side the protocol servers call.
//!
//! The SDK does the protocol's part around each call: decoding and encoding values, validators,
//! plan modifiers (requires-replace, use-state-for-unknown, defaults), unknowns for computed
//! attributes, write-only attributes taken from configuration and kept out of plan and state,
//! state upgrades, and errors as diagnostics.
//!
//! In a model handed to an author, computed attributes the configuration leaves out are
//! [`MaybeUnknown::Unknown`](super::MaybeUnknown) (in a plan), and write-only attributes hold
//! their configured value.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::async_trait;

use super::bridge::{model, stored, value};
use super::errors::{error, Diagnostics};
use super::plan::{self, Planned};
use super::HasSchema;
use super::Schema;
use crate::schema::Nesting;
use crate::{Type, Value};

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
             cannot hold that ({why}): make its other required and computed fields \
             MaybeUnknown (optional ones Option), or implement Resource::import",
            identity.name
        ))
    })
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
            unreadable[0]
                .detail
                .contains("fields MaybeUnknown (optional ones Option)"),
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
