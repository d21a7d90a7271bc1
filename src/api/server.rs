//! The local API server: HTTP/1.1 on the Unix socket, each connection attributed to its peer
//! (SO_PEERCRED) at accept, before anything is read: a peer with no role is answered 403 at
//! once and the others get a slot by their role ([`super::admission`]). Header reads and body
//! reads are timed out and bodies bounded by role. The loopback HTTPS listener
//! ([`super::tls_listener`]) serves its connections the same way.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::sync::watch;

use super::admission::{Admission, Admitted, Refusal, Ticket};
use super::refusals::RefusalLog;
use super::reply::{self, Reply};
use super::routes;
use super::Api;
use super::Scope;
use crate::peer::{Peer, Role, Roles};
use crate::proxy::body::Body;
use crate::proxy::{Answer, Via};
use crate::transport::TransportError;

pub use super::admission::MAX_CONNECTIONS;

/// API request bodies above this are refused (413); it is also a reader's limit on the proxy.
pub const MAX_REQUEST: usize = 64 << 10;
/// A request's headers (and an idle keep-alive connection's next request) must come within this.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A request's body must have come in full this long after its headers.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a refused peer's request is waited for and drained, so that closing does not
/// reset the connection before the client has read the 403.
const LINGER: Duration = Duration::from_secs(2);
/// How often summaries of refused connections are due ([`RefusalLog::tick`]).
pub const REFUSAL_TICK: Duration = Duration::from_secs(5);

/// What a listener decides at accept: who the peer is (the role lookup, which may block, runs
/// off the accept loop: [`Roles`]), whether it gets a slot, and what is logged when not.
pub struct Gate {
    pub roles: Arc<Roles>,
    pub admission: Arc<Admission>,
    pub refusals: RefusalLog,
}

impl Gate {
    pub fn new(api: &Api, listener: &'static str) -> Arc<Gate> {
        let s = &api.settings;
        Arc::new(Gate {
            roles: Roles::new(&s.admin_group, &s.reader_group),
            admission: Admission::new(),
            refusals: RefusalLog::new(listener),
        })
    }
}

pub async fn serve(api: Arc<Api>, listener: UnixListener, stop: watch::Receiver<bool>) {
    let gate = Gate::new(&api, "API socket");
    let mut tick = tokio::time::interval(REFUSAL_TICK);
    let mut stop_accept = stop.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = tick.tick() => {
                gate.refusals.tick();
                continue;
            }
            _ = stop_accept.changed() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        // SO_PEERCRED is a plain getsockopt; the role lookup behind it is not.
        let Ok(cred) = stream.peer_cred() else {
            gate.refusals.refused(None, Refusal::Unknown);
            continue;
        };
        // Awaited, not blocking: a lookup runs on a blocking thread, once a minute per uid.
        // Admitting here, in accept order, keeps the slots in the order peers asked for them.
        let (role, gid) = gate.roles.of(cred.uid(), Some(cred.gid())).await;
        let peer = Peer {
            uid: cred.uid(),
            gid,
            pid: cred.pid(),
            role,
        };
        match gate.admission.admit(&peer) {
            Err(reason) => gate.refusals.refused(Some(peer.uid), reason),
            Ok(Admitted::Refuse(ticket)) => {
                gate.refusals.refused(Some(peer.uid), Refusal::NoRole);
                tokio::spawn(refuse(stream, peer, ticket));
            }
            Ok(Admitted::Serve(ticket)) => {
                let (api, stop) = (api.clone(), stop.clone());
                let via = (Via::Unix, Scope::Api);
                tokio::spawn(serve_connection(api, stream, peer, via, stop, ticket));
            }
        }
    }
    gate.refusals.flush();
}

/// Answers a peer with no role 403 without parsing its request: waits (bounded) for the
/// request to arrive, answers, and drains (bounded) what else it sends, in a fixed buffer.
pub async fn refuse<S>(mut stream: S, peer: Peer, _ticket: Ticket)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let body = serde_json::json!({ "error": { "code": "forbidden", "message": format!(
        "uid {} may not use hostagentd: it needs the reader role (the reader group) to read, \
         admin (root or the admin group) for changes", peer.uid) } })
    .to_string();
    let answer = format!(
        "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    let mut sink = [0u8; 4096];
    let exchange = async {
        // A client that has not sent its request yet would read the answer as unexpected.
        let _ = tokio::time::timeout(LINGER / 4, stream.read(&mut sink)).await;
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        let mut drained = 0;
        while drained < MAX_REQUEST {
            match stream.read(&mut sink).await? {
                0 => break,
                n => drained += n,
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(LINGER, exchange).await;
}

/// Serves HTTP/1.1 on one accepted connection until it closes or the daemon stops.
pub async fn serve_connection<S>(
    api: Arc<Api>,
    stream: S,
    peer: Peer,
    (via, scope): (Via, Scope),
    mut stop: watch::Receiver<bool>,
    _ticket: Ticket,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (api, scope) = (api.clone(), scope.clone());
        async move {
            Ok::<_, std::convert::Infallible>(wire(
                serve_request(&api, peer, via, scope, req).await,
            ))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => conn.as_mut().graceful_shutdown(),
    }
}

/// What goes on the wire: the answer's body (whole, or the BMC's stream: [`Body`]), or the
/// lines a streamed API reply yields ([`super::stream`]).
type WireBody = http_body_util::combinators::UnsyncBoxBody<Bytes, TransportError>;

fn wire(mut answer: Answer) -> http::Response<WireBody> {
    let streamed = answer
        .extensions_mut()
        .remove::<super::stream::Streamed>()
        .and_then(|s| s.take());
    match streamed {
        Some(rx) => {
            let lines = futures::stream::unfold(rx, |mut rx| async move {
                let line = rx.recv().await?;
                Some((Ok(hyper::body::Frame::data(line)), rx))
            });
            answer.map(|_| http_body_util::StreamBody::new(lines).boxed_unsync())
        }
        None => answer.map(|b| b.boxed_unsync()),
    }
}

/// How much of a body this peer's request may have read: readers only need one to log in
/// through the proxy (a POST); nothing else they may do takes a body, so none is read.
fn body_limit(role: Role, method: &Method, path: &str, scope: &Scope) -> usize {
    if *scope != Scope::Api || routes::hmc_path(path).is_some() {
        // Readers only log on (PUT of a LogonRequest).
        return match role {
            Role::Admin => crate::proxy::MAX_REQUEST,
            Role::Reader if method == Method::PUT => MAX_REQUEST,
            _ => 0,
        };
    }
    let proxy = routes::is_proxy_path(path);
    match role {
        Role::Admin if proxy => crate::proxy::MAX_REQUEST,
        Role::Admin => MAX_REQUEST,
        Role::Reader if proxy && method == Method::POST => MAX_REQUEST,
        _ => 0,
    }
}

async fn serve_request(
    api: &Api,
    peer: Peer,
    via: Via,
    scope: Scope,
    req: Request<Incoming>,
) -> Answer {
    let path = req.uri().path();
    if scope == Scope::Api && path == super::metrics::PATH && peer.role >= Role::Reader {
        return match *req.method() {
            Method::GET => Box::pin(api.metrics_reply()).await.map(Body::from),
            _ => reply::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed on /metrics", req.method()),
            )
            .map(Body::from),
        };
    }
    let hmc = scope != Scope::Api || routes::hmc_path(path).is_some();
    let Some(daemon) = api.core().filter(|_| !hmc) else {
        if !hmc {
            return Box::pin(api.connecting_reply(&peer, req.method(), req.uri().path()))
                .await
                .map(Body::from);
        }
        let (parts, body) = req.into_parts();
        let limit = body_limit(peer.role, &parts.method, parts.uri.path(), &scope);
        let body = match read_limited(body, limit).await {
            Ok(b) => b,
            Err(reply) => return reply.map(Body::from),
        };
        return Box::pin(routes::hmc(
            api,
            &peer,
            scope,
            Request::from_parts(parts, body),
        ))
        .await
        .map(Body::from);
    };
    let (parts, body) = req.into_parts();
    let limit = body_limit(peer.role, &parts.method, parts.uri.path(), &scope);
    // A request without a body (most GETs) needs no timer and no collecting.
    let body = if limit == 0 || body.is_end_stream() {
        Bytes::new()
    } else {
        match read_body(body, limit).await {
            Ok(b) => b,
            Err(reply) => return reply.map(Body::from),
        }
    };
    let req = Request::from_parts(parts, body);
    if req.method() == Method::POST
        && req.uri().path() == "/v1/clean"
        && peer.role >= Role::Admin
        && super::stream::wants_ndjson(&req)
    {
        return super::stream::clean(daemon.clone(), &req).map(Body::from);
    }
    routes::handle(daemon, peer, via, req).await
}

async fn read_limited(body: Incoming, limit: usize) -> Result<Bytes, Reply> {
    if limit == 0 {
        return Ok(Bytes::new());
    }
    read_body(body, limit).await
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, Reply> {
    match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, limit).collect()).await {
        Ok(Ok(b)) => Ok(b.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request bodies are limited to {limit} bytes here"),
        )),
        Ok(Err(e)) => Err(reply::error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("reading the request body: {e}"),
        )),
        Err(_) => Err(reply::error(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!(
                "the request body did not arrive within {}s",
                BODY_TIMEOUT.as_secs()
            ),
        )),
    }
}
