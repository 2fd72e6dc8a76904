//! Supervisor socket wire vectors (`fixtures/ipc/*.json`), decoded with the reference's
//! decoder: each vector's bytes are decoded as one frame and parsed as a message of its
//! direction, and the outcome class (the message type, or the error kind) must match.
//!
//! The vectors are language-neutral: another implementation's decoder can be held to the
//! same file. Segments are `{"hex": ".."}` or `{"text": ".."}`, optionally with `"repeat": N`.

use crate::vectors::decode_hex;
use crate::case::{Case, CaseResult, Ctx};
use crate::vectors::{self, Vector};
use nono_reference::ipc::message;
use serde_json::Value;

/// One portable case per vector.
pub fn cases() -> Vec<Case> {
    // The vectors check the reference's decoder (the IUT has no decoder interface).
    vectors::cases("ipc", "ipc.wire", check).into_iter().map(|c| c.requires(crate::case::Requirement::ReferenceLibrary)).collect()
}

/// The byte stream a vector describes.
pub fn stream_bytes(vector: &Vector) -> Result<Vec<u8>, String> {
    let where_ = || format!("{} vector {}", vector.file.display(), vector.id);
    let segments = vector.data["frame"]
        .as_array()
        .ok_or_else(|| format!("{}: no frame array", where_()))?;
    let mut out = vec![];
    for (i, seg) in segments.iter().enumerate() {
        let repeat = seg
            .get("repeat")
            .map_or(Some(1), Value::as_u64)
            .ok_or_else(|| format!("{}: segment {i}: bad repeat", where_()))?;
        let bytes = match (
            seg.get("hex").and_then(Value::as_str),
            seg.get("text").and_then(Value::as_str),
        ) {
            (Some(hex), None) => {
                decode_hex(hex).map_err(|e| format!("{}: segment {i}: {e}", where_()))?
            }
            (None, Some(text)) => text.as_bytes().to_vec(),
            _ => {
                return Err(format!(
                    "{}: segment {i} needs exactly one of hex, text",
                    where_()
                ))
            }
        };
        for _ in 0..repeat {
            out.extend_from_slice(&bytes);
        }
    }
    Ok(out)
}


fn check(_cx: &Ctx, vector: &Vector) -> CaseResult {
    let bytes = stream_bytes(vector)?;
    let outcome = match vector.data["direction"].as_str() {
        Some("to_supervisor") => message::decode_to_supervisor(&bytes).map(|m| m.type_name()),
        Some("to_child") => message::decode_to_child(&bytes).map(|m| m.type_name()),
        other => return Err(format!("vector {}: unknown direction {other:?}", vector.id)),
    };
    let expect = &vector.data["expect"];
    match (outcome, expect["ok"].as_str(), expect["error"].as_str()) {
        (Ok(got), Some(want), None) if got == want => Ok(()),
        (Err(e), None, Some(want)) if e.kind() == want => Ok(()),
        (Ok(got), _, _) => Err(format!(
            "{} bytes decoded as a {got} message; expected {expect}",
            bytes.len()
        )),
        (Err(e), _, _) => Err(format!(
            "{} bytes failed with {} ({e}); expected {expect}",
            bytes.len(),
            e.kind()
        )),
    }
}
