//! `POST /v1/clean` with `Accept: application/x-ndjson`: the clean's progress as it goes, one
//! JSON object a line — `{"progress":{"done":N,"total":M}}` — then the last line, the report
//! (`{"report":{...}}`, the default answer's shape inside) or the error
//! (`{"error":{"code","message"}}`). The status is 200 once streaming starts; a request that
//! cannot start (a bad body) gets the usual error answer. Without that `Accept` the answer is
//! the whole report as before. The clean runs to its end even when the client goes away, as
//! the reaper's would.
//!
//! A route answers a streamed reply with an empty body and the lines' receiver in its
//! extensions ([`Streamed`]); the server sends what the receiver yields as the body.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;
use serde_json::json;
use tokio::sync::mpsc;

use super::reply::Reply;
use super::Core;
use crate::reaper::CleanRequest;

pub const NDJSON: &str = "application/x-ndjson";

/// The body of a streamed reply, taken by the server (extensions must be `Clone`).
#[derive(Clone)]
pub struct Streamed(pub Arc<Mutex<Option<mpsc::Receiver<Bytes>>>>);

impl Streamed {
    pub fn take(&self) -> Option<mpsc::Receiver<Bytes>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Whether the client asks for the streamed form.
pub fn wants_ndjson(req: &Request<Bytes>) -> bool {
    req.headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().starts_with(NDJSON)))
}

fn line(value: &serde_json::Value) -> Bytes {
    let mut text = value.to_string();
    text.push('\n');
    Bytes::from(text)
}

/// Starts the clean and answers with its lines.
pub fn clean(core: Arc<Core>, req: &Request<Bytes>) -> Reply {
    let body: CleanRequest = match super::reply::body_of(req, "clean request") {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    // Progress lines are dropped when the client reads slower than the deletes go; the last
    // line is always sent.
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let (policy, opts) = body.policy(&core.settings.reaper);
        let progress = tx.clone();
        let on_progress = move |done: usize, total: usize| {
            let _ = progress.try_send(line(
                &json!({ "progress": { "done": done, "total": total } }),
            ));
        };
        let last = match core.service.clean(&policy, &opts, &on_progress).await {
            Ok(report) => json!({ "report": report }),
            Err(e) => {
                let code = if e.is_unreachable() {
                    "bmc_unreachable"
                } else {
                    "bmc_error"
                };
                json!({ "error": { "code": code, "message": e.to_string() } })
            }
        };
        let _ = tx.send(line(&last)).await;
    });
    let mut reply = Reply::new(Bytes::new());
    reply.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(NDJSON),
    );
    reply
        .extensions_mut()
        .insert(Streamed(Arc::new(Mutex::new(Some(rx)))));
    reply
}
