//! The read-only resources behind a valid `X-API-Session`: the `uom` feeds (ManagedSystem,
//! LogicalPartition), their entries, `search/(...)`, and the `pcm` preferences and metrics,
//! with ETags (`If-None-Match` → 304) and absolute links naming the simulator's listener.

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};

use crate::feeds::{self, java_hash, Capture};
use crate::handler::{empty, error, method_not_allowed, reply, Ctx, Reply};
use crate::state::Sim;

/// What to answer with: a document and its ETag.
struct Doc<'a> {
    body: std::borrow::Cow<'a, str>,
    etag: Option<String>,
    content_type: &'a str,
    capture: Option<&'a Capture>,
}

impl<'a> Doc<'a> {
    fn capture(c: &'a Capture) -> Doc<'a> {
        Doc {
            body: std::borrow::Cow::Borrowed(&c.body),
            etag: c.etag.clone(),
            content_type: &c.content_type,
            capture: Some(c),
        }
    }

    fn made(body: String) -> Doc<'a> {
        Doc {
            etag: Some(java_hash(&body)),
            body: std::borrow::Cow::Owned(body),
            content_type: crate::handler::ATOM,
            capture: None,
        }
    }
}

enum Lookup<'a> {
    Doc(Doc<'a>),
    /// A search that matched nothing.
    NoContent,
    BadSearch(String),
    Missing,
}

pub fn route(sim: &Sim, ctx: &Ctx, req: &Request<Bytes>, raw_path: &str) -> Reply {
    let path = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy();
    let path = path.trim_end_matches('/');
    if req.method() != Method::GET {
        return method_not_allowed(sim, raw_path, req.headers(), "GET");
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let found = match segments.as_slice() {
        ["rest", "api", "uom", rest @ ..] => uom(sim, rest),
        ["rest", "api", "pcm", rest @ ..] => pcm(sim, rest),
        _ => Lookup::Missing,
    };
    let headers = req.headers();
    match found {
        Lookup::Doc(doc) => serve(sim, ctx, req, doc),
        Lookup::NoContent => empty(StatusCode::NO_CONTENT),
        Lookup::BadSearch(why) => error(
            sim,
            StatusCode::BAD_REQUEST,
            raw_path,
            headers,
            "Bad request.",
            &why,
        ),
        Lookup::Missing => error(
            sim,
            StatusCode::NOT_FOUND,
            raw_path,
            headers,
            "Not found.",
            "The requested resource does not exist on this simulated HMC.",
        ),
    }
}

fn search<'a>(feed: &str, expr: &str) -> Lookup<'a> {
    match feeds::search(feed, expr) {
        Ok(Some(body)) => Lookup::Doc(Doc::made(body)),
        Ok(None) => Lookup::NoContent,
        Err(feeds::BadSearch(why)) => Lookup::BadSearch(why),
    }
}

fn entry<'a>(feed: &str, id: &str) -> Lookup<'a> {
    feeds::entry_doc(feed, id)
        .map(|e| Lookup::Doc(Doc::made(e)))
        .unwrap_or(Lookup::Missing)
}

fn is_system(sim: &Sim, id: &str) -> bool {
    feeds::entries(&sim.feeds.managed_system.body)
        .iter()
        .any(|e| feeds::entry_id(e).is_some_and(|i| i.eq_ignore_ascii_case(id)))
}

fn lpars<'a>(sim: &'a Sim, rest: &[&str]) -> Lookup<'a> {
    let feed = &sim.feeds.lpar;
    match rest {
        [] => Lookup::Doc(Doc::capture(feed)),
        ["search", expr] => search(&feed.body, expr),
        [id] => entry(&feed.body, id),
        _ => Lookup::Missing,
    }
}

fn uom<'a>(sim: &'a Sim, rest: &[&str]) -> Lookup<'a> {
    let systems = &sim.feeds.managed_system;
    match rest {
        ["ManagedSystem"] => Lookup::Doc(Doc::capture(systems)),
        ["ManagedSystem", "search", expr] => search(&systems.body, expr),
        ["ManagedSystem", id] => entry(&systems.body, id),
        // NOTE: the captures hold one HMC's partitions; every captured system lists them.
        ["ManagedSystem", id, "LogicalPartition", more @ ..] if is_system(sim, id) => {
            lpars(sim, more)
        }
        ["LogicalPartition", more @ ..] => lpars(sim, more),
        _ => Lookup::Missing,
    }
}

/// NOTE: the PCM captures name other systems than the uom feed, so PCM answers for any
/// ManagedSystem UUID.
fn pcm<'a>(sim: &'a Sim, rest: &[&str]) -> Lookup<'a> {
    let f = &sim.feeds;
    match rest {
        ["preferences"] | ["ManagedSystem", _, "preferences"] => {
            Lookup::Doc(Doc::capture(&f.pcm_pref))
        }
        ["ManagedSystem", _, "RawMetrics", "LongTermMonitor"] => Lookup::Doc(Doc::capture(&f.ltm)),
        ["ManagedSystem", _, "RawMetrics", "LongTermMonitor", file] if file.ends_with(".json") => {
            if file.contains("_phyp_") {
                Lookup::Doc(Doc::capture(&f.phyp_pcm))
            } else if file.contains("_lpar_") {
                Lookup::Doc(Doc::capture(&f.lpar_pcm))
            } else {
                Lookup::Missing
            }
        }
        _ => Lookup::Missing,
    }
}

/// 304 when `If-None-Match` names the ETag, else the document with the links rewritten.
fn serve(sim: &Sim, ctx: &Ctx, req: &Request<Bytes>, doc: Doc<'_>) -> Reply {
    let if_none_match = req
        .headers()
        .get(http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"'));
    let etag = doc.etag.as_deref();
    let mut resp = if etag.is_some() && if_none_match == etag {
        empty(StatusCode::NOT_MODIFIED)
    } else {
        let own = format!(
            "{}://{}",
            if sim.cfg.http { "http" } else { "https" },
            ctx.local
        );
        reply(
            StatusCode::OK,
            doc.content_type,
            feeds::rewrite(&doc.body, &own),
        )
    };
    let h = resp.headers_mut();
    let mut set = |name: http::header::HeaderName, value: Option<&str>| {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert(name, v);
        }
    };
    set(http::header::ETAG, etag);
    if let Some(c) = doc.capture {
        set(http::header::LAST_MODIFIED, c.last_modified.as_deref());
        set(http::header::CACHE_CONTROL, c.cache_control.as_deref());
    }
    resp
}
