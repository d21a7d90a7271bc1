//! A Redfish error that keeps what the BMC said: status, `error.code`, `error.message` and
//! every `@Message.ExtendedInfo` entry, most severe first.

use serde_json::Value;

/// What an error is read from: a status and a body. Redfish data knows no transport; the
/// session core implements this for the transport's answer.
pub trait HttpAnswer {
    fn status_code(&self) -> u16;
    fn body_bytes(&self) -> &[u8];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    pub message_id: String,
    pub message: Option<String>,
    pub severity: Option<String>,
    pub resolution: Option<String>,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RedfishError {
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
    pub extended_info: Vec<MessageInfo>,
    /// The start of a body that was not a Redfish error, for the operator.
    pub snippet: Option<String>,
}

impl std::fmt::Display for RedfishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(info) = self.extended_info.first() {
            write!(f, " {}", info.message_id)?;
            if let Some(m) = &info.message {
                write!(f, ": {m}")?;
            }
        } else if let Some(code) = &self.code {
            write!(f, " {code}")?;
            if let Some(m) = &self.message {
                write!(f, ": {m}")?;
            }
        } else if let Some(snippet) = &self.snippet {
            write!(f, ": {snippet}")?;
        }
        Ok(())
    }
}

fn severity_rank(severity: Option<&str>) -> u8 {
    match severity.map(str::to_ascii_lowercase).as_deref() {
        Some("critical") => 0,
        Some("warning") => 1,
        Some("ok") => 3,
        _ => 2,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn message_info(v: &Value) -> Option<MessageInfo> {
    // NOTE(hpe): older iLO firmware spells it `MessageID`.
    let id = text(v.get("MessageId")).or_else(|| text(v.get("MessageID")))?;
    let args = v
        .get("MessageArgs")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(arg_text).collect())
        .unwrap_or_default();
    Some(MessageInfo {
        message_id: id,
        message: text(v.get("Message")),
        severity: text(v.get("Severity")).or_else(|| text(v.get("MessageSeverity"))),
        resolution: text(v.get("Resolution")),
        args,
    })
}

fn arg_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// The registry and key of a MessageId, without its version:
/// `Base.1.18.SessionLimitExceeded` → (`Base`, `SessionLimitExceeded`).
pub fn message_key(id: &str) -> (&str, &str) {
    let registry = id.split('.').next().unwrap_or(id);
    let key = id.rsplit('.').next().unwrap_or(id);
    (registry, key)
}

impl RedfishError {
    /// From any HTTP answer (the transport's `Response` is one).
    pub fn from_response(resp: &impl HttpAnswer) -> RedfishError {
        Self::from_body(resp.status_code(), resp.body_bytes())
    }

    pub fn from_body(status: u16, body: &[u8]) -> RedfishError {
        let mut err = RedfishError {
            status,
            code: None,
            message: None,
            extended_info: Vec::new(),
            snippet: None,
        };
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            err.snippet = snippet(body);
            return err;
        };
        let inner = json.get("error").filter(|e| e.is_object()).unwrap_or(&json);
        err.code = text(inner.get("code"));
        err.message = text(inner.get("message"));
        let infos = inner
            .get("@Message.ExtendedInfo")
            .or_else(|| json.get("@Message.ExtendedInfo"));
        err.extended_info = infos
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(message_info).collect())
            .unwrap_or_default();
        err.extended_info
            .sort_by_key(|m| severity_rank(m.severity.as_deref()));
        if err.code.is_none() && err.extended_info.is_empty() {
            err.snippet = snippet(body);
        }
        err
    }

    /// Whether any message (or the code) has this registry key, any version.
    pub fn has_message(&self, key: &str) -> bool {
        let code = self.code.iter().map(String::as_str);
        self.extended_info
            .iter()
            .map(|m| m.message_id.as_str())
            .chain(code)
            .any(|id| message_key(id).1 == key)
    }

    /// The BMC's session table is full (`SessionLimitExceeded`; iDRAC `RAC0218`).
    pub fn is_session_limit(&self) -> bool {
        // NOTE(dell): iDRAC answers 503 with IDRAC.2.x.RAC0218 under a GeneralError code.
        self.has_message("SessionLimitExceeded") || self.has_message("RAC0218")
    }

    /// The token is unknown or expired.
    pub fn is_no_valid_session(&self) -> bool {
        self.has_message("NoValidSession")
            || (self.status == 401 && !self.has_message("ResourceAtUriUnauthorized"))
    }

    /// Credentials refused (a 401 that is not about a session token).
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401 && !self.has_message("NoValidSession")
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404 || self.has_message("ResourceMissingAtURI")
    }

    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }
}

/// The first 120 characters of a body, printable ASCII only (no token can hide in a log line
/// that we shaped, but the BMC's body is still untrusted text).
fn snippet(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .take(120)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '.'
            }
        })
        .collect();
    Some(text)
}
