//! The `https` transport: HTTP/1.1 over a pool of persistent connections ([`super::pool`])
//! with our own rustls configuration (ring provider, TLS session resumption), explicit trust
//! ([`super::trust::Trust`]), timeouts, a bound on requests in flight, optional binding to the
//! host-interface NIC, and bounded response bodies; large answers and event streams are
//! passed on as streams ([`super::streamed`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, ACCEPT, HOST, USER_AGENT};
use http_body_util::Full;
use tokio::sync::Semaphore;

use super::pool::{ConnectError, Connector, Pool, Sender};
use super::streamed::{Body, Prefixed, Streamed, STREAM_ABOVE};
use super::trust::{Fingerprint, FingerprintVerifier, Mismatch, Recording, Seen, Trust};
use super::upstream::{too_large, Upstream};
use super::{Request, SendFuture, StreamedFuture, Transport, TransportError};

#[derive(Debug, Clone)]
pub struct HttpsOptions {
    /// `https://host:port`; `http://` only for tests against `bmcsim --http`.
    pub base_url: String,
    pub trust: Trust,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Requests in flight at once; more wait their turn.
    pub max_in_flight: usize,
    /// Bind to this interface (SO_BINDTODEVICE): the host-interface NIC.
    pub interface: Option<String>,
    pub max_body: usize,
    /// An idle pooled connection is closed after this. Its write buffer still holds the last
    /// request it sent, `X-Auth-Token` included, so this bounds how long a token copy outlives
    /// its request (freed buffers are zeroed, see `secret::ZeroOnFree`).
    pub pool_idle_timeout: Duration,
}

impl HttpsOptions {
    pub fn new(base_url: impl Into<String>, trust: Trust) -> HttpsOptions {
        HttpsOptions {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            trust,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_in_flight: 8,
            interface: None,
            max_body: 16 << 20,
            pool_idle_timeout: POOL_IDLE_TIMEOUT,
        }
    }
}

/// Long enough to reuse connections within a burst of requests (a BMC's TLS handshake is
/// slow), short enough that an idle daemon holds no copy of a token outside the secret arena.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct HttpsTransport {
    opts: HttpsOptions,
    /// The `Host` header: the authority of `base_url`.
    host: HeaderValue,
    pool: Arc<Pool>,
    in_flight: Arc<Semaphore>,
    mismatch: Mismatch,
    /// The certificate the last handshake accepted (an HMC's keyring entry keeps it).
    seen: Seen,
}

const USER_AGENT_VALUE: &str = concat!("hostagent/", env!("CARGO_PKG_VERSION"));

/// Installs the ring provider once per process (rustls and reqwest are built without one).
pub fn install_crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

fn tls_config(
    opts: &HttpsOptions,
    mismatch: &Mismatch,
    seen: &Seen,
) -> Result<rustls::ClientConfig, TransportError> {
    let provider = install_crypto_provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(opts, e))?;
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match &opts.trust {
        Trust::Ca(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                tls_error(opts, format!("reading CA bundle {}: {e}", path.display()))
            })?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile_certs(&pem) {
                roots.add(cert).map_err(|e| tls_error(opts, e))?;
            }
            if roots.is_empty() {
                return Err(tls_error(
                    opts,
                    format!("no certificate in CA bundle {}", path.display()),
                ));
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_error(opts, e))?
        }
        trust => {
            if matches!(trust, Trust::Insecure) {
                tracing::warn!(endpoint = %opts.base_url, "TLS verification is disabled (tls = \"insecure\"): anyone on the path can impersonate the BMC");
            }
            Arc::new(FingerprintVerifier {
                endpoint: opts.base_url.clone(),
                trust: trust.clone(),
                mismatch: mismatch.clone(),
                provider,
            })
        }
    };
    let recording = Recording {
        inner: verifier,
        seen: seen.clone(),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(recording))
        .with_no_client_auth())
}

/// The DER certificates of a PEM bundle.
fn rustls_pemfile_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

fn tls_error(opts: &HttpsOptions, e: impl std::fmt::Display) -> TransportError {
    TransportError::Tls {
        endpoint: opts.base_url.clone(),
        reason: e.to_string(),
    }
}

/// Scheme, host (brackets off) and port of `base_url`.
fn split_base(base_url: &str) -> Option<(bool, String, u16, String)> {
    let (tls, rest) = if let Some(r) = base_url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, base_url.strip_prefix("http://")?)
    };
    let authority = rest.split('/').next()?;
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None if tls => 443,
        None => 80,
    };
    (!host.is_empty()).then(|| (tls, host.to_string(), port, authority.to_string()))
}

impl HttpsTransport {
    pub fn new(opts: HttpsOptions) -> Result<HttpsTransport, TransportError> {
        let mismatch: Mismatch = Arc::new(Mutex::new(None));
        let seen: Seen = Arc::new(Mutex::new(None));
        let not_url = |why: &str| TransportError::Connect {
            endpoint: opts.base_url.clone(),
            reason: format!("not a URL: {why}"),
        };
        let (is_tls, host, port, authority) =
            split_base(&opts.base_url).ok_or_else(|| not_url("expected https://HOST[:PORT]"))?;
        let tls = if is_tls {
            let config = Arc::new(tls_config(&opts, &mismatch, &seen)?);
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| not_url(&e.to_string()))?;
            Some((tokio_rustls::TlsConnector::from(config), name))
        } else {
            tracing::warn!(endpoint = %opts.base_url, "PLAIN HTTP to the BMC: the password crosses in clear and no TLS trust applies; for tests against a simulator only (bmc.allow_plaintext_http_for_testing)");
            None
        };
        let connector = Connector {
            host,
            port,
            tls,
            interface: opts.interface.clone(),
            connect_timeout: opts.connect_timeout,
        };
        Ok(HttpsTransport {
            host: HeaderValue::from_str(&authority).map_err(|e| not_url(&e.to_string()))?,
            pool: Pool::new(connector, opts.pool_idle_timeout, opts.max_in_flight),
            in_flight: Arc::new(Semaphore::new(opts.max_in_flight.max(1))),
            opts,
            mismatch,
            seen,
        })
    }

    fn connect_error(&self, e: ConnectError, timeout: Duration) -> TransportError {
        if let Some((expected, actual)) = self
            .mismatch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            tracing::error!(message_id = crate::events::CERTIFICATE_CHANGED, endpoint = %self.opts.base_url, %expected, %actual, "the BMC's certificate changed: refusing it");
            return TransportError::CertificateChanged {
                expected: expected.to_string(),
                actual: actual.to_string(),
            };
        }
        let endpoint = self.opts.base_url.clone();
        match e {
            ConnectError::Connect(reason) => TransportError::Connect { endpoint, reason },
            ConnectError::Tls(reason) => TransportError::Tls { endpoint, reason },
            ConnectError::Timeout => TransportError::Timeout {
                endpoint,
                after: timeout.min(self.opts.connect_timeout),
            },
        }
    }

    fn request(&self, req: Request) -> http::Request<Full<Bytes>> {
        let mut out = http::Request::new(Full::new(req.body));
        *out.method_mut() = req.method;
        // An origin-form target; a path that is not a valid URI is the caller's error and
        // gets the BMC's 4xx for `/`, never a panic.
        *out.uri_mut() =
            http::Uri::try_from(req.path).unwrap_or_else(|_| http::Uri::from_static("/"));
        let mut headers = req.headers;
        headers.insert(HOST, self.host.clone());
        headers
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(USER_AGENT_VALUE));
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        headers
            .entry("OData-Version")
            .or_insert(HeaderValue::from_static("4.0"));
        *out.headers_mut() = headers;
        out
    }

    /// Sends on an idle connection, or on a new one when there is none or the idle one was
    /// closed before the request went out (a request is never sent twice).
    async fn exchange(
        &self,
        req: http::Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<(http::Response<hyper::body::Incoming>, Sender), TransportError> {
        let mut req = req;
        let mut reused = self.pool.take_idle();
        loop {
            let fresh = reused.is_none();
            let mut sender = match reused.take() {
                Some(s) => s,
                None => self
                    .pool
                    .connect()
                    .await
                    .map_err(|e| self.connect_error(e, timeout))?,
            };
            if sender.ready().await.is_err() {
                if fresh {
                    return Err(TransportError::Io(format!(
                        "{}: the connection closed at once",
                        self.opts.base_url
                    )));
                }
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(resp) => return Ok((resp, sender)),
                Err(mut e) => match e.take_message() {
                    Some(back) if !fresh => req = back,
                    _ => {
                        return Err(TransportError::Io(format!(
                            "{}: {}",
                            self.opts.base_url,
                            error_chain(e.error())
                        )))
                    }
                },
            }
        }
    }

    /// One request: whole answers up to [`STREAM_ABOVE`] (and all answers when `whole`),
    /// a stream beyond that and for event streams.
    async fn send_streamed_inner(
        &self,
        req: Request,
        whole: bool,
    ) -> Result<Streamed, TransportError> {
        let permit = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| TransportError::Io(e.to_string()))?;
        let timeout = req.timeout.unwrap_or(self.opts.request_timeout);
        let path = req.path.clone();
        let http_req = self.request(req);
        let timed_out = || TransportError::Timeout {
            endpoint: self.opts.base_url.clone(),
            after: timeout,
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let (resp, sender) = tokio::time::timeout_at(deadline, self.exchange(http_req, timeout))
            .await
            .map_err(|_| timed_out())??;
        let (parts, incoming) = resp.into_parts();
        let max = self.opts.max_body;
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(too_large(&path, max));
        }
        let events = !whole && Streamed::is_event_stream(&parts.headers);
        let (permit, max, quiet) = match events {
            true => (None, None, None),
            false => (Some(permit), Some(max), Some(timeout)),
        };
        let conn = (self.pool.clone(), sender);
        let mut body = Upstream::new(incoming, conn, permit, max, path, quiet);
        let mut chunks = VecDeque::new();
        let mut len = 0;
        if !events {
            use futures::StreamExt;
            let whole_until = if whole { usize::MAX } else { STREAM_ABOVE };
            loop {
                let next = tokio::time::timeout_at(deadline, body.next())
                    .await
                    .map_err(|_| timed_out())?;
                match next {
                    None => {
                        return Ok(Streamed {
                            status: parts.status,
                            headers: parts.headers,
                            body: Body::Whole(concat(chunks, len)),
                        })
                    }
                    Some(chunk) => {
                        let chunk = chunk?;
                        len += chunk.len();
                        chunks.push_back(chunk);
                        if len > whole_until {
                            break;
                        }
                    }
                }
            }
        }
        let rest = Prefixed {
            prefix: chunks,
            rest: body,
        };
        Ok(Streamed {
            status: parts.status,
            headers: parts.headers,
            body: Body::Stream(Box::pin(rest)),
        })
    }
}

/// Most answers come in one chunk: keep it as it is; copy only when there are several.
fn concat(mut chunks: VecDeque<Bytes>, len: usize) -> Bytes {
    match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop_front().unwrap_or_default(),
        _ => {
            let mut all = BytesMut::with_capacity(len);
            chunks.iter().for_each(|c| all.extend_from_slice(c));
            all.freeze()
        }
    }
}

/// The error and its causes in one line, as hyper and rustls hide the interesting part in sources.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

impl Transport for HttpsTransport {
    fn send(&self, req: Request) -> SendFuture<'_> {
        Box::pin(async move {
            let streamed = self.send_streamed_inner(req, true).await?;
            streamed.into_whole().await
        })
    }

    fn send_streamed(&self, req: Request) -> StreamedFuture<'_> {
        Box::pin(self.send_streamed_inner(req, false))
    }

    fn kind(&self) -> &'static str {
        "https"
    }

    fn endpoint(&self) -> String {
        self.opts.base_url.clone()
    }

    fn peer_fingerprint(&self) -> Option<Fingerprint> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
