//! # nono-reference
//!
//! A compact reference implementation of a nono-compatible capability sandbox, used to
//! prove that the conformance suite in this workspace can be passed.
//!
//! The flow of a sandboxed run ([`run`]), one module per step:
//!
//! 1. [`cli`] parses the flags; [`policy`] turns them, plus a [`profile`] (JSON, with
//!    `extends` and `$VAR` expansion), into a [`capability::CapabilitySet`]: filesystem
//!    grants with resolved paths, a TCP policy, and scoping of signals and abstract sockets.
//! 2. [`system`]: the documented table of grants every program needs to start, and
//!    [`protected`]: the paths no grant may expose (a run that would is refused).
//! 3. [`sandbox`]: the platform backend (Landlock on Linux; Seatbelt on macOS, with a
//!    profile from the platform-neutral [`seatbelt`] generator) turns the set into kernel
//!    rules in the parent, where errors are still clean.
//! 4. [`env`](mod@env): dangerous environment variables are removed.
//! 5. [`supervisor`]: fork; the child enforces the ruleset on itself and execs; the parent
//!    (the supervisor) waits and maps the child's fate to an exit code.
//! 6. [`ipc`]: with a request policy, the supervisor keeps a socket to the child and
//!    answers capability requests by passing opened fds.
//! 7. [`mediation`]: with an active `mediation` block, chosen commands leave the sandbox
//!    through `nono-shim`, and the supervisor's mediation server decides what they run;
//!    [`broker`] hands captured credentials out as nonces and swaps them back.
//!
//! Anything not granted is denied. When the kernel cannot enforce what was asked, the
//! reference refuses to run rather than run with less protection.
//!
//! ## Where each capability lives
//!
//! | Capability | Module |
//! |---|---|
//! | command line, run orchestration | [`cli`], [`run`] |
//! | flags plus profile → capabilities | [`policy`] (one path, with a path [`policy::Spelling`]) |
//! | capability model | [`capability`] |
//! | profiles: reading, format, JSONC, extends, merge, expansion | [`profile`] (`read`, `format`, `jsonc`, `resolve`, `merge`, `expand`, `apply`) |
//! | system grants | [`system`] |
//! | protected paths | [`protected`] |
//! | sandbox apply (Landlock, Seatbelt) | [`sandbox`] |
//! | Seatbelt generation, macOS path spelling, deny-log learning | [`seatbelt`] (`sbpl`, `options`, `literal`, `paths`, `log`, `learn`) |
//! | environment scrubbing | [`env`](mod@env) |
//! | fork, exec, exit codes | [`supervisor`] |
//! | supervisor IPC: framing, fd passing, capability requests | [`ipc`] (`frame`, `fdpass`, `request`, `client`) |
//! | mediation session, server, policy, context tokens, audit | [`mediation`] |
//! | shim protocol (session variables, messages, audit datagram) | crate `nono-shim-protocol`, re-exported by [`mediation::wire`] |
//! | credential broker, nonce rewrite | [`broker`] |
//! | filtering network proxy | [`proxy`] |
//! | `NONO_CAP_FILE` and `--dry-run` text | [`describe`] |

pub mod broker;
pub mod capability;
pub mod cli;
pub mod describe;
pub mod entry;
pub mod env;
pub mod error;
pub mod mediation;
pub mod policy;
pub mod profile;
pub mod protected;
pub mod proxy;
pub mod ipc;
pub mod run;
pub mod sandbox;
pub mod seatbelt;
pub mod supervisor;
pub mod system;

pub use capability::{AccessMode, CapabilitySet, FsCapability, NetworkPolicy, Source};
pub use error::{Error, Result};
