//! `GET /metrics`: on the API socket (reader role), and on the optional plain-HTTP loopback
//! listener `api.metrics_listen` for a Prometheus on the host. The values that are state rather
//! than events (the session limit, virtual sessions, leases) are read from the daemon as the
//! scrape comes; nothing here sends a request to the BMC.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::reply::{error, Reply};
use super::Api;
use crate::metrics::{self, BMC};

/// The path on every listener.
pub const PATH: &str = "/metrics";
/// Connections to `api.metrics_listen` at once: a Prometheus needs one.
const MAX_CONNECTIONS: usize = 8;
/// A request's headers must come within this; a scrape is one small GET.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

impl super::Core {
    /// The exposition now, with the limit, virtual sessions and leases as they are.
    pub async fn metrics_text(&self) -> String {
        let m = metrics::global();
        m.bmc.set_limit(BMC, *self.service.limit.lock().await);
        m.virtual_sessions
            .set(self.proxy.virtual_sessions().len() as i64);
        m.leases.set(self.service.leases.len().await as i64);
        m.encode()
    }
}

impl Api {
    /// The exposition now; while connecting, the limit is the configured one.
    pub async fn metrics_text(&self) -> String {
        let m = metrics::global();
        for hmc in &self.hmcs.all() {
            m.hmc_virtual_sessions
                .get_or_create(&vec![("hmc", hmc.settings.name.clone())])
                .set(hmc.sessions.len() as i64);
        }
        match self.core() {
            Some(core) => core.metrics_text().await,
            None => {
                let m = metrics::global();
                m.bmc.set_limit(BMC, self.settings_limit());
                m.encode()
            }
        }
    }

    pub async fn metrics_reply(&self) -> Reply {
        let mut reply = Response::new(Bytes::from(self.metrics_text().await));
        reply.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(metrics::CONTENT_TYPE),
        );
        reply
    }
}

/// Binds `api.metrics_listen` (loopback only; config validation refuses other addresses).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    if !addr.ip().is_loopback() {
        anyhow::bail!("api.metrics_listen must be a loopback address, not {addr}");
    }
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (api.metrics_listen): {e}"))
}

/// Replaces the node_exporter textfile (`metrics.textfile`) with `text`; a failure is logged.
pub async fn write_textfile(path: Option<&std::path::Path>, text: String) {
    let Some(path) = path.map(std::path::Path::to_path_buf) else {
        return;
    };
    let shown = path.display().to_string();
    let written = tokio::task::spawn_blocking(move || metrics::textfile::write(&path, &text)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(path = %shown, error = %e, "cannot write the metrics textfile (metrics.textfile)")
        }
        Err(e) => tracing::warn!(path = %shown, error = %e, "the metrics textfile task failed"),
    }
}

/// Serves `GET /metrics` in plain HTTP/1.1 until the daemon stops. Any local user may read the
/// metrics (they hold counts, never a session id, a user name or a token), so no peer lookup.
pub async fn serve(api: Arc<Api>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        // A connection beyond the slots is closed at once.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let (api, mut stop) = (api.clone(), stop.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let api = api.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&api, &req).await.map(Full::new)) }
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
            drop(slot);
        });
    }
}

async fn answer(api: &Api, req: &Request<Incoming>) -> Reply {
    match (req.method(), req.uri().path()) {
        (&Method::GET, PATH) => api.metrics_reply().await,
        (_, PATH) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{} is not allowed on {PATH}", req.method()),
        ),
        (_, path) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("this listener serves only {PATH}, not {path}"),
        ),
    }
}
