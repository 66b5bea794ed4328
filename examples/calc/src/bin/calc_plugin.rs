//! The calc plugin: serves `calc.Calculator` to a go-plugin host (Go or Rust), and calls back into
//! the host's `calc.Operator` through the broker for `Fold`.
//!
//! ```text
//! CALC_PLUGIN=calc_plugin calc_host add 2 3      # Rust host
//! calc-host -plugin calc_plugin fold sum 1 2 3   # Go host (go-testdata/calc/host)
//! ```

use go_plugin::broker::GrpcBroker;
use go_plugin::plugin::{serve, PluginSet, ServeConfig};
use go_plugin::tokio_stream::{self, Iter};
use go_plugin::tonic::{async_trait, Request, Response, Status};
use go_plugin::tracing;
use go_plugin_example_calc::calc::calculator_server::{Calculator, CalculatorServer};
use go_plugin_example_calc::calc::operator_client::OperatorClient;
use go_plugin_example_calc::calc::{self, FoldRequest, Number, Operands, Range};

/// The most numbers one `Count` sends.
const MAX_COUNT: i64 = 10_000;

struct MyCalc {
    broker: GrpcBroker,
}

#[async_trait]
impl Calculator for MyCalc {
    async fn add(&self, request: Request<Operands>) -> Result<Response<Number>, Status> {
        let Operands { a, b } = request.into_inner();
        tracing::info!(a, b, "adding");
        let value = a
            .checked_add(b)
            .ok_or_else(|| Status::out_of_range(format!("{a} + {b} overflows int64")))?;
        Ok(Response::new(Number { value }))
    }

    type CountStream = Iter<std::vec::IntoIter<Result<Number, Status>>>;

    async fn count(&self, request: Request<Range>) -> Result<Response<Self::CountStream>, Status> {
        let Range { start, end } = request.into_inner();
        if end < start || end - start >= MAX_COUNT {
            return Err(Status::invalid_argument(format!(
                "count from {start} to {end}: the end must be at least the start, and at most {MAX_COUNT} numbers"
            )));
        }
        let numbers: Vec<_> = (start..=end).map(|value| Ok(Number { value })).collect();
        Ok(Response::new(tokio_stream::iter(numbers)))
    }

    async fn fold(&self, request: Request<FoldRequest>) -> Result<Response<Number>, Status> {
        let FoldRequest {
            operator_id,
            values,
        } = request.into_inner();
        let mut operator = OperatorClient::new(self.broker.dial(operator_id).await?);
        let mut values = values.into_iter();
        let mut value = values
            .next()
            .ok_or_else(|| Status::invalid_argument("fold needs at least one value"))?;
        for b in values {
            value = operator
                .apply(Operands { a: value, b })
                .await?
                .into_inner()
                .value;
        }
        Ok(Response::new(Number { value }))
    }
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let plugins = PluginSet::new()
        .grpc("calc", |broker| CalculatorServer::new(MyCalc { broker }))
        .reflection(calc::FILE_DESCRIPTOR_SET);
    serve(ServeConfig::new(go_plugin_example_calc::handshake()).plugins(plugins)).await
}
