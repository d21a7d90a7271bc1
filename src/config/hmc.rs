//! `[[hmc]]` tables → [`HmcSettings`]: one IBM Power HMC the agent holds one REST API session
//! with and shares through its proxy. Each error names the file, the table and the key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::endpoint::{check_endpoint, check_fingerprint};
use super::tls::{TlsChoice, TLS_CHOICES};
use super::ConfigError;

/// The port an HMC serves its REST API on.
pub const HMC_PORT: u16 = 12443;

#[derive(Debug, Clone, PartialEq)]
pub struct HmcSettings {
    /// `[a-z0-9-]+`, unique: the HMC's name in the socket's `/hmc/<name>/` paths and in status.
    pub name: String,
    /// `https://HOST:12443` (another port is accepted: a lab's port forward).
    pub endpoint: String,
    pub tls: TlsChoice,
    pub fingerprint: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// Holds `hmc-username` and `hmc-password`; `None`: `$CREDENTIALS_DIRECTORY` with
    /// `hmc-<name>-username` and `hmc-<name>-password`.
    pub credentials_dir: Option<PathBuf>,
    /// This HMC's own loopback HTTPS listener, serving `/rest/api/**` as the HMC does.
    pub listen: Option<SocketAddr>,
    /// Sent as `X-Audit-Memento` with the agent's logon and every request: the HMC logs it.
    pub audit_memento: String,
    /// Requests in flight to this HMC at once; more wait their turn.
    pub max_concurrency: usize,
}

/// Reads one `[[hmc]]` table. `origin` and `index` say where it came from.
pub(super) fn hmc(
    table: &toml::Table,
    origin: &str,
    index: usize,
) -> Result<HmcSettings, ConfigError> {
    let str_of = |key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let invalid = |key: String, problem: String| ConfigError::Invalid {
        origin: origin.to_string(),
        key,
        problem,
    };
    let name = str_of("name").ok_or_else(|| {
        invalid(
            format!("hmc[{index}].name"),
            "every [[hmc]] table needs a name".into(),
        )
    })?;
    let good = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !good || name.len() > 63 {
        return Err(invalid(
            format!("hmc[{index}].name"),
            format!("`{name}` is not a name of at most 63 lowercase letters, digits and `-`"),
        ));
    }
    let key = |k: &str| format!("hmc.{name}.{k}");
    let endpoint = str_of("endpoint").ok_or_else(|| {
        invalid(
            key("endpoint"),
            format!("needs the HMC's URL, e.g. \"https://hmc.example:{HMC_PORT}\""),
        )
    })?;
    check_endpoint(&endpoint, false).map_err(|p| invalid(key("endpoint"), p))?;
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let tls_name = str_of("tls").unwrap_or_else(|| "tofu".into());
    let Some(&(_, tls)) = TLS_CHOICES.iter().find(|(n, _)| *n == tls_name) else {
        return Err(invalid(
            key("tls"),
            format!("`{tls_name}` is not one of pin, tofu, ca, insecure"),
        ));
    };
    let fingerprint = str_of("fingerprint");
    if let Some(fp) = &fingerprint {
        check_fingerprint(fp).map_err(|p| invalid(key("fingerprint"), p))?;
    }
    if tls == TlsChoice::Pin && fingerprint.is_none() {
        return Err(invalid(
            key("tls"),
            "tls = \"pin\" needs a fingerprint".into(),
        ));
    }
    let path = |k: &str| match str_of(k) {
        Some(p) if !p.starts_with('/') => {
            Err(invalid(key(k), format!("`{p}` must be an absolute path")))
        }
        other => Ok(other.map(PathBuf::from)),
    };
    let ca_file = path("ca_file")?;
    if tls == TlsChoice::Ca && ca_file.is_none() {
        return Err(invalid(key("tls"), "tls = \"ca\" needs a ca_file".into()));
    }
    let listen = match str_of("listen") {
        None => None,
        Some(text) => {
            let addr: SocketAddr = text
                .parse()
                .map_err(|_| invalid(key("listen"), format!("`{text}` is not an address:port")))?;
            if !addr.ip().is_loopback() {
                return Err(invalid(
                    key("listen"),
                    format!("{addr} is not a loopback address"),
                ));
            }
            Some(addr)
        }
    };
    let audit_memento = str_of("audit_memento").unwrap_or_else(|| "hostagent".into());
    if audit_memento.len() > 128 || audit_memento.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
        return Err(invalid(
            key("audit_memento"),
            "must be at most 128 printable ASCII characters (it is an HTTP header)".into(),
        ));
    }
    let max_concurrency = match table.get("max_concurrency") {
        None => 4,
        Some(v) => match v.as_integer().or(v.as_float().map(|f| f as i64)) {
            Some(n) if (1..=64).contains(&n) => n as usize,
            _ => {
                return Err(invalid(
                    key("max_concurrency"),
                    format!("{v} is not between 1 and 64 requests"),
                ))
            }
        },
    };
    let credentials_dir = path("credentials_dir")?;
    Ok(HmcSettings {
        name: name.clone(),
        endpoint,
        tls,
        fingerprint,
        ca_file,
        credentials_dir,
        listen,
        audit_memento,
        max_concurrency,
    })
}

/// Every layer's `[[hmc]]` tables; a name or a listener used twice is an error naming both
/// places.
pub(super) fn all(
    tables: &[(toml::Table, String, usize)],
) -> Result<Vec<HmcSettings>, ConfigError> {
    let mut out: Vec<HmcSettings> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (table, origin, index) in tables {
        let h = hmc(table, origin, *index)?;
        if let Some(first) = seen.insert(h.name.clone(), origin.clone()) {
            return Err(ConfigError::Invalid {
                origin: origin.clone(),
                key: format!("hmc.{}.name", h.name),
                problem: format!(
                    "the name `{}` is already used by an [[hmc]] in {first}",
                    h.name
                ),
            });
        }
        if let Some(other) = out
            .iter()
            .find(|o| o.listen.is_some() && o.listen == h.listen)
        {
            return Err(ConfigError::Invalid {
                origin: origin.clone(),
                key: format!("hmc.{}.listen", h.name),
                problem: format!("HMC `{}` already listens on it", other.name),
            });
        }
        out.push(h);
    }
    Ok(out)
}
