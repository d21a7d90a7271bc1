//! A page of the Sessions collection: members as references or, with `$expand=.`, as whole
//! sessions; `Members@odata.nextLink` for the next page.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    /// Only `@odata.id`: the session must be fetched.
    Ref(String),
    /// The whole session (an expanded collection).
    Expanded(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CollectionPage {
    pub members: Vec<Member>,
    pub next_link: Option<String>,
    /// `Oem.Hpe.Links.MySession` or `Links.MySession`: the caller's own session.
    pub my_session: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionError {
    #[error("not a JSON object")]
    NotAnObject,
    #[error("`Members` is missing or not a list")]
    NoMembers,
}

pub fn decode_collection(body: &Value) -> Result<CollectionPage, CollectionError> {
    if !body.is_object() {
        return Err(CollectionError::NotAnObject);
    }
    let members = body
        .get("Members")
        .and_then(Value::as_array)
        .ok_or(CollectionError::NoMembers)?;
    let members = members.iter().filter_map(member).collect();
    let next_link = body
        .get("Members@odata.nextLink")
        .and_then(Value::as_str)
        .map(str::to_string);
    let my_session = [
        "/Oem/Hpe/Links/MySession/@odata.id",
        "/Links/MySession/@odata.id",
    ]
    .iter()
    .find_map(|p| body.pointer(p).and_then(Value::as_str))
    .map(str::to_string);
    Ok(CollectionPage {
        members,
        next_link,
        my_session,
    })
}

/// A member with more than `@odata.id` (and `@odata.*` annotations) is expanded.
fn member(v: &Value) -> Option<Member> {
    let obj = v.as_object()?;
    let id = obj.get("@odata.id").and_then(Value::as_str)?;
    if obj.keys().any(|k| !k.starts_with("@odata.")) {
        Some(Member::Expanded(v.clone()))
    } else {
        Some(Member::Ref(id.to_string()))
    }
}
