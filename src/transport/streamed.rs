//! An answer whose body may still be arriving: small answers come whole, large ones and event
//! streams (`text/event-stream`, Redfish SSE) as a stream of chunks read from the BMC only as
//! fast as the consumer takes them, so that a slow reader holds no more than a chunk or two.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use http::{HeaderMap, StatusCode};

use super::{Response, TransportError};

/// Answers larger than this are streamed (and not rewritten or cached by the proxy).
pub const STREAM_ABOVE: usize = 1 << 20;

pub type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

pub enum Body {
    Whole(Bytes),
    Stream(Chunks),
}

pub struct Streamed {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Streamed {
    pub fn whole(resp: Response) -> Streamed {
        Streamed {
            status: resp.status,
            headers: resp.headers,
            body: Body::Whole(resp.body),
        }
    }

    /// Reads a streamed body to its end (its own bound applies).
    pub async fn into_whole(self) -> Result<Response, TransportError> {
        let body = match self.body {
            Body::Whole(b) => b,
            Body::Stream(mut chunks) => {
                use futures::StreamExt;
                let mut all = BytesMut::new();
                while let Some(chunk) = chunks.next().await {
                    all.extend_from_slice(&chunk?);
                }
                all.freeze()
            }
        };
        Ok(Response {
            status: self.status,
            headers: self.headers,
            body,
        })
    }

    /// Whether the body is an event stream (`text/event-stream`), which never ends by itself.
    pub fn is_event_stream(headers: &HeaderMap) -> bool {
        headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                const SSE: &str = "text/event-stream";
                v.trim_start()
                    .get(..SSE.len())
                    .is_some_and(|t| t.eq_ignore_ascii_case(SSE))
            })
    }
}

/// Chunks read before the transport decided to stream, then the rest.
pub struct Prefixed<S> {
    pub prefix: VecDeque<Bytes>,
    pub rest: S,
}

impl<S> Stream for Prefixed<S>
where
    S: Stream<Item = Result<Bytes, TransportError>> + Unpin,
{
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.prefix.pop_front() {
            return Poll::Ready(Some(Ok(first)));
        }
        Pin::new(&mut self.rest).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_streams_are_known_by_their_content_type_in_any_case() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(v),
            );
            Streamed::is_event_stream(&h)
        };
        assert!(with("text/event-stream"));
        assert!(with(" Text/Event-Stream; charset=utf-8"));
        assert!(!with("text/event"));
        assert!(!with("application/json"));
        assert!(!Streamed::is_event_stream(&HeaderMap::new()));
    }
}
