//! A secret value held by the broker: never printed, overwritten with zeros when dropped.

use std::fmt;

/// The bytes of one captured secret.
///
/// The buffer is allocated once at its exact size and never grows, so no stale copy is left
/// behind in freed memory by a reallocation; on drop every byte is overwritten before the
/// allocator gets the memory back. `Debug` prints only the length.
pub(crate) struct Secret(Box<[u8]>);

impl Secret {
    /// Takes `value` over. The caller's buffer (including any spare capacity, which may hold
    /// older copies) is wiped once its content has been moved into an exact-size allocation.
    pub(crate) fn new(mut value: Vec<u8>) -> Secret {
        let kept: Box<[u8]> = value.as_slice().into();
        value.resize(value.capacity(), 0);
        wipe(&mut value);
        Secret(kept)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

/// Overwrites `bytes` with zeros in a way the optimiser may not remove as a dead store.
pub(crate) fn wipe(bytes: &mut [u8]) {
    for byte in bytes.iter_mut() {
        // SAFETY: `byte` is a valid, aligned, exclusive reference to one u8.
        unsafe { std::ptr::write_volatile(byte, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_length_only() {
        let secret = Secret::new(b"hunter2".to_vec());
        assert_eq!(format!("{secret:?}"), "Secret(<7 bytes redacted>)");
        assert_eq!(secret.bytes(), b"hunter2");
    }

    #[test]
    fn wipe_zeroes_every_byte() {
        let mut buf = *b"top secret";
        wipe(&mut buf);
        assert_eq!(buf, [0u8; 10]);
    }
}
