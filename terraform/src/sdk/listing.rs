//! List resources (`terraform query`, Terraform 1.14+): the existing objects of a managed
//! resource type that match a `config` block.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::async_trait;

use super::bridge::{config_model, stored, value};
use super::errors::Diagnostics;
use super::HasSchema;
use super::Schema;
use crate::Value;

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
