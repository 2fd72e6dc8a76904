//! # nono-conformance
//!
//! The executable specification of nono-compatible capability sandboxes.
//!
//! * [`SPEC.md`](../SPEC.md) states the rules as numbered MUST/SHOULD statements.
//! * [`cases`] holds the tests as data: each [`case::Case`] has an ID, cites statements,
//!   names its platform and requirements, and has a body that drives the implementation
//!   under test through nono's `run` contract ([`runner`]) with the suite's probe
//!   program inside the sandbox, comparing outcome classes ([`outcome`]) and checking side
//!   effects from outside.
//! * [`harness`] turns cases into nextest tests (skips are real skips, with reasons);
//!   [`canary`] proves enforcement is real before any result is believed;
//!   [`manifest`] records, per implementation, what it claims and where it knowingly differs.
//! * [`vectors`] loads the language-neutral data vectors in `fixtures/` as cases.
//! * [`sbpl_check`] checks a Seatbelt profile's names against public profiles, on any host.
//! * The `nono-conformance` binary runs everything against one implementation and prints
//!   a report per category and per statement.

pub mod bless;
pub mod canary;
pub mod case;
pub mod cases;
pub mod compare;
pub mod emulation;
pub mod executor;
pub mod manifest;
pub mod fixture;
pub mod harness;
pub mod implementation;
pub mod junit;
pub mod kit;
pub mod matrix;
pub mod nonce_vectors;
pub mod outcome;
pub mod probe;
pub mod report;
pub mod results;
pub mod runner;
pub mod sbpl_check;
pub mod spec;
pub mod vectors;

pub use case::{case, Case, CaseResult, Ctx, Platform, Requirement};
pub use outcome::{Class, ProbeResult};
