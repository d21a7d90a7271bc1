//! The HMC's XML documents: the `LogonRequest` it reads, the `LogonResponse` and the
//! `HttpErrorResponse` it writes (shapes from tests/fixtures/hmc/logon.xml and
//! fake_httperror.txt).

use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// The namespace of the `web` service (`LogonRequest`, `LogonResponse`, `HttpErrorResponse`).
pub const WEB_NS: &str = "http://www.ibm.com/xmlns/systems/power/firmware/web/mc/2012_10/";

pub const LOGON_REQUEST_TYPE: &str = "application/vnd.ibm.powervm.web+xml; type=LogonRequest";
pub const LOGON_RESPONSE_TYPE: &str = "application/vnd.ibm.powervm.web+xml; type=LogonResponse";

/// User and password of a `LogonRequest`, unescaped.
#[derive(Debug)]
pub struct LogonRequest {
    pub user: String,
    pub password: String,
}

/// Parses a `LogonRequest` in the `web/mc/2012_10` namespace, in pypowervm's form
/// (`schemaVersion="V1_0"`) or IBM's (`V1_1_0` with `<Metadata><Atom/></Metadata>` and
/// `kb`/`kxe` attributes). The error says what was wrong, never the password.
pub fn parse_logon_request(body: &[u8]) -> Result<LogonRequest, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let mut reader = NsReader::from_str(text);
    let mut depth = 0usize;
    let mut field: Option<&'static str> = None;
    let (mut user, mut password) = (None::<String>, None::<String>);
    let mut value = String::new();
    let mut saw_root = false;
    loop {
        let at = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("malformed XML after byte {at}: {e}"))?;
        let in_web_ns = matches!(&ns, ResolveResult::Bound(n) if n.as_ref() == WEB_NS.as_bytes());
        match event {
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name();
                if depth == 1 {
                    if name.as_ref() != b"LogonRequest" || !in_web_ns {
                        return Err(format!(
                            "the root element is not a LogonRequest in {WEB_NS}"
                        ));
                    }
                    saw_root = true;
                } else if depth == 2 && in_web_ns {
                    field = match name.as_ref() {
                        b"UserID" => Some("UserID"),
                        b"Password" => Some("Password"),
                        _ => None,
                    };
                    value.clear();
                }
            }
            Event::Empty(e) if depth == 0 => {
                if e.local_name().as_ref() != b"LogonRequest" || !in_web_ns {
                    return Err(format!(
                        "the root element is not a LogonRequest in {WEB_NS}"
                    ));
                }
                return Err("the LogonRequest has no UserID and Password".into());
            }
            Event::Text(t) if field.is_some() => {
                let s = t.decode().map_err(|e| format!("bad text: {e}"))?;
                value.push_str(&s);
            }
            Event::CData(t) if field.is_some() => {
                let s = t.decode().map_err(|e| format!("bad CDATA: {e}"))?;
                value.push_str(&s);
            }
            Event::GeneralRef(r) if field.is_some() => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| format!("{e}"))? {
                    value.push(c);
                } else {
                    let name = r.decode().map_err(|e| format!("{e}"))?;
                    let Some(s) = resolve_predefined_entity(&name) else {
                        return Err(format!("unknown entity &{name};"));
                    };
                    value.push_str(s);
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    match field.take() {
                        Some("UserID") => user = Some(std::mem::take(&mut value)),
                        Some("Password") => password = Some(std::mem::take(&mut value)),
                        _ => {}
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err("the body holds no LogonRequest element".into());
    }
    match (user, password) {
        (None, _) => Err("the LogonRequest has no UserID".into()),
        (Some(u), _) if u.is_empty() => Err("the LogonRequest's UserID is empty".into()),
        (Some(_), None) => Err("the LogonRequest has no Password".into()),
        (Some(user), Some(password)) => Ok(LogonRequest { user, password }),
    }
}

/// The `LogonResponse` carrying the token, as a real HMC sends it. `None`: the same document
/// without the `X-API-Session` element (a fault).
pub fn logon_response(token: Option<&str>) -> String {
    let session = token
        .map(|t| {
            format!(
                "    <X-API-Session kb=\"ROR\" kxe=\"false\">{}</X-API-Session>\n",
                escape(t)
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <LogonResponse xmlns=\"{WEB_NS}\" schemaVersion=\"V1_1_0\">\n    \
         <Metadata>\n        <Atom/>\n    </Metadata>\n{session}</LogonResponse>\n"
    )
}

/// What an error answer says.
pub struct HttpError<'a> {
    pub status: u16,
    pub request_uri: &'a str,
    /// The HMC writes a number here for its documented codes (4: no `X-API-Session`, 5: an
    /// invalid one) and a phrase otherwise ("Unknown internal error.").
    pub reason_code: &'a str,
    pub message: &'a str,
    /// The request's headers, `X-API-Session` masked as the HMC does (`*******`).
    pub request_headers: &'a str,
}

/// An Atom entry holding an `HttpErrorResponse` (`content-type: application/atom+xml`).
pub fn http_error(e: &HttpError<'_>, id: &str, published: &str) -> String {
    format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:ns2=\"http://a9.com/-/spec/opensearch/1.1/\" xmlns:ns3=\"http://www.w3.org/1999/xhtml\">\n\
    <id>{id}</id>\n\
    <title>HttpErrorResponse</title>\n\
    <published>{published}</published>\n\
    <author>\n        <name>IBM Power Systems Management Console</name>\n    </author>\n\
    <content type=\"application/vnd.ibm.powervm.web+xml; type=HttpErrorResponse\">\n\
        <HttpErrorResponse:HttpErrorResponse xmlns:HttpErrorResponse=\"{WEB_NS}\" xmlns=\"{WEB_NS}\" xmlns:ns2=\"http://www.w3.org/XML/1998/namespace/k2\" schemaVersion=\"V1_2_0\">\n\
    <Metadata>\n        <Atom/>\n    </Metadata>\n\
    <HTTPStatus kb=\"ROR\" kxe=\"false\">{status}</HTTPStatus>\n\
    <RequestURI kb=\"ROR\" kxe=\"false\">{uri}</RequestURI>\n\
    <ReasonCode kb=\"ROR\" kxe=\"false\">{reason}</ReasonCode>\n\
    <Message kb=\"ROO\" kxe=\"false\">{message}</Message>\n\
    <RequestBody kb=\"ROO\" kxe=\"false\"/>\n\
    <RequestHeaders kb=\"ROO\" kxe=\"false\">{headers}</RequestHeaders>\n\
</HttpErrorResponse:HttpErrorResponse>\n    </content>\n</entry>\n",
        status = e.status,
        uri = escape(e.request_uri),
        reason = escape(e.reason_code),
        message = escape(e.message),
        headers = escape(e.request_headers),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(inner: &str) -> String {
        format!("<?xml version=\"1.0\"?><LogonRequest xmlns=\"{WEB_NS}\" schemaVersion=\"V1_0\">{inner}</LogonRequest>")
    }

    #[test]
    fn escaped_user_and_password_are_unescaped() {
        let body = req("<UserID>h&amp;s&lt;</UserID><Password>p&quot;&#x41;&apos;&gt;</Password>");
        let r = parse_logon_request(body.as_bytes()).unwrap();
        assert_eq!(r.user, "h&s<");
        assert_eq!(r.password, "p\"A'>");
    }

    #[test]
    fn ibm_form_with_metadata_and_attributes_is_accepted() {
        let body = format!(
            "<LogonRequest xmlns=\"{WEB_NS}\" schemaVersion=\"V1_1_0\"><Metadata><Atom/></Metadata>\
             <UserID kb=\"CUR\" kxe=\"false\">hscroot</UserID><Password kb=\"CUR\" kxe=\"false\">abc123</Password></LogonRequest>"
        );
        let r = parse_logon_request(body.as_bytes()).unwrap();
        assert_eq!(
            (r.user.as_str(), r.password.as_str()),
            ("hscroot", "abc123")
        );
    }

    #[test]
    fn malformed_or_foreign_documents_are_refused_with_a_reason() {
        for (body, want) in [
            ("not xml at all <", "malformed XML"),
            ("just text", "no LogonRequest"),
            ("", "no LogonRequest"),
            (
                "<LogonRequest><UserID>a</UserID></LogonRequest>",
                "not a LogonRequest",
            ),
            (&req("<UserID>a</UserID>") as &str, "no Password"),
            (&req("<Password>a</Password>"), "no UserID"),
            (
                &req("<UserID>a</UserID><Password>b</Passwor>"),
                "malformed XML",
            ),
            (
                &req("<UserID>&bogus;</UserID><Password>b</Password>"),
                "unknown entity",
            ),
        ] {
            let err = parse_logon_request(body.as_bytes()).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn the_logon_response_has_the_captured_shape() {
        let captured = include_str!("../../fixtures/hmc/logon.xml");
        let ours = logon_response(Some("TOKEN"));
        let strip = |s: &str| -> Vec<String> {
            s.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.starts_with("<X-API-Session"))
                .collect()
        };
        assert_eq!(strip(captured), strip(&ours));
        assert!(ours.contains(">TOKEN</X-API-Session>"));
        assert!(!logon_response(None).contains("X-API-Session"));
    }
}
