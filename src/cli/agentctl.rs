//! `agentctl`: the operator's and configuration management's command line (ARCHITECTURE.md, "Interfaces").

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use super::parse_duration;

/// Talk to hostagentd: list and clean the BMC's sessions, open leases, run tools with a
/// session bound to them, and send raw Redfish requests through the agent.
#[derive(Debug, Parser)]
#[command(name = "agentctl", version, about, long_about = None)]
pub struct Args {
    /// The daemon's API socket.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        default_value = "/run/hostagent/agent.sock"
    )]
    pub socket: PathBuf,
    /// Machine-readable output (stable JSON shapes) for Chef, Puppet and scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Do the work here, without a daemon: one-shot, logs out at exit.
    #[arg(long, global = true)]
    pub standalone: bool,
    /// Config file for --standalone.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Root of sysfs (DMI tables, network devices) for --standalone and discover.
    #[arg(long, global = true, value_name = "DIR", default_value = "/sys")]
    pub sysfs_root: PathBuf,
    /// Give up waiting for hostagentd after this long and exit 4 (default: 30s, 10m for
    /// clean).
    #[arg(long, global = true, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// More log output on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Endpoint, transport, agent session, session counts by kind and owner, the limit if known.
    Status,
    /// Decode SMBIOS type 42 and show the endpoint that would be used.
    Discover {
        /// A directory holding smbios_entry_point and DMI (default: SYSFS/firmware/dmi/tables).
        #[arg(long, value_name = "DIR")]
        dmi_dir: Option<PathBuf>,
    },
    /// The BMC's sessions: id, user, kind, owner, origin, login, last access, idle.
    List {
        /// Only sessions of this kind (repeatable).
        #[arg(long = "kind", value_name = "KIND")]
        kinds: Vec<String>,
    },
    /// Delete stale sessions by policy; prints what was deleted and kept.
    Clean(CleanArgs),
    /// Leases: real BMC sessions bound to a process or a TTL.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Run a command with a lease bound to it (REDFISH_URL, REDFISH_SESSION_TOKEN, REDFISH_SESSION_LOCATION).
    Run {
        /// Lease lifetime limit.
        #[arg(long, value_name = "DUR", value_parser = parse_duration)]
        ttl: Option<Duration>,
        /// The command and its arguments.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        command: Vec<String>,
    },
    /// GET a Redfish path through the agent.
    Get { path: String },
    /// PATCH a Redfish path through the agent.
    Patch {
        path: String,
        /// The JSON body.
        #[arg(long, value_name = "JSON")]
        data: String,
    },
    /// DELETE a Redfish path through the agent.
    Delete { path: String },
    /// A live view, redrawn every second: the table's fill against its limit, sessions by kind
    /// and owner, the reaper's last and next run, proxy requests per second, virtual sessions
    /// and leases (from the daemon's metrics: no request to the BMC). q quits. Needs a
    /// terminal; with --json, prints one frame.
    Top,
    /// IBM Power HMCs the daemon serves (`[[hmc]]`).
    #[command(subcommand)]
    Hmc(HmcCommand),
    /// Start a simulated iLO in-process, leak sessions into it, run the agent against it, list,
    /// clean, proxy a request, and print what happened. Needs no BMC.
    Demo,
}

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// Show what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Clean sessions of this kind (repeatable; default: the configured in-band kinds).
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Idle threshold in minutes (default: reaper.idle).
    #[arg(long, value_name = "MIN")]
    pub idle: Option<u64>,
    /// Delete these sessions by id, whatever their kind.
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<String>,
    /// Allow kinds outside the in-band ones (a person's Web UI or console sessions).
    #[arg(long)]
    pub force: bool,
    /// Exit 6 when there is nothing to delete (for configuration management).
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Subcommand)]
pub enum HmcCommand {
    /// GET an HMC REST API path through the agent's session (prints the HMC's XML; with
    /// --json, status, ETag, content type and body).
    Get {
        /// The HMC's name (`[[hmc]]` name).
        name: String,
        /// A path under /rest/api, e.g. /rest/api/uom/ManagedSystem or uom/ManagedSystem.
        path: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Open a lease; prints its id, token and location once.
    Open {
        #[arg(long, value_name = "DUR", value_parser = parse_duration)]
        ttl: Option<Duration>,
        /// Bind the lease to this process: deleted when it exits.
        #[arg(long, value_name = "PID")]
        pid: Option<u32>,
    },
    /// Close a lease (deletes its BMC session).
    Close { id: String },
    /// The open leases.
    List,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Args::command().debug_assert();
        super::super::hostagentd::Args::command().debug_assert();
    }

    #[test]
    fn run_takes_the_rest_of_the_line_verbatim() {
        let args = Args::parse_from([
            "agentctl",
            "run",
            "--ttl",
            "5m",
            "--",
            "ilorest",
            "--nocache",
            "rawget",
            "/x",
        ]);
        match args.command {
            Command::Run { ttl, command } => {
                assert_eq!(ttl, Some(Duration::from_secs(300)));
                assert_eq!(command, ["ilorest", "--nocache", "rawget", "/x"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
