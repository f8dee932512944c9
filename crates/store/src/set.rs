//! The set type, in Redis 7.2's three encodings, with the same conversion rules (OBJECT
//! ENCODING and the order of SMEMBERS depend on them):
//!
//! - **intset** while every member is an integer and there are at most
//!   `set-max-intset-entries` of them: sorted, so members come out in ascending order;
//! - **listpack** while there are at most `set-max-listpack-entries` members of at most
//!   `set-max-listpack-value` bytes: members come out in insertion order;
//! - **hashtable** (a `Dict`) otherwise: order unspecified.
//!
//! A set only ever moves "up" (intset → listpack → hashtable, or intset → hashtable)
//! while members are added one by one; removing members never converts it back. A new set
//! is sized from a hint (the number of members a command is about to add), so e.g. SADD
//! of 200 strings creates a hashtable at once. The exceptions that build a new, compact
//! set from scratch are SINTERSTORE (whose integer-only result becomes an intset) and SPOP
//! with a count close to the set's size (which keeps the few remaining members in a new
//! set).
//!
//! Members are handed out as [`Member`]: an integer (intset, or a listpack's integer
//! entries) or a byte string. Commands turn them into replies; nothing here knows RESP.

use crate::bytes::SmallBytes;
use crate::dict::{self, Dict};
use crate::intset::{self, Intset};
use crate::listpack::{self, Listpack, LpValue};
use crate::num::parse_i64;
use rand::RngExt;
use std::collections::HashSet;

/// A set member: integers stay integers where the encoding stores them so.
pub type Member<'a> = LpValue<'a>;

/// A listpack is never grown past this size, whatever the thresholds say (Redis's
/// LISTPACK_MAX_SAFETY_SIZE).
const LISTPACK_SAFETY_SIZE: usize = 1 << 30;
/// An intset never holds more than this many members, whatever the threshold says.
const INTSET_MAX_ENTRIES: usize = 1 << 30;
/// SPOP with a count builds a new set from the members that stay when fewer than
/// 1/this of the popped count would remain (Redis's SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;
/// SRANDMEMBER with a positive count copies the whole set and drops members when the
/// count is more than 1/this of the set (Redis's SRANDMEMBER_SUB_STRATEGY_MUL).
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

/// The encoding thresholds (`set-max-intset-entries`, `set-max-listpack-entries`,
/// `set-max-listpack-value`), passed to every operation that may convert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetLimits {
    pub intset_entries: usize,
    pub listpack_entries: usize,
    pub listpack_value: usize,
}

impl Default for SetLimits {
    /// Redis's defaults.
    fn default() -> Self {
        SetLimits {
            intset_entries: 512,
            listpack_entries: 128,
            listpack_value: 64,
        }
    }
}

impl SetLimits {
    fn intset_max(&self) -> usize {
        self.intset_entries.min(INTSET_MAX_ENTRIES)
    }
}

/// A set value.
#[derive(Debug)]
pub struct Set {
    enc: Encoding,
}

#[derive(Debug)]
enum Encoding {
    Intset(Intset),
    Listpack(Listpack),
    Hashtable(Dict<SmallBytes, ()>),
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

impl Clone for Set {
    /// Keeps the encoding, as COPY does.
    fn clone(&self) -> Self {
        let enc = match &self.enc {
            Encoding::Intset(is) => Encoding::Intset(is.clone()),
            Encoding::Listpack(lp) => Encoding::Listpack(lp.clone()),
            Encoding::Hashtable(d) => {
                let mut copy = Dict::new();
                copy.reserve(d.len());
                for (k, ()) in d.iter() {
                    copy.insert(k.clone(), ());
                }
                Encoding::Hashtable(copy)
            }
        };
        Set { enc }
    }
}

impl Set {
    /// An empty intset: what a set built member by member starts as (SUNIONSTORE...).
    pub fn new() -> Self {
        Set {
            enc: Encoding::Intset(Intset::new()),
        }
    }

    /// An empty listpack-encoded set.
    pub fn new_listpack() -> Self {
        Set {
            enc: Encoding::Listpack(Listpack::new()),
        }
    }

    fn new_hashtable(capacity: usize) -> Self {
        let mut d = Dict::new();
        d.reserve(capacity);
        Set {
            enc: Encoding::Hashtable(d),
        }
    }

    /// The empty set a command creates before adding `first` and about `size_hint`
    /// members in all (Redis's setTypeCreate): an intset if `first` is an integer and the
    /// hint fits one, else a listpack if the hint fits one, else a hashtable.
    pub fn for_members(first: &[u8], size_hint: usize, limits: &SetLimits) -> Self {
        if parse_i64(first).is_some() && size_hint <= limits.intset_entries {
            return Set::new();
        }
        if size_hint <= limits.listpack_entries {
            return Set::new_listpack();
        }
        Set::new_hashtable(size_hint)
    }

    /// Converts a compact set to a hashtable up front when `size_hint` members are about
    /// to be added and that many would not fit its encoding (Redis's setTypeMaybeConvert).
    pub fn maybe_convert(&mut self, size_hint: usize, limits: &SetLimits) {
        let too_many = match &self.enc {
            Encoding::Intset(_) => size_hint > limits.intset_entries,
            Encoding::Listpack(_) => size_hint > limits.listpack_entries,
            Encoding::Hashtable(_) => false,
        };
        if too_many {
            self.convert_to_hashtable(size_hint);
        }
    }

    /// A set over an intset as RDB carries it (the caller checked the limits).
    pub fn from_intset(is: Intset) -> Self {
        Set {
            enc: Encoding::Intset(is),
        }
    }

    /// A set over a listpack of distinct members as RDB carries it (the caller checked
    /// the members are distinct and the limits).
    pub fn from_listpack(lp: Listpack) -> Self {
        Set {
            enc: Encoding::Listpack(lp),
        }
    }

    /// The intset of an intset-encoded set, for RDB's byte-for-byte copy.
    pub fn as_intset(&self) -> Option<&Intset> {
        match &self.enc {
            Encoding::Intset(is) => Some(is),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.enc {
            Encoding::Intset(is) => is.len(),
            Encoding::Listpack(lp) => lp.len(),
            Encoding::Hashtable(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.enc {
            Encoding::Intset(_) => "intset",
            Encoding::Listpack(_) => "listpack",
            Encoding::Hashtable(_) => "hashtable",
        }
    }

    pub fn is_hashtable(&self) -> bool {
        matches!(self.enc, Encoding::Hashtable(_))
    }

    /// Heap bytes owned beyond the struct itself. For a hashtable, the members' own heap
    /// bytes are estimated from a sample, as MEMORY USAGE does in Redis, so the cost stays
    /// bounded however big the set.
    pub fn heap_size(&self) -> usize {
        const SAMPLES: usize = 16;
        match &self.enc {
            Encoding::Intset(is) => is.heap_size(),
            Encoding::Listpack(lp) => lp.heap_size(),
            Encoding::Hashtable(d) => {
                let (mut seen, mut bytes) = (0, 0);
                d.sample(SAMPLES, |k, ()| {
                    seen += 1;
                    bytes += k.heap_size();
                });
                d.memory_usage() + (bytes * d.len()).checked_div(seen).unwrap_or(0)
            }
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.contains_member(Member::Str(member))
    }

    pub fn contains_member(&self, member: Member<'_>) -> bool {
        let mut digits = itoa::Buffer::new();
        match &self.enc {
            Encoding::Intset(is) => as_int(member).is_some_and(|n| is.contains(n)),
            Encoding::Listpack(lp) => lp.find(member.as_bytes(&mut digits), 0).is_some(),
            Encoding::Hashtable(d) => d.contains_key(member.as_bytes(&mut digits)),
        }
    }

    /// Adds `member`; false if it was already there. Converts the encoding as Redis does.
    pub fn add(&mut self, member: &[u8], limits: &SetLimits) -> bool {
        self.add_member(Member::Str(member), limits)
    }

    pub fn add_member(&mut self, member: Member<'_>, limits: &SetLimits) -> bool {
        let mut digits = itoa::Buffer::new();
        match &mut self.enc {
            Encoding::Intset(is) => {
                if let Some(n) = as_int(member) {
                    if !is.insert(n) {
                        return false;
                    }
                    if is.len() > limits.intset_max() {
                        self.convert_to_hashtable(0);
                    }
                    return true;
                }
                let len = is.len();
                if intset_fits_listpack(is, member.as_bytes(&mut digits).len(), limits) {
                    self.convert_to_listpack();
                } else {
                    self.convert_to_hashtable(len + 1);
                }
                self.add_new(member);
                true
            }
            Encoding::Listpack(lp) => {
                let bytes = member.as_bytes(&mut digits);
                if lp.find(bytes, 0).is_some() {
                    return false;
                }
                let fits = lp.len() < limits.listpack_entries
                    && bytes.len() <= limits.listpack_value
                    && lp.total_bytes() + bytes.len() <= LISTPACK_SAFETY_SIZE;
                if !fits {
                    let len = lp.len();
                    self.convert_to_hashtable(len + 1);
                }
                self.add_new(member);
                true
            }
            Encoding::Hashtable(d) => {
                let bytes = member.as_bytes(&mut digits);
                if d.contains_key(bytes) {
                    return false;
                }
                d.insert(SmallBytes::new(bytes), ());
                true
            }
        }
    }

    /// Appends a member known to be absent, with no conversion check.
    fn add_new(&mut self, member: Member<'_>) {
        match (&mut self.enc, member) {
            (Encoding::Intset(is), m) => {
                is.insert(as_int(m).expect("only integers go to an intset"));
            }
            (Encoding::Listpack(lp), Member::Int(n)) => lp.push_back_int(n),
            (Encoding::Listpack(lp), Member::Str(s)) => lp.push_back(s),
            (Encoding::Hashtable(d), m) => {
                d.insert(SmallBytes::new(m.as_bytes(&mut itoa::Buffer::new())), ());
            }
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        self.remove_member(Member::Str(member))
    }

    pub fn remove_member(&mut self, member: Member<'_>) -> bool {
        let mut digits = itoa::Buffer::new();
        match &mut self.enc {
            Encoding::Intset(is) => as_int(member).is_some_and(|n| is.remove(n)),
            Encoding::Listpack(lp) => match lp.find(member.as_bytes(&mut digits), 0) {
                Some(pos) => {
                    lp.delete(pos);
                    true
                }
                None => false,
            },
            Encoding::Hashtable(d) => d.remove(member.as_bytes(&mut digits)).is_some(),
        }
    }

    /// The members: ascending for an intset, insertion order for a listpack.
    pub fn iter(&self) -> Iter<'_> {
        match &self.enc {
            Encoding::Intset(is) => Iter::Intset(is.iter()),
            Encoding::Listpack(lp) => Iter::Listpack(lp.iter()),
            Encoding::Hashtable(d) => Iter::Hashtable(d.iter()),
        }
    }

    /// A random member, None when empty.
    pub fn random(&self) -> Option<Member<'_>> {
        match &self.enc {
            Encoding::Intset(is) => is.random().map(Member::Int),
            Encoding::Listpack(lp) => {
                if lp.is_empty() {
                    return None;
                }
                let index = rand::rng().random_range(0..lp.len());
                lp.seek(index as i64).map(|pos| lp.get(pos))
            }
            Encoding::Hashtable(d) => d.random_entry().map(|(k, ())| Member::Str(k)),
        }
    }

    /// Removes a random member and returns it (SPOP).
    pub fn pop_random(&mut self) -> Option<Vec<u8>> {
        let member = self.random()?.to_vec();
        self.remove(&member);
        Some(member)
    }

    /// Visits `count` members drawn independently at random (SRANDMEMBER with a negative
    /// count: the same member may come several times).
    pub fn random_with_repeats(&self, count: usize, mut visit: impl FnMut(Member<'_>)) {
        if self.is_empty() {
            return;
        }
        let mut rng = rand::rng();
        match &self.enc {
            Encoding::Listpack(lp) => {
                // One walk to find the entries, then each draw is O(1).
                let positions: Vec<usize> =
                    std::iter::successors(lp.first(), |&p| lp.next(p)).collect();
                for _ in 0..count {
                    visit(lp.get(positions[rng.random_range(0..positions.len())]));
                }
            }
            _ => {
                for _ in 0..count {
                    visit(self.random().expect("not empty"));
                }
            }
        }
    }

    /// `count` distinct random members, for `0 < count < len()` (SRANDMEMBER with a
    /// positive count). A listpack's sample comes in listpack order, as in Redis; the
    /// others' in random order.
    pub fn random_distinct(&self, count: usize) -> Vec<Member<'_>> {
        debug_assert!(count > 0 && count < self.len());
        let mut rng = rand::rng();
        match &self.enc {
            Encoding::Listpack(lp) => {
                let picked = sample_indexes(lp.len(), count);
                lp.iter()
                    .zip(picked)
                    .filter_map(|(m, keep)| keep.then_some(m))
                    .collect()
            }
            _ if count * SRANDMEMBER_SUB_STRATEGY_MUL > self.len() => {
                // Close to the whole set: shuffle a copy's first `count` places.
                let mut all: Vec<Member<'_>> = self.iter().collect();
                for i in 0..count {
                    let j = rng.random_range(i..all.len());
                    all.swap(i, j);
                }
                all.truncate(count);
                all
            }
            Encoding::Intset(is) => {
                let mut seen = HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let n = is.random().expect("not empty");
                    if seen.insert(n) {
                        out.push(Member::Int(n));
                    }
                }
                out
            }
            Encoding::Hashtable(d) => {
                let mut seen = HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let (k, ()) = d.random_entry().expect("not empty");
                    if seen.insert(k.as_slice()) {
                        out.push(Member::Str(k.as_slice()));
                    }
                }
                out
            }
        }
    }

    /// Removes and returns `count` random members, for `0 < count < len()` (SPOP with a
    /// count; popping everything is a union of the one set, see the command). When few
    /// members would remain, those are moved to a new set instead, as Redis does, so the
    /// encoding of what remains can become more compact.
    pub fn pop_many(&mut self, count: usize, limits: &SetLimits) -> Vec<Vec<u8>> {
        let remaining = self.len() - count;
        debug_assert!(count > 0 && remaining > 0);
        if remaining * SPOP_MOVE_STRATEGY_MUL > count {
            if let Encoding::Listpack(lp) = &mut self.enc {
                return take_sample(lp, count);
            }
            return (0..count).filter_map(|_| self.pop_random()).collect();
        }
        let kept = match &mut self.enc {
            Encoding::Listpack(lp) => {
                let mut kept = Set::new_listpack();
                for member in take_sample(lp, remaining) {
                    kept.add(&member, limits);
                }
                kept
            }
            _ => {
                let mut kept: Option<Set> = None;
                for _ in 0..remaining {
                    let member = self.random().expect("members remain");
                    let kept = kept.get_or_insert_with(|| match member {
                        Member::Int(_) => Set::new(),
                        Member::Str(_) => Set::new_listpack(),
                    });
                    kept.add_member(member, limits);
                    let owned = OwnedMember::of(member);
                    self.remove_member(owned.as_member());
                }
                kept.expect("at least one member remains")
            }
        };
        let popped = self.iter().map(|m| m.to_vec()).collect();
        *self = kept;
        popped
    }

    /// Visits the members at a SCAN cursor and returns the next cursor. A compact set is
    /// visited whole, returning 0; a hashtable one bucket at a time (`Dict::scan`).
    pub fn scan<'a>(&'a self, cursor: u64, mut visit: impl FnMut(Member<'a>)) -> u64 {
        match &self.enc {
            Encoding::Hashtable(d) => d.scan(cursor, |k, ()| visit(Member::Str(k))),
            _ => {
                self.iter().for_each(visit);
                0
            }
        }
    }

    /// Visits the members common to every set of `sets` (at least one) in the order of the
    /// smallest set, until `visit` returns false (SINTER, SINTERCARD).
    pub fn intersect<'a>(sets: &[&'a Set], mut visit: impl FnMut(Member<'a>) -> bool) {
        let sets = by_size(sets);
        let (first, rest) = sets.split_first().expect("at least one set");
        for member in first.iter() {
            let everywhere = rest
                .iter()
                .all(|s| std::ptr::eq(*s, *first) || s.contains_member(member));
            if everywhere && !visit(member) {
                return;
            }
        }
    }

    /// The intersection as SINTERSTORE stores it: an intset when the smallest set is one,
    /// else built as a listpack (converting as it grows); a result of integers only ends
    /// as an intset if it fits one.
    pub fn intersection(sets: &[&Set], limits: &SetLimits) -> Set {
        let from_hashtable = by_size(sets)[0].is_hashtable();
        let mut result = match by_size(sets)[0].enc {
            Encoding::Intset(_) => Set::new(),
            _ => Set::new_listpack(),
        };
        let mut only_integers = true;
        Set::intersect(sets, |member| {
            let mut member = member;
            if let (Member::Str(s), true) = (member, only_integers) {
                match parse_i64(s) {
                    // A hashtable member may be an integer held as a string.
                    Some(n) if from_hashtable => {
                        if !result.is_hashtable() {
                            member = Member::Int(n);
                        }
                    }
                    _ => only_integers = false,
                }
            }
            result.add_member(member, limits);
            true
        });
        if only_integers {
            result.maybe_convert_to_intset(limits);
        }
        result
    }

    /// The union of the sets present (missing keys are empty sets), built member by member
    /// from an empty intset, in the order of the arguments (SUNION, SUNIONSTORE).
    pub fn union(sets: &[Option<&Set>], limits: &SetLimits) -> Set {
        let mut result = Set::new();
        for set in sets.iter().flatten() {
            for member in set.iter() {
                result.add_member(member, limits);
            }
        }
        result
    }

    /// The members of the first set in none of the others (SDIFF, SDIFFSTORE), built from
    /// an empty intset. Like Redis, picks between testing each member of the first set
    /// against the others and copying the first set then removing the others' members,
    /// by estimated work: the choice shows in the result's encoding.
    pub fn difference(sets: &[Option<&Set>], limits: &SetLimits) -> Set {
        let mut result = Set::new();
        let Some((Some(first), rest)) = sets.split_first() else {
            return result;
        };
        let others: Vec<&Set> = rest.iter().flatten().copied().collect();
        if others.iter().any(|s| std::ptr::eq(*s, *first)) {
            return result;
        }
        let test_each_work = (others.len() + 1) * first.len() / 2;
        let copy_then_remove_work = first.len() + others.iter().map(|s| s.len()).sum::<usize>();
        if test_each_work <= copy_then_remove_work {
            for member in first.iter() {
                if !others.iter().any(|s| s.contains_member(member)) {
                    result.add_member(member, limits);
                }
            }
            return result;
        }
        for member in first.iter() {
            result.add_member(member, limits);
        }
        for set in others {
            if result.is_empty() {
                break;
            }
            for member in set.iter() {
                result.remove_member(member);
            }
        }
        result
    }

    /// Converts to the hashtable encoding (what loading an RDB set past its limits does).
    pub fn convert_to_hashtable(&mut self, capacity: usize) {
        let mut d = Dict::new();
        d.reserve(capacity.max(self.len()));
        let mut digits = itoa::Buffer::new();
        for member in self.iter() {
            d.insert(SmallBytes::new(member.as_bytes(&mut digits)), ());
        }
        self.enc = Encoding::Hashtable(d);
    }

    /// From an intset (the only conversion to a listpack).
    fn convert_to_listpack(&mut self) {
        let mut lp = Listpack::new();
        for member in self.iter() {
            match member {
                Member::Int(n) => lp.push_back_int(n),
                Member::Str(s) => lp.push_back(s),
            }
        }
        self.enc = Encoding::Listpack(lp);
    }

    /// Makes a set whose members are all integers an intset, if it has few enough.
    fn maybe_convert_to_intset(&mut self, limits: &SetLimits) {
        if matches!(self.enc, Encoding::Intset(_)) || self.len() > limits.intset_max() {
            return;
        }
        let mut is = Intset::new();
        for member in self.iter() {
            is.insert(as_int(member).expect("every member is an integer"));
        }
        self.enc = Encoding::Intset(is);
    }
}

/// A member's integer value, if it is a canonical integer.
fn as_int(member: Member<'_>) -> Option<i64> {
    match member {
        Member::Int(n) => Some(n),
        Member::Str(s) => parse_i64(s),
    }
}

/// Whether an intset receiving a non-integer of `len` bytes becomes a listpack (else a
/// hashtable): the result must fit the listpack limits, its integers included.
fn intset_fits_listpack(is: &Intset, len: usize, limits: &SetLimits) -> bool {
    let digits = |n: Option<i64>| n.map_or(0, |n| itoa::Buffer::new().format(n).len());
    let widest = digits(is.min()).max(digits(is.max()));
    // An integer entry takes at most 10 bytes; the header and terminator 7.
    let estimate = 7 + is.len() * 10 + len;
    is.len() < limits.listpack_entries
        && len <= limits.listpack_value
        && widest <= limits.listpack_value
        && estimate <= LISTPACK_SAFETY_SIZE
}

/// The sets ordered by size, smallest first; equal sizes keep their argument order.
fn by_size<'a>(sets: &[&'a Set]) -> Vec<&'a Set> {
    let mut sorted = sets.to_vec();
    sorted.sort_by_key(|s| s.len());
    sorted
}

/// `count` of `0..len` chosen uniformly, as a mask in index order (selection sampling).
fn sample_indexes(len: usize, count: usize) -> Vec<bool> {
    let mut rng = rand::rng();
    let mut needed = count;
    (0..len)
        .map(|i| {
            let keep = rng.random_range(0..len - i) < needed;
            needed -= keep as usize;
            keep
        })
        .collect()
}

/// Removes `count` random entries from a listpack and returns them in listpack order.
fn take_sample(lp: &mut Listpack, count: usize) -> Vec<Vec<u8>> {
    let picked = sample_indexes(lp.len(), count);
    let positions: Vec<usize> = std::iter::successors(lp.first(), |&p| lp.next(p))
        .zip(&picked)
        .filter_map(|(pos, &keep)| keep.then_some(pos))
        .collect();
    let taken = positions.iter().map(|&pos| lp.get(pos).to_vec()).collect();
    // From the back, so the positions still to delete stay valid.
    for &pos in positions.iter().rev() {
        lp.delete(pos);
    }
    taken
}

/// A member detached from its set, to remove it after reading it.
enum OwnedMember {
    Int(i64),
    Str(Vec<u8>),
}

impl OwnedMember {
    fn of(member: Member<'_>) -> Self {
        match member {
            Member::Int(n) => OwnedMember::Int(n),
            Member::Str(s) => OwnedMember::Str(s.to_vec()),
        }
    }

    fn as_member(&self) -> Member<'_> {
        match self {
            OwnedMember::Int(n) => Member::Int(*n),
            OwnedMember::Str(s) => Member::Str(s),
        }
    }
}

/// The members of a set, see [`Set::iter`].
pub enum Iter<'a> {
    Intset(intset::Iter<'a>),
    Listpack(listpack::Iter<'a>),
    Hashtable(dict::Iter<'a, SmallBytes, ()>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Intset(it) => it.next().map(Member::Int),
            Iter::Listpack(it) => it.next(),
            Iter::Hashtable(it) => it.next().map(|(k, ())| Member::Str(k.as_slice())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn members(set: &Set) -> Vec<Vec<u8>> {
        set.iter().map(|m| m.to_vec()).collect()
    }

    fn build(items: &[&str], limits: &SetLimits) -> Set {
        let mut s = Set::for_members(items[0].as_bytes(), items.len(), limits);
        s.maybe_convert(items.len(), limits);
        for item in items {
            s.add(item.as_bytes(), limits);
        }
        s
    }

    fn strs(v: &[Vec<u8>]) -> Vec<&str> {
        v.iter().map(|b| std::str::from_utf8(b).unwrap()).collect()
    }

    #[test]
    fn encodings_follow_the_thresholds() {
        let l = SetLimits::default();
        assert_eq!(build(&["3", "1", "2"], &l).encoding(), "intset");
        assert_eq!(
            strs(&members(&build(&["3", "1", "2"], &l))),
            ["1", "2", "3"]
        );
        // Integers first, then a string: the intset becomes a listpack, in sorted order.
        let s = build(&["3", "1", "a"], &l);
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(strs(&members(&s)), ["1", "3", "a"]);
        // A string first: a listpack in insertion order.
        assert_eq!(
            strs(&members(&build(&["b", "3", "a"], &l))),
            ["b", "3", "a"]
        );
        // More members in one go than a listpack holds: a hashtable from the start.
        let many: Vec<String> = (0..129).map(|i| format!("m{i}")).collect();
        let many: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
        assert_eq!(build(&many, &l).encoding(), "hashtable");
        assert_eq!(build(&many[..128], &l).encoding(), "listpack");
        // A long member.
        assert_eq!(build(&[&"x".repeat(65)], &l).encoding(), "hashtable");
        assert_eq!(build(&[&"x".repeat(64)], &l).encoding(), "listpack");
        // Past the intset limit: a hashtable, not a listpack.
        let ints: Vec<String> = (0..513).map(|i| i.to_string()).collect();
        let ints: Vec<&str> = ints.iter().map(|s| s.as_str()).collect();
        assert_eq!(build(&ints[..512], &l).encoding(), "intset");
        let mut s = build(&ints[..512], &l);
        s.add(b"512", &l);
        assert_eq!(s.encoding(), "hashtable");
        // An intset too big for a listpack gets a string: a hashtable.
        let mut s = build(&ints[..128], &l);
        s.add(b"a", &l);
        assert_eq!(s.encoding(), "hashtable");
        let mut s = build(&ints[..127], &l);
        s.add(b"a", &l);
        assert_eq!(s.encoding(), "listpack");
        // Non-canonical integers are strings.
        assert_eq!(build(&["007"], &l).encoding(), "listpack");
        assert!(build(&["7"], &l).contains(b"7"));
        assert!(!build(&["7"], &l).contains(b"07"));
    }

    #[test]
    fn heap_size_counts_long_members() {
        let l = SetLimits::default();
        let long: Vec<String> = (0..300).map(|i| format!("{i:0>40}")).collect();
        let long: Vec<&str> = long.iter().map(|s| s.as_str()).collect();
        let s = build(&long, &l);
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.heap_size() >= 300 * 40, "{}", s.heap_size());
        assert!(build(&["1", "2"], &l).heap_size() >= 4);
    }

    #[test]
    fn intset_of_wide_integers_and_a_small_value_limit() {
        let l = SetLimits {
            listpack_value: 3,
            ..SetLimits::default()
        };
        let mut s = build(&["1000"], &l);
        s.add(b"a", &l);
        assert_eq!(
            s.encoding(),
            "hashtable",
            "1000 is wider than the value limit"
        );
        let mut s = build(&["100"], &l);
        s.add(b"a", &l);
        assert_eq!(s.encoding(), "listpack");
    }

    #[test]
    fn intersection_store_encodings() {
        let l = SetLimits::default();
        // A hashtable of integers intersected down to a few: an intset.
        let ints: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let ints: Vec<&str> = ints.iter().map(|s| s.as_str()).collect();
        let mut big = build(&ints, &l);
        big.maybe_convert(600, &l);
        assert_eq!(big.encoding(), "hashtable");
        let r = Set::intersection(&[&big, &big], &l);
        assert_eq!(r.encoding(), "intset");
        assert_eq!(r.len(), 200);
        let strings = build(&["a", "b", "c"], &l);
        let r = Set::intersection(&[&strings, &build(&["c", "a"], &l)], &l);
        assert_eq!(r.encoding(), "listpack");
        assert_eq!(strs(&members(&r)), ["c", "a"], "order of the smallest set");
    }

    #[test]
    fn union_and_difference_start_from_an_intset() {
        let l = SetLimits::default();
        let a = build(&["b", "3", "1"], &l);
        let u = Set::union(&[Some(&a), None], &l);
        assert_eq!(strs(&members(&u)), ["b", "3", "1"]);
        let lp_ints = build(&["x", "3", "1"], &l);
        let mut only_ints = lp_ints.clone();
        only_ints.remove(b"x");
        let u = Set::union(&[Some(&only_ints)], &l);
        assert_eq!(
            u.encoding(),
            "intset",
            "listpack of integers re-added to an intset"
        );
        assert_eq!(strs(&members(&u)), ["1", "3"]);
        let d = Set::difference(&[Some(&a), Some(&build(&["3"], &l))], &l);
        assert_eq!(strs(&members(&d)), ["b", "1"]);
        assert!(Set::difference(&[None, Some(&a)], &l).is_empty());
        assert!(Set::difference(&[Some(&a), Some(&a)], &l).is_empty());
    }

    #[test]
    fn spop_keeping_few_makes_a_compact_set() {
        let l = SetLimits::default();
        let items: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        let items: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
        let mut s = build(&items, &l);
        assert_eq!(s.encoding(), "hashtable");
        let popped = s.pop_many(290, &l);
        assert_eq!(popped.len(), 290);
        assert_eq!(s.len(), 10);
        assert_eq!(s.encoding(), "listpack");
        let all: BTreeSet<Vec<u8>> = popped.into_iter().chain(members(&s)).collect();
        assert_eq!(all.len(), 300);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Vec<String>),
        Remove(String),
        Pop,
        PopMany(usize),
        RandomDistinct(usize),
        RandomRepeats(usize),
    }

    fn member() -> impl Strategy<Value = String> {
        prop_oneof![
            (-3i64..12).prop_map(|n| n.to_string()),
            Just("70000".to_string()),
            Just("-9999999999".to_string()),
            Just(i64::MAX.to_string()),
            "[a-c]{1,2}",
            Just("007".to_string()),
            Just("a-long-member".to_string()),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => proptest::collection::vec(member(), 1..6).prop_map(Op::Add),
            2 => member().prop_map(Op::Remove),
            1 => Just(Op::Pop),
            1 => (1usize..12).prop_map(Op::PopMany),
            1 => (1usize..12).prop_map(Op::RandomDistinct),
            1 => (1usize..6).prop_map(Op::RandomRepeats),
        ]
    }

    /// What encoding a set must have, following Redis's rules step by step.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Enc {
        Intset,
        Listpack,
        Hashtable,
    }

    fn enc_of(s: &Set) -> Enc {
        match s.encoding() {
            "intset" => Enc::Intset,
            "listpack" => Enc::Listpack,
            _ => Enc::Hashtable,
        }
    }

    fn check_invariants(s: &Set, l: &SetLimits) -> Result<(), TestCaseError> {
        let all = members(s);
        match enc_of(s) {
            Enc::Intset => {
                prop_assert!(all.iter().all(|m| parse_i64(m).is_some()));
                prop_assert!(all.len() <= l.intset_entries);
            }
            Enc::Listpack => {
                prop_assert!(all.len() <= l.listpack_entries);
                prop_assert!(all.iter().all(|m| m.len() <= l.listpack_value));
            }
            Enc::Hashtable => {}
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn behaves_like_a_btreeset(
            ops in proptest::collection::vec(op(), 1..40),
            intset_entries in 1usize..6,
            listpack_entries in 1usize..6,
            listpack_value in 1usize..6,
        ) {
            let l = SetLimits { intset_entries, listpack_entries, listpack_value };
            let mut set: Option<Set> = None;
            let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
            let mut enc = Enc::Intset;
            for op in ops {
                match op {
                    Op::Add(items) => {
                        let s = set.get_or_insert_with(|| {
                            let s = Set::for_members(items[0].as_bytes(), items.len(), &l);
                            enc = enc_of(&s);
                            s
                        });
                        s.maybe_convert(items.len(), &l);
                        let hinted = match enc {
                            Enc::Intset => items.len() > l.intset_entries,
                            Enc::Listpack => items.len() > l.listpack_entries,
                            Enc::Hashtable => false,
                        };
                        if hinted { enc = Enc::Hashtable; }
                        for item in &items {
                            let b = item.as_bytes();
                            let before = model.len();
                            let new = model.insert(b.to_vec());
                            prop_assert_eq!(s.add(b, &l), new);
                            if !new { continue; }
                            let is_int = parse_i64(b).is_some();
                            enc = match enc {
                                Enc::Intset if is_int && model.len() > l.intset_entries => Enc::Hashtable,
                                Enc::Intset if is_int => Enc::Intset,
                                Enc::Intset => {
                                    let widest = model.iter().filter(|m| m.as_slice() != b)
                                        .map(|m| m.len()).max().unwrap_or(0);
                                    if before < l.listpack_entries && b.len() <= l.listpack_value
                                        && widest <= l.listpack_value { Enc::Listpack } else { Enc::Hashtable }
                                }
                                Enc::Listpack if before < l.listpack_entries && b.len() <= l.listpack_value => Enc::Listpack,
                                _ => Enc::Hashtable,
                            };
                            prop_assert_eq!(enc_of(s), enc, "after adding {:?}", item);
                        }
                    }
                    Op::Remove(m) => {
                        if let Some(s) = set.as_mut() {
                            prop_assert_eq!(s.remove(m.as_bytes()), model.remove(m.as_bytes()));
                            prop_assert_eq!(enc_of(s), enc);
                        }
                    }
                    Op::Pop => {
                        if let Some(s) = set.as_mut() {
                            let m = s.pop_random().unwrap();
                            prop_assert!(model.remove(&m));
                        }
                    }
                    Op::PopMany(count) => {
                        if let Some(s) = set.as_mut() {
                            if count < s.len() {
                                let popped = s.pop_many(count, &l);
                                prop_assert_eq!(popped.len(), count);
                                for m in popped {
                                    prop_assert!(model.remove(&m), "popped a non-member or twice");
                                }
                                enc = enc_of(s);
                                check_invariants(s, &l)?;
                            }
                        }
                    }
                    Op::RandomDistinct(count) => {
                        if let Some(s) = set.as_ref() {
                            if count < s.len() {
                                let got: Vec<Vec<u8>> = s.random_distinct(count).iter().map(|m| m.to_vec()).collect();
                                let distinct: BTreeSet<_> = got.iter().cloned().collect();
                                prop_assert_eq!(distinct.len(), count);
                                prop_assert!(distinct.is_subset(&model));
                            }
                        }
                    }
                    Op::RandomRepeats(count) => {
                        if let Some(s) = set.as_ref() {
                            let mut n = 0;
                            s.random_with_repeats(count, |m| { n += 1; assert!(model.contains(&m.to_vec())); });
                            prop_assert_eq!(n, count);
                        }
                    }
                }
                if let Some(s) = set.as_ref() {
                    prop_assert_eq!(s.len(), model.len());
                    let got: BTreeSet<Vec<u8>> = members(s).into_iter().collect();
                    prop_assert_eq!(&got, &model);
                    for m in &model {
                        prop_assert!(s.contains(m));
                    }
                    check_invariants(s, &l)?;
                    if enc_of(s) == Enc::Intset {
                        let ints: Vec<i64> = members(s).iter().map(|m| parse_i64(m).unwrap()).collect();
                        prop_assert!(ints.windows(2).all(|w| w[0] < w[1]), "intset order");
                    }
                    let copy = s.clone();
                    prop_assert_eq!(copy.encoding(), s.encoding());
                    if s.is_empty() {
                        set = None;
                        enc = Enc::Intset;
                    }
                }
            }
            // The set operations against the model, with a second set.
            let other_items = ["1", "2", "a", "b", "70000", "zz"];
            let other = build(&other_items, &l);
            let other_model: BTreeSet<Vec<u8>> = other_items.iter().map(|s| s.as_bytes().to_vec()).collect();
            let sets = [set.as_ref(), Some(&other)];
            let u: BTreeSet<Vec<u8>> = members(&Set::union(&sets, &l)).into_iter().collect();
            prop_assert_eq!(u, model.union(&other_model).cloned().collect::<BTreeSet<_>>());
            let d = Set::difference(&sets, &l);
            check_invariants(&d, &l)?;
            let d: BTreeSet<Vec<u8>> = members(&d).into_iter().collect();
            prop_assert_eq!(d, model.difference(&other_model).cloned().collect::<BTreeSet<_>>());
            if let Some(s) = set.as_ref() {
                let i = Set::intersection(&[s, &other], &l);
                check_invariants(&i, &l)?;
                let i: BTreeSet<Vec<u8>> = members(&i).into_iter().collect();
                prop_assert_eq!(i, model.intersection(&other_model).cloned().collect::<BTreeSet<_>>());
            }
        }
    }
}
