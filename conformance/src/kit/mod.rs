//! The suite kit: the plumbing every case shares, so that a case body reads as
//! "tree, run, op, expect" and nothing else.
//!
//! * [`spawn`]: one way to start a program (the IUT, the probe, the mediation client, a
//!   shim, a fake), always in its own process group and always with a deadline.
//! * [`wire`]: the suite's own framing (4-byte big-endian length) and `SCM_RIGHTS` code,
//!   shared by the probe, `nono-mediation-client`, the fake servers and the cases.
//! * [`expect`]: every outcome assertion.
//!
//! A case (see [`crate::case::Ctx`] for the tree and [`crate::runner::Run`] for the run):
//!
//! ```ignore
//! let secret = cx.fx.file("secret/key", "k");                 // tree
//! let r = cx.run().read(cx.fx.dir("granted")).op(Op::read(&secret))?;  // run, op
//! expect_denied(&r, "reading an ungranted file")?;            // expect
//! ```

pub mod expect;
pub mod spawn;
pub mod wire;

use std::path::Path;

/// A fixture path as a probe argument (fixture paths are UTF-8 by construction).
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("fixture paths are UTF-8")
}
