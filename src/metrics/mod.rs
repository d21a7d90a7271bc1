//! The agent's Prometheus metrics, with the official client (`prometheus-client`): one
//! registry per process ([`global`]) that the transport, the session core, the reaper and the
//! API record into, and that `GET /metrics`, `api.metrics_listen` and the node_exporter
//! textfile ([`textfile`]) expose in the Prometheus text format. Nothing here asks the BMC
//! anything: the session counts are those of the last listing, the rest are counters and
//! values the agent keeps anyway (the README's "Fleet view" lists every metric).
//!
//! Names follow Prometheus's conventions: base units, `_total` counters, labels of few values
//! (a kind, an owner class, a method, a status) and never a session id or a user name.

pub mod controller;
pub mod textfile;

use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

pub use controller::{Controller, Labels, Names, BMC};

/// The `Content-Type` of what [`Metrics::encode`] writes (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Seconds: the proxy answers from its cache in microseconds, from the BMC in up to 30 s.
const PROXY_BUCKETS: [f64; 13] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProxyLabels {
    /// `unix` (the API socket) or `https` (the loopback HTTPS listener).
    pub listener: &'static str,
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type Float = Gauge<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    /// `hostagent_bmc_*` and what the reaper does to the BMC's table.
    pub bmc: Controller,
    /// `hostagent_hmc_*{hmc}`: each `[[hmc]]` table's HMC.
    pub hmc: Controller,
    /// `hostagent_hmc_virtual_sessions{hmc}`: the HMC proxy's virtual sessions (none on it).
    pub hmc_virtual_sessions: Family<Labels, Gauge>,
    pub reaper_runs: Counter,
    /// Unix time of the end of the last reaper run; the daemon's start until the first run.
    pub reaper_last_run: Float,
    pub reaper_interval: Float,
    pub proxy_requests: Family<ProxyLabels, Counter>,
    /// The `code="200"` series of `proxy_requests` per listener (`unix`, `https`), kept once
    /// the first one is counted: most requests need no label lookup.
    proxy_ok: [std::sync::OnceLock<Counter>; 2],
    pub proxy_duration: Histogram,
    pub virtual_sessions: Gauge,
    pub leases: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hostagent");
        let bmc = Controller::register(&mut registry, Names::BMC);
        bmc.start(BMC);
        let hmc = Controller::register(&mut registry, Names::HMC);
        let m = Metrics {
            bmc,
            hmc,
            hmc_virtual_sessions: Family::default(),
            reaper_runs: Counter::default(),
            reaper_last_run: Float::default(),
            reaper_interval: Float::default(),
            proxy_requests: Family::default(),
            proxy_ok: Default::default(),
            proxy_duration: Histogram::new(PROXY_BUCKETS),
            virtual_sessions: Gauge::default(),
            leases: Gauge::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "reaper_runs",
            "Reaper runs completed",
            m.reaper_runs.clone(),
        );
        r.register_with_unit(
            "reaper_last_run_timestamp",
            "When the last reaper run ended (Unix time); the daemon's start until the first run",
            Unit::Seconds,
            m.reaper_last_run.clone(),
        );
        r.register_with_unit(
            "reaper_interval",
            "reaper.interval",
            Unit::Seconds,
            m.reaper_interval.clone(),
        );
        r.register(
            "proxy_requests",
            "Requests served by the Redfish proxy, by listener and HTTP status",
            m.proxy_requests.clone(),
        );
        r.register_with_unit(
            "proxy_request_duration",
            "How long the Redfish proxy took to answer",
            Unit::Seconds,
            m.proxy_duration.clone(),
        );
        r.register(
            "virtual_sessions",
            "The proxy's virtual sessions (none of them on the BMC)",
            m.virtual_sessions.clone(),
        );
        r.register(
            "hmc_virtual_sessions",
            "An HMC proxy's virtual sessions (none of them on the HMC)",
            m.hmc_virtual_sessions.clone(),
        );
        r.register(
            "leases",
            "Leases open (real BMC sessions lent to local processes)",
            m.leases.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        r.register("build_info", "The running hostagent's version", build);
        Metrics { registry, ..m }
    }

    /// The daemon starts: the reaper's interval, and its start as the last run until one comes.
    pub fn started(&self, reaper_interval: std::time::Duration) {
        self.reaper_interval.set(reaper_interval.as_secs_f64());
        self.reaper_last_run.set(unix_now());
    }

    /// A reaper run completed now.
    pub fn reaper_ran(&self) {
        self.reaper_runs.inc();
        self.reaper_last_run.set(unix_now());
    }

    /// One request the proxy answered.
    pub fn proxied(&self, listener: &'static str, code: u16, secs: f64) {
        let series = || {
            self.proxy_requests
                .get_or_create(&ProxyLabels { listener, code })
                .clone()
        };
        match (code, listener) {
            (200, "unix") => self.proxy_ok[0].get_or_init(series).inc(),
            (200, "https") => self.proxy_ok[1].get_or_init(series).inc(),
            _ => series().inc(),
        };
        self.proxy_duration.observe(secs);
    }

    /// The exposition, in the Prometheus text format (what `promtool check metrics` and
    /// node_exporter's textfile collector read).
    pub fn encode(&self) -> String {
        let _table = self.bmc.hold();
        let mut out = String::with_capacity(8 << 10);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests;
