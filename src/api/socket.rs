//! The API socket on disk, and the modes of the directories the daemon trusts.
//!
//! The socket is mode 0660 and belongs to `api.reader_group`, so that readers and admins (who
//! must be in that group too, unless root) can connect; the roles are then decided per peer.
//! Its directory, when the daemon creates it, is 0750 with the same group, whatever the umask.
//! An existing directory is refused when others could replace what is in it: group- or
//! world-writable (without the sticky bit), or owned by someone other than the daemon's user or
//! root. The state directory is checked the same way (see `docs/HARDENING.md`).

use std::io::{Error, ErrorKind};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix::unistd::{Gid, Group, Uid};
use tokio::net::UnixListener;

/// The mode of a socket directory the daemon creates.
pub const SOCKET_DIR_MODE: u32 = 0o750;
/// The socket's own mode.
pub const SOCKET_MODE: u32 = 0o660;

/// Refuses a directory whose contents someone else could replace; `what` names it.
pub fn check_private_dir(dir: &Path, what: &str) -> std::io::Result<()> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| Error::new(e.kind(), format!("{what} {}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(Error::other(format!(
            "{what} {} is not a directory",
            dir.display()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what} {} has mode {mode:04o}: group- or world-writable, so others could replace its files (chmod 750)",
                dir.display()
            ),
        ));
    }
    let me = Uid::effective().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what} {} is owned by uid {}, not by the daemon's user (uid {me}) or root",
                dir.display(),
                meta.uid()
            ),
        ));
    }
    Ok(())
}

/// The gid of `api.reader_group`; `None` for an empty name (the daemon's own group).
fn reader_gid(name: &str) -> std::io::Result<Option<Gid>> {
    if name.is_empty() {
        return Ok(None);
    }
    match Group::from_name(name) {
        Ok(Some(g)) => Ok(Some(g.gid)),
        Ok(None) => Err(Error::new(
            ErrorKind::NotFound,
            format!("api.reader_group `{name}` does not exist: create it (the packages do, sysusers.d/hostagent.conf) or name an existing group"),
        )),
        Err(e) => Err(Error::other(format!("looking up api.reader_group `{name}`: {e}"))),
    }
}

/// Gives `path` to group `gid`; EPERM means the daemon is not a member of it.
fn chgrp(path: &Path, gid: Gid, group: &str) -> std::io::Result<()> {
    nix::unistd::chown(path, None, Some(gid)).map_err(|e| {
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot give {} to api.reader_group `{group}` ({e}): the daemon's user must be a member (SupplementaryGroups= in a drop-in)",
                path.display()
            ),
        )
    })
}

/// The socket's directory: created 0750 (group `gid`) when missing, checked when it exists.
fn socket_dir(dir: &Path, gid: Option<Gid>, group: &str) -> std::io::Result<()> {
    if dir.exists() {
        return check_private_dir(dir, "the socket directory");
    }
    // Tries mkdir(dir) first and goes up only when the parent is missing too.
    std::fs::create_dir_all(dir)?;
    // mkdir's mode is masked by the umask: set it explicitly.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(SOCKET_DIR_MODE))?;
    if let Some(gid) = gid {
        chgrp(dir, gid, group)?;
    }
    Ok(())
}

/// Binds the API socket: checks or creates its directory, replaces a stale socket file
/// (refusing when a live daemon answers on it), sets mode 0660 and gives it to `reader_group`.
pub fn bind(path: &Path, reader_group: &str) -> std::io::Result<UnixListener> {
    let gid = reader_gid(reader_group)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        socket_dir(dir, gid, reader_group)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(Error::new(
                ErrorKind::AddrInUse,
                format!("another hostagentd answers on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))?;
    if let Some(gid) = gid {
        chgrp(path, gid, reader_group)?;
    }
    Ok(listener)
}
