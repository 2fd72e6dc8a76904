//! Framing: a 4-byte big-endian length, then exactly that many payload bytes.
//!
//! ```text
//! [ len: u32 big-endian ][ payload: len bytes (JSON) ]
//! ```
//!
//! The payload is at most [`MAX_PAYLOAD`] bytes (64 KiB) in both directions: a writer
//! refuses to send more, and a reader refuses a larger length *before* reading or
//! allocating anything for it, so a hostile peer cannot make the supervisor reserve 4 GiB
//! by sending four bytes. The mediation socket uses the same framing with its own limit,
//! hence the `_limited` variants.

use super::error::{Error, Result};
use std::io::{ErrorKind, Read, Write};

/// Largest payload on the supervisor socket: 65536 bytes.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// Size of the length prefix.
pub const PREFIX_LEN: usize = 4;

/// The bytes of one frame carrying `payload` (at most [`MAX_PAYLOAD`]).
pub fn encode(payload: &[u8]) -> Result<Vec<u8>> {
    encode_limited(payload, MAX_PAYLOAD)
}

/// [`encode`] with another limit.
pub fn encode_limited(payload: &[u8], max: usize) -> Result<Vec<u8>> {
    let len = checked_len(payload.len(), max)?;
    let mut out = Vec::with_capacity(PREFIX_LEN + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

fn checked_len(len: usize, max: usize) -> Result<u32> {
    match u32::try_from(len) {
        Ok(n) if len <= max => Ok(n),
        _ => Err(Error::TooLarge {
            len: len as u64,
            max,
        }),
    }
}

/// Writes one frame (prefix and payload in a single write, so that a frame is never
/// interleaved with an fd message sent between two writes).
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> Result<()> {
    write_frame_limited(w, payload, MAX_PAYLOAD)
}

/// [`write_frame`] with another limit.
pub fn write_frame_limited(w: &mut impl Write, payload: &[u8], max: usize) -> Result<()> {
    let bytes = encode_limited(payload, max)?;
    w.write_all(&bytes)
        .map_err(|e| Error::io("writing a frame", e))?;
    w.flush().map_err(|e| Error::io("writing a frame", e))
}

/// Reads one frame's payload. A clean end of stream before the first byte is
/// [`Error::Closed`]; an end inside the frame is a truncation error.
pub fn read_frame(r: &mut impl Read) -> Result<Vec<u8>> {
    read_frame_limited(r, MAX_PAYLOAD)
}

/// [`read_frame`] with another limit.
pub fn read_frame_limited(r: &mut impl Read, max: usize) -> Result<Vec<u8>> {
    let mut prefix = [0u8; PREFIX_LEN];
    match read_full(r, &mut prefix)? {
        0 => return Err(Error::Closed),
        PREFIX_LEN => {}
        got => return Err(Error::TruncatedLength { got }),
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(Error::TooLarge {
            len: len as u64,
            max,
        });
    }
    // Only now, with the length checked, is the buffer allocated.
    let mut payload = vec![0u8; len];
    let got = read_full(r, &mut payload)?;
    if got < len {
        return Err(Error::TruncatedPayload { len, got });
    }
    Ok(payload)
}

/// Decodes the first frame of an in-memory byte string: its payload and the number of bytes
/// it took. Bytes after it are left for the next call.
pub fn decode(bytes: &[u8]) -> Result<(&[u8], usize)> {
    decode_limited(bytes, MAX_PAYLOAD)
}

/// [`decode`] with another limit.
pub fn decode_limited(bytes: &[u8], max: usize) -> Result<(&[u8], usize)> {
    if bytes.is_empty() {
        return Err(Error::Closed);
    }
    let Some(prefix) = bytes.get(..PREFIX_LEN) else {
        return Err(Error::TruncatedLength { got: bytes.len() });
    };
    let len = u32::from_be_bytes(prefix.try_into().expect("four bytes")) as usize;
    if len > max {
        return Err(Error::TooLarge {
            len: len as u64,
            max,
        });
    }
    let rest = &bytes[PREFIX_LEN..];
    match rest.get(..len) {
        Some(payload) => Ok((payload, PREFIX_LEN + len)),
        None => Err(Error::TruncatedPayload {
            len,
            got: rest.len(),
        }),
    }
}

/// Fills `buf` unless the stream ends first; returns how many bytes arrived.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("reading a frame", e)),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn round_trip_through_a_stream() {
        let mut wire = vec![];
        write_frame(&mut wire, b"{\"a\":1}").unwrap();
        write_frame(&mut wire, b"[]").unwrap();
        assert_eq!(&wire[..4], &[0, 0, 0, 7]);
        let mut r = Cursor::new(wire);
        assert_eq!(read_frame(&mut r).unwrap(), b"{\"a\":1}");
        assert_eq!(read_frame(&mut r).unwrap(), b"[]");
        assert!(matches!(read_frame(&mut r), Err(Error::Closed)));
    }

    #[test]
    fn exactly_the_limit_passes_one_more_is_refused_both_ways() {
        let at_limit = vec![b' '; MAX_PAYLOAD];
        let bytes = encode(&at_limit).unwrap();
        assert_eq!(
            read_frame(&mut Cursor::new(&bytes)).unwrap().len(),
            MAX_PAYLOAD
        );

        let over = vec![b' '; MAX_PAYLOAD + 1];
        assert!(matches!(
            encode(&over),
            Err(Error::TooLarge { len: 65537, .. })
        ));
        let mut sink = vec![];
        assert!(matches!(
            write_frame(&mut sink, &over),
            Err(Error::TooLarge { .. })
        ));
        assert!(
            sink.is_empty(),
            "nothing may be written for a refused frame"
        );
    }

    /// A reader that fails the test if more than the prefix is ever requested.
    struct PrefixOnly(Cursor<Vec<u8>>);
    impl Read for PrefixOnly {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            assert!(
                self.0.position() < 4,
                "the payload of an oversized frame was read"
            );
            let n = buf.len().min(4 - self.0.position() as usize);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn oversized_length_is_refused_without_reading_the_payload() {
        let mut r = PrefixOnly(Cursor::new(vec![0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
        let err = read_frame(&mut r).unwrap_err();
        assert!(
            matches!(
                err,
                Error::TooLarge {
                    len: 0xffff_ffff,
                    max: MAX_PAYLOAD
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn truncations_are_distinct_errors() {
        let err = read_frame(&mut Cursor::new(vec![0, 0])).unwrap_err();
        assert!(matches!(err, Error::TruncatedLength { got: 2 }), "{err}");
        let err = read_frame(&mut Cursor::new(vec![0, 0, 0, 9, b'{'])).unwrap_err();
        assert!(
            matches!(err, Error::TruncatedPayload { len: 9, got: 1 }),
            "{err}"
        );
        assert!(err.to_string().contains("1 of 9"), "{err}");
    }

    #[test]
    fn decode_reports_what_it_consumed() {
        let mut bytes = encode(b"12").unwrap();
        bytes.extend_from_slice(&[0, 0]);
        let (payload, used) = decode(&bytes).unwrap();
        assert_eq!((payload, used), (&b"12"[..], 6));
        assert!(matches!(
            decode(&bytes[used..]),
            Err(Error::TruncatedLength { got: 2 })
        ));
        assert!(matches!(decode(&[]), Err(Error::Closed)));
    }

    #[test]
    fn a_larger_limit_is_honoured() {
        let big = vec![b'x'; MAX_PAYLOAD + 10];
        let bytes = encode_limited(&big, 1 << 20).unwrap();
        assert!(matches!(decode(&bytes), Err(Error::TooLarge { .. })));
        assert_eq!(decode_limited(&bytes, 1 << 20).unwrap().0.len(), big.len());
    }
}
