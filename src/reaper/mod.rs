//! The reaper: decides which foreign sessions are stale ([`policy`]) and deletes them with
//! bounded concurrency, keeping going past failures and reporting every outcome ([`execute`]).

pub mod execute;
pub mod owners;
pub mod policy;
pub mod refused;
pub mod request;

pub use execute::{clean, CleanOptions, CleanReport, Deleted, Failed, Kept};
pub use owners::{EarlierRun, Identity, Owners};
pub use policy::{Policy, Verdict, IN_BAND_KINDS};
pub use refused::Refusals;
pub use request::CleanRequest;
