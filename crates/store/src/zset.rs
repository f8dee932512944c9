//! The sorted-set type: members with a double score, ordered by (score, member bytes).
//!
//! Two encodings, with Redis's names and conversion rules:
//! - **listpack** (`zset/small.rs`): `member, score` pairs in order in one listpack, while
//!   the set has at most `zset-max-listpack-entries` members of at most
//!   `zset-max-listpack-value` bytes. Adding a member that breaks either limit converts
//!   the set for good; only results built whole (ZRANGESTORE, ZUNIONSTORE...) are converted
//!   back, by [`ZSet::shrink_if_fits`].
//! - **skiplist** (`zset/big.rs`): a member index and an order-statistic B-tree
//!   (`zset/tree.rs`) over blocks that hold each member once (`zset/member.rs`).
//!
//! Scores are never NaN (callers refuse NaN before it gets here). Ranks are 0-based and
//! ascending; range queries are answered as a half-open range of ranks, which the caller
//! walks with [`ZSet::iter_from`] in either direction.

mod big;
mod member;
mod small;
mod tree;

use crate::listpack::Listpack;
pub use crate::listpack::LpValue;
use big::BigZSet;
use std::ops::Range;

/// Listpacks may not grow past this size (Redis's LISTPACK_MAX_SAFETY_SIZE).
const LISTPACK_SAFETY_SIZE: usize = 1 << 30;

/// The encoding thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

/// ZADD's conditions (NX XX GT LT) and INCR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What an add did, with the member's resulting score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// The member was there and keeps its score (an equal score, or INCR by 0).
    Unchanged(f64),
    /// The flags ruled the change out (NX on a member, XX on a non-member, GT/LT).
    Skipped,
    /// INCR made the score NaN (inf + -inf); nothing changed.
    Nan,
}

/// A score interval, as ZRANGEBYSCORE's `min max` arguments give it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_exclusive: bool,
    pub max_exclusive: bool,
}

impl ScoreRange {
    pub fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    pub fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }

    /// Whether no score can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_exclusive || self.max_exclusive))
    }
}

/// One end of a lexicographic range (ZRANGEBYLEX's `-`, `+`, `[x`, `(x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexBound<'a> {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Inclusive(&'a [u8]),
    Exclusive(&'a [u8]),
}

impl<'a> LexBound<'a> {
    pub fn parse(arg: &'a [u8]) -> Option<LexBound<'a>> {
        match arg {
            b"-" => Some(LexBound::Min),
            b"+" => Some(LexBound::Max),
            [b'[', rest @ ..] => Some(LexBound::Inclusive(rest)),
            [b'(', rest @ ..] => Some(LexBound::Exclusive(rest)),
            _ => None,
        }
    }
}

/// A lexicographic member range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexRange<'a> {
    pub min: LexBound<'a>,
    pub max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Option<LexRange<'a>> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    pub fn above_min(&self, member: &[u8]) -> bool {
        match self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(m) => member >= m,
            LexBound::Exclusive(m) => member > m,
        }
    }

    pub fn below_max(&self, member: &[u8]) -> bool {
        match self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(m) => member <= m,
            LexBound::Exclusive(m) => member < m,
        }
    }

    /// Whether no member can be in the range (`-`/`+` count as exclusive, as in Redis).
    pub fn is_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        let (min, min_exclusive) = lex_key(self.min);
        let (max, max_exclusive) = lex_key(self.max);
        match min.cmp(&max) {
            Greater => true,
            Equal => min_exclusive || max_exclusive,
            Less => false,
        }
    }
}

/// A bound as a comparable key (`-` < strings < `+`) and exclusiveness.
fn lex_key(b: LexBound<'_>) -> ((u8, &[u8]), bool) {
    match b {
        LexBound::Min => ((0, &[]), true),
        LexBound::Max => ((2, &[]), true),
        LexBound::Inclusive(m) => ((1, m), false),
        LexBound::Exclusive(m) => ((1, m), true),
    }
}

#[derive(Clone, Debug)]
enum Encoding {
    Listpack(Listpack),
    Skiplist(Box<BigZSet>),
}

/// A sorted-set value.
#[derive(Clone, Debug)]
pub struct ZSet {
    enc: Encoding,
}

impl Default for ZSet {
    fn default() -> Self {
        Self::new()
    }
}

impl ZSet {
    /// An empty set in the listpack encoding.
    pub fn new() -> Self {
        ZSet {
            enc: Encoding::Listpack(Listpack::new()),
        }
    }

    /// An empty set in the encoding Redis picks for `size_hint` members of at most
    /// `max_member_len` bytes (its zsetTypeCreate).
    pub fn with_hint(size_hint: usize, max_member_len: usize, limits: Limits) -> Self {
        if size_hint <= limits.max_entries && max_member_len <= limits.max_value {
            return ZSet::new();
        }
        ZSet {
            enc: Encoding::Skiplist(Box::new(BigZSet::with_capacity(size_hint))),
        }
    }

    /// A sorted set over a listpack of (member, score) pairs in (score, member) order,
    /// as RDB carries it (the caller checked order, distinctness and the limits).
    pub fn from_listpack(lp: Listpack) -> Self {
        ZSet {
            enc: Encoding::Listpack(lp),
        }
    }

    /// The listpack of a listpack-encoded set, for RDB's byte-for-byte copy.
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match &self.enc {
            Encoding::Listpack(lp) => Some(lp),
            Encoding::Skiplist(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.enc {
            Encoding::Listpack(lp) => lp.len() / 2,
            Encoding::Skiplist(z) => z.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.enc {
            Encoding::Listpack(lp) => lp.is_empty(),
            Encoding::Skiplist(z) => z.len() == 0,
        }
    }

    /// The encoding name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.enc {
            Encoding::Listpack(_) => "listpack",
            Encoding::Skiplist(_) => "skiplist",
        }
    }

    /// Heap bytes owned beyond the struct itself.
    pub fn heap_size(&self) -> usize {
        match &self.enc {
            Encoding::Listpack(lp) => lp.heap_size(),
            Encoding::Skiplist(z) => std::mem::size_of::<BigZSet>() + z.heap_size(),
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.enc {
            Encoding::Listpack(lp) => small::find(lp, member).map(|(_, s)| s),
            Encoding::Skiplist(z) => z.score(member),
        }
    }

    /// ZADD's core (Redis's zsetAdd): adds `member` with `score`, or changes its score,
    /// as `flags` allow. `score` is not NaN.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: Limits,
    ) -> AddOutcome {
        let Some(current) = self.score(member) else {
            if flags.xx {
                return AddOutcome::Skipped;
            }
            self.insert_new(member, score, limits);
            return AddOutcome::Added(score);
        };
        if flags.nx {
            return AddOutcome::Skipped;
        }
        let new = if flags.incr { current + score } else { score };
        if new.is_nan() {
            return AddOutcome::Nan;
        }
        if (flags.lt && new >= current) || (flags.gt && new <= current) {
            return AddOutcome::Skipped;
        }
        if new == current {
            return AddOutcome::Unchanged(current);
        }
        self.set_existing(member, new);
        AddOutcome::Updated(new)
    }

    /// Sets `member`'s score, adding it if needed; true when it was added.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> bool {
        match self.score(member) {
            None => {
                self.insert_new(member, score, limits);
                true
            }
            Some(current) => {
                if current != score {
                    self.set_existing(member, score);
                }
                false
            }
        }
    }

    fn insert_new(&mut self, member: &[u8], score: f64, limits: Limits) {
        if let Encoding::Listpack(lp) = &self.enc {
            let fits = self.len() < limits.max_entries
                && member.len() <= limits.max_value
                && lp.total_bytes() + member.len() + 64 <= LISTPACK_SAFETY_SIZE;
            if !fits {
                self.convert_to_big(self.len() + 1);
            }
        }
        match &mut self.enc {
            Encoding::Listpack(lp) => small::insert(lp, member, score),
            Encoding::Skiplist(z) => {
                z.insert(member, score);
            }
        }
    }

    fn set_existing(&mut self, member: &[u8], score: f64) {
        match &mut self.enc {
            Encoding::Listpack(lp) => {
                let (pos, _) = small::find(lp, member).expect("member present");
                small::delete_pair(lp, pos);
                small::insert(lp, member, score);
            }
            Encoding::Skiplist(z) => {
                z.insert(member, score);
            }
        }
    }

    /// Converts a listpack-encoded set to the skiplist encoding (a no-op when it already
    /// is): what Redis's SORT does to the sorted set it reads, destructively.
    pub fn convert_to_skiplist(&mut self) {
        if matches!(self.enc, Encoding::Listpack(_)) {
            self.convert_to_big(self.len());
        }
    }

    fn convert_to_big(&mut self, capacity: usize) {
        let mut big = BigZSet::with_capacity(capacity);
        for (member, score) in self.iter() {
            big.insert(member.as_bytes(&mut itoa::Buffer::new()), score);
        }
        self.enc = Encoding::Skiplist(Box::new(big));
    }

    /// Converts a skiplist-encoded set back to a listpack when it is within the limits:
    /// what Redis does with results it builds whole (ZRANGESTORE, ZUNIONSTORE...).
    pub fn shrink_if_fits(&mut self, limits: Limits) {
        let Encoding::Skiplist(z) = &self.enc else {
            return;
        };
        if z.len() > limits.max_entries {
            return;
        }
        let mut lp = Listpack::new();
        let mut buf = [0u8; 32];
        for (member, score) in z.iter_from(0, false) {
            if member.len() > limits.max_value {
                return;
            }
            lp.push_back(member);
            lp.push_back(small::score_text(score, &mut buf));
        }
        self.enc = Encoding::Listpack(lp);
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.enc {
            Encoding::Listpack(lp) => match small::find(lp, member) {
                Some((pos, _)) => {
                    small::delete_pair(lp, pos);
                    true
                }
                None => false,
            },
            Encoding::Skiplist(z) => z.remove(member).is_some(),
        }
    }

    /// `member`'s 0-based rank (from the highest score with `reverse`) and its score.
    pub fn rank(&self, member: &[u8], reverse: bool) -> Option<(usize, f64)> {
        let (rank, score) = match &self.enc {
            Encoding::Listpack(lp) => small::rank(lp, member)?,
            Encoding::Skiplist(z) => z.rank(member)?,
        };
        Some((if reverse { self.len() - 1 - rank } else { rank }, score))
    }

    /// How many members come before the first for which `before(score, member)` is false
    /// (`before` must hold for a prefix of the order).
    fn partition_point(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.enc {
            Encoding::Listpack(lp) => small::partition_point(lp, before),
            Encoding::Skiplist(z) => z.partition_point(before),
        }
    }

    /// The ascending ranks of the members whose scores are in `range`.
    pub fn score_ranks(&self, range: &ScoreRange) -> Range<usize> {
        if range.is_empty() {
            return 0..0;
        }
        let start = self.partition_point(|s, _| !range.above_min(s));
        let end = self.partition_point(|s, _| range.below_max(s) || !range.above_min(s));
        start..end.max(start)
    }

    /// The ascending ranks of the members in the lexicographic `range` (meaningful when
    /// all scores are equal, as in Redis).
    pub fn lex_ranks(&self, range: &LexRange<'_>) -> Range<usize> {
        if range.is_empty() {
            return 0..0;
        }
        let start = self.partition_point(|_, m| !range.above_min(m));
        let end = self.partition_point(|_, m| range.below_max(m) || !range.above_min(m));
        start..end.max(start)
    }

    /// Members and scores from ascending rank `rank`, upwards, or downwards with
    /// `reverse` (so `iter_from(len - 1, true)` starts at the highest score).
    pub fn iter_from(&self, rank: usize, reverse: bool) -> Iter<'_> {
        match &self.enc {
            Encoding::Listpack(lp) => Iter(IterInner::Small(small::Iter::new(lp, rank, reverse))),
            Encoding::Skiplist(z) => Iter(IterInner::Big(z.iter_from(rank, reverse))),
        }
    }

    /// Every member and score, ascending.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// The member at ascending rank `rank`.
    pub fn get_by_rank(&self, rank: usize) -> Option<(LpValue<'_>, f64)> {
        match &self.enc {
            Encoding::Listpack(_) => self.iter_from(rank, false).next(),
            Encoding::Skiplist(z) => z.get(rank).map(|(m, s)| (LpValue::Str(m), s)),
        }
    }

    /// Removes the members at ascending ranks `ranks`; returns how many went.
    pub fn remove_ranks(&mut self, ranks: Range<usize>) -> usize {
        let end = ranks.end.min(self.len());
        if ranks.start >= end {
            return 0;
        }
        match &mut self.enc {
            Encoding::Listpack(lp) => {
                let n = end - ranks.start;
                lp.delete_range(2 * ranks.start, 2 * n);
                n
            }
            Encoding::Skiplist(z) => z.remove_rank_range(ranks.start, end),
        }
    }

    /// Removes up to `count` members from the low (or, with `from_max`, the high) end,
    /// visiting each, lowest (highest) first, before it goes. Returns how many.
    pub fn pop(
        &mut self,
        count: usize,
        from_max: bool,
        mut visit: impl FnMut(LpValue<'_>, f64),
    ) -> usize {
        let n = count.min(self.len());
        if n == 0 {
            return 0;
        }
        let start = if from_max { self.len() - 1 } else { 0 };
        for (member, score) in self.iter_from(start, from_max).take(n) {
            visit(member, score);
        }
        let len = self.len();
        let ranks = if from_max { len - n..len } else { 0..n };
        self.remove_ranks(ranks)
    }

    /// A random member: uniform for a listpack, as fair as the index's bucket pick for a
    /// big set (Redis's dictGetFairRandomKey is no fairer).
    pub fn random_entry(&self) -> Option<(LpValue<'_>, f64)> {
        match &self.enc {
            Encoding::Listpack(lp) => {
                if lp.is_empty() {
                    return None;
                }
                let rank = rand::random_range(0..self.len());
                small::Iter::new(lp, rank, false).next()
            }
            Encoding::Skiplist(z) => z.random_entry().map(|(m, s)| (LpValue::Str(m), s)),
        }
    }

    /// Whether the set is a listpack (small enough to walk whole: ZSCAN answers it in one
    /// call, ZRANDMEMBER reads it into a list).
    pub fn is_listpack(&self) -> bool {
        matches!(self.enc, Encoding::Listpack(_))
    }

    /// One ZSCAN step: a listpack is visited whole (cursor 0 returned); a big set one
    /// index bucket group at a time, with the guarantees of `Dict::scan`.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(LpValue<'_>, f64)) -> u64 {
        match &self.enc {
            Encoding::Listpack(_) => {
                for (m, s) in self.iter() {
                    visit(m, s);
                }
                0
            }
            Encoding::Skiplist(z) => z.scan(cursor, |m, s| visit(LpValue::Str(m), s)),
        }
    }
}

/// Members and scores from a rank, in either direction.
pub struct Iter<'a>(IterInner<'a>);

enum IterInner<'a> {
    Small(small::Iter<'a>),
    Big(big::Iter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (LpValue<'a>, f64);

    fn next(&mut self) -> Option<(LpValue<'a>, f64)> {
        match &mut self.0 {
            IterInner::Small(it) => it.next(),
            IterInner::Big(it) => it.next().map(|(m, s)| (LpValue::Str(m), s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The reference: member → score, and the order derived from it.
    #[derive(Default)]
    struct Model(BTreeMap<Vec<u8>, f64>);

    impl Model {
        fn sorted(&self) -> Vec<(f64, Vec<u8>)> {
            let mut v: Vec<(f64, Vec<u8>)> = self.0.iter().map(|(m, s)| (*s, m.clone())).collect();
            v.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then_with(|| a.1.cmp(&b.1)));
            v
        }
    }

    fn bytes(v: LpValue<'_>) -> Vec<u8> {
        v.to_vec()
    }

    fn check_against(z: &ZSet, model: &Model, probe: &[u8], range: &ScoreRange, lex: &LexRange) {
        if let Encoding::Skiplist(big) = &z.enc {
            big.check();
        }
        let sorted = model.sorted();
        assert_eq!(z.len(), sorted.len());
        assert_eq!(z.is_empty(), sorted.is_empty());
        let got: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s, bytes(m))).collect();
        assert_eq!(got, sorted);
        let rev: Vec<(f64, Vec<u8>)> = if z.is_empty() {
            vec![]
        } else {
            z.iter_from(z.len() - 1, true)
                .map(|(m, s)| (s, bytes(m)))
                .collect()
        };
        assert_eq!(rev, sorted.iter().rev().cloned().collect::<Vec<_>>());
        for (rank, (s, m)) in sorted.iter().enumerate() {
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.rank(m, false), Some((rank, *s)));
            assert_eq!(z.rank(m, true), Some((sorted.len() - 1 - rank, *s)));
            let (gm, gs) = z.get_by_rank(rank).unwrap();
            assert_eq!((gs, bytes(gm)), (*s, m.clone()));
        }
        assert_eq!(z.score(probe), model.0.get(probe).copied());
        let in_range: Vec<usize> = (0..sorted.len())
            .filter(|&i| range.above_min(sorted[i].0) && range.below_max(sorted[i].0))
            .collect();
        let ranks = z.score_ranks(range);
        assert_eq!(ranks.clone().collect::<Vec<_>>(), in_range, "{range:?}");
        let in_lex: Vec<usize> = (0..sorted.len())
            .filter(|&i| {
                !lex.is_empty() && lex.above_min(&sorted[i].1) && lex.below_max(&sorted[i].1)
            })
            .collect();
        // Lex ranges are defined for equal scores; compare only then.
        if sorted.windows(2).all(|w| w[0].0 == w[1].0) {
            assert_eq!(z.lex_ranks(lex).collect::<Vec<_>>(), in_lex, "{lex:?}");
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Vec<u8>, f64, AddFlags),
        Remove(Vec<u8>),
        RemoveRanks(usize, usize),
        Pop(usize, bool),
        Shrink,
    }

    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(b"abc1".to_vec()), 0..4),
            prop::collection::vec(any::<u8>(), 0..8),
        ]
    }

    fn score() -> impl Strategy<Value = f64> {
        prop_oneof![
            prop::sample::select(vec![
                0.0,
                -0.0,
                1.0,
                -1.0,
                2.5,
                f64::INFINITY,
                f64::NEG_INFINITY
            ]),
            (-20i32..20).prop_map(|n| n as f64 / 4.0),
            any::<f64>().prop_filter("not NaN", |f| !f.is_nan()),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let flags = (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(nx, xx, gt, lt, incr)| AddFlags {
                nx,
                xx: xx && !nx,
                gt: gt && !nx,
                lt: lt && !gt && !nx,
                incr,
            });
        prop_oneof![
            6 => (member(), score(), flags).prop_map(|(m, s, f)| Op::Add(m, s, f)),
            2 => member().prop_map(Op::Remove),
            1 => (0usize..12, 0usize..12).prop_map(|(a, b)| Op::RemoveRanks(a, b)),
            1 => (0usize..4, any::<bool>()).prop_map(|(n, m)| Op::Pop(n, m)),
            1 => Just(Op::Shrink),
        ]
    }

    fn apply_model(model: &mut Model, op: &Op) {
        match op {
            Op::Add(m, s, f) => {
                let cur = model.0.get(m).copied();
                match cur {
                    None if !f.xx => {
                        model.0.insert(m.clone(), *s);
                    }
                    Some(c) if !f.nx => {
                        let new = if f.incr { c + s } else { *s };
                        let refused =
                            new.is_nan() || new == c || (f.lt && new >= c) || (f.gt && new <= c);
                        if !refused {
                            model.0.insert(m.clone(), new);
                        }
                    }
                    _ => {}
                }
            }
            Op::Remove(m) => {
                model.0.remove(m);
            }
            Op::RemoveRanks(a, b) => {
                let sorted = model.sorted();
                for (_, m) in sorted.iter().skip(*a).take(b.saturating_sub(*a)) {
                    model.0.remove(m);
                }
            }
            Op::Pop(n, max) => {
                let mut sorted = model.sorted();
                if *max {
                    sorted.reverse();
                }
                for (_, m) in sorted.iter().take(*n) {
                    model.0.remove(m);
                }
            }
            Op::Shrink => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn matches_a_btreemap(
            ops in prop::collection::vec(op(), 0..60),
            max_entries in 0usize..6,
            max_value in 0usize..4,
            probe in member(),
            range in (score(), score(), any::<bool>(), any::<bool>()),
            lex in (member(), member(), 0u8..4, 0u8..4),
        ) {
            let limits = Limits { max_entries, max_value };
            let range = ScoreRange { min: range.0.min(range.1), max: range.0.max(range.1), min_exclusive: range.2, max_exclusive: range.3 };
            let bound = |m: &Vec<u8>, kind: u8| -> Vec<u8> {
                let mut v = vec![[b'-', b'+', b'[', b'('][kind as usize]];
                if kind >= 2 { v.extend_from_slice(m); }
                v
            };
            let (lo, hi) = (bound(&lex.0, lex.2), bound(&lex.1, lex.3));
            let lex = LexRange::parse(&lo, &hi).unwrap();
            let mut z = ZSet::new();
            let mut model = Model::default();
            for op in &ops {
                let before = model.0.get(match op { Op::Add(m, ..) => m.as_slice(), _ => b"" }).copied();
                match op {
                    Op::Add(m, s, f) => {
                        let out = z.add(m, *s, *f, limits);
                        match out {
                            AddOutcome::Added(n) => prop_assert!(before.is_none() && n == *s),
                            AddOutcome::Updated(_) | AddOutcome::Unchanged(_) | AddOutcome::Nan => prop_assert!(before.is_some()),
                            AddOutcome::Skipped => {}
                        }
                    }
                    Op::Remove(m) => prop_assert_eq!(z.remove(m), model.0.contains_key(m)),
                    Op::RemoveRanks(a, b) => { z.remove_ranks(*a..*b); }
                    Op::Pop(n, max) => {
                        let mut seen = vec![];
                        z.pop(*n, *max, |m, s| seen.push((s, bytes(m))));
                        let mut sorted = model.sorted();
                        if *max { sorted.reverse(); }
                        sorted.truncate(*n);
                        prop_assert_eq!(seen, sorted);
                    }
                    Op::Shrink => z.shrink_if_fits(limits),
                }
                apply_model(&mut model, op);
                let too_big = model.0.len() > max_entries || model.0.keys().any(|m| m.len() > max_value);
                if too_big {
                    prop_assert_eq!(z.encoding(), "skiplist");
                }
            }
            check_against(&z, &model, &probe, &range, &lex);
            let copy = z.clone();
            check_against(&copy, &model, &probe, &range, &lex);
        }
    }

    /// Enough members for a three-level tree, inserted and removed in random and in
    /// sorted order, with the tree's invariants checked along the way.
    #[test]
    fn big_tree_survives_growth_and_shrinkage() {
        let limits = Limits {
            max_entries: 0,
            max_value: 0,
        };
        for pattern in 0..3 {
            let mut z = ZSet::new();
            let mut model = Model::default();
            let n = 9000u32;
            let key = |i: u32| match pattern {
                0 => i,
                1 => n - i,
                _ => i.wrapping_mul(2654435761) % 10007,
            };
            for i in 0..n {
                let k = key(i);
                let m = format!("m{k}").into_bytes();
                z.insert(&m, f64::from(k % 97), limits);
                model.0.insert(m, f64::from(k % 97));
            }
            let Encoding::Skiplist(big) = &z.enc else {
                panic!("big")
            };
            big.check();
            // Most of them, so that nodes underflow and merge or borrow.
            for i in (0..n).filter(|i| i % 10 != 0) {
                let m = format!("m{}", key(i)).into_bytes();
                assert_eq!(z.remove(&m), model.0.remove(&m).is_some());
            }
            let Encoding::Skiplist(big) = &z.enc else {
                panic!("big")
            };
            big.check();
            let all = ScoreRange {
                min: 10.0,
                max: 20.0,
                min_exclusive: true,
                max_exclusive: false,
            };
            let every_member = LexRange {
                min: LexBound::Min,
                max: LexBound::Max,
            };
            check_against(&z, &model, b"m5", &all, &every_member);
            z.remove_ranks(100..5000);
            apply_model(&mut model, &Op::RemoveRanks(100, 5000));
            check_against(&z, &model, b"m5", &all, &every_member);
            let len = z.len();
            z.pop(len, pattern == 1, |_, _| {});
            assert!(z.is_empty());
        }
    }

    #[test]
    fn lex_ranges_like_redis() {
        assert!(LexRange::parse(b"a", b"+").is_none());
        assert!(LexRange::parse(b"-", b"+").is_some());
        assert!(LexRange::parse(b"-", b"-").unwrap().is_empty());
        assert!(!LexRange::parse(b"[a", b"[a").unwrap().is_empty());
    }

    #[test]
    fn encodings_follow_the_limits() {
        let limits = Limits {
            max_entries: 2,
            max_value: 3,
        };
        let mut z = ZSet::new();
        z.insert(b"a", 1.0, limits);
        z.insert(b"b", 2.0, limits);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"b", 3.0, limits);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"c", 2.0, limits);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"c");
        assert_eq!(z.encoding(), "skiplist");
        z.shrink_if_fits(limits);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"long", 2.0, limits);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(ZSet::with_hint(3, 1, limits).encoding(), "skiplist");
        assert_eq!(ZSet::with_hint(2, 3, limits).encoding(), "listpack");
    }
}
