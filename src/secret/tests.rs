use super::*;

#[test]
fn formatting_never_shows_the_value() {
    let s = Secret::new("hunter2-token");
    assert_eq!(format!("{s:?}"), "***");
    assert_eq!(format!("{s}"), "***");
    assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
    assert_eq!(s.expose(), "hunter2-token");
}

#[test]
fn values_round_trip_through_new_clone_and_from() {
    let long = "x".repeat(3 * 4096 + 17);
    for value in ["", "p", "pässwörd-ünïcode", long.as_str()] {
        let s = Secret::new(value);
        let c = s.clone();
        drop(s);
        assert_eq!(c.expose(), value);
        assert_eq!(c.is_empty(), value.is_empty());
        assert_eq!(Secret::from(value.to_string()), c);
    }
    assert_ne!(Secret::new("abc"), Secret::new("abd"));
    assert_ne!(Secret::new("abc"), Secret::new("abcd"));
}

/// `Locked:` of the mapping holding `addr`, in kB, from /proc/self/smaps.
fn locked_kb_at(addr: usize) -> Option<u64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            if let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) {
                inside = start <= addr && addr < end;
                continue;
            }
        }
        if inside && first == "Locked:" {
            return line.split_whitespace().nth(1)?.parse().ok();
        }
    }
    None
}

fn vm_lck_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmLck:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_bytes_are_locked_and_stay_locked_while_a_page_neighbour_is_dropped() {
    let a = Secret::new("token-a-0123456789abcdef");
    let b = Secret::new("token-b-0123456789abcdef");
    if !a.is_locked() {
        eprintln!(
            "SKIPPED: mlock refused here (RLIMIT_MEMLOCK); the unlocked path is tested below"
        );
        return;
    }
    let addr = b.expose().as_ptr() as usize;
    assert!(vm_lck_kb() >= 4, "VmLck counts the arena's page");
    assert!(
        locked_kb_at(addr).unwrap_or(0) >= 4,
        "smaps shows the page holding b as locked"
    );
    // a and b are small and made one after the other: most likely on one page. Dropping a
    // must not unlock b's bytes.
    drop(a);
    assert!(b.is_locked());
    assert!(
        locked_kb_at(addr).unwrap_or(0) >= 4,
        "b's page is still locked after a's drop"
    );
    assert_eq!(b.expose(), "token-b-0123456789abcdef");
}

#[test]
fn a_large_secret_spans_locked_pages_of_its_own() {
    let big = Secret::new("k".repeat(10_000));
    if big.is_locked() {
        let start = big.expose().as_ptr() as usize;
        assert!(locked_kb_at(start).unwrap_or(0) >= 12);
        assert!(locked_kb_at(start + 9_999).unwrap_or(0) >= 4);
    }
}

const CHILD: &str = "HOSTAGENT_SECRET_TEST_CHILD";
const WARNING: &str = "cannot lock passwords and tokens in memory";

/// Drops CAP_IPC_LOCK (root ignores RLIMIT_MEMLOCK with it) and sets RLIMIT_MEMLOCK to 0.
fn forbid_mlock() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const CAP_IPC_LOCK: u32 = 14;
    let mut header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget/capset with a v3 header and two data words, as capget(2) describes.
    unsafe {
        assert_eq!(
            libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()),
            0
        );
        data[0].effective &= !(1 << CAP_IPC_LOCK);
        data[0].permitted &= !(1 << CAP_IPC_LOCK);
        assert_eq!(
            libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()),
            0
        );
    }
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a plain setrlimit with a valid struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &zero) }, 0);
}

#[test]
fn without_memlock_secrets_still_work_and_the_process_warns_once() {
    if std::env::var_os(CHILD).is_some() {
        forbid_mlock();
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .init();
        // Enough to need several pages, so that every page is refused.
        let secrets: Vec<Secret> = (0..5)
            .map(|i| Secret::new(format!("{i}").repeat(3000)))
            .collect();
        for (i, s) in secrets.iter().enumerate() {
            assert_eq!(s.expose(), format!("{i}").repeat(3000));
            assert!(!s.is_locked());
        }
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "secret::tests::without_memlock_secrets_still_work_and_the_process_warns_once",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed: {}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        stderr.matches(WARNING).count(),
        1,
        "one warning for the process: {stderr}"
    );
}
