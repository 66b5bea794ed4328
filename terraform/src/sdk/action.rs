//! Actions (Terraform 1.14+): operations outside state, invoked with `-invoke` or by a
//! resource's `action_trigger`, reporting progress as they run.

use std::future::Future;

use serde::de::DeserializeOwned;
use tonic::async_trait;

use super::bridge::config_model;
use super::errors::Diagnostics;
use super::HasSchema;
use super::Schema;
use crate::Value;

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
