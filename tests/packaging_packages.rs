//! The DEB and the RPM, built from the one layout (packaging/layout) with the binaries this
//! test run built: the .deb installs with `dpkg -i` (agentctl runs, its man page is found, the
//! unit verifies) and purges leaving none of its files; the .rpm lists the same files and
//! installs into a scratch root.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn bin_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_hostagentd"))
        .parent()
        .unwrap()
}

fn deb_files(deb: &Path) -> BTreeSet<String> {
    run(Command::new("dpkg-deb").arg("-c").arg(deb))
        .lines()
        .filter(|l| l.starts_with('-'))
        .map(|l| {
            l.split_whitespace()
                .last()
                .unwrap()
                .trim_start_matches('.')
                .to_string()
        })
        .collect()
}

#[test]
fn the_deb_installs_works_and_purges_cleanly_and_the_rpm_carries_the_same_files() {
    let ready = common::require(common::is_root(), "root, to install the .deb")
        && common::require(
            have("dpkg-deb") && have("rpmbuild") && have("man"),
            "dpkg-deb, rpmbuild (Debian package rpm) and man (man-db)",
        );
    if !ready {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let deb = run(Command::new(root.join("packaging/build-deb"))
        .arg(out.path())
        .arg(bin_dir()))
    .trim()
    .to_string();
    let rpm = run(Command::new(root.join("packaging/build-rpm"))
        .arg(out.path())
        .arg(bin_dir()))
    .trim()
    .to_string();
    let files = deb_files(Path::new(&deb));
    for expected in [
        "/usr/bin/hostagentd",
        "/usr/bin/agentctl",
        "/usr/lib/systemd/system/hostagentd.service",
        "/usr/share/man/man1/agentctl.1.gz",
        "/usr/lib/udev/rules.d/70-hostagent.rules",
        "/etc/hostagent/hostagent.toml",
        "/usr/share/doc/hostagent/examples/prometheus/hostagent.rules.yml",
    ] {
        assert!(
            files.contains(expected),
            "the .deb lacks {expected}: {files:?}"
        );
    }

    let listing = run(Command::new("rpm")
        .args(["-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\\n]"])
        .arg(&rpm));
    let rpm_files: BTreeSet<String> = listing
        .lines()
        .filter(|l| l.starts_with('-'))
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect();
    assert_eq!(
        rpm_files, files,
        "the .rpm and the .deb carry the same files"
    );
    let scratch = tempfile::tempdir().unwrap();
    run(Command::new("rpm")
        .args(["-ivh", "--nodeps", "--noscripts", "--root"])
        .arg(scratch.path())
        .arg(&rpm));
    assert!(scratch.path().join("usr/bin/agentctl").exists());

    run(Command::new("dpkg").args(["-i", &deb]));
    let version = run(Command::new("/usr/bin/agentctl").arg("--version"));
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    assert_eq!(
        run(Command::new("man").args(["-w", "agentctl"])).trim(),
        "/usr/share/man/man1/agentctl.1.gz"
    );
    if have("systemd-analyze") {
        run(Command::new("systemd-analyze")
            .args(["verify", "/usr/lib/systemd/system/hostagentd.service"]));
    }
    run(Command::new("dpkg").args(["--purge", "hostagent"]));
    let left: Vec<&String> = files.iter().filter(|f| Path::new(f).exists()).collect();
    assert!(left.is_empty(), "left behind after purge: {left:?}");
    assert!(!Path::new("/etc/hostagent").exists() && !Path::new("/var/lib/hostagent").exists());
}
