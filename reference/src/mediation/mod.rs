//! Command mediation: chosen commands leave the sandbox through `nono-shim` and the
//! supervisor decides what they may do (the kipz fork's design, seed pull request level L2).
//!
//! * [`session`]: the private session directory, shims, sockets and state directory;
//! * [`wire`]: the shim's request and the server's answer (framing and fd passing from
//!   [`crate::ipc`]);
//! * [`policy`]: the server's decision for a request, a pure function;
//! * [`context`]: the context tokens that tell a command the server started from the agent;
//! * [`exec`]: running the real binary, streamed or buffered, under its own sandbox;
//! * [`server`]: the threads that tie these together;
//! * [`audit`]: the log every decision lands in, scrubbed of secrets;
//! * [`approver`]: the `nono-approve` program that approves `admin` rules.

pub mod approver;
pub mod audit;
pub mod context;
pub mod exec;
pub mod policy;
pub mod server;
pub mod session;
pub mod wire;
