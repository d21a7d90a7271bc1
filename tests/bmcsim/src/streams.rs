//! Answers that are not one JSON resource: the Redfish SSE stream
//! (`GET /redfish/v1/EventService/SSE`, `text/event-stream`), which sends an event each time
//! the control API's `POST /_sim/event` asks for one, and a large answer of a chosen size
//! (`GET /redfish/v1/Oem/Bmcsim/Blob?bytes=N`) for tests of how clients and proxies carry it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::handler::{self, Caller, Channel};
use crate::state::Sim;

pub type SimBody = BoxBody<Bytes, Infallible>;

pub const SSE_PATH: &str = "/redfish/v1/EventService/SSE";
pub const BLOB_PATH: &str = "/redfish/v1/Oem/Bmcsim/Blob";
/// Events queued for a subscriber that does not read; more are dropped for it.
const QUEUE: usize = 64;
/// The largest blob (the agent's answer bound is 16 MiB; tests go over it).
const MAX_BLOB: usize = 64 << 20;

/// The SSE or blob answer when `req` asks for one; `None` for every other request.
pub fn route(sim: &Sim, channel: Channel, req: &Request<Bytes>) -> Option<Response<SimBody>> {
    let path = req.uri().path();
    let sse = path.trim_end_matches('/') == SSE_PATH;
    if !sse && path.trim_end_matches('/') != BLOB_PATH {
        return None;
    }
    if req.method() != http::Method::GET {
        return Some(handler::method_not_allowed(sim, "GET").map(full));
    }
    if matches!(handler::authenticate(sim, channel, req), Caller::None) {
        return Some(
            handler::error_reply(
                sim,
                StatusCode::UNAUTHORIZED,
                "NoValidSession",
                "There is no valid session established with the implementation.",
            )
            .map(full),
        );
    }
    Some(if sse { subscribe(sim) } else { blob(sim, req) })
}

fn full(b: Bytes) -> SimBody {
    http_body_util::Full::new(b).boxed()
}

fn subscribe(sim: &Sim) -> Response<SimBody> {
    let (tx, rx) = mpsc::channel(QUEUE);
    sim.subscribers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(tx);
    let mut resp = Response::new(Events(rx).boxed());
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    resp
}

fn blob(sim: &Sim, req: &Request<Bytes>) -> Response<SimBody> {
    let bytes = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix("bytes="))
        .and_then(|n| n.parse::<usize>().ok());
    let Some(n) = bytes.filter(|n| (64..=MAX_BLOB).contains(n)) else {
        return handler::error_reply(
            sim,
            StatusCode::BAD_REQUEST,
            "QueryParameterValueError",
            "bytes=N is required, 64 <= N <= 67108864.",
        )
        .map(full);
    };
    let head = format!("{{\"@odata.id\":\"{BLOB_PATH}\",\"Data\":\"");
    let mut body = Vec::with_capacity(n);
    body.extend_from_slice(head.as_bytes());
    body.resize(n - 2, b'x');
    body.extend_from_slice(b"\"}");
    handler::bytes_reply(StatusCode::OK, Bytes::from(body)).map(full)
}

/// Sends one Redfish event to every open SSE stream; how many got it.
pub fn emit(sim: &Sim, message: &str) -> usize {
    let id = {
        let mut n = sim.event_id.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        *n
    };
    let event = json!({
        "@odata.type": "#Event.v1_7_0.Event",
        "Id": id.to_string(),
        "Name": "Event",
        "Events": [{
            "EventId": id.to_string(),
            "EventType": "Alert",
            "MessageId": "Bmcsim.1.0.TestEvent",
            "Message": message,
        }],
    });
    let frame = Bytes::from(format!("id: {id}\ndata: {event}\n\n"));
    let mut subscribers = sim.subscribers.lock().unwrap_or_else(|e| e.into_inner());
    subscribers.retain(|tx| !tx.is_closed());
    subscribers
        .iter()
        .filter(|tx| tx.try_send(frame.clone()).is_ok())
        .count()
}

/// `POST /_sim/event {"message":"…"}`.
pub fn emit_request(sim: &Sim, b: &Value) -> Value {
    let message = b.get("message").and_then(Value::as_str).unwrap_or("test");
    json!({ "delivered": emit(sim, message) })
}

/// One subscriber's stream: the events sent to it, as they come.
struct Events(mpsc::Receiver<Bytes>);

impl Body for Events {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|e| e.map(|b| Ok(Frame::data(b))))
    }
}
