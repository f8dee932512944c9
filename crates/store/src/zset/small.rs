//! The small encoding of a sorted set: one listpack of `member, score` entry pairs in
//! ascending (score, member) order, as Redis lays it out. Scores are stored as text that
//! reads back to the same double — integral scores as listpack integers — so reading a
//! score parses it, as Redis does; at up to `zset-max-listpack-entries` members the linear
//! walks cost less than the pointers a tree would need.

use crate::listpack::{Listpack, LpValue};
use std::io::Write;

/// The bytes a score is stored as: the integer text of integral scores that a double
/// holds exactly (stored as listpack integers), else the shortest text that reads back
/// to the same double. -0 is stored as the integer 0, as Redis's listpack stores the
/// text "-0" it is given (so a small set loses the sign; a big one keeps it).
pub(super) fn score_text(score: f64, buf: &mut [u8; 32]) -> &[u8] {
    let mut out = &mut buf[..];
    let room = out.len();
    let exact_int = score.fract() == 0.0 && score.abs() < (1u64 << 53) as f64;
    let written = if exact_int {
        write!(out, "{}", score as i64)
    } else if score.is_infinite() {
        write!(out, "{}", if score > 0.0 { "inf" } else { "-inf" })
    } else if (1e-4..1e16).contains(&score.abs()) {
        write!(out, "{score}")
    } else {
        write!(out, "{score:e}")
    };
    written.expect("a double's text fits 32 bytes");
    let len = room - out.len();
    &buf[..len]
}

/// A stored score read back.
pub(super) fn score_of(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(n) => n as f64,
        LpValue::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
    }
}

/// The score of the pair whose member is at `pos`.
pub(super) fn score_after(lp: &Listpack, pos: usize) -> f64 {
    score_of(lp.get(lp.next(pos).expect("a member has a score")))
}

/// The position of `member`'s entry and its score.
pub(super) fn find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    let pos = lp.find(member, 1)?;
    Some((pos, score_after(lp, pos)))
}

/// Visits the pairs in order from the first: (member position, member, score), until
/// `visit` returns false.
fn walk(lp: &Listpack, mut visit: impl FnMut(usize, &[u8], f64) -> bool) {
    let mut digits = itoa::Buffer::new();
    let mut pos = lp.first();
    while let Some(p) = pos {
        let score_pos = lp.next(p).expect("a member has a score");
        let member = lp.get(p);
        if !visit(p, member.as_bytes(&mut digits), score_of(lp.get(score_pos))) {
            return;
        }
        pos = lp.next(score_pos);
    }
}

/// Inserts a member that is not in the listpack at its place in the order.
pub(super) fn insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let mut at = lp.total_bytes() - 1;
    walk(lp, |pos, m, s| {
        let after = s > score || (s == score && m > member);
        if after {
            at = pos;
        }
        !after
    });
    let mut buf = [0u8; 32];
    // Score first, then the member in front of it.
    lp.insert(at, score_text(score, &mut buf));
    lp.insert(at, member);
}

/// Deletes the pair whose member is at `pos`.
pub(super) fn delete_pair(lp: &mut Listpack, pos: usize) {
    let score_pos = lp.delete(pos).expect("a member has a score");
    lp.delete(score_pos);
}

/// The 0-based ascending rank of `member` and its score.
pub(super) fn rank(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    let mut found = None;
    let mut rank = 0;
    walk(lp, |_, m, s| {
        if m == member {
            found = Some((rank, s));
            return false;
        }
        rank += 1;
        true
    });
    found
}

/// How many pairs come before the first for which `before` is false.
pub(super) fn partition_point(lp: &Listpack, before: impl Fn(f64, &[u8]) -> bool) -> usize {
    let mut n = 0;
    walk(lp, |_, m, s| {
        let b = before(s, m);
        n += usize::from(b);
        b
    });
    n
}

/// Pairs in order from a rank, up or down.
pub(super) struct Iter<'a> {
    lp: &'a Listpack,
    /// The next member's position.
    pos: Option<usize>,
    reverse: bool,
}

impl<'a> Iter<'a> {
    pub(super) fn new(lp: &'a Listpack, rank: usize, reverse: bool) -> Iter<'a> {
        let pos = i64::try_from(rank)
            .ok()
            .and_then(|r| r.checked_mul(2))
            .and_then(|index| lp.seek(index));
        Iter { lp, pos, reverse }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (LpValue<'a>, f64);

    fn next(&mut self) -> Option<(LpValue<'a>, f64)> {
        let pos = self.pos?;
        let score_pos = self.lp.next(pos).expect("a member has a score");
        self.pos = if self.reverse {
            self.lp.prev(pos).and_then(|p| self.lp.prev(p))
        } else {
            self.lp.next(score_pos)
        };
        Some((self.lp.get(pos), score_of(self.lp.get(score_pos))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_texts_read_back() {
        let mut buf = [0u8; 32];
        for s in [
            0.0,
            1.0,
            -7.0,
            1.5,
            0.1,
            1e-300,
            -1.7976931348623157e308,
            9007199254740992.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            123456.789,
            5e-324,
        ] {
            let text = score_text(s, &mut buf);
            let back: f64 = std::str::from_utf8(text).unwrap().parse().unwrap();
            assert_eq!(back.to_bits(), s.to_bits(), "{s}");
        }
        assert_eq!(score_text(3.0, &mut buf), b"3");
        assert_eq!(score_text(-0.0, &mut buf), b"0");
    }
}
