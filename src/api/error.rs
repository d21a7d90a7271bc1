//! The local API's error answer, `{"error":{"code","message"}}`: written by the routes, read
//! by agentctl, which maps `code` and the HTTP status to its exit codes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, for programs: `bmc_unreachable`, `forbidden`, `not_found`, ...
    pub code: String,
    /// For people: what went wrong and what to do.
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl std::fmt::Display) -> ApiError {
        ApiError {
            error: ErrorBody {
                code: code.to_string(),
                message: message.to_string(),
            },
        }
    }
}
