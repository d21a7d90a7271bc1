//! Answer bodies: a buffer, or a generated stream for the huge-answer fault (2 GB must not be
//! held in memory). Hand-written because it is one small `Body` impl; a stream crate would add
//! a dependency for less.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

const CHUNK: usize = 64 * 1024;

pub enum SimBody {
    Full(Option<Bytes>),
    /// An Atom feed's opening followed by filler, `remaining` bytes in all.
    Huge {
        head: Option<Bytes>,
        remaining: u64,
        filler: Bytes,
    },
}

impl SimBody {
    pub fn full(b: impl Into<Bytes>) -> SimBody {
        SimBody::Full(Some(b.into()))
    }

    pub fn huge(bytes: u64) -> SimBody {
        let head = Bytes::from_static(
            b"<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:ns2=\"http://a9.com/-/spec/opensearch/1.1/\">\n",
        );
        let line = b"<!-- hmcsim padding: a feed that does not end -->\n";
        let filler: Vec<u8> = line.iter().copied().cycle().take(CHUNK).collect();
        SimBody::Huge {
            head: Some(head),
            remaining: bytes,
            filler: Bytes::from(filler),
        }
    }

    /// The bytes of a buffered body (empty for a stream).
    pub fn bytes(&self) -> Bytes {
        match self {
            SimBody::Full(b) => b.clone().unwrap_or_default(),
            SimBody::Huge { .. } => Bytes::new(),
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let next = match this {
            SimBody::Full(b) => b.take().filter(|b| !b.is_empty()),
            SimBody::Huge {
                head,
                remaining,
                filler,
            } => {
                if *remaining == 0 {
                    None
                } else {
                    let chunk = head.take().unwrap_or_else(|| filler.clone());
                    let n = (chunk.len() as u64).min(*remaining) as usize;
                    *remaining -= n as u64;
                    Some(chunk.slice(..n))
                }
            }
        };
        Poll::Ready(next.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SimBody::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            SimBody::Huge { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            // Chunked unless the handler sets Content-Length itself.
            SimBody::Huge { .. } => SizeHint::default(),
        }
    }
}
