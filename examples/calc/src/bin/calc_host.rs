//! The calc host: launches the plugin given by the shell command in `CALC_PLUGIN` (a Rust or a Go
//! calc plugin) with AutoMTLS and runs one command:
//!
//! ```text
//! calc_host add A B             a + b (unary)
//! calc_host count START END     the numbers from START to END, one per line (server stream)
//! calc_host fold OP V1 V2 ...   the values folded with OP (sum, product or max), which this host
//!                               serves through the broker for the plugin to call back
//! ```
//!
//! Errors print `error: ...` and exit 1.

use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::tonic::service::Routes;
use go_plugin::tonic::{async_trait, Request, Response, Status};
use go_plugin_example_calc::calc::calculator_client::CalculatorClient;
use go_plugin_example_calc::calc::operator_server::{Operator, OperatorServer};
use go_plugin_example_calc::calc::{FoldRequest, Number, Operands, Range};

type BoxError = Box<dyn std::error::Error>;

/// The host's side of `Fold`: one binary operation.
struct HostOperator(fn(i64, i64) -> Option<i64>);

#[async_trait]
impl Operator for HostOperator {
    async fn apply(&self, request: Request<Operands>) -> Result<Response<Number>, Status> {
        let Operands { a, b } = request.into_inner();
        let value = (self.0)(a, b).ok_or_else(|| Status::out_of_range("int64 overflow"))?;
        Ok(Response::new(Number { value }))
    }
}

fn operator(name: &str) -> Result<HostOperator, BoxError> {
    Ok(HostOperator(match name {
        "sum" => i64::checked_add,
        "product" => i64::checked_mul,
        "max" => |a: i64, b: i64| Some(a.max(b)),
        _ => return Err(format!("unknown operator {name:?}: use sum, product or max").into()),
    }))
}

fn number(arg: &str) -> Result<i64, BoxError> {
    Ok(arg
        .parse()
        .map_err(|e| format!("{arg:?} is not an integer: {e}"))?)
}

async fn run(host: &Host, args: &[String]) -> Result<(), BoxError> {
    let mut calc: CalculatorClient<_> = host.client("calc").await?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["add", a, b] => {
            let (a, b) = (number(a)?, number(b)?);
            println!("{}", calc.add(Operands { a, b }).await?.into_inner().value);
        }
        ["count", start, end] => {
            let (start, end) = (number(start)?, number(end)?);
            let mut numbers = calc.count(Range { start, end }).await?.into_inner();
            while let Some(number) = numbers.message().await? {
                println!("{}", number.value);
            }
        }
        ["fold", op, ref values @ ..] => {
            let values = values.iter().map(|v| number(v)).collect::<Result<_, _>>()?;
            let broker = host.broker().await?;
            let operator_id = broker.next_id();
            let service = Routes::new(OperatorServer::new(operator(op)?));
            let server = broker.accept_and_serve(operator_id, service).await?;
            let folded = calc
                .fold(FoldRequest {
                    operator_id,
                    values,
                })
                .await;
            server.stop().await; // this callback server alone
            println!("{}", folded?.into_inner().value);
        }
        _ => return Err("usage: calc_host add A B | count START END | fold OP V...".into()),
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    go_plugin::log::init_host().ok();
    let Ok(plugin) = std::env::var("CALC_PLUGIN") else {
        println!("error: set CALC_PLUGIN to the command that starts the plugin");
        std::process::exit(1);
    };
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(plugin);
    let config = HostConfig::new(go_plugin_example_calc::handshake())
        .plugins(ClientSet::new().grpc("calc"))
        .command(command)
        .auto_mtls(true);
    let host = Host::new(config);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = run(&host, &args).await;
    host.kill().await;
    if let Err(e) = result {
        println!("error: {e}");
        std::process::exit(1);
    }
}
