//! The login exchange on the wire: the POST to the Sessions collection (its body, which holds
//! the password, zeroized when dropped) and what a successful answer gives: token and session
//! path from the headers, never from the body (old iLO 5 firmware answers with ExtendedInfo).

use bytes::Bytes;
use http::Method;

use super::root::ServiceRoot;
use super::SessionError;
use crate::credentials::Credentials;
use crate::redfish::path_of;
use crate::transport::{Request, Response};

/// The login POST: the body holds the password, in a buffer that is zeroized when dropped.
pub fn login_request(root: &ServiceRoot, creds: &Credentials, context: Option<String>) -> Request {
    let mut body =
        serde_json::json!({ "UserName": creds.user, "Password": creds.password.expose() });
    if let (Some(context), true) = (context, root.supports_context) {
        body["Context"] = serde_json::Value::String(context);
    }
    let mut req = Request::new(Method::POST, root.sessions_path.clone());
    req.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    // The body holds the password: keep it in a buffer that is zeroized when dropped.
    let bytes = zeroize::Zeroizing::new(serde_json::to_vec(&body).unwrap_or_default());
    req.body = Bytes::from_owner(ZeroizingBuf(bytes));
    if let Some(serde_json::Value::String(s)) = body.get_mut("Password") {
        zeroize::Zeroize::zeroize(s);
    }
    req
}

/// A session just created on the BMC.
#[derive(Debug)]
pub struct NewSession {
    pub token: crate::secret::Secret,
    /// The session's path on the BMC (from `Location`, host and port dropped).
    pub uri: String,
    /// `Location` as the BMC wrote it.
    pub location: String,
    /// The BMC's clock at the answer (`Date`), for the ledger.
    pub bmc_date: Option<time::OffsetDateTime>,
}

/// Reads token and session path from a successful login's headers (never from the body).
pub fn session_from_login(resp: &Response) -> Result<NewSession, SessionError> {
    let token = resp
        .header_str("x-auth-token")
        .filter(|t| !t.is_empty())
        .ok_or(SessionError::NoToken)?;
    let location = resp
        .header_str("location")
        .ok_or(SessionError::NoLocation)?;
    Ok(NewSession {
        token: crate::secret::Secret::new(token),
        uri: path_of(location),
        location: location.to_string(),
        bmc_date: resp.date(),
    })
}

/// Owner of a buffer that zeroizes on drop, for `Bytes::from_owner`.
pub struct ZeroizingBuf(pub zeroize::Zeroizing<Vec<u8>>);

impl AsRef<[u8]> for ZeroizingBuf {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
