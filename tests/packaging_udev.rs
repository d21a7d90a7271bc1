//! `udevadm test` reads the shipped rules (alone, in a private mount namespace) against a real
//! veth and reports no invalid line in them; a deliberately bad file beside them is reported,
//! which shows the check can fail. (Debian 12's udevadm 252 has no `udevadm verify`.)

mod common;

use std::process::Command;

#[test]
fn udevadm_accepts_every_line_of_the_rules() {
    let have = Command::new("udevadm").arg("--version").output().is_ok();
    if !common::require(
        common::is_root() && have,
        "root and udevadm (Debian package udev)",
    ) {
        return;
    }
    let (a, b) = (
        format!("hau{}", std::process::id() % 100000),
        format!("hav{}", std::process::id() % 100000),
    );
    let ok = Command::new("ip")
        .args(["link", "add", &a, "type", "veth", "peer", "name", &b])
        .status()
        .unwrap();
    assert!(ok.success(), "creating a veth pair");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/udev/70-hostagent.rules");
    let script = format!(
        "mount --make-rprivate / && mount -t tmpfs tmpfs /usr/lib/udev/rules.d && mount -t tmpfs tmpfs /etc/udev/rules.d && \
         cp {rules} /etc/udev/rules.d/ && printf 'SUBSYSTEM==\"net\", ENV{{X}}=\"1\" NOT_A_KEY\\n' > /etc/udev/rules.d/99-control.rules && \
         udevadm test --action=add /sys/class/net/{a} 2>&1"
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .unwrap();
    let _ = Command::new("ip").args(["link", "del", &a]).status();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Reading rules file: /etc/udev/rules.d/70-hostagent.rules"),
        "{text}"
    );
    assert!(
        text.contains("99-control.rules:1 Invalid"),
        "the control file's bad line is reported: {text}"
    );
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("70-hostagent.rules:")
                && (l.contains("Invalid") || l.contains("rror") || l.contains("nknown"))
        })
        .collect();
    assert!(
        ours.is_empty(),
        "udevadm complains about our rules: {ours:?}"
    );
}
