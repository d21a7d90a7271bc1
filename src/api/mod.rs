//! The local API: HTTP/1.1 + JSON on the Unix socket ([`server`], bound by [`socket`]) and,
//! optionally, the loopback HTTPS listener ([`tls_listener`]). Every connection is attributed
//! to its peer by the kernel ([`crate::peer`]) and admitted or refused by role and uid before a
//! byte is read ([`admission`], refusals summarized by [`refusals`]). Requests are answered
//! from the start: while the daemon connects, by [`connecting::Api`]; once connected, by the
//! [`routes`] over a [`Core`]: `/v1/*` to the agent's operations, `/redfish/**` to the Redfish
//! proxy ([`crate::proxy`]). `GET /metrics` ([`metrics`]) answers on the socket and on the
//! optional plain-HTTP loopback listener `api.metrics_listen`, in both states.

pub mod admission;
pub mod connecting;
pub mod metrics;
pub mod refusals;
pub mod reply;
pub mod routes;
pub mod server;
pub mod socket;
pub mod stream;
pub mod tls_listener;

pub use connecting::Api;
pub use reply::ApiError;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::config::Settings;
use crate::proxy::Proxy;
use crate::service::Service;

/// What the routes act on once the daemon is connected.
pub struct Core {
    pub settings: Settings,
    pub service: Arc<Service>,
    pub proxy: Proxy,
    /// The bound on proxy requests waiting for the BMC.
    pub proxy_queue: crate::proxy::queue::Queue,
    /// Reaper cycles completed (`status`'s `reaper_cycles`).
    pub reaper_cycles: AtomicU64,
    /// The HMCs, for `status` (the same as [`Api`]'s).
    pub hmcs: Arc<crate::hmc::Hmcs>,
}

/// What a listener serves: the whole local API, or one HMC's REST API at its root (an
/// `[[hmc]]` table's `listen`), by the HMC's name in [`crate::hmc::Hmcs`] (looked up at each
/// request: a table removed at a reload answers 404 at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Api,
    Hmc(Arc<str>),
}
