//! agentctl: the operator's and configuration management's command line. Each command is
//! written once ([`commands`]) over a [`backend::Backend`]: the daemon's local API
//! ([`client`]), or with `--standalone` an agent session of its own, logged out at exit.
//! Output is a table for people ([`render`]) or the stable JSON of the API's types with
//! `--json`; failures map to fixed exit codes ([`output`]).

pub mod backend;
pub mod client;
pub mod commands;
#[cfg(feature = "demo")]
pub mod demo;
pub mod hmc;
pub mod output;
pub mod progress;
pub mod render;
pub mod top;

pub use output::{
    CtlError, Output, EXIT_FAILURE, EXIT_NOTHING_TO_DO, EXIT_NOT_PERMITTED, EXIT_NOT_RUNNING,
    EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE,
};

use std::time::Duration;

use self::backend::Backend;
use self::client::DaemonClient;
use crate::cli::agentctl::{Args, Command};
use crate::config::{self, Sources};

pub async fn run(args: Args) -> i32 {
    init_logging(args.verbose);
    let json = args.json;
    match dispatch(args).await {
        Ok(out) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&out.json).unwrap_or_default()
                );
            } else {
                print!("{}", out.text);
            }
            out.exit
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&crate::api::ApiError::new(e.code, &e.message))
                        .unwrap_or_default()
                );
            } else {
                eprintln!("agentctl: {}", e.message);
            }
            e.exit
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOSTAGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn dispatch(args: Args) -> Result<Output, CtlError> {
    match &args.command {
        Command::Demo => return demo().await,
        Command::Discover { dmi_dir } => return Ok(discover(dmi_dir.clone(), &args.sysfs_root)),
        _ => {}
    }
    if let Command::Top = args.command {
        if args.standalone {
            return Err(CtlError::usage(
                "unsupported",
                "top needs the daemon (hostagentd)",
            ));
        }
        let client = DaemonClient::new(&args.socket, args.timeout.unwrap_or(CALL_TIMEOUT));
        return top::run(&client, args.json).await;
    }
    let backend = backend(&args).await?;
    let result = commands::run(&backend, &args.command).await;
    backend.finish().await;
    result
}

/// How long agentctl waits for hostagentd by default: one BMC request may take up to 30 s.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// A clean deletes many sessions one by one.
pub const CLEAN_TIMEOUT: Duration = Duration::from_secs(600);

/// The daemon, or with `--standalone` a service connected for this one command.
async fn backend(args: &Args) -> Result<Backend, CtlError> {
    if !args.standalone {
        let default = match args.command {
            Command::Clean(_) => CLEAN_TIMEOUT,
            _ => CALL_TIMEOUT,
        };
        let timeout = args.timeout.unwrap_or(default);
        return Ok(Backend::Daemon(DaemonClient::new(&args.socket, timeout)));
    }
    let settings = config::load(&Sources {
        main: args.config.clone(),
        flags: Vec::new(),
    })
    .map_err(|e| CtlError::usage("bad_config", e))?;
    let service = crate::connect::service(
        &settings,
        &args.sysfs_root,
        &crate::connect::Mode::Standalone,
    )
    .await?;
    Ok(Backend::Standalone {
        service: Box::new(service),
        settings: Box::new(settings),
    })
}

/// `agentctl discover`: the type 42 decode in the fixtures' schema, plus the endpoint.
fn discover(dmi_dir: Option<std::path::PathBuf>, sysfs_root: &std::path::Path) -> Output {
    use crate::discovery::smbios::{discover_report, report::human_summary, DirSource};
    let source = match dmi_dir {
        Some(dir) => DirSource::new(dir),
        None => DirSource::from_sysfs_root(sysfs_root),
    };
    let report = discover_report(&source);
    for w in report.warnings() {
        eprintln!("agentctl: warning: {w}");
    }
    for e in &report.errors {
        eprintln!("agentctl: {e}");
    }
    let exit = if report.ok() { EXIT_OK } else { EXIT_FAILURE };
    Output {
        text: human_summary(&report),
        json: report.to_json(),
        exit,
    }
}

#[cfg(feature = "demo")]
async fn demo() -> Result<Output, CtlError> {
    let text = demo::run()
        .await
        .map_err(|e| CtlError::new(EXIT_FAILURE, "demo_failed", format!("{e:#}")))?;
    Ok(Output {
        json: serde_json::json!({ "transcript": text }),
        text,
        exit: EXIT_OK,
    })
}

#[cfg(not(feature = "demo"))]
async fn demo() -> Result<Output, CtlError> {
    Err(CtlError::usage(
        "unsupported",
        "this build has no demo (feature `demo` is off)",
    ))
}
