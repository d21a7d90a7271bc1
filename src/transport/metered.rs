//! A [`Transport`] that records each request it passes on in the metrics of its controller
//! (`hostagent_bmc_requests_total{method,code}`, `hostagent_bmc_request_duration_seconds`,
//! `hostagent_bmc_up`; for an HMC the same with `hmc` in the name and an `hmc` label). It
//! adds no request of its own.

use std::sync::Arc;
use std::time::Instant;

use super::{Request, SendFuture, StreamedFuture, Transport, TransportError};
use crate::metrics::{Controller, Labels, Metrics};

pub struct Metered {
    inner: Arc<dyn Transport>,
    controller: &'static Controller,
    /// The controller's base labels: none for the BMC, `hmc="NAME"` for an HMC.
    base: Labels,
}

impl Metered {
    /// The BMC's transport.
    pub fn wrap(inner: Arc<dyn Transport>, metrics: &'static Metrics) -> Arc<dyn Transport> {
        Arc::new(Metered {
            inner,
            controller: &metrics.bmc,
            base: Labels::new(),
        })
    }

    /// An HMC's transport, named by its `[[hmc]]` table.
    pub fn wrap_hmc(
        inner: Arc<dyn Transport>,
        metrics: &'static Metrics,
        name: &str,
    ) -> Arc<dyn Transport> {
        Arc::new(Metered {
            inner,
            controller: &metrics.hmc,
            base: vec![("hmc", name.to_string())],
        })
    }
}

impl Metered {
    /// Records one request's outcome: its status, or `unreachable` / `error` when none came.
    fn record(
        &self,
        method: &http::Method,
        status: Result<http::StatusCode, &TransportError>,
        start: Instant,
    ) {
        let secs = start.elapsed().as_secs_f64();
        let (c, on) = (self.controller, &self.base[..]);
        match status {
            Ok(status) => {
                c.set_up(on, true);
                c.request(on, method.as_str(), status.as_str(), secs);
            }
            Err(e) => {
                let unreachable = matches!(
                    e,
                    TransportError::Connect { .. } | TransportError::Timeout { .. }
                );
                if unreachable {
                    c.set_up(on, false);
                }
                let code = if unreachable { "unreachable" } else { "error" };
                c.request(on, method.as_str(), code, secs);
            }
        }
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
