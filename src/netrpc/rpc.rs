//! Go's `net/rpc` over gob (PROTOCOL.md §5.6): the client sends `Request{ServiceMethod, Seq}` then
//! the argument; the server answers `Response{ServiceMethod, Seq, Error}` then the reply — and on
//! error still a body, an empty struct. Methods are named `"Service.Method"`.
//!
//! [`RpcClient`] makes one call at a time on its stream (calls from several tasks queue up);
//! [`RpcServer`] reads requests in order and runs each method in its own task, answering in
//! completion order, matched by `Seq`, as Go's server does.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use gobwire::{Decode, Encode, Gob};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::sync::Mutex;

use super::gob_stream::{GobReader, GobWriter};
use crate::conn::Conn;
use crate::error::Error;

/// net/rpc's request header.
#[derive(Gob, Debug, Default, Clone, PartialEq)]
pub struct Request {
    /// `"Service.Method"`.
    #[gob(name = "ServiceMethod")]
    pub service_method: String,
    /// Sequence number chosen by the client.
    #[gob(name = "Seq")]
    pub seq: u64,
}

/// net/rpc's response header.
#[derive(Gob, Debug, Default, Clone, PartialEq)]
pub struct Response {
    /// Echo of the request's method.
    #[gob(name = "ServiceMethod")]
    pub service_method: String,
    /// Echo of the request's sequence number.
    #[gob(name = "Seq")]
    pub seq: u64,
    /// The error text; empty on success.
    #[gob(name = "Error")]
    pub error: String,
}

/// Go's `struct{}`: the reply of `Control.*` and the body of error replies.
#[derive(Gob, Debug, Default, Clone, Copy, PartialEq)]
pub struct Empty {}

type ClientHalves = (GobReader<ReadHalf<Conn>>, GobWriter<WriteHalf<Conn>>, u64);

/// A net/rpc client on one stream.
#[derive(Clone)]
pub struct RpcClient {
    state: Arc<Mutex<ClientHalves>>,
}

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient").finish_non_exhaustive()
    }
}

impl RpcClient {
    /// A client speaking on `stream`.
    pub fn new(stream: Conn) -> Self {
        let (read, write) = tokio::io::split(stream);
        RpcClient {
            state: Arc::new(Mutex::new((GobReader::new(read), GobWriter::new(write), 0))),
        }
    }

    /// Calls `method` (`"Service.Method"`) with `arg` and decodes the reply as `R`. A remote error
    /// comes back as [`Error::Rpc`] with the remote text.
    pub async fn call<A: Encode + Sync, R: Decode + Default>(
        &self,
        method: &str,
        arg: &A,
    ) -> Result<R, Error> {
        let mut state = self.state.lock().await;
        let (reader, writer, next_seq) = &mut *state;
        let seq = *next_seq;
        *next_seq += 1;
        let request = Request {
            service_method: method.to_string(),
            seq,
        };
        writer.write(&[&request, arg]).await?;
        let response: Response = reader
            .read()
            .await?
            .ok_or_else(|| Error::PluginExited("connection is shut down".into()))?;
        if response.seq != seq {
            return Err(Error::Gob(format!(
                "reply for call {} while waiting for {seq}",
                response.seq
            )));
        }
        if !response.error.is_empty() {
            reader.skip().await?;
            return Err(Error::Rpc(response.error));
        }
        reader
            .read::<R>()
            .await?
            .ok_or_else(|| Error::PluginExited("unexpected EOF".into()))
    }
}

/// What a method returns: the reply, or an error text for the caller.
type Reply = Result<Box<dyn Encode + Send + Sync>, String>;

/// A registered method: decodes its argument from the stream, then runs.
trait Method: Send + Sync {
    fn decode<'a>(
        &'a self,
        reader: &'a mut GobReader<ReadHalf<Conn>>,
    ) -> BoxFuture<'a, Result<BoxFuture<'static, Reply>, Error>>;
}

struct Typed<A, F> {
    f: Arc<F>,
    _arg: PhantomData<fn() -> A>,
}

impl<A, R, F, Fut> Method for Typed<A, F>
where
    A: Decode + Default + Send + 'static,
    R: Encode + Send + Sync + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, String>> + Send + 'static,
{
    fn decode<'a>(
        &'a self,
        reader: &'a mut GobReader<ReadHalf<Conn>>,
    ) -> BoxFuture<'a, Result<BoxFuture<'static, Reply>, Error>> {
        Box::pin(async move {
            let arg: A = reader
                .read()
                .await?
                .ok_or_else(|| Error::Gob("the stream ended before the argument".into()))?;
            let f = self.f.clone();
            let call: BoxFuture<'static, Reply> = Box::pin(async move {
                f(arg)
                    .await
                    .map(|r| Box::new(r) as Box<dyn Encode + Send + Sync>)
            });
            Ok(call)
        })
    }
}

/// A net/rpc server: methods by `"Service.Method"` name.
#[derive(Clone, Default)]
pub struct RpcServer {
    methods: HashMap<String, Arc<dyn Method>>,
}

impl std::fmt::Debug for RpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.methods.keys()).finish()
    }
}

impl RpcServer {
    /// A server with no methods.
    pub fn new() -> Self {
        RpcServer::default()
    }

    /// Registers `f` as `method` (`"Service.Method"`): it gets the decoded argument and returns the
    /// reply or an error text (Go's `error`).
    pub fn method<A, R, F, Fut>(mut self, method: &str, f: F) -> Self
    where
        A: Decode + Default + Send + 'static,
        R: Encode + Send + Sync + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, String>> + Send + 'static,
    {
        let typed = Typed {
            f: Arc::new(f),
            _arg: PhantomData,
        };
        self.methods.insert(method.to_string(), Arc::new(typed));
        self
    }

    /// Serves requests on `stream` until it closes.
    pub async fn serve(self, stream: Conn) -> Result<(), Error> {
        let (read, write) = tokio::io::split(stream);
        let mut reader = GobReader::new(read);
        let writer = Arc::new(Mutex::new(GobWriter::new(write)));
        while let Some(request) = reader.read::<Request>().await? {
            let Some(method) = self.methods.get(&request.service_method).cloned() else {
                reader.skip().await?;
                let error = unknown_method_error(&request.service_method, self.methods.keys());
                respond(&writer, request, Err(error)).await?;
                continue;
            };
            let call = method.decode(&mut reader).await?;
            let writer = writer.clone();
            tokio::spawn(async move {
                let reply = call.await;
                if let Err(e) = respond(&writer, request, reply).await {
                    tracing::debug!(target: "go_plugin", error = %e, "net/rpc reply not delivered");
                }
            });
        }
        writer.lock().await.shutdown().await;
        Ok(())
    }
}

async fn respond(
    writer: &Mutex<GobWriter<WriteHalf<Conn>>>,
    request: Request,
    reply: Reply,
) -> Result<(), Error> {
    let (error, body): (String, Box<dyn Encode + Send + Sync>) = match reply {
        Ok(body) => (String::new(), body),
        Err(error) => (error, Box::new(Empty {})),
    };
    let response = Response {
        service_method: request.service_method,
        seq: request.seq,
        error,
    };
    writer.lock().await.write(&[&response, &*body]).await
}

/// Go's texts for a method the server does not have.
fn unknown_method_error<'a>(
    service_method: &str,
    known: impl Iterator<Item = &'a String>,
) -> String {
    let Some((service, _)) = service_method.rsplit_once('.') else {
        return format!("rpc: service/method request ill-formed: {service_method}");
    };
    let mut known = known;
    if known.any(|m| m.rsplit_once('.').is_some_and(|(s, _)| s == service)) {
        format!("rpc: can't find method {service_method}")
    } else {
        format!("rpc: can't find service {service_method}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Control.Ping as a Go net/rpc client sends it (PROTOCOL.md §5.8, verified bytes).
    const GO_PING: &[u8] = b"\x2f\xff\x81\x03\x01\x01\x07Request\x01\xff\x82\x00\x01\x02\x01\x0dServiceMethod\x01\x0c\x00\x01\x03Seq\x01\x06\x00\x00\x00\x11\xff\x82\x01\x0cControl.Ping\x00\x03\x02\x00\x01";

    #[tokio::test]
    async fn reads_go_bytes_of_a_control_ping() {
        let mut reader = GobReader::new(GO_PING);
        let request: Request = reader.read().await.unwrap().unwrap();
        assert_eq!(
            request,
            Request {
                service_method: "Control.Ping".into(),
                seq: 0
            }
        );
        assert!(reader.read::<bool>().await.unwrap().unwrap());
        assert!(reader.read::<Request>().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn client_and_server_round_trip_with_errors_and_unknown_methods() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let server = RpcServer::new()
            .method(
                "Plugin.Double",
                |n: i64| async move { Ok::<_, String>(n * 2) },
            )
            .method("Plugin.Fail", |_: bool| async move {
                Err::<Empty, _>("nope".to_string())
            });
        tokio::spawn(server.serve(Conn::new(b)));
        let client = RpcClient::new(Conn::new(a));
        assert_eq!(
            client
                .call::<_, i64>("Plugin.Double", &21i64)
                .await
                .unwrap(),
            42
        );
        let err = client
            .call::<_, Empty>("Plugin.Fail", &true)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "nope");
        let err = client
            .call::<_, Empty>("Plugin.Nope", &true)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "rpc: can't find method Plugin.Nope");
        let err = client.call::<_, Empty>("Other.X", &true).await.unwrap_err();
        assert_eq!(err.to_string(), "rpc: can't find service Other.X");
        assert_eq!(
            client.call::<_, i64>("Plugin.Double", &5i64).await.unwrap(),
            10
        );
    }
}
