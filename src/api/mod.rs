//! The local API: HTTP/1.1 + JSON on the Unix socket ([`server`]) and, optionally, the
//! loopback HTTPS listener ([`tls_listener`]). Every request is attributed to its peer by the
//! kernel ([`crate::peer`]) and routed ([`routes`]): `/v1/*` to the agent's operations,
//! `/redfish/**` to the Redfish proxy ([`crate::proxy`]).

pub mod error;
pub mod routes;
pub mod server;
pub mod tls_listener;

use std::sync::Arc;

pub use error::ApiError;

use crate::config::Settings;
use crate::proxy::Proxy;
use crate::service::Service;

/// What the routes and listeners share: the daemon builds it once it is connected.
pub struct Api {
    pub settings: Settings,
    pub service: Arc<Service>,
    pub proxy: Proxy,
}
