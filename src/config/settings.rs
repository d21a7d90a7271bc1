//! The validated settings and the conversion from the merged layers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::endpoint::{check_endpoint, check_fingerprint};
use super::tls::{TlsChoice, TLS_CHOICES};
use super::{ConfigError, Merged};
use crate::redfish::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportChoice {
    Auto,
    Https,
    Chif,
    /// No BMC: the daemon serves only its `[[hmc]]` tables (a monitoring host, or a BMC the
    /// agent must leave alone).
    None,
}

/// When to ask the BMC for a bootstrap account over IPMI (DSP0270), if no credential file
/// gave credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapChoice {
    /// When the SMBIOS type 42 record says the BMC supports it and the IPMI device exists.
    Auto,
    /// Whatever SMBIOS says; a failure is an error.
    Always,
    Never,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BmcSettings {
    pub transport: TransportChoice,
    /// Overrides discovery when set.
    pub endpoint: Option<String>,
    /// Lets `endpoint` be `http://` (password in clear, no TLS): for simulators only.
    pub allow_plaintext_http_for_testing: bool,
    pub tls: TlsChoice,
    pub fingerprint: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub credentials_dir: Option<PathBuf>,
    pub credential_bootstrapping: BootstrapChoice,
    /// The IPMI character device used for credential bootstrapping.
    pub ipmi_device: PathBuf,
    pub chif_library: Option<PathBuf>,
    /// The session limit, when the operator knows it.
    pub session_limit: Option<usize>,
    /// Requests in flight to the BMC at once (the proxy's clients, the reaper, leases); more
    /// wait their turn.
    pub max_concurrency: usize,
    /// How long one request to the BMC may take before the agent gives up on it.
    pub request_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiSettings {
    pub socket: PathBuf,
    pub reader_group: String,
    pub admin_group: String,
    pub listen_https: Option<SocketAddr>,
    /// Zero means the proxy keeps no cache.
    pub cache_ttl: Duration,
    /// Leases open at once, at most; where the BMC's session limit is known, at most half of
    /// it too (see `session::lease::cap`).
    pub max_leases: usize,
    /// Plain-HTTP `GET /metrics` for Prometheus, on a loopback address only.
    pub metrics_listen: Option<SocketAddr>,
    /// Proxy requests that may wait for one of `bmc.max_concurrency`; more get 503.
    pub proxy_queue: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsSettings {
    /// node_exporter textfile written each reaper cycle; never in memory-only mode.
    pub textfile: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReaperSettings {
    pub interval: Duration,
    pub idle: Duration,
    pub kinds: Vec<Kind>,
    pub keep_users: Vec<String>,
    /// Fraction of the session limit at which the reaper cleans at once.
    pub near_full: f64,
    pub near_full_idle: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateSettings {
    pub memory_only: bool,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentSettings {
    /// Names this host in the `Context` tags of its sessions, so that hosts sharing one BMC
    /// (multi-host sleds) never take each other's sessions for their own: `agent.host_id`,
    /// else [`default_host_id`].
    pub host_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub bmc: BmcSettings,
    pub api: ApiSettings,
    pub reaper: ReaperSettings,
    pub state: StateSettings,
    pub agent: AgentSettings,
    pub metrics: MetricsSettings,
    /// The `[[hmc]]` tables, in the order of the layers.
    pub hmc: Vec<super::hmc::HmcSettings>,
}

/// Reads typed values out of the merged layers, naming the layer in every error.
struct Reader<'a>(&'a Merged);

impl Reader<'_> {
    fn invalid(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: self.0.origin(key),
            key: key.to_string(),
            problem: problem.into(),
        }
    }

    fn string(&self, key: &str) -> String {
        self.0
            .get(key)
            .and_then(|(v, _)| v.as_str())
            .unwrap_or_default()
            .to_string()
    }

    fn optional(&self, key: &str) -> Option<String> {
        Some(self.string(key)).filter(|s| !s.trim().is_empty())
    }

    fn path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        match self.optional(key) {
            Some(p) if !p.starts_with('/') => {
                Err(self.invalid(key, format!("`{p}` must be an absolute path")))
            }
            other => Ok(other.map(PathBuf::from)),
        }
    }

    fn flag(&self, key: &str) -> bool {
        self.0
            .get(key)
            .and_then(|(v, _)| v.as_bool())
            .unwrap_or(false)
    }

    fn duration(&self, key: &str) -> Result<Duration, ConfigError> {
        let text = self.string(key);
        humantime::parse_duration(text.trim()).map_err(|e| {
            self.invalid(
                key,
                format!("`{text}` is not a duration like \"90s\" or \"15m\" ({e})"),
            )
        })
    }

    fn list(&self, key: &str) -> Vec<String> {
        let items = self
            .0
            .get(key)
            .and_then(|(v, _)| v.as_array().cloned())
            .unwrap_or_default();
        items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    fn choice<T: Copy>(&self, key: &str, options: &[(&str, T)]) -> Result<T, ConfigError> {
        let text = self.string(key);
        options
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.invalid(key, format!("`{text}` is not one of {}", names.join(", ")))
            })
    }
}

impl Settings {
    pub fn from_merged(merged: &Merged) -> Result<Settings, ConfigError> {
        let r = Reader(merged);
        let settings = Settings {
            bmc: bmc(&r)?,
            api: api(&r)?,
            reaper: reaper(&r)?,
            state: state(&r)?,
            agent: agent(&r)?,
            metrics: MetricsSettings::default(),
            hmc: super::hmc::all(&merged.hmc)?,
        };
        let settings = Settings {
            metrics: metrics(&r, &settings.state)?,
            ..settings
        };
        Ok(settings)
    }
}

fn bmc(r: &Reader) -> Result<BmcSettings, ConfigError> {
    use TlsChoice::*;
    let transports = [
        ("auto", TransportChoice::Auto),
        ("https", TransportChoice::Https),
        ("chif", TransportChoice::Chif),
        ("none", TransportChoice::None),
    ];
    let tls = r.choice("bmc.tls", &TLS_CHOICES)?;
    let endpoint = r.optional("bmc.endpoint");
    let allow_plaintext_http_for_testing = r.flag("bmc.allow_plaintext_http_for_testing");
    if let Some(url) = &endpoint {
        check_endpoint(url, allow_plaintext_http_for_testing)
            .map_err(|p| r.invalid("bmc.endpoint", p))?;
    }
    let fingerprint = r.optional("bmc.fingerprint");
    if let Some(fp) = &fingerprint {
        check_fingerprint(fp).map_err(|p| r.invalid("bmc.fingerprint", p))?;
    }
    if tls == Pin && fingerprint.is_none() {
        return Err(r.invalid("bmc.tls", "tls = \"pin\" needs bmc.fingerprint"));
    }
    let ca_file = r.path("bmc.ca_file")?;
    if tls == Ca && ca_file.is_none() {
        return Err(r.invalid("bmc.tls", "tls = \"ca\" needs bmc.ca_file"));
    }
    Ok(BmcSettings {
        transport: r.choice("bmc.transport", &transports)?,
        endpoint,
        allow_plaintext_http_for_testing,
        tls,
        fingerprint,
        ca_file,
        credentials_dir: r.path("bmc.credentials_dir")?,
        credential_bootstrapping: r.choice(
            "bmc.credential_bootstrapping",
            &[
                ("auto", BootstrapChoice::Auto),
                ("always", BootstrapChoice::Always),
                ("never", BootstrapChoice::Never),
            ],
        )?,
        ipmi_device: r
            .path("bmc.ipmi_device")?
            .ok_or_else(|| r.invalid("bmc.ipmi_device", "must not be empty"))?,
        chif_library: r.path("bmc.chif_library")?,
        session_limit: session_limit(r)?,
        max_concurrency: max_concurrency(r)?,
        request_timeout: request_timeout(r)?,
    })
}

fn request_timeout(r: &Reader) -> Result<Duration, ConfigError> {
    let timeout = r.duration("bmc.request_timeout")?;
    if !(Duration::from_secs(1)..=Duration::from_secs(600)).contains(&timeout) {
        return Err(r.invalid(
            "bmc.request_timeout",
            format!("{timeout:?} is not between 1s and 10m"),
        ));
    }
    Ok(timeout)
}

fn max_concurrency(r: &Reader) -> Result<usize, ConfigError> {
    let value =
        r.0.get("bmc.max_concurrency")
            .and_then(|(v, _)| v.as_integer().or(v.as_float().map(|f| f as i64)))
            .unwrap_or(8);
    match value {
        n if (1..=256).contains(&n) => Ok(n as usize),
        n => Err(r.invalid(
            "bmc.max_concurrency",
            format!("{n} is not between 1 and 256 requests"),
        )),
    }
}

fn session_limit(r: &Reader) -> Result<Option<usize>, ConfigError> {
    let value =
        r.0.get("bmc.session_limit")
            .and_then(|(v, _)| v.as_integer().or(v.as_float().map(|f| f as i64)))
            .unwrap_or(0);
    match value {
        0 => Ok(None),
        n if (1..=100_000).contains(&n) => Ok(Some(n as usize)),
        n => Err(r.invalid(
            "bmc.session_limit",
            format!("{n} is not a session count (0 = unknown)"),
        )),
    }
}

/// An optional `ADDR:PORT` on a loopback address.
fn loopback(r: &Reader, key: &str) -> Result<Option<SocketAddr>, ConfigError> {
    let Some(text) = r.optional(key) else {
        return Ok(None);
    };
    let addr: SocketAddr = text
        .parse()
        .map_err(|_| r.invalid(key, format!("`{text}` is not an address:port")))?;
    if !addr.ip().is_loopback() {
        return Err(r.invalid(key, format!("{addr} is not a loopback address")));
    }
    Ok(Some(addr))
}

fn api(r: &Reader) -> Result<ApiSettings, ConfigError> {
    let listen_https = loopback(r, "api.listen_https")?;
    let socket = r
        .path("api.socket")?
        .ok_or_else(|| r.invalid("api.socket", "must not be empty"))?;
    Ok(ApiSettings {
        socket,
        reader_group: r.string("api.reader_group"),
        admin_group: r.string("api.admin_group"),
        listen_https,
        cache_ttl: r.duration("api.cache_ttl")?,
        max_leases: max_leases(r)?,
        metrics_listen: loopback(r, "api.metrics_listen")?,
        proxy_queue: proxy_queue(r)?,
    })
}

fn metrics(r: &Reader, state: &StateSettings) -> Result<MetricsSettings, ConfigError> {
    let textfile = r.path("metrics.textfile")?;
    if textfile
        .as_ref()
        .is_some_and(|p| p.extension().is_none_or(|e| e != "prom"))
    {
        return Err(r.invalid(
            "metrics.textfile",
            "must end in .prom: node_exporter's textfile collector reads only those",
        ));
    }
    if textfile.is_some() && state.memory_only {
        return Err(r.invalid(
            "metrics.textfile",
            "memory-only mode writes no file: remove metrics.textfile, or scrape GET /metrics (api.metrics_listen) instead",
        ));
    }
    Ok(MetricsSettings { textfile })
}

fn proxy_queue(r: &Reader) -> Result<usize, ConfigError> {
    let value =
        r.0.get("api.proxy_queue")
            .and_then(|(v, _)| v.as_integer().or(v.as_float().map(|f| f as i64)))
            .unwrap_or(256);
    match value {
        n if (0..=10_000).contains(&n) => Ok(n as usize),
        n => Err(r.invalid(
            "api.proxy_queue",
            format!("{n} is not between 0 and 10000 requests"),
        )),
    }
}

fn max_leases(r: &Reader) -> Result<usize, ConfigError> {
    let value =
        r.0.get("api.max_leases")
            .and_then(|(v, _)| v.as_integer().or(v.as_float().map(|f| f as i64)))
            .unwrap_or(8);
    match value {
        n if (1..=1000).contains(&n) => Ok(n as usize),
        n => Err(r.invalid(
            "api.max_leases",
            format!("{n} is not between 1 and 1000 leases"),
        )),
    }
}

fn reaper(r: &Reader) -> Result<ReaperSettings, ConfigError> {
    let kinds = r
        .list("reaper.kinds")
        .iter()
        .map(|k| k.parse::<Kind>())
        .collect::<Result<Vec<Kind>, String>>()
        .map_err(|e| r.invalid("reaper.kinds", e))?;
    let near_full =
        r.0.get("reaper.near_full")
            .and_then(|(v, _)| v.as_float().or(v.as_integer().map(|i| i as f64)));
    let near_full = near_full.unwrap_or(0.75);
    if !(0.0..=1.0).contains(&near_full) || near_full == 0.0 {
        return Err(r.invalid(
            "reaper.near_full",
            format!("{near_full} is not a fraction in (0, 1]"),
        ));
    }
    let interval = r.duration("reaper.interval")?;
    if interval < Duration::from_secs(1) {
        return Err(r.invalid("reaper.interval", "must be at least 1s"));
    }
    Ok(ReaperSettings {
        interval,
        idle: r.duration("reaper.idle")?,
        kinds,
        keep_users: r.list("reaper.keep_users"),
        near_full,
        near_full_idle: r.duration("reaper.near_full_idle")?,
    })
}

fn state(r: &Reader) -> Result<StateSettings, ConfigError> {
    let memory_only =
        r.0.get("state.memory_only")
            .and_then(|(v, _)| v.as_bool())
            .unwrap_or(false);
    let dir = r
        .path("state.dir")?
        .ok_or_else(|| r.invalid("state.dir", "must not be empty"))?;
    Ok(StateSettings { memory_only, dir })
}

/// The longest `agent.host_id`: it goes in every session's `Context`.
const HOST_ID_MAX: usize = 32;

fn agent(r: &Reader) -> Result<AgentSettings, ConfigError> {
    let host_id = match r.optional("agent.host_id") {
        None => default_host_id(),
        Some(id) => {
            let token = id.len() <= HOST_ID_MAX
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !token {
                return Err(r.invalid(
                    "agent.host_id",
                    format!("`{id}` is not a short token: at most {HOST_ID_MAX} letters, digits and `-`"),
                ));
            }
            id
        }
    };
    Ok(AgentSettings { host_id })
}

/// 12 hex digits of the SHA-256 of `/etc/machine-id` (of the host name where there is none):
/// the same for every run on this host, different between hosts — except for cloned images
/// that share a machine-id, which set `agent.host_id`.
pub fn default_host_id() -> String {
    use sha2::Digest;
    let source = std::fs::read_to_string("/etc/machine-id")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .unwrap_or_default();
    let digest = sha2::Sha256::digest(source.trim().as_bytes());
    hex::encode(&digest[..6])
}
