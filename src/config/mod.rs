//! Layered TOML configuration → one validated [`Settings`].
//!
//! Precedence, lowest first: the shipped defaults (`packaging/hostagent.toml`, compiled in), the
//! main file (`/etc/hostagent/hostagent.toml` or `--config`), drop-ins in the `conf.d/` directory
//! beside it (`*.toml`, in name order), then command-line flags. Each layer is checked on its
//! own so that an error names the file, the key and the problem.

mod endpoint;
mod hmc;
mod layers;
mod settings;
mod tls;

use std::path::{Path, PathBuf};

pub use hmc::{HmcSettings, HMC_PORT};
pub use layers::{KeyType, Layer, Merged, HMC_SCHEMA, SCHEMA};
pub use settings::{
    default_host_id, AgentSettings, ApiSettings, BmcSettings, BootstrapChoice, MetricsSettings,
    ReaperSettings, Settings, StateSettings, TransportChoice,
};
pub use tls::TlsChoice;

/// The commented default config that packages install; also the lowest layer.
pub const SHIPPED_DEFAULTS: &str = include_str!("../../packaging/hostagent.toml");

/// The main config file when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/hostagent/hostagent.toml";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{origin}: invalid TOML: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: unknown key `{key}`")]
    UnknownKey { origin: String, key: String },
    #[error("{origin}: `{key}` must be {expected}")]
    WrongType {
        origin: String,
        key: String,
        expected: String,
    },
    #[error("{origin}: `{key}`: {problem}")]
    Invalid {
        origin: String,
        key: String,
        problem: String,
    },
}

/// Where to read the config from. `main` missing is fine when it is the default path (a host
/// with only the shipped defaults); a missing file named with `--config` is an error.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub main: Option<PathBuf>,
    pub flags: Vec<(&'static str, toml::Value)>,
}

/// Reads every layer and validates the result.
pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
    let mut layers = vec![Layer::parse("shipped defaults", SHIPPED_DEFAULTS)?];
    let (main, explicit) = match &sources.main {
        Some(path) => (path.clone(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_PATH), false),
    };
    if explicit || main.exists() {
        layers.push(Layer::read(&main)?);
    }
    for dropin in dropins(&main)? {
        layers.push(Layer::read(&dropin)?);
    }
    if !sources.flags.is_empty() {
        layers.push(Layer::from_pairs("command line", sources.flags.clone()));
    }
    Settings::from_merged(&Merged::new(&layers))
}

/// `conf.d/*.toml` beside the main file, in name order. A missing directory is no drop-ins.
fn dropins(main: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let dir = main.parent().unwrap_or(Path::new(".")).join("conf.d");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigError::Read {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests;
