//! hostagent: the on-host agent for servers with a BMC.
//!
//! It finds the BMC's in-band Redfish path (SMBIOS type 42 and the host-side NIC, or HPE's
//! CHIF channel), holds the few sessions that local tools need, and cleans the sessions that
//! tools leave behind before the BMC's session table fills up.
//!
//! The modules, in layer order: each uses only modules listed above it (the rules and the
//! flow of a request are in `docs/ARCHITECTURE.md`).
//!
//! Foundations, which know nothing of BMCs:
//! - [`cli`]: clap definitions of `hostagentd` and `agentctl` (man pages are generated from them).
//! - [`events`]: the fixed journald `MESSAGE_ID`s operators alert on.
//! - [`metrics`]: the Prometheus registry that the later layers record into, its exposition and
//!   the node_exporter textfile.
//! - [`secret`]: `Secret`, the zeroizing, redacting, memory-locked home of passwords and tokens.
//! - [`subnet`]: address-prefix arithmetic.
//!
//! Data, pure:
//! - [`redfish`]: Redfish wire data: errors that keep what the BMC said, the service root,
//!   collections, session resources and their classification by vendor profile ([`redfish::Kind`]).
//! - [`ownership`]: who answers for a session (`Owner`), and the agent's `Context` tag.
//! - [`credentials`]: the BMC account, its files, and the refresh hook bootstrapping provides.
//! - [`state`]: files kept between runs in `state.dir` — the ledger of the agent's own sessions —
//!   written atomically, mode 0600; none in memory-only mode.
//!
//! Outside worlds, each behind a trait, and the configuration that names them:
//! - [`discovery`]: the in-band path: SMBIOS type 42 (DSP0270) decoding, the host-side NIC in
//!   sysfs, its bring-up over rtnetlink (static, DHCP, link-local), the link watcher.
//! - [`transport`]: the `Transport` trait (one HTTP request to the BMC): HTTPS with explicit
//!   trust, and [`transport::chif`] through HPE's library loaded at run time.
//! - [`ipmi`]: the `Ipmi` trait over `/dev/ipmi0` and the two DSP0270 bootstrapping commands.
//! - [`config`]: layered TOML config (defaults, file, drop-ins, flags) → validated `Settings`
//!   (it checks endpoints and fingerprints with the transport's own parsers).
//!
//! The session core and what it serves:
//! - [`session`]: the agent's own session (login, relogin once, keep-alive, logout, Basic
//!   fallback, sessionless CHIF), listing the BMC's sessions and deleting one.
//! - [`lease`]: real BMC sessions lent to local processes, bound to their life (pidfd) or a TTL.
//! - [`reaper`]: who answers for each session (owners, orphans of a killed run) and which
//!   foreign ones are stale (policy); bounded deletes and their report.
//! - [`service`]: status, list and clean over one agent session — what both the daemon and
//!   `agentctl --standalone` do.
//! - [`connect`]: from settings to a connected `Service`: credentials, the BMC's path, trust.
//!
//! Serving local tools:
//! - [`peer`]: who is on the other end of a local connection (SO_PEERCRED, sock_diag) and its
//!   role (admin, reader, none).
//! - [`proxy`]: the Redfish proxy: virtual sessions, header stripping, URL rewriting, GET cache.
//! - [`hmc`]: IBM Power HMCs: the agent's one REST API session per HMC (XML logon, relogon
//!   once, back-off, the token in the kernel keyring between runs) and its proxy with
//!   virtual sessions.
//! - [`api`]: the local API's listeners and routes (`/v1/*`, and `/redfish/**` to the proxy).
//!
//! The programs:
//! - [`agentctl`]: agentctl's commands over the daemon or standalone, tables and `--json`, and
//!   the demo (feature `demo`: a simulated iLO in-process, the agent cleaning it).
//! - [`daemon`]: hostagentd: connect, serve, the reaper and keep-alive loops, sd_notify,
//!   logging, shutdown.

// Every `unsafe` block says why it is sound (checked by clippy in CI).
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(test)]
pub mod testing;
pub mod cli;
pub mod events;
pub mod metrics;
pub mod secret;
pub mod subnet;

pub mod redfish;
pub mod ownership;
pub mod credentials;
pub mod state;

pub mod discovery;
pub mod transport;
pub mod ipmi;
pub mod config;

pub mod session;
pub mod lease;
pub mod reaper;
pub mod service;
pub mod connect;

pub mod peer;
pub mod proxy;
pub mod hmc;
pub mod api;

pub mod agentctl;
pub mod daemon;
