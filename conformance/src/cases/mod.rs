//! Every case of the suite. Each module is one scenario family and returns its cases.

use crate::case::Case;

pub mod linux;
pub mod seatbelt;

/// The canary's ID: it runs without waiting for its own verdict.
pub const CANARY_ID: &str = "linux.canary.enforcement_is_real";

/// All cases, in a stable order.
pub fn all() -> Vec<Case> {
    let mut out = vec![];
    out.extend(linux::all());
    out.extend(seatbelt::cases());
    out
}
