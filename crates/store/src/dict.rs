//! The keyspace hash table: Redis's dict, with incremental rehashing and a SCAN cursor that
//! survives resizes.
//!
//! **Layout.** A chained hash table whose bucket array has a power-of-two length, so a key's
//! bucket is `hash & mask`. Each entry is one heap node holding key, value and the link to
//! the next node of its chain — one allocation per entry and nothing else. A bucket is that
//! link alone (8 bytes, null when empty). The hash is not stored: a resize recomputes it,
//! trading some CPU during a resize for 8 bytes on every key.
//!
//! **Incremental rehashing.** A resize never moves every entry at once. It allocates a second
//! bucket array (`tables[1]`) and then moves `tables[0]`'s buckets into it in index order,
//! starting at `rehash_idx`: each write (insert, remove, `get_mut`) moves one bucket, and the
//! server's periodic task calls [`Dict::rehash_step`] to move more. While both tables exist,
//! a lookup tries `tables[0]` (unless its bucket was already moved) and then `tables[1]`; new
//! entries always go to `tables[1]`. When `tables[0]` is empty, `tables[1]` takes its place.
//! The table doubles when it holds as many entries as buckets, and shrinks to the smallest
//! power of two that holds its entries when fewer than 10% of its buckets would be used. The
//! only up-front cost of a resize is allocating the new, zeroed bucket array.
//!
//! **SCAN cursor.** The cursor is a bucket index counted in *reversed bit order*: the highest
//! bit of the index changes fastest. In a table of 2^n buckets, bucket `i` holds exactly the
//! keys that a table of 2^(n+k) buckets spreads over the buckets agreeing with `i` in their
//! low n bits. Because the low bits are the slow-moving ones of a reversed counter, all those
//! expansions are adjacent in cursor order. So if the table grows between two calls, every
//! bucket behind the cursor in the big table comes from a bucket already visited in the small
//! one; if it shrinks, the bucket the cursor lands on merges buckets that were either visited
//! (duplicates, which SCAN allows) or not yet reached, never skipped ones. During a rehash a
//! call visits the cursor's bucket in the smaller table and then every bucket of the larger
//! table that it expands into, so it does not matter which table an entry is in. Hence every
//! entry present from the first call to the last is returned at least once; some may be
//! returned more than once. A cursor of 0 starts a scan, and 0 is returned when it is done.

use std::alloc::{self, Layout};
use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::iter::Chain;
use std::sync::OnceLock;
use std::{mem, slice};

use foldhash::SharedSeed;
use rand::RngExt;

/// The hasher `Dict` uses unless told otherwise.
pub type DefaultHashBuilder = RandomState;

/// foldhash (see the crate's Cargo.toml for why) keyed by a process-wide seed drawn once from
/// the OS's random source, plus a random per-table seed, so that clients cannot precompute
/// colliding keys (HashDoS). foldhash's own `RandomState` derives its process seed from
/// address-space layout and the clock instead, which is weaker.
#[derive(Clone, Debug)]
pub struct RandomState(foldhash::fast::SeedableRandomState);

impl Default for RandomState {
    fn default() -> Self {
        static PROCESS_SEED: OnceLock<SharedSeed> = OnceLock::new();
        let shared = PROCESS_SEED.get_or_init(|| SharedSeed::from_u64(rand::random()));
        RandomState(foldhash::fast::SeedableRandomState::with_seed(
            rand::random(),
            shared,
        ))
    }
}

impl BuildHasher for RandomState {
    type Hasher = foldhash::fast::FoldHasher<'static>;

    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

/// Bucket count of a table's first allocation (Redis's DICT_HT_INITIAL_SIZE).
const INITIAL_BUCKETS: usize = 4;
/// A table shrinks when fewer than this percentage of its buckets would be used.
const MIN_FILL_PERCENT: usize = 10;
/// A rehash step asked to move n buckets gives up after n × this many empty ones, so one
/// write never walks a long empty stretch of a sparse table.
const EMPTY_VISITS_PER_BUCKET: usize = 10;
/// `random_entry` draws this many random buckets before falling back to a linear probe.
const RANDOM_BUCKET_TRIES: usize = 100;
/// `sample` looks at no more than this many buckets per entry asked for.
const SAMPLE_STEPS_PER_ENTRY: usize = 10;
/// `sample` jumps to a new random bucket after this many empty ones in a row (and more empty
/// buckets than entries asked for).
const SAMPLE_MAX_EMPTY_RUN: usize = 5;

type Link<K, V> = Option<Box<Node<K, V>>>;
/// The buckets of both tables, in order.
type Buckets<'a, K, V> = Chain<slice::Iter<'a, Link<K, V>>, slice::Iter<'a, Link<K, V>>>;
type BucketsMut<'a, K, V> = Chain<slice::IterMut<'a, Link<K, V>>, slice::IterMut<'a, Link<K, V>>>;

struct Node<K, V> {
    key: K,
    value: V,
    next: Link<K, V>,
}

/// One bucket array and the number of entries chained from it.
struct Table<K, V> {
    buckets: Vec<Link<K, V>>,
    used: usize,
}

impl<K, V> Table<K, V> {
    fn empty() -> Self {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }

    /// A table of `n` empty buckets (`n` a power of two).
    fn with_buckets(n: usize) -> Self {
        debug_assert!(n.is_power_of_two());
        Table {
            buckets: zeroed_buckets(n),
            used: 0,
        }
    }

    fn size(&self) -> usize {
        self.buckets.len()
    }

    /// The bucket of `hash`; the table must have buckets.
    fn index(&self, hash: u64) -> usize {
        hash as usize & (self.buckets.len() - 1)
    }

    /// Links `node` at the head of bucket `index`; returns it.
    fn push(&mut self, index: usize, mut node: Box<Node<K, V>>) -> &mut Node<K, V> {
        let bucket = &mut self.buckets[index];
        node.next = bucket.take();
        self.used += 1;
        bucket.insert(node)
    }
}

impl<K, V> Drop for Table<K, V> {
    fn drop(&mut self) {
        if self.used == 0 {
            // Every bucket is None: skip the drop loop over a possibly huge array, so finishing
            // a rehash or shrinking an emptied table costs a free, not a pass over memory.
            // SAFETY: length 0 is within capacity and leaves no element initialized-but-
            // unreachable that needed dropping (all were None).
            unsafe { self.buckets.set_len(0) };
            return;
        }
        // Unlink chains one node at a time: the default drop would recurse once per node.
        for bucket in &mut self.buckets {
            let mut link = bucket.take();
            while let Some(mut node) = link {
                link = node.next.take();
            }
        }
    }
}

/// A vector of `n` null links, from zeroed memory: large arrays then come straight from
/// fresh pages the OS has already zeroed, instead of being written bucket by bucket.
fn zeroed_buckets<K, V>(n: usize) -> Vec<Link<K, V>> {
    let layout = Layout::array::<Link<K, V>>(n).expect("bucket array size overflows");
    if layout.size() == 0 {
        return Vec::new();
    }
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc::alloc_zeroed(layout) } as *mut Link<K, V>;
    if ptr.is_null() {
        alloc::handle_alloc_error(layout);
    }
    // SAFETY: `ptr` comes from the global allocator with the layout of an array of `n` links,
    // which is what a Vec of capacity `n` uses; all-zero bytes are a valid `None` for
    // `Option<Box<_>>` (guaranteed by Option's documented null-pointer representation), so
    // all `n` elements are initialized.
    unsafe { Vec::from_raw_parts(ptr, n, n) }
}

/// Has bucket `index` of `tables[0]` already been moved to `tables[1]`?
fn already_moved(rehash_idx: Option<usize>, index: usize) -> bool {
    rehash_idx.is_some_and(|r| index < r)
}

fn buckets_for(entries: usize) -> usize {
    entries.max(INITIAL_BUCKETS).next_power_of_two()
}

/// The cursor after `cursor` in reversed-bit order over the bits of `mask`. Bits above the
/// mask are set first so that the carry runs through them, and comes out cleared.
fn next_cursor(cursor: u64, mask: u64) -> u64 {
    (cursor | !mask)
        .reverse_bits()
        .wrapping_add(1)
        .reverse_bits()
}

fn chain_find<'a, K, V, Q>(mut link: &'a Link<K, V>, key: &Q) -> Option<&'a Node<K, V>>
where
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    while let Some(node) = link {
        if node.key.borrow() == key {
            return Some(node);
        }
        link = &node.next;
    }
    None
}

fn chain_find_mut<'a, K, V, Q>(link: &'a mut Link<K, V>, key: &Q) -> Option<&'a mut Node<K, V>>
where
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    let mut cur = link.as_deref_mut();
    while let Some(node) = cur {
        if node.key.borrow() == key {
            return Some(node);
        }
        cur = node.next.as_deref_mut();
    }
    None
}

/// Unlinks and returns the node holding `key`, if any.
fn chain_unlink<K, V, Q>(mut link: &mut Link<K, V>, key: &Q) -> Option<Box<Node<K, V>>>
where
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    loop {
        let found = match link {
            None => return None,
            Some(node) => node.key.borrow() == key,
        };
        if found {
            let mut node = link.take()?;
            *link = node.next.take();
            return Some(node);
        }
        link = &mut link.as_mut()?.next;
    }
}

/// Unlinks the nodes `keep` rejects; returns how many it unlinked. A panic in `keep` leaves
/// the chain intact.
fn chain_retain<K, V>(
    mut link: &mut Link<K, V>,
    keep: &mut impl FnMut(&K, &mut V) -> bool,
) -> usize {
    let mut removed = 0;
    loop {
        let kept = match link.as_deref_mut() {
            None => return removed,
            Some(node) => keep(&node.key, &mut node.value),
        };
        if kept {
            match link {
                Some(node) => link = &mut node.next,
                None => return removed,
            }
        } else if let Some(mut node) = link.take() {
            *link = node.next.take();
            removed += 1;
        }
    }
}

fn chain_len<K, V>(mut link: Option<&Node<K, V>>) -> usize {
    let mut n = 0;
    while let Some(node) = link {
        n += 1;
        link = node.next.as_deref();
    }
    n
}

/// A chained hash table with incremental rehashing; see the module documentation.
pub struct Dict<K, V, S = DefaultHashBuilder> {
    tables: [Table<K, V>; 2],
    /// Next bucket of `tables[0]` to move into `tables[1]`; `None` when not rehashing.
    /// Invariant: `Some` exactly when `tables[1]` has buckets.
    rehash_idx: Option<usize>,
    hasher: S,
}

impl<K: Hash + Eq, V, S: BuildHasher + Default> Default for Dict<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: Hash + Eq, V> Dict<K, V, DefaultHashBuilder> {
    /// An empty dict; it allocates nothing until the first insert.
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> Dict<K, V, S> {
    pub fn with_hasher(hasher: S) -> Self {
        Dict {
            tables: [Table::empty(), Table::empty()],
            rehash_idx: None,
            hasher,
        }
    }

    pub fn len(&self) -> usize {
        self.tables[0].used + self.tables[1].used
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buckets allocated in both tables (for DEBUG HTSTATS-style reporting).
    pub fn bucket_count(&self) -> usize {
        self.tables[0].size() + self.tables[1].size()
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).map(|node| &node.value)
    }

    /// A lookup for writing: also moves a bucket if a rehash is under way.
    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.rehash_on_write();
        let hash = self.hasher.hash_one(key);
        self.find_mut(hash, key).map(|node| &mut node.value)
    }

    pub fn get_key_value<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.find(key).map(|node| (&node.key, &node.value))
    }

    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_some()
    }

    /// Inserts or replaces; returns the previous value. A replaced entry keeps its old key.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.rehash_on_write();
        let hash = self.hasher.hash_one(&key);
        if let Some(node) = self.find_mut(hash, &key) {
            return Some(mem::replace(&mut node.value, value));
        }
        self.add(hash, key, value);
        None
    }

    /// The value of `key`, inserting `default()` first if it is missing.
    pub fn get_or_insert_with(&mut self, key: K, default: impl FnOnce() -> V) -> &mut V {
        self.rehash_on_write();
        let hash = self.hasher.hash_one(&key);
        if self.find_hashed(hash, &key).is_none() {
            return &mut self.add(hash, key, default()).value;
        }
        let node = self.find_mut(hash, &key).expect("entry found just above");
        &mut node.value
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
    {
        self.rehash_on_write();
        if self.is_empty() {
            return None;
        }
        let hash = self.hasher.hash_one(key);
        let node = self.unlink(hash, key)?;
        self.shrink_if_needed();
        let Node { key, value, .. } = *node;
        Some((key, value))
    }

    /// Removes every entry and frees the bucket arrays.
    pub fn clear(&mut self) {
        self.tables = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    /// Makes room for `additional` more entries without growing, so a bulk load (an RDB's
    /// RESIZEDB hint) skips the intermediate resizes. Starts a rehash if entries must move;
    /// does nothing while one is under way.
    pub fn reserve(&mut self, additional: usize) {
        if self.is_rehashing() {
            return;
        }
        let wanted = buckets_for(self.len().saturating_add(additional));
        if wanted <= self.tables[0].size() {
            return;
        }
        if self.is_empty() {
            self.tables[0] = Table::with_buckets(wanted);
        } else {
            self.start_rehash(wanted);
        }
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        let [t0, t1] = &self.tables;
        Iter {
            buckets: t0.buckets.iter().chain(t1.buckets.iter()),
            node: None,
            left: self.len(),
        }
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        let left = self.len();
        let [t0, t1] = &mut self.tables;
        IterMut {
            buckets: t0.buckets.iter_mut().chain(t1.buckets.iter_mut()),
            node: None,
            left,
        }
    }

    /// Keeps only the entries for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for table in &mut self.tables {
            for bucket in &mut table.buckets {
                table.used -= chain_retain(bucket, &mut keep);
            }
        }
        self.shrink_if_needed();
    }

    /// Takes every entry out; the dict is left empty with no buckets. Entries the returned
    /// iterator does not yield are dropped with it.
    pub fn drain(&mut self) -> Drain<K, V> {
        let left = self.len();
        let tables = mem::replace(&mut self.tables, [Table::empty(), Table::empty()]);
        self.rehash_idx = None;
        Drain {
            tables,
            table: 0,
            bucket: 0,
            left,
        }
    }

    /// Approximate bytes used by the table: the struct, the bucket arrays and the nodes, not
    /// counting memory that keys and values own elsewhere nor allocator rounding.
    pub fn memory_usage(&self) -> usize {
        mem::size_of::<Self>()
            + self.bucket_count() * mem::size_of::<Link<K, V>>()
            + self.len() * mem::size_of::<Node<K, V>>()
    }

    /// Visits the entries of the bucket(s) at `cursor`; returns the next cursor, 0 when the
    /// scan is done. Every entry present for the whole scan is visited at least once, even if
    /// the table is resized between calls (see the module documentation).
    pub fn scan<'a>(&'a self, cursor: u64, mut visit: impl FnMut(&'a K, &'a V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let [t0, t1] = &self.tables;
        let (small, big) = match self.rehash_idx {
            None => (t0, None),
            Some(_) if t0.size() <= t1.size() => (t0, Some(t1)),
            Some(_) => (t1, Some(t0)),
        };
        let small_mask = small.size() as u64 - 1;
        let mut cursor = cursor;
        visit_chain(&small.buckets[(cursor & small_mask) as usize], &mut visit);
        let Some(big) = big else {
            return next_cursor(cursor, small_mask);
        };
        // Visit every expansion of the small bucket: the big mask's extra bits count up
        // (reversed) until they wrap, which carries into the small mask's bits and leaves
        // the cursor on the small table's next bucket.
        let big_mask = big.size() as u64 - 1;
        loop {
            visit_chain(&big.buckets[(cursor & big_mask) as usize], &mut visit);
            cursor = next_cursor(cursor, big_mask);
            if cursor & (small_mask ^ big_mask) == 0 {
                return cursor;
            }
        }
    }

    /// A random entry, or None when empty: a random non-empty bucket, then a random entry of
    /// its chain (so entries in long chains are a little less likely).
    pub fn random_entry(&self) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        let mut rng = rand::rng();
        let span = self.random_span();
        let head = (0..RANDOM_BUCKET_TRIES)
            .find_map(|_| self.position(rng.random_range(0..span)))
            .or_else(|| {
                let start = rng.random_range(0..span);
                (0..span).find_map(|i| self.position((start + i) % span))
            })?;
        let pick = rng.random_range(0..chain_len(Some(head)));
        let mut node = head;
        for _ in 0..pick {
            node = node.next.as_deref()?;
        }
        Some((&node.key, &node.value))
    }

    /// Visits up to `count` entries found from random positions, with work bounded by
    /// `count`: for active expiry and eviction sampling (Redis's dictGetSomeKeys). It may
    /// visit fewer entries than asked for, and occasionally the same entry twice.
    pub fn sample(&self, count: usize, mut visit: impl FnMut(&K, &V)) {
        let count = count.min(self.len());
        if count == 0 {
            return;
        }
        let mut rng = rand::rng();
        let span = self.random_span();
        let mut pos = rng.random_range(0..span);
        let mut visited = 0;
        let mut empty_run = 0;
        for _ in 0..count.saturating_mul(SAMPLE_STEPS_PER_ENTRY) {
            let mut link = self.position(pos);
            if link.is_none() {
                empty_run += 1;
                if empty_run >= SAMPLE_MAX_EMPTY_RUN && empty_run > count {
                    pos = rng.random_range(0..span);
                    empty_run = 0;
                } else {
                    pos = (pos + 1) % span;
                }
                continue;
            }
            empty_run = 0;
            while let Some(node) = link {
                visit(&node.key, &node.value);
                visited += 1;
                if visited == count {
                    return;
                }
                link = node.next.as_deref();
            }
            pos = (pos + 1) % span;
        }
    }

    /// Moves up to `buckets` buckets of an ongoing rehash; when none is under way (or it just
    /// finished), starts a shrink if the table has become too sparse. Returns true if
    /// rehashing work remains.
    pub fn rehash_step(&mut self, buckets: usize) -> bool {
        if !self.rehash(buckets) {
            self.shrink_if_needed();
        }
        self.is_rehashing()
    }

    // ---- internals ----

    fn find<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&Node<K, V>>
    where
        K: Borrow<Q>,
    {
        if self.is_empty() {
            return None;
        }
        self.find_hashed(self.hasher.hash_one(key), key)
    }

    fn find_hashed<Q: Eq + ?Sized>(&self, hash: u64, key: &Q) -> Option<&Node<K, V>>
    where
        K: Borrow<Q>,
    {
        let [t0, t1] = &self.tables;
        if t0.size() > 0 {
            let index = t0.index(hash);
            if !self.moved(index) {
                if let Some(node) = chain_find(&t0.buckets[index], key) {
                    return Some(node);
                }
            }
        }
        if t1.size() == 0 {
            return None;
        }
        chain_find(&t1.buckets[t1.index(hash)], key)
    }

    fn find_mut<Q: Eq + ?Sized>(&mut self, hash: u64, key: &Q) -> Option<&mut Node<K, V>>
    where
        K: Borrow<Q>,
    {
        let rehash_idx = self.rehash_idx;
        let [t0, t1] = &mut self.tables;
        if t0.size() > 0 {
            let index = t0.index(hash);
            if !already_moved(rehash_idx, index) {
                if let Some(node) = chain_find_mut(&mut t0.buckets[index], key) {
                    return Some(node);
                }
            }
        }
        if t1.size() == 0 {
            return None;
        }
        let index = t1.index(hash);
        chain_find_mut(&mut t1.buckets[index], key)
    }

    fn unlink<Q: Eq + ?Sized>(&mut self, hash: u64, key: &Q) -> Option<Box<Node<K, V>>>
    where
        K: Borrow<Q>,
    {
        let rehash_idx = self.rehash_idx;
        for (i, table) in self.tables.iter_mut().enumerate() {
            if table.size() == 0 {
                continue;
            }
            let index = table.index(hash);
            if i == 0 && already_moved(rehash_idx, index) {
                continue;
            }
            if let Some(node) = chain_unlink(&mut table.buckets[index], key) {
                table.used -= 1;
                return Some(node);
            }
        }
        None
    }

    /// Adds an entry known to be absent, growing first if the table is full.
    fn add(&mut self, hash: u64, key: K, value: V) -> &mut Node<K, V> {
        self.grow_if_needed();
        let table = &mut self.tables[usize::from(self.rehash_idx.is_some())];
        let index = table.index(hash);
        table.push(
            index,
            Box::new(Node {
                key,
                value,
                next: None,
            }),
        )
    }

    fn moved(&self, index: usize) -> bool {
        already_moved(self.rehash_idx, index)
    }

    fn grow_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let t0 = &self.tables[0];
        if t0.size() == 0 {
            self.tables[0] = Table::with_buckets(INITIAL_BUCKETS);
        } else if t0.used >= t0.size() {
            self.start_rehash(buckets_for(t0.used + 1));
        }
    }

    fn shrink_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let t0 = &self.tables[0];
        if t0.size() <= INITIAL_BUCKETS || t0.used * 100 >= t0.size() * MIN_FILL_PERCENT {
            return;
        }
        if t0.used == 0 {
            self.tables[0] = Table::empty();
        } else {
            self.start_rehash(buckets_for(t0.used));
        }
    }

    fn start_rehash(&mut self, buckets: usize) {
        debug_assert!(!self.is_rehashing());
        self.tables[1] = Table::with_buckets(buckets);
        self.rehash_idx = Some(0);
    }

    fn rehash_on_write(&mut self) {
        if self.is_rehashing() {
            self.rehash(1);
        }
    }

    /// Moves up to `n` non-empty buckets from `tables[0]` to `tables[1]`, finishing the
    /// rehash when `tables[0]` runs out. Returns true if work remains.
    fn rehash(&mut self, n: usize) -> bool {
        let Some(mut index) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n.saturating_mul(EMPTY_VISITS_PER_BUCKET);
        let [from, to] = &mut self.tables;
        for _ in 0..n {
            if from.used == 0 {
                break;
            }
            // `from.used > 0` guarantees a non-empty bucket at or after `index`.
            while from.buckets[index].is_none() {
                index += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(index);
                    return true;
                }
            }
            let mut chain = from.buckets[index].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                from.used -= 1;
                let to_index = to.index(self.hasher.hash_one(&node.key));
                to.push(to_index, node);
            }
            index += 1;
        }
        if from.used > 0 {
            self.rehash_idx = Some(index);
            return true;
        }
        self.tables[0] = mem::replace(&mut self.tables[1], Table::empty());
        self.rehash_idx = None;
        false
    }

    /// How many bucket positions `position` covers: the not-yet-moved part of `tables[0]`
    /// followed by `tables[1]`.
    fn random_span(&self) -> usize {
        let moved = self.rehash_idx.unwrap_or(0);
        self.tables[0].size() - moved + self.tables[1].size()
    }

    /// The chain at position `pos` of `random_span`.
    fn position(&self, pos: usize) -> Option<&Node<K, V>> {
        let [t0, t1] = &self.tables;
        let pos = pos + self.rehash_idx.unwrap_or(0);
        match t0.buckets.get(pos) {
            Some(link) => link.as_deref(),
            None => t1.buckets[pos - t0.size()].as_deref(),
        }
    }
}

fn visit_chain<'a, K, V>(mut link: &'a Link<K, V>, visit: &mut impl FnMut(&'a K, &'a V)) {
    while let Some(node) = link {
        visit(&node.key, &node.value);
        link = &node.next;
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for Dict<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [t0, t1] = &self.tables;
        let entries = Iter {
            buckets: t0.buckets.iter().chain(t1.buckets.iter()),
            node: None,
            left: t0.used + t1.used,
        };
        f.debug_map().entries(entries).finish()
    }
}

impl<'a, K: Hash + Eq, V, S: BuildHasher> IntoIterator for &'a Dict<K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K: Hash + Eq, V, S: BuildHasher> IntoIterator for &'a mut Dict<K, V, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

/// Entries by reference, in bucket order.
pub struct Iter<'a, K, V> {
    buckets: Buckets<'a, K, V>,
    node: Option<&'a Node<K, V>>,
    left: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(node) = self.node {
                self.node = node.next.as_deref();
                self.left -= 1;
                return Some((&node.key, &node.value));
            }
            if self.left == 0 {
                return None;
            }
            self.node = self.buckets.next()?.as_deref();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

/// Entries with mutable values, in bucket order.
pub struct IterMut<'a, K, V> {
    buckets: BucketsMut<'a, K, V>,
    node: Option<&'a mut Node<K, V>>,
    left: usize,
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(node) = self.node.take() {
                let Node { key, value, next } = node;
                self.node = next.as_deref_mut();
                self.left -= 1;
                return Some((key, value));
            }
            if self.left == 0 {
                return None;
            }
            self.node = self.buckets.next()?.as_deref_mut();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}

/// The entries taken out by [`Dict::drain`]; it owns them, so it can outlive the dict's
/// borrow (e.g. be handed to a background thread to free a large keyspace).
pub struct Drain<K, V> {
    tables: [Table<K, V>; 2],
    table: usize,
    bucket: usize,
    left: usize,
}

impl<K, V> Iterator for Drain<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        while let Some(table) = self.tables.get_mut(self.table) {
            if table.used == 0 {
                self.table += 1;
                self.bucket = 0;
                continue;
            }
            let bucket = &mut table.buckets[self.bucket];
            let Some(mut node) = bucket.take() else {
                self.bucket += 1;
                continue;
            };
            *bucket = node.next.take();
            table.used -= 1;
            self.left -= 1;
            let Node { key, value, .. } = *node;
            return Some((key, value));
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K, V> ExactSizeIterator for Drain<K, V> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{HashMap, HashSet};
    use std::hash::{BuildHasherDefault, Hasher};

    impl<K: Hash + Eq, V, S: BuildHasher> Dict<K, V, S> {
        /// Asserts the structural invariants: counts, bucket placement, rehash bookkeeping.
        fn check(&self) {
            assert_eq!(self.rehash_idx.is_some(), self.tables[1].size() > 0);
            let mut seen = 0;
            for (t, table) in self.tables.iter().enumerate() {
                assert!(table.size() == 0 || table.size().is_power_of_two());
                let mut count = 0;
                for (i, bucket) in table.buckets.iter().enumerate() {
                    if t == 0 && self.moved(i) {
                        assert!(bucket.is_none(), "moved bucket {i} not empty");
                    }
                    let mut link = bucket.as_deref();
                    while let Some(node) = link {
                        assert_eq!(table.index(self.hasher.hash_one(&node.key)), i);
                        count += 1;
                        link = node.next.as_deref();
                    }
                }
                assert_eq!(count, table.used, "table {t} count");
                seen += count;
            }
            assert_eq!(seen, self.len());
            let distinct: HashSet<*const K> = self.iter().map(|(k, _)| k as *const K).collect();
            assert_eq!(distinct.len(), self.len());
        }
    }

    /// Hashes everything into a handful of values, to exercise long chains.
    #[derive(Default)]
    struct Clumsy(u64);
    impl Hasher for Clumsy {
        fn finish(&self) -> u64 {
            self.0 % 3
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = self.0.wrapping_mul(31).wrapping_add(u64::from(b));
            }
        }
    }

    fn full_scan<K: Hash + Eq + Clone, V, S: BuildHasher>(d: &Dict<K, V, S>) -> Vec<K> {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |k, _| out.push(k.clone()));
            if cursor == 0 {
                return out;
            }
        }
    }

    #[test]
    fn basic_operations() {
        let mut d: Dict<String, u32> = Dict::new();
        assert!(d.is_empty());
        assert_eq!(d.bucket_count(), 0);
        assert_eq!(d.insert("a".into(), 1), None);
        assert_eq!(d.insert("b".into(), 2), None);
        assert_eq!(d.insert("a".into(), 3), Some(1));
        assert_eq!(d.len(), 2);
        assert_eq!(d.get("a"), Some(&3));
        assert_eq!(d.get_key_value("b"), Some((&"b".to_string(), &2)));
        assert!(d.contains_key("b"));
        assert!(!d.contains_key("c"));
        *d.get_mut("b").unwrap() += 10;
        assert_eq!(d.get("b"), Some(&12));
        *d.get_or_insert_with("c".into(), || 7) += 1;
        *d.get_or_insert_with("c".into(), || 100) += 1;
        assert_eq!(d.get("c"), Some(&9));
        assert_eq!(d.remove("a"), Some(("a".to_string(), 3)));
        assert_eq!(d.remove("a"), None);
        assert_eq!(d.len(), 2);
        d.check();
        d.clear();
        assert!(d.is_empty());
        assert_eq!(d.get("b"), None);
        assert_eq!(d.bucket_count(), 0);
    }

    #[test]
    fn grows_incrementally_and_shrinks_back() {
        let mut d: Dict<u64, u64> = Dict::new();
        let mut saw_rehash = false;
        for i in 0..10_000 {
            d.insert(i, i * 2);
            saw_rehash |= d.is_rehashing();
            if i % 997 == 0 {
                d.check();
            }
        }
        assert!(saw_rehash);
        while d.rehash_step(100) {}
        assert_eq!(d.bucket_count(), 16_384);
        for i in 0..10_000 {
            assert_eq!(d.get(&i), Some(&(i * 2)));
        }
        for i in 0..9_990 {
            assert_eq!(d.remove(&i), Some((i, i * 2)));
        }
        while d.rehash_step(100) {}
        d.check();
        assert_eq!(d.len(), 10);
        // Shrunk in steps as the fill fell under 10%, each step to the smallest power of two
        // holding the entries of its start: 16, 32 or 64 buckets depending on the hash seeds
        // (how far the deletes got while a previous shrink was still rehashing), and not
        // sparser than 10%.
        let buckets = d.bucket_count();
        assert!(
            buckets * MIN_FILL_PERCENT <= d.len() * 100,
            "{buckets} buckets"
        );
        assert!(buckets >= 16, "{buckets} buckets");
        for i in 0..10 {
            d.remove(&(9_990 + i));
        }
        while d.rehash_step(100) {}
        assert!(d.bucket_count() <= INITIAL_BUCKETS);
    }

    #[test]
    fn rehash_step_bounds_empty_visits() {
        let mut d: Dict<u64, ()> = Dict::new();
        for i in 0..1024 {
            d.insert(i, ());
        }
        while d.rehash_step(1000) {}
        for i in 0..1000 {
            d.remove(&i);
        }
        while d.is_rehashing() {
            let before = d.rehash_idx;
            assert!(d.rehash(1) || !d.is_rehashing());
            if let (Some(a), Some(b)) = (before, d.rehash_idx) {
                assert!(b - a <= 1 + EMPTY_VISITS_PER_BUCKET);
            }
        }
        d.check();
        assert_eq!(d.len(), 24);
    }

    #[test]
    fn reserve_presizes() {
        let mut d: Dict<u64, ()> = Dict::new();
        d.reserve(1000);
        assert_eq!(d.bucket_count(), 1024);
        for i in 0..1000 {
            d.insert(i, ());
            assert!(!d.is_rehashing());
        }
        d.reserve(5000);
        assert!(d.is_rehashing());
        while d.rehash_step(64) {}
        assert_eq!(d.bucket_count(), 8192);
        d.check();
    }

    #[test]
    fn a_million_node_chain_drops_without_recursion() {
        let mut table = Table::with_buckets(1);
        for i in 0..1_000_000u64 {
            table.push(
                0,
                Box::new(Node {
                    key: i,
                    value: (),
                    next: None,
                }),
            );
        }
        drop(table);
    }

    #[test]
    fn long_chains() {
        let mut d: Dict<u64, u64, BuildHasherDefault<Clumsy>> = Dict::default();
        for i in 0..5_000 {
            d.insert(i, i);
        }
        assert_eq!(d.get(&4_321), Some(&4_321));
        assert_eq!(d.remove(&5), Some((5, 5)));
        d.check();
        let mut seen = full_scan(&d);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), d.len());
    }

    #[test]
    fn iterators_retain_and_drain() {
        let mut d: Dict<u32, u32> = (0..1000).fold(Dict::new(), |mut d, i| {
            d.insert(i, i);
            d
        });
        assert!(d.is_rehashing() || d.len() == 1000);
        assert_eq!(d.iter().len(), 1000);
        assert_eq!(d.iter().map(|(_, v)| *v as u64).sum::<u64>(), 499_500);
        for (k, v) in d.iter_mut() {
            *v = k + 1;
        }
        assert_eq!(d.get(&10), Some(&11));
        d.retain(|k, v| {
            *v += 1;
            k % 10 == 0
        });
        d.check();
        assert_eq!(d.len(), 100);
        assert_eq!(d.get(&10), Some(&12));
        assert_eq!(d.get(&11), None);
        let mut drained: Vec<(u32, u32)> = d.drain().collect();
        drained.sort_unstable();
        assert_eq!(drained.len(), 100);
        assert_eq!(drained[1], (10, 12));
        assert!(d.is_empty());
        d.check();
        d.insert(1, 1);
        let partial = {
            let mut drain = d.drain();
            drain.next()
        };
        assert_eq!(partial, Some((1, 1)));
        assert_eq!(format!("{d:?}"), "{}");
    }

    #[test]
    fn scan_without_resizes_returns_each_entry_once() {
        let mut d: Dict<u32, ()> = Dict::new();
        for i in 0..5000 {
            d.insert(i, ());
        }
        while d.rehash_step(100) {}
        let mut seen = full_scan(&d);
        seen.sort_unstable();
        assert_eq!(seen, (0..5000).collect::<Vec<_>>());
        assert_eq!(Dict::<u32, ()>::new().scan(0, |_, _| panic!()), 0);
    }

    #[test]
    fn scan_during_rehash_covers_both_tables() {
        // The hash seeds are random, as in the server, and with some of them these
        // sequential keys crowd into few buckets: how far writes move a rehash then varies
        // a lot (a shrink started by removes could even finish before the last one). So the
        // rehash is started by the write that triggers it, and stepped until both tables
        // hold entries, whatever the seeds.
        for shrink in [false, true] {
            let mut d: Dict<u32, ()> = Dict::new();
            for i in 0..4096 {
                d.insert(i, ());
            }
            while d.rehash_step(100) {}
            let mut key = 4096;
            while !d.is_rehashing() {
                if shrink {
                    key -= 1;
                    d.remove(&key);
                } else {
                    d.insert(key, ());
                    key += 1;
                }
            }
            while d.tables[1].used < d.len() / 4 {
                assert!(d.rehash_step(1), "the rehash ended before a quarter moved");
            }
            assert!(d.tables[0].used > 0, "the rehash moved everything");
            d.check();
            let mut seen = full_scan(&d);
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), d.len(), "shrink: {shrink}");
        }
    }

    #[test]
    fn random_entry_and_sample() {
        let mut d: Dict<u32, u32> = Dict::new();
        assert!(d.random_entry().is_none());
        d.sample(5, |_, _| panic!("empty dict sampled"));
        for i in 0..20 {
            d.insert(i, i * 3);
        }
        let mut hits = HashSet::new();
        for _ in 0..2000 {
            let (k, v) = d.random_entry().unwrap();
            assert_eq!(*v, k * 3);
            hits.insert(*k);
        }
        assert_eq!(hits.len(), 20);
        let mut n = 0;
        d.sample(5, |k, v| {
            assert_eq!(*v, k * 3);
            n += 1;
        });
        assert!((1..=5).contains(&n));
        let mut n = 0;
        d.sample(100, |_, _| n += 1);
        assert!(n <= 20);
        // Mid-rehash, sparse: still finds entries.
        for i in 20..5000 {
            d.insert(i, i * 3);
        }
        for i in 0..4990 {
            d.remove(&i);
        }
        for _ in 0..100 {
            let (k, _) = d.random_entry().unwrap();
            assert!(*k >= 4990);
        }
    }

    #[test]
    fn memory_usage_counts_nodes_and_buckets() {
        let mut d: Dict<u64, u64> = Dict::new();
        let empty = d.memory_usage();
        for i in 0..1000 {
            d.insert(i, i);
        }
        while d.rehash_step(100) {}
        let node = mem::size_of::<Node<u64, u64>>();
        assert_eq!(node, 24);
        assert_eq!(d.memory_usage(), empty + 1000 * node + 1024 * 8);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        Get(u16),
        GetMut(u16),
        /// Inserts keys start..start+len.
        Fill(u16, u16),
        /// Removes keys start..start+len.
        Purge(u16, u16),
        Retain(u8),
        Rehash(u8),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..3000u16, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            4 => (0..3000u16).prop_map(Op::Remove),
            2 => (0..3000u16).prop_map(Op::Get),
            2 => (0..3000u16).prop_map(Op::GetMut),
            2 => (0..3000u16, 0..1500u16).prop_map(|(s, n)| Op::Fill(s, n)),
            2 => (0..3000u16, 0..3000u16).prop_map(|(s, n)| Op::Purge(s, n)),
            1 => (1..8u8).prop_map(Op::Retain),
            2 => any::<u8>().prop_map(Op::Rehash),
            1 => Just(Op::Clear),
        ]
    }

    fn apply<S: BuildHasher>(d: &mut Dict<u32, u32, S>, model: &mut HashMap<u32, u32>, op: &Op) {
        match *op {
            Op::Insert(k, v) => {
                assert_eq!(d.insert(k.into(), v), model.insert(k.into(), v));
            }
            Op::Remove(k) => {
                let k = u32::from(k);
                assert_eq!(d.remove(&k), model.remove_entry(&k));
            }
            Op::Get(k) => {
                let k = u32::from(k);
                assert_eq!(d.get(&k), model.get(&k));
                assert_eq!(d.contains_key(&k), model.contains_key(&k));
            }
            Op::GetMut(k) => {
                let k = u32::from(k);
                if let Some(v) = d.get_mut(&k) {
                    *v = v.wrapping_add(1);
                }
                if let Some(v) = model.get_mut(&k) {
                    *v = v.wrapping_add(1);
                }
            }
            Op::Fill(start, n) => {
                for k in u32::from(start)..u32::from(start) + u32::from(n) {
                    assert_eq!(d.insert(k, k), model.insert(k, k));
                }
            }
            Op::Purge(start, n) => {
                for k in u32::from(start)..u32::from(start) + u32::from(n) {
                    assert_eq!(d.remove(&k), model.remove_entry(&k));
                }
            }
            Op::Retain(m) => {
                let m = u32::from(m);
                d.retain(|k, _| k % m != 0);
                model.retain(|k, _| k % m != 0);
            }
            Op::Rehash(n) => {
                d.rehash_step(n.into());
            }
            Op::Clear => {
                d.clear();
                model.clear();
            }
        }
        assert_eq!(d.len(), model.len());
    }

    fn assert_same<S: BuildHasher>(d: &Dict<u32, u32, S>, model: &HashMap<u32, u32>) {
        d.check();
        let contents: HashMap<u32, u32> = d.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(&contents, model);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn behaves_like_a_hashmap(ops in prop::collection::vec(op(), 1..200)) {
            let mut d: Dict<u32, u32> = Dict::new();
            let mut model = HashMap::new();
            for (i, op) in ops.iter().enumerate() {
                apply(&mut d, &mut model, op);
                if i % 16 == 0 {
                    d.check();
                }
            }
            assert_same(&d, &model);
        }

        #[test]
        fn behaves_like_a_hashmap_with_collisions(ops in prop::collection::vec(op(), 1..60)) {
            let mut d: Dict<u32, u32, BuildHasherDefault<Clumsy>> = Dict::default();
            let mut model = HashMap::new();
            for op in &ops {
                apply(&mut d, &mut model, op);
            }
            assert_same(&d, &model);
        }

        /// Scan calls interleaved with writes that grow, shrink and rehash the table: every key
        /// present from the first call to the last must be seen.
        #[test]
        fn scan_sees_every_key_present_throughout(
            initial in 0..3000u16,
            ops in prop::collection::vec(prop::collection::vec(op(), 0..3), 1..64),
        ) {
            let mut d: Dict<u32, u32> = Dict::new();
            let mut model = HashMap::new();
            apply(&mut d, &mut model, &Op::Fill(0, initial));
            let mut stable: HashSet<u32> = model.keys().copied().collect();
            let mut seen = HashSet::new();
            let mut cursor = 0;
            for calls in 0.. {
                cursor = d.scan(cursor, |k, v| {
                    assert_eq!(model.get(k), Some(v));
                    seen.insert(*k);
                });
                if cursor == 0 {
                    break;
                }
                prop_assert!(calls < 1_000_000, "scan does not terminate");
                for op in &ops[calls % ops.len()] {
                    apply(&mut d, &mut model, op);
                    stable.retain(|k| model.contains_key(k));
                }
            }
            let missed: Vec<_> = stable.difference(&seen).collect();
            prop_assert!(missed.is_empty(), "scan missed {:?}", missed);
        }
    }
}
