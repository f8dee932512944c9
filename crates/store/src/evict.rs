//! What eviction needs from the keyspace's point of view: the LFU counter kept in each
//! value's access clock, and the pool of eviction candidates.
//!
//! **LFU.** Under an LFU `maxmemory-policy` a value's 24-bit `lru` field holds Redis's
//! layout: the low 8 bits are a logarithmic access counter, the high 16 bits the time in
//! minutes (mod 2^16) of its last decrement. An access first decays the counter by one for
//! every `lfu-decay-time` minutes elapsed, then increments it with probability
//! `1 / ((counter - 5) * lfu-log-factor + 1)`, so it reaches 255 only after about a
//! million hits with the default factor. New keys start at 5, so that they are not evicted
//! before they had a chance to be used.
//!
//! **The pool.** Eviction is approximate, as in Redis: a round samples a few keys, scores
//! each (idle time, inverse frequency or closeness to expiry: higher is a better victim)
//! and offers them to a pool of the 16 best candidates seen so far, kept across rounds and
//! across shards and databases. The victim is the pool's best entry that still exists.

use crate::bytes::SmallBytes;

/// The counter a new key starts with (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u8 = 5;

/// Candidates the pool keeps (Redis's EVPOOL_SIZE).
pub const POOL_SIZE: usize = 16;

/// The LFU clock: unix minutes in 16 bits.
pub fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) as u32) & 0xffff
}

/// The access clock of a new key under an LFU policy.
pub fn lfu_new(now_ms: i64) -> u32 {
    (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL as u32
}

/// Minutes since `ldt` by the LFU clock, accounting for one wrap.
fn lfu_elapsed(ldt: u32, now_minutes: u32) -> u32 {
    if now_minutes >= ldt {
        now_minutes - ldt
    } else {
        0xffff - ldt + now_minutes
    }
}

/// The counter of `lru` after decay (Redis's LFUDecrAndReturn): what OBJECT FREQ shows and
/// what eviction compares. `decay_time` 0 means counters never decay.
pub fn lfu_counter(lru: u32, now_ms: i64, decay_time: u32) -> u8 {
    let counter = (lru & 0xff) as u8;
    if decay_time == 0 {
        return counter;
    }
    let periods = lfu_elapsed(lru >> 8, lfu_minutes(now_ms)) / decay_time;
    counter.saturating_sub(periods.min(255) as u8)
}

/// Increments a counter logarithmically; `chance` is a uniform draw in [0, 1).
pub fn lfu_log_incr(counter: u8, log_factor: u32, chance: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if chance < p {
        counter + 1
    } else {
        counter
    }
}

/// The access clock after an access (Redis's updateLFU): decay, increment, stamp the time.
pub fn lfu_touch(lru: u32, now_ms: i64, log_factor: u32, decay_time: u32, chance: f64) -> u32 {
    let counter = lfu_counter(lru, now_ms, decay_time);
    let counter = lfu_log_incr(counter, log_factor, chance);
    (lfu_minutes(now_ms) << 8) | counter as u32
}

/// One eviction candidate: its database, key and score (higher is evicted first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub score: u64,
    pub db: usize,
    pub key: SmallBytes,
}

/// The best candidates seen so far, in ascending score order (Redis's eviction pool).
#[derive(Default, Debug)]
pub struct EvictionPool {
    entries: Vec<Candidate>,
}

impl EvictionPool {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a candidate with `score` would enter the pool: there is room, or it beats
    /// the worst one kept. Lets a sampler skip copying keys that would be dropped.
    pub fn wants(&self, score: u64) -> bool {
        self.entries.len() < POOL_SIZE || self.entries[0].score < score
    }

    /// Offers a sampled key. A key already in the pool has its score refreshed.
    pub fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        if let Some(i) = self
            .entries
            .iter()
            .position(|c| c.db == db && c.key.as_slice() == key)
        {
            self.entries.remove(i);
        } else if !self.wants(score) {
            return;
        }
        if self.entries.len() == POOL_SIZE {
            // Full: the worst candidate makes room.
            self.entries.remove(0);
        }
        let at = self.entries.partition_point(|c| c.score <= score);
        let key = SmallBytes::new(key);
        self.entries.insert(at, Candidate { score, db, key });
    }

    /// Takes the best candidate out.
    pub fn pop_best(&mut self) -> Option<Candidate> {
        self.entries.pop()
    }

    /// Forgets every candidate (the policy changed: the scores mean something else).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn new_keys_start_at_five() {
        let lru = lfu_new(10 * MINUTE);
        assert_eq!(lru >> 8, 10);
        assert_eq!(lfu_counter(lru, 10 * MINUTE, 1), LFU_INIT_VAL);
    }

    #[test]
    fn counters_decay_one_per_period() {
        let lru = (100 << 8) | 20;
        assert_eq!(lfu_counter(lru, 100 * MINUTE, 1), 20);
        assert_eq!(lfu_counter(lru, 103 * MINUTE, 1), 17);
        assert_eq!(lfu_counter(lru, 103 * MINUTE, 2), 19);
        assert_eq!(lfu_counter(lru, 130 * MINUTE, 1), 0);
        // Decay time 0: no decay at all.
        assert_eq!(lfu_counter(lru, 5000 * MINUTE, 0), 20);
        // The 16-bit minute clock wraps: 0xfffe -> 2 is 3 minutes by Redis's arithmetic.
        let lru = (0xfffe << 8) | 10;
        assert_eq!(lfu_counter(lru, (0x10000 + 2) * MINUTE, 1), 7);
    }

    #[test]
    fn increments_get_rarer_as_the_counter_grows() {
        // Up to the initial value every access counts.
        assert_eq!(lfu_log_incr(0, 10, 0.999), 1);
        assert_eq!(lfu_log_incr(5, 10, 0.999), 6);
        // At 6 with factor 10 the chance is 1/11.
        assert_eq!(lfu_log_incr(6, 10, 0.05), 7);
        assert_eq!(lfu_log_incr(6, 10, 0.1), 6);
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
    }

    #[test]
    fn a_million_hits_with_factor_ten_approach_the_top() {
        // Redis's documented table: factor 10 reaches 255 at about 1M hits, ~142 at 100K.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut chance = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut lru = lfu_new(0);
        for _ in 0..100_000 {
            lru = lfu_touch(lru, 0, 10, 1, chance());
        }
        let at_100k = lfu_counter(lru, 0, 1);
        assert!((120..=165).contains(&at_100k), "{at_100k}");
        for _ in 0..900_000 {
            lru = lfu_touch(lru, 0, 10, 1, chance());
        }
        assert!(lfu_counter(lru, 0, 1) >= 240);
    }

    #[test]
    fn touch_stamps_the_minute_after_decaying() {
        let lru = (7 << 8) | 9;
        let touched = lfu_touch(lru, 9 * MINUTE, 10, 1, 0.999);
        assert_eq!(touched >> 8, 9);
        assert_eq!(touched & 0xff, 7);
    }

    #[test]
    fn pool_keeps_the_best_sixteen_in_order() {
        let mut pool = EvictionPool::default();
        for i in 0..40u64 {
            // Scores in a scrambled order.
            let score = (i * 17) % 40;
            pool.offer(score, 0, format!("k{score}").as_bytes());
        }
        assert_eq!(pool.len(), POOL_SIZE);
        let mut got = Vec::new();
        while let Some(c) = pool.pop_best() {
            got.push(c.score);
        }
        assert_eq!(got, (24..40).rev().collect::<Vec<_>>());
    }

    #[test]
    fn pool_refreshes_a_key_it_already_holds() {
        let mut pool = EvictionPool::default();
        pool.offer(5, 0, b"a");
        pool.offer(9, 0, b"b");
        pool.offer(1, 0, b"a");
        // Same key in another database is another candidate.
        pool.offer(3, 1, b"a");
        assert_eq!(pool.len(), 3);
        let order: Vec<(u64, usize)> =
            std::iter::from_fn(|| pool.pop_best().map(|c| (c.score, c.db))).collect();
        assert_eq!(order, [(9, 0), (3, 1), (1, 0)]);
    }

    #[test]
    fn a_full_pool_ignores_worse_candidates() {
        let mut pool = EvictionPool::default();
        for i in 0..POOL_SIZE as u64 {
            pool.offer(100 + i, 0, format!("k{i}").as_bytes());
        }
        assert!(!pool.wants(50));
        pool.offer(50, 0, b"low");
        assert_eq!(pool.len(), POOL_SIZE);
        assert!(std::iter::from_fn(|| pool.pop_best()).all(|c| c.score >= 100));
    }
}
