//! The local API's answers: JSON, and the error shape `{"error":{"code","message"}}` that the
//! routes write and agentctl reads (it maps `code` and the HTTP status to its exit codes).

use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};

pub type Reply = Response<Bytes>;

pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    let mut resp = Response::new(Bytes::from(serde_json::to_vec(value).unwrap_or_default()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

pub fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Reply {
    json(status, &ApiError::new(code, message))
}

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

/// A request's JSON body as a `T`; an empty body is `T::default()`. A body that is not a `T`
/// is a 400 naming `what` and why.
// The error is the answer itself, built once per request; boxing it would only add an
// allocation.
#[allow(clippy::result_large_err)]
pub fn body_of<T: serde::de::DeserializeOwned + Default>(
    req: &http::Request<Bytes>,
    what: &str,
) -> Result<T, Reply> {
    if req.body().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(req.body()).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{what} body: {e}"),
        )
    })
}
