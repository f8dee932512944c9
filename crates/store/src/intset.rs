//! The intset: Redis's compact encoding of a set whose members are all integers. The
//! members are kept sorted in one array, so membership is a binary search and iteration
//! yields them in ascending order (which is why SMEMBERS of such a set is sorted).
//!
//! Every element of the array has the same width, the smallest of 16, 32 or 64 bits that
//! holds them all. Adding a value that does not fit widens the whole array; removing never
//! narrows it again, as in Redis. `blob_len` is the size of Redis's serialized form (an
//! 8-byte header of width and count, then the little-endian elements), which RDB and
//! DUMP payloads carry.

use rand::RngExt;

/// The members, in ascending order, at the narrowest width that held every value added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intset {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl Default for Intset {
    fn default() -> Self {
        Intset::new()
    }
}

/// Runs `$body` with `$v` bound to the member vector, whatever its width.
macro_rules! each_width {
    ($set:expr, $v:ident => $body:expr) => {
        match $set {
            Intset::I16($v) => $body,
            Intset::I32($v) => $body,
            Intset::I64($v) => $body,
        }
    };
}

impl Intset {
    pub fn new() -> Self {
        Intset::I16(Vec::new())
    }

    pub fn len(&self) -> usize {
        each_width!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per element: 2, 4 or 8.
    pub fn width(&self) -> usize {
        match self {
            Intset::I16(_) => 2,
            Intset::I32(_) => 4,
            Intset::I64(_) => 8,
        }
    }

    /// Size of the serialized intset (header and elements).
    pub fn blob_len(&self) -> usize {
        8 + self.len() * self.width()
    }

    /// Redis's serialized intset (what RDB and DUMP carry): the element width and the
    /// count as 32-bit little-endian words, then the elements, little-endian.
    pub fn to_blob(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.blob_len());
        out.extend_from_slice(&(self.width() as u32).to_le_bytes());
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        each_width!(self, v => for n in v {
            out.extend_from_slice(&n.to_le_bytes());
        });
        out
    }

    /// Reads a serialized intset, checking its width, its length and that the elements
    /// ascend strictly (what every operation here relies on).
    pub fn from_blob(blob: &[u8]) -> Result<Intset, &'static str> {
        if blob.len() < 8 {
            return Err("intset too short");
        }
        let width = u32::from_le_bytes(blob[0..4].try_into().unwrap()) as usize;
        let count = u32::from_le_bytes(blob[4..8].try_into().unwrap()) as usize;
        let data = &blob[8..];
        if !matches!(width, 2 | 4 | 8) {
            return Err("intset width is not 2, 4 or 8");
        }
        if count.checked_mul(width) != Some(data.len()) {
            return Err("intset length does not match its size");
        }
        let chunks = data.chunks_exact(width);
        let set = match width {
            2 => Intset::I16(chunks.map(|c| i16::from_le_bytes([c[0], c[1]])).collect()),
            4 => Intset::I32(
                chunks
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            _ => Intset::I64(
                chunks
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
        };
        let ascending = each_width!(&set, v => v.windows(2).all(|w| w[0] < w[1]));
        if !ascending {
            return Err("intset elements are not strictly ascending");
        }
        Ok(set)
    }

    pub fn heap_size(&self) -> usize {
        each_width!(self, v => v.capacity()) * self.width()
    }

    pub fn contains(&self, n: i64) -> bool {
        self.position(n).is_ok()
    }

    /// The member at `index` (ascending order).
    pub fn get(&self, index: usize) -> Option<i64> {
        match self {
            Intset::I16(v) => v.get(index).map(|&x| i64::from(x)),
            Intset::I32(v) => v.get(index).map(|&x| i64::from(x)),
            Intset::I64(v) => v.get(index).copied(),
        }
    }

    pub fn min(&self) -> Option<i64> {
        self.get(0)
    }

    pub fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// A uniformly chosen member, None when empty.
    pub fn random(&self) -> Option<i64> {
        if self.is_empty() {
            return None;
        }
        self.get(rand::rng().random_range(0..self.len()))
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            set: self,
            front: 0,
            back: self.len(),
        }
    }

    /// Adds `n`; false if it was already a member. Widens the array if `n` needs it.
    pub fn insert(&mut self, n: i64) -> bool {
        if needed_width(n) > self.width() {
            self.widen(needed_width(n));
        }
        let Err(at) = self.position(n) else {
            return false;
        };
        // The width now holds `n`, so the casts below are exact.
        match self {
            Intset::I16(v) => v.insert(at, n as i16),
            Intset::I32(v) => v.insert(at, n as i32),
            Intset::I64(v) => v.insert(at, n),
        }
        true
    }

    /// Removes `n`; false if it was not a member.
    pub fn remove(&mut self, n: i64) -> bool {
        let Ok(at) = self.position(n) else {
            return false;
        };
        each_width!(self, v => {
            v.remove(at);
        });
        true
    }

    /// Removes the member at `index` and returns it.
    pub fn remove_at(&mut self, index: usize) -> i64 {
        match self {
            Intset::I16(v) => i64::from(v.remove(index)),
            Intset::I32(v) => i64::from(v.remove(index)),
            Intset::I64(v) => v.remove(index),
        }
    }

    /// Where `n` is (Ok) or would be inserted (Err). A value wider than the array cannot be
    /// in it; it would go before every member if negative, after them if positive.
    fn position(&self, n: i64) -> Result<usize, usize> {
        if needed_width(n) > self.width() {
            return Err(if n < 0 { 0 } else { self.len() });
        }
        match self {
            Intset::I16(v) => v.binary_search(&(n as i16)),
            Intset::I32(v) => v.binary_search(&(n as i32)),
            Intset::I64(v) => v.binary_search(&n),
        }
    }

    fn widen(&mut self, width: usize) {
        let values: Vec<i64> = self.iter().collect();
        *self = match width {
            4 => Intset::I32(values.into_iter().map(|x| x as i32).collect()),
            _ => Intset::I64(values),
        };
    }
}

/// The narrowest element width (in bytes) that holds `n`.
fn needed_width(n: i64) -> usize {
    if i16::try_from(n).is_ok() {
        2
    } else if i32::try_from(n).is_ok() {
        4
    } else {
        8
    }
}

/// The members in ascending order.
pub struct Iter<'a> {
    set: &'a Intset,
    front: usize,
    back: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        self.set.get(self.front - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<i64> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        self.set.get(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn widens_and_stays_sorted() {
        let mut s = Intset::new();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), [i64::MIN, -3, 5, 70_000]);
        assert!(s.remove(i64::MIN));
        assert_eq!(s.width(), 8, "removing never narrows");
        assert_eq!(s.blob_len(), 8 + 3 * 8);
        assert!(!s.contains(i64::MAX));
        assert_eq!((s.min(), s.max()), (Some(-3), Some(70_000)));
    }

    #[test]
    fn wide_values_are_not_found_in_narrow_sets() {
        let mut s = Intset::new();
        s.insert(1);
        assert!(!s.contains(1 << 40));
        assert!(!s.contains(-(1 << 40)));
        assert!(!s.remove(1 << 40));
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec(
            (any::<bool>(), prop_oneof![any::<i16>().prop_map(i64::from),
                                        any::<i32>().prop_map(i64::from),
                                        any::<i64>()]), 0..200)) {
            let mut s = Intset::new();
            let mut model = BTreeSet::new();
            for (add, n) in ops {
                if add {
                    prop_assert_eq!(s.insert(n), model.insert(n));
                } else {
                    prop_assert_eq!(s.remove(n), model.remove(&n));
                }
                prop_assert_eq!(s.len(), model.len());
            }
            prop_assert_eq!(s.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(s.iter().rev().collect::<Vec<_>>(), model.iter().rev().copied().collect::<Vec<_>>());
            for n in &model {
                prop_assert!(s.contains(*n));
            }
        }
    }
}
