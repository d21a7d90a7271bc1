//! Who is on the other end of the API socket (SO_PEERCRED) and what they may do (ARCHITECTURE.md, "Local API and roles"):
//! `admin` = root or a member of the admin group; `reader` = a member of the reader group;
//! everyone else nothing.

pub mod roles;
pub mod sockdiag;

pub use roles::Roles;

use nix::unistd::{getgrouplist, Gid, Group, Uid, User};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    None,
    Reader,
    Admin,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Peer {
    pub uid: u32,
    pub gid: u32,
    pub pid: Option<i32>,
    pub role: Role,
}

/// The groups of a user: primary and supplementary, from the group database.
pub fn groups_of(uid: u32, gid: u32) -> Vec<u32> {
    let Ok(Some(user)) = User::from_uid(Uid::from_raw(uid)) else {
        return vec![gid];
    };
    let Ok(name) = std::ffi::CString::new(user.name) else {
        return vec![gid];
    };
    match getgrouplist(&name, Gid::from_raw(gid)) {
        Ok(groups) => groups.into_iter().map(Gid::as_raw).collect(),
        Err(_) => vec![gid],
    }
}

fn gid_of(group: &str) -> Option<u32> {
    Group::from_name(group)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

/// The role of a peer given its uid and groups.
pub fn role_of(uid: u32, groups: &[u32], admin_group: &str, reader_group: &str) -> Role {
    if uid == 0 {
        return Role::Admin;
    }
    if gid_of(admin_group).is_some_and(|g| groups.contains(&g)) {
        return Role::Admin;
    }
    if gid_of(reader_group).is_some_and(|g| groups.contains(&g)) {
        return Role::Reader;
    }
    Role::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_admin_and_strangers_are_nobody() {
        assert_eq!(
            role_of(0, &[], "nosuchgroup-x", "nosuchgroup-y"),
            Role::Admin
        );
        assert_eq!(
            role_of(65534, &[65534], "nosuchgroup-x", "nosuchgroup-y"),
            Role::None
        );
        // gid 0 is group `root` on every Linux: membership makes an admin.
        assert_eq!(
            role_of(1000, &[100, 0], "root", "nosuchgroup-y"),
            Role::Admin
        );
        assert_eq!(role_of(1000, &[0], "nosuchgroup-x", "root"), Role::Reader);
    }
}
