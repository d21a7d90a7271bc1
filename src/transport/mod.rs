//! How bytes reach the BMC. One trait, [`Transport`], sends one HTTP request and returns the
//! answer; everything above it (session core, reaper, proxy) is transport-blind.
//!
//! Implementations: `https` (hyper + rustls with explicit trust) and `chif` (HPE's CHIF
//! library loaded at run time). Dispatch on the configured transport happens in one place,
//! the daemon's start-up.

pub mod chif;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub mod https;
pub mod metered;
pub mod rebind;
mod pool;
pub mod streamed;
pub mod trust;
mod upstream;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

/// One Redfish request. `path` is the path and query under the service root, e.g.
/// `/redfish/v1/SessionService/Sessions?$expand=.`; the transport supplies scheme and authority.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Overrides the transport's default timeout (logout at shutdown uses a fresh, short one).
    pub timeout: Option<Duration>,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// A request with a JSON body and its content type.
    pub fn json(method: Method, path: impl Into<String>, body: &serde_json::Value) -> Self {
        let mut req = Self::new(method, path);
        req.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        req.body =
            Bytes::from(serde_json::to_vec(body).expect("a serde_json::Value always serializes"));
        req
    }

    pub fn header(mut self, name: http::header::HeaderName, value: http::HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The BMC's answer, whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The `Date` header (IMF-fixdate, RFC 9110), if the BMC sent a valid one: the BMC's clock.
    pub fn date(&self) -> Option<time::OffsetDateTime> {
        let text = self.header_str("date")?;
        let format = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        time::PrimitiveDateTime::parse(text.trim(), &format)
            .ok()
            .map(|t| t.assume_utc())
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why a request did not get an HTTP answer. An HTTP error status is not a `TransportError`:
/// it is a [`Response`] for the layer above to judge.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("request to {endpoint} timed out after {after:?}")]
    Timeout { endpoint: String, after: Duration },
    #[error("the BMC's TLS certificate changed: expected {expected}, got {actual}")]
    CertificateChanged { expected: String, actual: String },
    #[error("TLS with {endpoint} failed: {reason}")]
    Tls { endpoint: String, reason: String },
    #[error("the BMC requires credentials on this channel (CHIF security is enabled)")]
    CredentialsRequired,
    #[error("CHIF: {0}")]
    Chif(String),
    #[error("the BMC's answer is malformed: {0}")]
    Malformed(String),
    #[error("transport I/O: {0}")]
    Io(String),
}

pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response, TransportError>> + Send + 'a>>;

pub type StreamedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<streamed::Streamed, TransportError>> + Send + 'a>>;

/// Sends one HTTP request to the BMC. Implementations are cheap to share (`Arc<dyn Transport>`)
/// and safe to call concurrently; they bound their own concurrency.
pub trait Transport: Send + Sync {
    fn send(&self, req: Request) -> SendFuture<'_>;

    /// [`Transport::send`], but a large answer or an event stream may come as a stream
    /// ([`streamed`]); by default the answer is whole.
    fn send_streamed(&self, req: Request) -> StreamedFuture<'_> {
        Box::pin(async move { self.send(req).await.map(streamed::Streamed::whole) })
    }

    /// A short human name for logs and `agentctl status`: `https` or `chif`.
    fn kind(&self) -> &'static str;

    /// Where requests go, for status output (a URL, or the CHIF library path).
    fn endpoint(&self) -> String;

    /// Whether requests without a session are accepted (CHIF in Production mode). The session
    /// core then holds no session at all.
    fn sessionless(&self) -> bool {
        false
    }

    /// The NIC this transport is bound to was renamed (the link watcher follows its index):
    /// bind to `ifname` from now on. Transports bound to no NIC ignore it.
    fn follow_interface(&self, _ifname: &str) -> Result<(), TransportError> {
        Ok(())
    }

    /// The fingerprint of the certificate the last handshake accepted (HTTPS only).
    fn peer_fingerprint(&self) -> Option<trust::Fingerprint> {
        None
    }
}
