//! Every case of the suite. Each module is one scenario family and returns its cases.

use crate::case::Case;

pub mod broker;
pub mod linux;
pub mod profiles;
pub mod macos;
pub mod seatbelt;
pub mod session_sockets;

/// The canary's ID: it runs without waiting for its own verdict.
pub const CANARY_ID: &str = "linux.canary.enforcement_is_real";

/// The macOS canary's ID.
pub const MACOS_CANARY_ID: &str = "macos.canary.enforcement_is_real";

/// The canary that `platform`'s sandbox cases wait for.
pub fn canary_id(platform: crate::case::Platform) -> &'static str {
    match platform {
        crate::case::Platform::MacOs => MACOS_CANARY_ID,
        _ => CANARY_ID,
    }
}

/// All cases, in a stable order.
pub fn all() -> Vec<Case> {
    let mut out = vec![];
    out.extend(linux::all());
    out.extend(profiles::cases());
    out.extend(broker::cases());
    out.extend(macos::all());
    out.extend(seatbelt::cases());
    out.extend(session_sockets::cases());
    out
}
