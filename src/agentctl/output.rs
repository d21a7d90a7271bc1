//! What a command produces — text for people, JSON for programs, an exit code — and how
//! failures map to the exit codes scripts rely on (`docs/ARCHITECTURE.md`, "Exit codes").

use serde::Serialize;
use serde_json::Value;

use super::client::ClientError;
use crate::connect::ConnectError;
use crate::session::SessionError;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NOT_RUNNING: i32 = 3;
pub const EXIT_UNREACHABLE: i32 = 4;
pub const EXIT_NOT_PERMITTED: i32 = 5;
pub const EXIT_NOTHING_TO_DO: i32 = 6;

/// A command's result: printed as `text`, or as `json` with `--json`.
#[derive(Debug)]
pub struct Output {
    pub text: String,
    pub json: Value,
    pub exit: i32,
}

impl Output {
    /// A report: its table, and its serde form as the JSON.
    pub fn report<T: Serialize>(text: String, value: &T) -> Output {
        Output {
            text,
            json: serde_json::to_value(value).unwrap_or_default(),
            exit: EXIT_OK,
        }
    }

    /// A raw answer: its JSON, pretty, as the text too.
    pub fn raw(json: Value, exit: i32) -> Output {
        Output {
            text: format!(
                "{}\n",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            ),
            json,
            exit,
        }
    }

    pub fn with_exit(self, exit: i32) -> Output {
        Output { exit, ..self }
    }
}

/// A failure with its exit code and the `error.code` of the JSON output.
#[derive(Debug)]
pub struct CtlError {
    pub exit: i32,
    pub code: &'static str,
    pub message: String,
}

impl CtlError {
    pub fn new(exit: i32, code: &'static str, message: impl std::fmt::Display) -> CtlError {
        CtlError {
            exit,
            code,
            message: message.to_string(),
        }
    }

    pub fn usage(code: &'static str, message: impl std::fmt::Display) -> CtlError {
        CtlError::new(EXIT_USAGE, code, message)
    }
}

impl From<SessionError> for CtlError {
    fn from(e: SessionError) -> CtlError {
        if e.is_unreachable() {
            CtlError::new(EXIT_UNREACHABLE, "bmc_unreachable", e)
        } else {
            CtlError::new(EXIT_FAILURE, "bmc_error", e)
        }
    }
}

impl From<ConnectError> for CtlError {
    fn from(e: ConnectError) -> CtlError {
        match e {
            ConnectError::Session(e) => e.into(),
            e @ (ConnectError::Fingerprint { .. }
            | ConnectError::PinMismatch { .. }
            | ConnectError::Discovery(_)
            | ConnectError::NoBmc) => CtlError::usage("bad_config", e),
            e @ ConnectError::Credentials(_) => CtlError::usage("credentials", e),
            e @ ConnectError::Bootstrap(_) => {
                CtlError::new(EXIT_FAILURE, "credential_bootstrapping", e)
            }
        }
    }
}

impl From<ClientError> for CtlError {
    fn from(e: ClientError) -> CtlError {
        match e {
            ClientError::NotRunning { .. } => CtlError::new(
                EXIT_NOT_RUNNING,
                "not_running",
                format!("{e} (start the service, or use --standalone)"),
            ),
            ClientError::NotPermitted { .. } => CtlError::new(
                EXIT_NOT_PERMITTED,
                "not_permitted",
                format!("{e} (the socket is for root and the members of api.reader_group)"),
            ),
            ClientError::Api {
                status: 403,
                message,
                ..
            } => CtlError::new(EXIT_NOT_PERMITTED, "forbidden", message),
            // The proxy's own answer when it cannot reach the BMC (`get`, `patch`, `delete`).
            ClientError::Api {
                status: 502,
                ref code,
                ..
            } if code == "bmc_unreachable" || code == "Base.1.8.ServiceTemporarilyUnavailable" => {
                CtlError::new(EXIT_UNREACHABLE, "bmc_unreachable", e)
            }
            ClientError::Api { ref code, .. } if code == "lease_limit" => {
                CtlError::new(EXIT_FAILURE, "lease_limit", e)
            }
            ClientError::Api { ref code, .. } if code == crate::api::connecting::CONNECTING => {
                CtlError::new(EXIT_UNREACHABLE, "connecting", e)
            }
            ClientError::Timeout { .. } => CtlError::new(EXIT_UNREACHABLE, "timeout", e),
            ClientError::Api { .. } | ClientError::Protocol(_) => {
                CtlError::new(EXIT_FAILURE, "api_error", e)
            }
        }
    }
}
