//! Each agentctl command, once, over a [`Backend`].

use http::Method;

use super::backend::Backend;
use super::output::{
    CtlError, Output, EXIT_FAILURE, EXIT_NOTHING_TO_DO, EXIT_OK, EXIT_UNREACHABLE,
};
use super::render;
use crate::cli::agentctl::{CleanArgs, Command, SessionCommand};
use crate::lease::LeaseRequest;
use crate::reaper::{CleanReport, CleanRequest};
use crate::redfish::Kind;

pub async fn run(backend: &Backend, command: &Command) -> Result<Output, CtlError> {
    match command {
        Command::Status => {
            let report = backend.status().await?;
            // Still connecting: the BMC has not been reached, as exit 4 says elsewhere.
            let exit = if report.state.as_deref() == Some(crate::api::connecting::CONNECTING) {
                EXIT_UNREACHABLE
            } else {
                EXIT_OK
            };
            Ok(Output::report(render::status(&report), &report).with_exit(exit))
        }
        Command::List { kinds: names } => {
            let report = backend.list(&kinds(names)?).await?;
            Ok(Output::report(render::list(&report), &report))
        }
        Command::Clean(args) => {
            let report = backend.clean(&clean_request(args)?).await?;
            Ok(clean_output(report, args.check))
        }
        Command::Session(sub) => session(backend, sub).await,
        Command::Run { ttl, command } => run_with_lease(backend, *ttl, command).await,
        Command::Get { path } => raw(backend, Method::GET, path, None).await,
        Command::Patch { path, data } => {
            raw(backend, Method::PATCH, path, Some(json_data(data)?)).await
        }
        Command::Delete { path } => raw(backend, Method::DELETE, path, None).await,
        Command::Top => Err(CtlError::usage(
            "unsupported",
            "agentctl top runs against the daemon only",
        )),
        Command::Hmc(sub) => super::hmc::run(backend, sub).await,
        Command::Discover { .. } | Command::Demo => Err(CtlError::usage(
            "unsupported",
            "this command runs without a BMC connection",
        )),
    }
}

pub fn kinds(names: &[String]) -> Result<Vec<Kind>, CtlError> {
    names
        .iter()
        .map(|k| {
            k.parse()
                .map_err(|e: String| CtlError::usage("bad_kind", e))
        })
        .collect()
}

fn clean_request(args: &CleanArgs) -> Result<CleanRequest, CtlError> {
    Ok(CleanRequest {
        dry_run: args.dry_run,
        kinds: kinds(&args.kinds)?,
        idle_s: args.idle.map(|minutes| minutes * 60),
        ids: args.ids.clone(),
        force: args.force,
    })
}

fn clean_output(report: CleanReport, check: bool) -> Output {
    let exit = if check && report.deleted.is_empty() {
        EXIT_NOTHING_TO_DO
    } else if !report.failed.is_empty() {
        EXIT_FAILURE
    } else {
        EXIT_OK
    };
    Output::report(render::clean(&report), &report).with_exit(exit)
}

async fn raw(
    backend: &Backend,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<Output, CtlError> {
    let (value, exit) = backend.raw(method, &redfish_path(path)?, body).await?;
    Ok(Output::raw(value, exit))
}

/// A Redfish path as the proxy takes it: `/redfish/...`.
fn redfish_path(path: &str) -> Result<String, CtlError> {
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if path == "/redfish" || path.starts_with("/redfish/") {
        return Ok(path);
    }
    Err(CtlError::usage(
        "bad_path",
        format!("`{path}` is not a Redfish path (it must start with /redfish/v1)"),
    ))
}

fn json_data(data: &str) -> Result<serde_json::Value, CtlError> {
    serde_json::from_str(data)
        .map_err(|e| CtlError::usage("bad_data", format!("--data is not JSON: {e}")))
}

/// `session open` binds the lease to the calling shell (agentctl itself exits at once) unless
/// `--pid` names another process.
async fn session(backend: &Backend, sub: &SessionCommand) -> Result<Output, CtlError> {
    match sub {
        SessionCommand::Open { ttl, pid } => {
            let pid = pid.unwrap_or_else(|| nix::unistd::getppid().as_raw() as u32);
            let req = LeaseRequest {
                ttl_s: ttl.map(|t| t.as_secs()),
                pid: Some(pid as i32),
            };
            let lease = backend.open_lease("session", &req).await?;
            let expires = lease
                .info
                .expires
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let text = format!(
                "lease {} (bound to process {pid}, expires {expires})\nREDFISH_URL={}\nREDFISH_SESSION_TOKEN={}\nREDFISH_SESSION_LOCATION={}\n",
                lease.info.id, lease.url, lease.token.expose(), lease.location
            );
            Ok(Output::report(text, &lease))
        }
        SessionCommand::Close { id } => {
            let info = backend.close_lease("session", id).await?;
            Ok(Output::report(format!("lease {id} closed\n"), &info))
        }
        SessionCommand::List => {
            let list = backend.leases("session").await?;
            let rows: Vec<Vec<String>> = list.leases.iter().map(render::lease_row).collect();
            let text = render::table(&["ID", "SESSION", "PID", "UID", "EXPIRES"], &rows);
            Ok(Output::report(text, &list))
        }
    }
}

/// `agentctl run -- CMD`: a lease bound to this agentctl (which lives as long as the child),
/// exported to the child, closed when the child ends however it ends; the child's exit status
/// is agentctl's (128 + signal for a signal).
async fn run_with_lease(
    backend: &Backend,
    ttl: Option<std::time::Duration>,
    command: &[String],
) -> Result<Output, CtlError> {
    let req = LeaseRequest {
        ttl_s: ttl.map(|t| t.as_secs()),
        pid: Some(std::process::id() as i32),
    };
    let lease = backend.open_lease("run", &req).await?;
    let status = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .env("REDFISH_URL", &lease.url)
        .env("REDFISH_SESSION_TOKEN", lease.token.expose())
        .env("REDFISH_SESSION_LOCATION", &lease.location)
        .status()
        .await;
    let id = lease.info.id;
    if let Err(e) = backend.close_lease("run", &id).await {
        tracing::warn!(lease = %id, error = %e.message, "closing the lease failed; it ends when this process does");
    }
    let status =
        status.map_err(|e| CtlError::usage("spawn", format!("cannot run {}: {e}", command[0])))?;
    let code = status.code().unwrap_or_else(|| {
        128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0)
    });
    Ok(Output {
        text: String::new(),
        json: serde_json::json!({ "lease": id, "exit_code": code }),
        exit: code,
    })
}
