//! `hostagentd`: the daemon's flags (ARCHITECTURE.md, "Interfaces").

use std::path::PathBuf;

use clap::Parser;

/// The hostagent daemon: finds the BMC's in-band Redfish path, holds the agent session, serves
/// the local API and proxy, and cleans stale in-band sessions by policy.
#[derive(Debug, Parser)]
#[command(name = "hostagentd", version, about, long_about = None)]
pub struct Args {
    /// Main config file; drop-ins are read from conf.d/ beside it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write no file at all: no ledger, no TOFU pins (alias --nocache).
    #[arg(long, visible_alias = "nocache")]
    pub memory_only: bool,
    /// The local API socket (overrides api.socket).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// A Redfish endpoint that overrides discovery, e.g. https://127.0.0.1:8443.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Where the ledger and TOFU pins are kept (overrides state.dir).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Root of sysfs, where the DMI tables and network devices are read.
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    pub sysfs_root: PathBuf,
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Args {
    /// The flags that override config keys, as a config layer.
    pub fn config_flags(&self) -> Vec<(&'static str, toml::Value)> {
        let mut flags = Vec::new();
        if self.memory_only {
            flags.push(("state.memory_only", toml::Value::Boolean(true)));
        }
        if let Some(socket) = &self.socket {
            flags.push((
                "api.socket",
                toml::Value::String(socket.display().to_string()),
            ));
        }
        if let Some(endpoint) = &self.endpoint {
            flags.push(("bmc.endpoint", toml::Value::String(endpoint.clone())));
        }
        if let Some(dir) = &self.state_dir {
            flags.push(("state.dir", toml::Value::String(dir.display().to_string())));
        }
        flags
    }
}
