//! The keyspace as a command sees it: the shards of its keys, locked for the duration of
//! the command, with Redis's access rules on top — a key past its expiry time is deleted
//! on access (lazy expiry) and reported as missing, hits and misses are counted.
//!
//! Two keyspace notifications are raised here for every command: `new` (class n) when a
//! key is added to the keyspace (Redis's dbAdd), and `keymiss` (class m) when a read
//! lookup (`get`, `get_many`, `note_read_miss`) finds nothing.
//!
//! A write to a key that clients are blocked on (BLPOP...) marks it ready: the dispatcher
//! serves those clients at the end of the command, before the locks are released
//! (`crate::blocking`).

use crate::notify::class as notify;
use crate::stats::Stats;
use crate::Server;
use parking_lot::MutexGuard;
use vireo_store::{shard_index, Db, Shard, SmallBytes, Value};

/// At most this many shards are locked without spilling to the heap.
const INLINE_GUARDS: usize = 4;

pub struct Keyspace<'a> {
    server: &'a Server,
    db_index: usize,
    guards: smallvec::SmallVec<[(usize, MutexGuard<'a, Shard>); INLINE_GUARDS]>,
    /// The keys the dispatcher locked for, with their shard index.
    known: smallvec::SmallVec<[(&'a [u8], usize); INLINE_GUARDS]>,
    now_ms: i64,
    touch: bool,
    /// Written keys with blocked clients (Redis's ready keys), not served yet.
    ready: Vec<SmallBytes>,
    /// The id of the client whose command uses the view, 0 for none (client-side
    /// caching's NOLOOP skips the writer's own invalidations).
    client: u64,
}

impl<'a> Keyspace<'a> {
    /// A view with nothing locked (commands that lock on their own, or touch no keys).
    pub fn empty(server: &'a Server, db_index: usize, now_ms: i64) -> Self {
        Keyspace {
            server,
            db_index,
            guards: smallvec::SmallVec::new(),
            known: smallvec::SmallVec::new(),
            now_ms,
            touch: true,
            ready: Vec::new(),
            client: 0,
        }
    }

    /// Locks the shards of `keys` in ascending order (so concurrent lockers can't deadlock).
    /// The key slices are kept, with their shard, so that the command's accesses to the
    /// same argument find the shard by address instead of hashing the key again.
    pub fn lock(
        server: &'a Server,
        db_index: usize,
        now_ms: i64,
        keys: impl Iterator<Item = &'a [u8]>,
    ) -> Self {
        let known: smallvec::SmallVec<[(&'a [u8], usize); INLINE_GUARDS]> =
            keys.map(|k| (k, shard_index(k))).collect();
        let db: &'a Db = &server.dbs[db_index];
        let guards = if let [(_, shard)] = known[..] {
            // The common case, one key: nothing to order.
            smallvec::smallvec![(shard, db.lock(shard))]
        } else {
            let mut shards: smallvec::SmallVec<[usize; INLINE_GUARDS]> =
                known.iter().map(|&(_, s)| s).collect();
            shards.sort_unstable();
            shards.dedup();
            shards.into_iter().map(|s| (s, db.lock(s))).collect()
        };
        Keyspace {
            server,
            db_index,
            guards,
            known,
            now_ms,
            touch: true,
            ready: Vec::new(),
            client: 0,
        }
    }

    /// Locks every shard of the database, in order: for commands whose keys depend on the
    /// data (SORT with BY/GET patterns) and can't be named up front.
    pub fn lock_all(server: &'a Server, db_index: usize, now_ms: i64) -> Self {
        let db: &'a Db = &server.dbs[db_index];
        Keyspace {
            server,
            db_index,
            guards: (0..vireo_store::SHARDS).map(|s| (s, db.lock(s))).collect(),
            known: smallvec::SmallVec::new(),
            now_ms,
            touch: true,
            ready: Vec::new(),
            client: 0,
        }
    }

    pub fn db_index(&self) -> usize {
        self.db_index
    }

    /// The server this view belongs to (for effects a lookup has on its own: the fields
    /// a hash write purges are notified and propagated).
    pub fn server(&self) -> &'a Server {
        self.server
    }

    /// The shard index of `key`.
    fn shard_of(&self, key: &[u8]) -> usize {
        // A slice at the same address and length as a locked key is that key: the locked
        // slices are borrowed for this view's whole life, so their bytes cannot change.
        self.known
            .iter()
            .find(|(k, _)| k.as_ptr() == key.as_ptr() && k.len() == key.len())
            .map_or_else(|| shard_index(key), |&(_, s)| s)
    }

    fn shard(&mut self, key: &[u8]) -> &mut Shard {
        let index = self.shard_of(key);
        let found = self.guards.iter_mut().find(|(s, _)| *s == index);
        match found {
            Some((_, guard)) => guard,
            None => not_locked(key),
        }
    }

    fn shard_ref(&self, key: &[u8]) -> &Shard {
        let index = self.shard_of(key);
        match self.guards.iter().find(|(s, _)| *s == index) {
            Some((_, guard)) => guard,
            None => not_locked(key),
        }
    }

    /// Deletes `key` if it has expired; true if it had (the key is then missing for the
    /// command). During a CLIENT PAUSE an expired key is left in place, as the dataset
    /// must not change, and only reads as missing.
    fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let now = self.now_ms;
        if !self.shard(key).is_expired(key, now) {
            return false;
        }
        if self.server.pause.is_paused(now) {
            return true;
        }
        let value = self.shard(key).remove(key);
        self.server.key_expired(self.db_index, key, value);
        self.signal_tracking(key);
        true
    }

    /// Looks a key up for reading, counting a keyspace hit or miss (and notifying
    /// `keymiss` on a miss, as Redis's read lookups do).
    pub fn get(&mut self, key: &[u8]) -> Option<&Value> {
        let server = self.server;
        let db_index = self.db_index;
        let value = self.lookup(key);
        match value {
            Some(_) => Stats::add(&server.stats.keyspace_hits, 1),
            None => {
                Stats::add(&server.stats.keyspace_misses, 1);
                server.notify(notify::KEY_MISS, "keymiss", key, db_index);
            }
        }
        value.map(|v| &*v)
    }

    /// A read lookup of `key` found nothing: the `keymiss` notification, for commands
    /// that look up with `peek` and count hits themselves (EXISTS, TYPE, TTL).
    pub fn note_read_miss(&self, key: &[u8]) {
        self.server
            .notify(notify::KEY_MISS, "keymiss", key, self.db_index);
    }

    /// A key was added to the keyspace: the `new` notification (Redis's dbAdd).
    fn added(&self, key: &[u8]) {
        self.server.notify(notify::NEW, "new", key, self.db_index);
    }

    /// Looks several keys up for reading at once, for commands that combine values
    /// (SINTER, SUNION...): each key is looked up as `get` does (lazy expiry, hit/miss
    /// counting, `keymiss`, access clock), in order, then the values are returned
    /// together. The lookups stop after the first value `accept` refuses, which is then
    /// the last one returned: Redis fails such a command with WRONGTYPE at that key and
    /// never looks up the keys after it (no miss counted, no `keymiss` for them).
    pub fn get_many<'k>(
        &mut self,
        keys: impl Iterator<Item = &'k [u8]> + Clone,
        accept: impl Fn(&Value) -> bool,
    ) -> Vec<Option<&Value>> {
        let mut looked_up = 0;
        for key in keys.clone() {
            looked_up += 1;
            if self.get(key).is_some_and(|v| !accept(v)) {
                break;
            }
        }
        keys.take(looked_up)
            .map(|key| self.shard_ref(key).keys.get(key))
            .collect()
    }

    /// Looks a key up for writing (no hit/miss accounting, as Redis's lookupKeyWrite).
    /// Either lookup stamps the key's access clock unless the client asked for NO-TOUCH.
    ///
    /// A write lookup is not a change: a command that changes the value in place says so
    /// with `Ctx::changed` / `Ctx::modified` (Redis's signalModifiedKey), so a command that
    /// changes nothing, such as SREM of a missing member, leaves WATCH alone.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.signal_if_waited(key);
        if self.expire_if_needed(key) {
            return None;
        }
        self.stamp(key)
    }

    /// `key` was changed (Redis's signalModifiedKey): flags the clients WATCHing it and
    /// invalidates it for the clients caching it (`crate::tracking`).
    pub fn signal_modified(&mut self, key: &[u8]) {
        let shard = self.shard(key);
        if shard.watched.is_some() {
            shard.touch(key);
        }
        self.signal_tracking(key);
    }

    /// Client-side caching: `key` changed (one load when nobody tracks).
    fn signal_tracking(&self, key: &[u8]) {
        let tracking = &self.server.tracking;
        if !tracking.idle() {
            tracking.key_changed(self.server, key, self.client);
        }
    }

    /// Names the client whose command uses this view.
    pub fn set_client(&mut self, id: u64) {
        self.client = id;
    }

    /// Registers `flag` as watching `key` (WATCH; the key's shard is locked); true if
    /// nobody watched the key before.
    pub(crate) fn watch(
        &mut self,
        key: &[u8],
        flag: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> bool {
        self.shard(key).watch(key, flag)
    }

    fn lookup(&mut self, key: &[u8]) -> Option<&mut Value> {
        if self.expire_if_needed(key) {
            return None;
        }
        self.stamp(key)
    }

    /// The value of a key already checked for expiry, its access clock stamped: the LRU
    /// clock, or under an LFU policy the counter's decay and logarithmic increment.
    fn stamp(&mut self, key: &[u8]) -> Option<&mut Value> {
        let touch = self.touch;
        let clock = self.lru_clock();
        let (eviction, now_ms) = (&self.server.eviction, self.now_ms);
        let value = self.shard(key).keys.get_mut(key)?;
        if touch {
            if eviction.lfu() {
                value.set_lru(eviction.lfu_touch(value.lru(), now_ms));
            } else {
                value.set_lru(clock);
            }
        }
        Some(value)
    }

    /// The LRU clock at the command's start time (one clock read per command).
    fn lru_clock(&self) -> u32 {
        crate::lru_clock_at(self.now_ms)
    }

    /// The access clock of a value about to be stored at `key`: the LRU clock, or under
    /// an LFU policy a new counter — or the counter of the value it replaces, touched, as
    /// Redis keeps the frequency of an overwritten key.
    fn store_clock(&mut self, key: &[u8]) -> u32 {
        let eviction = &self.server.eviction;
        if !eviction.lfu() {
            return self.lru_clock();
        }
        let now_ms = self.now_ms;
        match self.shard(key).keys.get(key) {
            Some(old) => eviction.lfu_touch(old.lru(), now_ms),
            None => eviction.new_clock(now_ms),
        }
    }

    /// Looks a key up without touching its access clock or the hit/miss counters
    /// (OBJECT, TYPE-like introspection).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Value> {
        if self.expire_if_needed(key) {
            return None;
        }
        self.shard(key).keys.get(key)
    }

    /// Whether lookups stamp the access clock (CLIENT NO-TOUCH turns it off).
    pub fn set_touch(&mut self, touch: bool) {
        self.touch = touch;
    }

    pub fn touches(&self) -> bool {
        self.touch
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        !self.expire_if_needed(key) && self.shard(key).keys.contains_key(key)
    }

    /// Stores a value, dropping any TTL (Redis's setKey). A key it replaces that had
    /// expired is deleted first (`expired`), so the store adds a key (`new`).
    pub fn set(&mut self, key: &[u8], mut value: Value) {
        self.signal_if_waited(key);
        self.expire_if_needed(key);
        value.set_lru(self.store_clock(key));
        let shard = self.shard(key);
        match shard.insert(key, value) {
            Some(old) => {
                shard.persist(key);
                self.free_deleted(old);
            }
            None => self.added(key),
        }
    }

    /// Frees a value this view replaced or deleted for a command (Redis's dbOverwrite and
    /// dbDelete): on the lazyfree thread when big and `lazyfree-lazy-server-del` is on.
    pub fn free_deleted(&self, value: Value) {
        let server = self.server;
        crate::lazyfree::free_deleted(value, || server.settings.read().lazyfree_lazy_server_del);
    }

    /// Stores a value, keeping the TTL of the key it replaces (SET KEEPTTL, in-place edits).
    pub fn set_keep_ttl(&mut self, key: &[u8], mut value: Value) {
        self.signal_if_waited(key);
        self.expire_if_needed(key);
        value.set_lru(self.store_clock(key));
        match self.shard(key).insert(key, value) {
            Some(old) => self.free_deleted(old),
            None => self.added(key),
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        if self.expire_if_needed(key) {
            return None;
        }
        self.shard(key).remove(key)
    }

    /// The key's expiry time in unix ms, if it exists and has one.
    pub fn expire_at(&mut self, key: &[u8]) -> Option<i64> {
        if self.expire_if_needed(key) {
            return None;
        }
        self.shard(key).expire_at(key)
    }

    /// Sets the expiry of an existing key. An expiry in the past deletes the key at once,
    /// as Redis does (and as a replica would see it: a DEL).
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) {
        if at_ms <= self.now_ms {
            self.shard(key).remove(key);
            return;
        }
        self.shard(key).set_expire(key, at_ms);
    }

    /// Sets the expiry of an existing key as given, even in the past: the key then expires
    /// on its next access or in the active cycle (SET ... EX, which Redis 7.2 stores as is).
    pub fn store_expire(&mut self, key: &[u8], at_ms: i64) {
        self.shard(key).set_expire(key, at_ms);
    }

    /// Removes a key's TTL; true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        !self.expire_if_needed(key) && self.shard(key).persist(key)
    }

    /// Records that the hash at `key` now has fields with a TTL, so the active expiry
    /// cycle visits it (HEXPIRE and friends edit hashes in place).
    pub fn note_field_ttls(&mut self, key: &[u8]) {
        self.shard(key).note_field_ttls(key);
    }
}

fn not_locked(key: &[u8]) -> ! {
    panic!(
        "key {:?} used by a command but not locked: its key specs do not name it",
        String::from_utf8_lossy(key)
    )
}

// Blocked clients: the hooks `crate::blocking` serves them through.
impl<'a> Keyspace<'a> {
    /// Marks `key` ready if clients wait on it (one word read when nobody waits in its shard).
    fn signal_if_waited(&mut self, key: &[u8]) {
        let shard = self.shard(key);
        if shard.blocking.is_some() && crate::blocking::is_waited(shard, key) {
            self.mark_ready(key);
        }
    }

    pub(crate) fn mark_ready(&mut self, key: &[u8]) {
        if !self.ready.iter().any(|k| k.as_slice() == key) {
            self.ready.push(SmallBytes::new(key));
        }
    }

    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The oldest key marked ready and not served yet.
    pub(crate) fn next_ready(&mut self) -> Option<SmallBytes> {
        (!self.ready.is_empty()).then(|| self.ready.remove(0))
    }

    /// The blocking table slot of `key`'s shard (which must be locked).
    pub(crate) fn blocking_slot(
        &mut self,
        key: &[u8],
    ) -> &mut Option<Box<dyn std::any::Any + Send>> {
        &mut self.shard(key).blocking
    }

    /// Makes sure `key`'s shard is locked, taking it only if it is free: serving a blocked
    /// client may need a shard outside the ascending order, which must not be waited for.
    pub(crate) fn try_cover(&mut self, key: &[u8]) -> bool {
        let index = shard_index(key);
        if self.guards.iter().any(|(s, _)| *s == index) {
            return true;
        }
        match self.server.dbs[self.db_index].try_lock(index) {
            Some(guard) => {
                self.guards.push((index, guard));
                true
            }
            None => false,
        }
    }
}

/// A view dropped with ready keys it did not serve (one a command made for itself, such
/// as MOVE's view of the target database) hands them to the deferred list, which the
/// dispatcher serves right after the command.
impl Drop for Keyspace<'_> {
    fn drop(&mut self) {
        for key in self.ready.drain(..) {
            self.server.blocking.defer(self.db_index, &key);
        }
    }
}
