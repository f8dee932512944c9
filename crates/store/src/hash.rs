//! The hash type: fields and their values, in one of Redis's two encodings.
//!
//! **listpack.** A small hash is one listpack of alternating field and value entries, in
//! insertion order: a new field is appended, a deleted one closes its gap, an overwritten
//! one keeps its place. Lookups walk the listpack, which is fast for the few hundred
//! entries it may hold, and the whole hash costs one allocation.
//!
//! **hashtable.** Once a hash has more than `hash-max-listpack-entries` fields, or a field
//! or value longer than `hash-max-listpack-value` bytes is written to it, it becomes a
//! `Dict` of field → value. The change is one way, as in Redis: a hashtable never goes back
//! to a listpack, however small it gets. The thresholds arrive with each write as
//! [`Limits`], so a CONFIG SET applies to the next write.
//!
//! **Field expiration** (Redis 7.4's HEXPIRE family). The expiry times of fields live in a
//! side structure, [`FieldTtls`], allocated only when a field is first given a TTL, so a
//! hash without TTLs pays one null pointer. A field whose time has come (`at <= now`, `now`
//! being the command's clock) is invisible to every read; writers remove such fields
//! first ([`Hash::purge_expired`]), and the active expiry cycle removes them from hashes
//! nobody touches ([`expire_fields`]). A listpack hash that the HEXPIRE family has touched
//! reports the encoding `listpackex`, as Redis 7.4 does, for as long as it stays a listpack.
//!
//! Reads return field and value as [`LpValue`]: a listpack keeps canonical integers as
//! integers, a hashtable keeps bytes (`LpValue::Str`).

use std::collections::{BTreeSet, HashMap, HashSet};

use rand::RngExt;

use crate::bytes::SmallBytes;
use crate::db::Shard;
use crate::dict::{self, Dict};
use crate::listpack::{self, Listpack, LpValue};
use crate::value::Value;

/// Largest listpack a hash may grow to before it must become a hashtable, whatever the
/// thresholds say (Redis's LISTPACK_MAX_SAFETY_SIZE).
const LISTPACK_SAFETY_BYTES: usize = 1 << 30;

/// The conversion thresholds (`hash-max-listpack-entries`, `hash-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_listpack_entries: 512,
            max_listpack_value: 64,
        }
    }
}

type Table = Dict<SmallBytes, SmallBytes>;

#[derive(Debug)]
enum Encoding {
    Listpack(Listpack),
    /// Boxed: a `Dict` is ~100 bytes and most hashes are listpacks.
    Table(Box<Table>),
}

/// A hash value.
#[derive(Debug)]
pub struct Hash {
    enc: Encoding,
    /// Expiry times of the fields that have one. `None` until the HEXPIRE family touches
    /// the hash; on a listpack an empty `Some` is what makes it "listpackex".
    ttls: Option<Box<FieldTtls>>,
}

/// What HTTL and friends report for one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldExpiry {
    /// No such field (or it has expired).
    Missing,
    /// The field exists and has no TTL.
    Persistent,
    /// The field expires at this unix time in milliseconds.
    At(i64),
}

/// Expiry times of fields, by field and in time order (the earliest first, for purging).
#[derive(Clone, Debug, Default)]
struct FieldTtls {
    at: HashMap<SmallBytes, i64>,
    order: BTreeSet<(i64, Box<[u8]>)>,
}

impl FieldTtls {
    fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    fn earliest(&self) -> Option<i64> {
        self.order.first().map(|(at, _)| *at)
    }

    /// Has any field reached its time at `now`?
    fn any_expired(&self, now: i64) -> bool {
        self.earliest().is_some_and(|at| at <= now)
    }

    fn get(&self, field: &[u8]) -> Option<i64> {
        self.at.get(field).copied()
    }

    fn is_expired(&self, field: &[u8], now: i64) -> bool {
        self.any_expired(now) && self.get(field).is_some_and(|at| at <= now)
    }

    fn expired_count(&self, now: i64) -> usize {
        self.order.iter().take_while(|(at, _)| *at <= now).count()
    }

    fn set(&mut self, field: &[u8], at: i64) {
        if let Some(old) = self.at.insert(SmallBytes::new(field), at) {
            self.order.remove(&(old, Box::from(field)));
        }
        self.order.insert((at, Box::from(field)));
    }

    fn remove(&mut self, field: &[u8]) -> Option<i64> {
        if self.at.is_empty() {
            return None;
        }
        let at = self.at.remove(field)?;
        self.order.remove(&(at, Box::from(field)));
        Some(at)
    }

    fn heap_size(&self) -> usize {
        // Two copies of each field plus the bookkeeping of both maps, roughly.
        self.at.keys().map(|f| 2 * f.len() + 96).sum::<usize>()
    }
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        let enc = match &self.enc {
            Encoding::Listpack(lp) => Encoding::Listpack(lp.clone()),
            Encoding::Table(t) => {
                let mut copy = Table::new();
                copy.reserve(t.len());
                for (k, v) in t.iter() {
                    copy.insert(k.clone(), v.clone());
                }
                Encoding::Table(Box::new(copy))
            }
        };
        Hash {
            enc,
            ttls: self.ttls.clone(),
        }
    }
}

impl Hash {
    /// An empty hash, listpack-encoded.
    pub fn new() -> Self {
        Hash {
            enc: Encoding::Listpack(Listpack::new()),
            ttls: None,
        }
    }

    /// A hash over a listpack of distinct field/value pairs as RDB carries it (the caller
    /// checked the pairs and the limits).
    pub fn from_listpack(lp: Listpack) -> Self {
        Hash {
            enc: Encoding::Listpack(lp),
            ttls: None,
        }
    }

    /// The listpack of a listpack-encoded hash (fields past their TTL included), for
    /// RDB's byte-for-byte copy.
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match &self.enc {
            Encoding::Listpack(lp) => Some(lp),
            Encoding::Table(_) => None,
        }
    }

    /// Stored fields, those past their expiry but not yet removed included. Use
    /// [`Hash::live_len`] for what clients see.
    pub fn len(&self) -> usize {
        match &self.enc {
            Encoding::Listpack(lp) => lp.len() / 2,
            Encoding::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.enc {
            Encoding::Listpack(lp) => lp.is_empty(),
            Encoding::Table(t) => t.is_empty(),
        }
    }

    /// The encoding name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match (&self.enc, &self.ttls) {
            (Encoding::Listpack(_), None) => "listpack",
            (Encoding::Listpack(_), Some(_)) => "listpackex",
            (Encoding::Table(_), _) => "hashtable",
        }
    }

    /// Heap bytes owned beyond the struct itself.
    pub fn heap_size(&self) -> usize {
        let data = match &self.enc {
            Encoding::Listpack(lp) => lp.heap_size(),
            Encoding::Table(t) => {
                t.memory_usage()
                    + t.iter()
                        .map(|(k, v)| k.heap_size() + v.heap_size())
                        .sum::<usize>()
            }
        };
        data + self
            .ttls
            .as_ref()
            .map_or(0, |t| std::mem::size_of::<FieldTtls>() + t.heap_size())
    }

    // ---- reads: fields past their expiry at `now` are invisible ----

    /// The value of `field`.
    pub fn get(&self, field: &[u8], now: i64) -> Option<LpValue<'_>> {
        let value = match &self.enc {
            Encoding::Listpack(lp) => lp.get(lp.next(lp.find(field, 1)?)?),
            Encoding::Table(t) => LpValue::Str(t.get(field)?),
        };
        if self.is_expired(field, now) {
            return None;
        }
        Some(value)
    }

    pub fn contains(&self, field: &[u8], now: i64) -> bool {
        self.get(field, now).is_some()
    }

    /// Number of fields clients see.
    pub fn live_len(&self, now: i64) -> usize {
        let expired = self.expiring(now).map_or(0, |t| t.expired_count(now));
        self.len() - expired
    }

    /// The (field, value) pairs clients see: in insertion order for a listpack, in table
    /// order for a hashtable.
    pub fn iter(&self, now: i64) -> Iter<'_> {
        let inner = match &self.enc {
            Encoding::Listpack(lp) => Pairs::Listpack(lp.iter()),
            Encoding::Table(t) => Pairs::Table(t.iter()),
        };
        Iter {
            inner,
            expiring: self.expiring(now),
            now,
        }
    }

    /// One step of HSCAN: a listpack is returned whole with cursor 0; a hashtable visits
    /// the bucket(s) at `cursor` with `Dict::scan`'s guarantees and returns the next cursor.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        now: i64,
        mut visit: impl FnMut(LpValue<'a>, LpValue<'a>),
    ) -> u64 {
        match &self.enc {
            Encoding::Listpack(_) => {
                for (f, v) in self.iter(now) {
                    visit(f, v);
                }
                0
            }
            Encoding::Table(t) => {
                let expiring = self.expiring(now);
                t.scan(cursor, |k, v| {
                    if !expiring.is_some_and(|e| e.is_expired(k, now)) {
                        visit(LpValue::Str(k), LpValue::Str(v));
                    }
                })
            }
        }
    }

    /// A random (field, value) pair, None when no field is visible.
    pub fn random_pair(&self, now: i64) -> Option<(LpValue<'_>, LpValue<'_>)> {
        let mut pick = None;
        self.random_pairs(1, false, now, |f, v| pick = Some((f, v)));
        pick
    }

    /// HRANDFIELD's picks: `count` random pairs, each independently when `distinct` is
    /// false (repeats allowed, random order), else `min(count, live_len)` different ones.
    /// Work and memory are bounded by the hash's size, never by `count` alone.
    pub fn random_pairs<'a>(
        &'a self,
        count: usize,
        distinct: bool,
        now: i64,
        mut visit: impl FnMut(LpValue<'a>, LpValue<'a>),
    ) {
        if count == 0 {
            return;
        }
        if let Encoding::Table(t) = &self.enc {
            if self.expiring(now).is_none() {
                return random_from_table(t, count, distinct, visit);
            }
        }
        let pairs: Vec<(LpValue<'a>, LpValue<'a>)> = self.iter(now).collect();
        if pairs.is_empty() {
            return;
        }
        let mut rng = rand::rng();
        if !distinct {
            for _ in 0..count {
                let (f, v) = pairs[rng.random_range(0..pairs.len())];
                visit(f, v);
            }
            return;
        }
        if count >= pairs.len() {
            for (f, v) in pairs {
                visit(f, v);
            }
            return;
        }
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        for i in 0..count {
            let j = rng.random_range(i..order.len());
            order.swap(i, j);
            let (f, v) = pairs[order[i]];
            visit(f, v);
        }
    }

    // ---- writes: callers remove expired fields first (`purge_expired`) ----

    /// Redis's check before a write of `pairs` field/value pairs whose longest argument
    /// is `longest` bytes and which total `bytes`: a listpack becomes a hashtable up front
    /// when the pairs alone exceed the entry limit (duplicates counted), an argument is
    /// too long, or the listpack would pass its safety size.
    pub fn prepare_write(&mut self, pairs: usize, longest: usize, bytes: usize, limits: Limits) {
        let Encoding::Listpack(lp) = &self.enc else {
            return;
        };
        if pairs > limits.max_listpack_entries
            || longest > limits.max_listpack_value
            || lp.total_bytes().saturating_add(bytes) > LISTPACK_SAFETY_BYTES
        {
            self.convert_to_table(pairs);
        }
    }

    /// Sets `field` to `value`, clearing any TTL the field had (HSET overwrites it whole).
    /// True if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Some(ttls) = &mut self.ttls {
            ttls.remove(field);
        }
        self.store(field, value, limits)
    }

    /// Sets `field` to `value` keeping its TTL (HINCRBY and HINCRBYFLOAT change the value
    /// without replacing the field). True if the field is new.
    pub fn set_keep_ttl(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        self.store(field, value, limits)
    }

    fn store(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if matches!(self.enc, Encoding::Listpack(_))
            && (field.len() > limits.max_listpack_value || value.len() > limits.max_listpack_value)
        {
            self.convert_to_table(1);
        }
        match &mut self.enc {
            Encoding::Listpack(lp) => {
                if let Some(pos) = lp.find(field, 1) {
                    let value_pos = lp.next(pos).expect("a listpack hash field has a value");
                    lp.replace(value_pos, value);
                    return false;
                }
                lp.push_back(field);
                lp.push_back(value);
                if lp.len() / 2 > limits.max_listpack_entries {
                    self.convert_to_table(0);
                }
                true
            }
            // One lookup: `insert` replaces the value of an existing field in place.
            Encoding::Table(t) => t
                .insert(SmallBytes::new(field), SmallBytes::new(value))
                .is_none(),
        }
    }

    /// Removes `field` (and its TTL); true if it was there.
    pub fn delete(&mut self, field: &[u8]) -> bool {
        if let Some(ttls) = &mut self.ttls {
            ttls.remove(field);
        }
        self.delete_entry(field)
    }

    fn delete_entry(&mut self, field: &[u8]) -> bool {
        match &mut self.enc {
            Encoding::Listpack(lp) => {
                let Some(pos) = lp.find(field, 1) else {
                    return false;
                };
                let value_pos = lp.delete(pos).expect("a listpack hash field has a value");
                lp.delete(value_pos);
                true
            }
            Encoding::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Removes up to `limit` fields whose time has come at `now`, earliest first; returns
    /// how many. The hash may be left empty: the caller deletes the key then.
    pub fn purge_expired(&mut self, now: i64, limit: usize) -> usize {
        self.purge_expired_with(now, limit, |_| {})
    }

    /// `purge_expired`, calling `each` with every field removed (earliest expiry first),
    /// for the server to notify and propagate the removals.
    pub fn purge_expired_with(
        &mut self,
        now: i64,
        limit: usize,
        mut each: impl FnMut(&[u8]),
    ) -> usize {
        let mut removed = 0;
        while removed < limit {
            let Some(ttls) = self.ttls.as_mut() else {
                break;
            };
            if !ttls.any_expired(now) {
                break;
            }
            let (_, field) = ttls.order.pop_first().expect("an expired field is queued");
            ttls.at.remove(&field[..]);
            self.delete_entry(&field);
            each(&field);
            removed += 1;
        }
        self.drop_empty_ttls();
        removed
    }

    /// A hashtable without TTLs left frees the side structure; a listpack keeps it as its
    /// "listpackex" mark.
    fn drop_empty_ttls(&mut self) {
        if matches!(self.enc, Encoding::Table(_))
            && self.ttls.as_ref().is_some_and(|t| t.is_empty())
        {
            self.ttls = None;
        }
    }

    fn convert_to_table(&mut self, reserve: usize) {
        let Encoding::Listpack(lp) = &self.enc else {
            return;
        };
        let mut table = Table::new();
        table.reserve(reserve.max(lp.len() / 2));
        let mut digits_f = itoa::Buffer::new();
        let mut digits_v = itoa::Buffer::new();
        let mut entries = lp.iter();
        while let (Some(f), Some(v)) = (entries.next(), entries.next()) {
            table.insert(
                SmallBytes::new(f.as_bytes(&mut digits_f)),
                SmallBytes::new(v.as_bytes(&mut digits_v)),
            );
        }
        self.enc = Encoding::Table(Box::new(table));
        self.drop_empty_ttls();
    }

    // ---- field expiration ----

    /// Does any field have a TTL? (Decides membership in the shard's `hexpires` index.)
    pub fn has_field_ttls(&self) -> bool {
        self.ttls.as_ref().is_some_and(|t| !t.is_empty())
    }

    /// The earliest field expiry, if any field has a TTL.
    pub fn earliest_field_expiry(&self) -> Option<i64> {
        self.ttls.as_ref().and_then(|t| t.earliest())
    }

    /// What HTTL and friends report for `field` at `now`.
    pub fn field_expiry(&self, field: &[u8], now: i64) -> FieldExpiry {
        if !self.contains(field, now) {
            return FieldExpiry::Missing;
        }
        match self.ttls.as_ref().and_then(|t| t.get(field)) {
            Some(at) => FieldExpiry::At(at),
            None => FieldExpiry::Persistent,
        }
    }

    /// Marks the hash as used by the HEXPIRE family (Redis converts a listpack to its
    /// "listpackex" layout at that point, whatever the fields turn out to be).
    pub fn start_field_expiry(&mut self) {
        if self.ttls.is_none() {
            self.ttls = Some(Box::default());
        }
    }

    /// Gives an existing field the expiry time `at` (unix ms).
    pub fn set_field_expiry(&mut self, field: &[u8], at: i64) {
        self.ttls.get_or_insert_with(Box::default).set(field, at);
    }

    /// Removes a field's TTL; true if it had one.
    pub fn persist_field(&mut self, field: &[u8]) -> bool {
        let removed = self.ttls.as_mut().and_then(|t| t.remove(field)).is_some();
        self.drop_empty_ttls();
        removed
    }

    /// The TTLs to filter reads with at `now`: Some only when some field has expired, so
    /// the common case checks one integer.
    fn expiring(&self, now: i64) -> Option<&FieldTtls> {
        self.ttls.as_deref().filter(|t| t.any_expired(now))
    }

    fn is_expired(&self, field: &[u8], now: i64) -> bool {
        self.expiring(now).is_some_and(|t| t.is_expired(field, now))
    }
}

/// Picks from a hashtable with no expired fields, as Redis's HRANDFIELD does: independent
/// draws; the whole table; the table minus random entries (when most of it is wanted); or
/// distinct random draws (when few are).
fn random_from_table<'a>(
    t: &'a Table,
    count: usize,
    distinct: bool,
    mut visit: impl FnMut(LpValue<'a>, LpValue<'a>),
) {
    let pair = |(k, v): (&'a SmallBytes, &'a SmallBytes)| (LpValue::Str(k), LpValue::Str(v));
    if !distinct {
        for _ in 0..count {
            let Some((f, v)) = t.random_entry().map(pair) else {
                return;
            };
            visit(f, v);
        }
        return;
    }
    if count >= t.len() {
        for (f, v) in t.iter().map(pair) {
            visit(f, v);
        }
        return;
    }
    let mut rng = rand::rng();
    if count.saturating_mul(3) > t.len() {
        let mut all: Vec<_> = t.iter().collect();
        while all.len() > count {
            let i = rng.random_range(0..all.len());
            all.swap_remove(i);
        }
        for (f, v) in all.into_iter().map(pair) {
            visit(f, v);
        }
        return;
    }
    let mut seen: HashSet<*const SmallBytes> = HashSet::with_capacity(count);
    while seen.len() < count {
        let Some((k, v)) = t.random_entry() else {
            return;
        };
        if seen.insert(k as *const SmallBytes) {
            visit(LpValue::Str(k), LpValue::Str(v));
        }
    }
}

/// The visible (field, value) pairs of a hash; see [`Hash::iter`].
pub struct Iter<'a> {
    inner: Pairs<'a>,
    /// Set only when some field has expired at `now`.
    expiring: Option<&'a FieldTtls>,
    now: i64,
}

enum Pairs<'a> {
    Listpack(listpack::Iter<'a>),
    Table(dict::Iter<'a, SmallBytes, SmallBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (LpValue<'a>, LpValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (f, v) = match &mut self.inner {
                Pairs::Listpack(it) => (it.next()?, it.next()?),
                Pairs::Table(it) => {
                    let (k, v) = it.next()?;
                    (LpValue::Str(k), LpValue::Str(v))
                }
            };
            let Some(ttls) = self.expiring else {
                return Some((f, v));
            };
            let mut digits = itoa::Buffer::new();
            if !ttls.is_expired(f.as_bytes(&mut digits), self.now) {
                return Some((f, v));
            }
        }
    }
}

/// Keys sampled per shard and tick by the active field-expiry cycle.
pub const ACTIVE_EXPIRE_KEYS: usize = 20;
/// Fields one key may lose per tick, so one huge hash cannot hold a shard's lock long.
pub const ACTIVE_EXPIRE_FIELDS_PER_KEY: usize = 1000;

/// What one round of [`expire_fields`] did on a shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldExpireRound {
    /// Hash keys looked at.
    pub sampled: usize,
    /// Fields removed.
    pub fields: usize,
    /// Keys deleted because their last field expired.
    pub keys_deleted: usize,
}

/// The active expiry of hash fields on one shard: samples keys of its `hexpires` index
/// (hashes that have fields with a TTL), removes their expired fields (at most
/// `ACTIVE_EXPIRE_FIELDS_PER_KEY` each), deletes hashes left empty, and drops index
/// entries that no longer name a hash with TTLs. Work is bounded by `keys`. `expired` is
/// called for each hash that lost fields, with the key, the fields removed and whether
/// the key was deleted, after the fact (for notifications and propagation).
pub fn expire_fields(
    shard: &mut Shard,
    now: i64,
    keys: usize,
    mut expired: impl FnMut(&[u8], Vec<Box<[u8]>>, bool),
) -> FieldExpireRound {
    let mut round = FieldExpireRound::default();
    if shard.hexpires.is_empty() {
        return round;
    }
    let mut sampled: Vec<SmallBytes> = Vec::with_capacity(keys.min(shard.hexpires.len()));
    shard
        .hexpires
        .sample(keys, |key, _| sampled.push(key.clone()));
    sampled.dedup();
    for key in &sampled {
        round.sampled += 1;
        let hash = match shard.keys.get_mut(&key[..]) {
            Some(Value::Hash { h, .. }) if h.has_field_ttls() => h,
            _ => {
                shard.hexpires.remove(&key[..]);
                continue;
            }
        };
        let mut fields = Vec::new();
        if hash.earliest_field_expiry().is_some_and(|at| at <= now) {
            round.fields += hash.purge_expired_with(now, ACTIVE_EXPIRE_FIELDS_PER_KEY, |f| {
                fields.push(Box::from(f))
            });
        }
        let emptied = hash.is_empty();
        if emptied {
            shard.remove(key);
            round.keys_deleted += 1;
        } else {
            if !hash.has_field_ttls() {
                shard.hexpires.remove(&key[..]);
            }
            if !fields.is_empty() {
                shard.touch(key);
            }
        }
        if !fields.is_empty() {
            expired(key, fields, emptied);
        }
    }
    round
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn tiny() -> Limits {
        Limits {
            max_listpack_entries: 4,
            max_listpack_value: 8,
        }
    }

    fn pairs(h: &Hash, now: i64) -> Vec<(Vec<u8>, Vec<u8>)> {
        h.iter(now).map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
    }

    #[test]
    fn listpack_keeps_insertion_order_and_converts_past_the_entry_limit() {
        let mut h = Hash::new();
        for (i, f) in ["a", "b", "c", "d"].iter().enumerate() {
            assert!(h.set(f.as_bytes(), i.to_string().as_bytes(), tiny()));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.set(b"b", b"x", tiny()));
        let got = pairs(&h, 0);
        assert_eq!(got[1], (b"b".to_vec(), b"x".to_vec()));
        assert_eq!(got[3], (b"d".to_vec(), b"3".to_vec()));
        assert!(h.set(b"e", b"4", tiny()));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        // One way: deleting back under the limit keeps the table.
        for f in ["a", "b", "c", "d"] {
            assert!(h.delete(f.as_bytes()));
        }
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"e", 0), Some(LpValue::Str(b"4")));
    }

    #[test]
    fn long_field_or_value_converts() {
        let mut h = Hash::new();
        h.set(b"f", b"12345678", tiny());
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f", b"123456789", tiny());
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.prepare_write(5, 1, 10, tiny());
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn integers_come_back_as_written() {
        let mut h = Hash::new();
        h.set(b"12", b"-7", tiny());
        h.set(b"012", b"x", tiny());
        assert_eq!(h.get(b"12", 0), Some(LpValue::Int(-7)));
        assert_eq!(h.get(b"012", 0), Some(LpValue::Str(b"x")));
        assert_eq!(h.get(b"12.0", 0), None);
    }

    #[test]
    fn expired_fields_are_invisible_then_purged() {
        let mut h = Hash::new();
        h.set(b"a", b"1", tiny());
        h.set(b"b", b"2", tiny());
        h.start_field_expiry();
        assert_eq!(h.encoding(), "listpackex");
        h.set_field_expiry(b"a", 100);
        assert_eq!(h.field_expiry(b"a", 99), FieldExpiry::At(100));
        assert_eq!(h.field_expiry(b"b", 99), FieldExpiry::Persistent);
        assert_eq!(h.live_len(99), 2);
        assert_eq!(h.live_len(100), 1);
        assert_eq!(h.get(b"a", 100), None);
        assert_eq!(h.field_expiry(b"a", 100), FieldExpiry::Missing);
        assert_eq!(pairs(&h, 100), vec![(b"b".to_vec(), b"2".to_vec())]);
        assert_eq!(h.len(), 2);
        assert_eq!(h.purge_expired(100, usize::MAX), 1);
        assert_eq!(h.len(), 1);
        assert!(!h.has_field_ttls());
        assert_eq!(h.encoding(), "listpackex");
        // Overwriting a field clears its TTL; incrementing keeps it.
        h.set_field_expiry(b"b", 200);
        h.set_keep_ttl(b"b", b"3", tiny());
        assert_eq!(h.field_expiry(b"b", 0), FieldExpiry::At(200));
        h.set(b"b", b"4", tiny());
        assert_eq!(h.field_expiry(b"b", 0), FieldExpiry::Persistent);
    }

    #[test]
    fn random_picks_respect_distinctness() {
        for limits in [tiny(), Limits::default()] {
            let mut h = Hash::new();
            for i in 0..10 {
                h.set(format!("f{i}").as_bytes(), b"v", limits);
            }
            for count in [1, 2, 3, 4, 9, 10, 11, 50] {
                let mut seen = Vec::new();
                h.random_pairs(count, true, 0, |f, _| seen.push(f.to_vec()));
                assert_eq!(seen.len(), count.min(10));
                seen.sort();
                seen.dedup();
                assert_eq!(seen.len(), count.min(10));
                let mut n = 0;
                h.random_pairs(count, false, 0, |_, _| n += 1);
                assert_eq!(n, count);
            }
        }
    }

    #[test]
    fn active_expiry_deletes_emptied_hashes_and_stale_index_entries() {
        let mut shard = Shard::default();
        let mut h = Hash::new();
        h.set(b"a", b"1", tiny());
        h.set_field_expiry(b"a", 10);
        shard.insert(b"k", Value::hash(h));
        assert_eq!(shard.hexpires.len(), 1);
        shard.insert(b"gone", Value::string(b"x"));
        shard.hexpires.insert(SmallBytes::new(b"gone"), ());
        let mut total = FieldExpireRound::default();
        for _ in 0..10 {
            let r = expire_fields(&mut shard, 10, 20, |_, _, _| {});
            total.fields += r.fields;
            total.keys_deleted += r.keys_deleted;
        }
        assert_eq!((total.fields, total.keys_deleted), (1, 1));
        assert!(shard.keys.get(&b"k"[..]).is_none());
        assert!(shard.hexpires.is_empty());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Vec<u8>),
        Incr(u8),
        Delete(u8),
        Expire(u8, i64),
        Persist(u8),
        Advance(i64),
        Purge,
    }

    fn op() -> impl Strategy<Value = Op> {
        let value = prop_oneof![
            proptest::collection::vec(b'a'..=b'c', 0..12),
            (-20i64..20).prop_map(|n| n.to_string().into_bytes()),
        ];
        prop_oneof![
            4 => (0u8..12, value).prop_map(|(f, v)| Op::Set(f, v)),
            1 => (0u8..12).prop_map(Op::Incr),
            2 => (0u8..12).prop_map(Op::Delete),
            1 => (0u8..12, 0i64..30).prop_map(|(f, t)| Op::Expire(f, t)),
            1 => (0u8..12).prop_map(Op::Persist),
            1 => (0i64..10).prop_map(Op::Advance),
            1 => Just(Op::Purge),
        ]
    }

    fn field(f: u8) -> Vec<u8> {
        // Some fields are integers (stored as such in a listpack), one is long.
        match f {
            0..=3 => f.to_string().into_bytes(),
            11 => b"a-field-longer-than-eight".to_vec(),
            _ => format!("f{f}").into_bytes(),
        }
    }

    proptest! {
        /// Random edits agree with a BTreeMap model (value, optional expiry), through
        /// conversions at tiny thresholds, with expired fields invisible to reads.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec(op(), 0..80)) {
            let mut h = Hash::new();
            let mut model: BTreeMap<Vec<u8>, (Vec<u8>, Option<i64>)> = BTreeMap::new();
            let mut now = 0i64;
            let mut was_table = false;
            for op in ops {
                // Writers purge first, as the commands do.
                h.purge_expired(now, usize::MAX);
                model.retain(|_, (_, at)| at.is_none_or(|at| at > now));
                match op {
                    Op::Set(f, v) => {
                        let f = field(f);
                        let new = h.set(&f, &v, tiny());
                        prop_assert_eq!(new, model.insert(f, (v, None)).is_none());
                    }
                    Op::Incr(f) => {
                        let f = field(f);
                        let old = model.get(&f).cloned();
                        let n = old.as_ref().map_or(Some(0), |(v, _)| crate::num::parse_i64(v));
                        if let Some(n) = n {
                            let v = (n + 1).to_string().into_bytes();
                            h.set_keep_ttl(&f, &v, tiny());
                            let at = old.and_then(|(_, at)| at);
                            model.insert(f, (v, at));
                        }
                    }
                    Op::Delete(f) => {
                        let f = field(f);
                        prop_assert_eq!(h.delete(&f), model.remove(&f).is_some());
                    }
                    Op::Expire(f, t) => {
                        let f = field(f);
                        if let Some((_, at)) = model.get_mut(&f) {
                            h.start_field_expiry();
                            h.set_field_expiry(&f, now + t);
                            *at = Some(now + t);
                        }
                    }
                    Op::Persist(f) => {
                        let f = field(f);
                        let had = model.get_mut(&f).and_then(|(_, at)| at.take()).is_some();
                        prop_assert_eq!(h.persist_field(&f), had);
                    }
                    Op::Advance(d) => now += d,
                    Op::Purge => {}
                }
                let live: BTreeMap<_, _> = model
                    .iter()
                    .filter(|(_, (_, at))| at.is_none_or(|at| at > now))
                    .map(|(f, (v, _))| (f.clone(), v.clone()))
                    .collect();
                let got: BTreeMap<_, _> = pairs(&h, now).into_iter().collect();
                prop_assert_eq!(&got, &live);
                prop_assert_eq!(h.live_len(now), live.len());
                for f in 0..12 {
                    let f = field(f);
                    prop_assert_eq!(h.get(&f, now).map(|v| v.to_vec()), live.get(&f).cloned());
                }
                let is_table = h.encoding() == "hashtable";
                prop_assert!(!was_table || is_table, "a hashtable went back to a listpack");
                was_table = is_table;
                if !is_table {
                    prop_assert!(h.len() <= tiny().max_listpack_entries);
                }
                let mut scanned = BTreeMap::new();
                let mut cursor = 0;
                loop {
                    cursor = h.scan(cursor, now, |f, v| { scanned.insert(f.to_vec(), v.to_vec()); });
                    if cursor == 0 { break; }
                }
                prop_assert_eq!(&scanned, &live);
                let copy = h.clone();
                prop_assert_eq!(pairs(&copy, now).into_iter().collect::<BTreeMap<_, _>>(), live);
            }
        }
    }
}
