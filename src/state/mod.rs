//! What the agent keeps on disk between runs, in `state.dir` (ARCHITECTURE.md, "Modes and files"): the ledger of the
//! sessions it created ([`ledger`]) and the TOFU pins (`transport::trust::FilePins`). Never a
//! token or password; nothing at all in memory-only mode. Both files are written with
//! [`write_atomic`], and a file that cannot be read is [`move_aside`]d, never a crash.

pub mod ledger;

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use ledger::{Ledger, LedgerEntry};

/// Write, fsync, rename, fsync the directory; the file is 0600 whatever was there before.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state")
    ));
    // A temp file left by a crash may have other permissions: start from a new one.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // A half-written temp file (a full disk) would hold the space the next write needs.
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    std::fs::File::open(dir)?.sync_all()
}

/// Renames an unreadable state file to `<name>.bad-<UTC time>` so that it can be looked at
/// and is not read again; returns the new path.
pub fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "unknown".into());
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let mut target = path.with_file_name(format!("{name}.bad-{stamp}"));
    let mut n = 1;
    while target.exists() {
        target = path.with_file_name(format!("{name}.bad-{stamp}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &target)?;
    Ok(target)
}

/// Creates the state directory (0700) if it is missing; an existing one is left as it is.
pub fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
