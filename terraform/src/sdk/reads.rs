//! Parts that read without keeping state: data sources, and ephemeral resources (Terraform
//! 1.10+), whose results never enter plan or state. In their configuration models, computed
//! attributes are [`MaybeUnknown::Unknown`](super::MaybeUnknown).

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::async_trait;

use super::bridge::{config_model, stored, value};
use super::errors::{error, Diagnostics};
use super::HasSchema;
use super::Schema;
use crate::Value;

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
