//! The HMC proxy: `/rest/api/**` of one HMC, for local clients, on the Unix socket under
//! `/hmc/<name>/` and on the HMC's own loopback listener as the HMC serves it. Clients log on
//! and off as with an HMC, but get virtual sessions ([`crate::proxy::virtual_sessions`]): a
//! proxy-only token of the HMC's shape, no HMC session. Their user and password are not
//! checked against the HMC — who the client is comes from the kernel (readers may GET, admins
//! may also write). A client's `X-API-Session` is never forwarded; the agent's is.
//!
//! Answers keep the client on the agent (absolute URLs naming the HMC get the client's base),
//! carry the HMC's `ETag` (and `If-None-Match` reaches the HMC), and an answer that is not the
//! REST API's (an HTML page, XML that does not parse, one beyond the size bound) becomes an
//! HMC-shaped 502 naming the HMC and what was wrong.

use base64::Engine;
use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use rand::RngCore;

use super::error::HmcError;
use super::session::LOGON_PATH;
use super::xml;
use super::Hmc;
use crate::peer::{Peer, Role};
use crate::secret::Secret;

pub type Reply = Response<Bytes>;

/// Client headers passed to the HMC; everything else (its `X-API-Session` above all) stays.
const FORWARDED_REQUEST_HEADERS: &[HeaderName] = &[
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::ACCEPT_LANGUAGE,
];
/// HMC headers passed back (`Location` is rewritten).
const RETURNED_RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "etag",
    "last-modified",
    "cache-control",
    "expires",
    "allow",
    "retry-after",
    "x-transaction-id",
];

/// An HMC-shaped error answer (an Atom entry holding an `HttpErrorResponse`).
pub fn error(status: StatusCode, uri: &str, reason_code: &str, message: &str) -> Reply {
    let body = xml::http_error(status.as_u16(), uri, reason_code, message);
    let mut reply = Response::new(Bytes::from(body));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(xml::ATOM));
    reply
}

/// A virtual token of the HMC's shape: 176 random bytes in URL-safe base64 (236 characters
/// ending in `=`), as long as a real one so that clients that size buffers are not surprised.
fn virtual_token() -> Secret {
    let mut raw = zeroize::Zeroizing::new([0u8; 176]);
    rand::rng().fill_bytes(raw.as_mut());
    Secret::new(base64::engine::general_purpose::URL_SAFE.encode(raw.as_ref()))
}

impl Hmc {
    /// Serves one request. `path` is under `/rest/api` (with its query); `base` is what
    /// absolute URLs naming the HMC become: the client's origin on the listener,
    /// `/hmc/<name>` on the socket.
    pub async fn handle(&self, peer: &Peer, base: &str, path: &str, req: Request<Bytes>) -> Reply {
        let only_path = path.split('?').next().unwrap_or(path);
        if peer.role == Role::None {
            let msg = format!("uid {} may not use the HMC proxy: it needs the reader role (the reader group) to read, admin to write", peer.uid);
            return error(StatusCode::FORBIDDEN, only_path, "Forbidden.", &msg);
        }
        if only_path != "/rest/api" && !only_path.starts_with("/rest/api/") {
            let msg = format!("HMC {}: no REST API path {only_path}", self.settings.name);
            return error(StatusCode::NOT_FOUND, only_path, "Not found.", &msg);
        }
        let token = req
            .headers()
            .get("x-api-session")
            .map(|v| v.to_str().unwrap_or_default());
        if only_path == LOGON_PATH {
            return match *req.method() {
                Method::PUT => self.logon(peer, req.body()),
                Method::DELETE => self.logoff(token),
                _ => error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    only_path,
                    "Method not allowed.",
                    "Logon takes PUT (log on) and DELETE (log off).",
                ),
            };
        }
        if let Some(token) = token {
            if self.sessions.authenticate(token).is_none() {
                return error(
                    StatusCode::UNAUTHORIZED,
                    only_path,
                    "Unauthorized.",
                    "The X-API-Session is unknown or has expired: log on again.",
                );
            }
        }
        let read = matches!(*req.method(), Method::GET | Method::HEAD);
        if !read && peer.role < Role::Admin {
            let msg = format!(
                "uid {} may not {} through the HMC proxy: writes need the admin role",
                peer.uid,
                req.method()
            );
            return error(StatusCode::FORBIDDEN, only_path, "Forbidden.", &msg);
        }
        self.forward(req, path, base).await
    }

    /// A client's logon: a virtual session, no HMC session.
    fn logon(&self, peer: &Peer, body: &[u8]) -> Reply {
        let user = match xml::client_logon(body) {
            Ok(user) => user,
            Err(why) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    LOGON_PATH,
                    "Bad request.",
                    &format!("The LogonRequest could not be read: {why}."),
                )
            }
        };
        let (session, token) = self.sessions.create_with(&user, peer.uid, virtual_token());
        tracing::debug!(hmc = %self.settings.name, uid = peer.uid, session = %session.id, "virtual HMC session created");
        let mut reply = Response::new(xml::logon_response(&token));
        reply.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(xml::LOGON_RESPONSE_TYPE),
        );
        reply
    }

    fn logoff(&self, token: Option<&str>) -> Reply {
        let Some(token) = token else {
            return error(
                StatusCode::FORBIDDEN,
                LOGON_PATH,
                "4",
                "The request has no X-API-Session header: log on first.",
            );
        };
        match self.sessions.authenticate(token) {
            Some(session) => {
                self.sessions.remove(&session.id);
                let mut reply = Response::new(Bytes::new());
                *reply.status_mut() = StatusCode::NO_CONTENT;
                reply
            }
            None => error(
                StatusCode::UNAUTHORIZED,
                LOGON_PATH,
                "Unauthorized.",
                "The X-API-Session is unknown or has expired.",
            ),
        }
    }

    async fn forward(&self, req: Request<Bytes>, path: &str, base: &str) -> Reply {
        let only_path = path.split('?').next().unwrap_or(path).to_string();
        let (parts, body) = req.into_parts();
        let mut up = crate::transport::Request::new(parts.method, path);
        for name in FORWARDED_REQUEST_HEADERS {
            if let Some(v) = parts.headers.get(name) {
                up.headers.insert(name.clone(), v.clone());
            }
        }
        // The transport would ask for JSON; an HMC client that names nothing takes anything.
        up.headers
            .entry(header::ACCEPT)
            .or_insert(HeaderValue::from_static("*/*"));
        up.body = body;
        let resp = match self.upstream.send(up).await {
            Ok(resp) => resp,
            Err(e) => return self.upstream_error(&only_path, &e),
        };
        if let Err(why) = self.check(&resp) {
            tracing::warn!(hmc = %self.settings.name, path = %only_path, error = %why, "the HMC's answer is not the REST API's");
            return error(StatusCode::BAD_GATEWAY, &only_path, "Bad gateway.", &why);
        }
        let mut reply = Response::new(
            self.names
                .rewrite_text(&resp.body, base)
                .map(Bytes::from)
                .unwrap_or(resp.body),
        );
        *reply.status_mut() = resp.status;
        for name in RETURNED_RESPONSE_HEADERS {
            if let Some(v) = resp.headers.get(*name) {
                reply.headers_mut().insert(*name, v.clone());
            }
        }
        if let Some(loc) = resp
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Ok(v) = HeaderValue::from_str(&self.names.location(loc, Some(base))) {
                reply.headers_mut().insert(header::LOCATION, v);
            }
        }
        reply
    }

    /// An answer that cannot be the REST API's (see [`check_answer`]).
    fn check(&self, resp: &crate::transport::Response) -> Result<(), String> {
        check_answer(
            &self.settings.name,
            resp.status,
            resp.header_str("content-type"),
            &resp.body,
        )
    }

    fn upstream_error(&self, path: &str, e: &HmcError) -> Reply {
        tracing::warn!(hmc = %self.settings.name, %path, error = %e, "request to the HMC failed");
        let status = match e {
            HmcError::Transport { .. } => StatusCode::BAD_GATEWAY,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        error(status, path, "Unavailable.", &e.to_string())
    }
}

/// Whether an HMC's answer can be the REST API's: not an HTML page, and XML that parses when
/// it says it is XML. The error names the HMC and what was wrong.
pub fn check_answer(
    name: &str,
    status: StatusCode,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), String> {
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    if body.is_empty() {
        return Ok(());
    }
    if content_type.starts_with("text/html") {
        return Err(format!("HMC {name} answered with an HTML page ({content_type}, HTTP {}) instead of the REST API's XML: is the endpoint the HMC's REST port (12443)?", status.as_u16()));
    }
    if content_type.contains("xml") {
        xml::well_formed(body).map_err(|e| {
            format!(
                "HMC {name} answered {content_type} that is not well-formed XML ({} bytes): {e}",
                body.len()
            )
        })?;
    }
    Ok(())
}
