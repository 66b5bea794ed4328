//! Go's `net/rpc` over gob (PROTOCOL.md §5.6): the client sends `Request{ServiceMethod, Seq}` then
//! the argument; the server answers `Response{ServiceMethod, Seq, Error}` then the reply — and on
//! error still a body, an empty struct. Methods are named `"Service.Method"`.
//!
//! [`RpcClient`] multiplexes calls by `Seq` as Go's client does, and a dropped call leaves it
//! usable; [`RpcServer`] reads requests in order and runs each method in its own task, answering in
//! completion order, matched by `Seq`, as Go's server does.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex as StdMutex};

use futures_util::future::BoxFuture;
use gobwire::{Decode, Encode, Gob};
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::AbortHandle;

use super::gob_stream::{write_bytes, GobEncoder, GobReader, GobWriter};
use crate::conn::Conn;
use crate::error::Error;
use crate::lock::lock;

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

/// A net/rpc client on one stream.
///
/// Calls are multiplexed by sequence number, as Go's `net/rpc` client does: any number may be in
/// flight from any number of tasks. One reader task takes each reply off the stream and hands it
/// to the call waiting for its `Seq`; a reply nobody waits for any more (its call future was
/// dropped) is read and thrown away, so dropping a call never breaks the client. Requests are
/// encoded and queued in one step under a lock and written by one writer task, so a dropped call
/// never leaves half a message on the stream.
#[derive(Clone)]
pub struct RpcClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    calls: Arc<StdMutex<Calls>>,
    /// The encoder and the writer task's queue, together: encoding order is sending order.
    outgoing: StdMutex<(GobEncoder, mpsc::UnboundedSender<Vec<u8>>)>,
    tasks: [AbortHandle; 2],
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Calls waiting for their replies, by `Seq`.
#[derive(Default)]
struct Calls {
    next_seq: u64,
    waiting: HashMap<u64, ReplySlot>,
    /// Why the connection is unusable, once it is.
    closed: Option<String>,
}

impl Calls {
    fn close(&mut self, why: &str) {
        self.closed.get_or_insert_with(|| why.to_string());
        for (_, slot) in self.waiting.drain() {
            slot(Err(Error::PluginExited(why.to_string())));
        }
    }
}

/// Takes a call's reply: the decoder holding its body, or why there is none.
type ReplySlot = Box<dyn FnOnce(Result<ReplyBody<'_>, Error>) + Send>;

/// The body of a successful reply, buffered in the stream's decoder.
type ReplyBody<'a> = &'a mut GobReader<ReadHalf<Conn>>;

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient").finish_non_exhaustive()
    }
}

impl RpcClient {
    /// A client speaking on `stream`.
    pub fn new(stream: Conn) -> Self {
        let (read, write) = tokio::io::split(stream);
        let calls = Arc::new(StdMutex::new(Calls::default()));
        let (queue, outgoing) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_requests(write, outgoing, calls.clone()));
        let reader = tokio::spawn(read_replies(GobReader::new(read), calls.clone()));
        RpcClient {
            inner: Arc::new(ClientInner {
                calls,
                outgoing: StdMutex::new((GobEncoder::default(), queue)),
                tasks: [writer.abort_handle(), reader.abort_handle()],
            }),
        }
    }

    /// Calls `method` (`"Service.Method"`) with `arg` and decodes the reply as `R`. A remote error
    /// comes back as [`Error::Rpc`] with the remote text.
    pub async fn call<A: Encode + Sync, R: Decode + Default + Send + 'static>(
        &self,
        method: &str,
        arg: &A,
    ) -> Result<R, Error> {
        let (reply, replied) = oneshot::channel::<Result<R, Error>>();
        let seq = {
            let mut calls = lock(&self.inner.calls);
            if let Some(why) = &calls.closed {
                return Err(Error::PluginExited(why.clone()));
            }
            let seq = calls.next_seq;
            calls.next_seq += 1;
            let slot: ReplySlot = Box::new(move |body: Result<ReplyBody<'_>, Error>| {
                let _ = reply.send(body.and_then(|reader| reader.decode_buffered::<R>()));
            });
            calls.waiting.insert(seq, slot);
            seq
        };
        let _forget = ForgetOnDrop {
            calls: &self.inner.calls,
            seq,
        };
        let request = Request {
            service_method: method.to_string(),
            seq,
        };
        {
            let mut outgoing = lock(&self.inner.outgoing);
            let (encoder, queue) = &mut *outgoing;
            let bytes = encoder.encode(&[&request, arg])?;
            if queue.send(bytes).is_err() {
                return Err(Error::PluginExited("connection is shut down".into()));
            }
        }
        replied
            .await
            .unwrap_or_else(|_| Err(Error::PluginExited("connection is shut down".into())))
    }
}

/// Removes a call from the waiting list when its future ends (finished or dropped).
struct ForgetOnDrop<'a> {
    calls: &'a StdMutex<Calls>,
    seq: u64,
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        lock(self.calls).waiting.remove(&self.seq);
    }
}

/// The writer task: sends queued requests in order until the client is dropped or a write fails.
async fn write_requests(
    mut write: WriteHalf<Conn>,
    mut outgoing: mpsc::UnboundedReceiver<Vec<u8>>,
    calls: Arc<StdMutex<Calls>>,
) {
    while let Some(bytes) = outgoing.recv().await {
        if let Err(e) = write_bytes(&mut write, &bytes).await {
            lock(&calls).close(&format!("connection is shut down: {e}"));
            return;
        }
    }
    let _ = write.shutdown().await;
}

/// The reader task: hands each reply to the call waiting for its `Seq` until the stream ends.
async fn read_replies(mut reader: GobReader<ReadHalf<Conn>>, calls: Arc<StdMutex<Calls>>) {
    let why = loop {
        let response = match reader.read::<Response>().await {
            Ok(Some(response)) => response,
            Ok(None) => break "connection is shut down".to_string(),
            Err(e) => break format!("connection is shut down: {e}"),
        };
        match reader.fill().await {
            Ok(true) => {}
            Ok(false) => break "connection is shut down: unexpected EOF".to_string(),
            Err(e) => break format!("connection is shut down: {e}"),
        }
        let slot = lock(&calls).waiting.remove(&response.seq);
        match slot {
            Some(slot) if response.error.is_empty() => slot(Ok(&mut reader)),
            Some(slot) => slot(Err(Error::Rpc(response.error))),
            None => {}
        }
        // Whatever the slot did not take (an error body, a reply nobody waits for) is dropped.
        let _ = reader.discard_buffered();
    };
    lock(&calls).close(&why);
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

    /// A server whose `Plugin.Wait` answers only when told to, and `Plugin.Double` at once.
    fn waiting_server() -> (RpcServer, Arc<tokio::sync::Notify>) {
        let release = Arc::new(tokio::sync::Notify::new());
        let released = release.clone();
        let server = RpcServer::new()
            .method(
                "Plugin.Double",
                |n: i64| async move { Ok::<_, String>(n * 2) },
            )
            .method("Plugin.Wait", move |n: i64| {
                let released = released.clone();
                async move {
                    released.notified().await;
                    Ok::<_, String>(n)
                }
            });
        (server, release)
    }

    #[tokio::test]
    async fn calls_in_flight_together_get_their_own_replies() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let (server, release) = waiting_server();
        tokio::spawn(server.serve(Conn::new(b)));
        let client = RpcClient::new(Conn::new(a));
        let slow = tokio::spawn({
            let client = client.clone();
            async move { client.call::<_, i64>("Plugin.Wait", &7i64).await }
        });
        // The slow call is in flight while these are answered, out of order.
        let doubles = futures_util::future::join_all((0..20i64).map(|n| {
            let client = client.clone();
            async move { client.call::<_, i64>("Plugin.Double", &n).await.unwrap() }
        }))
        .await;
        assert_eq!(doubles, (0..20).map(|n| n * 2).collect::<Vec<_>>());
        release.notify_one();
        assert_eq!(slow.await.unwrap().unwrap(), 7);
    }

    #[tokio::test]
    async fn a_call_dropped_in_flight_leaves_the_client_usable() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let (server, release) = waiting_server();
        tokio::spawn(server.serve(Conn::new(b)));
        let client = RpcClient::new(Conn::new(a));
        let dropped = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            client.call::<_, i64>("Plugin.Wait", &1i64),
        )
        .await;
        assert!(dropped.is_err(), "the waiting call should have timed out");
        // Its reply arrives after the call is gone: it must not be taken for the next one.
        release.notify_one();
        for n in 0..3i64 {
            assert_eq!(
                client.call::<_, i64>("Plugin.Double", &n).await.unwrap(),
                n * 2
            );
        }
    }

    #[tokio::test]
    async fn calls_fail_at_once_when_the_connection_ends() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let client = RpcClient::new(Conn::new(a));
        let pending = tokio::spawn({
            let client = client.clone();
            async move { client.call::<_, i64>("Plugin.Double", &1i64).await }
        });
        tokio::task::yield_now().await;
        drop(b);
        let err = pending.await.unwrap().unwrap_err();
        assert!(matches!(err, Error::PluginExited(_)), "{err}");
        let err = client
            .call::<_, i64>("Plugin.Double", &1i64)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::PluginExited(_)), "{err}");
    }
}
