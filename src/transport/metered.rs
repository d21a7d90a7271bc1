//! A [`Transport`] that records each request it passes on in the metrics of its controller
//! (`hostagent_bmc_requests_total{method,code}`, `hostagent_bmc_request_duration_seconds`,
//! `hostagent_bmc_up`; for an HMC the same with `hmc` in the name and an `hmc` label). It
//! adds no request of its own.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use super::{Request, SendFuture, StreamedFuture, Transport, TransportError};
use crate::metrics::{Controller, Labels, Metrics};

/// What a request ended with: an HTTP status, or why none came.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Code {
    Status(u16),
    Unreachable,
    Error,
}

pub struct Metered {
    inner: Arc<dyn Transport>,
    controller: &'static Controller,
    /// The controller's base labels: none for the BMC, `hmc="NAME"` for an HMC.
    base: Labels,
    /// Handles on this controller's series, so that a request is counted without building
    /// its label set again (the proxy's hot path: docs/PERFORMANCE.md).
    up: Gauge,
    duration: Histogram,
    counters: RwLock<HashMap<(http::Method, Code), Counter>>,
}

impl Metered {
    /// The BMC's transport.
    pub fn wrap(inner: Arc<dyn Transport>, metrics: &'static Metrics) -> Arc<dyn Transport> {
        Arc::new(Metered::new(inner, &metrics.bmc, Labels::new()))
    }

    /// An HMC's transport, named by its `[[hmc]]` table.
    pub fn wrap_hmc(
        inner: Arc<dyn Transport>,
        metrics: &'static Metrics,
        name: &str,
    ) -> Arc<dyn Transport> {
        Arc::new(Metered::new(
            inner,
            &metrics.hmc,
            vec![("hmc", name.to_string())],
        ))
    }

    fn new(inner: Arc<dyn Transport>, controller: &'static Controller, base: Labels) -> Metered {
        Metered {
            up: controller.up_of(&base),
            duration: controller.duration_of(&base),
            counters: RwLock::default(),
            inner,
            controller,
            base,
        }
    }

    fn counter(&self, method: &http::Method, code: Code) -> Counter {
        let key = (method.clone(), code);
        if let Some(c) = self.read_counters().get(&key) {
            return c.clone();
        }
        let status;
        let label = match code {
            Code::Status(n) => {
                status = n.to_string();
                status.as_str()
            }
            Code::Unreachable => "unreachable",
            Code::Error => "error",
        };
        let c = self
            .controller
            .request_counter(&self.base, method.as_str(), label);
        let mut all = self.counters.write().unwrap_or_else(|e| e.into_inner());
        all.entry(key).or_insert(c).clone()
    }

    fn read_counters(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<(http::Method, Code), Counter>> {
        self.counters.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one request's outcome: its status, or `unreachable` / `error` when none came.
    fn record(
        &self,
        method: &http::Method,
        status: Result<http::StatusCode, &TransportError>,
        start: Instant,
    ) {
        let secs = start.elapsed().as_secs_f64();
        let code = match status {
            Ok(status) => {
                self.up.set(1);
                Code::Status(status.as_u16())
            }
            Err(TransportError::Connect { .. } | TransportError::Timeout { .. }) => {
                self.up.set(0);
                Code::Unreachable
            }
            Err(_) => Code::Error,
        };
        self.counter(method, code).inc();
        self.duration.observe(secs);
    }
}

impl Transport for Metered {
    fn send(&self, req: Request) -> SendFuture<'_> {
        Box::pin(async move {
            let (method, start) = (req.method.clone(), Instant::now());
            let result = self.inner.send(req).await;
            self.record(&method, result.as_ref().map(|r| r.status), start);
            result
        })
    }

    /// Recorded when the answer's head arrives (a stream's duration is the client's).
    fn send_streamed(&self, req: Request) -> StreamedFuture<'_> {
        Box::pin(async move {
            let (method, start) = (req.method.clone(), Instant::now());
            let result = self.inner.send_streamed(req).await;
            self.record(&method, result.as_ref().map(|r| r.status), start);
            result
        })
    }

    fn follow_interface(&self, ifname: &str) -> Result<(), TransportError> {
        self.inner.follow_interface(ifname)
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn endpoint(&self) -> String {
        self.inner.endpoint()
    }

    fn sessionless(&self) -> bool {
        self.inner.sessionless()
    }

    fn peer_fingerprint(&self) -> Option<super::trust::Fingerprint> {
        self.inner.peer_fingerprint()
    }
}
