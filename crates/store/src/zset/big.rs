//! The big encoding of a sorted set (OBJECT ENCODING "skiplist", Redis's name for it): a
//! member index for member → score in O(1), and an order-statistic B-tree for rank and
//! range queries in O(log n).
//!
//! Each member's bytes and score live once, in a block the index owns (`member.rs`); the
//! tree's entries are the score (kept beside the pointer, so searches by score touch no
//! member) and a pointer to that block. Per member that is one index node (16 bytes) and
//! its bucket, the block (12 bytes plus the member), and a 16-byte tree entry, against
//! Redis's dict entry, skiplist node and string header.

use super::member::{Member, RawMember};
use super::tree::{self, Entry, Tree};
use crate::dict::Dict;
use std::fmt;

pub(super) struct BigZSet {
    /// Owns the member blocks. Rule: an entry leaves `tree` before its block leaves here.
    index: Dict<Member, ()>,
    tree: Tree,
    /// Heap bytes of the member blocks.
    member_bytes: usize,
}

impl BigZSet {
    pub(super) fn new() -> BigZSet {
        BigZSet {
            index: Dict::new(),
            tree: Tree::new(),
            member_bytes: 0,
        }
    }

    pub(super) fn with_capacity(n: usize) -> BigZSet {
        let mut z = BigZSet::new();
        z.index.reserve(n);
        z
    }

    pub(super) fn len(&self) -> usize {
        self.tree.len()
    }

    pub(super) fn heap_size(&self) -> usize {
        self.index.memory_usage() + self.member_bytes + self.tree.heap_size()
    }

    pub(super) fn score(&self, member: &[u8]) -> Option<f64> {
        self.index.get_key_value(member).map(|(m, _)| m.score())
    }

    /// Adds `member` or moves it to `score`; true when it was added.
    pub(super) fn insert(&mut self, member: &[u8], score: f64) -> bool {
        if let Some((m, _)) = self.index.get_key_value(member) {
            let raw = m.raw();
            let old = m.score();
            // C's comparison, as Redis makes it: 0 and -0 are the same score.
            if old != score {
                self.tree.remove(old, member);
                // SAFETY: the block is alive (in the index) and we hold `&mut self`.
                unsafe { raw.set_score(score) };
                self.tree.insert(Entry { score, member: raw });
            }
            return false;
        }
        let block = Member::new(member, score);
        self.member_bytes += block.heap_size();
        let raw = block.raw();
        self.index.insert(block, ());
        self.tree.insert(Entry { score, member: raw });
        true
    }

    /// Removes `member`; its score if it was there.
    pub(super) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.score(member)?;
        self.tree.remove(score, member);
        let (block, ()) = self.index.remove(member).expect("indexed member");
        self.member_bytes -= block.heap_size();
        Some(score)
    }

    /// Removes the entries at ascending ranks `start..end`; returns how many.
    pub(super) fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let doomed: Vec<RawMember> = self
            .tree
            .iter_from(start, false)
            .take(end.saturating_sub(start))
            .map(|e| e.member)
            .collect();
        for raw in &doomed {
            // SAFETY: collected from the tree just now; each block is still owned by the
            // index until its own removal below.
            let member = unsafe { raw.bytes() };
            self.remove(member);
        }
        doomed.len()
    }

    /// The 0-based ascending rank of `member` and its score.
    pub(super) fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let score = self.score(member)?;
        let rank = self
            .tree
            .rank(score, member)
            .expect("indexed member is in the tree");
        Some((rank, score))
    }

    /// How many entries come before the first for which `before(score, member)` is false.
    pub(super) fn partition_point(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.tree.partition_point(|e| before(e.score, e.member()))
    }

    pub(super) fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.tree.get(rank).map(|e| (e.member(), e.score))
    }

    pub(super) fn iter_from(&self, rank: usize, reverse: bool) -> Iter<'_> {
        Iter {
            inner: self.tree.iter_from(rank, reverse),
            _set: self,
        }
    }

    /// One step of ZSCAN over the index; see `Dict::scan`.
    pub(super) fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        self.index.scan(cursor, |m, _| visit(m.bytes(), m.score()))
    }

    pub(super) fn random_entry(&self) -> Option<(&[u8], f64)> {
        self.index
            .random_entry()
            .map(|(m, _)| (m.bytes(), m.score()))
    }
}

/// Members and scores in order from a rank, borrowing the set.
pub(super) struct Iter<'a> {
    inner: tree::Iter<'a>,
    _set: &'a BigZSet,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        self.inner.next().map(|e| (e.member(), e.score))
    }
}

impl Clone for BigZSet {
    fn clone(&self) -> Self {
        let mut copy = BigZSet::with_capacity(self.len());
        for (member, score) in self.iter_from(0, false) {
            copy.insert(member, score);
        }
        copy
    }
}

impl fmt::Debug for BigZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter_from(0, false)
                    .map(|(m, s)| (String::from_utf8_lossy(m), s)),
            )
            .finish()
    }
}

#[cfg(test)]
impl BigZSet {
    pub(super) fn check(&self) {
        self.tree.check();
        assert_eq!(self.index.len(), self.tree.len());
        for (m, s) in self.iter_from(0, false) {
            assert_eq!(self.score(m), Some(s));
        }
    }
}
