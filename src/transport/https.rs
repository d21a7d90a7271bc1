//! The `https` transport: reqwest with our own rustls configuration (ring provider), explicit
//! trust ([`super::trust::Trust`]), timeouts, a bound on requests in flight, optional binding
//! to the host-interface NIC, and bounded response bodies.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::Semaphore;

use super::trust::{Fingerprint, FingerprintVerifier, Mismatch, Recording, Seen, Trust};
use super::{Request, Response, SendFuture, Transport, TransportError};

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
    /// `base_url` parsed once: each request only sets path and query.
    base: reqwest::Url,
    client: reqwest::Client,
    in_flight: Semaphore,
    mismatch: Mismatch,
    seen: Seen,
}

/// Installs the ring provider once per process (reqwest is built without a provider).
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

impl HttpsTransport {
    pub fn new(opts: HttpsOptions) -> Result<HttpsTransport, TransportError> {
        let mismatch: Mismatch = Arc::new(Mutex::new(None));
        let seen: Seen = Arc::new(Mutex::new(None));
        // reqwest is built without a provider and panics without one, even for http://.
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(opts.connect_timeout)
            .pool_max_idle_per_host(opts.max_in_flight)
            .pool_idle_timeout(opts.pool_idle_timeout)
            .user_agent(concat!("hostagent/", env!("CARGO_PKG_VERSION")));
        if opts.base_url.starts_with("https://") {
            builder = builder.tls_backend_preconfigured(tls_config(&opts, &mismatch, &seen)?);
        } else {
            tracing::warn!(endpoint = %opts.base_url, "PLAIN HTTP to the BMC: the password crosses in clear and no TLS trust applies; for tests against a simulator only (bmc.allow_plaintext_http_for_testing)");
        }
        if let Some(ifname) = &opts.interface {
            builder = builder.interface(ifname);
        }
        let client = builder.build().map_err(|e| tls_error(&opts, e))?;
        let base = reqwest::Url::parse(&opts.base_url).map_err(|e| TransportError::Connect {
            endpoint: opts.base_url.clone(),
            reason: format!("not a URL: {e}"),
        })?;
        Ok(HttpsTransport {
            base,
            in_flight: Semaphore::new(opts.max_in_flight.max(1)),
            opts,
            client,
            mismatch,
            seen,
        })
    }

    fn map_error(&self, e: reqwest::Error, timeout: Duration) -> TransportError {
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
        if e.is_timeout() {
            return TransportError::Timeout {
                endpoint,
                after: timeout,
            };
        }
        let reason = error_chain(&e);
        if e.is_connect() {
            if reason.contains("certificate") || reason.contains("tls") || reason.contains("TLS") {
                return TransportError::Tls { endpoint, reason };
            }
            return TransportError::Connect { endpoint, reason };
        }
        TransportError::Io(format!("{endpoint}: {reason}"))
    }

    async fn send_inner(&self, req: Request) -> Result<Response, TransportError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|e| TransportError::Io(e.to_string()))?;
        let timeout = req.timeout.unwrap_or(self.opts.request_timeout);
        let mut url = self.base.clone();
        let (path, query) = match req.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (req.path.as_str(), None),
        };
        url.set_path(path);
        url.set_query(query);
        let mut headers = req.headers;
        headers
            .entry(http::header::ACCEPT)
            .or_insert(http::HeaderValue::from_static("application/json"));
        headers
            .entry("OData-Version")
            .or_insert(http::HeaderValue::from_static("4.0"));
        let send = self
            .client
            .request(req.method, url)
            .headers(headers)
            .body(req.body)
            .timeout(timeout)
            .send();
        let mut resp = send.await.map_err(|e| self.map_error(e, timeout))?;
        let (status, headers) = (resp.status(), std::mem::take(resp.headers_mut()));
        // Most answers come in one chunk: keep it as it is; copy only when there are several.
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut len = 0;
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.map_error(e, timeout))? {
            len += chunk.len();
            if len > self.opts.max_body {
                return Err(TransportError::Malformed(format!(
                    "response to {} is larger than {} bytes",
                    req.path, self.opts.max_body
                )));
            }
            chunks.push(chunk);
        }
        let body = match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.pop().unwrap_or_default(),
            _ => {
                let mut all = BytesMut::with_capacity(len);
                chunks.iter().for_each(|c| all.extend_from_slice(c));
                all.freeze()
            }
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// The error and its causes in one line, as reqwest hides the interesting part in sources.
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
        Box::pin(self.send_inner(req))
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
