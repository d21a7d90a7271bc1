//! BMC credentials from files: `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`) or
//! `bmc.credentials_dir`, each holding `bmc-username` and `bmc-password`. A directory named in
//! the config is refused when the password file is group- or world-readable or not owned by
//! the user the agent runs as.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Credentials;
use crate::secret::Secret;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} is empty")]
    Empty { path: PathBuf },
    #[error("{path} has mode {mode:04o}: it must not be readable by group or others (chmod 600)")]
    Mode { path: PathBuf, mode: u32 },
    #[error("{path} is owned by uid {owner}, not by the service user (uid {me})")]
    Owner { path: PathBuf, owner: u32, me: u32 },
}

/// Reads one credential file, stripping one trailing newline.
fn read(path: &Path, check_mode: bool) -> Result<Secret, CredentialError> {
    let err = |e: std::io::Error| CredentialError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if check_mode {
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialError::Mode {
                path: path.to_path_buf(),
                mode,
            });
        }
        let me = nix::unistd::Uid::effective().as_raw();
        if meta.uid() != me {
            return Err(CredentialError::Owner {
                path: path.to_path_buf(),
                owner: meta.uid(),
                me,
            });
        }
    }
    let mut text = std::fs::read_to_string(path).map_err(err)?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    let secret = Secret::new(text);
    if secret.is_empty() {
        return Err(CredentialError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(secret)
}

/// The credentials in `dir`. `check_mode` is true for a directory named in the config (systemd
/// credential directories are private to the service by construction).
pub fn from_dir(dir: &Path, check_mode: bool) -> Result<Credentials, CredentialError> {
    let user = read(&dir.join("bmc-username"), check_mode)?;
    let password = read(&dir.join("bmc-password"), check_mode)?;
    Ok(Credentials {
        user: user.expose().to_string(),
        password,
    })
}

/// In the order of DESIGN §9: systemd credentials (`$CREDENTIALS_DIRECTORY`, so that
/// `LoadCredentialEncrypted=` wins over a file left in `/etc`), else the configured directory;
/// `None` when neither has files.
pub fn load(configured: Option<&Path>) -> Result<Option<Credentials>, CredentialError> {
    load_from(
        std::env::var_os("CREDENTIALS_DIRECTORY")
            .as_deref()
            .map(Path::new),
        configured,
    )
}

fn load_from(
    systemd: Option<&Path>,
    configured: Option<&Path>,
) -> Result<Option<Credentials>, CredentialError> {
    match (systemd, configured) {
        (Some(dir), _) if dir.join("bmc-password").exists() => from_dir(dir, false).map(Some),
        (_, Some(dir)) => from_dir(dir, true).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn trailing_newline_is_stripped_and_modes_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bmc-username", "admin\n", 0o600);
        write(dir.path(), "bmc-password", "s3cret\n", 0o600);
        let c = from_dir(dir.path(), true).unwrap();
        assert_eq!((c.user.as_str(), c.password.expose()), ("admin", "s3cret"));
        write(dir.path(), "bmc-password", "s3cret\n", 0o644);
        let err = from_dir(dir.path(), true).unwrap_err();
        assert!(
            matches!(err, CredentialError::Mode { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("bmc-password") && err.to_string().contains("0644"));
        write(dir.path(), "bmc-password", "\n", 0o600);
        assert!(matches!(
            from_dir(dir.path(), true),
            Err(CredentialError::Empty { .. })
        ));
        std::fs::remove_file(dir.path().join("bmc-password")).unwrap();
        assert!(matches!(
            from_dir(dir.path(), true),
            Err(CredentialError::Read { .. })
        ));
    }

    #[test]
    fn systemd_credentials_come_before_the_configured_directory() {
        let (systemd, configured) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(configured.path(), "bmc-username", "from-etc\n", 0o600);
        write(configured.path(), "bmc-password", "p1\n", 0o600);
        assert_eq!(
            load_from(Some(systemd.path()), Some(configured.path()))
                .unwrap()
                .unwrap()
                .user,
            "from-etc",
            "an empty credentials dir is skipped"
        );
        // systemd's directory is private to the service by construction: its mode is not checked.
        write(systemd.path(), "bmc-username", "from-systemd", 0o644);
        write(systemd.path(), "bmc-password", "p2", 0o644);
        assert_eq!(
            load_from(Some(systemd.path()), Some(configured.path()))
                .unwrap()
                .unwrap()
                .user,
            "from-systemd"
        );
        assert!(load_from(None, None).unwrap().is_none());
    }
}
