//! The body of a proxy answer: whole (most answers, and everything the proxy writes itself),
//! or the BMC's stream passed on as it comes (large answers, event streams). A stream is read
//! from the BMC only when the client's connection takes the previous chunk, so a slow client
//! slows the BMC's connection down instead of growing a buffer here.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

use crate::transport::streamed::Chunks;
use crate::transport::TransportError;

pub enum Body {
    Whole(Option<Bytes>),
    Stream(Chunks),
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body::Whole((!b.is_empty()).then_some(b))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = TransportError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        match self.get_mut() {
            Body::Whole(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(s) => s
                .as_mut()
                .poll_next(cx)
                .map(|c| c.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Whole(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

impl Body {
    /// The whole body, if it is whole (tests and in-process callers).
    pub fn whole(&self) -> Option<&[u8]> {
        match self {
            Body::Whole(b) => Some(b.as_deref().unwrap_or_default()),
            Body::Stream(_) => None,
        }
    }
}
