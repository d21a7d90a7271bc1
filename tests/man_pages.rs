//! The man pages and shell completions are generated from the clap definitions and the
//! config schema, and committed. This test regenerates them in memory and fails when a
//! committed file is stale; `HOSTAGENT_BLESS=1 cargo test --test man_pages` rewrites them.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use hostagent::cli::{agentctl, hostagentd};
use hostagent::config::{KeyType, HMC_SCHEMA, SCHEMA, SHIPPED_DEFAULTS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
success
.TP
\fB1\fR
failure (a BMC error, a failed deletion)
.TP
\fB2\fR
usage or configuration error
.TP
\fB3\fR
hostagentd is not running (no answer on the socket)
.TP
\fB4\fR
the BMC is unreachable
.TP
\fB5\fR
not permitted (the caller lacks the admin or reader role)
.TP
\fB6\fR
nothing to do (\fBclean \-\-check\fR)
"#;

const AGENTCTL_EXTRA: &str = r#".SH "JSON OUTPUT"
With \fB\-\-json\fR the shapes are stable (fields are added, never renamed):
.nf
list   {"sessions":[{"id","uri","user","kind","owner","origin","login_time","last_access","idle_s"}],"limit":N|null}
clean  {"dry_run":bool,"deleted":[{"id","user","kind"}],"kept":[{"id","kind","reason","status":N (when the BMC refused the DELETE)}],"failed":[{"id","error"}]}
status {"endpoint","transport","agent_session":bool,"auth","sessions":{"total":N,"by_kind":{...},"by_owner":{...}},"limit":N|null,"reaper_cycles":N (daemon)}
errors {"error":{"code","message"}}
.fi
.SH KINDS
rest\-host, host\-application (the in\-band kinds cleaned by policy), rest, web\-ui, console,
shell, ipmi, other, unknown.
.SH OWNERS
\fBagent\fR (the daemon's own session), \fBlease:\fIID\fR, \fBforeign\fR, and
\fBorphan:agent\fR, \fBorphan:lease:\fIID\fR or \fBorphan\fR: a session that an earlier run of
hostagentd created and did not delete (it was killed). The daemon knows them by its ledger,
by the \fBContext\fR tag \fBhostagent/\fIboot\-id\fB/\fIwho\fR where the BMC keeps it, or, in
memory\-only mode on a BMC that keeps no \fBContext\fR (iLO), as sessions of the daemon's own
kind, BMC user and origin unused since before it logged in. Orphans are deleted at the
daemon's first reaper cycle, whatever their kind and idle time; \fBagentctl \-\-standalone\fR
never takes a session for an orphan.
"#;

const SIGNALS: &str = r#".SH SIGNALS
.TP
SIGTERM, SIGINT
stop: leases are closed, the agent logs out of the BMC and off every HMC, each with a fresh
timeout
.TP
SIGHUP (\fBsystemctl reload hostagentd\fR)
read the configuration again and apply its \fB[[hmc]]\fR tables: a removed table's session
is logged off the HMC, its key dropped from the kernel keyring, its virtual sessions ended
and its listener closed; an added table logs on (with the usual back\-off) and serves; a
changed table is removed, then added. Only \fB[[hmc]]\fR tables are reloaded: every other
setting needs a restart (the log says so when one changed). A configuration that does not
load is logged with its error and changes nothing.
"#;

const FILES: &str = r#".SH FILES
.TP
/etc/hostagent/hostagent.toml, /etc/hostagent/conf.d/*.toml
configuration, see \fBhostagent.toml\fR(5)
.TP
/run/hostagent/agent.sock
the local API (mode 0660, group hostagent)
.TP
/var/lib/hostagent/ledger.json
the URIs of the sessions hostagentd created (never a token), written atomically, mode 0600;
an unreadable one is renamed \fBledger.json.bad\-\fITIME\fR and reported; none in
memory\-only mode
.TP
/var/lib/hostagent/pins.json
TOFU certificate fingerprints; none in memory\-only mode
"#;

fn man_page(cmd: clap::Command, extra: &[&str]) -> String {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf).unwrap();
    let mut text = String::from_utf8(buf).unwrap();
    for section in extra {
        text.push_str(section);
    }
    text
}

fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('-', "\\-")
}

/// hostagent.toml(5) from the schema and the comments above each key in the shipped defaults.
fn config_page() -> String {
    let mut out = String::from(".TH hostagent.toml 5 \"\" \"hostagent\" \"File Formats\"\n.SH NAME\nhostagent.toml \\- configuration of hostagentd and agentctl \\-\\-standalone\n");
    out.push_str(".SH DESCRIPTION\nSettings are read in layers, each overriding the one before: the shipped defaults, \\fB/etc/hostagent/hostagent.toml\\fR (or \\fB\\-\\-config\\fR), drop\\-ins in \\fBconf.d/*.toml\\fR beside it in name order, then command\\-line flags. An unknown key, a value of the wrong type or an invalid value is an error naming the file and the key.\n");
    let mut comments: Vec<String> = Vec::new();
    let mut docs = std::collections::HashMap::new();
    let mut section = String::new();
    for line in SHIPPED_DEFAULTS.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix('#') {
            comments.push(c.trim().to_string());
        } else if t.starts_with('[') {
            section = t.trim_matches(|c| c == '[' || c == ']').to_string();
            comments.clear();
        } else if let Some((key, value)) = t.split_once('=') {
            docs.insert(
                format!("{section}.{}", key.trim()),
                (value.trim().to_string(), comments.join(" ")),
            );
            comments.clear();
        } else {
            comments.clear();
        }
    }
    for (section, keys) in SCHEMA {
        out.push_str(&format!(".SH \"[{section}]\"\n"));
        for (key, ty) in keys.iter() {
            let (default, doc) = docs
                .get(&format!("{section}.{key}"))
                .cloned()
                .unwrap_or_default();
            let ty = match ty {
                KeyType::Str => "string",
                KeyType::Bool => "boolean",
                KeyType::Float => "number",
                KeyType::StrList => "list of strings",
            };
            out.push_str(&format!(
                ".TP\n\\fB{}\\fR (\\fI{ty}\\fR, default \\fB{}\\fR)\n{}\n",
                roff_escape(key),
                roff_escape(&default),
                roff_escape(&doc)
            ));
        }
    }
    out.push_str(".SH \"[[hmc]]\"\nIBM Power HMCs, any number of tables, none by default; the tables of every layer add up (a drop\\-in per HMC is the usual way). Each HMC gets one session, shared by local clients through virtual sessions. These tables, and only they, are applied again at a reload (SIGHUP, \\fBsystemctl reload hostagentd\\fR): see \\fBhostagentd\\fR(8).\n");
    for (key, ty, default, doc) in HMC_SCHEMA {
        let ty = match ty {
            KeyType::Float => "number",
            _ => "string",
        };
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR (\\fI{ty}\\fR, default \\fB{}\\fR)\n{}\n",
            roff_escape(key),
            roff_escape(default),
            roff_escape(doc)
        ));
    }
    out.push_str(".SH \"SEE ALSO\"\n\\fBhostagentd\\fR(8), \\fBagentctl\\fR(1)\n");
    out
}

fn completions(shell: clap_complete::Shell, cmd: &mut clap::Command, name: &str) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, cmd, name, &mut buf);
    String::from_utf8(buf).unwrap()
}

fn expected_files() -> Vec<(PathBuf, String)> {
    let see_also_ctl = ".SH \"SEE ALSO\"\n\\fBhostagentd\\fR(8), \\fBhostagent.toml\\fR(5)\n";
    let see_also_d = ".SH \"SEE ALSO\"\n\\fBagentctl\\fR(1), \\fBhostagent.toml\\fR(5), \\fBsystemd.exec\\fR(5)\n";
    let mut files = vec![
        (
            root().join("man/agentctl.1"),
            man_page(
                agentctl::Args::command(),
                &[EXIT_STATUS, AGENTCTL_EXTRA, FILES, see_also_ctl],
            ),
        ),
        (
            root().join("man/hostagentd.8"),
            man_page(hostagentd::Args::command(), &[SIGNALS, FILES, see_also_d]),
        ),
        (root().join("man/hostagent.toml.5"), config_page()),
    ];
    subcommand_pages(&agentctl::Args::command(), "agentctl", &mut files);
    for (shell, ext) in [
        (clap_complete::Shell::Bash, "bash"),
        (clap_complete::Shell::Zsh, "zsh"),
        (clap_complete::Shell::Fish, "fish"),
    ] {
        for (mut cmd, name) in [
            (agentctl::Args::command(), "agentctl"),
            (hostagentd::Args::command(), "hostagentd"),
        ] {
            files.push((
                root().join(format!("completions/{name}.{ext}")),
                completions(shell, &mut cmd, name),
            ));
        }
    }
    files
}

/// `agentctl-<sub>.1` for every subcommand, recursively, as the main page's SUBCOMMANDS name them.
fn subcommand_pages(cmd: &clap::Command, prefix: &str, files: &mut Vec<(PathBuf, String)>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("{prefix}-{}", sub.get_name());
        let leaked: &'static str = Box::leak(name.clone().into_boxed_str());
        let page = sub.clone().name(leaked).display_name(leaked);
        files.push((
            root().join(format!("man/{name}.1")),
            man_page(page, &[EXIT_STATUS]),
        ));
        subcommand_pages(sub, &name, files);
    }
}

#[test]
fn committed_man_pages_and_completions_are_up_to_date() {
    let bless = std::env::var("HOSTAGENT_BLESS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (path, text) in expected_files() {
        if bless {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(
                path.strip_prefix(root())
                    .unwrap_or(Path::new("?"))
                    .display()
                    .to_string(),
            );
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; regenerate with HOSTAGENT_BLESS=1 cargo test --test man_pages"
    );
}

#[test]
fn the_config_page_documents_every_key() {
    let page = config_page();
    for (section, keys) in SCHEMA {
        for (key, _) in keys.iter() {
            assert!(
                page.contains(&format!("\\fB{}\\fR", roff_escape(key))),
                "{section}.{key} missing"
            );
        }
    }
    assert!(page.contains("conf.d"), "precedence documented");
}
