//! The local Redfish proxy (ARCHITECTURE.md, "Sessions for local tools"): `/redfish/v1/**` on the local API, forwarded to the
//! BMC with the agent's one session. Clients that log in get a virtual session (see
//! [`virtual_sessions`]); no BMC session is ever created for them, and whatever they do —
//! forget to log out, crash, log out to a malformed URL — nothing is left on the BMC.
//!
//! What a client sends that could act as the BMC's credentials (`Authorization`,
//! `X-Auth-Token`, cookies) is never forwarded: only a short list of content headers is.
//! Readers may GET; writes need the admin role. Concurrency toward the BMC is the transport's
//! bound (requests wait their turn). Large answers and event streams pass through as streams
//! ([`body`]); the others are rewritten ([`rewrite`]) and may be cached.

pub mod body;
pub mod cache;
pub mod path;
pub mod queue;
pub mod rewrite;
mod session_body;
pub mod virtual_sessions;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};

use self::body::Body;
use self::cache::{Cache, Cached};
use self::path::Target;
use self::rewrite::BmcNames;
use self::virtual_sessions::{VirtualSession, VirtualSessions};
use crate::peer::{Peer, Role};
use crate::redfish::session_key;
use crate::session::AgentSession;
use crate::transport::streamed::Body as StreamedBody;

/// Request bodies the proxy accepts (Redfish PATCH and action bodies are small).
pub const MAX_REQUEST: usize = 1 << 20;

/// What the BMC's sessions time out after when it does not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Client headers passed to the BMC; everything else (credentials above all) stays here.
const FORWARDED_REQUEST_HEADERS: &[HeaderName] = &[
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::ACCEPT_LANGUAGE,
];
/// BMC headers passed back to the client (`Location` is rewritten).
static RETURNED_RESPONSE_HEADERS: [HeaderName; 9] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::ALLOW,
    header::LINK,
    HeaderName::from_static("odata-version"),
    header::RETRY_AFTER,
    header::CACHE_CONTROL,
    header::CONTENT_LANGUAGE,
    header::WWW_AUTHENTICATE,
];

pub type Reply = Response<Bytes>;
/// What [`Proxy::handle`] answers: a [`Reply`], or the BMC's answer streamed.
pub type Answer = Response<Body>;

/// Where [`Proxy::handle`]'s checks lead: answered here, or forwarded to the BMC.
enum Step {
    Reply(Reply),
    Forward(Request<Bytes>, Target, Option<String>),
}

/// How the client reached the proxy, which decides what an absolute URL for it looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The Unix socket: URLs become paths.
    Unix,
    /// The loopback HTTPS listener: URLs use the client's own `Host`.
    Https,
}

pub struct Proxy {
    agent: Arc<AgentSession>,
    sessions: VirtualSessions,
    cache: Option<Cache>,
    names: BmcNames,
    body: session_body::Template,
}

impl Proxy {
    /// `session_timeout` is the BMC's `SessionTimeout`: virtual sessions expire like the BMC's.
    pub async fn new(
        agent: Arc<AgentSession>,
        session_timeout: Option<Duration>,
        cache_ttl: Duration,
    ) -> Proxy {
        let endpoint = agent.transport().endpoint();
        let login_url = agent.login_location().await;
        let names = BmcNames::new([endpoint.as_str()].into_iter().chain(login_url.as_deref()));
        Proxy {
            sessions: VirtualSessions::new(session_timeout.unwrap_or(DEFAULT_TIMEOUT)),
            cache: Cache::new(cache_ttl),
            names,
            body: session_body::Template::default(),
            agent,
        }
    }

    pub fn virtual_sessions(&self) -> &VirtualSessions {
        &self.sessions
    }

    /// Answers in the GET cache; `None` when there is no cache.
    pub fn cached(&self) -> Option<usize> {
        self.cache.as_ref().map(Cache::len)
    }

    /// Serves one request whose path is under `/redfish` (or ilorest's `/None:PORT/...`).
    pub async fn handle(&self, peer: &Peer, via: Via, req: Request<Bytes>) -> Answer {
        match self.check(peer, via, req).await {
            Step::Reply(reply) => reply.map(Body::from),
            Step::Forward(req, target, base) => self.forward(req, &target, base.as_deref()).await,
        }
    }

    /// Roles, paths, virtual sessions: what is answered here, and what goes on to the BMC.
    async fn check(&self, peer: &Peer, via: Via, req: Request<Bytes>) -> Step {
        if peer.role == Role::None {
            return Step::Reply(error(StatusCode::FORBIDDEN, "Forbidden", format!("uid {} may not use the Redfish proxy: it needs the reader role (the reader group) to read, admin to write", peer.uid)));
        }
        let target = match path::parse(req.uri().path(), req.uri().query()) {
            Ok(t) => t,
            Err(e) => return Step::Reply(error(StatusCode::NOT_FOUND, "ResourceMissingAtURI", e)),
        };
        let caller = match req
            .headers()
            .get("x-auth-token")
            .map(|v| v.to_str().unwrap_or_default())
        {
            None => None,
            Some(token) => match self.sessions.authenticate(token) {
                Some(s) => Some(s),
                None => return Step::Reply(no_valid_session()),
            },
        };
        let base = match via {
            Via::Unix => None,
            Via::Https => client_base(req.headers()),
        };
        let sessions_path = &self.agent.root().sessions_path;
        if req.method() == Method::POST && path::is_session_collection(&target, sessions_path) {
            return Step::Reply(
                Box::pin(self.login(peer, base.as_deref(), sessions_path, req.body())).await,
            );
        }
        if let Some(id) = path::session_member(&target, sessions_path) {
            if let Some(reply) =
                Box::pin(self.session_member(peer, caller.as_ref(), req.method(), &id)).await
            {
                return Step::Reply(reply);
            }
        }
        if !is_read(req.method()) && peer.role < Role::Admin {
            return Step::Reply(error(
                StatusCode::FORBIDDEN,
                "InsufficientPrivilege",
                format!(
                    "uid {} may not {} through the proxy: writes need the admin role",
                    peer.uid,
                    req.method()
                ),
            ));
        }
        Step::Forward(req, target, base)
    }

    /// A login: a virtual session, with the BMC's session shape.
    async fn login(
        &self,
        peer: &Peer,
        base: Option<&str>,
        sessions_path: &str,
        body: &[u8],
    ) -> Reply {
        let user = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => map
                .get("UserName")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "MalformedJSON",
                    "a login needs a JSON object body with UserName and Password",
                )
            }
        };
        let (session, token) = self.sessions.create(&user, peer.uid);
        let uri = member_uri(sessions_path, &session.id);
        let body = self.body.render(&self.agent, &session, &uri).await;
        let mut reply = json_reply(StatusCode::CREATED, body);
        let location = match base {
            Some(base) => format!("{base}{uri}"),
            None => uri.clone(),
        };
        if let Ok(v) = HeaderValue::from_str(&location) {
            reply.headers_mut().insert(header::LOCATION, v);
        }
        if let Ok(mut v) = HeaderValue::from_str(token.expose()) {
            v.set_sensitive(true);
            reply.headers_mut().insert("x-auth-token", v);
        }
        tracing::debug!(uid = peer.uid, session = %session.id, "virtual session created");
        reply
    }

    /// A request on one member of the session collection: a virtual session is served here;
    /// the agent's own session may be read but not deleted or changed. `None`: forward it.
    async fn session_member(
        &self,
        peer: &Peer,
        caller: Option<&VirtualSession>,
        method: &Method,
        id: &str,
    ) -> Option<Reply> {
        let sessions_path = &self.agent.root().sessions_path;
        let uri = member_uri(sessions_path, id);
        if let Some(session) = self.sessions.by_id(id) {
            return Some(match *method {
                Method::GET | Method::HEAD => json_reply(
                    StatusCode::OK,
                    self.body.render(&self.agent, &session, &uri).await,
                ),
                Method::DELETE => {
                    let own = caller.is_some_and(|c| c.id == session.id)
                        || peer.uid == session.uid
                        || peer.role == Role::Admin;
                    if !own {
                        return Some(error(
                            StatusCode::FORBIDDEN,
                            "InsufficientPrivilege",
                            format!("virtual session {id} belongs to uid {}", session.uid),
                        ));
                    }
                    self.sessions.remove(id);
                    tracing::debug!(uid = peer.uid, session = %id, "virtual session ended");
                    success()
                }
                _ => method_not_allowed("GET, DELETE"),
            });
        }
        if id.to_ascii_lowercase().starts_with("hostagent-") {
            // An expired or ended virtual session: it never existed on the BMC.
            return Some(error(
                StatusCode::NOT_FOUND,
                "ResourceMissingAtURI",
                format!("no session {id}"),
            ));
        }
        let agent_uri = self.agent.own_session_uri().await;
        if agent_uri.is_some_and(|a| session_key(&a) == session_key(&uri)) && !is_read(method) {
            return Some(error(StatusCode::CONFLICT, "ResourceInUse", "that is the agent's own session, shared by every client of the proxy: it is not deleted or changed through the proxy"));
        }
        None
    }

    async fn forward(&self, req: Request<Bytes>, target: &Target, base: Option<&str>) -> Answer {
        let key = target.path_and_query();
        let is_get = *req.method() == Method::GET;
        if let (true, Some(cache)) = (is_get, &self.cache) {
            if let Some(hit) = cache.get(&key) {
                let mut reply = Response::new(Body::from(hit.body));
                *reply.headers_mut() = hit.headers;
                return reply;
            }
        }
        let (parts, body) = req.into_parts();
        let cache_key = self.cache.is_some().then(|| key.clone());
        let mut out = crate::transport::Request::new(parts.method.clone(), key);
        // Room for these, the auth header and the transport's four, without growing.
        out.headers = HeaderMap::with_capacity(FORWARDED_REQUEST_HEADERS.len() + 5);
        for name in FORWARDED_REQUEST_HEADERS {
            if let Some(v) = parts.headers.get(name) {
                out.headers.insert(name.clone(), v.clone());
            }
        }
        out.body = body;
        let resp = match self.agent.send_streamed(out).await {
            Ok(r) => r,
            Err(e) if e.is_unreachable() => {
                return error(
                    StatusCode::BAD_GATEWAY,
                    "ServiceTemporarilyUnavailable",
                    format!("the BMC is unreachable: {e}"),
                )
                .map(Body::from)
            }
            Err(e) => {
                return error(
                    StatusCode::BAD_GATEWAY,
                    "GeneralError",
                    format!("the BMC's answer could not be used: {e}"),
                )
                .map(Body::from)
            }
        };
        if let Some(cache) = &self.cache {
            if !is_read(&parts.method) {
                cache.invalidate(&target.path);
            }
        }
        let body = match resp.body {
            StreamedBody::Whole(body) => body,
            StreamedBody::Stream(chunks) => {
                // Passed on as it comes: neither rewritten nor cached (docs/PERFORMANCE.md).
                let mut reply = Response::new(Body::Stream(chunks));
                *reply.status_mut() = resp.status;
                *reply.headers_mut() = self.returned_headers(&resp.headers, base);
                if let Some(len) = resp.headers.get(header::CONTENT_LENGTH) {
                    reply
                        .headers_mut()
                        .insert(header::CONTENT_LENGTH, len.clone());
                }
                return reply;
            }
        };
        let resp = crate::transport::Response {
            status: resp.status,
            headers: resp.headers,
            body,
        };
        let reply = self.reply_from_bmc(resp, base);
        if let (true, Some(cache), Some(key), true) = (
            is_get,
            &self.cache,
            cache_key,
            reply.status() == StatusCode::OK,
        ) {
            cache.put(
                &key,
                &target.path,
                Cached {
                    headers: reply.headers().clone(),
                    body: reply.body().clone(),
                },
            );
        }
        reply.map(Body::from)
    }

    fn reply_from_bmc(&self, resp: crate::transport::Response, base: Option<&str>) -> Reply {
        let rewritten = match rewrite::may_name_hosts(&resp.headers) {
            true => self.names.rewrite_body(&resp.body),
            false => None,
        };
        let body = match rewritten {
            Some(rewritten) => Bytes::from(rewritten),
            None => resp.body,
        };
        let mut reply = Response::new(body);
        *reply.status_mut() = resp.status;
        *reply.headers_mut() = self.returned_headers(&resp.headers, base);
        reply
    }

    /// The BMC's headers a client sees, `Location` rewritten.
    fn returned_headers(&self, from: &HeaderMap, base: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(RETURNED_RESPONSE_HEADERS.len());
        // One walk over the BMC's few headers, instead of a lookup for each returned name.
        for (name, v) in from {
            if RETURNED_RESPONSE_HEADERS.contains(name) {
                headers.append(name.clone(), v.clone());
            }
        }
        if let Some(loc) = from.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
            if let Ok(v) = HeaderValue::from_str(&self.names.location(loc, base)) {
                headers.insert(header::LOCATION, v);
            }
        }
        headers
    }
}

/// GET and HEAD: what readers may do, and what leaves the BMC and the cache as they are.
fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// `https://HOST` from the client's `Host` header, when it is a plain authority.
fn client_base(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    plain.then(|| ["https://", host].concat())
}

/// The URI of member `id` in the collection, in the BMC's trailing-slash style.
fn member_uri(sessions_path: &str, id: &str) -> String {
    let encoded =
        percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string();
    let encoded = encoded.replace("%2D", "-").replace("%5F", "_");
    if sessions_path.ends_with('/') {
        format!("{sessions_path}{encoded}/")
    } else {
        format!("{sessions_path}/{encoded}")
    }
}

fn json_reply(status: StatusCode, body: serde_json::Value) -> Reply {
    let mut reply = Response::new(Bytes::from(serde_json::to_vec(&body).unwrap_or_default()));
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert("odata-version", HeaderValue::from_static("4.0"));
    reply
}

/// A Redfish error body (DSP0266 §9.6): `code` and `message`, one `@Message.ExtendedInfo`.
pub fn error(status: StatusCode, message_id: &str, message: impl std::fmt::Display) -> Reply {
    let message = message.to_string();
    let id = format!("Base.1.8.{message_id}");
    json_reply(
        status,
        serde_json::json!({ "error": {
            "code": id, "message": message,
            "@Message.ExtendedInfo": [{ "MessageId": id, "Message": message, "Severity": "Critical" }]
        }}),
    )
}

fn no_valid_session() -> Reply {
    let mut reply = error(
        StatusCode::UNAUTHORIZED,
        "NoValidSession",
        "the session token is unknown or has expired: log in again",
    );
    reply.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("X-Auth-Token"),
    );
    reply
}

fn success() -> Reply {
    json_reply(
        StatusCode::OK,
        serde_json::json!({ "error": {
            "code": "Base.1.8.Success", "message": "Successfully Completed Request",
            "@Message.ExtendedInfo": [{ "MessageId": "Base.1.8.Success", "Severity": "OK" }]
        }}),
    )
}

fn method_not_allowed(allow: &'static str) -> Reply {
    let mut reply = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "OperationNotAllowed",
        format!("allowed here: {allow}"),
    );
    reply
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_uris_follow_the_collections_slash_style() {
        assert_eq!(
            member_uri("/redfish/v1/SessionService/Sessions/", "hostagent-ab"),
            "/redfish/v1/SessionService/Sessions/hostagent-ab/"
        );
        assert_eq!(
            member_uri("/redfish/v1/SessionService/Sessions", "a b"),
            "/redfish/v1/SessionService/Sessions/a%20b"
        );
    }

    #[test]
    fn the_client_base_comes_only_from_a_plain_host_header() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.2"));
        assert_eq!(client_base(&h).as_deref(), Some("https://127.0.0.2"));
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.2:8443"));
        assert_eq!(client_base(&h).as_deref(), Some("https://127.0.0.2:8443"));
        h.insert(header::HOST, HeaderValue::from_static("evil/x?"));
        assert_eq!(client_base(&h), None);
    }
}
