//! Every case of the suite. Each module is one scenario family and returns its cases.

use crate::case::{Case, Platform, Requirement};

pub mod broker;
pub mod linux;
pub mod profiles;
pub mod macos;
pub mod seatbelt;
pub mod session_sockets;

/// The canary's IDs live with the canary ([`crate::canary`]).
pub use crate::canary::{canary_id, CANARY_ID, MACOS_CANARY_ID};

/// A scenario family: the platforms its cases are for, and what builds them.
type Family = (&'static [Platform], fn() -> Vec<Case>);

/// Every scenario family, in the suite's order.
const FAMILIES: &[Family] = &[
    (&[Platform::Linux], linux::all),
    (&[Platform::Any], profiles::cases),
    (&[Platform::Any], broker::cases),
    (&[Platform::MacOs], macos::all),
    (&[Platform::Any], seatbelt::cases),
    (&[Platform::Linux, Platform::MacOs], session_sockets::cases),
];

/// All cases, in a stable order.
pub fn all() -> Vec<Case> {
    FAMILIES.iter().flat_map(|(_, family)| family()).map(needs_landlock_on_linux).collect()
}

/// The cases of one platform's battery, in the order of [`all`], building only the families
/// that have some. The data-driven families read the fixtures' JSON; a suite test binary
/// lists its cases at every start, which under nextest is once per test, and used to parse
/// all of them only to keep its own platform's.
pub fn for_platform(platform: Platform) -> Vec<Case> {
    FAMILIES
        .iter()
        .filter(|(platforms, _)| platforms.contains(&platform))
        .flat_map(|(_, family)| family())
        .filter(|c| c.platform == platform)
        .map(needs_landlock_on_linux)
        .collect()
}

/// On a kernel without Landlock a conforming IUT refuses every `run` (CORE-APPLY-001), so
/// a Linux case there would fail for the kernel's reason, not the IUT's: every Linux case
/// needs ABI 1, except the canary (which then checks the refusal instead) and the cases
/// written for old kernels ([`Requirement::LandlockAbiBelow`]).
fn needs_landlock_on_linux(case: Case) -> Case {
    let for_old_kernels = case.requires.iter().any(|r| matches!(r, Requirement::LandlockAbiBelow(_)));
    let has_abi_requirement = case.requires.iter().any(|r| matches!(r, Requirement::LandlockAbi(_)));
    if case.platform != Platform::Linux || case.id == CANARY_ID || for_old_kernels || has_abi_requirement {
        return case;
    }
    case.requires(Requirement::LandlockAbi(1))
}
