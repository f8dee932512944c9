//! The bytes of a listpack behind one thin pointer.
//!
//! A listpack starts with its own total size (4 bytes, little-endian), so the length need
//! not be stored beside the pointer: a `LpBuf` is 8 bytes where a `Vec<u8>` is 24. That
//! is what lets a small hash live inside its keyspace `Value` without a box of its own.
//! The allocation is always exactly as long as the header says (a listpack grows by what
//! it needs, as Redis's realloc does).
//!
//! Soundness rule: the header is the allocation's size, which deallocation and
//! reallocation trust. So the header is written only by `new` (from a checked length)
//! and `resize`; `slice_mut` and `copy_within` refuse ranges that touch it.

use std::alloc::{self, Layout};
use std::ops::Range;
use std::ptr::NonNull;

/// Size of the length header at the start of the bytes.
const LEN: usize = 4;

pub(crate) struct LpBuf {
    ptr: NonNull<u8>,
}

// SAFETY: an `LpBuf` owns its allocation exclusively, like a `Box<[u8]>`.
unsafe impl Send for LpBuf {}
// SAFETY: shared access only reads.
unsafe impl Sync for LpBuf {}

fn layout(len: usize) -> Layout {
    Layout::array::<u8>(len).expect("a listpack fits in memory")
}

impl LpBuf {
    /// A buffer holding `bytes`, whose first four bytes must be their length.
    pub(crate) fn new(bytes: &[u8]) -> LpBuf {
        let len = bytes.len();
        assert!(
            len >= LEN && len <= u32::MAX as usize,
            "listpack size out of range"
        );
        assert_eq!(
            u32::from_le_bytes(bytes[..LEN].try_into().expect("four bytes")) as usize,
            len,
            "listpack size header does not match its length"
        );
        // SAFETY: `len` is at least 4, so the layout is not zero-sized.
        let raw = unsafe { alloc::alloc(layout(len)) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout(len))
        };
        // SAFETY: `ptr` is a fresh allocation of `len` bytes; `bytes` cannot overlap it.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.as_ptr(), len) };
        LpBuf { ptr }
    }

    pub(crate) fn len(&self) -> usize {
        let mut header = [0u8; LEN];
        // SAFETY: the allocation is at least `LEN` bytes (checked by `new`, kept by
        // `resize`).
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), header.as_mut_ptr(), LEN) };
        u32::from_le_bytes(header) as usize
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the header is the allocation's size, and the bytes are initialized
        // (`new` copies them all, `resize` zeroes what it adds).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len()) }
    }

    fn as_mut_full(&mut self) -> &mut [u8] {
        let len = self.len();
        // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), len) }
    }

    /// The bytes in `range`, which must not include the length header.
    pub(crate) fn slice_mut(&mut self, range: Range<usize>) -> &mut [u8] {
        assert!(
            range.start >= LEN,
            "the length header is written only by resize"
        );
        &mut self.as_mut_full()[range]
    }

    /// Copies `src` to `dest` within the buffer, as `slice::copy_within`, away from the
    /// length header.
    pub(crate) fn copy_within(&mut self, src: Range<usize>, dest: usize) {
        assert!(
            src.start >= LEN && dest >= LEN,
            "the length header is written only by resize"
        );
        self.as_mut_full().copy_within(src, dest);
    }

    /// Makes the buffer `new_len` bytes long (new bytes are zero) and records the length in
    /// the header.
    pub(crate) fn resize(&mut self, new_len: usize) {
        assert!(
            (LEN..=u32::MAX as usize).contains(&new_len),
            "listpack size out of range"
        );
        let old_len = self.len();
        if new_len == old_len {
            return;
        }
        // SAFETY: `ptr` was allocated with `layout(old_len)` (the header is kept equal to
        // the allocation size) and `new_len` is non-zero.
        let raw = unsafe { alloc::realloc(self.ptr.as_ptr(), layout(old_len), new_len) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout(new_len))
        };
        self.ptr = ptr;
        if new_len > old_len {
            // SAFETY: the allocation is now `new_len` bytes; zero the part realloc added.
            unsafe { ptr.as_ptr().add(old_len).write_bytes(0, new_len - old_len) };
        }
        let header = (new_len as u32).to_le_bytes();
        // SAFETY: at least `LEN` bytes are allocated.
        unsafe { std::ptr::copy_nonoverlapping(header.as_ptr(), ptr.as_ptr(), LEN) };
    }
}

impl Drop for LpBuf {
    fn drop(&mut self) {
        // SAFETY: allocated with `layout(self.len())`, as the header always says.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), layout(self.len())) }
    }
}

impl Clone for LpBuf {
    fn clone(&self) -> LpBuf {
        LpBuf::new(self.as_slice())
    }
}

impl PartialEq for LpBuf {
    fn eq(&self, other: &LpBuf) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for LpBuf {}

impl std::fmt::Debug for LpBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl std::ops::Deref for LpBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + LEN) as u32).to_le_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn grows_and_shrinks_keeping_the_header_true() {
        let mut b = LpBuf::new(&with_header(b"abc"));
        assert_eq!(b.len(), 7);
        assert_eq!(&b[LEN..], b"abc");
        b.resize(1000);
        assert_eq!(b.len(), 1000);
        assert_eq!(&b[LEN..7], b"abc");
        assert!(b[7..].iter().all(|&x| x == 0));
        b.slice_mut(900..903).copy_from_slice(b"xyz");
        b.copy_within(900..903, 4);
        assert_eq!(&b[LEN..7], b"xyz");
        b.resize(5);
        assert_eq!(&b[..], &with_header(b"x")[..]);
        let c = b.clone();
        assert_eq!(c, b);
        assert_eq!(std::mem::size_of::<LpBuf>(), 8);
        assert_eq!(std::mem::size_of::<Option<LpBuf>>(), 8);
    }

    #[test]
    #[should_panic(expected = "written only by resize")]
    fn the_header_cannot_be_written_directly() {
        let mut b = LpBuf::new(&with_header(b"abc"));
        b.slice_mut(0..4);
    }

    #[test]
    #[should_panic(expected = "does not match")]
    fn a_wrong_header_is_refused() {
        LpBuf::new(b"\x09\0\0\0abc");
    }
}
