//! Fuzzes the supervisor socket's frame decoder and message parsers with arbitrary bytes.
//!
//! Invariants checked beyond "does not crash":
//! * the in-memory decoder and the stream reader agree on every input (same payload, or
//!   the same error kind);
//! * a frame never claims more than the limit, and a decoded frame fits in its input;
//! * whatever parses re-encodes to a frame that parses back to the same message.
//!
//! Run: `cargo +nightly fuzz run ipc_frame -- -max_total_time=60` (from the workspace root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nono_reference::ipc::{frame, message};

fuzz_target!(|data: &[u8]| {
    let decoded = frame::decode(data);
    let streamed = frame::read_frame(&mut &data[..]);
    match (&decoded, &streamed) {
        (Ok((payload, used)), Ok(read)) => {
            assert_eq!(*payload, &read[..], "decode and read_frame disagree on the payload");
            assert!(*used <= data.len() && payload.len() <= frame::MAX_PAYLOAD);
            assert_eq!(*used, frame::PREFIX_LEN + payload.len());
        }
        (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "decode and read_frame disagree on the error"),
        _ => panic!("decode and read_frame disagree: {decoded:?} vs {streamed:?}"),
    }

    // Both directions' parsers, on the framed payload and on the raw input.
    let payload = decoded.map(|(p, _)| p).unwrap_or(data);
    for bytes in [payload, data] {
        if let Ok(msg) = message::parse_to_supervisor(bytes) {
            let again = frame::encode(&message::to_payload(&msg)).expect("a parsed message re-encodes within the limit");
            assert_eq!(message::decode_to_supervisor(&again).expect("re-encoded message parses"), msg);
        }
        if let Ok(msg) = message::parse_to_child(bytes) {
            let again = frame::encode(&message::to_payload(&msg)).expect("a parsed message re-encodes within the limit");
            assert_eq!(message::decode_to_child(&again).expect("re-encoded message parses"), msg);
        }
    }
});
