//! A bound on the proxy requests that wait for the BMC. The transport lets
//! `bmc.max_concurrency` requests be in flight and makes the rest wait; without a bound, a
//! slow or stuck BMC would let waiting requests (each with its connection and body) pile up
//! for as long as clients keep sending. Past `max_concurrency + api.proxy_queue` requests at
//! once, the proxy answers 503 with `Retry-After` at once: memory stays flat and clients
//! learn when to come back.
//!
//! `Retry-After` is an estimate of when a slot frees up: the recent mean time of a proxied
//! request, times the queue's depth in rounds of `max_concurrency`, between 1 and 60 s.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Reply;

struct Inner {
    slots: Arc<Semaphore>,
    bound: usize,
    concurrency: usize,
    /// Exponentially weighted mean of admitted requests' durations, ms.
    mean_ms: AtomicU64,
    /// Set from the first refusal until the next admission: the warning is logged once a spell.
    refusing: AtomicBool,
    refused: AtomicU64,
}

/// Shared by every proxy request; cheap to clone.
#[derive(Clone)]
pub struct Queue(Arc<Inner>);

/// An admitted request's place; dropping it frees the place and notes how long it took.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    queue: Arc<Inner>,
    start: Instant,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let ms = self.start.elapsed().as_millis().min(u64::MAX as u128) as u64;
        let old = self.queue.mean_ms.load(Ordering::Relaxed);
        let new = if old == 0 { ms } else { (old * 7 + ms) / 8 };
        self.queue.mean_ms.store(new, Ordering::Relaxed);
    }
}

impl Queue {
    /// `concurrency` requests in flight (the transport's bound) and `waiting` more queued.
    pub fn new(concurrency: usize, waiting: usize) -> Queue {
        let concurrency = concurrency.max(1);
        let bound = concurrency + waiting;
        Queue(Arc::new(Inner {
            slots: Arc::new(Semaphore::new(bound)),
            bound,
            concurrency,
            mean_ms: AtomicU64::new(0),
            refusing: AtomicBool::new(false),
            refused: AtomicU64::new(0),
        }))
    }

    /// A place for one request; `None` when the bound is reached: answer [`Self::refuse`].
    pub fn admit(&self) -> Option<Slot> {
        let permit = self.0.slots.clone().try_acquire_owned().ok()?;
        self.0.refusing.store(false, Ordering::Relaxed);
        Some(Slot {
            _permit: permit,
            queue: self.0.clone(),
            start: Instant::now(),
        })
    }

    /// Requests refused since start.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::Relaxed)
    }

    /// Seconds until a place is likely free.
    pub fn retry_after_s(&self) -> u64 {
        let rounds = self.0.bound.div_ceil(self.0.concurrency) as u64;
        let mean = self.0.mean_ms.load(Ordering::Relaxed);
        (mean * rounds).div_ceil(1000).clamp(1, 60)
    }

    /// The 503 with `Retry-After` for a request that found no place.
    pub fn refuse(&self) -> Reply {
        self.0.refused.fetch_add(1, Ordering::Relaxed);
        let retry = self.retry_after_s();
        if !self.0.refusing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                queued = self.0.bound,
                retry_after_s = retry,
                "the BMC is slow: {} proxy requests are in flight or waiting, the most allowed (bmc.max_concurrency + api.proxy_queue); refusing more with 503 until one finishes",
                self.0.bound
            );
        }
        let mut reply = super::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceTemporarilyUnavailable",
            format!(
                "the BMC is slow: {} requests are in flight or waiting for it, the most this proxy holds (bmc.max_concurrency + api.proxy_queue); retry in {retry} s",
                self.0.bound
            ),
        );
        reply
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(retry));
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_bound_requests_get_503_with_retry_after_and_a_freed_place_admits_again() {
        let q = Queue::new(2, 1);
        let held: Vec<Slot> = (0..3).map(|_| q.admit().unwrap()).collect();
        assert!(q.admit().is_none());
        let refused = q.refuse();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()[http::header::RETRY_AFTER], "1");
        assert_eq!(q.refused(), 1);
        drop(held);
        assert!(q.admit().is_some());
    }

    #[test]
    fn retry_after_follows_the_mean_request_time_and_the_queue_depth() {
        let q = Queue::new(2, 4);
        q.0.mean_ms.store(5000, Ordering::Relaxed);
        // 6 places in rounds of 2: 3 rounds of 5 s.
        assert_eq!(q.retry_after_s(), 15);
        q.0.mean_ms.store(120_000, Ordering::Relaxed);
        assert_eq!(q.retry_after_s(), 60, "capped");
    }
}
