//! Seatbelt (macOS) profiles, generated and learned in platform-neutral code.
//!
//! Everything here is plain string work, compiled and tested on every platform: only
//! applying a profile needs a Mac (see `sandbox::seatbelt`, built on macOS only).
//!
//! # SBPL in five minutes
//!
//! macOS enforces sandbox profiles written in SBPL, a small Scheme dialect. A profile is a
//! list of forms, one per line here:
//!
//! ```text
//! (version 1)                                   ; always first
//! (deny default)                                ; whatever no rule allows is denied
//! (allow file-read* (subpath "/Users/a/work"))  ; an operation family and a filter
//! (deny file-read-data (literal "/Users/a/work/.env"))
//! ```
//!
//! * An **operation** names what is checked: `file-read-data`, `file-write-create`,
//!   `mach-lookup`, `network-outbound`, ... A trailing `*` names a family
//!   (`file-read*` is every file read operation).
//! * A **filter** says which objects a rule is about: `(literal "/p")` is exactly that path,
//!   `(subpath "/d")` is the directory and everything beneath it, `(regex "^...$")` a POSIX
//!   regular expression, `(global-name "svc")` a Mach service, `(remote tcp "localhost:8080")`
//!   a network peer. Strings escape `\` and `"` with a backslash.
//! * **The last matching rule wins.** That is why the profile starts with `(deny default)`,
//!   grants after it, and puts targeted denies (sensitive paths) after the grants they
//!   carve holes into.
//! * Paths are matched as the kernel resolves them: `/tmp/x` is checked as `/private/tmp/x`.
//!   Rules therefore name the resolved path, and the path as given when it differs.
//!
//! # Emission order (core-spec SB-01, SPEC.md section "macOS Seatbelt")
//!
//! 1. `(version 1)`, `(deny default)`, optionally `(debug deny)`;
//! 2. the base every program needs: fork (executing is per grant, below), process info,
//!    sysctl reads, Mach lookups (minus the keychain daemons unless a keychain database is
//!    granted), POSIX shared memory, signals, `system-fsctl`/`system-info`, and reading `/`
//!    itself;
//! 3. `file-read-metadata` on every ancestor directory of a granted path (a set: its order is
//!    not defined);
//! 4. per grant: `file-map-executable` and `process-exec*` (read grants: executing follows
//!    reading, as Landlock's Execute right does on Linux), `file-ioctl` (after three fixed
//!    terminal rules), `pseudo-tty`, `file-read*` (read grants), the optional extension
//!    rules, `file-write*` (write grants);
//! 5. sensitive-path denies, last among file rules so that they win;
//! 6. the network block: allow-all, blocked, or proxy-only.
//!
//! # Modules
//!
//! * [`sbpl`]: the generator, from a [`crate::CapabilitySet`] plus [`SeatbeltOptions`].
//! * [`options`]: the macOS-only [`SeatbeltOptions`] (network mode, scopes, socket grants,
//!   deny paths).
//! * [`literal`]: paths and strings as SBPL literals, and [`SbplError`] for what cannot be
//!   written faithfully.
//! * [`paths`]: resolving paths the macOS way without a Mac (the `/tmp` → `/private/tmp`
//!   table), for `nono-ref sandbox-profile` on other hosts.
//! * [`log`]: turns a kernel deny record into the `(allow ...)` rule that would have allowed it.
//! * [`learn`]: splices learned rules into a profile that used to `(allow default)`.

pub mod learn;
pub mod literal;
pub mod log;
pub mod options;
pub mod paths;
pub mod sbpl;

pub use literal::SbplError;
pub use options::{
    DenyPath, NetworkMode, ProcessInfoMode, SeatbeltOptions, SocketMode, SocketScope, UnixSocketGrant,
};
pub use sbpl::generate;
