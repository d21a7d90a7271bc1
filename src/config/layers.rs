//! Config layers: each source (shipped defaults, the main file, drop-ins, flags) is parsed on
//! its own and checked against the schema, so an error names the file and key it came from;
//! then the layers are merged key by key, remembering which layer set each key.

use std::collections::BTreeMap;
use std::path::Path;

use super::ConfigError;

/// The type a key must have, checked per layer before merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Str,
    Bool,
    Float,
    StrList,
}

impl KeyType {
    fn name(self) -> &'static str {
        match self {
            KeyType::Str => "a string",
            KeyType::Bool => "true or false",
            KeyType::Float => "a number",
            KeyType::StrList => "a list of strings",
        }
    }

    fn accepts(self, value: &toml::Value) -> bool {
        match (self, value) {
            (KeyType::Str, toml::Value::String(_)) | (KeyType::Bool, toml::Value::Boolean(_)) => {
                true
            }
            (KeyType::Float, toml::Value::Float(_) | toml::Value::Integer(_)) => true,
            (KeyType::StrList, toml::Value::Array(items)) => items.iter().all(toml::Value::is_str),
            _ => false,
        }
    }
}

/// Every section and key the config accepts. hostagent.toml(5) is generated from this list.
pub const SCHEMA: &[(&str, &[(&str, KeyType)])] = &[
    (
        "bmc",
        &[
            ("transport", KeyType::Str),
            ("endpoint", KeyType::Str),
            ("allow_plaintext_http_for_testing", KeyType::Bool),
            ("tls", KeyType::Str),
            ("fingerprint", KeyType::Str),
            ("ca_file", KeyType::Str),
            ("credentials_dir", KeyType::Str),
            ("credential_bootstrapping", KeyType::Str),
            ("ipmi_device", KeyType::Str),
            ("chif_library", KeyType::Str),
            ("session_limit", KeyType::Float),
            ("max_concurrency", KeyType::Float),
            ("request_timeout", KeyType::Str),
        ],
    ),
    (
        "api",
        &[
            ("socket", KeyType::Str),
            ("reader_group", KeyType::Str),
            ("admin_group", KeyType::Str),
            ("listen_https", KeyType::Str),
            ("cache_ttl", KeyType::Str),
            ("max_leases", KeyType::Float),
            ("metrics_listen", KeyType::Str),
            ("proxy_queue", KeyType::Float),
        ],
    ),
    (
        "reaper",
        &[
            ("interval", KeyType::Str),
            ("idle", KeyType::Str),
            ("kinds", KeyType::StrList),
            ("keep_users", KeyType::StrList),
            ("near_full", KeyType::Float),
            ("near_full_idle", KeyType::Str),
        ],
    ),
    (
        "state",
        &[("memory_only", KeyType::Bool), ("dir", KeyType::Str)],
    ),
    ("agent", &[("host_id", KeyType::Str)]),
    ("metrics", &[("textfile", KeyType::Str)]),
];

/// The keys of one `[[hmc]]` table (any number of them, in any layer), with their default
/// and what they mean: hostagent.toml(5)'s `[[hmc]]` section is generated from this list.
pub const HMC_SCHEMA: &[(&str, KeyType, &str, &str)] = &[
    ("name", KeyType::Str, "(required)", "The HMC's name: lowercase letters, digits and \"-\", unique. Clients reach it under /hmc/NAME/rest/api/ on the socket; status and agentctl hmc get use it."),
    ("endpoint", KeyType::Str, "(required)", "The HMC's REST API, \"https://HOST:12443\"."),
    ("tls", KeyType::Str, "tofu", "How the HMC's certificate is trusted, as bmc.tls: \"pin\", \"tofu\" (pins kept in state.dir/hmc-pins.json, in memory in memory-only mode), \"ca\", \"insecure\"."),
    ("fingerprint", KeyType::Str, "", "For tls = \"pin\": the SHA-256 of the HMC's certificate."),
    ("ca_file", KeyType::Str, "", "For tls = \"ca\": a PEM bundle of the CAs that sign the HMC's certificate."),
    ("credentials_dir", KeyType::Str, "", "Directory holding hmc-username and hmc-password (mode 0600, owned by the service user; the directory not group- or world-writable). Empty: $CREDENTIALS_DIRECTORY (systemd LoadCredential=) with hmc-NAME-username and hmc-NAME-password."),
    ("listen", KeyType::Str, "", "A loopback ADDR:PORT where this HMC's REST API is served as the HMC serves it (/rest/api/**), e.g. \"127.0.0.3:12443\", so that an unmodified client pointed at https://127.0.0.3:12443 works. Its certificate is made at each start and never written."),
    ("audit_memento", KeyType::Str, "hostagent", "Sent as X-Audit-Memento with the agent's logon and every request: the HMC's audit log shows it."),
    ("max_concurrency", KeyType::Float, "4", "Requests in flight to this HMC at once (1 to 64); more wait their turn."),
];

/// One parsed source, e.g. `/etc/hostagent/conf.d/10-site.toml` or `command line`.
#[derive(Debug, Clone)]
pub struct Layer {
    pub origin: String,
    pub values: BTreeMap<String, toml::Value>,
    /// Its `[[hmc]]` tables, in order, each checked against [`HMC_SCHEMA`].
    pub hmc: Vec<toml::Table>,
}

impl Layer {
    /// Parses TOML text and checks every key against [`SCHEMA`].
    pub fn parse(origin: &str, text: &str) -> Result<Layer, ConfigError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    origin: origin.to_string(),
                    message: e.to_string(),
                })?;
        let mut values = BTreeMap::new();
        let mut hmc = Vec::new();
        for (section, body) in table {
            if section == "hmc" {
                hmc = hmc_tables(origin, body)?;
                continue;
            }
            let Some((_, keys)) = SCHEMA.iter().find(|(name, _)| *name == section) else {
                return Err(ConfigError::UnknownKey {
                    origin: origin.to_string(),
                    key: section,
                });
            };
            let toml::Value::Table(body) = body else {
                return Err(wrong_type(origin, &section, "a table"));
            };
            for (key, value) in body {
                let dotted = format!("{section}.{key}");
                let Some((_, ty)) = keys.iter().find(|(name, _)| *name == key) else {
                    return Err(ConfigError::UnknownKey {
                        origin: origin.to_string(),
                        key: dotted,
                    });
                };
                if !ty.accepts(&value) {
                    return Err(wrong_type(origin, &dotted, ty.name()));
                }
                values.insert(dotted, value);
            }
        }
        Ok(Layer {
            origin: origin.to_string(),
            values,
            hmc,
        })
    }

    /// Reads and parses a file; the error names the path.
    pub fn read(path: &Path) -> Result<Layer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Layer::parse(&path.display().to_string(), &text)
    }

    /// A layer built in code (command-line flags).
    pub fn from_pairs(
        origin: &str,
        pairs: impl IntoIterator<Item = (&'static str, toml::Value)>,
    ) -> Layer {
        let values = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Layer {
            origin: origin.to_string(),
            values,
            hmc: Vec::new(),
        }
    }
}

/// The `[[hmc]]` array of tables: each key known and of its type. `[hmc]` (one table, not an
/// array) is refused: it would read as one HMC whose siblings a drop-in cannot add.
fn hmc_tables(origin: &str, body: toml::Value) -> Result<Vec<toml::Table>, ConfigError> {
    let toml::Value::Array(items) = body else {
        return Err(wrong_type(origin, "hmc", "an array of tables ([[hmc]])"));
    };
    let mut tables = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let toml::Value::Table(table) = item else {
            return Err(wrong_type(origin, &format!("hmc[{i}]"), "a table"));
        };
        for (key, value) in &table {
            let dotted = format!("hmc[{i}].{key}");
            let Some((_, ty, _, _)) = HMC_SCHEMA.iter().find(|(name, ..)| name == key) else {
                return Err(ConfigError::UnknownKey {
                    origin: origin.to_string(),
                    key: dotted,
                });
            };
            if !ty.accepts(value) {
                return Err(wrong_type(origin, &dotted, ty.name()));
            }
        }
        tables.push(table);
    }
    Ok(tables)
}

fn wrong_type(origin: &str, key: &str, expected: &str) -> ConfigError {
    ConfigError::WrongType {
        origin: origin.to_string(),
        key: key.to_string(),
        expected: expected.to_string(),
    }
}

/// The merged view: each key's value and the layer that set it last.
#[derive(Debug, Default)]
pub struct Merged {
    entries: BTreeMap<String, (toml::Value, String)>,
    /// Every layer's `[[hmc]]` tables, in layer order, with the layer's origin and the
    /// table's index in it: HMCs add up across layers (a drop-in per HMC).
    pub hmc: Vec<(toml::Table, String, usize)>,
}

impl Merged {
    pub fn new(layers: &[Layer]) -> Merged {
        let mut entries = BTreeMap::new();
        let mut hmc = Vec::new();
        for layer in layers {
            for (key, value) in &layer.values {
                entries.insert(key.clone(), (value.clone(), layer.origin.clone()));
            }
            for (i, table) in layer.hmc.iter().enumerate() {
                hmc.push((table.clone(), layer.origin.clone(), i));
            }
        }
        Merged { entries, hmc }
    }

    pub fn get(&self, key: &str) -> Option<(&toml::Value, &str)> {
        self.entries.get(key).map(|(v, o)| (v, o.as_str()))
    }

    pub fn origin(&self, key: &str) -> String {
        self.entries
            .get(key)
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| "built-in default".into())
    }
}
