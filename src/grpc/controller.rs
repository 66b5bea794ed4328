//! `plugin.GRPCController`: one call, `Shutdown(Empty) → Empty`.
//!
//! A go-plugin host calls it from `Kill()`, ignores the result, and then waits up to 2 s for the
//! process to exit before killing it. The plugin side answers first and then stops serving, so the
//! host sees a clean reply and the process exits well inside the grace period.

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::plugin::Empty;

/// The plugin side of `plugin.GRPCController`: `Shutdown` cancels the serve token.
#[derive(Clone, Debug)]
pub struct Controller {
    shutdown: CancellationToken,
}

impl Controller {
    /// A controller that cancels `shutdown` when asked to shut down.
    pub fn new(shutdown: CancellationToken) -> Self {
        Controller { shutdown }
    }

    /// The tonic service.
    pub fn into_service(self) -> GrpcControllerServer<Self> {
        GrpcControllerServer::new(self)
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!(target: "go_plugin", "shutdown requested by the host");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}
