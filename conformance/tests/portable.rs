//! The portable battery: data-driven cases that need no particular kernel (profile merge and
//! expansion vectors, wire formats, generated Seatbelt profiles). They run on every platform.
nono_conformance::battery_main!(nono_conformance::Platform::Any);
