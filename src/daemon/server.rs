//! The local API server: HTTP/1.1 on the Unix socket, each connection attributed to its peer
//! (SO_PEERCRED), request bodies bounded, header reads timed out, connections bounded. The
//! loopback HTTPS listener ([`super::tls_listener`]) serves its connections the same way.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::UnixListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use super::peer::Peer;
use super::routes;
use super::Daemon;
use crate::proxy::Via;

/// API request bodies above this are refused (413).
pub const MAX_REQUEST: usize = 64 << 10;
pub const MAX_CONNECTIONS: usize = 256;
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(daemon: Arc<Daemon>, listener: UnixListener, stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut stop_accept = stop.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop_accept.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!("too many API connections: refusing one");
            continue;
        };
        let s = &daemon.settings.api;
        let peer = match Peer::of_unix(&stream, &s.admin_group, &s.reader_group) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the peer's credentials: closing");
                continue;
            }
        };
        tokio::spawn(serve_connection(
            daemon.clone(),
            stream,
            peer,
            Via::Unix,
            stop.clone(),
            permit,
        ));
    }
}

/// Serves HTTP/1.1 on one accepted connection until it closes or the daemon stops.
pub async fn serve_connection<S>(
    daemon: Arc<Daemon>,
    stream: S,
    peer: Peer,
    via: Via,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let daemon = daemon.clone();
        async move {
            Ok::<_, std::convert::Infallible>(one(&daemon, peer, via, req).await.map(Full::new))
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

async fn one(daemon: &Daemon, peer: Peer, via: Via, req: Request<Incoming>) -> routes::Reply {
    let (parts, body) = req.into_parts();
    let limit = if routes::is_proxy_path(parts.uri.path()) {
        crate::proxy::MAX_REQUEST
    } else {
        MAX_REQUEST
    };
    let body: Bytes = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return routes::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("request bodies are limited to {limit} bytes here"),
            )
        }
    };
    routes::handle(daemon, peer, via, Request::from_parts(parts, body)).await
}

/// Binds the API socket (see [`super::socket::bind`]).
pub use super::socket::bind;
