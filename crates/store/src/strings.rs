//! String operations that commands build on, free of any protocol: byte ranges (GETRANGE,
//! SETRANGE), integer increments (INCR family), and the longest common subsequence (LCS).
//!
//! Ranges follow Redis's index rules: negative indexes count from the end, and a range is
//! clamped to the string rather than refused. LCS is the classic dynamic-programming table;
//! what makes it Redis-compatible is the walk back through the table, which must break ties
//! the same way Redis does so that `LCS ... IDX` names the same matches.

use crate::bytes::SmallBytes;
use crate::value::Value;

/// A string value stored whole, never integer-encoded ("embstr", or "raw" past 44 bytes):
/// how Redis stores the results of INCRBYFLOAT.
pub fn plain_string(bytes: &[u8]) -> Value {
    Value::Str {
        lru: 0,
        s: SmallBytes::new(bytes),
    }
}

/// The part of `s` between `start` and `end` inclusive (GETRANGE): negative indexes count
/// from the end, both ends are clamped to the string, an inverted range is empty.
pub fn range(s: &[u8], start: i64, end: i64) -> &[u8] {
    let len = s.len() as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return &[];
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.clamp(0, len - 1);
    if start > end {
        return &[];
    }
    &s[start as usize..=end as usize]
}

/// Writes `value` at `offset` (SETRANGE), padding with zero bytes if the string is shorter.
pub fn set_range(buf: &mut Vec<u8>, offset: usize, value: &[u8]) {
    let end = offset + value.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset..end].copy_from_slice(value);
}

/// `value + by`, or None when the result leaves the i64 range (INCR, INCRBY, DECR...).
pub fn increment(value: i64, by: i64) -> Option<i64> {
    value.checked_add(by)
}

/// One stretch of the LCS present in both strings: inclusive byte ranges in `a` and `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LcsMatch {
    pub a: (usize, usize),
    pub b: (usize, usize),
}

impl LcsMatch {
    /// Length of the stretch in bytes (WITHMATCHLEN).
    pub fn match_len(&self) -> usize {
        self.a.1 - self.a.0 + 1
    }
}

/// The LCS table of two strings: `table[i][j]` is the LCS length of `a[..i]` and `b[..j]`,
/// stored row by row in one allocation.
pub struct Lcs<'s> {
    a: &'s [u8],
    b: &'s [u8],
    table: Vec<u32>,
}

impl<'s> Lcs<'s> {
    /// Bytes of the table for strings of these lengths, or None when that overflows: the
    /// caller refuses work beyond its memory limit before calling `new`.
    pub fn table_bytes(a_len: usize, b_len: usize) -> Option<u64> {
        ((a_len as u64) + 1)
            .checked_mul((b_len as u64) + 1)?
            .checked_mul(4)
    }

    pub fn new(a: &'s [u8], b: &'s [u8]) -> Self {
        let width = b.len() + 1;
        let mut table = vec![0u32; (a.len() + 1) * width];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                table[i * width + j] = if a[i - 1] == b[j - 1] {
                    table[(i - 1) * width + j - 1] + 1
                } else {
                    table[(i - 1) * width + j].max(table[i * width + j - 1])
                };
            }
        }
        Lcs { a, b, table }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.table[i * (self.b.len() + 1) + j]
    }

    /// Length of the longest common subsequence.
    pub fn len(&self) -> usize {
        self.at(self.a.len(), self.b.len()) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Walks the table back from the end of both strings, calling `on_byte` with each byte
    /// of the LCS (last first) and `on_match` with each contiguous stretch (last first).
    /// On a mismatch the walk steps back in `a` only when that keeps a strictly longer
    /// LCS, else in `b`: Redis's tie-break, which decides which matches are reported.
    fn walk(&self, mut on_byte: impl FnMut(u8), mut on_match: impl FnMut(LcsMatch)) {
        let (mut i, mut j) = (self.a.len(), self.b.len());
        let mut current: Option<LcsMatch> = None;
        while i > 0 && j > 0 {
            if self.a[i - 1] == self.b[j - 1] {
                on_byte(self.a[i - 1]);
                // Matches met on the way back are contiguous with the current stretch,
                // since both indexes move back together.
                let m = current.get_or_insert(LcsMatch {
                    a: (i - 1, i - 1),
                    b: (j - 1, j - 1),
                });
                m.a.0 = i - 1;
                m.b.0 = j - 1;
                i -= 1;
                j -= 1;
                if i == 0 || j == 0 {
                    on_match(current.take().expect("a stretch is open"));
                }
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                if let Some(m) = current.take() {
                    on_match(m);
                }
            }
        }
    }

    /// The subsequence itself.
    pub fn string(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.walk(|b| out.push(b), |_| {});
        out.reverse();
        out
    }

    /// The matching stretches of at least `min_len` bytes, from the end of the strings
    /// backwards (the order Redis reports them in).
    pub fn matches(&self, min_len: usize) -> Vec<LcsMatch> {
        let mut out = Vec::new();
        self.walk(
            |_| {},
            |m| {
                if m.match_len() >= min_len {
                    out.push(m)
                }
            },
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_like_getrange() {
        let s = b"Hello, World";
        assert_eq!(range(s, 0, 4), b"Hello");
        assert_eq!(range(s, -5, -1), b"World");
        assert_eq!(range(s, 0, -1), s);
        assert_eq!(range(s, 5, 3), b"");
        assert_eq!(range(s, 0, 1000), s);
        assert_eq!(range(s, -1000, 2), b"Hel");
        assert_eq!(range(s, 100, 200), b"");
        assert_eq!(range(s, -1, -5), b"");
        assert_eq!(range(s, -100, -200), b"");
        assert_eq!(range(b"", 0, -1), b"");
        assert_eq!(range(s, i64::MIN, i64::MAX), s);
    }

    #[test]
    fn lcs_like_redis() {
        let lcs = Lcs::new(b"ohmytext", b"mynewtext");
        assert_eq!(lcs.string(), b"mytext");
        assert_eq!(lcs.len(), 6);
        let m = lcs.matches(0);
        assert_eq!(
            m,
            vec![
                LcsMatch {
                    a: (4, 7),
                    b: (5, 8)
                },
                LcsMatch {
                    a: (2, 3),
                    b: (0, 1)
                },
            ]
        );
        assert_eq!(lcs.matches(4).len(), 1);
        assert!(Lcs::new(b"", b"abc").is_empty());
        assert_eq!(Lcs::table_bytes(1, 1), Some(16));
    }

    /// The model SETRANGE/GETRANGE are checked against: plain Vec operations on
    /// non-negative, in-bounds indexes.
    fn model_setrange(model: &mut Vec<u8>, offset: usize, value: &[u8]) {
        while model.len() < offset + value.len() {
            model.push(0);
        }
        for (i, &b) in value.iter().enumerate() {
            model[offset + i] = b;
        }
    }

    fn model_range(model: &[u8], start: i64, end: i64) -> Vec<u8> {
        let len = model.len() as i64;
        let norm = |i: i64| if i < 0 { len + i } else { i };
        let (s, e) = (norm(start), norm(end));
        if start < 0 && end < 0 && start > end {
            return vec![];
        }
        (0..len)
            .filter(|&i| i >= s.max(0) && i <= e.max(0))
            .map(|i| model[i as usize])
            .collect()
    }

    proptest! {
        #[test]
        fn setrange_getrange_match_a_vec_model(
            ops in prop::collection::vec((0usize..64, prop::collection::vec(any::<u8>(), 0..16)), 0..20),
            start in -80i64..80,
            end in -80i64..80,
        ) {
            let mut buf = Vec::new();
            let mut model = Vec::new();
            for (offset, value) in &ops {
                if value.is_empty() {
                    continue; // SETRANGE with an empty value changes nothing.
                }
                set_range(&mut buf, *offset, value);
                model_setrange(&mut model, *offset, value);
            }
            prop_assert_eq!(&buf, &model);
            prop_assert_eq!(range(&buf, start, end), &model_range(&model, start, end)[..]);
        }

        #[test]
        fn lcs_string_is_a_common_subsequence(
            a in prop::collection::vec(0u8..4, 0..24),
            b in prop::collection::vec(0u8..4, 0..24),
        ) {
            let lcs = Lcs::new(&a, &b);
            let s = lcs.string();
            prop_assert_eq!(s.len(), lcs.len());
            let is_subsequence = |hay: &[u8]| {
                let mut it = hay.iter();
                s.iter().all(|c| it.any(|h| h == c))
            };
            prop_assert!(is_subsequence(&a) && is_subsequence(&b));
            let total: usize = lcs.matches(0).iter().map(|m| m.match_len()).sum();
            prop_assert_eq!(total, lcs.len());
        }
    }
}
