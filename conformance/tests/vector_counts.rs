//! Data-vector families cannot shrink silently.
//!
//! Every vector in `fixtures/` becomes one case. A loader that starts skipping vectors
//! (a filter on "parses", a schema change the parser no longer follows) would leave the
//! suite green with fewer checks; these pins turn that into a failure naming the family.
//! When you add or remove vectors on purpose, update the number here in the same change.

use nono_conformance::{cases, vectors};
use std::collections::BTreeSet;

/// (case-ID prefix, fixture area, number of vectors = number of cases).
const FAMILIES: &[(&str, &str, usize)] = &[
    ("broker.rewrite.", "nonce", 89),
    ("profile.expand.", "profiles/expand", 63),
    ("profile.invalid.", "profiles/invalid", 87),
    ("profile.merge.", "profiles/merge", 142),
    ("seatbelt.sbpl.", "seatbelt", 76),
    ("seatbelt.log.", "seatbelt-log", 55),
];

/// The nonce vectors that cannot travel through a real mediation session (bytes that are
/// not UTF-8, secrets with surrounding whitespace, secrets containing a nonce): they are
/// checked only by the library cases (`broker.rewrite.*`). Any other vector missing from
/// `linux.mediation.nonce.*` was dropped, not left out.
const NONCE_LEFT_TO_THE_LIBRARY: &[&str] = &[
    "secret-holding-a-nonce",
    "invalid-bytes-around",
    "lone-continuation-byte-before",
    "truncated-lead-byte-before",
    "truncated-lead-byte-after",
    "invalid-bytes-no-nonce",
    "env-no-rescan",
    "env-invalid-bytes-value",
    "env-dangerous-non-utf8-name",
    // `env.block` hides names from the agent only (MED-SRV-014, AGT-4), so the vectors that
    // expect a mediated command not to see a blocked name cannot run through mediation.
    "env-blocked-name",
    "env-blocked-several",
    "env-blocked-non-utf8-name",
    "env-blocked-case-sensitive",
];

fn case_ids_with(prefix: &str) -> BTreeSet<String> {
    cases::all().into_iter().map(|c| c.id).filter(|id| id.starts_with(prefix)).collect()
}

#[test]
fn every_vector_family_keeps_its_pinned_size() {
    let mut wrong = vec![];
    for &(prefix, area, pinned) in FAMILIES {
        let vectors = vectors::load(area).len();
        let cases = case_ids_with(prefix).len();
        if vectors != pinned || cases != pinned {
            wrong.push(format!("{prefix}* from fixtures/{area}: {vectors} vectors, {cases} cases, pinned {pinned}"));
        }
    }
    assert!(wrong.is_empty(), "vector families changed size (update the pin if on purpose):\n{}", wrong.join("\n"));
}

#[test]
fn every_nonce_vector_that_can_travel_runs_through_mediation() {
    let through_mediation: BTreeSet<String> = case_ids_with("linux.mediation.nonce.")
        .into_iter()
        .map(|id| id.trim_start_matches("linux.mediation.nonce.").to_string())
        .collect();
    let left_out: Vec<String> =
        vectors::load("nonce").into_iter().map(|v| v.id).filter(|id| !through_mediation.contains(id)).collect();
    assert_eq!(
        left_out,
        NONCE_LEFT_TO_THE_LIBRARY,
        "the nonce vectors left out of the black-box family changed: a vector that stops parsing disappears from it"
    );
    assert_eq!(through_mediation.len(), 76, "nonce vectors through mediation");
}
