//! `PUT /rest/api/web/Logon`: the `LogonRequest`, the account check, the web-session limit
//! and the `LogonResponse` with a new `X-API-Session`.

use bytes::Bytes;
use http::{Request, StatusCode};

use crate::handler::{error, reply, Ctx, Reply};
use crate::state::Sim;
use crate::xml;

pub fn logon(sim: &Sim, ctx: &Ctx, req: &Request<Bytes>) -> Reply {
    let path = req.uri().path();
    let headers = req.headers();
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // NOTE(ibm): every client sends the LogonRequest media type; the simulator insists on it
    // so that a client that forgets it is caught here rather than on a real HMC.
    if !content_type.replace(' ', "").contains("type=LogonRequest") {
        return error(
            sim,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            path,
            headers,
            "Unsupported media type.",
            &format!(
                "Content-Type must be {}, not `{content_type}`.",
                xml::LOGON_REQUEST_TYPE
            ),
        );
    }
    let request = match xml::parse_logon_request(req.body()) {
        Ok(r) => r,
        Err(why) => {
            return error(
                sim,
                StatusCode::BAD_REQUEST,
                path,
                headers,
                "Bad request.",
                &format!("The LogonRequest could not be read: {why}."),
            )
        }
    };
    let memento = headers
        .get("x-audit-memento")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    // Checked and made under one lock, so concurrent logons cannot pass the limit.
    let made = {
        let mut table = sim.table();
        if !table.credentials_ok(&request.user, &request.password) {
            Err(None)
        } else if table.is_full() {
            Err(Some(table.max_sessions))
        } else {
            let peer = ctx.peer.ip().to_string();
            Ok(table.create(&request.user, memento, &peer, "logon"))
        }
    };
    match made {
        Ok(session) => reply(
            StatusCode::OK,
            xml::LOGON_RESPONSE_TYPE,
            xml::logon_response(Some(&session.token)),
        ),
        Err(None) => error(
            sim,
            StatusCode::UNAUTHORIZED,
            path,
            headers,
            "Unauthorized.",
            "The user ID or password is not valid.",
        ),
        Err(Some(max)) => error(
            sim,
            StatusCode::SERVICE_UNAVAILABLE,
            path,
            headers,
            "Service unavailable.",
            &format!("The maximum number of web sessions ({max}) has been reached."),
        ),
    }
}
