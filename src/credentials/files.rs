//! BMC credentials from files: `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`) or
//! `bmc.credentials_dir`, each holding `bmc-username` and `bmc-password`. A directory named in
//! the config is refused when the password file is group- or world-readable or not owned by
//! the user the agent runs as, or when the directory itself is group- or world-writable (others
//! could swap the files) or owned by someone else. Only regular files are read: a FIFO would
//! block start-up.

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
    #[error("{path} is not a regular file (a FIFO, device or directory): refusing to read it")]
    NotRegular { path: PathBuf },
    #[error("the credentials directory {path} has mode {mode:04o}: group- or world-writable, so others could swap its files (chmod 700)")]
    DirMode { path: PathBuf, mode: u32 },
    #[error("the credentials directory {path} is owned by uid {owner}, not by the service user (uid {me}) or root")]
    DirOwner { path: PathBuf, owner: u32, me: u32 },
}

/// Refuses a credentials directory whose files someone else could replace.
fn check_dir(dir: &Path) -> Result<(), CredentialError> {
    let meta = std::fs::metadata(dir).map_err(|e| CredentialError::Read {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(CredentialError::DirMode {
            path: dir.to_path_buf(),
            mode,
        });
    }
    let me = nix::unistd::Uid::effective().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(CredentialError::DirOwner {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    Ok(())
}

/// Opens without blocking (a FIFO would hang start-up) and refuses anything but a regular file.
fn open_regular(path: &Path) -> Result<std::fs::File, CredentialError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e: std::io::Error| CredentialError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(err)?;
    if !file.metadata().map_err(err)?.is_file() {
        return Err(CredentialError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// Reads one credential file, stripping one trailing newline.
fn read(path: &Path, check_mode: bool) -> Result<Secret, CredentialError> {
    let err = |e: std::io::Error| CredentialError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut file = open_regular(path)?;
    let meta = file.metadata().map_err(err)?;
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
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).map_err(err)?;
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

/// The names of the two files that hold an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNames {
    pub user: String,
    pub password: String,
}

impl FileNames {
    /// `bmc-username`, `bmc-password`.
    pub fn bmc() -> FileNames {
        FileNames::with_prefix("bmc")
    }

    /// `hmc-username`, `hmc-password`: in an HMC's `credentials_dir`.
    pub fn hmc() -> FileNames {
        FileNames::with_prefix("hmc")
    }

    /// `hmc-<name>-username`, `hmc-<name>-password`: in `$CREDENTIALS_DIRECTORY`, which holds
    /// every HMC's.
    pub fn hmc_named(name: &str) -> FileNames {
        FileNames::with_prefix(&format!("hmc-{name}"))
    }

    fn with_prefix(prefix: &str) -> FileNames {
        FileNames {
            user: format!("{prefix}-username"),
            password: format!("{prefix}-password"),
        }
    }
}

/// The credentials in `dir`. `check_mode` is true for a directory named in the config (systemd
/// credential directories are private to the service by construction).
pub fn from_dir(dir: &Path, check_mode: bool) -> Result<Credentials, CredentialError> {
    from_dir_named(dir, check_mode, &FileNames::bmc())
}

/// [`from_dir`] with other file names (an HMC's).
pub fn from_dir_named(
    dir: &Path,
    check_mode: bool,
    names: &FileNames,
) -> Result<Credentials, CredentialError> {
    if check_mode {
        check_dir(dir)?;
    }
    let user = read(&dir.join(&names.user), check_mode)?;
    let password = read(&dir.join(&names.password), check_mode)?;
    Ok(Credentials {
        user: user.expose().to_string(),
        password,
    })
}

/// An HMC's account: its `credentials_dir` (`hmc-username`, `hmc-password`, checked as the
/// BMC's), else `$CREDENTIALS_DIRECTORY` with `hmc-<name>-username` / `hmc-<name>-password`.
/// The error names the file, so an operator sees which HMC's account is missing.
pub fn load_hmc(name: &str, configured: Option<&Path>) -> Result<Credentials, CredentialError> {
    let systemd = std::env::var_os("CREDENTIALS_DIRECTORY");
    load_hmc_from(name, configured, systemd.as_deref().map(Path::new))
}

fn load_hmc_from(
    name: &str,
    configured: Option<&Path>,
    systemd: Option<&Path>,
) -> Result<Credentials, CredentialError> {
    match (configured, systemd) {
        (Some(dir), _) => from_dir_named(dir, true, &FileNames::hmc()),
        (None, Some(dir)) => from_dir_named(dir, false, &FileNames::hmc_named(name)),
        (None, None) => Err(CredentialError::Read {
            path: PathBuf::from(format!("$CREDENTIALS_DIRECTORY/hmc-{name}-password")),
            reason: "CREDENTIALS_DIRECTORY is not set and the [[hmc]] table has no \
                     credentials_dir"
                .into(),
        }),
    }
}

/// In the order of ARCHITECTURE.md, "Modes and files": systemd credentials (`$CREDENTIALS_DIRECTORY`, so that
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
    fn a_writable_credentials_directory_is_refused_naming_path_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bmc-username", "admin\n", 0o600);
        write(dir.path(), "bmc-password", "s3cret\n", 0o600);
        for mode in [0o777, 0o770, 0o1777] {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            let err = from_dir(dir.path(), true).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, CredentialError::DirMode { .. })
                    && text.contains(&dir.path().display().to_string())
                    && text.contains(&format!("{mode:04o}")),
                "{text}"
            );
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(from_dir(dir.path(), true).is_ok());
    }

    #[test]
    fn a_fifo_as_the_password_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        write(dir.path(), "bmc-username", "admin\n", 0o600);
        let fifo = dir.path().join("bmc-password");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Before, opening a FIFO with no writer blocked for ever: run it on a thread and give up
        // after a bound instead of hanging the test.
        let path = dir.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(from_dir(&path, true));
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO password file does not block");
        let err = result.unwrap_err();
        assert!(
            matches!(err, CredentialError::NotRegular { .. })
                && err.to_string().contains("bmc-password"),
            "{err}"
        );
    }

    #[test]
    fn hmc_files_are_named_per_hmc_in_systemds_directory_and_checked_in_their_own() {
        let (systemd, own) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write(systemd.path(), "hmc-prod-1-username", "hscroot\n", 0o644);
        write(systemd.path(), "hmc-prod-1-password", "abc123\n", 0o644);
        let c = load_hmc_from("prod-1", None, Some(systemd.path())).unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.expose()),
            ("hscroot", "abc123")
        );
        let err = load_hmc_from("lab", None, Some(systemd.path())).unwrap_err();
        assert!(err.to_string().contains("hmc-lab-username"), "{err}");
        write(own.path(), "hmc-username", "ops\n", 0o600);
        write(own.path(), "hmc-password", "pw\n", 0o640);
        let err = load_hmc_from("prod-1", Some(own.path()), Some(systemd.path())).unwrap_err();
        assert!(
            matches!(err, CredentialError::Mode { mode: 0o640, .. })
                && err.to_string().contains("hmc-password"),
            "{err}"
        );
        let err = load_hmc_from("x", None, None).unwrap_err().to_string();
        assert!(
            err.contains("hmc-x-password") && err.contains("credentials_dir"),
            "{err}"
        );
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
