//! A [`Transport`] that records each request it passes on in the metrics
//! (`hostagent_bmc_requests_total{method,code}`, `hostagent_bmc_request_duration_seconds`,
//! `hostagent_bmc_up`). It adds no request of its own.

use std::sync::Arc;
use std::time::Instant;

use super::{Request, SendFuture, Transport, TransportError};
use crate::metrics::{Metrics, BMC};

pub struct Metered {
    inner: Arc<dyn Transport>,
    metrics: &'static Metrics,
}

impl Metered {
    pub fn wrap(inner: Arc<dyn Transport>, metrics: &'static Metrics) -> Arc<dyn Transport> {
        Arc::new(Metered { inner, metrics })
    }
}

impl Transport for Metered {
    fn send(&self, req: Request) -> SendFuture<'_> {
        Box::pin(async move {
            let method = req.method.clone();
            let start = Instant::now();
            let result = self.inner.send(req).await;
            let secs = start.elapsed().as_secs_f64();
            let bmc = &self.metrics.bmc;
            match &result {
                Ok(resp) => {
                    bmc.set_up(BMC, true);
                    bmc.request(BMC, method.as_str(), resp.status.as_str(), secs);
                }
                Err(e) => {
                    let unreachable = matches!(
                        e,
                        TransportError::Connect { .. } | TransportError::Timeout { .. }
                    );
                    if unreachable {
                        bmc.set_up(BMC, false);
                    }
                    let code = if unreachable { "unreachable" } else { "error" };
                    bmc.request(BMC, method.as_str(), code, secs);
                }
            }
            result
        })
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
}
