//! `agentctl hmc get NAME PATH`: a read through the daemon's session with an HMC.

use super::backend::Backend;
use super::output::{CtlError, Output, EXIT_FAILURE, EXIT_OK};
use crate::cli::agentctl::HmcCommand;

pub async fn run(backend: &Backend, command: &HmcCommand) -> Result<Output, CtlError> {
    let HmcCommand::Get { name, path } = command;
    let path = rest_path(path)?;
    let client = backend.daemon_client("hmc get")?;
    let (status, headers, body) = client
        .call_text(&format!("/hmc/{name}{path}"), &["etag", "content-type"])
        .await?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let ok = status.is_success() || status == http::StatusCode::NOT_MODIFIED;
    if !ok && !text.contains("HttpErrorResponse") {
        // The daemon's own error (no such HMC): its JSON says why.
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(text.clone());
        return Err(CtlError::new(EXIT_FAILURE, "hmc_error", message));
    }
    let json = serde_json::json!({
        "hmc": name,
        "path": path,
        "status": status.as_u16(),
        "etag": headers[0],
        "content_type": headers[1],
        "body": text,
    });
    let shown = if ok {
        text
    } else {
        format!("HMC {name} answered {status}:\n{}", message_of(&text))
    };
    Ok(Output {
        text: if shown.ends_with('\n') {
            shown
        } else {
            shown + "\n"
        },
        json,
        exit: if ok { EXIT_OK } else { EXIT_FAILURE },
    })
}

/// The `Message` of an `HttpErrorResponse`, else the text.
fn message_of(text: &str) -> String {
    crate::hmc::xml::message_of(text.as_bytes())
}

/// `/rest/api/...` from what was typed (`uom/ManagedSystem` is short for it).
fn rest_path(path: &str) -> Result<String, CtlError> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() || trimmed.contains("..") {
        return Err(CtlError::usage(
            "bad_path",
            format!("`{path}` is not an HMC REST API path (e.g. /rest/api/uom/ManagedSystem)"),
        ));
    }
    Ok(if trimmed.starts_with("rest/api/") {
        format!("/{trimmed}")
    } else {
        format!("/rest/api/{trimmed}")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_put_under_rest_api() {
        assert_eq!(
            super::rest_path("uom/ManagedSystem").unwrap(),
            "/rest/api/uom/ManagedSystem"
        );
        assert_eq!(
            super::rest_path("/rest/api/uom/X").unwrap(),
            "/rest/api/uom/X"
        );
        assert!(super::rest_path("/").is_err());
        assert!(super::rest_path("../v1/status").is_err());
    }
}
