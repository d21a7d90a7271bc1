//! agentctl: the operator's CLI. Parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hostagent::discovery::smbios::{discover_report, DirSource, DiscoverReport};

#[derive(Debug, Parser)]
#[command(name = "agentctl", version, about = "Control the hostagent BMC session agent")]
struct Cli {
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode SMBIOS type 42 (Redfish Host Interface) and show the endpoint that would be used.
    Discover {
        /// A directory holding `smbios_entry_point` and `DMI` directly (overrides --sysfs-root).
        #[arg(long, value_name = "DIR")]
        dmi_dir: Option<PathBuf>,
        /// Where sysfs is mounted; tables are read from DIR/firmware/dmi/tables.
        #[arg(long, value_name = "DIR", default_value = "/sys")]
        sysfs_root: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Discover { dmi_dir, sysfs_root } => {
            let source = match dmi_dir {
                Some(dir) => DirSource::new(dir),
                None => DirSource::from_sysfs_root(sysfs_root),
            };
            discover(&discover_report(&source), cli.json)
        }
    }
}

fn discover(report: &DiscoverReport, json: bool) -> ExitCode {
    for w in report.warnings() {
        eprintln!("agentctl: warning: {w}");
    }
    for e in &report.errors {
        eprintln!("agentctl: {e}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report.to_json()).unwrap_or_default());
    } else {
        print!("{}", hostagent::discovery::smbios::report::human_summary(report));
    }
    if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
