//! The metrics of one kind of controller whose session table the agent watches: the BMC
//! (`hostagent_bmc_*`, no controller label) and, built the same way, the HMCs
//! (`hostagent_hmc_*{hmc}`). Each record names its controller by a base label set ([`BMC`]
//! for the one BMC), to which the metric's own labels are added.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// A label set: a controller's base labels, then the metric's own. Keys are fixed names;
/// values are kinds, owner classes, methods and status codes — never a session id or a user.
pub type Labels = Vec<(&'static str, String)>;

/// The labels naming one controller: none for the one BMC, `[("hmc", NAME)]` for an HMC.
pub type Base = [(&'static str, String)];

/// The one BMC's base labels: none.
pub const BMC: &Base = &[];

/// Seconds: a BMC answers in tens of milliseconds to tens of seconds.
const REQUEST_BUCKETS: [f64; 11] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The metric names of one kind of controller.
pub struct Names {
    /// Of the table and the requests: `bmc` gives `hostagent_bmc_up`, ...
    pub own: &'static str,
    /// Of what the reaper does: `""` gives `hostagent_table_full_total`, ...
    pub reaped: &'static str,
}

impl Names {
    pub const BMC: Names = Names {
        own: "bmc_",
        reaped: "",
    };
    /// For the HMCs: `hostagent_hmc_up{hmc}`, `hostagent_hmc_table_full_total{hmc}`, ...
    pub const HMC: Names = Names {
        own: "hmc_",
        reaped: "hmc_",
    };
}

type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

pub struct Controller {
    up: Family<Labels, Gauge>,
    sessions: Family<Labels, Gauge>,
    /// The (kind, owner) series last set, so that a kind gone from the table goes from the
    /// metrics too; held while the exposition is encoded, so a scrape never sees half a table.
    listed: Mutex<HashSet<Labels>>,
    session_limit: Family<Labels, Gauge>,
    requests: Family<Labels, Counter>,
    request_duration: HistogramFamily,
    relogins: Family<Labels, Counter>,
    table_full: Family<Labels, Counter>,
    deleted: Family<Labels, Counter>,
    delete_failures: Family<Labels, Counter>,
}

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}

fn with(base: &Base, extra: &[(&'static str, &str)]) -> Labels {
    let mut labels = base.to_vec();
    labels.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    labels
}

impl Controller {
    pub fn register(registry: &mut Registry, names: Names) -> Controller {
        let c = Controller {
            up: Family::default(),
            sessions: Family::default(),
            listed: Mutex::default(),
            session_limit: Family::default(),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(request_histogram),
            relogins: Family::default(),
            table_full: Family::default(),
            deleted: Family::default(),
            delete_failures: Family::default(),
        };
        let (own, reaped) = (names.own, names.reaped);
        let r = &mut *registry;
        r.register(
            format!("{own}up"),
            "1 while the controller answers, 0 while it does not",
            c.up.clone(),
        );
        r.register(format!("{own}sessions"), "Sessions in the controller's table at the last listing, by kind and owner (agent, lease, orphan, foreign)", c.sessions.clone());
        r.register(
            format!("{own}session_limit"),
            "The session table's limit; 0 while unknown",
            c.session_limit.clone(),
        );
        r.register(format!("{own}requests"), "Requests sent to the controller, by method and HTTP status (unreachable or error when no answer came)", c.requests.clone());
        r.register(
            format!("{own}relogins"),
            "Logins again after the controller forgot the agent's session",
            c.relogins.clone(),
        );
        r.register(
            format!("{reaped}table_full"),
            "Logins refused because the session table was full",
            c.table_full.clone(),
        );
        r.register(
            format!("{reaped}sessions_deleted"),
            "Stale sessions deleted, by kind",
            c.deleted.clone(),
        );
        r.register(
            format!("{reaped}session_delete_failures"),
            "Deletes of stale sessions that failed",
            c.delete_failures.clone(),
        );
        registry.register_with_unit(
            format!("{own}request_duration"),
            "How long the controller took to answer",
            Unit::Seconds,
            c.request_duration.clone(),
        );
        c
    }

    pub fn set_up(&self, on: &Base, up: bool) {
        self.up.get_or_create(&on.to_vec()).set(i64::from(up));
    }

    /// The table as the last listing showed it: (kind, owner class, count).
    pub fn set_sessions(&self, on: &Base, table: &[(String, &str, usize)]) {
        let mut listed = self.hold();
        let now: HashSet<Labels> = table
            .iter()
            .map(|(kind, owner, _)| with(on, &[("kind", kind), ("owner", owner)]))
            .collect();
        for gone in listed
            .iter()
            .filter(|l| l.starts_with(on) && !now.contains(*l))
        {
            self.sessions.remove(gone);
        }
        listed.retain(|l| !l.starts_with(on));
        for (kind, owner, count) in table {
            let labels = with(on, &[("kind", kind), ("owner", owner)]);
            self.sessions.get_or_create(&labels).set(*count as i64);
            listed.insert(labels);
        }
    }

    pub fn set_limit(&self, on: &Base, limit: Option<usize>) {
        let limit = limit.unwrap_or(0) as i64;
        self.session_limit.get_or_create(&on.to_vec()).set(limit);
    }

    /// One request and its answer (`code`: the HTTP status, or why none came).
    pub fn request(&self, on: &Base, method: &str, code: &str, secs: f64) {
        self.request_counter(on, method, code).inc();
        self.duration_of(on).observe(secs);
    }

    /// The counter of requests with this method and code: a handle on the series, for a
    /// caller that counts often and keeps it ([`crate::transport::metered`]).
    pub fn request_counter(&self, on: &Base, method: &str, code: &str) -> Counter {
        let labels = with(on, &[("method", method), ("code", code)]);
        self.requests.get_or_create(&labels).clone()
    }

    /// The request-duration histogram of a controller, as a handle on the series.
    pub fn duration_of(&self, on: &Base) -> Histogram {
        self.request_duration.get_or_create(&on.to_vec()).clone()
    }

    /// The `up` gauge of a controller, as a handle on the series.
    pub fn up_of(&self, on: &Base) -> Gauge {
        self.up.get_or_create(&on.to_vec()).clone()
    }

    pub fn relogin(&self, on: &Base) {
        self.relogins.get_or_create(&on.to_vec()).inc();
    }

    pub fn table_full(&self, on: &Base) {
        self.table_full.get_or_create(&on.to_vec()).inc();
    }

    pub fn deleted(&self, on: &Base, kind: &str) {
        self.deleted
            .get_or_create(&with(on, &[("kind", kind)]))
            .inc();
    }

    pub fn delete_failures(&self, on: &Base, count: usize) {
        self.delete_failures
            .get_or_create(&on.to_vec())
            .inc_by(count as u64);
    }

    /// Starts the counters of a controller at 0, so that `increase()` sees their first rise.
    pub fn start(&self, on: &Base) {
        self.set_up(on, false);
        self.set_limit(on, None);
        let _ = self.relogins.get_or_create(&on.to_vec());
        let _ = self.table_full.get_or_create(&on.to_vec());
        let _ = self.delete_failures.get_or_create(&on.to_vec());
    }

    /// Keeps the table as it is while held (see `listed`).
    pub fn hold(&self) -> MutexGuard<'_, HashSet<Labels>> {
        self.listed.lock().unwrap_or_else(|e| e.into_inner())
    }
}
