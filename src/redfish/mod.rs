//! The Redfish layer: errors that keep what the BMC said, the service root, the Sessions
//! collection, and session classification by vendor profile. Pure code, no I/O.

pub mod classify;
pub mod collection;
pub mod error;
pub mod kind;
pub mod root;
pub mod session_info;
pub mod uri;

pub use classify::classify_session;
pub use classify::ClassifyContext;
pub use collection::{decode_collection, CollectionError, CollectionPage, Member};
pub use error::{HttpAnswer, MessageInfo, RedfishError};
pub use kind::Kind;
pub use root::{ServiceRootInfo, Vendor};
pub use session_info::SessionInfo;
pub use uri::{ids_equal, last_segment, normalize, path_of, session_key};
