//! # nono-reference
//!
//! A compact reference implementation of a nono-compatible capability sandbox, used to
//! prove that the conformance suite in this workspace can be passed.
//!
//! The flow of a sandboxed run, one module per step:
//!
//! 1. [`capability`]: flags become a [`capability::CapabilitySet`]: filesystem grants with
//!    resolved paths, a TCP policy, and scoping of signals and abstract sockets.
//!    A [`profile`] (JSON, with `extends` and `$VAR` expansion) adds grants the same way.
//! 2. [`system`]: the documented table of grants every program needs to start, and
//!    [`protected`]: the paths no grant may expose (a run that would is refused).
//! 3. [`sandbox`]: the platform backend (Landlock on Linux; Seatbelt on macOS, with a
//!    profile from the platform-neutral [`seatbelt`] generator) turns the set into kernel
//!    rules in the parent, where errors are still clean.
//! 4. [`env`]: dangerous environment variables are removed.
//! 5. [`supervisor`]: fork; the child enforces the ruleset on itself and execs; the parent
//!    waits and maps the child's fate to an exit code.
//! 6. [`ipc`]: with a request policy, the supervisor keeps a socket to the child and
//!    answers capability requests by passing opened fds.
//!
//! Anything not granted is denied. When the kernel cannot enforce what was asked, the
//! reference refuses to run rather than run with less protection.

pub mod broker;
pub mod capability;
pub mod cli;
pub mod describe;
pub mod entry;
pub mod env;
pub mod error;
pub mod mediation;
pub mod profile;
pub mod protected;
pub mod proxy;
pub mod ipc;
pub mod sandbox;
pub mod seatbelt;
pub mod supervisor;
pub mod system;

pub use capability::{AccessMode, CapabilitySet, FsCapability, NetworkPolicy, Source};
pub use error::{Error, Result};
