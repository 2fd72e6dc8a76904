//! Command mediation (SPEC section 17): sessions, the shim, the server and the audit log.
//!
//! Every case tells a small story with three suite-owned programs:
//!
//! * the **agent** is `nono-mediation-client`, started by `IUT run --profile P`. It runs
//!   commands through its `PATH` (so through the IUT's shims and server), reports what it
//!   sees, and can also speak the shim protocol itself to send the server hostile requests;
//! * the **real binaries** are copies of `nono-mediated` installed by [`Kit::fake`] as
//!   `bin/<name>`, each with its own script of steps (describe itself, copy stdin, print,
//!   exit with a code, touch a file...);
//! * the **profile** names them in `mediation.commands`.
//!
//! Side effects are checked from outside: files the real binaries write (`record:` lines,
//! markers), the IUT's output, and the audit log (where the implementation's manifest
//! says, `settings.audit_log`; by default the reference's layout under the case's own
//! `XDG_STATE_HOME`). Every run gets `HOME`, `XDG_CONFIG_HOME` and `XDG_STATE_HOME` inside
//! the fixture root, so sessions and logs of parallel cases never meet.
//!
//! The agent reports its steps in a file of the suite's own (`--report`, granted to the
//! agent as one file), never on the IUT's stdout, where an implementation may log.
//!
//! Approval of `admin` rules follows the kipz fork's contract: the IUT runs
//! `nono-approve COMMAND ARGS...` from `PATH`. [`Kit::approver`] installs a stub that
//! records its arguments and approves, refuses, or waits for a file.
//!
//! Families: [`session`], [`shim`] (the suite plays the server), [`server`] (the suite plays
//! the shim), [`actions`], [`matching`], [`caller`], [`passthrough`], [`sandbox`], [`cwd`],
//! [`env`], [`audit`], [`bad_input`], [`admin`], [`exit`].
//!
//! Shared plumbing: [`kit`] (the programs, fakes, profiles, stub approver and rules),
//! [`agent`] (one run and what its steps reported), [`audit_log`] (finding and reading the
//! log) and [`fake_server`] (the suite as server, for the shim cases).

pub use crate::kit::arg as s;
pub use agent::{args_of, contains_nonce, env_in, is_nonce, str_of, AgentRun};
pub use audit_log::{audit_files, audit_lines, audit_log_template};
pub use kit::{
    admin, approve, approve_script, capture, capture_script, mediated, respond, touch,
    wait_for_gate, Kit, Verdict,
};
use crate::case::Case;

mod actions;
mod admin;
mod agent;
mod audit;
mod audit_log;
mod bad_input;
mod caller;
mod cwd;
mod env;
mod exit;
mod fake_server;
mod kit;
mod matching;
mod nonce;
mod passthrough;
mod sandbox;
mod server;
mod session;
mod shim;

/// All mediation cases.
pub fn cases() -> Vec<Case> {
    let mut out = vec![];
    for family in [
        session::cases,
        shim::cases,
        server::cases,
        actions::cases,
        matching::cases,
        caller::cases,
        passthrough::cases,
        sandbox::cases,
        cwd::cases,
        env::cases,
        audit::cases,
        bad_input::cases,
        admin::cases,
        exit::cases,
        nonce::cases,
    ] {
        out.extend(family());
    }
    out
}
