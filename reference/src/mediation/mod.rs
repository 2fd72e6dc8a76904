//! Command mediation: chosen commands leave the sandbox through `nono-shim` and the
//! supervisor decides what they may do (the kipz fork's design, seed pull request level L2).
//!
//! So far: [`policy`], the server's decision for a request, and [`audit`], the log it
//! writes. The session (shim directory, sockets) and the server loop build on the
//! supervisor IPC module.

pub mod audit;
pub mod policy;
