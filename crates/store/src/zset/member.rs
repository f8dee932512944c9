//! A member of a big sorted set: its bytes and its score in one heap block,
//! `[score: f64][len: u32][bytes]`, behind a thin (8-byte) pointer.
//!
//! The member index (a `Dict`) owns each block through a [`Member`]; the score-ordered tree
//! holds [`RawMember`] copies of the same pointer. So a member's bytes are stored once, and
//! ZSCORE reads the score from the block the index finds. The owner of both structures
//! (`BigZSet`) keeps the rule that makes this sound: a tree entry is removed before the index
//! drops its block, and a block is never freed while the tree still names it.

use std::alloc::{self, Layout};
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ptr::NonNull;
use std::{fmt, mem, slice};

const SCORE: usize = 0;
const LEN: usize = mem::size_of::<f64>();
const BYTES: usize = LEN + mem::size_of::<u32>();

/// A non-owning handle on a member block. Reading through it is valid while the block's
/// owning [`Member`] is alive (see the module documentation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct RawMember(NonNull<u8>);

// SAFETY: a block is plain bytes with no interior mutability reachable through a shared
// handle (`set_score` needs the owner's exclusive access); it is as thread-safe as Box<[u8]>.
unsafe impl Send for RawMember {}
unsafe impl Sync for RawMember {}

impl RawMember {
    fn layout(len: usize) -> Layout {
        Layout::from_size_align(BYTES + len, mem::align_of::<f64>()).expect("member layout")
    }

    /// The member's score.
    ///
    /// # Safety
    /// The owning [`Member`] must be alive.
    pub(super) unsafe fn score(self) -> f64 {
        // SAFETY: the block is alive and starts with an aligned f64.
        unsafe { self.0.as_ptr().add(SCORE).cast::<f64>().read() }
    }

    /// The member's bytes.
    ///
    /// # Safety
    /// The owning [`Member`] must be alive for `'a`, and its score not written meanwhile
    /// through another handle (the bytes and the score do not overlap, so reading bytes
    /// while the score changes is fine).
    pub(super) unsafe fn bytes<'a>(self) -> &'a [u8] {
        // SAFETY: the block holds `len` initialised bytes after its header.
        unsafe {
            let len = self.0.as_ptr().add(LEN).cast::<u32>().read() as usize;
            slice::from_raw_parts(self.0.as_ptr().add(BYTES), len)
        }
    }

    /// Stores a new score in the block.
    ///
    /// # Safety
    /// The owning [`Member`] must be alive, and the caller must have exclusive access to the
    /// structure holding it (no concurrent reader of the score).
    pub(super) unsafe fn set_score(self, score: f64) {
        // SAFETY: the block is alive, aligned, and nobody else reads it right now.
        unsafe { self.0.as_ptr().add(SCORE).cast::<f64>().write(score) }
    }
}

/// The owning handle on a member block: frees it on drop. Hashes and compares as its
/// bytes, so a `Dict<Member, ()>` is looked up with a plain `&[u8]`.
pub(super) struct Member(RawMember);

impl Member {
    pub(super) fn new(bytes: &[u8], score: f64) -> Member {
        let len = u32::try_from(bytes.len()).expect("member longer than 4 GB");
        let layout = RawMember::layout(bytes.len());
        // SAFETY: the layout has a non-zero size (the header); every byte is written below
        // before the block is read.
        unsafe {
            let ptr = alloc::alloc(layout);
            let Some(ptr) = NonNull::new(ptr) else {
                alloc::handle_alloc_error(layout)
            };
            ptr.as_ptr().add(SCORE).cast::<f64>().write(score);
            ptr.as_ptr().add(LEN).cast::<u32>().write(len);
            ptr.as_ptr()
                .add(BYTES)
                .copy_from_nonoverlapping(bytes.as_ptr(), bytes.len());
            Member(RawMember(ptr))
        }
    }

    pub(super) fn raw(&self) -> RawMember {
        self.0
    }

    pub(super) fn bytes(&self) -> &[u8] {
        // SAFETY: `self` owns the block, alive for the borrow.
        unsafe { self.0.bytes() }
    }

    pub(super) fn score(&self) -> f64 {
        // SAFETY: as above.
        unsafe { self.0.score() }
    }

    /// Bytes the block takes on the heap.
    pub(super) fn heap_size(&self) -> usize {
        BYTES + self.bytes().len()
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let layout = RawMember::layout(self.bytes().len());
        // SAFETY: allocated in `new` with this layout, and dropped once.
        unsafe { alloc::dealloc(self.0 .0.as_ptr(), layout) }
    }
}

impl Borrow<[u8]> for Member {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

impl Hash for Member {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same as hashing the `[u8]` it borrows as, as `Borrow` requires.
        self.bytes().hash(state)
    }
}

impl PartialEq for Member {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for Member {}

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?}={}",
            String::from_utf8_lossy(self.bytes()),
            self.score()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_round_trip() {
        for bytes in [&b""[..], b"a", b"member:123456", &[7u8; 300]] {
            let m = Member::new(bytes, 1.5);
            assert_eq!(m.bytes(), bytes);
            assert_eq!(m.score(), 1.5);
            // SAFETY: `m` is alive and not shared.
            unsafe { m.raw().set_score(-2.0) };
            assert_eq!(m.score(), -2.0);
            assert_eq!(unsafe { m.raw().bytes() }, bytes);
        }
    }
}
