//! The keyspace hash table.
//!
//! TEMPORARY SHIM over std's HashMap with the final API; being replaced by the chained table
//! with incremental rehashing and a reverse-binary SCAN cursor described in DESIGN §3.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

pub struct Dict<K, V> {
    map: HashMap<K, V>,
}

impl<K: Hash + Eq, V> Default for Dict<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq, V> Dict<K, V> {
    pub fn new() -> Self {
        Dict { map: HashMap::new() }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key)
    }
    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.map.get_mut(key)
    }
    pub fn get_key_value<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.map.get_key_value(key)
    }
    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }
    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.map.insert(key, value)
    }
    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
    {
        self.map.remove_entry(key)
    }
    pub fn clear(&mut self) {
        self.map.clear()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter()
    }
    /// Visits some entries starting at `cursor`; returns the next cursor, 0 when done.
    /// Every entry present for the whole scan is visited at least once.
    pub fn scan(&self, _cursor: u64, mut visit: impl FnMut(&K, &V)) -> u64 {
        for (k, v) in &self.map {
            visit(k, v)
        }
        0
    }
    /// A random entry, or None when empty.
    pub fn random_entry(&self) -> Option<(&K, &V)> {
        if self.map.is_empty() {
            return None;
        }
        let n = rand::random_range(0..self.map.len());
        self.map.iter().nth(n)
    }
    /// Up to `count` entries from a random position (for expiry and eviction sampling).
    pub fn sample(&self, count: usize, mut visit: impl FnMut(&K, &V)) {
        for (k, v) in self.map.iter().take(count) {
            visit(k, v)
        }
    }
    /// Does a bounded amount of incremental rehashing work; returns true if more remains.
    pub fn rehash_step(&mut self, _buckets: usize) -> bool {
        false
    }
}
