//! Dispensing a plugin's client (go-plugin's `Dispense`): typed for gRPC clients
//! ([`Host::client`]), through the plugin set's factories otherwise ([`Host::dispense`]), and the
//! host's side of the broker. No RPC is made: clients share the plugin's one connection.

use std::any::Any;

use super::lifecycle::Host;
use super::{GrpcBroker, GrpcClient};
use crate::error::Error;
#[cfg(feature = "netrpc")]
use crate::handshake::Protocol;

impl Host {
    /// The gRPC client of plugin `name` of the negotiated set, built by its type (no RPC is made):
    /// `let mut calc: CalculatorClient<_> = host.client("calc").await?;`. The name must be in the
    /// set (any gRPC entry: [`ClientSet::grpc`] or [`ClientSet::plugin`]); the set's factory is
    /// not used.
    ///
    /// [`ClientSet::grpc`]: super::ClientSet::grpc
    /// [`ClientSet::plugin`]: super::ClientSet::plugin
    pub async fn client<C: GrpcClient>(&self, name: &str) -> Result<C, Error> {
        let connection = self.connection().await?;
        let running = self.inner.running.lock().await;
        let running = running
            .as_ref()
            .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
        if !running.set.factories.contains_key(name) {
            return Err(unknown_plugin(name));
        }
        Ok(C::from_connection(&connection))
    }

    /// The host's side of the plugin's broker (go-plugin's `GRPCBroker` on the client side): serve
    /// a callback service with [`GrpcBroker::accept_and_serve`] and hand its id to the plugin, or
    /// dial a service the plugin serves with [`GrpcBroker::dial`].
    pub async fn broker(&self) -> Result<GrpcBroker, Error> {
        Ok(self.connection().await?.broker().clone())
    }

    /// Builds the client of plugin `name` from the negotiated set (go-plugin's `Dispense`; no RPC
    /// is made). `T` must be the type the set's factory builds; [`Host::client`] is the typed form
    /// for gRPC clients.
    pub async fn dispense<T: Any + Send>(&self, name: &str) -> Result<T, Error> {
        self.start().await?;
        #[cfg(feature = "netrpc")]
        if self.protocol().await == Some(Protocol::NetRpc) {
            return self.dispense_netrpc(name).await;
        }
        let connection = self.connection().await?;
        let running = self.inner.running.lock().await;
        let running = running
            .as_ref()
            .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
        let factory = running
            .set
            .factories
            .get(name)
            .ok_or_else(|| unknown_plugin(name))?;
        factory(&connection)
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| wrong_type::<T>(name))
    }

    #[cfg(feature = "netrpc")]
    async fn dispense_netrpc<T: Any + Send>(&self, name: &str) -> Result<T, Error> {
        let factory = {
            let running = self.inner.running.lock().await;
            let running = running
                .as_ref()
                .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
            running
                .set
                .netrpc_factories
                .get(name)
                .cloned()
                .ok_or_else(|| unknown_plugin(name))?
        };
        let session = self.netrpc().await?;
        let rpc = session.dispense(name).await?;
        factory(rpc, session.broker())
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| wrong_type::<T>(name))
    }
}

fn unknown_plugin(name: &str) -> Error {
    Error::Config(format!("unknown plugin type: {name}"))
}

fn wrong_type<T>(name: &str) -> Error {
    Error::Config(format!(
        "plugin {name:?} builds a different type than the {} asked for",
        std::any::type_name::<T>()
    ))
}
