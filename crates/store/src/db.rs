//! A database: the keyspace split into shards by hash slot (CRC16 of the key or of its
//! `{hash tag}`, mod 16384 — the Redis Cluster slot), each shard behind its own mutex.
//!
//! Keys sharing a hash tag share a shard, so multi-key operations on them lock one mutex.
//! Whoever locks several shards takes them in ascending index order (and databases in
//! ascending order before that), so concurrent lockers cannot deadlock.

use crate::bytes::SmallBytes;
use crate::dict::Dict;
use crate::value::Value;
use parking_lot::{Mutex, MutexGuard};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The clients watching keys of a shard (WATCH): by key, the "dirty" flag of each
/// watching client (Redis's CLIENT_DIRTY_CAS), set when the key changes.
pub type Watchers = HashMap<SmallBytes, Vec<Arc<AtomicBool>>>;

/// Shards per database. A power of two dividing 16384, so a shard is a set of whole slots.
pub const SHARDS: usize = 64;
pub const SLOTS: u16 = 16384;

/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the part between the first `{`
/// and the next `}` if that part is non-empty, else of the whole key.
pub fn key_hash_slot(key: &[u8]) -> u16 {
    let tagged = memchr::memchr(b'{', key).and_then(|open| {
        let rest = &key[open + 1..];
        let close = memchr::memchr(b'}', rest)?;
        (close > 0).then(|| &rest[..close])
    });
    XMODEM.checksum(tagged.unwrap_or(key)) & (SLOTS - 1)
}

/// Every command hashes its keys: sixteen bytes per table step rather than one.
const XMODEM: crc::Crc<u16, crc::Table<16>> =
    crc::Crc::<u16, crc::Table<16>>::new(&crc::CRC_16_XMODEM);

pub fn shard_index(key: &[u8]) -> usize {
    key_hash_slot(key) as usize % SHARDS
}

/// One shard: its slice of the keyspace and the expiry times (unix ms) of its keys that
/// have one, kept apart as Redis keeps `expires`, so keys without a TTL pay nothing.
/// `hexpires` names the hashes that have fields with a TTL (Redis's `hexpires`), for the
/// active expiry of fields; entries may outlive their reason (the cycle drops them).
#[derive(Default)]
pub struct Shard {
    pub keys: Dict<SmallBytes, Value>,
    pub expires: Dict<SmallBytes, i64>,
    pub hexpires: Dict<SmallBytes, ()>,
    /// The server's table of clients blocked on keys of this shard (BLPOP and friends:
    /// Redis's `blocking_keys`), `None` while nobody waits here, so a write checks one word.
    /// It lives under the shard's lock so that a client registering as a waiter and the
    /// write that serves it are serialised; the store never looks inside. It belongs to
    /// the shard's place, not to its data: `take_data` and `swap_data` (FLUSHALL, SWAPDB)
    /// leave it where it is, as Redis's blocked clients stay with their database index.
    pub blocking: Option<Box<dyn Any + Send>>,
    /// Keys of this shard that clients WATCH, `None` while nobody watches here, so a write
    /// checks one word. Under the shard's lock, so WATCH and a write of the key are
    /// ordered. Like `blocking`, it stays with the shard's place (FLUSHALL, SWAPDB).
    pub watched: Option<Box<Watchers>>,
}

impl Shard {
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Flags the clients watching `key` (every change of a key goes through here: the
    /// `Shard` methods that write call it, and in-place edits through the server's
    /// keyspace view). One word read when nobody watches in this shard.
    #[inline]
    pub fn touch(&self, key: &[u8]) {
        if let Some(watched) = &self.watched {
            if let Some(flags) = watched.get(key) {
                for flag in flags {
                    flag.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Flags the watchers of every watched key that exists here (FLUSHDB, SWAPDB: a
    /// watched key that did not exist is not changed by emptying the database).
    pub fn touch_existing(&self) {
        if let Some(watched) = &self.watched {
            for (key, flags) in watched.iter() {
                if self.keys.contains_key(key.as_slice()) {
                    for flag in flags {
                        flag.store(true, Ordering::Release);
                    }
                }
            }
        }
    }

    /// Registers `flag` as watching `key`; true if nobody watched the key before.
    pub fn watch(&mut self, key: &[u8], flag: &Arc<AtomicBool>) -> bool {
        let watched = self.watched.get_or_insert_with(Default::default);
        let (flags, new) = match watched.get_mut(key) {
            Some(flags) => (flags, false),
            None => (watched.entry(SmallBytes::new(key)).or_default(), true),
        };
        if !flags.iter().any(|f| Arc::ptr_eq(f, flag)) {
            flags.push(flag.clone());
        }
        new
    }

    /// Removes `flag` from the watchers of `key`; true if the key has no watcher left.
    pub fn unwatch(&mut self, key: &[u8], flag: &Arc<AtomicBool>) -> bool {
        let Some(watched) = self.watched.as_mut() else {
            return false;
        };
        let mut gone = false;
        if let Some(flags) = watched.get_mut(key) {
            flags.retain(|f| !Arc::ptr_eq(f, flag));
            if flags.is_empty() {
                watched.remove(key);
                gone = true;
            }
        }
        if watched.is_empty() {
            self.watched = None;
        }
        gone
    }

    /// Sets the expiry of an existing key.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) {
        self.touch(key);
        match self.expires.get_mut(key) {
            Some(at) => *at = at_ms,
            None => {
                self.expires.insert(SmallBytes::new(key), at_ms);
            }
        }
    }

    /// Removes the expiry of a key; true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let had = !self.expires.is_empty() && self.expires.remove(key).is_some();
        if had {
            self.touch(key);
        }
        had
    }

    /// Is the key logically expired at `now_ms`?
    pub fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        self.expire_at(key).is_some_and(|at| at <= now_ms)
    }

    /// Inserts or replaces a value, leaving any expiry as it is.
    pub fn insert(&mut self, key: &[u8], value: Value) -> Option<Value> {
        self.touch(key);
        if has_field_ttls(&value) {
            self.note_field_ttls(key);
        }
        if let Some(slot) = self.keys.get_mut(key) {
            return Some(std::mem::replace(slot, value));
        }
        self.keys.insert(SmallBytes::new(key), value);
        None
    }

    /// Removes a key and its expiry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let (_, value) = self.keys.remove(key)?;
        self.touch(key);
        self.persist(key);
        if has_field_ttls(&value) {
            self.hexpires.remove(key);
        }
        Some(value)
    }

    /// Records that the hash at `key` has fields with a TTL (for active field expiry).
    pub fn note_field_ttls(&mut self, key: &[u8]) {
        if !self.hexpires.contains_key(key) {
            self.hexpires.insert(SmallBytes::new(key), ());
        }
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.expires.clear();
        self.hexpires.clear();
    }

    /// Takes the keys and their expiry times (of fields too) out, leaving an empty shard (and its waiters).
    pub fn take_data(&mut self) -> Shard {
        Shard {
            keys: std::mem::take(&mut self.keys),
            expires: std::mem::take(&mut self.expires),
            hexpires: std::mem::take(&mut self.hexpires),
            blocking: None,
            watched: None,
        }
    }

    /// Exchanges keys and expiry times (of fields too) with `other`; the waiters stay where they are.
    pub fn swap_data(&mut self, other: &mut Shard) {
        std::mem::swap(&mut self.keys, &mut other.keys);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.hexpires, &mut other.hexpires);
    }
}

fn has_field_ttls(value: &Value) -> bool {
    matches!(value, Value::Hash { h, .. } if h.has_field_ttls())
}

pub struct Db {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    pub fn new() -> Self {
        Db {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    pub fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        self.shards[shard].lock()
    }

    /// Locks a shard if no one holds it: for a holder of other shards that needs one
    /// more out of the ascending order, which must not wait for it.
    pub fn try_lock(&self, shard: usize) -> Option<MutexGuard<'_, Shard>> {
        self.shards[shard].try_lock()
    }

    /// Locks every shard, in order.
    pub fn lock_all(&self) -> Vec<MutexGuard<'_, Shard>> {
        self.shards.iter().map(|s| s.lock()).collect()
    }

    /// Number of keys, expired-but-not-yet-reclaimed ones included (like DBSIZE).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().keys.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (keys, keys with an expiry) for INFO keyspace.
    pub fn counts(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(k, e), s| {
            let s = s.lock();
            (k + s.keys.len(), e + s.expires.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_slots_match_redis_cluster() {
        // Values from CLUSTER KEYSLOT on a real Redis.
        assert_eq!(key_hash_slot(b"foo"), 12182);
        assert_eq!(
            key_hash_slot(b"{user1000}.following"),
            key_hash_slot(b"user1000")
        );
        assert_eq!(key_hash_slot(b"foo{}{bar}"), key_hash_slot(b"foo{}{bar}"));
        assert_eq!(key_hash_slot(b"{}x"), xmodem_bitwise(b"{}x") & 16383);
        assert_eq!(key_hash_slot(b"bar"), 5061);
        assert_eq!(key_hash_slot(b"hello"), 866);
    }

    /// CRC-16/XMODEM bit by bit (polynomial 0x1021, initial value 0), the reference
    /// the table-driven checksum must agree with.
    fn xmodem_bitwise(data: &[u8]) -> u16 {
        let mut crc: u16 = 0;
        for &b in data {
            crc ^= (b as u16) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    #[test]
    fn hash_slots_of_keys_of_every_length_match_the_bitwise_crc() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8 & 0x7f).collect();
        for len in 0..data.len() {
            let key: Vec<u8> = data[..len]
                .iter()
                .map(|&b| if b == b'{' { b'x' } else { b })
                .collect();
            assert_eq!(
                key_hash_slot(&key),
                xmodem_bitwise(&key) & 16383,
                "length {len}"
            );
        }
    }

    #[test]
    fn expiry_lives_beside_the_key() {
        let mut s = Shard::default();
        s.insert(b"k", Value::string(b"v"));
        s.set_expire(b"k", 1000);
        assert!(s.is_expired(b"k", 1000));
        assert!(!s.is_expired(b"k", 999));
        s.remove(b"k");
        assert_eq!(s.expire_at(b"k"), None);
    }

    #[test]
    fn waiters_stay_when_data_moves() {
        let mut a = Shard::default();
        a.insert(b"k", Value::string(b"v"));
        a.blocking = Some(Box::new(7u32));
        let taken = a.take_data();
        assert!(taken.keys.contains_key(b"k".as_slice()) && taken.blocking.is_none());
        assert!(a.keys.is_empty() && a.blocking.is_some());
        let mut b = taken;
        b.swap_data(&mut a);
        assert!(a.keys.contains_key(b"k".as_slice()) && b.keys.is_empty());
        assert!(a.blocking.is_some() && b.blocking.is_none());
    }
}
