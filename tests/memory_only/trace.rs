//! Reading an `strace -f -y` log of file-changing system calls: which calls changed (or tried
//! to change) what path.

use std::path::{Path, PathBuf};

/// The system calls traced. `?` marks those an architecture may lack (x86_64 has them all).
pub const SYSCALLS: &str = "?open,openat,openat2,?creat,?rename,renameat,renameat2,?unlink,unlinkat,?mkdir,mkdirat,\
?link,linkat,?symlink,symlinkat,truncate,ftruncate,?chmod,fchmod,fchmodat,?chown,fchown,fchownat,?lchown,?mknod,mknodat,bind";

/// `strace` arguments that write the trace of `SYSCALLS` to `out`, then the command follows.
pub fn strace_args(out: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "-f",
        "-qq",
        "-y",
        "--seccomp-bpf",
        "-e",
        "signal=none",
        "-e",
    ]
    .map(String::from)
    .into();
    args.push(format!("trace={SYSCALLS}"));
    args.extend([
        "-o".to_string(),
        out.display().to_string(),
        "--".to_string(),
    ]);
    args
}

/// One traced call that creates, changes or removes a file system entry.
#[derive(Debug)]
pub struct Change {
    pub line: String,
    pub paths: Vec<PathBuf>,
}

/// Every changing call in the trace. Reads (opens without a write flag) are left out; a call
/// counts even when it failed, since it shows what the agent tried.
pub fn changes(trace: &str) -> Vec<Change> {
    trace.lines().filter_map(change).collect()
}

fn change(line: &str) -> Option<Change> {
    let rest = line
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    if rest.starts_with('<') || rest.starts_with('+') || rest.starts_with('-') {
        return None; // "<... resumed>", exits, signals
    }
    let (name, args) = rest.split_once('(')?;
    let (quoted, fd_paths) = scan(args);
    let paths = match name {
        "open" | "openat" | "openat2" if !opens_for_writing(args) => return None,
        "bind" if !args.contains("AF_UNIX") => return None,
        "bind" => quoted,
        "ftruncate" | "fchmod" | "fchown" => fd_paths.into_iter().take(1).collect(),
        _ if quoted.is_empty() => fd_paths.into_iter().take(1).collect(),
        _ => quoted,
    };
    if paths.is_empty() {
        return None; // bind of a network or abstract socket
    }
    Some(Change {
        line: line.to_string(),
        paths,
    })
}

fn opens_for_writing(args: &str) -> bool {
    [
        "O_WRONLY",
        "O_RDWR",
        "O_CREAT",
        "O_TRUNC",
        "O_APPEND",
        "O_TMPFILE",
    ]
    .iter()
    .any(|f| args.contains(f))
}

/// The quoted paths of a call's arguments (relative ones joined to the directory fd before
/// them, which `-y` prints as `N</dir>` or `AT_FDCWD</cwd>`), and every `<path>` of an fd.
/// Abstract socket names (`@"..."`) are no paths.
fn scan(args: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut quoted, mut fds) = (Vec::new(), Vec::new());
    let mut dir: Option<PathBuf> = None;
    let bytes = args.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &args[i..];
        if rest.starts_with(") = ") || rest.starts_with(" <unfinished") {
            break;
        }
        match bytes[i] {
            b'"' => {
                let (text, end) = quoted_string(args, i + 1);
                if i == 0 || bytes[i - 1] != b'@' {
                    let path = PathBuf::from(&text);
                    quoted.push(if path.is_absolute() {
                        path
                    } else {
                        dir.clone().unwrap_or_default().join(path)
                    });
                }
                i = end;
            }
            b'<' => {
                let end = args[i..].find('>').map(|e| i + e).unwrap_or(args.len());
                let path = PathBuf::from(&args[i + 1..end]);
                dir = Some(path.clone());
                fds.push(path);
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    (quoted, fds)
}

/// A C-escaped string starting at `start` (after the opening quote): its text and the index
/// after its closing quote.
fn quoted_string(s: &str, start: usize) -> (String, usize) {
    let mut out = String::new();
    let mut chars = s[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, start + i + 1),
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            c => out.push(c),
        }
    }
    (out, s.len())
}

#[test]
fn the_parser_reads_paths_flags_and_directory_fds() {
    let trace = r#"10 openat(AT_FDCWD</x>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>
10 openat(AT_FDCWD</x>, "rel/file", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600 <unfinished ...>
11 <... openat resumed>) = 4</x/rel/file>
12 renameat(5</s>, ".pins.json.tmp", 5</s>, "pins.json") = 0
12 ftruncate(7</s/ledger.json>, 0) = 0
13 bind(8<socket:[99]>, {sa_family=AF_UNIX, sun_path="/run/h/agent.sock"}, 110) = 0
13 bind(9<socket:[98]>, {sa_family=AF_UNIX, sun_path=@"abstract"}, 12) = 0
13 bind(9<socket:[98]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
14 mkdirat(AT_FDCWD</x>, "/run/h", 0777) = -1 EEXIST (File exists)"#;
    let got: Vec<Vec<PathBuf>> = changes(trace).into_iter().map(|c| c.paths).collect();
    let p = |s: &str| PathBuf::from(s);
    assert_eq!(
        got,
        vec![
            vec![p("/x/rel/file")],
            vec![p("/s/.pins.json.tmp"), p("/s/pins.json")],
            vec![p("/s/ledger.json")],
            vec![p("/run/h/agent.sock")],
            vec![p("/run/h")]
        ]
    );
}
