//! Checks of `bmc.endpoint` and `bmc.fingerprint` at load time, so that a typo is a config
//! error naming the key rather than an endpoint the daemon retries for ever.

use crate::transport::trust::Fingerprint;

/// `https://host[:port]` that a client can connect to. Plain `http://` sends the password in
/// clear and skips every `bmc.tls` check, so it is refused unless `allow_http` (the
/// `bmc.allow_plaintext_http_for_testing` key, for simulators) says otherwise.
pub(super) fn check_endpoint(text: &str, allow_http: bool) -> Result<(), String> {
    let url = reqwest::Url::parse(text.trim())
        .map_err(|e| format!("`{text}` is not a URL like \"https://bmc.example:443\" ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(format!(
                "`{text}` is plain HTTP: the BMC password would cross the network in clear and \
                 bmc.tls would be ignored; use https:// (bmc.allow_plaintext_http_for_testing = \
                 true allows it against a test simulator)"
            ))
        }
        other => return Err(format!("`{text}`: scheme `{other}` is not https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{text}` names no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry a user or password (use bmc.credentials_dir)".into());
    }
    Ok(())
}

/// A SHA-256 fingerprint in one of the forms [`Fingerprint::parse`] accepts.
pub(super) fn check_fingerprint(text: &str) -> Result<(), String> {
    Fingerprint::parse(text).map(|_| ())
}
