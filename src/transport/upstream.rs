//! The body of one answer from the BMC, read frame by frame off its pooled connection: the
//! size bound applies as it comes, a BMC silent longer than the timeout ends it, and the
//! connection goes back to the pool only once the body has been read to its end (a body
//! dropped half-read closes the connection).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use hyper::body::{Body, Incoming};
use tokio::sync::OwnedSemaphorePermit;

use super::pool::{Pool, Sender};
use super::TransportError;

pub struct Upstream {
    body: Incoming,
    /// Returned to the pool at the end of the body.
    conn: Option<(Arc<Pool>, Sender)>,
    /// The slot among the requests in flight, held while the BMC is sending (an event stream
    /// gives it back at once: the BMC is not working for it).
    permit: Option<OwnedSemaphorePermit>,
    read: usize,
    /// `None` for an event stream, which has no end.
    max: Option<usize>,
    path: String,
    /// Between two frames the BMC may be silent this long (`None`: an event stream).
    quiet: Option<Duration>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

impl Upstream {
    pub fn new(
        body: Incoming,
        conn: (Arc<Pool>, Sender),
        permit: Option<OwnedSemaphorePermit>,
        max: Option<usize>,
        path: String,
        quiet: Option<Duration>,
    ) -> Upstream {
        Upstream {
            body,
            conn: Some(conn),
            permit,
            read: 0,
            max,
            path,
            quiet,
            timer: None,
            done: false,
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.permit = None;
        self.timer = None;
        if let Some((pool, sender)) = self.conn.take() {
            pool.put(sender);
        }
    }

    fn fail(&mut self, e: TransportError) -> Poll<Option<Result<Bytes, TransportError>>> {
        self.done = true;
        self.conn = None;
        self.permit = None;
        Poll::Ready(Some(Err(e)))
    }
}

impl Stream for Upstream {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let frame = match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Pending => {
                    if let Some(quiet) = this.quiet {
                        let timer = this
                            .timer
                            .get_or_insert_with(|| Box::pin(tokio::time::sleep(quiet)));
                        ready!(timer.as_mut().poll(cx));
                        return this.fail(TransportError::Timeout {
                            endpoint: this.path.clone(),
                            after: quiet,
                        });
                    }
                    return Poll::Pending;
                }
                Poll::Ready(f) => f,
            };
            this.timer = None;
            match frame {
                None => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Some(Err(e)) => {
                    return this.fail(TransportError::Io(format!(
                        "reading the answer to {}: {e}",
                        this.path
                    )))
                }
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers
                    };
                    this.read += data.len();
                    if let Some(max) = this.max.filter(|m| this.read > *m) {
                        return this.fail(too_large(&this.path, max));
                    }
                    if this.body.is_end_stream() {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(data)));
                }
            }
        }
    }
}

pub fn too_large(path: &str, max: usize) -> TransportError {
    TransportError::Malformed(format!("response to {path} is larger than {max} bytes"))
}
