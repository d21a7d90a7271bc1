//! How the agent authenticates each request: with its session token, with HTTP Basic (after a
//! session-limit answer: it leaves no session on the BMC), or not at all (CHIF in Production
//! mode, where the BMC needs no session).

use base64::Engine;
use http::{HeaderName, HeaderValue};

use crate::credentials::Credentials;
use crate::secret::Secret;

/// The agent's standing with the BMC.
#[derive(Clone, Debug, Default)]
pub enum AuthState {
    /// No login yet, or logged out.
    #[default]
    None,
    /// A Redfish session: the token and the session's path on the BMC.
    Session { token: Secret, uri: String },
    /// Every request carries Basic credentials; the BMC keeps no session for them.
    Basic,
    /// The transport accepts requests with no authentication (CHIF, Production mode).
    Sessionless,
}

impl AuthState {
    /// The header to add to a request, if any. Header values built from secrets are marked
    /// sensitive so that hyper and reqwest never print them.
    pub fn header(&self, creds: Option<&Credentials>) -> Option<(HeaderName, HeaderValue)> {
        match self {
            AuthState::Session { token, .. } => {
                let mut value = HeaderValue::from_str(token.expose()).ok()?;
                value.set_sensitive(true);
                Some((HeaderName::from_static("x-auth-token"), value))
            }
            AuthState::Basic => creds
                .and_then(basic_header)
                .map(|v| (http::header::AUTHORIZATION, v)),
            AuthState::None | AuthState::Sessionless => None,
        }
    }

    pub fn session_uri(&self) -> Option<&str> {
        match self {
            AuthState::Session { uri, .. } => Some(uri),
            _ => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            AuthState::None => "none",
            AuthState::Session { .. } => "session",
            AuthState::Basic => "basic",
            AuthState::Sessionless => "sessionless",
        }
    }
}

/// `Authorization: Basic ...` for the credentials, marked sensitive.
pub fn basic_header(creds: &Credentials) -> Option<HeaderValue> {
    let raw = Secret::new(format!("{}:{}", creds.user, creds.password.expose()));
    let encoded = Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw.expose())
    ));
    let mut value = HeaderValue::from_str(encoded.expose()).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_sensitive_and_debug_hides_the_token() {
        let creds = Credentials {
            user: "admin".into(),
            password: Secret::new("s3cret"),
        };
        let (name, value) = AuthState::Basic.header(Some(&creds)).unwrap();
        assert_eq!(name, http::header::AUTHORIZATION);
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Basic YWRtaW46czNjcmV0");
        let state = AuthState::Session {
            token: Secret::new("0123abcd"),
            uri: "/x".into(),
        };
        let (_, value) = state.header(None).unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{state:?}").contains("0123abcd"));
        assert!(AuthState::Sessionless.header(Some(&creds)).is_none());
    }
}
