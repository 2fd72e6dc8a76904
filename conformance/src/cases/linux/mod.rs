//! The Linux battery (Landlock). One module per scenario.

use crate::case::{case, Case};

mod fs_read;

/// All Linux cases.
pub fn all() -> Vec<Case> {
    let mut out = vec![case(super::CANARY_ID, "Enforcement is real: a write outside the grants is denied, one inside allowed", &["CORE-CANARY-001"], crate::canary::check)];
    out.extend(fs_read::cases());
    out
}
